"""What TTS refuses on every transport (sync, SSE, WebSocket) over real loopback: a language
the model does not speak (REFERENCE §0.3) and a dictionary id the caller does not own (§0.4)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from smallest_cli.emulator.tts_request import MODEL_LANGUAGES
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
BODY = {"text": "Modern problems.", "voice_id": "magnus", "sample_rate": 8000}
BASE_CODES = "en, hi, mr, kn, ta, bn, gu, te, ml, pa, or, es, de, fr, it, nl, sv, pt, ru, pl, he"
JA_ON_BASE = {
    "code": "custom",
    "path": ["language"],
    "message": "Language 'ja' is not supported on the lightning_v3.1 model. "
    f"Supported languages: {BASE_CODES}",
}
UNKNOWN_DICT = {"code": "custom", "path": ["pronunciation_dicts"], "message": "Invalid input data"}


def over_http(emulator, route: str, body: dict[str, Any]) -> tuple[int, Any]:
    """(status, JSON error body or None) of one sync or SSE request."""
    accept = "audio/wav" if route == "/waves/v1/tts" else "text/event-stream"
    with httpx.Client(base_url=emulator.base_url, timeout=20) as http:
        response = http.post(route, headers={**AUTH, "Accept": accept}, json=body)
    is_json = response.headers["content-type"].startswith("application/json")
    return response.status_code, response.json() if is_json else None


def over_websocket(emulator, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every frame the socket answers one message with, until the server closes."""
    url = emulator.base_url.replace("http://", "ws://") + "/waves/v1/tts/live"
    frames = []
    with connect(url, additional_headers=AUTH) as connection:
        connection.send(json.dumps({**body, "complete_backoff_ms": 0}))
        try:
            while True:
                frames.append(json.loads(connection.recv(timeout=10)))
        except ConnectionClosedOK:
            return frames


HTTP_ROUTES = pytest.mark.parametrize("route", ["/waves/v1/tts", "/waves/v1/tts/live"])


@HTTP_ROUTES
def test_a_language_the_model_does_not_speak_is_400_over_http(emulator, route) -> None:
    assert over_http(emulator, route, {**BODY, "language": "ja"}) == (400, {"error": [JA_ON_BASE]})
    status, body = over_http(
        emulator, route, {**BODY, "language": "he", "model": "lightning_v3.1_pro"}
    )
    assert status == 400
    assert body["error"][0]["message"].startswith(
        "Language 'he' is not supported on the lightning_v3.1_pro model. "
        "Supported languages: en, hi, mr, kn, ta, bn, gu, te, ml, pa, or, es, de, fr, it, nl, "
        "sv, pt, ru, el, fi, no, pl, ar, zh, id, ja, ko, ms, tr, vi"
    )
    (exchange, _) = emulator.state.exchanges()
    assert exchange.status == 400


@HTTP_ROUTES
@pytest.mark.parametrize(
    ("model", "language"),
    [
        ("lightning_v3.1", "auto"),
        ("lightning_v3.1", "he"),  # accepted live though the spec omits it
        ("lightning_v3.1", "sv"),
        ("lightning_v3.1_pro", "ja"),
        ("lightning_v3.1_pro", "auto"),
    ],
)
def test_languages_each_model_speaks_are_accepted(emulator, route, model, language) -> None:
    body = {**BODY, "model": model, "language": language}
    assert over_http(emulator, route, body) == (200, None)


def test_the_two_models_language_lists() -> None:
    base, pro = MODEL_LANGUAGES["lightning_v3.1"], MODEL_LANGUAGES["lightning_v3.1_pro"]
    assert len(base) == 20 + 1 and "he" in base  # 20 documented codes, and he
    assert len(pro) == 31 and "he" not in pro
    assert set(base) - {"he"} < set(pro)


@pytest.mark.no_contract
def test_a_language_the_model_does_not_speak_is_an_error_frame(emulator) -> None:
    frames = over_websocket(emulator, {**BODY, "language": "ja"})
    assert len(frames) == 1 and frames[0]["status"] == "error"
    assert frames[0]["error"]["message"] == f"language: {JA_ON_BASE['message']}"
    pro = over_websocket(emulator, {**BODY, "language": "ja", "model": "lightning_v3.1_pro"})
    assert [f["status"] for f in pro][-1] == "complete"


@HTTP_ROUTES
def test_dictionary_ids_must_be_the_callers_own(emulator, route) -> None:
    mine = emulator.state.dictionaries.add(TEST_KEY, {"SQL": "sequel"})
    theirs = emulator.state.dictionaries.add("another-key", {"SQL": "ess-cue-ell"})
    refused = (400, {"error": [UNKNOWN_DICT]})
    assert over_http(emulator, route, {**BODY, "pronunciation_dicts": ["nope"]}) == refused
    assert over_http(emulator, route, {**BODY, "pronunciation_dicts": [theirs.id]}) == refused
    assert over_http(emulator, route, {**BODY, "pronunciation_dicts": [mine.id, "nope"]}) == refused
    assert over_http(emulator, route, {**BODY, "pronunciation_dicts": [mine.id]}) == (200, None)
    assert over_http(emulator, route, {**BODY, "pronunciation_dicts": []}) == (200, None)


@pytest.mark.no_contract
def test_dictionary_ids_are_checked_on_the_websocket(emulator) -> None:
    frames = over_websocket(emulator, {**BODY, "pronunciation_dicts": ["nope"]})
    assert [f["status"] for f in frames] == ["error"]
    assert frames[0]["error"]["message"] == "pronunciation_dicts: Invalid input data"
    mine = emulator.state.dictionaries.add(TEST_KEY, {"SQL": "sequel"})
    accepted = over_websocket(emulator, {**BODY, "pronunciation_dicts": [mine.id]})
    assert [f["status"] for f in accepted][-1] == "complete"


def test_every_refusal_comes_in_one_body(emulator) -> None:
    body = {**BODY, "voice_id": "nobody", "language": "ja", "pronunciation_dicts": ["nope"]}
    status, answer = over_http(emulator, "/waves/v1/tts", body)
    assert status == 400
    assert [issue["path"] for issue in answer["error"]] == [
        ["voice_id"],
        ["language"],
        ["pronunciation_dicts"],
    ]
