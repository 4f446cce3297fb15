"""Every error body shape the API is known to send becomes one clear message."""

from __future__ import annotations

import json

import pytest

from smallest_cli.api.errors import frame_error, normalise, retry_after_seconds, status_error
from smallest_cli.errors import (
    AuthenticationError,
    BadRequestError,
    ExitCode,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from tests.shared import shared_path


@pytest.mark.parametrize(
    ("body", "message", "code", "details"),
    [
        (
            {"error": "InvalidRequest", "message": "The 'text' field is required."},
            "The 'text' field is required.",
            "InvalidRequest",
            [],
        ),
        (
            {"error": [{"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}]},
            "voice_id: Invalid Voice ID",
            None,
            [],
        ),
        (
            {"error": "voice clone failed", "error_code": "voice_clone_timeout"},
            "voice clone failed",
            "voice_clone_timeout",
            [],
        ),
        (
            {
                "error": "Invalid request body",
                "details": [{"code": "invalid_type", "path": ["items", 0, "word"], "message": "Required"}],
            },
            "Invalid request body",
            None,
            ["items.0.word: Required"],
        ),
        (
            {"errors": "Audio data too large", "status": "error", "message": "Error handling audio data"},
            "Error handling audio data",
            None,
            ["Audio data too large"],
        ),
        (
            {"status": "error", "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION", "message": "Language 'multi-asian' has not been enabled in this region."},
            "Language 'multi-asian' has not been enabled in this region.",
            "LANGUAGE_NOT_ENABLED_IN_REGION",
            [],
        ),
        ({"message": "Unauthorized: No tokens provided"}, "Unauthorized: No tokens provided", None, []),
        ({"error": "unauthorized"}, "unauthorized", None, []),
        (
            {"error": {"message": "Invalid input data", "type": "invalid_request_error",
                       "details": [{"code": "custom", "message": "n > 1 is not supported", "path": ["n"]}],
                       "request_id": "9db74058"}},
            "Invalid input data",
            "invalid_request_error",
            ["n: n > 1 is not supported"],
        ),
        ({"type": "error", "status": "error", "message": "bad audio"}, "bad audio", None, []),
        ({"status": "error", "error": {"message": "Invalid voice", "code": "E42"}}, "Invalid voice", "E42", []),
        ("upstream exploded", "upstream exploded", None, []),
        ("<html><body>502 Bad Gateway</body></html>", None, None, []),
        (None, None, None, []),
        ({"status": "error", "error_code": "SOMETHING"}, "SOMETHING", "SOMETHING", []),
    ],
)  # fmt: skip
def test_normalise_reads_every_known_shape(body, message, code, details) -> None:
    info = normalise(body)
    assert (info.message, info.code, info.details) == (message, code, details)


def test_request_id_comes_from_header_or_body() -> None:
    from_header = status_error(
        400, {"X-Request-Id": "hdr-1"}, b'{"error":"x","request_id":"body-1"}'
    )
    from_body = status_error(400, {}, b'{"error":"x","request_id":"body-1"}')
    from_electron = status_error(
        400, {}, json.dumps({"error": {"message": "m", "request_id": "el-1"}}).encode()
    )
    assert (from_header.request_id, from_body.request_id, from_electron.request_id) == (
        "hdr-1",
        "body-1",
        "el-1",
    )


@pytest.mark.parametrize(
    ("status", "cls", "exit_code", "retryable"),
    [
        (400, BadRequestError, ExitCode.ERROR, False),
        (401, AuthenticationError, ExitCode.AUTH, False),
        (403, PermissionDeniedError, ExitCode.AUTH, False),
        (404, NotFoundError, ExitCode.ERROR, False),
        (410, GoneError, ExitCode.ERROR, False),
        (413, BadRequestError, ExitCode.ERROR, False),
        (429, RateLimitError, ExitCode.ERROR, True),
        (500, ServerError, ExitCode.ERROR, False),
        (502, ServerError, ExitCode.ERROR, True),
        (503, ServerError, ExitCode.ERROR, True),
    ],
)
def test_status_maps_to_class_exit_code_and_retry(status, cls, exit_code, retryable) -> None:
    error = status_error(status, {}, b"")
    assert type(error) is cls
    assert error.exit_code == exit_code
    assert error.retryable is retryable
    assert error.message  # the reason phrase when the body says nothing


def test_retired_route_body_names_the_replacement() -> None:
    body = {
        "status": "error",
        "error_code": "MODEL_DEPRECATED",
        "message": "This model is retired. Please migrate to lightning-v3.1 via /waves/v1/lightning-v3.1/get_speech.",
        "recommended_endpoint": "/waves/v1/lightning-v3.1/get_speech",
    }
    error = status_error(410, {}, json.dumps(body).encode())
    assert isinstance(error, GoneError)
    assert error.code == "MODEL_DEPRECATED"
    assert error.recommended_endpoint == "/waves/v1/lightning-v3.1/get_speech"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_after(headers, seconds) -> None:
    assert retry_after_seconds(headers) == seconds


def test_websocket_error_frames() -> None:
    timeout = frame_error(
        {"status": "error", "message": "Connection timed out after 60 seconds of inactivity"}
    )
    assert timeout.message == "Connection timed out after 60 seconds of inactivity"
    stt = frame_error(
        {"type": "error", "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION", "message": "no"}
    )
    assert (stt.message, stt.code) == ("no", "LANGUAGE_NOT_ENABLED_IN_REGION")


@pytest.mark.parametrize(
    "frame",
    [
        {"status": "error", "message": "voice_id: Invalid Voice ID", "error": {"message": "voice_id: Invalid Voice ID", "code": "400"}},
        {"status": "error", "error": {"message": "voice_id: Invalid Voice ID", "code": "400"}},
        {"status": "error", "message": "voice_id: Invalid Voice ID", "code": "400"},
    ],
)  # fmt: skip
def test_tts_websocket_error_message_is_read_from_either_place(frame) -> None:
    # REFERENCE §0.7: the spec nests it under `error`, the vendor's clients read the top level
    error = frame_error(frame)
    assert error.message == "voice_id: Invalid Voice ID"


def _observed_error_bodies() -> list[tuple[str, str]]:
    bodies = []
    for path in sorted(shared_path("api", "observed").glob("*.json")):
        for result in json.loads(path.read_text())["results"]:
            if result.get("error_body"):
                bodies.append((f"{path.stem}:{result['label']}", result["error_body"]))
    return bodies


def test_every_observed_error_body_gives_a_specific_message() -> None:
    bodies = _observed_error_bodies()
    assert bodies, "the observed files should hold error bodies"
    for label, body in bodies:
        error = status_error(400, {}, body.encode())
        assert error.message and error.message != "Bad Request", label
        assert "{" not in error.message, f"{label}: raw JSON leaked into {error.message!r}"
