"""The microphone as an audio source: captured through sounddevice from the moment it is
opened (nothing is lost while the session connects), resampled when the device cannot
record at the rate to send."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from smallest_cli.audio.codecs import Rechunker, to_linear16
from smallest_cli.audio.devices import check_device, sounddevice
from smallest_cli.audio.formats import PACED_CHUNK_SECONDS, RECOMMENDED_RATE, StreamFormat
from smallest_cli.audio.resample import Resampler
from smallest_cli.errors import SmallestError


class MicSource:
    """The microphone, captured from the moment the source is opened (nothing is lost
    while the session connects) and sent in frames of 100 ms."""

    live = True

    def __init__(
        self,
        *,
        device: str | int | None = None,
        rate: int | None = None,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.format = StreamFormat("linear16", rate or RECOMMENDED_RATE)
        self.device = device
        self._queue: queue.Queue[bytes] = queue.Queue()
        self.overflows = 0  # PortAudio blocks that came too late: audio was dropped
        self._note = note
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
        sd = sounddevice("record")
        check_device(self.device, "record")

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
        if self.overflows and self._note is not None:
            self._note(dropped_note(self.overflows))
            self._note = None  # said once, however often close is called


def dropped_note(overflows: int) -> str:
    """What to tell a user whose recording lost audio because it was not read in time."""
    times = "once" if overflows == 1 else f"{overflows} times"
    return (
        f"the microphone's audio overflowed {times} (the computer did not keep up), "
        "so some speech was dropped and the transcript may miss words"
    )
