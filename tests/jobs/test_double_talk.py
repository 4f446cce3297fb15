"""Barge-in: the user's voice over the answer stops it; the answer's own echo does not."""

from __future__ import annotations

import numpy as np

from smallest_cli.jobs.double_talk import BargeIn, EchoReference, unexplained_share

RATE = 16000


def speechlike(seconds: float, seed: int) -> np.ndarray:
    """Noise shaped by a syllable-rate envelope: broadband and varying, like a voice."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = 0.5 + 0.5 * np.abs(np.sin(2 * np.pi * 3 * t + seed))
    return 0.2 * envelope * rng.standard_normal(len(t))


def as_pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 0.999) * 32768).astype("<i2").tobytes()


def echo_of(answer: np.ndarray, delay: float, gain: float) -> np.ndarray:
    shift = int(delay * RATE)
    return gain * np.concatenate([np.zeros(shift), answer[:-shift]])


def first_barge_in(answer: np.ndarray, mic: np.ndarray) -> float | None:
    """Plays `answer` and hears `mic` 50 ms at a time, as they happen together; when the
    barge-in fired (seconds), or None."""
    reference = EchoReference(RATE)
    barge_in = BargeIn(reference)
    for start in range(0, len(mic), 800):
        reference.played(as_pcm(answer[start : start + 800]))
        if barge_in.hear(as_pcm(mic[start : start + 800])):
            return (start + 800) / RATE
    return None


def test_the_echo_alone_is_explained_by_the_reference() -> None:
    answer = speechlike(1.0, seed=1)
    mic = echo_of(answer, 0.2, 0.7)[-800:]
    assert unexplained_share(mic, answer) < 0.05


def test_another_voice_is_not_explained() -> None:
    answer = speechlike(1.0, seed=1)
    user = speechlike(1.0, seed=2)
    assert unexplained_share(user[-800:], answer) > 0.9


def test_the_answer_coming_back_into_the_microphone_is_no_barge_in() -> None:
    answer = speechlike(3.0, seed=1)
    assert first_barge_in(answer, echo_of(answer, 0.25, 0.8)) is None


def test_the_user_speaking_over_the_echo_is_a_barge_in_within_300_ms() -> None:
    answer = speechlike(3.0, seed=1)
    user = np.concatenate([np.zeros(RATE), speechlike(2.0, seed=3)])  # starts at 1 s
    fired = first_barge_in(answer, echo_of(answer, 0.25, 0.8) + user)
    assert fired is not None
    assert 1.0 < fired <= 1.3


def test_speech_while_nothing_plays_is_the_user_and_silence_is_not() -> None:
    quiet = EchoReference(RATE)
    assert BargeIn(quiet).hear(as_pcm(speechlike(0.3, seed=4))) is True
    assert BargeIn(quiet).hear(as_pcm(np.zeros(RATE))) is False
