"""The realtime STT client (smallest_cli/api/stt_live.py): query strings and event parsing."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from smallest_cli.api.stt_live import (
    LiveOptions,
    SpeechEvent,
    SttLiveAPI,
    Transcription,
    parse_event,
    route_path,
)
from smallest_cli.choices import Route
from smallest_cli.errors import APIError, AuthenticationError
from smallest_cli.transcript import Transcript


def test_the_current_route_names_the_model_and_says_every_route_dependent_default() -> None:
    assert LiveOptions(language="en").query(Route.CURRENT) == {
        "model": "pulse",
        "language": "en",
        "sample_rate": 16000,
        "encoding": "linear16",
        "word_timestamps": False,
    }


def test_the_legacy_route_has_no_model_and_no_endpointing() -> None:
    options = LiveOptions(language="hi", sample_rate=8000, encoding="mulaw", endpointing=False)
    assert options.query(Route.LEGACY) == {
        "language": "hi",
        "sample_rate": 8000,
        "encoding": "mulaw",
        "word_timestamps": False,
    }
    assert options.query(Route.CURRENT)["endpointing"] is False
    assert route_path(Route.LEGACY) == "/waves/v1/pulse/get_text"


def test_options_are_sent_only_when_set() -> None:
    options = LiveOptions(
        language="en",
        diarize=True,
        redact_pci=True,
        keywords="Blackwell:2",
        eou_timeout_ms=300,
        expire_content=True,
    )
    query = options.query(Route.CURRENT)
    assert {k: query[k] for k in ("diarize", "redact_pci", "keywords", "eou_timeout_ms")} == {
        "diarize": True,
        "redact_pci": True,
        "keywords": "Blackwell:2",
        "eou_timeout_ms": 300,
    }
    assert "redact_pii" not in query and "max_words" not in query


class HandshakeRecorder:
    """A client that records the headers of each WebSocket handshake it is asked for."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def ws_url(self, path: str, params: dict[str, Any]) -> str:
        return "wss://example.test" + path

    def connect_ws(
        self, path: str, *, params: dict[str, Any], headers: dict[str, str]
    ) -> AbstractContextManager[None]:
        self.headers.append(headers)
        return nullcontext()


def test_content_expiry_goes_as_a_header_only_when_asked() -> None:
    client = HandshakeRecorder()
    api = SttLiveAPI(client)  # type: ignore[arg-type]
    api.open(LiveOptions(language="en", expire_content=True))
    api.open(LiveOptions(language="en"))
    assert client.headers == [{"x-expire-content": "true"}, {}]


def test_a_final_with_everything() -> None:
    frame = {
        "type": "transcription",
        "status": "success",
        "session_id": "s1",
        "transcript": " [CREDITCARDCVV_1] and expiry [TIME_2]. ",
        "transcription": "ignored when transcript is there",
        "is_final": True,
        "is_last": True,
        "from_finalize": True,
        "language": "en",
        "languages": ["en"],
        "words": [
            {"word": "[creditcardcvv_1]", "start": 15.44, "end": 17.36, "confidence": 0.97,
             "speaker": "speaker_1", "speaker_confidence": 0.67},
        ],
        "utterances": [{"text": "Hi.", "start": 0.0, "end": 2.64, "speaker": 0}],
        "redacted_entities": ["[CREDITCARDCVV_1]", "[TIME_2]"],
    }  # fmt: skip
    event = parse_event(frame)
    assert isinstance(event, Transcription)
    assert (event.text, event.is_final, event.is_last, event.from_finalize) == (
        "[CREDITCARDCVV_1] and expiry [TIME_2].",
        True,
        True,
        True,
    )
    assert event.words[0].speaker == "speaker_1" and event.utterances[0].speaker == 0
    assert event.to_json() == {
        "type": "final",
        "text": "[CREDITCARDCVV_1] and expiry [TIME_2].",
        "is_last": True,
        "from_finalize": True,
        "language": "en",
        "words": [
            {"word": "[creditcardcvv_1]", "start": 15.44, "end": 17.36, "confidence": 0.97,
             "speaker": "speaker_1", "speaker_confidence": 0.67},
        ],
        "utterances": [{"text": "Hi.", "start": 0.0, "end": 2.64, "speaker": 0}],
        "redacted_entities": ["[CREDITCARDCVV_1]", "[TIME_2]"],
        "session_id": "s1",
    }  # fmt: skip
    assert Transcript.from_finals([event.raw]).text == "[CREDITCARDCVV_1] and expiry [TIME_2]."


def test_partials_legacy_frames_and_vad_events() -> None:
    partial = parse_event({"transcription": "Hi, how", "is_final": False, "is_last": False})
    assert isinstance(partial, Transcription) and partial.text == "Hi, how"
    assert partial.to_json() == {"type": "partial", "text": "Hi, how", "session_id": None}
    legacy = parse_event({"session_id": "x", "transcript": "Done.", "is_final": True})
    assert isinstance(legacy, Transcription) and legacy.is_final and not legacy.is_last
    assert legacy.from_finalize is None and legacy.to_json()["from_finalize"] is False
    started = parse_event({"type": "speech_started", "session_id": "a", "timestamp": 1.84})
    assert started == SpeechEvent("speech_started", 1.84, "a")
    assert started.to_json() == {"type": "speech_started", "timestamp": 1.84, "session_id": "a"}


@pytest.mark.parametrize("frame", [{"type": "metadata", "x": 1}, {"hello": "world"}])
def test_unknown_frames_are_skipped(frame: dict) -> None:
    assert parse_event(frame) is None


def test_error_frames_raise_with_their_code() -> None:
    with pytest.raises(APIError) as raised:
        parse_event(
            {
                "type": "error",
                "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION",
                "message": "Language 'ta' has not been enabled in this region.",
            }
        )
    assert raised.value.code == "LANGUAGE_NOT_ENABLED_IN_REGION"
    assert str(raised.value) == "Language 'ta' has not been enabled in this region."
    with pytest.raises(APIError, match="Connection timed out"):
        parse_event({"type": "error", "status": "error", "message": "Connection timed out"})
    with pytest.raises(AuthenticationError):
        parse_event({"type": "error", "error_code": "UNAUTHORIZED", "message": "bad key"})


def test_finals_at_sentence_ends_are_turned_off_only_when_asked() -> None:
    options = LiveOptions(language="en", eou_timeout_ms=500, finalize_on_words=False)
    for route in (Route.CURRENT, Route.LEGACY):
        query = options.query(route)
        assert (query["finalize_on_words"], query["eou_timeout_ms"]) == (False, 500)
    assert "finalize_on_words" not in LiveOptions(language="en").query(Route.CURRENT)
