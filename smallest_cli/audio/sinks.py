"""Audio out: 16-bit mono PCM in; files, pipes and speakers out.

Every destination is a `Sink` fed PCM as it arrives:

* `FileSink` writes a temporary file beside the target and renames it into place only
  when everything arrived, so a failed or interrupted run leaves no half-written file and
  leaves an existing file untouched. soundfile encodes WAV, FLAC, OGG/Vorbis, MP3, μ-law
  and A-law; `pcm` is the raw samples.
* `StreamSink` writes to a pipe (stdout, or a device or named pipe given as -o) as bytes
  arrive. WAV gets a header whose sizes say
  "unknown" (0xFFFFFFFF), which players and soundfile accept, because a pipe cannot be
  rewound to patch the sizes at the end (MACHINE-NOTES §3).
* `PlayerSink` plays on the speakers through sounddevice, starting with the first chunk.

soundfile and sounddevice (and numpy under them) are imported only by the sinks that need
them: WAV and raw PCM to a pipe need neither.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from smallest_cli.audio.devices import check_device, open_output_stream
from smallest_cli.audio.formats import AudioFormat, wav_stream_header
from smallest_cli.errors import SmallestError, UsageError
from smallest_cli.files import cannot_write, is_special, open_straight, publish, temp_beside

if TYPE_CHECKING:
    import soundfile


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
            fd, self._temp = temp_beside(self.path)
        except OSError as exc:
            raise UsageError(f"cannot write in {directory}: {exc.strerror}") from None
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
        try:
            if self._raw is not None:
                self._raw.write(pcm)
            elif self._encoder is not None:
                self._encoder.buffer_write(pcm, dtype="int16")
        except OSError as exc:  # a full disk
            self.abort()
            raise cannot_write(self.path, exc) from None

    def close(self) -> None:
        try:
            if self._raw is not None:
                self._raw.flush()
                os.fsync(self._raw.fileno())
                self._raw.close()
            elif self._encoder is not None:
                self._encoder.close()
            publish(self._temp, self.path)
        except OSError as exc:
            self.abort()
            raise cannot_write(self.path, exc) from None
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
    """Bytes to a pipe (stdout by default) as they arrive.

    `path` names a device or named pipe (-o /dev/null, -o fifo.wav): it is opened now,
    written straight into (never replaced) and closed at the end. The header (or the
    encoder) starts with the first audio, so a failure before any audio writes nothing.
    """

    def __init__(
        self,
        fmt: AudioFormat,
        sample_rate: int,
        stream: IO[bytes] | None = None,
        *,
        path: str | None = None,
    ) -> None:
        self.format = fmt
        self.path = path
        if path is not None:
            stream = open_straight(path)
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._encoder: soundfile.SoundFile | None = None
        self._sample_rate = sample_rate
        self._started = False

    def _start(self) -> None:
        self._started = True
        if self.format.name == "wav":
            self._stream.write(wav_stream_header(self._sample_rate))
            self._stream.flush()
        elif self.format.container is not None:
            self._stream.flush()
            self._encoder = _open_encoder(
                self._stream.fileno(), self.format, self._sample_rate, closefd=False
            )

    def write(self, pcm: bytes) -> None:
        self._failing(self._write, pcm)

    def _write(self, pcm: bytes) -> None:
        if not self._started:
            self._start()
        if self._encoder is not None:
            self._encoder.buffer_write(pcm, dtype="int16")
            return
        self._stream.write(pcm)
        self._stream.flush()

    def close(self) -> None:
        self._failing(self._close)

    def _close(self) -> None:
        try:
            if not self._started:
                self._start()  # no audio at all: still a well-formed (empty) file
            if self._encoder is not None:
                self._encoder.close()
            self._stream.flush()
        finally:
            if self.path is not None:
                self._stream.close()

    def _failing(self, step: Any, *args: Any) -> None:
        """Run `step`; a failed write (ENOSPC, /dev/full) is an error naming where."""
        try:
            step(*args)
        except BrokenPipeError:
            raise  # the reader left: not an error (see app.py)
        except OSError as exc:
            raise cannot_write(self.path or "stdout", exc) from None

    def abort(self) -> None:
        self._started = True  # nothing more is written: no header for a failed run
        try:
            self._close()
        except (OSError, ValueError):
            pass


class PlayerSink:
    """The speakers (or `device`), opened when the first audio arrives."""

    def __init__(
        self, sample_rate: int, device: str | int | None = None, *, latency: str | None = None
    ) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self.latency = latency
        self._stream: Any = None
        check_device(device, "play")

    def write(self, pcm: bytes) -> None:
        if self._stream is None:
            self._stream = open_output_stream(self.sample_rate, self.device, self.latency)
        self._stream.write(pcm)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()  # returns once everything written has been played
            self._stream.close()

    def abort(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()


class Saved:
    """The speakers next to a file or stdout: when playing fails (no sound device), the
    audio is still written, and the playback error is raised once it is."""

    def __init__(self, sample_rate: int, device: str | int | None, where: str) -> None:
        self.where = where
        self.error: SmallestError | None = None
        self.player: PlayerSink | None = None
        try:
            self.player = PlayerSink(sample_rate, device)
        except UsageError:
            raise  # a --device that does not exist: refused before any request
        except SmallestError as error:
            self._failed(error)

    def _failed(self, error: SmallestError) -> None:
        error.hint = f"the audio was written to {self.where}; play it from there"
        self.error = error

    def write(self, pcm: bytes) -> None:
        if self.player is not None and self.error is None:
            try:
                self.player.write(pcm)
            except SmallestError as error:
                self.player.abort()
                self._failed(error)

    def close(self) -> None:
        if self.player is not None and self.error is None:
            self.player.close()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        if self.player is not None and self.error is None:
            self.player.abort()


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


def open_sinks(
    file_output: str | None,
    file_format: AudioFormat | None,
    stdout_format: AudioFormat | None,
    play: bool,
    device: str | int | None,
    sample_rate: int,
) -> Sink:
    """One sink feeding every destination (a file, stdout, the speakers)."""
    sinks: list[Sink] = []
    try:
        if file_output is not None and file_format is not None:
            if is_special(file_output):
                sinks.append(StreamSink(file_format, sample_rate, path=file_output))
            else:
                sinks.append(FileSink(file_output, file_format, sample_rate))
        if stdout_format is not None:
            sinks.append(StreamSink(stdout_format, sample_rate))
        if play and sinks:
            sinks.append(Saved(sample_rate, device, file_output or "stdout"))
        elif play:
            sinks.append(PlayerSink(sample_rate, device))
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    return sinks[0] if len(sinks) == 1 else Tee(*sinks)
