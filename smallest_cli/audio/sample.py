"""A voice-cloning sample, checked and made uploadable before any byte is sent (REFERENCE §8.1).

The API takes MP3, WAV, MP4 or WebM of at most 5 MB and wants 5–15 s of clean speech from
one speaker. Locally:

- a missing, empty or non-audio file is refused; so is a sample with under 3 s of speech
  or that is mostly silence;
- more than one channel is allowed, and said (the API hears one mixed voice);
- under 5 s or over 15 s of speech is a warning;
- FLAC, OGG, AIFF, headerless PCM and anything over 5 MB are converted: mixed to mono,
  trimmed of leading and trailing silence, and written as 16-bit WAV, or MP3 when the WAV
  would not fit under 5 MB; a note says what was done;
- MP4 and WebM (which libsndfile cannot read) go as they are when under 5 MB, with a note
  that their length was not checked.

numpy and soundfile are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smallest_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_BYTES = 5 * 1024 * 1024
MIN_SECONDS = 3.0
SHORT_SECONDS = 5.0
LONG_SECONDS = 15.0
MIN_SPEECH_SHARE = 0.2
"""Below this share of windows with speech, a sample is mostly silence."""
WINDOW_SECONDS = 0.02
PAD_SECONDS = 0.15  # kept around the speech when trimming
SILENCE_FLOOR = 0.003  # RMS (about -50 dBFS): quieter windows are silence whatever the peak
RELATIVE_FLOOR = 0.1  # windows below this share of the loudest window's RMS are silence
MAX_RATE = 48000
MP3_BITRATES = (128, 64, 32)
UPLOADED_AS_IS = {"WAV": "audio/wav", "MP3": "audio/mpeg"}
UNDECODED = {".mp4": "audio/mp4", ".m4a": "audio/mp4", ".webm": "audio/webm"}
"""Containers the API takes but libsndfile cannot read: sent as they are."""
FORMATS_HINT = "give a recording in WAV, MP3, FLAC or OGG of 5 to 15 s of one person speaking"


@dataclass(frozen=True)
class Sample:
    """What is uploaded: the bytes, their name and MIME type, and what was noticed."""

    filename: str
    data: bytes
    mime: str
    seconds: float | None  # of the uploaded audio; None when it could not be read locally
    notes: tuple[str, ...] = ()  # what was done to it, for the user
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Speech:
    """Where the speech is in a mono clip, in samples, and how much of it is speech."""

    start: int
    end: int
    share: float  # of the windows of the whole clip that hold speech

    def seconds(self, rate: int) -> float:
        return (self.end - self.start) / rate


@dataclass
class _Findings:
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


MAX_STDIN_BYTES = 200_000_000  # far beyond any sample worth converting


def sample_from_file(
    path: str, *, sample_rate: int | None = None, label: str | None = None
) -> Sample:
    """Check the file at `path` and return what to upload; a UsageError says what is wrong.

    `sample_rate` describes headerless 16-bit PCM (`.raw`, `.pcm`), which has no header to
    say it. `label` names the file in messages (`stdin` for a copy of it).
    """
    shown = label or path
    target = Path(path)
    size = _size(target, shown)
    suffix = target.suffix.lower()
    if suffix in UNDECODED:
        return _undecoded(target, shown, size, UNDECODED[suffix])
    from smallest_cli.audio.formats import RateUnknown
    from smallest_cli.audio.probe import probe_file

    try:
        probe = probe_file(path, encoding=None, rate=sample_rate)
    except RateUnknown:
        raise UsageError(
            f"{shown} is headerless PCM, which does not say its sample rate",
            hint="give it with --sample-rate (e.g. --sample-rate 16000), or give a WAV",
        ) from None
    except UsageError as error:
        raise UsageError(
            f"{shown} is not an audio file: {error.message}", hint=FORMATS_HINT
        ) from None
    if probe.container in ("M4A", "WEBM"):
        return _undecoded(
            target, shown, size, "audio/mp4" if probe.container == "M4A" else "audio/webm"
        )
    samples, rate = _decode(target, shown, probe.raw.sample_rate if probe.raw else None)
    found = _Findings()
    channels = samples.shape[1]
    if channels > 1:
        found.notes.append(
            f"{shown} has {channels} channels; the API hears them as one, so make sure only one "
            "person speaks"
        )
    mono = samples.mean(axis=1)
    speech = check_speech(mono, rate, shown)
    container = probe.container or "headerless PCM"
    if container in UPLOADED_AS_IS and size <= MAX_BYTES:
        seconds = len(mono) / rate
        found.warnings += _length_warnings(speech.seconds(rate))
        return Sample(
            target.name,
            target.read_bytes(),
            UPLOADED_AS_IS[container],
            seconds,
            tuple(found.notes),
            tuple(found.warnings),
        )
    why = "is over 5 MB" if size > MAX_BYTES else f"is {container}, which the API does not take"
    return _converted(mono, rate, speech, target.stem, f"{shown} {why}", found)


def sample_from_stdin(*, sample_rate: int | None = None) -> Sample:
    """The sample piped to stdin (`FILE` is `-`), checked like a file of its container."""
    import sys
    import tempfile

    from smallest_cli.audio.formats import sniff

    if sys.stdin.isatty():
        raise UsageError(
            "FILE is - (stdin), but stdin is a terminal",
            hint="pipe a recording in (… | smallest clone create NAME -), or give a file",
        )
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise UsageError(
            f"stdin holds over {MAX_STDIN_BYTES // 1_000_000} MB", hint="give 5–15 s of speech"
        )
    container = sniff(data[:16])
    suffix = f".{container.lower()}" if container else ".raw"
    with tempfile.TemporaryDirectory(prefix="smallest-clone-") as folder:
        copy = Path(folder) / f"stdin{suffix}"
        copy.write_bytes(data)
        return sample_from_file(str(copy), sample_rate=sample_rate, label="stdin")


def sample_from_pcm(samples: npt.NDArray[Any], rate: int, name: str) -> Sample:
    """A recording (mono floats in [-1, 1]) checked, trimmed and made a WAV called `name`."""
    import numpy as np

    mono = np.asarray(samples, dtype=np.float64).reshape(-1)
    speech = check_speech(mono, rate, "the recording")
    return _converted(mono, rate, speech, name, None, _Findings())


def find_speech(mono: npt.NDArray[Any], rate: int) -> Speech:
    """Where the speech starts and ends (silence is quieter than both an absolute floor and a
    tenth of the loudest window), and the share of windows that hold speech."""
    import numpy as np

    window = max(1, int(rate * WINDOW_SECONDS))
    count = len(mono) // window
    if count == 0:
        return Speech(0, 0, 0.0)
    frames = np.asarray(mono[: count * window], dtype=np.float64).reshape(count, window)
    rms = np.sqrt((frames**2).mean(axis=1))
    floor = max(SILENCE_FLOOR, RELATIVE_FLOOR * float(rms.max()))
    voiced = np.flatnonzero(rms >= floor)
    if voiced.size == 0:
        return Speech(0, 0, 0.0)
    pad = int(rate * PAD_SECONDS)
    start = max(0, int(voiced[0]) * window - pad)
    end = min(len(mono), (int(voiced[-1]) + 1) * window + pad)
    return Speech(start, end, voiced.size / count)


def check_speech(mono: npt.NDArray[Any], rate: int, what: str) -> Speech:
    """find_speech, refusing silence, mostly silence and under 3 s of speech."""
    speech = find_speech(mono, rate)
    if speech.end == speech.start:
        raise UsageError(f"{what} is silent", hint=FORMATS_HINT)
    if speech.share < MIN_SPEECH_SHARE:
        raise UsageError(
            f"{what} is mostly silence (speech in {speech.share:.0%} of it)",
            hint="record closer to the microphone, or cut the sample to the part with speech",
        )
    seconds = speech.seconds(rate)
    if seconds < MIN_SECONDS:
        raise UsageError(
            f"{what} has only {seconds:.1f} s of speech; a clone needs at least {MIN_SECONDS:g} s",
            hint="give 5 to 15 s of one person speaking",
        )
    return speech


def _length_warnings(seconds: float) -> list[str]:
    if seconds < SHORT_SECONDS:
        return [f"only {seconds:.1f} s of speech; 5 to 15 s makes a closer clone"]
    if seconds > LONG_SECONDS:
        return [f"{seconds:.1f} s of speech; the API wants 5 to 15 s and may use only part of it"]
    return []


def _size(target: Path, path: str) -> int:
    try:
        if target.is_dir():
            raise UsageError(f"{path} is a directory", hint=FORMATS_HINT)
        size = target.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}", hint=FORMATS_HINT) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise UsageError(f"{path} is empty", hint=FORMATS_HINT)
    return size


def _undecoded(target: Path, path: str, size: int, mime: str) -> Sample:
    if size > MAX_BYTES:
        raise UsageError(
            f"{path} is {size / 1e6:.1f} MB; the API takes at most 5 MB",
            hint="cut it to 5–15 s, or convert it to WAV or MP3 (those are converted for you)",
        )
    note = f"{path} is sent as it is: its length and loudness could not be checked here"
    return Sample(target.name, target.read_bytes(), mime, None, (note,))


def _decode(target: Path, path: str, raw_rate: int | None) -> tuple[npt.NDArray[np.float64], int]:
    """Frames × channels as floats, and the rate."""
    import numpy as np
    import soundfile

    try:
        if raw_rate is not None:
            samples, rate = soundfile.read(
                str(target),
                dtype="float64",
                always_2d=True,
                format="RAW",
                subtype="PCM_16",
                samplerate=raw_rate,
                channels=1,
                endian="LITTLE",
            )
        else:
            samples, rate = soundfile.read(str(target), dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UsageError(f"{path} cannot be read as audio ({exc})", hint=FORMATS_HINT) from None
    except ValueError:  # a header without the length (a FLAC streamed to a pipe) reads as endless
        raise UsageError(
            f"{path} does not say how long it is, so it cannot be read",
            hint="write it as WAV (a pipe can carry WAV: sox … -t wav -)",
        ) from None
    if len(samples) == 0:
        raise UsageError(f"{path} holds no audio", hint=FORMATS_HINT)
    return np.asarray(samples, dtype=np.float64), int(rate)


def _converted(
    mono: npt.NDArray[np.float64],
    rate: int,
    speech: Speech,
    stem: str,
    why: str | None,
    found: _Findings,
) -> Sample:
    """Trimmed mono audio as the smallest upload that fits: WAV, else MP3."""
    trimmed = mono[speech.start : speech.end]
    if rate > MAX_RATE:
        from smallest_cli.audio.resample import resample

        trimmed, rate = resample(trimmed, rate, MAX_RATE), MAX_RATE
    seconds = len(trimmed) / rate
    cut = (len(mono) - (speech.end - speech.start)) / (rate if rate else 1)
    found.warnings += _length_warnings(seconds)
    data = _encode(trimmed, rate, "WAV")
    kind, mime = "WAV", "audio/wav"
    if len(data) > MAX_BYTES:
        for bitrate in MP3_BITRATES:
            data = _encode(trimmed, rate, "MP3", bitrate)
            kind, mime = f"MP3 ({bitrate} kbit/s)", "audio/mpeg"
            if len(data) <= MAX_BYTES:
                break
        else:
            raise UsageError(
                f"{seconds:.0f} s of speech does not fit in 5 MB even as MP3",
                hint="cut the sample to 5–15 s of one person speaking",
            )
    trimmed_note = f", {cut:.1f} s of silence trimmed" if cut >= 0.05 else ""
    if why is not None:
        found.notes.append(
            f"{why}: sending it as a mono {kind} of {seconds:.1f} s"
            f"{trimmed_note} ({len(data) / 1e6:.2f} MB)"
        )
    extension = ".mp3" if mime == "audio/mpeg" else ".wav"
    return Sample(stem + extension, data, mime, seconds, tuple(found.notes), tuple(found.warnings))


def _encode(mono: npt.NDArray[np.float64], rate: int, kind: str, bitrate: int = 0) -> bytes:
    import io

    import numpy as np
    import soundfile

    buffer = io.BytesIO()
    clipped = np.clip(mono, -1.0, 1.0)
    if kind == "WAV":
        soundfile.write(buffer, clipped, rate, format="WAV", subtype="PCM_16")
    else:
        # libsndfile's MP3 encoder takes 8–48 kHz; its quality setting picks the bitrate.
        quality = {128: 0.5, 64: 0.8, 32: 0.99}.get(bitrate, 0.5)
        with soundfile.SoundFile(
            buffer,
            "w",
            samplerate=rate,
            channels=1,
            format="MP3",
            subtype="MPEG_LAYER_III",
            compression_level=quality,
            bitrate_mode="CONSTANT",
        ) as handle:
            handle.write(clipped)
    return buffer.getvalue()
