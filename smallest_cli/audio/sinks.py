"""Audio out: 16-bit mono PCM in; files, pipes and speakers out.

Every destination is a `Sink` fed PCM as it arrives:

* `FileSink` writes a temporary file beside the target and renames it into place only
  when everything arrived, so a failed or interrupted run leaves no half-written file and
  leaves an existing file untouched. soundfile encodes WAV, FLAC, OGG/Vorbis, MP3, μ-law
  and A-law; `pcm` is the raw samples.
* `StreamSink` writes to a pipe as bytes arrive. WAV gets a header whose sizes say
  "unknown" (0xFFFFFFFF), which players and soundfile accept, because a pipe cannot be
  rewound to patch the sizes at the end (MACHINE-NOTES §3).
* `PlayerSink` plays on the speakers through sounddevice, starting with the first chunk.

soundfile and sounddevice (and numpy under them) are imported only by the sinks that need
them: WAV and raw PCM to a pipe need neither.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from smallest_cli.errors import SmallestError, UsageError

if TYPE_CHECKING:
    import soundfile


@dataclass(frozen=True)
class AudioFormat:
    name: str
    extensions: tuple[str, ...]
    container: str | None  # soundfile's major format; None for raw samples
    subtype: str | None

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
        AudioFormat("pcm", (".pcm", ".raw"), None, None),
        AudioFormat("ulaw", (".ulaw", ".ul", ".mulaw"), "RAW", "ULAW"),
        AudioFormat("alaw", (".alaw", ".al"), "RAW", "ALAW"),
    )
}
ALIASES = {"raw": "pcm", "mulaw": "ulaw", "vorbis": "ogg"}


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


RAW_SAMPLES = {"pcm": ("16-bit", "linear16"), "ulaw": ("μ-law", "mulaw"), "alaw": ("A-law", "alaw")}
"""Formats written without a header: how to describe their samples, and their STT encoding."""


def headerless_note(path: str, fmt: AudioFormat, sample_rate: int) -> str | None:
    """What a user must know to read back a file written without a header, else None."""
    if fmt.name not in RAW_SAMPLES:
        return None
    from smallest_cli.audio_in import RAW_EXTENSIONS

    kind, encoding = RAW_SAMPLES[fmt.name]
    flags = f"--sample-rate {sample_rate}"
    if RAW_EXTENSIONS.get(Path(path).suffix.lower()) != encoding:
        flags = f"--encoding {encoding} {flags}"
    return (
        f"Note: {path} is raw {kind} mono at {sample_rate} Hz with no header; read it with {flags}"
    )


def wav_stream_header(sample_rate: int) -> bytes:
    """A 16-bit mono WAV header for a stream of unknown length."""
    unknown = 0xFFFFFFFF
    return (
        struct.pack("<4sI4s", b"RIFF", unknown, b"WAVE")
        + struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + struct.pack("<4sI", b"data", unknown)
    )


class Sink(Protocol):
    def write(self, pcm: bytes) -> None: ...

    def close(self) -> None:
        """Everything arrived: finish the output."""

    def abort(self) -> None:
        """Something failed: discard what cannot be finished."""


class FileSink:
    """A file that appears, complete, only when `close` is called."""

    def __init__(self, path: str | Path, fmt: AudioFormat, sample_rate: int) -> None:
        self.path = Path(path)
        self.format = fmt
        self.sample_rate = sample_rate
        if self.path.is_dir():
            raise UsageError(
                f"{self.path} is a directory", hint="give a file name, e.g. -o speech.wav"
            )
        directory = self.path.parent
        if not directory.is_dir():
            raise UsageError(f"the directory {directory} does not exist", hint="create it first")
        try:
            fd, temp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=directory
            )
        except OSError as exc:
            raise UsageError(f"cannot write in {directory}: {exc.strerror}") from None
        self._temp = Path(temp)
        self._raw: IO[bytes] | None = None
        self._encoder: soundfile.SoundFile | None = None
        try:
            if fmt.container is None:
                self._raw = os.fdopen(fd, "wb")
            else:
                os.close(fd)
                self._encoder = _open_encoder(self._temp, fmt, sample_rate)
        except BaseException:
            self._temp.unlink(missing_ok=True)
            raise

    def write(self, pcm: bytes) -> None:
        if self._raw is not None:
            self._raw.write(pcm)
        elif self._encoder is not None:
            self._encoder.buffer_write(pcm, dtype="int16")

    def close(self) -> None:
        try:
            if self._raw is not None:
                self._raw.flush()
                os.fsync(self._raw.fileno())
                self._raw.close()
            elif self._encoder is not None:
                self._encoder.close()
            mode = 0o666 & ~_umask()
            os.chmod(self._temp, mode)
            os.replace(self._temp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        for handle in (self._raw, self._encoder):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # the partial file is deleted anyway
                pass
        self._temp.unlink(missing_ok=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _open_encoder(
    target: Any, fmt: AudioFormat, sample_rate: int, **kwargs: Any
) -> soundfile.SoundFile:
    try:
        import soundfile
    except OSError as exc:  # pragma: no cover - libsndfile ships inside the soundfile wheel
        raise SmallestError(f"cannot encode {fmt.name}: {exc}") from None
    return soundfile.SoundFile(
        target,
        "w",
        samplerate=sample_rate,
        channels=1,
        format=fmt.container,
        subtype=fmt.subtype,
        **kwargs,
    )


class StreamSink:
    """Bytes to a pipe (stdout by default) as they arrive."""

    def __init__(self, fmt: AudioFormat, sample_rate: int, stream: IO[bytes] | None = None) -> None:
        self.format = fmt
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._encoder: soundfile.SoundFile | None = None
        if fmt.name == "wav":
            self._stream.write(wav_stream_header(sample_rate))
        elif fmt.container is not None:
            self._stream.flush()
            self._encoder = _open_encoder(self._stream.fileno(), fmt, sample_rate, closefd=False)

    def write(self, pcm: bytes) -> None:
        if self._encoder is not None:
            self._encoder.buffer_write(pcm, dtype="int16")
            return
        self._stream.write(pcm)
        self._stream.flush()

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
        self._stream.flush()

    def abort(self) -> None:
        try:
            self.close()
        except (OSError, ValueError):
            pass


class PlayerSink:
    """The speakers (or `device`), opened when the first audio arrives."""

    def __init__(self, sample_rate: int, device: str | int | None = None) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self._stream: Any = None
        self.played = 0
        check_output_device(device)

    def write(self, pcm: bytes) -> None:
        if self._stream is None:
            self._stream = open_output_stream(self.sample_rate, self.device)
        self._stream.write(pcm)
        self.played += len(pcm) // 2

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()  # returns once everything written has been played
            self._stream.close()

    def abort(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()


def open_output_stream(sample_rate: int, device: str | int | None) -> Any:
    """A started sounddevice RawOutputStream, or a clear error saying why there is none."""
    sd = _sounddevice()
    try:
        stream = sd.RawOutputStream(
            samplerate=sample_rate, channels=1, dtype="int16", device=device
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise SmallestError(
            f"cannot play audio: {exc}",
            hint="write a file with -o FILE, or pick a device with --device (see `python -m sounddevice`)",
        ) from None
    return stream


def check_output_device(device: str | int | None) -> None:
    """Fail now, before any request, if there is nothing to play on."""
    sd = _sounddevice()
    try:
        sd.query_devices(device, kind="output")
    except (sd.PortAudioError, ValueError) as exc:
        if device is not None:
            raise UsageError(
                f"no output device {device!r} ({exc})",
                hint="list the devices with `python -m sounddevice`",
            ) from None
        raise SmallestError(
            f"cannot play audio: no output device ({exc})",
            hint="write a file with -o FILE, or pipe the audio: smallest tts say … | ffplay -",
        ) from None


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:
        raise SmallestError(
            f"cannot play audio: {exc}",
            hint="install PortAudio (Debian: apt-get install libportaudio2), or write a file with -o FILE",
        ) from None
    return sounddevice


class Tee:
    """Several sinks fed the same audio."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def write(self, pcm: bytes) -> None:
        for sink in self.sinks:
            sink.write(pcm)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def abort(self) -> None:
        for sink in self.sinks:
            sink.abort()


class Aligned:
    """Passes on whole 16-bit samples only, whatever the chunk boundaries of the source."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self._odd = b""

    def write(self, pcm: bytes) -> None:
        data = self._odd + pcm
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        if cut:
            self.sink.write(data[:cut])

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()
