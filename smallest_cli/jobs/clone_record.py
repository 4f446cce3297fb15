"""`clone create --record`: a take from the microphone, made into a sample to upload.

On a terminal there is a countdown, a live level meter and a clipping warning; afterwards
the take can be heard, and nothing is uploaded without a yes (or `--yes`). Ctrl-C at any
point before the upload sends nothing (exit 130).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from smallest_cli.errors import SmallestError, UsageError

if TYPE_CHECKING:
    from smallest_cli.audio.sample import Sample
    from smallest_cli.context import AppContext
    from smallest_cli.output import Output

RECORD_RATE = 24000
COUNTDOWN = 3
CLIPPED = 0.99  # |sample| at or above this is clipped
CLIPPED_SHARE = 0.001
NO_MICROPHONE_HINT = "clone from a recording instead: smallest clone create NAME FILE"


def record_sample(
    obj: AppContext, seconds: float, device: str | None, name: str, yes: bool
) -> Sample:
    """Record `seconds` of the microphone and return the trimmed take to upload."""
    from smallest_cli.audio.devices import device_of
    from smallest_cli.audio.sample import sample_from_pcm

    out = obj.output
    asking = not yes
    if asking and not (out.stdin_isatty and out.stderr_isatty):
        raise UsageError(
            "--record asks before it uploads, and there is no terminal to ask on",
            hint="add --yes to upload the take without asking",
        )
    _check_microphone(device_of(device))
    if out.stderr_isatty:
        for left in range(COUNTDOWN, 0, -1):
            out.info(f"Recording in {left}…")
            time.sleep(1)
    samples = _capture(out, seconds, device_of(device))
    clipped = float((abs(samples) >= CLIPPED).mean()) if len(samples) else 0.0
    if clipped >= CLIPPED_SHARE:
        out.warn(
            f"the take clipped ({clipped:.1%} of it at full scale): move back from the "
            "microphone or lower its gain for a cleaner clone"
        )
    sample = sample_from_pcm(samples, RECORD_RATE, name)
    out.info(f"Recorded {sample.seconds or 0:.1f} s of speech (silence trimmed).")
    if asking:
        from smallest_cli.jobs.clone import ask

        if ask("Play it back?"):
            _play(sample, device_of(device))
        if not ask(f"Upload this take as {name!r}?", default=True):
            raise SmallestError("nothing was uploaded", hint="run the command again for a new take")
    return sample


def _check_microphone(device: str | int | None) -> None:
    """Fail before the countdown when there is nothing to record from, pointing to a file."""
    from smallest_cli.audio.devices import check_device

    try:
        check_device(device, "record")
    except UsageError:
        raise
    except SmallestError as error:
        raise SmallestError(error.message, hint=NO_MICROPHONE_HINT) from None


def _capture(out: Output, seconds: float, device: str | int | None) -> Any:
    """Mono floats of the microphone, with a level meter on a terminal."""
    import numpy as np

    from smallest_cli.audio.capture import MicSource

    wanted = int(seconds * RECORD_RATE) * 2
    pieces: list[bytes] = []
    got = 0
    stop = threading.Event()
    mic = MicSource(device=device, rate=RECORD_RATE, note=out.warn)
    meter = _Meter(out, seconds)
    out.info(f"Recording {seconds:g} s from the {mic.description}; Ctrl-C stops without uploading.")
    try:
        with meter:
            for chunk in mic.chunks(stop):
                pieces.append(chunk)
                got += len(chunk)
                meter.show(chunk, got / (2 * RECORD_RATE))
                if got >= wanted:
                    stop.set()
    finally:
        mic.close()
    data = b"".join(pieces)[:wanted]
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2") / 32768.0


class _Meter:
    """`● 4.2 s / 12 s  ▇▇▇▇▇▁▁▁▁▁  -12 dB` on stderr, redrawn; CLIPPING when it clips."""

    WIDTH = 30

    def __init__(self, out: Output, seconds: float) -> None:
        self._live: Any = None
        self._seconds = seconds
        if out.stderr_isatty and not out.quiet:
            from rich.live import Live

            self._live = Live(
                "", console=out._console(out.stderr, True), transient=True, refresh_per_second=12
            )

    def __enter__(self) -> _Meter:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc_info)

    def show(self, chunk: bytes, elapsed: float) -> None:
        if self._live is None or not chunk:
            return
        import math

        import numpy as np

        values = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype="<i2") / 32768.0
        peak = float(np.abs(values).max()) if len(values) else 0.0
        db = 20 * math.log10(peak) if peak > 0 else -90.0
        filled = max(0, min(self.WIDTH, int((db + 60) / 60 * self.WIDTH)))
        bar = "▇" * filled + "▁" * (self.WIDTH - filled)
        flag = "  CLIPPING" if peak >= CLIPPED else ""
        self._live.update(
            f"● {elapsed:4.1f} s / {self._seconds:g} s  {bar} {db:5.0f} dB{flag}  (Ctrl-C stops)"
        )


def _play(sample: Sample, device: str | int | None) -> None:
    from smallest_cli.audio.codecs import decode_clip
    from smallest_cli.audio.sinks import open_sinks

    pcm, rate = decode_clip(sample.data)
    sink = open_sinks(None, None, None, True, device, rate)
    try:
        sink.write(pcm)
        sink.close()
    except BaseException:
        sink.abort()
        raise
