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
The microphone is `capture.MicSource`; decoding and resampling are in `codecs` and
`resample`. numpy and soundfile are imported inside the functions that need them; raw and
16-bit WAV input need neither.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from smallest_cli.audio.codecs import Converter, Rechunker, decode_frames
from smallest_cli.audio.formats import (
    UNKNOWN_SIZES,
    StreamFormat,
    WavHeader,
    send_rate,
)
from smallest_cli.errors import SmallestError, UsageError
from smallest_cli.files import unreadable

READ_WHOLE = ("MP3", "SDS")
"""Containers libsndfile decodes differently when read in blocks than when read whole (the
samples depend on how the reads are cut), so they are decoded in one read."""
SPOOLED_CONTAINERS = ("FLAC", "OGG", "MP3", "AIFF", "AU", "RF64", "W64", "CAF")
READ_FRAMES = 8192  # frames decoded per block
ENCODING_IGNORED = "{path} has a header that says its format; --encoding is ignored"


class AudioSource(Protocol):
    format: StreamFormat
    description: str  # for people: "speech.flac (FLAC, 44100 Hz, stereo → mono 16000 Hz)"
    live: bool  # arrives in real time by nature (a microphone, a pipe); never paced again

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        """The audio in wire format, in frames of at most 4096 bytes, until the end or `stop`."""
        ...

    def close(self) -> None: ...


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
            self.container not in READ_WHOLE
            and self.channels == 1
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
        converter = Converter(self.native_rate, self.format.sample_rate, size)
        blocks = self._whole_blocks() if self.container in READ_WHOLE else self._blocks()
        for block in blocks:
            if stop.is_set():
                break
            self._position += len(block)
            yield from converter.feed(block)
        yield from converter.finish()

    def _blocks(self) -> Iterator[Any]:
        while True:
            block = self._read(
                lambda: self._file.read(READ_FRAMES, dtype="float64", always_2d=True)
            )
            if len(block) == 0:
                return
            yield block

    def _whole_blocks(self) -> Iterator[Any]:
        """The file decoded in one read, as a whole-file read decodes it, then handed out
        in blocks. The decoded samples go to a temporary file mapped into memory, so memory
        stays flat however long the audio is."""
        import tempfile

        import numpy as np

        with tempfile.TemporaryFile(prefix="smallest-decoded-") as spool:
            frames = max(int(self._file.frames), 1)
            whole = np.memmap(spool, dtype=np.float32, mode="w+", shape=(frames, self.channels))
            self._file.seek(0)
            decoded = self._read(
                lambda: self._file.read(frames, dtype="float32", always_2d=True, out=whole)
            )
            for start in range(0, len(decoded), READ_FRAMES):
                yield np.asarray(decoded[start : start + READ_FRAMES], dtype=np.float64)

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


def open_file(
    path: str,
    *,
    encoding: str | None,
    rate: int | None,
    note: Callable[[str], None] | None = None,
) -> AudioSource:
    """The source for a file argument, judged as `stt transcribe` judges it (`probe`):
    raw by extension or --encoding, else decoded."""
    from smallest_cli.audio.probe import probe_file

    target = Path(path)
    probe = probe_file(path, encoding=encoding, rate=rate)
    if probe.encoding_ignored and note is not None:
        note(ENCODING_IGNORED.format(path=path))
    fmt = probe.raw
    if fmt is not None:
        try:
            handle = open(target, "rb")  # noqa: SIM115 - closed by the source
        except OSError as exc:
            raise unreadable(path, exc) from None
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

    @property
    def buffered(self) -> int:
        """Bytes read from the stream but not yet handed out."""
        return len(self._pending)

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


def open_stdin(
    stream: IO[bytes],
    *,
    encoding: str | None,
    rate: int | None,
    note: Callable[[str], None] | None = None,
) -> AudioSource:
    """stdin as a source: raw when --encoding says so, else sniffed from its first bytes."""
    from smallest_cli.audio.probe import HEAD_BYTES, probe_head

    data = ByteInput(stream)
    head = data.peek(HEAD_BYTES) if encoding is None else data.peek(1)
    probe = probe_head(head, encoding=encoding, rate=rate)
    container = probe.container
    if probe.raw is not None and encoding is not None:
        return RawSource(data.read_some, probe.raw, name="stdin", live=True)
    if container == "WAV":
        return WavStream(data, rate=rate)
    if container in SPOOLED_CONTAINERS:
        return _spooled(data, container, rate)
    if container is not None:
        raise UsageError(
            f"stdin holds {container} audio, which cannot be decoded here",
            hint="convert it first, e.g. ffmpeg -i in.m4a -f wav - | smallest stt live -",
        )
    fmt = probe.raw
    assert fmt is not None
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
        converter = Converter(self.header.sample_rate, self.format.sample_rate, size)
        for block in self._blocks(stop):
            yield from converter.feed(decode_frames(block, self.header))
        yield from converter.finish()

    def close(self) -> None:
        pass
