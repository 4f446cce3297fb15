"""The emulator's synthetic voice: what it says can be heard back through any codec."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.speech import (
    Synthesis,
    VoiceTimbre,
    decode_word,
    encode_word,
    listen,
    resample,
    spoken_form,
    words_of,
)
from tests.shared import shared_path

TEXT = "Modern problems require modern solutions. Hello, world! 13 lazy dogs — नमस्ते दुनिया. It's 25th of $100."


def heard(samples: np.ndarray, rate: int) -> str:
    return " ".join(h.text or "?" for h in listen(samples, rate))


def through(pcm: np.ndarray, rate: int, fmt: str, subtype: str) -> tuple[np.ndarray, int]:
    if fmt == "RAW":  # telephony codecs run at 8 kHz
        pcm, rate = (resample(pcm / 32768, rate, 8000) * 32767).astype(np.int16), 8000
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format=fmt, subtype=subtype)
    buffer.seek(0)
    if fmt == "RAW":
        return sf.read(
            buffer, dtype="int16", format="RAW", subtype=subtype, samplerate=rate, channels=1
        )
    return sf.read(buffer, dtype="int16")


CODECS = [
    ("WAV", "PCM_16"),
    ("MP3", "MPEG_LAYER_III"),
    ("OGG", "VORBIS"),
    ("OGG", "OPUS"),
    ("FLAC", "PCM_16"),
    ("RAW", "ULAW"),
    ("RAW", "ALAW"),
]


# Opus has no 44.1 kHz mode, so that one pairing does not exist.
COMBINATIONS = [
    (r, c) for r in (8000, 16000, 24000, 44100) for c in CODECS if (r, c[1]) != (44100, "OPUS")
]


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
@pytest.mark.parametrize(("rate", "codec"), COMBINATIONS)
def test_words_survive_every_rate_speed_and_codec(
    rate: int, codec: tuple[str, str], speed: float
) -> None:
    fmt, subtype = codec
    pcm = np.frombuffer(Synthesis(TEXT, sample_rate=rate, speed=speed).pcm(), dtype=np.int16)
    samples, heard_rate = through(pcm, rate, fmt, subtype)
    assert heard(samples, heard_rate) == spoken_form(TEXT)


def test_resampling_on_the_way_in() -> None:
    pcm = np.frombuffer(Synthesis(TEXT, sample_rate=44100).pcm(), dtype=np.int16)
    for target in (16000, 22050, 48000):
        assert heard(resample(pcm / 32768, 44100, target), target) == spoken_form(TEXT)


def test_timings_match_what_is_heard() -> None:
    synthesis = Synthesis(TEXT, sample_rate=24000, timbre=VoiceTimbre.for_voice("meher", "female"))
    planned = synthesis.timings()
    got = listen(np.frombuffer(synthesis.pcm(), dtype=np.int16), 24000)
    assert len(got) == len(planned)
    for h, t in zip(got, planned, strict=True):
        assert abs(h.start - t.start) < 0.015 and abs(h.end - t.end) < 0.02
    assert [t.word.written for t in planned][-1] == "$100."  # exact input substrings


def test_duration_grows_with_text_and_shrinks_with_speed() -> None:
    short = Synthesis("Hello there.", sample_rate=16000)
    long = Synthesis("Hello there. " * 5, sample_rate=16000)
    fast = Synthesis("Hello there. " * 5, sample_rate=16000, speed=1.5)
    assert short.duration < long.duration
    assert fast.duration < long.duration * 0.8
    # about as fast as real speech: 41 characters took the real service 2.7 s
    assert (
        2.0
        < Synthesis("Modern problems require modern solutions.", sample_rate=24000).duration
        < 3.5
    )


def test_deterministic_speech_shaped_and_never_silent() -> None:
    one = Synthesis(TEXT, sample_rate=24000).pcm()
    assert one == Synthesis(TEXT, sample_rate=24000).pcm()
    samples = np.frombuffer(one, dtype=np.int16).astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 2000
    assert np.abs(samples).max() < 32767  # no clipping
    assert np.abs(np.diff(samples)).max() < 12000  # no clicks: continuous phase, soft edges
    other_voice = Synthesis(
        TEXT, sample_rate=24000, timbre=VoiceTimbre.for_voice("liam", "male")
    ).pcm()
    assert other_voice != one


def test_scrambled_audio_says_nothing() -> None:
    pcm = np.frombuffer(Synthesis(TEXT, sample_rate=24000, scramble=True).pcm(), dtype=np.int16)
    assert [h.text for h in listen(pcm, 24000)] == [None] * len(spoken_form(TEXT).split())


def test_code_round_trip_and_rejection() -> None:
    for word in ["a", "hello", "$100", "नमस्ते", "東京", "naïve"]:
        assert decode_word(encode_word(word)) == word
    tones = encode_word("hello")
    assert decode_word(tones[:-2]) is None
    assert decode_word([(t + 1) % 19 for t in tones]) is None


def test_words_of_keeps_written_form_and_sentence_ends() -> None:
    words = words_of("Hi, Dr. Smith! 'Quoted' — ok?")
    assert [(w.written, w.spoken, w.ends_sentence) for w in words] == [
        ("Hi,", "hi", False),
        ("Dr.", "dr", True),
        ("Smith!", "smith", True),
        ("'Quoted'", "quoted", False),
        ("—", "", False),
        ("ok?", "ok", True),
    ]


@pytest.mark.parametrize(
    "name", ["stt-sample-audio.wav", "pulse-feature-demo.wav", "tts-sample-hello.wav"]
)
def test_real_speech_is_segmented_but_never_misread(name: str) -> None:
    samples, rate = sf.read(shared_path("audio", name), dtype="int16", always_2d=True)
    segments = listen(samples[:, 0], rate)
    seconds = len(samples) / rate
    assert 1.0 < len(segments) / seconds < 5.0  # syllable-ish stretches of speech
    assert all(h.text is None for h in segments)
    assert all(0 <= h.start < h.end <= seconds for h in segments)
