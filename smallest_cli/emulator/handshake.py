"""Refusing a WebSocket handshake with a plain HTTP answer, as the real API does.

The middleware refuses bad keys and injected faults this way; routes use it for their own
refusals (too many open sockets, retired socket routes). A server without the ASGI
`websocket.http.response` extension cannot send an HTTP answer, so the socket is closed
with 1008 (policy violation) instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from smallest_cli import __version__
from smallest_cli.emulator.errors import json_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

EMULATOR_HEADER = f"smallest-cli/{__version__}; synthetic audio and transcripts"


async def deny(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer the pending handshake with `status` and the JSON `body` (or, given bytes and
    a content-type among `headers`, that body as is)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    payload = body if isinstance(body, bytes) else json_bytes(body)
    extra = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                *((name.encode(), value.encode()) for name, value in extra.items()),
                (b"content-length", str(len(payload)).encode()),
                (b"x-emulator", EMULATOR_HEADER.encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": payload})
