"""The transcript model and its output formats."""

from __future__ import annotations

import json

import pytest

from smallest_cli.errors import UsageError
from smallest_cli.transcript import Transcript, speaker_label, transcript_format

PULSE = {
    "status": "success",
    "transcription": "Hello, how are you doing today? Fine, thanks.",
    "words": [
        {
            "start": 0.16,
            "end": 0.5,
            "word": "Hello,",
            "confidence": 0.99,
            "speaker": 0,
            "speaker_confidence": 1,
        },
        {"start": 0.5, "end": 0.7, "word": "how", "confidence": 0.98, "speaker": 0},
        {"start": 0.7, "end": 0.8, "word": "are", "confidence": 0.98, "speaker": 0},
        {"start": 0.8, "end": 1.0, "word": "you", "confidence": 0.98, "speaker": 0},
        {"start": 1.0, "end": 1.3, "word": "doing", "confidence": 0.98, "speaker": 0},
        {"start": 1.3, "end": 1.9, "word": "today?", "confidence": 0.98, "speaker": 0},
        {"start": 2.2, "end": 2.5, "word": "Fine,", "confidence": 0.97, "speaker": 1},
        {"start": 2.5, "end": 2.9, "word": "thanks.", "confidence": 0.97, "speaker": 1},
    ],
    "utterances": [
        {"start": 0.16, "end": 1.9, "speaker": 0, "text": "Hello, how are you doing today?"},
        {"start": 2.2, "end": 2.9, "speaker": 1, "text": "Fine, thanks."},
    ],
    "metadata": {"duration": 3.1, "fileSize": 465740},
}


def test_text_puts_each_speaker_turn_on_its_own_line() -> None:
    text = Transcript.from_api(PULSE).render("text")
    assert text == "Speaker 0: Hello, how are you doing today?\nSpeaker 1: Fine, thanks.\n"
    plain = Transcript.from_api({"transcription": "Just words.", "words": [], "utterances": []})
    assert plain.render("text") == "Just words.\n"


def test_json_has_stable_snake_case_keys() -> None:
    data = json.loads(Transcript.from_api(PULSE, source="a.wav").render("json"))
    assert list(data) == ["source", "transcript", "words", "utterances", "duration"]
    assert data["words"][0] == {
        "word": "Hello,",
        "start": 0.16,
        "end": 0.5,
        "confidence": 0.99,
        "speaker": 0,
        "speaker_confidence": 1.0,
    }


def test_srt_vtt_tsv() -> None:
    transcript = Transcript.from_api(PULSE)
    srt = transcript.render("srt")
    assert srt.startswith(
        "1\n00:00:00,160 --> 00:00:01,900\n[Speaker 0] Hello, how are you doing today?\n"
    )
    assert "[Speaker 1] Fine, thanks." in srt
    assert "<v Speaker 1>Fine, thanks." in transcript.render("vtt")
    assert transcript.render("tsv").splitlines() == [
        "0.160\t1.900\tSpeaker 0\tHello, how are you doing today?",
        "2.200\t2.900\tSpeaker 1\tFine, thanks.",
    ]


def test_pulse_pro_and_string_speakers() -> None:
    pro = Transcript.from_api(
        {"status": "success", "transcription": "Hello.", "words": [{"word": "Hello.", "start": 0.24, "end": 1.2, "confidence": 0.96}],
         "language": "en", "metadata": {"duration": 5.28}, "request_id": "36e9"}
    )  # fmt: skip
    assert (pro.language, pro.duration, pro.request_id, pro.utterances) == ("en", 5.28, "36e9", [])
    assert (
        speaker_label("speaker_3") == "Speaker 3"
        and speaker_label(2) == "Speaker 2"
        and speaker_label(None) is None
    )


def test_finals_add_up() -> None:
    events = [
        {"type": "transcription", "transcript": "Hi there.", "is_final": True, "language": "en",
         "words": [{"word": "Hi", "start": 0.1, "end": 0.3}, {"word": "there.", "start": 0.3, "end": 0.6}]},
        {"type": "transcription", "transcript": "[FIRSTNAME_1] here.", "is_final": True, "is_last": True,
         "redacted_entities": ["[FIRSTNAME_1]"], "words": []},
    ]  # fmt: skip
    transcript = Transcript.from_finals(events)
    assert transcript.text == "Hi there. [FIRSTNAME_1] here."
    assert [w.text for w in transcript.words] == ["Hi", "there."]
    assert transcript.redacted_entities == ["[FIRSTNAME_1]"]
    assert transcript.language == "en"


@pytest.mark.parametrize(
    ("explicit", "path", "fmt"),
    [
        (None, None, "text"),
        (None, "-", "text"),
        (None, "a.SRT", "srt"),
        (None, "b.json", "json"),
        ("tsv", "c.txt", "tsv"),
    ],
)
def test_format_choice(explicit, path, fmt) -> None:
    assert transcript_format(explicit, path) == fmt


def test_bad_formats() -> None:
    with pytest.raises(UsageError, match="unknown transcript format 'doc'"):
        transcript_format("doc", None)
    with pytest.raises(UsageError, match="cannot tell the transcript format"):
        transcript_format(None, "out.docx")
