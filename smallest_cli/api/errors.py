"""One normaliser for every error body the API sends (REFERENCE §3 and api/observed).

There is no common envelope: each service has its own, and the live server sometimes sends
zod issue arrays where the spec promises strings. Whatever arrives, the user gets one
message, the machine-readable code if any, the per-field details, and the request id.

    {"error": "InvalidRequest", "message": "…"}                 TTS, voices (spec)
    {"error": [{"code","path","message"}, …]}                    TTS 400 (observed)
    {"error": "…", "error_code": "…"}                            voice cloning
    {"error": "…", "details": [zod issue, …]}                    pronunciation dicts
    {"errors": "…", "status": "error", "message": "…"}           Pulse legacy 400
    {"status": "error", "error_code": "…", "message": "…", …}   retired routes (410), regions
    {"message": "…"}  /  {"error": "…"}                          Pulse legacy 401
    {"error": "…", "request_id": "…", "details": […]}            unified STT
    {"error": {"message", "type", "details", "request_id"}}      Electron
    {"type": "error", "message": "…", "error_code": "…"}         STT WebSocket frames
    {"status": "error", "error": {"message", "code"}}            TTS WebSocket frames
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from smallest_cli.errors import (
    APIError,
    APIStatusError,
    GoneError,
    RateLimitError,
    status_error_class,
)

RETRYABLE_STATUSES = frozenset({429, 502, 503})
MAX_TEXT_BODY = 300


@dataclass
class ErrorInfo:
    """What could be read out of an error body."""

    message: str | None = None
    code: str | None = None
    details: list[str] = field(default_factory=list)
    request_id: str | None = None
    recommended_endpoint: str | None = None


def parse_body(body: bytes) -> Any:
    """JSON if the body is JSON, else the text, else None."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def normalise(body: Any) -> ErrorInfo:
    """Read message, code, details and request id out of any known error shape."""
    info = ErrorInfo()
    if isinstance(body, list):
        info.details = issue_lines(body)
    elif isinstance(body, str):
        text = body.strip()
        if text and not text.lstrip().startswith("<"):  # an HTML error page says nothing useful
            info.message = text if len(text) <= MAX_TEXT_BODY else text[:MAX_TEXT_BODY] + "…"
    elif isinstance(body, Mapping):
        _read_mapping(body, info)
    if info.message is None and info.details:
        info.message, info.details = "; ".join(info.details), []
    return info


def _read_mapping(body: Mapping[str, Any], info: ErrorInfo) -> None:
    error = body.get("error")
    if isinstance(error, Mapping):  # Electron (OpenAI style) and the TTS WebSocket schema
        info.message = _text(error.get("message"))
        info.code = _text(error.get("type")) or _text(error.get("code"))
        info.details = issue_lines(error.get("details"))
        info.request_id = _text(error.get("request_id"))
    elif isinstance(error, list):  # zod issues where the spec promises a string
        info.details = issue_lines(error)
    message = _text(body.get("message"))
    error_text = _text(error)
    if info.message is None:
        if message is not None:
            info.message = message
            if error_text is not None and info.code is None:
                info.code = error_text  # {"error": "<type>", "message": "<text>"}
        elif error_text is not None:
            info.message = error_text
    info.code = _text(body.get("error_code")) or info.code
    errors = body.get("errors")
    if errors is not None:
        info.details = [*(issue_lines(errors) or [str(errors)]), *info.details]
    info.details += issue_lines(body.get("details"))
    if info.message is None and info.code is not None:
        info.message = info.code
    info.request_id = info.request_id or _text(body.get("request_id"))
    info.recommended_endpoint = _text(body.get("recommended_endpoint"))


def issue_lines(value: Any) -> list[str]:
    """`path.to.field: message` for each zod-style issue; other values as compact text."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        value = [value]
    lines = []
    for issue in value:
        if isinstance(issue, Mapping) and "message" in issue:
            path = ".".join(str(p) for p in issue.get("path") or [])
            lines.append(f"{path}: {issue['message']}" if path else str(issue["message"]))
        elif isinstance(issue, str):
            lines.append(issue)
        else:
            lines.append(json.dumps(issue, separators=(",", ":"), ensure_ascii=False))
    return lines


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def status_error(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
) -> APIStatusError:
    """The APIStatusError for an error response, whatever its body looks like."""
    parsed = parse_body(body)
    info = normalise(parsed)
    try:
        reason = HTTPStatus(status_code).phrase
    except ValueError:
        reason = "error"
    request_id = _header(headers, "x-request-id") or info.request_id
    cls = status_error_class(status_code)
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "code": info.code,
        "request_id": request_id,
        "details": info.details,
        "body": parsed,
    }
    if cls is GoneError:
        kwargs["recommended_endpoint"] = info.recommended_endpoint
    return cls(
        info.message or reason,
        retryable=status_code in RETRYABLE_STATUSES,
        retry_after=retry_after_seconds(headers),
        **kwargs,
    )


def frame_error(frame: Mapping[str, Any]) -> APIError:
    """An APIError from an error frame received over a WebSocket (a RateLimitError for a
    frame whose code is 429: no slot was free for that synthesis)."""
    info = normalise(frame)
    message = info.message or "the server reported an error"
    if info.details:
        message += " (" + "; ".join(info.details) + ")"
    request_id = info.request_id or _text(frame.get("request_id"))
    if info.code == "429":
        return RateLimitError(
            message, status_code=429, code=info.code, request_id=request_id, retryable=True
        )
    return APIError(message, code=info.code, request_id=request_id)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait (`retry-after-ms`, `Retry-After` seconds or date)."""
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def refuse_not_audio(headers: Mapping[str, str], expected: str = "audio") -> None:
    """Raise if a 200 answer is a web page, JSON or other text rather than `expected`.

    A proxy or captive portal answers 200 with its own page; saved, it would be noise in
    place of the user's file. `text/event-stream` is text, and passes when expected.
    """
    kind = (_header(headers, "content-type") or "").split(";")[0].strip().lower()
    if kind == "text/event-stream" and expected == "an event stream":
        return
    if "html" in kind:
        what = "an HTML page (a proxy or captive portal?)"
    elif kind == "application/json" or kind.endswith("+json"):
        what = "JSON"
    elif kind.startswith("text/") or kind.endswith("xml"):
        what = f"text ({kind})"
    else:
        return
    raise APIError(
        f"the API answered 200 with {what} instead of {expected}; nothing was saved",
        hint="check the network (a proxy or sign-in page?) and --base-url, then try again",
        request_id=_header(headers, "x-request-id"),
    )
