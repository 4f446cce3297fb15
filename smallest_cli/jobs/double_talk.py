"""Barge-in: is the microphone hearing the user, or only the assistant's own voice?

While an answer plays, the audio sent to the speakers is the echo reference
(`EchoReference`). Each short microphone frame is compared with the recent reference:
the best single delay and gain (found by cross-correlation, numpy FFT) says how much of
the frame the echo explains. A frame is the user's when it is loud enough to be speech,
the echo explains less than half of it, and it is louder than the echo could be (the
echo's gain is learnt from the frames it explains well; a frame the echo explains badly
but that is no louder is the echo with a jump in it, when playback ran dry); `BargeIn` fires after
`TRIGGER_SECONDS` of such frames (one frame between them may be a pause
between words), well inside the 300 ms a listener tolerates.

This handles what comes back unchanged and delayed (a sound server whose monitor is the
microphone, or a headset's sidetone) and a plain loudspeaker in a quiet room; a
reverberant room colours the echo more than one gain can model, which is what
`talk --half-duplex` is for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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
CLEAN_FIT = 0.1  # a frame the echo explains this well teaches the echo's gain
LOUDER_THAN_ECHO = 1.2  # energy over the loudest echo the reference could bring
DELAY_SLACK_SECONDS = 0.05  # how far the echo's delay may have moved since it was learnt


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
    return echo_fit(mic, reference).share


@dataclass(frozen=True)
class EchoFit:
    """How well a delayed, scaled copy of the reference explains a microphone frame."""

    share: float  # of the frame's energy left unexplained (1.0: none explained)
    gain: float = 0.0
    delay: int = 0  # samples from the end of the reference window to the echo's start
    energies: tuple[float, ...] = ()  # the reference's energy at each delay


def echo_fit(mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]) -> EchoFit:
    """The best single delay and gain for `mic` in `reference` (cross-correlation by FFT)."""
    import numpy as np

    n = len(mic)
    energy = float(np.dot(mic, mic))
    if energy <= 0.0:
        return EchoFit(0.0)
    if len(reference) < n or float(np.dot(reference, reference)) <= 1e-9:
        return EchoFit(1.0)
    size = 1 << (len(reference) + n).bit_length()
    spectrum = np.fft.rfft(reference, size) * np.conj(np.fft.rfft(mic, size))
    lags = len(reference) - n + 1
    products = np.fft.irfft(spectrum, size)[:lags]  # sum(mic[i] * reference[k + i])
    sums = np.concatenate([[0.0], np.cumsum(reference**2)])
    window_energy = np.maximum(sums[n:] - sums[:-n], 1e-12)[:lags]
    explained = products**2 / window_energy
    best = int(np.argmax(explained))
    return EchoFit(
        share=max(0.0, 1.0 - float(explained[best]) / energy),
        gain=float(products[best] / window_energy[best]),
        delay=len(reference) - best,
        energies=tuple(window_energy[::-1].tolist()),  # [i]: the window i + n samples back
    )


class BargeIn:
    """Feed it the microphone while an answer plays; `hear` says when the user cut in."""

    def __init__(self, reference: EchoReference) -> None:
        self.reference = reference
        rate = reference.sample_rate
        self._frame = int(rate * FRAME_SECONDS)
        self._window = self._frame + int(rate * MAX_DELAY_SECONDS)
        self._needed = max(1, round(TRIGGER_SECONDS / FRAME_SECONDS))
        self._pending = b""
        self._recent: list[bool] = []  # the last frames: the user's or not
        self._echo_gain: float | None = None  # learnt from frames the echo explains well
        self._delay: int | None = None  # likewise

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
            user = loud and self._is_user(mic, self.reference.recent(self._window))
            self._recent = [*self._recent, user][-(self._needed + 1) :]
            if sum(self._recent) >= self._needed:
                self.reset()
                return True
        return False

    def _is_user(self, mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]) -> bool:
        """The echo leaves most of the frame unexplained, and the frame is louder than the
        echo could be. (A frame the echo explains badly but that is no louder is the echo
        with a jump in it: playback that ran dry for a moment.)"""
        import numpy as np

        fit = echo_fit(mic, reference)
        if fit.share < CLEAN_FIT:
            seen = abs(fit.gain)
            self._echo_gain = (
                seen if self._echo_gain is None else 0.8 * self._echo_gain + 0.2 * seen
            )
            self._delay = fit.delay
        if fit.share <= UNEXPLAINED:
            return False
        return float(np.dot(mic, mic)) > LOUDER_THAN_ECHO * self._expected(fit, len(mic))

    def _expected(self, fit: EchoFit, n: int) -> float:
        """The most energy the echo can bring into this frame: the reference around the
        echo's delay (as last learnt), scaled by its gain."""
        if not fit.energies:
            return 0.0
        gain = 1.0 if self._echo_gain is None else self._echo_gain
        if self._delay is None:
            return gain**2 * max(fit.energies)
        # energies[i] is the window that starts i + n samples before the reference's end
        centre = self._delay - n
        slack = int(self.reference.sample_rate * DELAY_SLACK_SECONDS)
        nearby = fit.energies[max(0, centre - slack) : centre + slack + 1] or fit.energies
        return gain**2 * max(nearby)

    def reset(self) -> None:
        self._pending = b""
        self._recent = []
