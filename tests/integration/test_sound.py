"""The sound path CI provides: PortAudio → PulseAudio's clocked null sink → its monitor.

Later commands play and record through exactly this, so the setup is proven here first:
a tone played on the default output comes back on the default input, in real time.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration

RATE = 48_000


def test_a_tone_played_comes_back_on_the_monitor_in_real_time(sd) -> None:
    import numpy as np

    seconds = 1.5
    t = np.arange(int(RATE * seconds)) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    started = time.monotonic()
    recorded = sd.playrec(tone, samplerate=RATE, channels=1, dtype="float32", blocking=True)[:, 0]
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed <= 2.5, f"playback was not real time: {elapsed:.2f} s for {seconds} s"
    tail = recorded[int(RATE * 0.5) :]  # past the loopback latency
    assert float(np.sqrt(np.mean(tail**2))) > 0.1, "the monitor heard silence"
    spectrum = np.abs(np.fft.rfft(tail))
    peak_hz = np.fft.rfftfreq(len(tail), 1 / RATE)[int(np.argmax(spectrum))]
    assert abs(peak_hz - 440) < 5, f"heard {peak_hz:.0f} Hz instead of 440 Hz"
