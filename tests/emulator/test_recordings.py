"""Known recordings, known transcripts: the emulator recognises a recording it was given
(`emulator serve --transcripts DIR`) by what it sounds like, in any container, rate or codec,
uploaded or streamed, and answers with its text; all other audio keeps the synthetic
transcripts. The fixtures are the vendor's recordings with their documented transcripts
(tests/known_recordings.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from smallest_cli.audio.resample import resample
from smallest_cli.emulator.recordings import Recordings, RecordingsError, timed, words_of
from smallest_cli.emulator.speech import Synthesis, spoken_form
from smallest_cli.emulator.stt_text import VOCABULARY
from tests.conftest import TEST_KEY
from tests.emulator.test_stt_ws import finals, stream
from tests.known_recordings import (
    ENCODINGS,
    NAMES,
    TRANSCRIPTS,
    plain,
    recording,
    reencoded,
    samples,
    transcripts_dir,
)

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
STT = "/waves/v1/stt/"
PULSE = "/waves/v1/pulse/get_text"
TIMED = "model=pulse&language=en&word_timestamps=true"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Recordings:
    recording(NAMES[0])  # skips the module's tests when ../shared/audio is absent
    return Recordings.load(transcripts_dir(tmp_path_factory.mktemp("known")))


@pytest.fixture
def http(emulator, loaded: Recordings) -> Iterator[httpx.Client]:
    """A client of the session's emulator, which knows the three recordings meanwhile."""
    emulator.state.recordings = loaded
    try:
        with httpx.Client(base_url=emulator.base_url, timeout=30, headers=AUTH) as client:
            yield client
    finally:
        emulator.state.recordings = None


def transcribe(http: httpx.Client, body: bytes, query: str = TIMED, path: str = STT) -> Any:
    headers = {"Content-Type": "application/octet-stream"}
    answer = http.post(f"{path}?{query}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wav(data: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def assert_timed_inside(words: list[dict[str, Any]], duration: float) -> None:
    """Word timings in order, not overlapping, inside the audio."""
    assert words
    for word in words:
        assert 0 <= word["start"] < word["end"] <= duration
    for before, after in zip(words, words[1:], strict=False):
        assert before["end"] <= after["start"]


# -- the text and its timings ------------------------------------------------------------------


def test_words_keep_their_case_and_the_punctuation_after_them() -> None:
    assert words_of("Hi, this is  Huss — Miller.\nOK?! v3.1.") == [
        ("Hi", ","),
        ("this", None),
        ("is", None),
        ("Huss", None),
        ("Miller", "."),
        ("OK", "?!"),
        ("v3.1", "."),
    ]


def test_words_are_spread_over_the_speech_and_never_straddle_a_pause() -> None:
    spans = [(0.5, 1.5), (3.0, 3.5), (4.0, 6.0)]
    words = timed("one two three four five six seven eight nine ten.", spans)
    assert [w.word for w in words][-1] == "ten" and words[-1].mark == "."
    for word in words:
        assert any(a <= word.start < word.end <= b for a, b in spans), word
    for before, after in zip(words, words[1:], strict=False):
        assert before.end <= after.start
    assert words[0].start == 0.5 and words[-1].end > 5.8
    assert {i for w in words for i, (a, b) in enumerate(spans) if a <= w.start < b} == {0, 1, 2}


def test_a_folder_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingsError, match="is not a folder"):
        Recordings.load(tmp_path / "missing")
    with pytest.raises(RecordingsError, match="holds no name.wav"):
        Recordings.load(tmp_path)
    (tmp_path / "alone.txt").write_text("Hello.")
    with pytest.raises(RecordingsError, match="alone.txt has no recording"):
        Recordings.load(tmp_path)
    (tmp_path / "alone.wav").write_bytes(b"not audio at all")
    with pytest.raises(RecordingsError, match="cannot read .*alone.wav"):
        Recordings.load(tmp_path)


# -- uploads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("name", NAMES)
def test_an_uploaded_recording_gets_its_transcript_in_any_container_rate_or_codec(
    http, name: str, encoding: str
) -> None:
    body = reencoded(name, encoding)
    answer = transcribe(http, body)
    assert answer["transcription"] == TRANSCRIPTS[name]
    assert [w["word"] for w in answer["words"]] == TRANSCRIPTS[name].split()
    duration = sf.info(recording(name)).duration
    assert_timed_inside(answer["words"], duration + 0.05)
    utterances = answer["utterances"]
    assert " ".join(u["text"] for u in utterances) == TRANSCRIPTS[name]
    assert utterances[0]["start"] == answer["words"][0]["start"]
    assert utterances[-1]["end"] == answer["words"][-1]["end"]


def test_sentences_of_the_text_are_the_utterances(http) -> None:
    answer = transcribe(http, recording("tts-sample-hello").read_bytes())
    assert [u["text"] for u in answer["utterances"]] == [
        "Hello from Smallest AI.",
        "This is Lightning v3.1.",
    ]
    first, second = answer["utterances"]
    assert first["end"] <= second["start"]


def test_the_legacy_route_and_pulse_pro_answer_the_same_text(http) -> None:
    body = recording("stt-sample-audio").read_bytes()
    legacy = transcribe(http, body, "language=en&word_timestamps=true", PULSE)
    pro = transcribe(http, body, "model=pulse-pro&language=en&word_timestamps=true")
    assert legacy["transcription"] == pro["transcription"] == TRANSCRIPTS["stt-sample-audio"]
    assert [w["word"] for w in pro["words"]] == TRANSCRIPTS["stt-sample-audio"].split()


def test_formatting_and_redaction_apply_to_a_known_transcript(http) -> None:
    body = recording("pulse-feature-demo").read_bytes()
    bare = transcribe(http, body, "model=pulse&language=en&format=false")
    assert bare["transcription"] == " ".join(plain(TRANSCRIPTS["pulse-feature-demo"]))
    lower = transcribe(http, body, "model=pulse&language=en&capitalize=false")
    assert lower["transcription"] == TRANSCRIPTS["pulse-feature-demo"].lower()
    redacted = transcribe(http, body, "model=pulse&language=en&redact_pii=true")
    assert redacted["transcription"].startswith(
        "Hi, this is [FIRSTNAME_1] [LASTNAME_1] calling about my recent order."
    )


def test_gender_comes_from_the_recordings_voice(http) -> None:
    body = recording("tts-sample-hello").read_bytes()
    answer = transcribe(http, body, "model=pulse&language=en&gender_detection=true")
    assert answer["transcription"] == TRANSCRIPTS["tts-sample-hello"]
    assert answer["gender"] in ("male", "female")


def stand_ins(transcription: str) -> bool:
    return all(w in VOCABULARY for w in plain(transcription))


def test_other_speech_is_not_taken_for_a_known_recording(http) -> None:
    """Same length, other speech; the recording reversed; the recording cut short."""
    hello, rate = samples("tts-sample-hello")
    other, other_rate = samples("stt-sample-audio")
    assert other_rate == rate
    same_length = other[: len(hello)]
    bodies = [
        wav(same_length, rate),
        wav(hello[::-1].copy(), rate),
        wav(hello[: len(hello) // 2], rate),
    ]
    for body in bodies:
        answer = transcribe(http, body)
        assert answer["transcription"] not in TRANSCRIPTS.values()
        assert stand_ins(answer["transcription"]), answer["transcription"]


def test_the_emulators_own_speech_still_reads_back(http) -> None:
    text = "Hello from Smallest AI. This is Lightning v3.1."
    speech = Synthesis(text, sample_rate=24000)
    answer = transcribe(http, wav(np.frombuffer(speech.pcm(), dtype="<i2"), 24000))
    assert spoken_form(answer["transcription"]) == spoken_form(text)
    assert answer["transcription"] != TRANSCRIPTS["tts-sample-hello"]  # read, not recognised


# -- streams -------------------------------------------------------------------------------------


def pcm16(data: np.ndarray) -> bytes:
    return (np.clip(data, -1, 1) * 32767).astype("<i2").tobytes()


def mulaw(data: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="RAW", subtype="ULAW")
    return buffer.getvalue()


def streamed_words(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for e in finals(events) for w in e["words"]]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/waves/v1/stt/live", "model=pulse&language=en&word_timestamps=true"),
        (PULSE, "language=en"),
    ],
)
@pytest.mark.parametrize("name", NAMES)
def test_a_streamed_recording_gets_its_transcript(http, emulator, name, path, query) -> None:
    data, rate = samples(name)
    events, code = stream(emulator, pcm16(data), path, f"{query}&sample_rate={rate}")
    assert code == 1000
    words = streamed_words(events)
    assert [plain(w["word"])[0] for w in words] == plain(TRANSCRIPTS[name])
    assert_timed_inside(words, len(data) / rate + 0.05)
    assert plain(" ".join(e["transcript"] for e in finals(events))) == plain(TRANSCRIPTS[name])


@pytest.mark.parametrize(("encoding", "rate"), [("linear16", 16000), ("mulaw", 8000)])
def test_a_recording_streamed_resampled_is_still_recognised(http, emulator, encoding, rate) -> None:
    data, own = samples("stt-sample-audio")
    low = resample(data, own, rate).astype(np.float32)
    audio = pcm16(low) if encoding == "linear16" else mulaw(low, rate)
    query = f"model=pulse&language=en&word_timestamps=true&encoding={encoding}&sample_rate={rate}"
    events, _ = stream(emulator, audio, query=query, chunk=1600)
    text = " ".join(e["transcript"] for e in finals(events)).strip()
    assert plain(text) == plain(TRANSCRIPTS["stt-sample-audio"])
    assert text.startswith("This is a sample audio file")
    assert text.rstrip(".").endswith("with the Pulse API")


def test_a_stream_of_other_audio_keeps_the_synthetic_transcripts(http, emulator) -> None:
    hello, rate = samples("tts-sample-hello")
    query = f"model=pulse&language=en&sample_rate={rate}"
    events, _ = stream(emulator, pcm16(hello[::-1].copy()), query=query)
    text = " ".join(e["transcript"] for e in finals(events))
    assert text.strip() and stand_ins(text)
    speech = Synthesis("Modern problems require modern solutions.", sample_rate=16000)
    events, _ = stream(emulator, speech.pcm(), query="model=pulse&language=en")
    said = " ".join(e["transcript"] for e in finals(events))
    assert spoken_form(said) == spoken_form("Modern problems require modern solutions.")


def test_word_timings_follow_the_speech_when_the_audio_starts_later(http) -> None:
    data, rate = samples("stt-sample-audio")
    original = transcribe(http, wav(data, rate))["words"]
    late = np.concatenate([np.zeros(int(0.2 * rate), dtype=np.float32), data])
    shifted = transcribe(http, wav(late, rate))["words"]
    assert [w["word"] for w in shifted] == [w["word"] for w in original]
    for before, after in zip(original, shifted, strict=True):
        assert after["start"] == pytest.approx(before["start"] + 0.2, abs=0.021)
