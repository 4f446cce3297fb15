"""Audio in: files, pipes and the microphone, as a stream the realtime STT API takes.

The API wants mono audio in one of a few encodings at one of a few rates, sent in small
binary frames (REFERENCE §10.5–§10.7). Every source here is an `AudioSource`: it says what
it will send (`format`: encoding and rate) before the session opens, since both go into the
URL, and then yields chunks of at most 4096 bytes with memory that stays flat however long
the audio is.

* `FileSource`: anything libsndfile reads (WAV, FLAC, OGG/Vorbis/Opus, MP3, AIFF, …), read
  block by block, mixed down to mono and resampled when its rate is not one the API takes
  (or `--sample-rate` asks for another); sent as linear16. A 16-bit mono file at a rate the
  API takes is sent sample for sample.
* `RawSource`: headerless audio (`--encoding linear16|linear32|alaw|mulaw`, `--sample-rate`)
  from a `.pcm`/`.raw`/`.ulaw`/`.alaw` file or a pipe, passed through untouched. Nothing in
  such audio says its rate, so it is never guessed: without `--sample-rate` it is a usage
  error (`raw_format`).
* stdin (`open_stdin`): the first bytes decide. A WAV header is parsed as a stream (a pipe
  cannot seek, and `smallest tts say … |` sends sizes of 0xFFFFFFFF meaning "until the end"),
  so transcription starts with the first bytes; FLAC, OGG, MP3, AIFF and AU are spooled to a
  temporary file (disk, not memory) because libsndfile must seek them, then decoded like a
  file; M4A and WebM are refused (libsndfile cannot decode them); anything else is raw audio
  as `--encoding` (default linear16) and `--sample-rate` describe it.
* `MicSource`: the microphone (or `--device`) through sounddevice, at the rate to send.

`Resampler` is a streaming windowed-sinc (Kaiser) resampler: each output sample is computed
from the input around its exact position, so blocks join without a seam, and the result is
the same however the input is cut into blocks.

numpy, soundfile and sounddevice are imported inside the functions that need them; raw and
16-bit WAV input need none of them.
"""

from __future__ import annotations

import math
import queue
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from smallest_cli.errors import SmallestError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
RECOMMENDED_RATE = 16000
ENCODINGS = ("linear16", "linear32", "alaw", "mulaw")
SAMPLE_WIDTH = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}
SILENCE_BYTE = {"linear16": 0, "linear32": 0, "alaw": 0xD5, "mulaw": 0xFF}
CHUNK_BYTES = 4096  # the API's recommended frame size (REFERENCE §10.7)
PACED_CHUNK_SECONDS = 0.1  # sources that arrive in real time send a frame every ≤ 100 ms
RAW_EXTENSIONS = {
    ".pcm": "linear16",
    ".raw": "linear16",
    ".ulaw": "mulaw",
    ".ul": "mulaw",
    ".mulaw": "mulaw",
    ".alaw": "alaw",
    ".al": "alaw",
}
SPOOLED_CONTAINERS = ("FLAC", "OGG", "MP3", "AIFF", "AU", "RF64", "W64")
READ_FRAMES = 8192  # frames decoded per block


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


class AudioSource(Protocol):
    format: StreamFormat
    description: str  # for people: "speech.flac (FLAC, 44100 Hz, stereo → mono 16000 Hz)"
    live: bool  # arrives in real time by nature (a microphone, a pipe); never paced again

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        """The audio in wire format, in frames of at most 4096 bytes, until the end or `stop`."""
        ...

    def close(self) -> None: ...


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


def raw_format(encoding: str | None, rate: int | None, name: str) -> StreamFormat:
    """Headerless input `name` as described: linear16 unless told; its rate must be told.

    A wrong rate garbles the speech (44.1 kHz audio read as 16 kHz is slowed down almost
    threefold), and nothing in the bytes says it, so a missing rate is a UsageError.
    """
    chosen = encoding or "linear16"
    if rate is None:
        raise UsageError(
            f"{name} has no header to say its sample rate: give it with --sample-rate",
            hint="`smallest tts say` writes 44100 Hz unless given --sample-rate",
        )
    return StreamFormat(chosen, rate)


def send_rate(native: int, requested: int | None) -> int:
    """The rate to send decoded audio at: as asked, else its own if the API takes it, else 16 kHz."""
    if requested is not None:
        return requested
    return native if native in SAMPLE_RATES else RECOMMENDED_RATE


# -- chunking -----------------------------------------------------------------------------


class Rechunker:
    """Cuts a byte stream into frames of `size` bytes (the last one may be shorter)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pending = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._pending += data
        while len(self._pending) >= self.size:
            yield bytes(self._pending[: self.size])
            del self._pending[: self.size]

    def flush(self) -> Iterator[bytes]:
        if self._pending:
            yield bytes(self._pending)
            self._pending.clear()


# -- resampling ---------------------------------------------------------------------------


class Resampler:
    """Band-limited resampling of a mono float stream, block by block.

    Output sample n sits at input position t = n·rate_in/rate_out and is the sum of the
    input around t weighted by a Kaiser-windowed sinc whose cutoff is 90 % of the lower
    Nyquist frequency (24 zero crossings each side, β = 8.6: about 85 dB of stopband). The
    weights of each fractional position are normalised to a sum of 1, so DC passes
    unchanged. The input before the first sample and after `flush` counts as silence, and
    the output has ceil(len(input)·rate_out/rate_in) samples: durations are kept.

    Positions are exact integer ratios (n·M // L), so the output does not depend on how the
    input was cut into blocks, and there is nothing at block seams to click.
    """

    ZERO_CROSSINGS = 24
    ROLLOFF = 0.9
    BETA = 8.6
    MAX_TABLE_PHASES = 2048
    WORK_ELEMENTS = 1 << 18  # outputs × taps computed at once

    def __init__(self, rate_in: int, rate_out: int) -> None:
        import numpy as np

        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        self.rate_in, self.rate_out = rate_in, rate_out
        common = math.gcd(rate_in, rate_out)
        self._up, self._down = rate_out // common, rate_in // common
        self._cutoff = self.ROLLOFF * min(1.0, rate_out / rate_in)
        self._half = int(math.ceil(self.ZERO_CROSSINGS / self._cutoff))
        self._offsets = np.arange(-self._half + 1, self._half + 1)
        if self._up <= self.MAX_TABLE_PHASES:  # one row of taps per fractional position
            self._table = self._weights(np.arange(self._up) / self._up)
            self._fine = False
        else:  # an odd ratio: rows on a fine grid, interpolated (error below 1e-7)
            self._table = self._weights(
                np.arange(self.MAX_TABLE_PHASES + 1) / self.MAX_TABLE_PHASES
            )
            self._fine = True
        # The buffer holds input from absolute index `_base` on; silence before the start.
        self._buffer = np.zeros(self._half, dtype=np.float64)
        self._base = -self._half
        self._received = 0
        self._next = 0  # the next output index
        self._flushed = False

    def _weights(self, fractions: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Rows of filter taps for output positions `fractions` (0 ≤ f ≤ 1) past an input sample."""
        import numpy as np

        tau = fractions[:, None] - self._offsets[None, :]
        x = np.clip(tau / self._half, -1.0, 1.0)
        window = np.i0(self.BETA * np.sqrt(1.0 - x * x)) / np.i0(self.BETA)
        taps = self._cutoff * np.sinc(self._cutoff * tau) * window
        result: npt.NDArray[np.float64] = taps / taps.sum(axis=1, keepdims=True)
        return result

    def _between(self, phase: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        import numpy as np

        grid = phase * self.MAX_TABLE_PHASES / self._up
        below = grid.astype(np.int64)
        part = (grid - below)[:, None]
        result: npt.NDArray[np.float64] = (1 - part) * self._table[below] + part * self._table[
            np.minimum(below + 1, self.MAX_TABLE_PHASES)
        ]
        return result

    def process(self, samples: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Resample the next block; returns every output sample it makes computable."""
        import numpy as np

        if self._flushed:
            raise RuntimeError("the resampler was flushed")
        block: npt.NDArray[np.float64] = np.array(samples, dtype=np.float64).reshape(-1)
        if self._up == self._down:
            return block
        self._buffer = np.concatenate([self._buffer, block])
        self._received += len(block)
        return self._produce(self._received - 1 - self._half)

    def flush(self) -> npt.NDArray[np.float64]:
        """The last output samples, computed against trailing silence."""
        import numpy as np

        if self._flushed or self._up == self._down:
            self._flushed = True
            return np.zeros(0, dtype=np.float64)
        self._flushed = True
        self._buffer = np.concatenate([self._buffer, np.zeros(self._half + 1)])
        end = -(-self._received * self._up // self._down)  # ceil
        return self._produce(None, end)

    def _produce(self, last_input: int | None, end: int | None = None) -> npt.NDArray[np.float64]:
        import numpy as np

        if end is None:
            assert last_input is not None
            if last_input < 0:
                return np.zeros(0, dtype=np.float64)
            # Outputs whose window ends at or before `last_input`: n·down // up ≤ last_input.
            end = -(-(last_input + 1) * self._up // self._down)
        start = self._next
        if end <= start:
            return np.zeros(0, dtype=np.float64)
        pieces = []
        step = max(1, self.WORK_ELEMENTS // len(self._offsets))
        for first in range(start, end, step):
            n = np.arange(first, min(end, first + step), dtype=np.int64)
            position = n * self._down
            whole, phase = position // self._up, position % self._up
            index = (whole - self._base)[:, None] + self._offsets[None, :]
            weights = self._table[phase] if not self._fine else self._between(phase)
            pieces.append(np.einsum("ij,ij->i", self._buffer[index], weights))
        self._next = end
        keep_from = (self._next * self._down) // self._up - self._half + 1
        if keep_from > self._base:
            self._buffer = self._buffer[keep_from - self._base :]
            self._base = keep_from
        return np.concatenate(pieces)


def resample(samples: npt.NDArray[Any], rate_in: int, rate_out: int) -> npt.NDArray[np.float64]:
    """A whole clip at once (the streaming resampler, fed one block)."""
    import numpy as np

    resampler = Resampler(rate_in, rate_out)
    return np.concatenate([resampler.process(samples), resampler.flush()])


def to_linear16(samples: npt.NDArray[Any]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM (clipped, rounded)."""
    import numpy as np

    scaled = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


class _Converter:
    """Float blocks (frames × channels) in; mono linear16 at the target rate out, in frames."""

    def __init__(self, rate_in: int, rate_out: int, frame_bytes: int) -> None:
        self._resampler = Resampler(rate_in, rate_out) if rate_in != rate_out else None
        self._chunks = Rechunker(frame_bytes)

    def feed(self, block: npt.NDArray[Any]) -> Iterator[bytes]:
        mono = block.mean(axis=1) if block.ndim == 2 else block
        if self._resampler is not None:
            mono = self._resampler.process(mono)
        yield from self._chunks.feed(to_linear16(mono))

    def finish(self) -> Iterator[bytes]:
        if self._resampler is not None:
            yield from self._chunks.feed(to_linear16(self._resampler.flush()))
        yield from self._chunks.flush()


# -- files --------------------------------------------------------------------------------


def _soundfile() -> Any:
    try:
        import soundfile
    except OSError as exc:  # pragma: no cover - libsndfile ships inside the soundfile wheel
        raise SmallestError(f"cannot decode audio: {exc}") from None
    return soundfile


class FileSource:
    """An audio file (or a spooled pipe) decoded with libsndfile, block by block."""

    live = False

    def __init__(
        self,
        path: str | Path,
        *,
        rate: int | None = None,
        handle: IO[bytes] | None = None,
        name: str | None = None,
    ) -> None:
        sf = _soundfile()
        self.name = name or str(path)
        try:
            self._file = sf.SoundFile(handle if handle is not None else str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            raise UsageError(
                f"cannot read {self.name} as audio: {_libsndfile_reason(exc)}",
                hint="use WAV, FLAC, OGG, MP3 or AIFF; for headerless PCM give --encoding",
            ) from None
        info = self._file
        self.native_rate = int(info.samplerate)
        self._position = 0  # frames decoded so far
        self.channels = int(info.channels)
        self.container = str(info.format)
        self.format = StreamFormat("linear16", send_rate(self.native_rate, rate))
        self._exact = (
            self.channels == 1
            and self.format.sample_rate == self.native_rate
            and str(info.subtype) in ("PCM_16", "PCM_S8", "PCM_U8")
        )
        self.description = _describe(
            self.name, self.container, self.native_rate, self.channels, self.format.sample_rate
        )

    @property
    def duration(self) -> float | None:
        frames = self._file.frames
        return frames / self.native_rate if frames and frames > 0 else None

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        size = self.format.chunk_bytes(paced=False)
        if self._exact:
            chunks = Rechunker(size)
            while not stop.is_set():
                data = self._read(lambda: bytes(self._file.buffer_read(READ_FRAMES, dtype="int16")))
                if not data:
                    break
                self._position += len(data) // 2
                yield from chunks.feed(data)
            yield from chunks.flush()
            return
        converter = _Converter(self.native_rate, self.format.sample_rate, size)
        while not stop.is_set():
            block = self._read(
                lambda: self._file.read(READ_FRAMES, dtype="float64", always_2d=True)
            )
            if len(block) == 0:
                break
            self._position += len(block)
            yield from converter.feed(block)
        yield from converter.finish()

    def _read(self, read: Callable[[], Any]) -> Any:
        sf = _soundfile()
        try:
            return read()
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise SmallestError(
                f"cannot decode {self.name} past {self._position / self.native_rate:.1f} s: "
                f"{_libsndfile_reason(exc)}",
                hint="the file may be damaged or cut short; convert it to WAV or FLAC first",
            ) from None

    def close(self) -> None:
        self._file.close()


def _libsndfile_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("Error opening ").strip()


def _describe(name: str, container: str, rate: int, channels: int, target: int) -> str:
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")
    text = f"{name} ({container}, {rate} Hz, {layout}"
    if channels != 1 or rate != target:
        text += f" → mono {target} Hz"
    return text + ")"


class RawSource:
    """Headerless audio in the wire encoding, passed through as it arrives."""

    def __init__(
        self,
        reader: Callable[[int], bytes],
        fmt: StreamFormat,
        *,
        name: str,
        live: bool,
        closer: Callable[[], None] | None = None,
        prefix: bytes = b"",
    ) -> None:
        self.format = fmt
        self.live = live
        self.description = f"{name} (raw {fmt.encoding}, {fmt.sample_rate} Hz, mono)"
        self._read = reader
        self._closer = closer
        self._prefix = prefix

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        size = self.format.chunk_bytes(paced=self.live)
        width = self.format.sample_width
        pending = self._prefix
        self._prefix = b""
        while not stop.is_set():
            data = self._read(size)
            if not data:
                break
            pending += data
            whole = len(pending) - len(pending) % width
            while whole >= size or (whole and self.live):  # a pipe's audio goes out as it comes
                cut = min(whole, size)
                yield pending[:cut]
                pending, whole = pending[cut:], whole - cut
        if pending:
            yield pending  # a trailing partial sample is the producer's; send it as is

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def open_file(path: str, *, encoding: str | None, rate: int | None) -> AudioSource:
    """The source for a file argument: raw by extension or --encoding, else decoded."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path} is a directory", hint="give an audio file")
    if not target.exists():
        raise UsageError(f"no such file: {path}")
    raw_kind = RAW_EXTENSIONS.get(target.suffix.lower()) if encoding is None else encoding
    if raw_kind is not None:
        fmt = raw_format(raw_kind, rate, path)
        try:
            handle = open(target, "rb")  # noqa: SIM115 - closed by the source
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        return RawSource(
            handle.read,
            fmt,
            name=path,
            live=False,
            closer=handle.close,
        )
    return FileSource(target, rate=rate)


# -- stdin --------------------------------------------------------------------------------


class ByteInput:
    """Reads a binary stream as it arrives, with look-ahead for sniffing and headers."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._read_some: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
        self._pending = b""

    def read_some(self, size: int) -> bytes:
        """Up to `size` bytes: what is buffered, else what one read returns (b"" at the end)."""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._read_some(size)

    def read_exact(self, size: int) -> bytes:
        """Exactly `size` bytes, fewer only at the end of the stream."""
        data = bytearray()
        while len(data) < size:
            piece = self.read_some(size - len(data))
            if not piece:
                break
            data += piece
        return bytes(data)

    def peek(self, size: int) -> bytes:
        data = self.read_exact(size)
        self._pending = data + self._pending
        return data

    def skip(self, size: int) -> None:
        while size > 0:
            piece = self.read_some(min(size, 65536))
            if not piece:
                return
            size -= len(piece)


def sniff(head: bytes, *, frame_sync: bool = True) -> str | None:
    """The container that `head` (the first 12 bytes or more of a file or stream) starts, or
    None for raw audio. The one place that tells headerless audio from a container.

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


def stdin_stream() -> IO[bytes]:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # pragma: no cover - a text-only stdin replacement
        raise UsageError("stdin cannot be read as bytes")
    stream: IO[bytes] = buffer
    return stream


def open_stdin(
    stream: IO[bytes],
    *,
    encoding: str | None,
    rate: int | None,
    note: Callable[[str], None] | None = None,
) -> AudioSource:
    """stdin as a source: raw when --encoding says so, else sniffed from its first bytes."""
    data = ByteInput(stream)
    if encoding is not None:
        fmt = raw_format(encoding, rate, "stdin")
        return RawSource(data.read_some, fmt, name="stdin", live=True)
    head = data.peek(12)
    container = sniff(head)
    if container == "WAV":
        return WavStream(data, rate=rate)
    if container in SPOOLED_CONTAINERS:
        return _spooled(data, container, rate)
    if container is not None:
        raise UsageError(
            f"stdin holds {container} audio, which cannot be decoded here",
            hint="convert it first, e.g. ffmpeg -i in.m4a -f wav - | smallest stt live -",
        )
    if not head:
        raise UsageError("stdin is empty: no audio to transcribe")
    fmt = raw_format(None, rate, "stdin")
    if note is not None:
        note(
            f"stdin has no WAV, FLAC, OGG or MP3 header: sending it as raw {fmt.encoding} at "
            f"{fmt.sample_rate} Hz (say otherwise with --encoding and --sample-rate)"
        )
    return RawSource(data.read_some, fmt, name="stdin", live=True)


def _spooled(data: ByteInput, container: str, rate: int | None) -> FileSource:
    """Compressed audio from a pipe: copied to a temporary file, then decoded from there."""
    import tempfile

    spool = tempfile.TemporaryFile(prefix="smallest-stdin-")  # noqa: SIM115 - closed below
    try:
        while True:
            piece = data.read_some(1 << 16)
            if not piece:
                break
            spool.write(piece)
        spool.seek(0)
        source = FileSource("stdin", rate=rate, handle=spool, name="stdin")
    except BaseException:
        spool.close()
        raise
    original_close = source.close

    def close() -> None:
        original_close()
        spool.close()

    source.close = close  # type: ignore[method-assign]
    return source


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


UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def read_wav_header(data: ByteInput) -> WavHeader:
    """Parse a RIFF/WAVE header up to the start of its samples, without seeking."""
    riff = data.read_exact(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise UsageError("stdin is not a little-endian RIFF/WAVE stream")
    fmt: tuple[int, int, int, int, int] | None = None
    while True:
        head = data.read_exact(8)
        if len(head) < 8:
            raise UsageError("the WAV stream on stdin ended before its audio")
        chunk, size = struct.unpack("<4sI", head)
        if chunk == b"fmt ":
            body = data.read_exact(size + (size & 1))
            if len(body) < 16:
                raise UsageError("the WAV stream on stdin has a broken fmt chunk")
            tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, align, bits)
        elif chunk == b"data":
            if fmt is None:
                raise UsageError("the WAV stream on stdin has no fmt chunk before its audio")
            tag, channels, rate, align, bits = fmt
            return WavHeader(
                tag, channels, rate, bits, align, None if size in UNKNOWN_SIZES else size
            )
        else:
            data.skip(size + (size & 1))


class WavStream:
    """A WAV stream on stdin, transcribed as it arrives (no seeking, any declared size)."""

    live = True

    def __init__(self, data: ByteInput, *, rate: int | None) -> None:
        self._data = data
        self.header = header = read_wav_header(data)
        supported = (header.format_tag == 1 and header.bits in (8, 16, 24, 32)) or (
            header.format_tag == 3 and header.bits in (32, 64)
        )
        if header.format_tag in (6, 7) and header.bits == 8:
            supported = True
        if not supported or header.channels < 1 or header.sample_rate <= 0:
            raise UsageError(f"the WAV stream on stdin is {header.kind}, which cannot be decoded")
        expected_align = header.channels * header.bits // 8
        if header.block_align != expected_align:
            raise UsageError("the WAV stream on stdin has an inconsistent block size")
        self.format = StreamFormat("linear16", send_rate(header.sample_rate, rate))
        self._exact = (
            header.format_tag == 1
            and header.bits == 16
            and header.channels == 1
            and header.sample_rate == self.format.sample_rate
        )
        self.description = _describe(
            "stdin",
            f"WAV {header.kind}",
            header.sample_rate,
            header.channels,
            self.format.sample_rate,
        )

    def _blocks(self, stop: threading.Event) -> Iterator[bytes]:
        """The data chunk's bytes as they arrive, in whole frames."""
        remaining = self.header.data_size
        align = self.header.block_align
        pending = b""
        while not stop.is_set() and (remaining is None or remaining > 0):
            want = 1 << 14 if remaining is None else min(1 << 14, remaining)
            piece = self._data.read_some(want)
            if not piece:
                break
            if remaining is not None:
                remaining -= len(piece)
            pending += piece
            whole = len(pending) - len(pending) % align
            if whole:
                yield pending[:whole]
                pending = pending[whole:]

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        size = self.format.chunk_bytes(paced=False)
        if self._exact:
            chunks = Rechunker(size)
            for block in self._blocks(stop):
                yield from chunks.feed(block)
            yield from chunks.flush()
            return
        converter = _Converter(self.header.sample_rate, self.format.sample_rate, size)
        for block in self._blocks(stop):
            yield from converter.feed(decode_frames(block, self.header))
        yield from converter.finish()

    def close(self) -> None:
        pass


def decode_frames(block: bytes, header: WavHeader) -> npt.NDArray[np.float64]:
    """Whole WAV frames as floats in [-1, 1], shaped frames × channels."""
    import numpy as np

    tag, bits = header.format_tag, header.bits
    if tag == 3:
        values = np.frombuffer(block, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
    elif tag in (6, 7):
        table = g711_table("alaw" if tag == 6 else "mulaw")
        values = table[np.frombuffer(block, dtype=np.uint8)]
    elif bits == 8:
        values = (np.frombuffer(block, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 16:
        values = np.frombuffer(block, dtype="<i2") / 32768.0
    elif bits == 24:
        raw = np.frombuffer(block, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        values = np.where(joined >= 1 << 23, joined - (1 << 24), joined) / float(1 << 23)
    else:
        values = np.frombuffer(block, dtype="<i4") / float(1 << 31)
    result: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64).reshape(
        -1, header.channels
    )
    return result


def g711_table(law: str) -> npt.NDArray[np.float64]:
    """The 256 G.711 code values (A-law or μ-law) as floats in [-1, 1]."""
    import numpy as np

    codes = np.arange(256)
    if law == "mulaw":
        inverted = ~codes & 0xFF
        exponent = (inverted >> 4) & 0x07
        magnitude = (((inverted & 0x0F) << 3) + 0x84) << exponent
        linear = np.where(inverted & 0x80, 0x84 - magnitude, magnitude - 0x84)
    else:
        toggled = codes ^ 0x55
        exponent = (toggled >> 4) & 0x07
        mantissa = toggled & 0x0F
        magnitude = np.where(
            exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
        )
        linear = np.where(toggled & 0x80, magnitude, -magnitude)
    table: npt.NDArray[np.float64] = linear.astype(np.float64) / 32768.0
    return table


# -- the microphone -----------------------------------------------------------------------


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:
        raise SmallestError(
            f"cannot record audio: {exc}",
            hint="install PortAudio (Debian: apt-get install libportaudio2), or transcribe a file",
        ) from None
    return sounddevice


def check_input_device(device: str | int | None) -> None:
    """Fail now, before any request, if there is nothing to record from."""
    sd = _sounddevice()
    try:
        sd.query_devices(device, kind="input")
    except (sd.PortAudioError, ValueError) as exc:
        if device is not None:
            raise UsageError(
                f"no input device {device!r} ({exc})",
                hint="list the devices with `python -m sounddevice`",
            ) from None
        raise SmallestError(
            f"cannot record audio: no input device ({exc})",
            hint="transcribe a file or a pipe instead: smallest stt live speech.wav",
        ) from None


class MicSource:
    """The microphone, captured from the moment the source is opened (nothing is lost
    while the session connects) and sent in frames of 100 ms."""

    live = True

    def __init__(self, *, device: str | int | None = None, rate: int | None = None) -> None:
        self.format = StreamFormat("linear16", rate or RECOMMENDED_RATE)
        self.device = device
        self._queue: queue.Queue[bytes] = queue.Queue()
        self.overflows = 0
        self._stream, capture_rate = self._open()
        self._resampler = (
            Resampler(capture_rate, self.format.sample_rate)
            if capture_rate != self.format.sample_rate
            else None
        )
        name = "microphone" if device is None else f"microphone {device!r}"
        self.description = f"{name} ({capture_rate} Hz, mono"
        if capture_rate != self.format.sample_rate:
            self.description += f" → {self.format.sample_rate} Hz"
        self.description += ")"

    def _open(self) -> tuple[Any, int]:
        sd = _sounddevice()
        check_input_device(self.device)

        def callback(data: Any, frames: int, time: Any, status: Any) -> None:
            if status and status.input_overflow:
                self.overflows += 1
            self._queue.put(bytes(data))

        rates = [self.format.sample_rate]
        try:
            default = int(sd.query_devices(self.device, kind="input")["default_samplerate"])
            if default not in rates:
                rates.append(default)
        except (sd.PortAudioError, ValueError, KeyError, TypeError):
            pass
        failure: Exception | None = None
        for rate in rates:
            try:
                stream = sd.RawInputStream(
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    device=self.device,
                    blocksize=max(1, int(rate * PACED_CHUNK_SECONDS)),
                    callback=callback,
                )
                stream.start()
                return stream, rate
            except (sd.PortAudioError, ValueError) as exc:
                failure = exc
        raise SmallestError(
            f"cannot record from the microphone: {failure}",
            hint="pick another device with --device (see `python -m sounddevice`)",
        )

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        frames = Rechunker(self.format.chunk_bytes(paced=True))
        while not stop.is_set():
            try:
                data = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if self._resampler is not None:
                import numpy as np

                samples = np.frombuffer(data, dtype="<i2") / 32768.0
                data = to_linear16(self._resampler.process(samples))
            yield from frames.feed(data)
        yield from frames.flush()

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # closing a stream that already failed
            pass
