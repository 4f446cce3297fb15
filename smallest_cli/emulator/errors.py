"""Error responses in each service's own shape (REFERENCE §3): there is no common envelope."""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any, Literal

Service = Literal["tts", "clone", "dict", "pulse", "stt", "llm", "other"]


def service_of(path: str) -> Service:
    """Which service a path belongs to, for the error shape it would answer with."""
    if path.startswith(("/waves/v1/voice-cloning", "/waves/v1/prof-voice-cloning")):
        return "clone"
    if path.startswith("/waves/v1/pronunciation-dicts"):
        return "dict"
    if path.startswith("/waves/v1/pulse"):
        return "pulse"
    if path.startswith("/waves/v1/stt"):
        return "stt"
    if path.startswith("/waves/v1/chat"):
        return "llm"
    if path.startswith("/waves/"):
        return "tts"  # TTS, voices and the retired model-named routes
    return "other"


def error_body(
    service: Service, status: int, message: str, *, code: str | None = None
) -> dict[str, Any]:
    """The JSON body `service` sends with an error `status`."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if service in ("tts", "other"):
        return {"error": code or phrase.replace(" ", ""), "message": message}
    if service == "stt":
        return {"error": message, "request_id": str(uuid.uuid4())}
    if service == "llm":
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "api_error")
        if 400 <= status < 429 and status != 401:
            kind = "invalid_request_error"
        return {
            "error": {"message": message, "type": code or kind, "request_id": str(uuid.uuid4())}
        }
    body: dict[str, Any] = {"error": message}
    if service == "clone" and status == 500 and code is None:
        code = "voice_clone_timeout"  # an injected 500 is the transient one (§8.1: retry)
    if code:
        body["error_code"] = code
    return body


def unauthorized_body(service: Service, *, header_missing: bool) -> dict[str, Any]:
    """The 401 body each service sends (Pulse even tells a missing header from a bad key)."""
    if service in ("tts", "other"):
        return {"error": "Unauthorized", "message": "Bearer token is missing or invalid."}
    if service == "pulse":
        if header_missing:
            return {"message": "Unauthorized: No tokens provided"}
        return {"error": "unauthorized"}
    if service in ("clone", "dict"):
        return {"error": "Unauthorized"}
    return error_body(service, 401, "Invalid or missing API key")


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
