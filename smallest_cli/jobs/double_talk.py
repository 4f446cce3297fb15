"""Barge-in: is the microphone hearing the user, or only the assistant's own voice?

While an answer plays, the audio sent to the speakers is the echo reference
(`EchoReference`). Each 50 ms microphone frame is checked against the last 1.5 s of it
in two ways (numpy only):

- the waveform: the best single delay and gain (cross-correlation by FFT) says how much
  of the frame a delayed, scaled copy of the reference explains (`echo_fit`). The echo
  alone leaves little; a voice on top of it leaves about its own share.
- the spectrum, for frames the waveform leaves unexplained: the echo that comes back
  stretched or with small gaps (playback that ran dry a moment under load, a sound
  server's resampling) no longer matches sample by sample, but its spectrum still
  matches the reference's somewhere in the window. A voice on top brings energy, in some
  bands, that no stretch of the reference has (`spectral_excess`).

A frame is the user's when both say so; `BargeIn` fires once `TRIGGER_FRAMES` of the last
`WINDOW_FRAMES` frames are (100 ms of speech: well inside the 300 ms a listener
tolerates, while a single odd frame of echo never is enough).

This handles what comes back unchanged and delayed (a sound server whose monitor is the
microphone, or a headset's sidetone) and a plain loudspeaker in a quiet room; a
reverberant room colours the echo more than one gain can model, which is what
`talk --half-duplex` is for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FRAME_SECONDS = 0.05
MAX_DELAY_SECONDS = 1.5  # playback to microphone: output buffer, the room, input buffer
KEEP_SECONDS = 3.0
SPEECH_FLOOR = 0.01  # RMS (full scale 1.0): quieter frames are not anyone speaking
UNEXPLAINED = 0.3  # share of a frame's energy the echo's waveform must leave to the user
CLEAN_FIT = 0.1  # a frame the echo explains this well teaches the echo's gain
SPECTRAL_EXCESS = 0.05  # share of a frame's energy no stretch of the reference has
BAND_COUNT = 16  # the spectrum in bands of 500 Hz (at 16 kHz): a voice's formants
BAND_HEADROOM = 1.5  # how much louder than the reference a band of echo may come back
SPECTRUM_STEP_SECONDS = 0.005  # between the stretches of reference compared
SPECTRUM_SLACK_SECONDS = 0.06  # how far the echo may have strayed from where it was
TRIGGER_FRAMES = 3  # frames of the user's speech among the last WINDOW_FRAMES
WINDOW_FRAMES = 4
DRY_TOLERANCE_SECONDS = 0.02  # audio sent this late after the last ran out: a gap
DRY_GRACE_SECONDS = 0.5  # after a gap the echo is broken: the sound path's lag and more


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
        self._due: float | None = None  # when what was sent so far will have been played
        self.ran_dry_at: float | None = None  # time.monotonic() when playback last ran dry

    def played(self, pcm: bytes, now: float | None = None) -> None:
        """`pcm` went to the speakers (at `now`, time.monotonic() by default). Sent after
        all before it had been played, playback ran dry in between: the echo then has a
        gap the reference has not."""
        import numpy as np

        now = time.monotonic() if now is None else now
        samples = samples_of(pcm)
        new = samples[-self._size :]
        with self._lock:
            if self._due is not None and now > self._due + DRY_TOLERANCE_SECONDS:
                self.ran_dry_at = now
            self._due = max(now, self._due or now) + len(samples) / self.sample_rate
            self._buffer = np.concatenate([self._buffer[len(new) :], new])

    def quiet(self) -> None:
        """Nothing is playing any more."""
        import numpy as np

        with self._lock:
            self._buffer = np.zeros(self._size)
            self._due = None

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
    )


def band_energies(frames: npt.NDArray[np.float64], bands: int) -> npt.NDArray[np.float64]:
    """Each row's windowed power spectrum summed into `bands` equal bands."""
    import numpy as np

    size = 1 << (frames.shape[-1] - 1).bit_length()
    power = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[-1]), size)) ** 2
    usable = power[..., : size // 2 // bands * bands]
    summed: npt.NDArray[np.float64] = usable.reshape(*usable.shape[:-1], bands, -1).sum(-1)
    return summed


def spectral_excess(
    mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64], gain: float, step: int
) -> float:
    """The share of `mic`'s energy, band by band, that even the best-matching stretch of
    `reference` (every `step` samples, scaled by the echo's `gain`) cannot account for."""
    import numpy as np

    n = len(mic)
    if len(reference) < n:
        return 1.0
    heard = band_energies(mic, BAND_COUNT)
    total = float(heard.sum())
    if total <= 0.0:
        return 0.0
    stretches = np.lib.stride_tricks.sliding_window_view(reference, n)[::step]
    echo = BAND_HEADROOM * gain**2 * band_energies(stretches, BAND_COUNT)
    left = np.maximum(0.0, heard[None, :] - echo).sum(axis=1)
    return float(left.min()) / total


def around(
    reference: npt.NDArray[np.float64], delay: int, n: int, slack: int
) -> npt.NDArray[np.float64]:
    """The stretch of `reference` an echo `delay` samples back (n long) could come from,
    give or take `slack` samples."""
    start = max(0, len(reference) - delay - slack)
    return reference[start : len(reference) - delay + n + slack]


class BargeIn:
    """Feed it the microphone while an answer plays; `hear` says when the user cut in."""

    def __init__(self, reference: EchoReference) -> None:
        self.reference = reference
        rate = reference.sample_rate
        self._frame = int(rate * FRAME_SECONDS)
        self._window = self._frame + int(rate * MAX_DELAY_SECONDS)
        self._step = max(1, int(rate * SPECTRUM_STEP_SECONDS))
        self._slack = int(rate * SPECTRUM_SLACK_SECONDS)
        self._pending = b""
        self._recent: list[bool] = []  # the last frames: the user's or not
        self._echo_gain: float | None = None  # learnt from frames the echo explains well
        self._echo_delay: int | None = None  # likewise

    def hear(self, pcm: bytes, now: float | None = None) -> bool:
        """True once the user has been speaking over the answer long enough (heard at
        `now`, time.monotonic() by default)."""
        import numpy as np

        now = time.monotonic() if now is None else now
        dry = self.reference.ran_dry_at
        broken = dry is not None and now - dry < DRY_GRACE_SECONDS

        data = self._pending + pcm
        step = self._frame * 2
        whole = len(data) - len(data) % step
        self._pending = data[whole:]
        for start in range(0, whole, step):
            mic = samples_of(data[start : start + step])
            loud = float(np.sqrt(np.mean(mic**2))) >= SPEECH_FLOOR
            user = loud and self._is_user(mic, self.reference.recent(self._window)) and not broken
            self._recent = [*self._recent, user][-WINDOW_FRAMES:]
            if sum(self._recent) >= TRIGGER_FRAMES:
                self.reset()
                return True
        return False

    def _is_user(self, mic: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]) -> bool:
        """Neither the echo's waveform nor its spectrum accounts for the frame."""
        fit = echo_fit(mic, reference)
        if fit.share < CLEAN_FIT:
            seen = abs(fit.gain)
            self._echo_gain = (
                seen if self._echo_gain is None else 0.8 * self._echo_gain + 0.2 * seen
            )
            self._echo_delay = fit.delay
        if fit.share <= UNEXPLAINED:
            return False
        gain = 1.0 if self._echo_gain is None else self._echo_gain
        delays = {fit.delay} if self._echo_delay is None else {fit.delay, self._echo_delay}
        return all(
            spectral_excess(mic, around(reference, delay, len(mic), self._slack), gain, self._step)
            > SPECTRAL_EXCESS
            for delay in delays
        )

    def reset(self) -> None:
        self._pending = b""
        self._recent = []
