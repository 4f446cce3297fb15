"""When the user's turn ends: from realtime STT events, and from a recording's silences."""

from __future__ import annotations

import numpy as np
import pytest

from smallest_cli.api.stt_live import SpeechEvent, Transcription
from smallest_cli.jobs.turns import TurnDetector, split_at_silences
from smallest_cli.words import Word


def partial(text: str) -> Transcription:
    return Transcription(text=text, is_final=False)


def final(text: str) -> Transcription:
    return Transcription(text=text, is_final=True)


def test_a_turn_ends_after_a_final_and_the_pause() -> None:
    turns = TurnDetector(pause=0.5)
    turns.hear(partial("what is"), 0.8)
    turns.hear(final("What is the time?"), 1.0)
    assert turns.turn(1.2) is None
    assert turns.turn(1.3) == "What is the time?"  # the pause counts from the last words
    assert turns.turn(2.0) is None  # given once


def test_a_final_after_the_pause_ends_the_turn_at_once() -> None:
    turns = TurnDetector(pause=0.5)
    turns.hear(partial("what is"), 0.2)
    turns.hear(final("What is the time?"), 0.9)  # the API's own silence timer fired
    assert turns.turn(0.9) == "What is the time?"


def test_with_word_times_the_pause_is_counted_on_the_audio_sent() -> None:
    turns = TurnDetector(pause=0.5)
    words = [Word("time", 1.0, 1.4)]
    turns.hear(Transcription(text="what time", is_final=False, words=words), 0.1)
    turns.hear(Transcription(text="What time?", is_final=True, words=words), 0.2)
    assert turns.left(5.0, audio=1.7) == pytest.approx(
        0.2
    )  # late arrivals do not count: the audio does
    assert turns.turn(5.0, audio=1.7) is None
    assert turns.turn(0.3, audio=1.9) == "What time?"


def test_words_without_a_final_long_after_the_pause_ask_for_one_once() -> None:
    turns = TurnDetector(pause=0.5)
    turns.hear(partial("what time"), 1.0)
    assert not turns.stalled(2.0)
    assert turns.stalled(2.6)
    assert not turns.stalled(3.0)  # asked already
    turns.hear(final("What time?"), 3.1)
    assert turns.turn(3.1) == "What time?"
    assert not turns.stalled(9.0)


def test_speech_after_a_final_keeps_the_turn_open_and_joins_the_finals() -> None:
    turns = TurnDetector(pause=0.5)
    turns.hear(final("Tell me a story."), 1.0)
    turns.hear(partial("about"), 1.3)
    assert turns.turn(5.0) is None  # still speaking: no final yet
    turns.hear(final("About a cat."), 5.0)
    assert turns.turn(5.6) == "Tell me a story. About a cat."


def test_vad_speech_started_holds_the_turn() -> None:
    turns = TurnDetector(pause=0.5)
    turns.hear(final("Hello."), 1.0)
    turns.hear(SpeechEvent("speech_started", 1.2), 1.2)
    assert turns.turn(3.0) is None


def test_empty_finals_are_no_turn_and_reset_forgets() -> None:
    turns = TurnDetector(pause=0.1)
    turns.hear(final(""), 1.0)
    assert turns.turn(2.0) is None
    turns.hear(final("echo of the assistant"), 2.0)
    turns.reset()
    assert turns.turn(3.0) is None


def tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * 220 * t)


def pcm(*parts: np.ndarray) -> bytes:
    return (np.concatenate(parts) * 32767).astype("<i2").tobytes()


def test_a_recording_is_split_at_long_silences_only() -> None:
    rate = 16000
    gap = np.zeros(rate)  # 1 s
    breath = np.zeros(rate // 5)  # 0.2 s: inside a turn
    audio = pcm(gap, tone(1.0), breath, tone(0.5), gap, tone(0.8), gap)
    segments = split_at_silences(audio, rate, pause=0.6)
    assert len(segments) == 2
    first, second = segments
    assert abs(first.start - 0.9) < 0.05 and abs(first.end - 2.8) < 0.05
    assert abs(second.start - 3.6) < 0.05 and abs(second.end - 4.6) < 0.05
    assert len(first.pcm) == round((first.end - first.start) * rate) * 2


def test_silence_and_clicks_are_no_turn() -> None:
    rate = 16000
    assert split_at_silences(pcm(np.zeros(rate)), rate) == []
    assert split_at_silences(pcm(np.zeros(rate), tone(0.04), np.zeros(rate)), rate) == []
