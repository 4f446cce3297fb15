"""Sound devices through sounddevice (PortAudio): what a --device names, and whether there is
one to record from or play on, checked before any request is sent."""

from __future__ import annotations

from typing import Any, Literal

from smallest_cli.errors import SmallestError, UsageError

Purpose = Literal["record", "play"]
NO_PORTAUDIO_HINT = {
    "record": "install PortAudio (Debian: apt-get install libportaudio2), or transcribe a file",
    "play": "install PortAudio (Debian: apt-get install libportaudio2), or write a file with -o FILE",
}
NO_DEVICE_HINT = {
    "record": "transcribe a file or a pipe instead: smallest stt live speech.wav",
    "play": "write a file with -o FILE, or pipe the audio: smallest tts say … | ffplay -",
}


def device_of(value: str | None) -> str | int | None:
    """A --device value: an index if it is a number, else a name."""
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def sounddevice(purpose: Purpose) -> Any:
    """The sounddevice module, or a SmallestError saying PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:
        raise SmallestError(
            f"cannot {purpose} audio: {exc}", hint=NO_PORTAUDIO_HINT[purpose]
        ) from None
    return sounddevice


def check_device(device: str | int | None, purpose: Purpose) -> None:
    """Fail now, before any request, if there is nothing to record from or play on."""
    sd = sounddevice(purpose)
    kind = "input" if purpose == "record" else "output"
    try:
        sd.query_devices(device, kind=kind)
    except (sd.PortAudioError, ValueError) as exc:
        if device is not None:
            raise UsageError(
                f"no {kind} device {device!r} ({exc})",
                hint="list the devices with `python -m sounddevice`",
            ) from None
        raise SmallestError(
            f"cannot {purpose} audio: no {kind} device ({exc})", hint=NO_DEVICE_HINT[purpose]
        ) from None


def open_output_stream(
    sample_rate: int, device: str | int | None, latency: str | None = None
) -> Any:
    """A started sounddevice RawOutputStream, or a clear error saying why there is none.
    `latency="low"` keeps little audio buffered (a conversation stops it mid-sentence)."""
    sd = sounddevice("play")
    try:
        stream = sd.RawOutputStream(
            samplerate=sample_rate, channels=1, dtype="int16", device=device, latency=latency
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise SmallestError(
            f"cannot play audio: {exc}",
            hint="write a file with -o FILE, or pick a device with --device (see `python -m sounddevice`)",
        ) from None
    return stream
