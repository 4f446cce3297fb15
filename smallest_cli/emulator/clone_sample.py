"""What the emulator hears in a voice-clone upload: whether it holds a voice, and its pitch.

The sample is decoded like an STT upload (`stt_audio.decode_file`) and cut into 40 ms frames
every 20 ms. A frame's pitch is the peak of its 60–400 Hz autocorrelation (the band the
STT's diarization reads); a frame is voiced when it is loud (above 0.003 RMS and a tenth of
the loud end of the sample), its peak holds at least half the frame's energy, and its pitch
is within 0.1 octave of a neighbour's. The sample holds a voice when at least 0.5 s and a
fifth of its loud frames are voiced and its level moves by 6 dB or more (speech has
syllables and pauses; hum and noise are steady). Its pitch is the median over the voiced
frames. A silent sample (nothing above 0.003 RMS) or a noise-only one holds no voice: the
clone fails, as the live service fails a sample with no clean speech (REFERENCE §8.1).

M4A and WebM are accepted by the live service but cannot be decoded here (see
`stt_audio`): such a sample is taken as a voice whose pitch comes from the bytes' hash.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from smallest_cli.emulator.stt_audio import UnsupportedContainer, decode_file

FRAME_SECONDS = 0.040
STEP_SECONDS = 0.020
SILENCE_RMS = 0.003
MIN_VOICED_SECONDS = 0.5
MIN_VOICED_SHARE = 0.2
MIN_LEVEL_SPREAD_DB = 6.0
CONTINUITY_OCTAVES = 0.1
LOW_HZ, HIGH_HZ = 60.0, 400.0
PITCH_RANGE_HZ = (70.0, 300.0)  # a clone's hum stays where the STT's ear finds a pitch


@dataclass(frozen=True)
class SampleVoice:
    """What a sample holds: the voice's pitch in Hz, or None (silence or noise only)."""

    pitch_hz: float | None
    seconds: float


def analyse(body: bytes) -> SampleVoice:
    """The voice in an uploaded sample; `stt_audio.AudioError` when it does not decode."""
    try:
        decoded = decode_file(io.BytesIO(body))
    except UnsupportedContainer:
        spread = hashlib.sha1(body).digest()[0] / 255
        return SampleVoice(PITCH_RANGE_HZ[0] + spread * 150.0, 0.0)
    blocks = list(decoded.blocks)
    samples = np.concatenate(blocks).astype(np.float64) if blocks else np.zeros(0)
    return SampleVoice(
        voice_pitch(samples, decoded.sample_rate), len(samples) / decoded.sample_rate
    )


def voice_pitch(samples: np.ndarray, rate: int) -> float | None:
    """The median pitch of the voiced frames of mono float audio, None if it holds no voice."""
    frame, step = int(FRAME_SECONDS * rate), int(STEP_SECONDS * rate)
    if len(samples) < frame:
        return None
    count = 1 + (len(samples) - frame) // step
    frames = samples[np.arange(frame)[None, :] + step * np.arange(count)[:, None]]
    rms = np.sqrt(np.mean(frames**2, axis=1))
    if float(rms.max()) < SILENCE_RMS:
        return None
    loud = rms > max(SILENCE_RMS, 0.1 * float(np.percentile(rms, 95)))
    pitch, strength = _frame_pitches(frames, rate)
    steps = np.abs(np.diff(np.log2(pitch)))
    steady = np.zeros(count, dtype=bool)
    steady[1:] |= steps < CONTINUITY_OCTAVES
    steady[:-1] |= steps < CONTINUITY_OCTAVES
    voiced = loud & (strength > 0.5) & steady
    level = 20 * np.log10(np.maximum(rms, 1e-6))
    spread = float(np.percentile(level, 90) - np.percentile(level, 10))
    enough = voiced.sum() * STEP_SECONDS >= MIN_VOICED_SECONDS
    if not enough or voiced.sum() < MIN_VOICED_SHARE * loud.sum() or spread < MIN_LEVEL_SPREAD_DB:
        return None
    return float(np.clip(np.median(pitch[voiced]), *PITCH_RANGE_HZ))


def _frame_pitches(frames: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's pitch (Hz) and the share of its band energy the pitch's lag holds."""
    centred = frames - frames.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * centred.shape[1])))
    spectrum = np.fft.rfft(centred, size, axis=1)
    hz = np.fft.rfftfreq(size, 1 / rate)
    spectrum[:, (hz < LOW_HZ) | (hz > HIGH_HZ)] = 0
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, size, axis=1)[:, : centred.shape[1]]
    low, high = int(rate / HIGH_HZ), min(int(rate / LOW_HZ), centred.shape[1] - 1)
    lags = low + np.argmax(correlation[:, low:high], axis=1)
    peak = correlation[np.arange(len(correlation)), lags]
    return rate / lags, peak / np.maximum(correlation[:, 0], 1e-12)
