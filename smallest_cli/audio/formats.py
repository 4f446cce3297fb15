"""What audio is, with no audio library: rates, encodings, containers, file formats.

The one place for format knowledge that both the client and the emulator need: the rates
and encodings the realtime STT API takes (REFERENCE §10.5–§10.7) and the rates TTS writes,
how headerless audio is described (`StreamFormat`) and put inside a WAV header, which
container the first bytes of a file announce (`sniff`), and the audio formats `tts say`
writes (`AudioFormat`). Nothing here imports numpy, soundfile or sounddevice.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from smallest_cli.errors import UsageError

SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
"""The rates the realtime STT API takes (`sample_rate` of /stt/live)."""
RECOMMENDED_RATE = 16000
TTS_SAMPLE_RATES = (8000, 16000, 24000, 44100)
TTS_DEFAULT_RATE = 44100  # what `tts say` writes unless given --sample-rate
ENCODINGS = ("linear16", "linear32", "alaw", "mulaw")
"""Headerless encodings, named as the API's `encoding` parameter."""
ENCODING_ALIASES = {"ulaw": "mulaw", "pcm": "linear16", "pcm16": "linear16"}
SAMPLE_WIDTH = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}
SILENCE_BYTE = {"linear16": 0, "linear32": 0, "alaw": 0xD5, "mulaw": 0xFF}
WAV_FORMAT_TAG = {"linear16": 1, "linear32": 1, "alaw": 6, "mulaw": 7}
UNKNOWN_SIZE = 0xFFFFFFFF  # a WAV size field meaning "until the end of the stream"
UNKNOWN_SIZES = (0, UNKNOWN_SIZE)
CHUNK_BYTES = 4096  # the API's recommended frame size (REFERENCE §10.7)
PACED_CHUNK_SECONDS = 0.1  # sources that arrive in real time send a frame every ≤ 100 ms
CONTAINER_EXTENSIONS = (
    ".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".webm", ".aiff",
)  # fmt: skip
"""Names that say a file has a header (the API reads the format from it)."""


@dataclass(frozen=True)
class StreamFormat:
    """What goes over the wire: the encoding and the sample rate (mono always)."""

    encoding: str
    sample_rate: int

    @property
    def sample_width(self) -> int:
        return SAMPLE_WIDTH[self.encoding]

    @property
    def bytes_per_second(self) -> int:
        return self.sample_width * self.sample_rate

    def seconds(self, size: int) -> float:
        return size / self.bytes_per_second

    def silence(self, seconds: float) -> bytes:
        count = int(round(seconds * self.sample_rate)) * self.sample_width
        return bytes([SILENCE_BYTE[self.encoding]]) * count

    def chunk_bytes(self, paced: bool) -> int:
        """The frame size: 4096 bytes, or at most 100 ms of audio for real-time sources."""
        size = CHUNK_BYTES
        if paced:
            size = min(size, int(self.bytes_per_second * PACED_CHUNK_SECONDS))
        return max(self.sample_width, size - size % self.sample_width)

    def wav_header(self, data_size: int | None) -> bytes:
        """A mono WAV header for `data_size` bytes of this audio (None: a stream, size unknown)."""
        tag, width, rate = WAV_FORMAT_TAG[self.encoding], self.sample_width, self.sample_rate
        size = UNKNOWN_SIZE if data_size is None else data_size
        if tag == 1:
            fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * width, width, width * 8)
            fact = b""
        else:  # non-PCM formats carry cbSize and a fact chunk with the sample count
            fmt = struct.pack("<HHIIHHH", tag, 1, rate, rate * width, width, width * 8, 0)
            samples = UNKNOWN_SIZE if data_size is None else data_size // width
            fact = b"fact" + struct.pack("<II", 4, samples)
        chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + fact + b"data"
        riff = UNKNOWN_SIZE if data_size is None else 4 + len(chunks) + 4 + size
        return b"RIFF" + struct.pack("<I", riff) + b"WAVE" + chunks + struct.pack("<I", size)


def check_rate(rate: int | None, flag: str = "--sample-rate") -> int | None:
    if rate is not None and rate not in SAMPLE_RATES:
        raise UsageError(
            f"{flag} {rate}: the API takes "
            + ", ".join(str(r) for r in SAMPLE_RATES)
            + f" Hz ({RECOMMENDED_RATE} recommended)"
        )
    return rate


def check_encoding(encoding: str | None) -> str | None:
    if encoding is not None and encoding not in ENCODINGS:
        raise UsageError(
            f"--encoding {encoding!r}: choose one of " + ", ".join(ENCODINGS),
            hint="containers (WAV, FLAC, OGG, MP3) need no --encoding: they are decoded",
        )
    return encoding


class RateUnknown(UsageError):
    """Headerless audio without --sample-rate: every input of the command lacks it too."""


def raw_format(encoding: str | None, rate: int | None, name: str) -> StreamFormat:
    """Headerless input `name` as described: linear16 unless told; its rate must be told.

    A wrong rate garbles the speech (44.1 kHz audio read as 16 kHz is slowed down almost
    threefold), and nothing in the bytes says it, so a missing rate is a UsageError.
    """
    chosen = encoding or "linear16"
    if rate is None:
        raise RateUnknown(
            f"{name} has no header to say its sample rate: give it with --sample-rate",
            hint=f"`smallest tts say` writes {TTS_DEFAULT_RATE} Hz unless given --sample-rate",
        )
    return StreamFormat(chosen, rate)


def send_rate(native: int, requested: int | None) -> int:
    """The rate to send decoded audio at: as asked, else its own if the API takes it, else 16 kHz."""
    if requested is not None:
        return requested
    return native if native in SAMPLE_RATES else RECOMMENDED_RATE


def sniff(head: bytes, *, frame_sync: bool = True) -> str | None:
    """The container that `head` (the first 12 bytes or more of a file or stream) starts, or
    None for raw audio. The one place, client and emulator, that tells headerless audio
    from a container.

    An MP3 without an ID3 tag starts with a frame sync, which μ-law audio near silence can
    look like even with valid header fields; `frame_sync=False` leaves that guess out (for
    input said to be raw, or that is named by its extension anyway).
    """
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "WAV"
    if len(head) >= 12 and head[:4] == b"RF64" and head[8:12] == b"WAVE":
        return "RF64"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[:4] == b".snd":
        return "AU"
    if head[:4] == b"caff":
        return "CAF"
    if head[:3] == b"ID3" or (frame_sync and _mpeg_frame_header(head)):
        return "MP3"
    if head[4:8] == b"ftyp":
        return "M4A"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WEBM"
    return None


def _mpeg_frame_header(head: bytes) -> bool:
    """An MPEG audio frame header with valid fields (so raw PCM rarely passes for one)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x03
    emphasis = head[3] & 0x03
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3 and emphasis != 2


@dataclass(frozen=True)
class AudioFormat:
    name: str
    extensions: tuple[str, ...]
    container: str | None  # soundfile's major format; None for raw samples
    subtype: str | None
    wire_encoding: str | None = None  # headerless: the STT `encoding` of its samples
    samples: str | None = None  # headerless: its samples, for people

    @property
    def description(self) -> str:
        return f"{self.name} ({', '.join(self.extensions)})"


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in (
        AudioFormat("wav", (".wav",), "WAV", "PCM_16"),
        AudioFormat("mp3", (".mp3",), "MP3", "MPEG_LAYER_III"),
        AudioFormat("flac", (".flac",), "FLAC", "PCM_16"),
        AudioFormat("ogg", (".ogg", ".oga"), "OGG", "VORBIS"),
        AudioFormat("pcm", (".pcm", ".raw"), None, None, "linear16", "16-bit"),
        AudioFormat("ulaw", (".ulaw", ".ul", ".mulaw"), "RAW", "ULAW", "mulaw", "μ-law"),
        AudioFormat("alaw", (".alaw", ".al"), "RAW", "ALAW", "alaw", "A-law"),
    )
}
ALIASES = {"raw": "pcm", "mulaw": "ulaw", "vorbis": "ogg"}
RAW_EXTENSIONS = {
    extension: f.wire_encoding
    for f in FORMATS.values()
    if f.wire_encoding is not None
    for extension in f.extensions
}
"""File names that say the audio is headerless, and its encoding."""


def audio_format(name: str) -> AudioFormat:
    """The format called `name` (or an alias such as `raw`), else a UsageError listing them."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise UsageError(
            f"unknown audio format {name!r}", hint="choose one of " + ", ".join(FORMATS)
        )
    return FORMATS[key]


def format_for_path(path: str, explicit: str | None) -> AudioFormat:
    """--format if given, else the format the file extension names."""
    if explicit:
        return audio_format(explicit)
    suffix = Path(path).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt
    known = ", ".join(ext for f in FORMATS.values() for ext in f.extensions)
    raise UsageError(
        f"cannot tell the audio format of {path!r} from its extension",
        hint=f"use one of {known}, or give --format",
    )


def headerless_note(path: str, fmt: AudioFormat, sample_rate: int) -> str | None:
    """What a user must know to read back a file written without a header, else None."""
    if fmt.wire_encoding is None:
        return None
    flags = f"--sample-rate {sample_rate}"
    if RAW_EXTENSIONS.get(Path(path).suffix.lower()) != fmt.wire_encoding:
        flags = f"--encoding {fmt.wire_encoding} {flags}"
    return (
        f"Note: {path} is raw {fmt.samples} mono at {sample_rate} Hz with no header; "
        f"read it with {flags}"
    )


def wav_stream_header(sample_rate: int) -> bytes:
    """A 16-bit mono WAV header for a stream of unknown length."""
    return StreamFormat("linear16", sample_rate).wav_header(None)


@dataclass(frozen=True)
class WavHeader:
    format_tag: int  # 1 PCM, 3 float, 6 A-law, 7 μ-law (WAVE_FORMAT_EXTENSIBLE resolved)
    channels: int
    sample_rate: int
    bits: int
    block_align: int
    data_size: int | None  # None: until the end of the stream

    @property
    def kind(self) -> str:
        names = {1: f"PCM_{self.bits}", 3: f"FLOAT_{self.bits}", 6: "ALAW", 7: "ULAW"}
        return names.get(self.format_tag, f"format {self.format_tag}")
