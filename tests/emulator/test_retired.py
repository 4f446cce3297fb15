"""Deprecated and retired TTS routes over real loopback (REFERENCE §0.1, §6.5).

The model-named Lightning v3.1 routes are deprecated but served, with the unified routes'
behaviour and the older SSE framing; the retired models' routes answer 410 with the body the
vendor quotes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from smallest_cli.emulator.speech import listen, spoken_form
from smallest_cli.emulator.state import Pacing
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SYNC = {**AUTH, "Accept": "audio/wav"}
LIVE = {**AUTH, "Accept": "text/event-stream"}
TEXT = "Modern problems require modern solutions."
BODY = {"text": TEXT, "voice_id": "magnus", "sample_rate": 24000}
LEGACY_SYNC = "/waves/v1/lightning-v3.1/get_speech"
LEGACY_SSE = "/waves/v1/lightning-v3.1/stream"
LEGACY_WS = "/waves/v1/lightning-v3.1/get_speech/stream"
GONE_BODY = (
    b'{"status":"error","error_code":"MODEL_DEPRECATED",'
    b'"message":"This model is retired. Please migrate to lightning-v3.1 via '
    b'/waves/v1/lightning-v3.1/get_speech.",'
    b'"recommended_endpoint":"/waves/v1/lightning-v3.1/get_speech"}'
)  # REFERENCE §6.5, as the live server's JSON serialiser writes it


@pytest.fixture
def http(emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=20) as client:
        yield client


def heard(pcm: bytes) -> str:
    return " ".join(h.text or "?" for h in listen(np.frombuffer(pcm, dtype="<i2"), 24000))


def ws_url(emulator, path: str) -> str:
    return emulator.base_url.replace("http://", "ws://") + path


def socket_frames(emulator, path: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every frame the socket sends for one message, until the server closes it (code 1000)."""
    frames = []
    with connect(ws_url(emulator, path), additional_headers=AUTH) as connection:
        connection.send(json.dumps(message))
        try:
            while True:
                frames.append(json.loads(connection.recv(timeout=10)))
        except ConnectionClosedOK as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1000
    return frames


# -- the deprecated v3.1 routes are served --------------------------------------------------


def test_legacy_sync_route_gives_the_unified_routes_audio(http) -> None:
    legacy = http.post(LEGACY_SYNC, headers=SYNC, json=BODY)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "audio/wav"  # raw PCM, labelled so (observed)
    for name in ("x-session-id", "x-request-id", "x-external-session-id"):
        assert name in legacy.headers
    assert heard(legacy.content) == spoken_form(TEXT)
    assert legacy.content == http.post("/waves/v1/tts", headers=SYNC, json=BODY).content
    wav = http.post(LEGACY_SYNC, headers=SYNC, json={**BODY, "output_format": "wav"})
    assert wav.content[:4] == b"RIFF"


def test_legacy_sse_route_uses_the_older_framing(http) -> None:
    response = http.post(LEGACY_SSE, headers=LIVE, json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text.endswith("\n\n")
    *chunks, terminator = response.text[:-2].split("\n\n")
    assert terminator == 'data: {"done": true}'  # REFERENCE §6.5.2: no event line, no status
    audio = b""
    for frame in chunks:
        event, data = frame.split("\n")
        assert event == "event: audio"
        payload = json.loads(data.removeprefix("data: "))
        assert list(payload) == ["audio"]  # no `done`, no `status` on chunks
        audio += base64.b64decode(payload["audio"])
    assert len(chunks) > 100
    assert audio == http.post("/waves/v1/tts", headers=SYNC, json=BODY).content


def test_legacy_socket_speaks_the_unified_protocol(emulator) -> None:
    message = {**BODY, "complete_backoff_ms": 0}
    frames = socket_frames(emulator, LEGACY_WS, message)
    assert [f["status"] for f in frames[-2:]] == ["chunk", "complete"]
    assert list(frames[0]) == ["session_id", "request_id", "status", "data"]
    pcm = b"".join(base64.b64decode(f["data"]["audio"]) for f in frames if f["status"] == "chunk")
    assert heard(pcm) == spoken_form(TEXT)
    unified = socket_frames(emulator, "/waves/v1/tts/live", message)
    assert [f.get("data") for f in frames] == [f.get("data") for f in unified]


# -- the unified routes' quirks, shared -----------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"voice_id": "this-voice-does-not-exist-2026"},
        # requests the specs forbid (the contract check would flag the client, rightly)
        pytest.param({"output_format": "mulaw"}, marks=pytest.mark.no_contract),
        pytest.param({"speed": 3}, marks=pytest.mark.no_contract),
    ],
)
def test_a_bad_body_fails_the_same_way_everywhere(http, changes: dict[str, Any]) -> None:
    body = {**BODY, **changes}
    unified = http.post("/waves/v1/tts", headers=SYNC, json=body)
    assert unified.status_code == 400
    for path in (LEGACY_SYNC, LEGACY_SSE):
        legacy = http.post(path, headers=SYNC if path == LEGACY_SYNC else LIVE, json=body)
        assert (legacy.status_code, legacy.headers["content-type"]) == (
            400,
            "application/json; charset=utf-8",
        )
        assert legacy.content == unified.content


def test_a_bad_voice_on_the_legacy_socket_gets_the_unified_error_frame(emulator) -> None:
    message = {**BODY, "voice_id": "this-voice-does-not-exist-2026"}
    (legacy,) = socket_frames(emulator, LEGACY_WS, message)
    (unified,) = socket_frames(emulator, "/waves/v1/tts/live", message)
    assert legacy == unified
    assert legacy == {
        "status": "error",
        "message": "voice_id: Invalid Voice ID",
        "error": {"message": "voice_id: Invalid Voice ID", "code": "400"},
    }


def test_legacy_and_unified_requests_share_the_concurrency_unit(http, emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=0, rtf=0.25)
    with http.stream("POST", LEGACY_SSE, headers=LIVE, json=BODY) as first:
        lines = first.iter_lines()
        next(lines)  # the legacy stream holds the key's only unit
        assert http.post("/waves/v1/tts", headers=SYNC, json=BODY).status_code == 429
        refused = http.post(LEGACY_SYNC, headers=SYNC, json=BODY)
        assert refused.status_code == 429
        assert refused.json()["error"] == "TooManyRequests"
        assert 'data: {"done": true}' in list(lines)
    assert http.post(LEGACY_SYNC, headers=SYNC, json=BODY).status_code == 200


# -- the retired models ---------------------------------------------------------------------


@pytest.mark.parametrize("model", ["lightning", "lightning-v2", "lightning-large"])
@pytest.mark.parametrize("route", ["get_speech", "stream"])
def test_retired_models_answer_410_with_the_quoted_body(http, model: str, route: str) -> None:
    response = http.post(f"/waves/v1/{model}/{route}", headers=SYNC, json=BODY)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/json"
    assert response.content == GONE_BODY


@pytest.mark.no_contract  # no spec covers a refused handshake
@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/waves/v1/lightning/get_speech/stream", 410, GONE_BODY),
        ("/waves/v1/lightning-v2/get_speech/stream", 410, GONE_BODY),
        ("/waves/v1/lightning-large/get_speech/stream", 410, GONE_BODY),
        (
            "/waves/v1/streaming-tts/stream",
            404,
            b'{"error":"NotFound","message":"Route /waves/v1/streaming-tts/stream not found"}',
        ),
    ],
)
def test_retired_sockets_are_refused(emulator, path: str, status: int, body: bytes) -> None:
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(ws_url(emulator, path), additional_headers=AUTH),
    ):
        pass
    assert refused.value.response.status_code == status
    assert refused.value.response.body == body


@pytest.mark.no_contract  # the retired catalog and clone routes have no 410 in any spec
@pytest.mark.parametrize(
    "path",
    [
        "/waves/v1/lightning-v2/get_voices",
        "/waves/v1/lightning-large/get_cloned_voices",
        "/waves/v1/prof-voice-cloning",
    ],
)
def test_other_retired_routes_answer_the_same_410(http, path: str) -> None:
    response = http.get(path, headers=AUTH)
    assert (response.status_code, response.content) == (410, GONE_BODY)
