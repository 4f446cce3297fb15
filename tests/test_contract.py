"""Tests of the contract harness (tests/contract.py) against the real vendor spec files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smallest_cli.emulator.state import Exchange
from tests import contract
from tests.contract import ContractViolation, spec_for, validate_exchange

pytestmark = pytest.mark.skipif(
    not contract.specs_available(),
    reason=(
        f"vendor OpenAPI files not found in {contract.OPENAPI_DIR} (set SMALLEST_SHARED_DIR "
        "to the shared folder), or openapi-core / pyyaml not installed"
    ),
)

AUTH = {"authorization": "Bearer sk_…abcd"}  # masked the way the emulator records it
VOICES = "/waves/v1/lightning-v3.1/get_voices"
TTS_HEADERS = {**AUTH, "accept": "audio/wav", "content-type": "application/json"}
TTS_BODY = {
    "text": "Hello there.",
    "voice_id": "avery",
    "sample_rate": 24000,
    "output_format": "wav",
}
ZOD_400 = {"error": [{"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}]}
JSON = {"content-type": "application/json; charset=utf-8"}


def exchange(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: Any = b"",
    status: int | None = None,
    response_headers: dict[str, str] | None = None,
    response_body: Any = b"",
    **fields: Any,
) -> Exchange:
    """An Exchange as the emulator would record it; dict/list bodies are sent as JSON."""
    return Exchange(
        kind=fields.pop("kind", "http"),
        method=method,
        path=path,
        query=query,
        headers=dict(AUTH if headers is None else headers),
        body=_bytes(body),
        status=status,
        response_headers=dict(response_headers or {}),
        response_body=_bytes(response_body),
        **fields,
    )


def _bytes(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def voices_exchange(body: Any, **fields: Any) -> Exchange:
    return exchange("GET", VOICES, status=200, response_headers=JSON, response_body=body, **fields)


def tts_exchange(body: Any = TTS_BODY, **fields: Any) -> Exchange:
    fields.setdefault("headers", TTS_HEADERS)
    return exchange("POST", "/waves/v1/tts", body=body, **fields)


AVERY: dict[str, Any] = {
    "voiceId": "avery",
    "displayName": "Avery",
    "tags": {
        "language": ["english"],
        "accent": "american",
        "gender": "female",
        "age": "young",
        "emotions": [],
        "usecases": ["conversational"],
    },
}


# -- which spec covers what --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", VOICES, "get-voices-openapi.yaml"),
        ("GET", "/waves/v1/voice/get-all-models", "voice-catalog-openapi.yaml"),
        ("POST", "/waves/v1/tts", "tts-openapi.yaml"),
        ("POST", "/waves/v1/tts/live", "tts-openapi.yaml"),
        # waves-api.yaml (current) wins over legacy-waves-api.yaml, which also has this path
        ("GET", "/waves/v1/pronunciation-dicts", "waves-api.yaml"),
        ("DELETE", "/waves/v1/pronunciation-dicts", "waves-api.yaml"),
        ("POST", "/waves/v1/stt/", "stt-openapi.yaml"),
        ("POST", "/waves/v1/chat/completions", "electron-openapi.yaml"),
        ("POST", "/waves/v1/voice-cloning", "voice-cloning-openapi.yaml"),
        ("GET", "/waves/v1/voice-cloning", "voice-cloning-openapi.yaml"),
        ("POST", "/waves/v1/pulse/get_text", "pulse-stt-openapi.yaml"),
        # paths only a legacy file has
        ("POST", "/waves/v1/lightning-v2/get_speech", "legacy-waves-api.yaml"),
        ("POST", "/waves/v1/lightning-v3.1/get_speech", "legacy-lightning-v3.1-openapi.yaml"),
        ("DELETE", "/waves/v1/lightning-large", "legacy-delete-cloned-voice-openapi.yaml"),
        # nothing documents these
        ("GET", "/waves/v1/no-such-thing", None),
        ("GET", "/waves/v1/analytics/tts/logs", None),
        ("PATCH", "/waves/v1/tts", None),  # documented path, undocumented method
    ],
)
def test_spec_for(method: str, path: str, expected: str | None) -> None:
    assert spec_for(method, path) == expected


def test_spec_for_tolerates_a_missing_trailing_slash() -> None:
    assert spec_for("POST", "/waves/v1/stt") == "stt-openapi.yaml"


# -- responses ---------------------------------------------------------------------------------


def test_valid_get_voices_exchange_passes() -> None:
    assert validate_exchange(voices_exchange({"voices": [AVERY]})) is True


def test_voice_without_voice_id_is_a_violation() -> None:
    voice = {key: value for key, value in AVERY.items() if key != "voiceId"}
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(voices_exchange({"voices": [voice]}))
    message = str(caught.value)
    assert f"GET {VOICES} -> 200" in message
    assert "get-voices-openapi.yaml" in message
    assert "response body at voices[0]: 'voiceId' is a required property" in message
    violation = caught.value
    assert (violation.method, violation.path, violation.status) == ("GET", VOICES, 200)
    assert violation.spec == "get-voices-openapi.yaml"
    assert violation.errors and all(error.startswith("response") for error in violation.errors)


def test_voices_not_an_array_is_a_violation() -> None:
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(voices_exchange({"voices": {"avery": AVERY}}))
    message = str(caught.value)
    assert VOICES in message
    assert "response body at voices: " in message
    assert "is not of type 'array'" in message


def test_nested_field_is_named() -> None:
    voice = {**AVERY, "tags": {**AVERY["tags"], "language": "english"}}
    with pytest.raises(ContractViolation, match=r"voices\[0\]\.tags\.language: 'english' is not"):
        validate_exchange(voices_exchange({"voices": [voice]}))


def test_undocumented_status_is_a_violation() -> None:
    with pytest.raises(ContractViolation, match="Unknown response http status: 503"):
        validate_exchange(
            tts_exchange(status=503, response_headers=JSON, response_body={"error": "busy"})
        )


def test_injected_fault_response_is_not_checked() -> None:
    # 503 is not documented for POST /waves/v1/tts, but the emulator produced it on purpose.
    faulted = tts_exchange(
        status=503,
        response_headers={**JSON, "x-emulator-fault": "503*1"},
        response_body={"error": "ServiceUnavailable", "message": "fault injected"},
        fault="503*1",
    )
    assert validate_exchange(faulted) is True


def test_injected_fault_still_checks_the_request() -> None:
    faulted = tts_exchange(body={"text": "no voice"}, status=503, fault="503*1")
    with pytest.raises(ContractViolation, match="'voice_id' is a required property"):
        validate_exchange(faulted)


def test_sync_tts_audio_labelled_wav_needs_no_deviation() -> None:
    # Observed: MP3 frames and raw PCM both come back as `Content-Type: audio/wav`. The spec
    # documents `audio/wav` as `type: string, format: binary`, so any bytes are accepted.
    mp3_frames = bytes.fromhex("fff3c4c400000000") * 4
    for body in (mp3_frames, b"\xdf\xff\xd2\xff", b"RIFF$\xe0\x01\x00WAVE"):
        ok = tts_exchange(
            status=200, response_headers={"content-type": "audio/wav"}, response_body=body
        )
        assert validate_exchange(ok, deviations=()) is True


def test_sse_response_passes() -> None:
    stream = (
        b'event: audio\ndata: {"audio": "AAAA", "done": false, "status": "206"}\n\n'
        b'data: {"status": "200", "done": true}\n\n'
    )
    live = exchange(
        "POST",
        "/waves/v1/tts/live",
        headers={**AUTH, "content-type": "application/json"},
        body=TTS_BODY,
        status=200,
        response_headers={"content-type": "text/event-stream; charset=utf-8"},
        response_body=stream,
    )
    assert validate_exchange(live) is True


# -- requests ----------------------------------------------------------------------------------


def test_missing_authorization_is_a_violation() -> None:
    # openapi-core 0.23 does enforce `security`: the bearerAuth scheme needs an
    # `Authorization: Bearer …` header.
    anonymous = exchange(
        "GET",
        VOICES,
        headers={},
        status=200,
        response_headers=JSON,
        response_body={"voices": [AVERY]},
    )
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(anonymous)
    assert "request: SecurityValidationError" in str(caught.value)
    assert "bearerAuth" in str(caught.value)


def test_wrong_scheme_in_authorization_is_a_violation() -> None:
    basic = exchange("GET", VOICES, headers={"authorization": "Basic dXNlcg=="})
    with pytest.raises(ContractViolation, match="bearerAuth"):
        validate_exchange(basic)


def test_retired_model_in_path_is_a_violation() -> None:
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(exchange("GET", "/waves/v1/lightning-v2/get_voices"))
    message = str(caught.value)
    assert "request parameter 'model': 'lightning-v2' is not one of ['lightning-v3.1'" in message


def test_tts_request_without_voice_id_is_a_violation() -> None:
    body = {key: value for key, value in TTS_BODY.items() if key != "voice_id"}
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(tts_exchange(body))
    assert "POST /waves/v1/tts -> no response" in str(caught.value)
    assert "request body: 'voice_id' is a required property" in str(caught.value)


def test_valid_tts_request_passes() -> None:
    assert validate_exchange(tts_exchange()) is True
    wav = b"RIFF$\xe0\x01\x00WAVEfmt "
    answered = tts_exchange(
        status=200,
        response_headers={"content-type": "audio/wav", "x-request-id": "r-1"},
        response_body=wav,
    )
    assert validate_exchange(answered) is True


def test_tts_request_needs_accept_audio_wav() -> None:
    with pytest.raises(ContractViolation, match="request parameter 'Accept': '\\*/\\*' is not one"):
        validate_exchange(tts_exchange(headers={**TTS_HEADERS, "accept": "*/*"}))


def test_undocumented_method_on_documented_path_is_a_violation() -> None:
    patch = exchange("PATCH", "/waves/v1/tts", headers=TTS_HEADERS, body=TTS_BODY, status=405)
    with pytest.raises(
        ContractViolation, match=r"PATCH is not documented for /waves/v1/tts \(documented: POST\)"
    ):
        validate_exchange(patch)


def test_trailing_slash_mismatch_is_a_violation() -> None:
    stt = exchange(
        "POST",
        "/waves/v1/stt",
        query="model=pulse&language=en",
        headers={**AUTH, "content-type": "application/octet-stream"},
        body=b"RIFF",
    )
    with pytest.raises(ContractViolation, match="the spec documents '/waves/v1/stt/'"):
        validate_exchange(stt)
    stt.path = "/waves/v1/stt/"
    assert validate_exchange(stt) is True


def test_truncated_bodies_are_not_checked() -> None:
    cut = tts_exchange(
        body=b'{"text": "Hello th',
        status=400,
        response_headers=JSON,
        response_body=b'{"error": 12',
        truncated=True,
    )
    assert validate_exchange(cut) is True
    cut.headers = {}  # parameters and security are still checked
    with pytest.raises(ContractViolation, match="bearerAuth"):
        validate_exchange(cut)


def test_request_body_the_emulator_did_not_record_is_not_checked() -> None:
    # The emulator records a request body as its route reads it; a fault, a 401 or a retired
    # route answers without reading, so the record is empty while content-length is not.
    unread = tts_exchange(
        body=b"",
        headers={**TTS_HEADERS, "content-length": "58"},
        status=503,
        fault="503*1",
    )
    assert validate_exchange(unread) is True
    unread.headers["content-length"] = "0"  # the client really sent no body
    with pytest.raises(ContractViolation, match="Missing required request body"):
        validate_exchange(unread)


def test_recorded_emulator_traffic(emulator: Any) -> None:
    """The adapters work on exchanges as the emulator really records them."""
    import httpx

    emulator.state.faults.replace(["503*1@/waves/v1/tts"], 0.0)
    key = {"Authorization": "Bearer sk_test_0123456789abcdef"}
    with httpx.Client(base_url=emulator.base_url, headers=key) as client:
        assert client.get(VOICES).status_code == 200
        answer = client.post("/waves/v1/tts", json=TTS_BODY, headers={"Accept": "audio/wav"})
        assert answer.status_code == 503
    recorded = emulator.state.exchanges()
    assert [(e.method, e.path) for e in recorded] == [("GET", VOICES), ("POST", "/waves/v1/tts")]
    assert recorded[0].headers["authorization"].startswith("Bearer sk_")
    assert all(validate_exchange(e) for e in recorded)


# -- deviations --------------------------------------------------------------------------------


def test_zod_400_on_tts_passes_thanks_to_a_deviation() -> None:
    rejected = tts_exchange(status=400, response_headers=JSON, response_body=ZOD_400)
    assert validate_exchange(rejected) is True
    with pytest.raises(
        ContractViolation, match=r"response body at error: .* is not of type 'string'"
    ):
        validate_exchange(rejected, deviations=())


def test_zod_400_on_tts_live_passes_thanks_to_a_deviation() -> None:
    rejected = tts_exchange(status=400, response_headers=JSON, response_body=ZOD_400)
    rejected.path = "/waves/v1/tts/live"
    assert validate_exchange(rejected) is True


def test_zod_400_elsewhere_is_a_violation() -> None:
    bad_request = exchange("GET", VOICES, status=400, response_headers=JSON, response_body=ZOD_400)
    with pytest.raises(ContractViolation, match="response body at error"):
        validate_exchange(bad_request)


def test_retired_route_410_passes_thanks_to_a_deviation() -> None:
    gone = exchange(
        "POST",
        "/waves/v1/lightning-v2/get_speech",
        headers=TTS_HEADERS,
        body={"text": "Hello", "voice_id": "emily"},
        status=410,
        response_headers=JSON,
        response_body={
            "status": "error",
            "error_code": "MODEL_DEPRECATED",
            "message": "This model is retired.",
            "recommended_endpoint": "/waves/v1/lightning-v3.1/get_speech",
        },
    )
    assert validate_exchange(gone) is True
    with pytest.raises(ContractViolation, match="Unknown response http status: 410"):
        validate_exchange(gone, deviations=())


def test_the_deprecated_v3_1_routes_are_served_so_a_404_there_is_a_violation() -> None:
    # REFERENCE §0.1: still served, so only the answers of a live route are accepted there.
    for path in ("/waves/v1/lightning-v3.1/get_speech", "/waves/v1/lightning-v3.1/stream"):
        missing = tts_exchange(status=404, response_headers=JSON, response_body={"error": "x"})
        missing.path = path
        with pytest.raises(ContractViolation, match="legacy-lightning-v3.1-openapi.yaml"):
            validate_exchange(missing)


def test_deviations_are_documented() -> None:
    assert all(why.strip() for ext in contract.ENUM_EXTENSIONS.values() for _, _, why in ext)
    for deviation in contract.DEVIATIONS:
        assert deviation.reason.strip()
        assert deviation.method in (None, "GET", "POST", "PUT", "DELETE", "PATCH")
    tts_400 = [d for d in contract.DEVIATIONS if d.matches("POST", "/waves/v1/tts", 400)]
    assert tts_400 and "observed/baseline-lightning-tts.json" in tts_400[0].reason
    assert not any(d.matches("POST", "/waves/v1/tts", 500) for d in contract.DEVIATIONS)
    assert not any(d.matches("GET", VOICES, 404) for d in contract.DEVIATIONS)


# -- pronunciation dictionaries (REFERENCE §9) ---------------------------------------------------

DICTS = "/waves/v1/pronunciation-dicts"
DICT_HEADERS = {**AUTH, "content-type": "application/json"}
DICT_ID = "64f1234567890abcdef12345"
DICT_ITEMS = [{"word": "nginx", "pronunciation": "engine x"}]
DICT = {"id": DICT_ID, "items": DICT_ITEMS, "createdAt": "2026-12-01T12:00:00.000Z"}


def dict_exchange(method: str, body: Any, status: int, response_body: Any) -> Exchange:
    return exchange(
        method,
        DICTS,
        headers=DICT_HEADERS if body != b"" else AUTH,
        body=body,
        status=status,
        response_headers=JSON,
        response_body=response_body,
    )


@pytest.mark.parametrize(
    ("method", "body", "response_body"),
    [
        ("GET", b"", [DICT]),
        ("POST", {"items": DICT_ITEMS}, DICT),
        ("PUT", {"id": DICT_ID, "items": DICT_ITEMS}, {"id": DICT_ID, "items": DICT_ITEMS}),
        ("DELETE", {"id": DICT_ID}, {"id": DICT_ID, "deleted": True}),
    ],
)
def test_dictionary_exchanges_pass(method: str, body: Any, response_body: Any) -> None:
    assert spec_for(method, DICTS) == "waves-api.yaml"
    assert validate_exchange(dict_exchange(method, body, 200, response_body)) is True


@pytest.mark.parametrize(
    ("method", "body", "status", "response_body", "found"),
    [
        ("GET", b"", 200, [{"id": DICT_ID, "items": []}], "'createdAt' is a required property"),
        ("GET", b"", 200, DICT, "is not of type 'array'"),
        ("POST", {"items": []}, 200, DICT, "request body"),
        ("POST", {"items": [{"word": "nginx"}]}, 200, DICT, "'pronunciation' is a required"),
        ("PUT", {"items": DICT_ITEMS}, 200, DICT, "'id' is a required property"),
        ("PUT", {"id": DICT_ID, "items": DICT_ITEMS}, 200, {"id": DICT_ID}, "'items' is a requ"),
        ("DELETE", {"id": DICT_ID}, 200, {"id": DICT_ID}, "'deleted' is a required property"),
        ("DELETE", {"id": DICT_ID}, 400, {"details": []}, "'error' is a required property"),
    ],
)
def test_dictionary_exchanges_that_break_the_contract(
    method: str, body: Any, status: int, response_body: Any, found: str
) -> None:
    with pytest.raises(ContractViolation, match=found):
        validate_exchange(dict_exchange(method, body, status, response_body))


def test_zod_400_on_dictionaries_is_documented() -> None:
    details = [
        {
            "code": "invalid_type",
            "expected": "string",
            "received": "undefined",
            "path": ["items", 0, "word"],
            "message": "Required",
        }
    ]
    rejected = dict_exchange(
        "POST", {"items": DICT_ITEMS}, 400, {"error": "Invalid request body", "details": details}
    )
    assert validate_exchange(rejected, deviations=()) is True


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_dictionary_404_for_an_unknown_id_passes_thanks_to_a_deviation(method: str) -> None:
    body = {"id": DICT_ID, "items": DICT_ITEMS} if method == "PUT" else {"id": DICT_ID}
    missing = dict_exchange(method, body, 404, {"error": "Pronunciation dictionary not found"})
    assert validate_exchange(missing) is True
    with pytest.raises(ContractViolation, match="Unknown response http status: 404"):
        validate_exchange(missing, deviations=())


def test_recorded_dictionary_traffic(emulator: Any) -> None:
    """The emulator's answers to all four operations, as recorded, match waves-api.yaml."""
    import httpx

    key = {"Authorization": "Bearer sk_test_0123456789abcdef"}
    with httpx.Client(base_url=emulator.base_url, headers=key) as client:
        created = client.post(DICTS, json={"items": DICT_ITEMS}).json()
        client.get(DICTS)
        client.put(DICTS, json={"id": created["id"], "items": DICT_ITEMS})
        client.request("DELETE", DICTS, json={"id": created["id"]})
        client.request("DELETE", DICTS, json={"id": created["id"]})
    recorded = emulator.state.exchanges()
    assert [(e.method, e.status) for e in recorded] == [
        ("POST", 200),
        ("GET", 200),
        ("PUT", 200),
        ("DELETE", 200),
        ("DELETE", 404),
    ]
    assert all(validate_exchange(e) for e in recorded)


# -- what is not checked -----------------------------------------------------------------------


# -- WebSocket sessions (AsyncAPI) --------------------------------------------------------------

WS_REQUEST = json.dumps({"voice_id": "meher", "text": "Hi there.", "word_timestamps": True})
WS_CHUNK = json.dumps(
    {"session_id": "ws_1", "request_id": "task_1", "status": "chunk", "data": {"audio": "AAA="}}
)
WS_WORD = json.dumps(
    {
        "session_id": "ws_1",
        "request_id": "task_1",
        "status": "word_timestamp",
        "data": {"id": 0, "word": "Hi", "start": 0.05, "end": 0.2},
    }
)
WS_COMPLETE = json.dumps({"session_id": "ws_1", "request_id": "task_1", "status": "complete"})


def ws_session(
    frames_in: list[str | bytes], frames_out: list[str | bytes], **fields: Any
) -> Exchange:
    return exchange(
        "GET",
        "/waves/v1/tts/live",
        kind="websocket",
        status=101,
        frames_in=frames_in,
        frames_out=frames_out,
        **fields,
    )


def test_tts_websocket_session_matches_the_asyncapi_file() -> None:
    timeout = json.dumps({"status": "error", "message": "Connection timed out after 1 seconds"})
    error = json.dumps(
        {
            "status": "error",
            "message": "voice_id: Invalid",  # top level as well (REFERENCE §0.7)
            "error": {"message": "voice_id: Invalid", "code": "400"},
        }
    )
    session = ws_session([WS_REQUEST], [WS_WORD, WS_CHUNK, WS_COMPLETE, error, timeout])
    assert validate_exchange(session) is True
    session.path = "/waves/v1/lightning-v3.1/get_speech/stream"  # deprecated, served (§0.1)
    assert validate_exchange(session) is True


def test_the_deprecated_tts_websocket_is_checked_against_its_own_file() -> None:
    session = ws_session([json.dumps({"voice_id": "meher", "text": "Hi", "language": "de"})], [])
    session.path = "/waves/v1/lightning-v3.1/get_speech/stream"
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(session)
    assert caught.value.spec == "legacy-lightning-v3.1-ws.yaml"
    assert "client frame 0 at language: 'de' is not one of" in str(caught.value)


@pytest.mark.parametrize(
    ("frames_in", "frames_out", "found"),
    [
        ([json.dumps({"text": "Hi"})], [], "client frame 0: 'voice_id' is a required property"),
        (
            [json.dumps({"voice_id": "meher", "text": "Hi", "model": "lightning_v2"})],
            [],
            "client frame 0 at model: 'lightning_v2' is not one of",
        ),
        (["not json"], [], "client frame 0: not JSON"),
        ([b"\x00\x01"], [], "client frame 0: a binary frame"),
        (
            [WS_REQUEST],
            [WS_CHUNK, json.dumps({"status": "done", "data": {}})],
            "server frame 1 at status: 'done' is not one of",
        ),
        (
            [],
            [json.dumps({"status": "word_timestamp", "data": {"id": "0"}})],
            "server frame 0 at data.id: '0' is not of type 'integer'",
        ),
        (
            [],
            [json.dumps({"status": "error", "error": "boom"})],
            "server frame 0 at error: 'boom' is not of type 'object'",
        ),
    ],
)
def test_tts_websocket_frames_that_break_the_contract(frames_in, frames_out, found) -> None:
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(ws_session(frames_in, frames_out))
    assert caught.value.spec == "tts-ws.yaml"
    assert found in str(caught.value)


def test_tts_websocket_handshake_needs_a_bearer_key() -> None:
    with pytest.raises(ContractViolation, match="no `Authorization: Bearer` header"):
        validate_exchange(ws_session([WS_REQUEST], [], headers={}))


# -- the STT sockets ----------------------------------------------------------------------------

LIVE_QUERY = "model=pulse&language=en&sample_rate=16000&encoding=linear16"
STT_PARTIAL = {
    "type": "transcription",
    "status": "success",
    "session_id": "4b5ae9cb",
    "transcript": "Hi how",
    "transcription": "Hi how",
    "is_final": False,
    "is_last": False,
}
STT_FINAL = {
    **STT_PARTIAL,
    "transcript": "Hi, how are you?",
    "is_final": True,
    "from_finalize": True,
    "language": "en",
    "languages": ["en"],
    "words": [
        {
            "word": "Hi,",
            "start": 0.1,
            "end": 0.3,
            "confidence": 0.98,
            "speaker": "speaker_0",
            "speaker_confidence": 1,
        }
    ],
}
VAD = {"type": "speech_started", "session_id": "4b5ae9cb", "timestamp": 0.05}
FINALIZE = json.dumps({"type": "finalize"})


def stt_session(
    path: str,
    frames_in: list[str | bytes],
    frames_out: list[Any],
    query: str = LIVE_QUERY,
    **fields: Any,
) -> Exchange:
    out = [f if isinstance(f, (str, bytes)) else json.dumps(f) for f in frames_out]
    return exchange(
        "GET",
        path,
        query=query,
        kind="websocket",
        status=101,
        frames_in=frames_in,
        frames_out=out,
        **fields,
    )


def test_stt_live_session_matches_the_asyncapi_file() -> None:
    error = {
        "type": "error",
        "status": "error",
        "message": "Connection timed out",
        "session_id": "4b5ae9cb",
    }
    session = stt_session(
        "/waves/v1/stt/live",
        [b"\x00\x01" * 100, FINALIZE, json.dumps({"type": "close_stream"})],
        [VAD, STT_PARTIAL, STT_FINAL, {**VAD, "type": "speech_ended"}, error],
    )
    assert validate_exchange(session) is True


def test_legacy_stt_session_matches_with_its_deviations() -> None:
    final = {k: v for k, v in STT_FINAL.items() if k != "transcription"}
    final["words"] = [{**final["words"][0], "speaker": 0}]
    region = {
        "type": "error",
        "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION",
        "message": "Language 'ta' has not been enabled in this region.",
        "session_id": "4b5ae9cb",
    }
    for query in ("language=en&sample_rate=24000", "language=multi", "language=multi-eu", ""):
        session = stt_session(
            "/waves/v1/pulse/get_text", [b"\x00" * 64, FINALIZE], [final, region], query=query
        )
        assert validate_exchange(session) is True


@pytest.mark.parametrize(
    ("path", "query", "frames_in", "frames_out", "found"),
    [
        (
            "/waves/v1/stt/live",
            LIVE_QUERY,
            [json.dumps({"type": "flush"})],
            [],
            "client frame 0 at type: 'flush' is not one of ['close_stream']",
        ),
        (
            "/waves/v1/stt/live",
            LIVE_QUERY,
            [],
            [{**STT_PARTIAL, "is_final": "no"}],
            "server frame 0 at is_final: 'no' is not of type 'boolean'",
        ),
        (
            "/waves/v1/stt/live",
            LIVE_QUERY,
            [],
            [{**STT_FINAL, "words": [{"word": "Hi", "speaker": 0}]}],
            "server frame 0 at words[0].speaker: 0 is not of type 'string'",
        ),
        (
            "/waves/v1/stt/live",
            LIVE_QUERY,
            [],
            [{"type": "speech_started", "timestamp": 1}],
            "'session_id' is a required property",
        ),
        ("/waves/v1/stt/live", LIVE_QUERY, [], [b"\x00"], "server frame 0: a binary frame"),
        (
            "/waves/v1/stt/live",
            "language=en",
            [],
            [],
            "request: query: 'model' is a required property",
        ),
        (
            "/waves/v1/stt/live",
            "model=pulse-pro&language=en",
            [],
            [],
            "request: query parameter 'model': 'pulse-pro' is not one of ['pulse']",
        ),
        (
            "/waves/v1/stt/live",
            LIVE_QUERY + "&sample_rate=11025",
            [],
            [],
            "request: query parameter 'sample_rate': 11025 is not one of",
        ),
        (
            "/waves/v1/stt/live",
            LIVE_QUERY + "&word_timestamps=True",
            [],
            [],
            "request: query parameter 'word_timestamps': 'True' is not one of ['true', 'false']",
        ),
        (
            "/waves/v1/pulse/get_text",
            "language=xx",
            [],
            [],
            "request: query parameter 'language': 'xx' is not one of",
        ),
        (
            "/waves/v1/pulse/get_text",
            "",
            [],
            [{"type": "error", "message": "x", "detail": 1}],
            "server frame 0: Additional properties are not allowed ('detail' was unexpected)",
        ),
        (
            "/waves/v1/pulse/get_text",
            "",
            [],
            [{"transcript": "hi"}],
            "server frame 0: 'session_id' is a required property",
        ),
    ],
)
def test_stt_socket_traffic_that_breaks_the_contract(
    path, query, frames_in, frames_out, found
) -> None:
    with pytest.raises(ContractViolation) as caught:
        validate_exchange(stt_session(path, frames_in, frames_out, query=query))
    assert found in str(caught.value), str(caught.value)


def test_socket_deviations_are_documented() -> None:
    assert contract.SOCKET_DEVIATIONS and contract.REQUEST_DEVIATIONS
    for deviation in (*contract.SOCKET_DEVIATIONS, *contract.REQUEST_DEVIATIONS):
        assert deviation.reason.strip()
    values = [d.query_values for d in contract.SOCKET_DEVIATIONS if d.query_values]
    assert values == [{"language": ("multi-eu", "multi")}]
    assert any("observed/baseline-pulse-stt.json" in d.reason for d in contract.SOCKET_DEVIATIONS)


STT_OK = {
    "status": "success",
    "transcription": "Hi.",
    "words": [],
    "utterances": [],
    "metadata": {"duration": 1.0, "fileSize": 10},
}


@pytest.mark.parametrize("path", ["/waves/v1/stt/", "/waves/v1/pulse/get_text"])
def test_raw_audio_may_carry_its_audio_mime_type(path: str) -> None:
    query = "model=pulse&language=en" if path.endswith("/") else "language=en"
    fields = {"query": query, "status": 200, "response_headers": JSON, "response_body": STT_OK}
    audio = exchange(
        "POST", path, headers={**AUTH, "content-type": "audio/wav"}, body=b"RIFF....", **fields
    )
    assert validate_exchange(audio) is True
    text = exchange(
        "POST", path, headers={**AUTH, "content-type": "text/plain"}, body=b"RIFF....", **fields
    )
    with pytest.raises(ContractViolation, match="text/plain"):
        validate_exchange(text)


def test_prerecorded_stt_encoding_is_ignored_thanks_to_a_deviation(monkeypatch) -> None:
    """REFERENCE §0.5: any `encoding` / `sample_rate` passes on the pre-recorded routes; other
    query parameters are still checked."""
    raw = {**AUTH, "content-type": "application/octet-stream"}
    fields = {"status": 200, "response_headers": JSON, "response_body": STT_OK, "body": b"\0\0"}
    bogus = "language=en&encoding=no-such-encoding&sample_rate=x"
    assert validate_exchange(
        exchange("POST", "/waves/v1/pulse/get_text", query=bogus, headers=raw, **fields)
    )
    assert contract.QUERY_DEVIATIONS[0].reason.strip()
    monkeypatch.setattr(contract, "QUERY_DEVIATIONS", ())
    with pytest.raises(ContractViolation, match="encoding"):
        validate_exchange(
            exchange("POST", "/waves/v1/pulse/get_text", query=bogus, headers=raw, **fields)
        )
    monkeypatch.undo()
    with pytest.raises(ContractViolation, match="language"):
        validate_exchange(
            exchange(
                "POST", "/waves/v1/pulse/get_text", query=bogus.replace("=en", "=klingon"),
                headers=raw, **fields,
            )
        )  # fmt: skip


def test_legacy_stt_429_passes_thanks_to_a_deviation() -> None:
    limited = exchange(
        "POST", "/waves/v1/pulse/get_text", query="language=en",
        headers={**AUTH, "content-type": "application/octet-stream"}, body=b"RIFF",
        status=429, response_headers=JSON, response_body={"error": "Rate limit exceeded."},
    )  # fmt: skip
    assert validate_exchange(limited) is True
    with pytest.raises(ContractViolation, match="Unknown response http status: 429"):
        validate_exchange(limited, deviations=())


def test_other_websocket_paths_are_not_checked() -> None:
    session = exchange("GET", "/waves/v1/s2s", kind="websocket", status=101)
    assert validate_exchange(session) is False


def test_undocumented_path_is_not_checked() -> None:
    assert validate_exchange(exchange("GET", "/waves/v1/health", status=200)) is False


# -- loading the spec files --------------------------------------------------------------------


@pytest.mark.parametrize("name", contract.spec_names() if contract.specs_available() else [])
def test_spec_file_loads(name: str) -> None:
    """Every base file, merged with its SDK override, is a valid OpenAPI document, except
    for the defects listed (with reasons) in SPEC_REPAIRS and MERGE_FALLBACKS, which the
    harness works around; each listed defect must be real, and nothing else may need it."""
    from openapi_core import OpenAPI
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    assert contract.openapi(name) is contract.openapi(name)  # built once
    if name in contract.SPEC_REPAIRS or name in contract.MERGE_FALLBACKS:
        with pytest.raises(OpenAPIValidationError):
            OpenAPI.from_dict(contract.spec_document(name, fixes=False))
    else:
        assert contract.spec_document(name) == contract.spec_document(name, fixes=False)


def test_listed_spec_defects_name_existing_files() -> None:
    names = set(contract.spec_names())
    assert set(contract.SPEC_REPAIRS) <= names
    assert set(contract.MERGE_FALLBACKS) <= names


def test_overrides_are_merged() -> None:
    # tts-openapi-overrides.yaml renames the operations for the SDK
    document = contract.spec_document("tts-openapi.yaml")
    operation = document["paths"]["/waves/v1/tts"]["post"]
    assert operation["operationId"] == "synthesize_tts"
    assert "responses" in operation  # still the base file's operation
    # a merge fallback keeps the base file alone
    voices = contract.spec_document("get-voices-openapi.yaml")
    assert voices["paths"]["/waves/v1/{model}/get_voices"]["get"]["parameters"][0]["required"]


def test_merge_overrides_semantics() -> None:
    base: dict[str, Any] = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    override: dict[str, Any] = {"a": {"c": [3], "e": {"f": True}}, "d": {"now": "a mapping"}}
    merged = contract.merge_overrides(base, override)
    assert merged == {"a": {"b": 1, "c": [3], "e": {"f": True}}, "d": {"now": "a mapping"}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    merged["a"]["e"]["f"] = False
    assert override["a"]["e"]["f"] is True


def test_importing_the_harness_is_cheap() -> None:
    code = "import sys, tests.contract; sys.exit('openapi_core' in sys.modules or 'yaml' in sys.modules)"
    repo = Path(contract.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, check=False, timeout=60)
    assert done.returncode == 0, "tests.contract imports openapi-core or yaml at import time"


def chat_exchange(message: dict[str, Any]) -> Exchange:
    completion = {
        "id": "chatcmpl-a670053f3ab2ed8f",
        "object": "chat.completion",
        "created": 1740000000,
        "model": "electron",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
    }
    return exchange(
        "POST",
        "/waves/v1/chat/completions",
        headers={**AUTH, "content-type": "application/json"},
        body={"model": "electron", "messages": [{"role": "user", "content": "Hi"}]},
        status=200,
        response_headers={"content-type": "application/json", "x-request-id": "r"},
        response_body=completion,
    )


def test_documented_null_tool_calls_pass_thanks_to_a_nullable_extension() -> None:
    documented = {"role": "assistant", "content": "Hi!", "tool_calls": None}
    assert validate_exchange(chat_exchange(documented)) is True
    with pytest.raises(ContractViolation, match="content"):
        validate_exchange(chat_exchange({"role": "assistant", "content": 5}))
