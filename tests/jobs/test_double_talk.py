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


def with_dropouts(echo: np.ndarray, every: float, gap: float) -> np.ndarray:
    """The echo as it comes back when playback runs dry for `gap` seconds every `every`:
    silence inserted, the rest of the echo later by as much each time."""
    parts, step, silence = [], int(every * RATE), np.zeros(int(gap * RATE))
    for start in range(0, len(echo), step):
        parts += [echo[start : start + step], silence]
    return np.concatenate(parts)[: len(echo)]


def test_an_echo_with_dropouts_is_no_barge_in() -> None:
    answer = speechlike(4.0, seed=5)
    echo = with_dropouts(echo_of(answer, 0.17, 1.0), every=0.13, gap=0.004)
    assert first_barge_in(answer, echo) is None


def test_the_user_at_the_answers_own_level_over_a_broken_echo_barges_in_within_300_ms() -> None:
    answer = speechlike(4.0, seed=5)
    echo = with_dropouts(echo_of(answer, 0.17, 1.0), every=0.13, gap=0.004)
    user = np.concatenate([np.zeros(2 * RATE), speechlike(2.0, seed=6)])  # starts at 2 s
    fired = first_barge_in(answer, echo + user)
    assert fired is not None
    assert 2.0 < fired <= 2.3


def test_right_after_playback_ran_dry_the_broken_echo_is_no_barge_in() -> None:
    reference = EchoReference(RATE)
    answer = speechlike(1.0, seed=7)
    reference.played(as_pcm(answer[:8000]), now=100.0)  # half a second, played by 100.5
    reference.played(as_pcm(answer[8000:]), now=100.8)  # late: 0.3 s of silence came out
    assert reference.ran_dry_at == 100.8
    noise = as_pcm(3 * speechlike(0.3, seed=8))  # louder than anything the answer has
    assert BargeIn(reference).hear(noise, now=101.0) is False
    assert BargeIn(reference).hear(noise, now=101.5) is True
