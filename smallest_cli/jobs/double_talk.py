"""Barge-in: is the microphone hearing the user, or only the assistant's own voice?

While an answer plays, the audio sent to the speakers is the echo reference
(`EchoReference`). Each short microphone frame is compared with the recent reference:
the best single delay and gain (found by cross-correlation, numpy FFT) says how much of
the frame the echo explains. A frame is the user's when it is loud enough to be speech
and the echo explains less than half of it; `BargeIn` fires after
`TRIGGER_SECONDS` of such frames in a row, well inside the 300 ms a listener tolerates.

This handles what comes back unchanged and delayed (a sound server whose monitor is the
microphone, or a headset's sidetone) and a plain loudspeaker in a quiet room; a
reverberant room colours the echo more than one gain can model, which is what
`talk --half-duplex` is for.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FRAME_SECONDS = 0.05
MAX_DELAY_SECONDS = 1.5  # playback to microphone: output buffer, the room, input buffer
KEEP_SECONDS = 3.0
SPEECH_FLOOR = 0.01  # RMS (full scale 1.0): quieter frames are not anyone speaking
UNEXPLAINED = 0.5  # share of a frame's energy the echo must leave for it to be the user
TRIGGER_SECONDS = 0.15


def samples_of(pcm: bytes) -> npt.NDArray[np.float64]:
    """16-bit PCM as floats in [-1, 1)."""
    import numpy as np

    usable = pcm[: len(pcm) - len(pcm) % 2]
    return np.frombuffer(usable, dtype="<i2").astype(np.float64) / 32768.0


class EchoReference:
    """The last seconds of what was sent to the speakers (thread-safe)."""

    def __init__(self, sample_rate: int, seconds: float = KEEP_SECONDS) -> None:
        import numpy as np

        self.sample_rate = sample_rate
        self._size = int(sample_rate * seconds)
        self._buffer = np.zeros(self._size)
        self._lock = threading.Lock()

    def played(self, pcm: bytes) -> None:
        import numpy as np

        new = samples_of(pcm)[-self._size :]
        with self._lock:
            self._buffer = np.concatenate([self._buffer[len(new) :], new])

    def quiet(self) -> None:
        """Nothing is playing any more."""
        import numpy as np

        with self._lock:
            self._buffer = np.zeros(self._size)

    def recent(self, count: int) -> npt.NDArray[np.float64]:
        with self._lock:
            window: npt.NDArray[np.float64] = self._buffer[-count:].copy()
        return window


def unexplained_share(mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]) -> float:
    """The share of `mic`'s energy left once the best delayed, scaled copy of `reference`
    is taken away (1.0: the reference explains none of it)."""
    import numpy as np

    n = len(mic)
    energy = float(np.dot(mic, mic))
    if energy <= 0.0:
        return 0.0
    if len(reference) < n or float(np.dot(reference, reference)) <= 1e-9:
        return 1.0
    size = 1 << (len(reference) + n).bit_length()
    spectrum = np.fft.rfft(reference, size) * np.conj(np.fft.rfft(mic, size))
    lags = len(reference) - n + 1
    products = np.fft.irfft(spectrum, size)[:lags]  # sum(mic[i] * reference[k + i])
    sums = np.concatenate([[0.0], np.cumsum(reference**2)])
    window_energy = np.maximum(sums[n:] - sums[:-n], 1e-12)[:lags]
    explained = float(np.max(products**2 / window_energy))
    return max(0.0, 1.0 - explained / energy)


class BargeIn:
    """Feed it the microphone while an answer plays; `hear` says when the user cut in."""

    def __init__(self, reference: EchoReference) -> None:
        self.reference = reference
        rate = reference.sample_rate
        self._frame = int(rate * FRAME_SECONDS)
        self._window = self._frame + int(rate * MAX_DELAY_SECONDS)
        self._needed = max(1, round(TRIGGER_SECONDS / FRAME_SECONDS))
        self._pending = b""
        self._run = 0

    def hear(self, pcm: bytes) -> bool:
        """True once the user has been speaking over the answer long enough."""
        import numpy as np

        data = self._pending + pcm
        step = self._frame * 2
        whole = len(data) - len(data) % step
        self._pending = data[whole:]
        for start in range(0, whole, step):
            mic = samples_of(data[start : start + step])
            loud = float(np.sqrt(np.mean(mic**2))) >= SPEECH_FLOOR
            reference = self.reference.recent(self._window)
            if loud and unexplained_share(mic, reference) > UNEXPLAINED:
                self._run += 1
            else:
                self._run = 0
            if self._run >= self._needed:
                self.reset()
                return True
        return False

    def reset(self) -> None:
        self._pending = b""
        self._run = 0
