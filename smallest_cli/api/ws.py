"""JSON over a WebSocket: the framing both the TTS and the STT sockets use.

The service modules decide which frames are errors (`frame_error` builds the APIError);
this module sends and receives JSON and turns unexpected closes into clear errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from smallest_cli.errors import APIConnectionError, APIError, PolicyCloseError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

# Close codes with a documented meaning (REFERENCE §4.2, §5).
POLICY_VIOLATION = 1008


def send_json(connection: ClientConnection, message: Mapping[str, Any]) -> None:
    try:
        connection.send(json.dumps(message, ensure_ascii=False))
    except ConnectionClosed as exc:
        raise closed_error(exc) from exc


def iter_json(
    connection: ClientConnection,
    timeout: float | None = None,
    *,
    grace: Callable[[], float] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each JSON text frame until the server closes normally.

    Silence for `timeout` seconds is a stall, unless `grace()` says how many seconds more
    the server may rightly stay quiet (it owes nothing yet): then the wait goes on that long.
    """
    wait = timeout
    while True:
        try:
            raw = connection.recv(timeout=wait)
        except ConnectionClosedOK:
            return
        except ConnectionClosed as exc:
            raise closed_error(exc) from exc
        except TimeoutError as exc:
            more = grace() if grace is not None else 0.0
            if more > 0:
                wait = more
                continue
            raise APIConnectionError(
                f"the server sent nothing for {timeout:g} s", hint="raise --timeout, or try again"
            ) from exc
        wait = timeout
        frame = decode_frame(raw)
        if isinstance(frame, dict):
            yield frame


def decode_frame(raw: str | bytes) -> Any:
    """A frame's JSON value; a frame that is not JSON is the server's fault, said as such.
    Whether the value is an object the caller decides (both sockets skip the others)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except ValueError:
        raise APIError(f"the server sent a frame that is not JSON: {raw[:80]!r}") from None


def closed_error(exc: ConnectionClosed) -> APIError:
    """An APIError describing why the server closed the socket."""
    frame = exc.rcvd
    code = frame.code if frame is not None else None
    reason = (frame.reason if frame is not None else "") or "no reason given"
    if code == POLICY_VIOLATION:
        return PolicyCloseError(
            f"the server closed the WebSocket (1008, policy violation): {reason}",
            hint=_policy_hint(reason),
            code="1008",
        )
    if code is None:
        return APIConnectionError(
            "the WebSocket connection was lost without a close frame", hint="try again"
        )
    return APIConnectionError(f"the server closed the WebSocket ({code}: {reason})")


def _policy_hint(reason: str) -> str:
    """What to do about a 1008 close, from what its reason says."""
    if any(word in reason.lower() for word in ("concurren", "too many", "limit")):
        return "too many sessions at once for this account; close others, or raise --max-wait"
    return "the server refused the session by its policy; check the request, or try again"
