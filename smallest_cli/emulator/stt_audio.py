"""Speech to text, the ear: decoding uploaded or streamed audio, and hearing sounds in it.

Decoding
--------
* Files (REST): whatever libsndfile reads, found by its header: WAV, MP3, FLAC, OGG
  (Vorbis and Opus), AIFF, AU… Several channels are mixed to mono. There is no `encoding` or
  `sample_rate` for a file (REFERENCE §0.5: the live service ignores both and relies on the
  container), so a body no reader recognises is headerless (raw PCM, μ-law, A-law, or not
  audio at all: they cannot be told apart) and decodes to no audio, which transcribes to an
  empty transcription. A body whose header announces a container but does not decode is an
  `AudioError`.
* M4A (MP4/AAC/ALAC) and WebM are recognised by their headers but cannot be decoded:
  libsndfile has no decoder for them and the emulator does not depend on ffmpeg. They are
  refused with the route's "invalid audio" 400 (`UnsupportedContainer`), which names the
  formats the emulator can read. The real service accepts them; convert such files first.
* Streams (WebSocket): binary frames in the declared `encoding` at the declared
  `sample_rate`, in any split (a sample cut between frames is kept for the next one).
  A stream that starts with a RIFF/WAVE header (the official example streams a whole .wav
  with `encoding=linear16`) has the header skipped, up to the start of its `data` chunk;
  the declared encoding and rate still apply. `ogg_opus` is an Ogg Opus stream, as an
  encoder writes it; `opus` is raw Opus packets, one packet per binary frame. Opus is
  decoded by libsndfile in batches of at least 0.4 s, each preceded by 0.8 s of the packets
  before it to warm the decoder up, so words are heard up to 0.4 s later than with PCM.

Hearing (`Ear`)
---------------
Audio is cut into 2.5 ms hops; a hop is loud when its RMS is above 0.01 and above 5 % of
the loudest hop so far. A sound starts at a loud hop and ends once 30 ms stay quiet;
sounds shorter than 40 ms are ignored, and one that goes on for 10 s is cut there. This is
done hop by hop as audio arrives, so the result does not depend on how the audio was
chunked, and a REST upload and the same audio streamed are heard alike. Each finished sound
is read with `speech.listen`: one of the emulator's own tone-coded words gives its text,
anything else (real speech, noise) gives a `Sound` without text. Every sound also gets a
pitch (`pitch_of`: the median over 40 ms frames of the autocorrelation peak of the
60–400 Hz band, None when unvoiced), which is what
diarization and gender detection go by, and its RMS level.

Times are seconds from the first audio sample (after a skipped WAV header).
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

from smallest_cli.audio.codecs import g711_table
from smallest_cli.audio.formats import sniff
from smallest_cli.emulator import speech

PCM_ENCODINGS = ("linear16", "linear32", "alaw", "mulaw")
ENCODINGS = (*PCM_ENCODINGS, "opus", "ogg_opus")
STREAM_SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)

HOP_SECONDS = 0.0025
QUIET_HOPS = 12  # 30 ms of quiet ends a sound
MIN_SOUND_HOPS = 16  # 40 ms
MAX_SOUND_SECONDS = 10.0
FLOOR = 0.01
RELATIVE = 0.05
MARGIN_SECONDS = 0.02
READ_BLOCK_SECONDS = 10.0


class AudioError(Exception):
    """The audio cannot be decoded."""


class UnsupportedContainer(AudioError):
    """A container the emulator recognises but cannot decode (M4A, WebM)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} audio cannot be decoded by the emulator (it reads WAV, MP3, FLAC, OGG "
            "Vorbis/Opus, AIFF and AU); convert the file first"
        )
        self.name = name


# -- what a body is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """A decoded body: mono float32 blocks (to be consumed once) and their rate."""

    blocks: Iterator[np.ndarray]
    sample_rate: int


HEADERLESS = Decoded(iter(()), 16000)
"""What a headerless upload decodes to: nothing (the rate only sizes the empty analysis)."""


def decode_file(body: IO[bytes]) -> Decoded:
    """Decode an uploaded body (a seekable binary file) by its container; a headerless body
    is no audio (see the module docstring); AudioError for a broken or undecodable one."""
    head = body.read(64)
    body.seek(0)
    if not head:
        raise AudioError("the body is empty")
    container = sniff(head, frame_sync=False)  # G.711 silence looks like an MPEG frame sync
    if container in ("M4A", "WEBM"):
        raise UnsupportedContainer("M4A" if container == "M4A" else "WebM")
    import soundfile

    try:
        sound = soundfile.SoundFile(body)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        if container is None:
            return HEADERLESS
        reason = str(exc).rsplit(": ", 1)[-1].rstrip(".") or "unknown format"
        raise AudioError(f"not a readable audio file: {reason}") from None
    block = max(1, int(sound.samplerate * READ_BLOCK_SECONDS))

    def blocks() -> Iterator[np.ndarray]:
        with sound:
            while True:
                data = sound.read(block, dtype="float32", always_2d=True)
                if len(data) == 0:
                    return
                yield data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]

    return Decoded(blocks(), int(sound.samplerate))


# -- streamed PCM and G.711 ----------------------------------------------------------------


@functools.cache
def _g711_table(law: str) -> np.ndarray:
    """float32 value of each of the 256 codes (libsndfile's own decoding)."""
    return g711_table(law).astype(np.float32)


class PcmDecoder:
    """Bytes of headerless audio in one of `PCM_ENCODINGS` to float32 samples, in any split."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.width = {"linear16": 2, "linear32": 4}.get(encoding, 1)
        self._rest = b""

    def feed(self, data: bytes) -> np.ndarray:
        data = self._rest + data
        whole = len(data) - len(data) % self.width
        data, self._rest = data[:whole], data[whole:]
        if self.encoding == "linear16":
            return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        if self.encoding == "linear32":
            return (np.frombuffer(data, dtype="<i4").astype(np.float64) / 2147483648.0).astype(
                np.float32
            )
        table = _g711_table(self.encoding)
        return table[np.frombuffer(data, dtype=np.uint8)]


class WavHeaderSkipper:
    """Drops a RIFF/WAVE header at the start of a stream (up to its `data` chunk)."""

    LIMIT = 64 * 1024

    def __init__(self) -> None:
        self._head: bytes | None = b""  # None once decided

    def feed(self, data: bytes) -> bytes:
        if self._head is None:
            return data
        head = self._head + data
        if len(head) < 12:
            if b"RIFF".startswith(head[:4]):
                self._head = head
                return b""
            self._head = None
            return head
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            self._head = None
            return head
        position = 12
        while position + 8 <= len(head):
            chunk, size = (
                head[position : position + 4],
                struct.unpack_from("<I", head, position + 4)[0],
            )
            if chunk == b"data":
                self._head = None
                return head[position + 8 :]
            position += 8 + size + (size & 1)
        if len(head) > self.LIMIT:  # no data chunk in sight: not a header after all
            self._head = None
            return head
        self._head = head
        return b""


# -- Opus ----------------------------------------------------------------------------------


@functools.cache
def _crc_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        value = index << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return tuple(table)


def _ogg_crc(data: bytes | bytearray) -> int:
    table, crc = _crc_table(), 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _ogg_page(kind: int, granule: int, sequence: int, packet: bytes) -> bytes:
    lacing = [255] * (len(packet) // 255) + [len(packet) % 255]
    page = bytearray(
        b"OggS"
        + bytes([0, kind])
        + struct.pack("<qII", granule, 0x5EED, sequence)
        + b"\0\0\0\0"
        + bytes([len(lacing)])
        + bytes(lacing)
        + packet
    )
    page[22:26] = struct.pack("<I", _ogg_crc(page))
    return bytes(page)


def opus_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds (RFC 6716 §3.1, from its TOC byte)."""
    if not packet:
        return 0
    config, code = packet[0] >> 3, packet[0] & 3
    if config < 12:
        tenths = (100, 200, 400, 600)[config % 4]
    elif config < 16:
        tenths = (100, 200)[config % 2]
    else:
        tenths = (25, 50, 100, 200)[config % 4]
    frames = (
        1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    )
    return frames * tenths * 48 // 10


class OggPacketReader:
    """Packets out of an Ogg stream arriving in arbitrary pieces."""

    def __init__(self) -> None:
        self._buffer = b""
        self._partial = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        packets = []
        while len(self._buffer) >= 27:
            if self._buffer[:4] != b"OggS":
                raise AudioError("not an Ogg stream (no OggS capture pattern)")
            segments = self._buffer[26]
            header = 27 + segments
            if len(self._buffer) < header:
                break
            lacing = self._buffer[27:header]
            end = header + sum(lacing)
            if len(self._buffer) < end:
                break
            position = header
            for size in lacing:
                self._partial += self._buffer[position : position + size]
                position += size
                if size < 255:
                    packets.append(self._partial)
                    self._partial = b""
            self._buffer = self._buffer[end:]
        return packets


class OpusDecoder:
    """Opus packets (raw, or out of an Ogg Opus stream) to 48 kHz mono float32 samples."""

    RATE = 48000
    BATCH = int(0.4 * RATE)
    WARMUP = int(0.8 * RATE)

    def __init__(self, ogg: bool) -> None:
        self._pages = OggPacketReader() if ogg else None
        self._headers_seen = 0 if ogg else 2
        self._channels = 1
        self._history: list[bytes] = []  # decoded packets kept for warming the decoder up
        self._pending: list[bytes] = []

    def feed(self, data: bytes) -> np.ndarray:
        packets = self._pages.feed(data) if self._pages is not None else [data]
        for packet in packets:
            if self._headers_seen < 2:
                if self._headers_seen == 0:
                    if packet[:8] != b"OpusHead":
                        raise AudioError("the Ogg stream is not Opus (no OpusHead)")
                    self._channels = max(1, packet[9])
                self._headers_seen += 1
            elif packet:
                self._pending.append(packet)
        if sum(opus_samples(p) for p in self._pending) < self.BATCH:
            return np.zeros(0, dtype=np.float32)
        return self._decode()

    def flush(self) -> np.ndarray:
        """Decode the packets still waiting for a full batch."""
        return self._decode() if self._pending else np.zeros(0, dtype=np.float32)

    def _decode(self) -> np.ndarray:
        import soundfile

        warm: list[bytes] = []
        for packet in reversed(self._history):
            if sum(opus_samples(p) for p in warm) >= self.WARMUP:
                break
            warm.insert(0, packet)
        packets = warm + self._pending
        head = b"OpusHead" + bytes([1, self._channels]) + struct.pack("<HIhB", 0, self.RATE, 0, 0)
        tags = b"OpusTags" + struct.pack("<I", 8) + b"emulator" + struct.pack("<I", 0)
        pages = [_ogg_page(2, 0, 0, head), _ogg_page(0, 0, 1, tags)]
        granule = 0
        for index, packet in enumerate(packets):
            granule += opus_samples(packet)
            last = index == len(packets) - 1
            pages.append(_ogg_page(4 if last else 0, granule, index + 2, packet))
        try:
            data, _ = soundfile.read(io.BytesIO(b"".join(pages)), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"cannot decode the Opus packets ({exc})") from None
        skip = sum(opus_samples(p) for p in warm)
        mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
        self._history = (self._history + self._pending)[-200:]
        self._pending = []
        return np.asarray(mono[skip:], dtype=np.float32)


class StreamDecoder:
    """The bytes of a WebSocket session to samples at `sample_rate` (48 kHz for Opus)."""

    def __init__(self, encoding: str, sample_rate: int) -> None:
        self.encoding = encoding
        self._header = WavHeaderSkipper() if encoding in PCM_ENCODINGS else None
        self._pcm = PcmDecoder(encoding) if encoding in PCM_ENCODINGS else None
        self._opus = None if self._pcm is not None else OpusDecoder(ogg=encoding == "ogg_opus")
        self.sample_rate = OpusDecoder.RATE if self._opus is not None else sample_rate

    def feed(self, data: bytes) -> np.ndarray:
        if self._pcm is not None:
            assert self._header is not None
            return self._pcm.feed(self._header.feed(data))
        assert self._opus is not None
        return self._opus.feed(data)

    def flush(self) -> np.ndarray:
        """The samples held back so far (Opus packets waiting for a batch)."""
        if self._opus is not None:
            return self._opus.flush()
        return np.zeros(0, dtype=np.float32)


# -- hearing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sound:
    """A stretch of sound: our word if it carried one (else None), when, its pitch, its level."""

    text: str | None
    start: float
    end: float
    pitch: float | None
    level: float


@dataclass(frozen=True)
class Onset:
    """Sound began (`time` in seconds); its `Sound` follows once it has ended."""

    time: float


class Ear:
    """Hears mono float audio at one rate, incrementally (see the module docstring)."""

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self.hop = max(1, round(sample_rate * HOP_SECONDS))
        self._buffer = np.zeros(0, dtype=np.float32)
        self._origin = 0  # absolute index of _buffer[0]
        self._analysed = 0  # absolute index up to which hops were looked at
        self._peak = 0.0
        self._start: int | None = None  # absolute index where the open sound began
        self._quiet = 0
        self._last_loud_end = 0  # absolute index just after the last loud hop
        self._margin = int(MARGIN_SECONDS * sample_rate)
        self._max_hops = int(MAX_SOUND_SECONDS / HOP_SECONDS)

    @property
    def position(self) -> float:
        """Seconds of audio heard so far."""
        return (self._origin + len(self._buffer)) / self.rate

    @property
    def trailing_silence(self) -> float:
        """Seconds since the last loud hop (all the audio when there was none)."""
        return (self._analysed - self._last_loud_end) / self.rate

    @property
    def last_loud_end(self) -> float:
        """When the last loud hop ended, in seconds (0 before any)."""
        return self._last_loud_end / self.rate

    @property
    def sounding(self) -> bool:
        """A sound has begun and not ended yet."""
        return self._start is not None

    def hear(self, samples: np.ndarray) -> list[Sound | Onset]:
        """Take more audio; what was heard in it (onsets and finished sounds), in order."""
        if len(samples):
            self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        end = self._origin + len(self._buffer)
        hops = (end - self._analysed) // self.hop
        if hops <= 0:
            return []
        first = self._analysed - self._origin
        frames = self._buffer[first : first + hops * self.hop].astype(np.float64)
        energy = np.sqrt(np.mean(frames.reshape(hops, self.hop) ** 2, axis=1))
        peaks = np.maximum.accumulate(np.maximum(energy, self._peak))
        loud = energy > np.maximum(FLOOR, RELATIVE * peaks)
        self._peak = float(peaks[-1])
        events: list[Sound | Onset] = []
        for index, on in enumerate(loud.tolist()):
            at = self._analysed + index * self.hop
            if on:
                if self._start is None:
                    self._start = at
                    events.append(Onset(at / self.rate))
                self._quiet = 0
                self._last_loud_end = at + self.hop
            elif self._start is not None:
                self._quiet += 1
                if self._quiet >= QUIET_HOPS:
                    events += self._close(self._last_loud_end)
            if (
                self._start is not None
                and (at + self.hop - self._start) // self.hop >= self._max_hops
            ):
                events += self._close(at + self.hop)
        self._analysed += hops * self.hop
        self._trim()
        return events

    def end(self) -> list[Sound | Onset]:
        """The audio is over (or flushed): finish the sound in progress, if any."""
        events = self.hear(np.zeros(0, dtype=np.float32))
        if self._start is not None:
            events += self._close(max(self._last_loud_end, self._start + self.hop))
        return events

    def _close(self, stop: int) -> list[Sound | Onset]:
        start, self._start, self._quiet = self._start, None, 0
        assert start is not None
        if (stop - start) < MIN_SOUND_HOPS * self.hop:
            return []
        return list(self._read(start, stop))

    def _read(self, start: int, stop: int) -> Iterator[Sound]:
        low = max(start - self._margin, self._origin)
        high = min(stop + self._margin, self._origin + len(self._buffer))
        piece = self._buffer[low - self._origin : high - self._origin]
        heard = speech.listen(piece, self.rate)
        if len(heard) <= 1:
            text = heard[0].text if heard else None
            yield self._sound(text, start, stop)
            return
        for item in heard:
            a = max(start, low + int(item.start * self.rate))
            b = min(stop, low + int(item.end * self.rate))
            if b > a:
                yield self._sound(item.text, a, b)

    def _sound(self, text: str | None, start: int, stop: int) -> Sound:
        samples = self._buffer[start - self._origin : stop - self._origin]
        level = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
        return Sound(text, start / self.rate, stop / self.rate, pitch_of(samples, self.rate), level)

    def _trim(self) -> None:
        keep = self._analysed - self._margin * 2
        if self._start is not None:
            keep = min(keep, self._start - self._margin)
        drop = keep - self._origin
        if drop > self.rate:  # trim in steps of a second or more
            self._buffer = self._buffer[drop:]
            self._origin += drop


def pitch_of(samples: np.ndarray, sample_rate: int) -> float | None:
    """The voice pitch of a sound in Hz, None if unvoiced: the median over 40 ms frames
    (every 20 ms, at most 25 from the middle) of each frame's 60–400 Hz autocorrelation peak."""
    frame, step = int(0.04 * sample_rate), int(0.02 * sample_rate)
    if len(samples) < frame:
        return None
    starts = list(range(0, len(samples) - frame + 1, step))
    if len(starts) > 25:
        middle = len(starts) // 2
        starts = starts[middle - 12 : middle + 13]
    pitches = [_frame_pitch(samples[s : s + frame], sample_rate) for s in starts]
    voiced = [p for p in pitches if p is not None]
    return float(np.median(voiced)) if voiced else None


def _frame_pitch(samples: np.ndarray, sample_rate: int) -> float | None:
    x = samples.astype(np.float64) - float(np.mean(samples))
    size = 1 << int(np.ceil(np.log2(2 * len(x))))
    spectrum = np.fft.rfft(x, size)
    hz = np.fft.rfftfreq(size, 1 / sample_rate)
    spectrum[(hz < 60) | (hz > 400)] = 0
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, size)[: len(x)]
    low, high = sample_rate // 400, min(len(correlation) - 1, sample_rate // 60)
    if correlation[0] <= 1e-12 or high <= low + 1:
        return None
    lag = low + int(np.argmax(correlation[low:high]))
    if correlation[lag] < 0.3 * correlation[0]:
        return None
    a, b, c = correlation[lag - 1], correlation[lag], correlation[lag + 1]
    denominator = a - 2 * b + c
    shift = 0.5 * (a - c) / denominator if denominator else 0.0
    return float(sample_rate / (lag + shift))


def hear_all(decoded: Decoded) -> tuple[list[Sound], float]:
    """Every sound in a decoded file, in order, and the audio's length in seconds (as read:
    a compressed file's header may promise a slightly different length)."""
    ear = Ear(decoded.sample_rate)
    sounds: list[Sound] = []
    for block in decoded.blocks:
        sounds += [e for e in ear.hear(block) if isinstance(e, Sound)]
    sounds += [e for e in ear.end() if isinstance(e, Sound)]
    return sounds, ear.position


__all__ = [
    "ENCODINGS",
    "PCM_ENCODINGS",
    "STREAM_SAMPLE_RATES",
    "AudioError",
    "Decoded",
    "Ear",
    "OpusDecoder",
    "Onset",
    "PcmDecoder",
    "Sound",
    "StreamDecoder",
    "UnsupportedContainer",
    "decode_file",
    "hear_all",
    "opus_samples",
    "pitch_of",
]
