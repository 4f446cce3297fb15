"""Speech-like test audio for voice-cloning samples (no ../shared needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile


def speechy(seconds: float, rate: int = 24000, lead: float = 0.0, tail: float = 0.0) -> Any:
    """Syllable-like bursts (a 0.22 s tone, 0.13 s pause) with silence before and after."""
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.4 * np.sin(2 * np.pi * 180 * t) * ((t % 0.35) < 0.22)
    return np.concatenate([np.zeros(int(lead * rate)), voice, np.zeros(int(tail * rate))])


def write(path: Path, samples: Any, rate: int = 24000, **kw: Any) -> str:
    soundfile.write(str(path), samples, rate, **kw)
    return str(path)
