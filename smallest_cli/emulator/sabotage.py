"""How the emulator misbehaves on the wire when a fault says so (the grammar is in `faults`).

Canned answers (`html`, `malformed-json`) replace the service's answer; the others wrap the
ASGI `send` of the route that answers, and cut, stall or rewrite what it sends. A stall
lasts until the client goes away or the server stops. `reset` and a WebSocket close with
1006 need the connection itself: the servers of `server` register here (`register`), and
where a request did not come through one (an in-memory ASGI client) the connection is
merely closed.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import weakref
from typing import Any, Protocol

from smallest_cli.emulator.faults import CUTS, Fault
from smallest_cli.emulator.handshake import Message, Receive, Scope, Send

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in to continue</title></head>\n"
    b"<body><h1>Sign in to continue</h1><p>This network requires you to sign in before "
    b"you can reach the internet. (A page injected by the emulator's html fault.)</p>"
    b"</body></html>\n"
)
MALFORMED_JSON = b'{"status": "success", "data": {"audio": "UklGRiQAAABXQVZF'
RESET_PAUSE = 0.05  # lets the client read what was sent before the reset reaches it


class Cut(Exception):
    """Raised inside `send` to stop the route: the fault has taken over the connection."""


class _Server(Protocol):
    @property
    def server_state(self) -> Any: ...


_servers: weakref.WeakSet[Any] = weakref.WeakSet()


def register(server: _Server) -> None:
    """Let faults reach the connections of `server` (a uvicorn server)."""
    _servers.add(server)


def abort_connection(scope: Scope) -> bool:
    """Reset the TCP connection `scope` came in on (RST, no FIN); False if it is not found."""
    client, local = scope.get("client"), scope.get("server")
    for server in list(_servers):
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is None or transport.is_closing():
                continue
            peer = transport.get_extra_info("peername")
            here = transport.get_extra_info("sockname")
            if client and local and tuple(peer[:2]) == tuple(client) and here[1] == local[1]:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    linger = struct.pack("ii", 1, 0)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                transport.abort()
                return True
    return False


def canned(fault: Fault) -> tuple[bytes, bytes] | None:
    """The body and content type that replace the service's answer, if `fault` has one."""
    if fault.what == "html":
        return HTML_PAGE, b"text/html; charset=utf-8"
    if fault.what == "malformed-json":
        return MALFORMED_JSON, b"application/json"
    return None


def http_send(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Send:
    """`send` for a route whose answer `fault` spoils (drop, reset, stall, stall-body,
    truncate-sse); the cuts act after `fault.frames` whole body chunks."""
    if fault.what == "truncate-sse":
        return _truncating_sse(send)
    passed = 0

    async def wrapped(message: Message) -> None:
        nonlocal passed
        if message["type"] != "http.response.body":
            await send(message)
            return
        if fault.what == "stall":
            await _until_gone(receive)
            raise Cut()
        if passed < fault.frames and message.get("more_body", False):
            passed += 1  # drop:N and the like: these chunks go out whole
            await send(message)
            return
        body = message.get("body", b"")
        await send({"type": message["type"], "body": body[: len(body) // 2], "more_body": True})
        if fault.what == "stall-body":
            await _until_gone(receive)
        elif fault.what == "reset":
            await asyncio.sleep(RESET_PAUSE)
            abort_connection(scope)
        raise Cut()

    return wrapped


def websocket_send(fault: Fault, scope: Scope, receive: Receive, send: Send) -> Send:
    """`send` for a WebSocket route whose session `fault` spoils."""
    sent = 0

    async def wrapped(message: Message) -> None:
        nonlocal sent
        kind = message["type"]
        if fault.what == "ws-close":
            if kind == "websocket.send" and sent < fault.frames:
                sent += 1
            elif kind in ("websocket.send", "websocket.close"):
                await _close(fault.close_code or 1011, scope, send)
                raise Cut()
            await send(message)
            return
        if kind != "websocket.send":
            await send(message)
            return
        if fault.what in CUTS and sent < fault.frames:
            sent += 1
            await send(message)
            return
        if fault.what == "malformed-json":
            if not sent and message.get("text") is not None:
                message = {**message, "text": message["text"][: len(message["text"]) // 2]}
            sent += 1
            await send(message)
            return
        if fault.what in ("stall", "stall-body"):
            await _until_gone(receive)
        elif fault.what == "reset":
            abort_connection(scope)
        raise Cut()

    return wrapped


async def _close(code: int, scope: Scope, send: Send) -> None:
    if code == 1006 and abort_connection(scope):
        return
    reason = "closed by the emulator's ws-close fault"
    await send(
        {"type": "websocket.close", "code": 1011 if code == 1006 else code, "reason": reason}
    )


async def _until_gone(receive: Receive) -> None:
    """Wait until the client disconnects (the server's stop cancels this too)."""
    while True:
        message = await receive()
        if message["type"] in ("http.disconnect", "websocket.disconnect"):
            return


def _truncating_sse(send: Send) -> Send:
    """Forward every SSE frame but the last; then end the stream as if it were complete."""
    held = b""
    is_sse = False

    async def wrapped(message: Message) -> None:
        nonlocal held, is_sse
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            is_sse = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            await send(message)
            return
        if message["type"] != "http.response.body" or not is_sse:
            await send(message)
            return
        held += message.get("body", b"")
        frames = held.split(b"\n\n")
        # frames[-1] is an incomplete frame (or b""); frames[-2] is the last complete one.
        ready, held = b"".join(f + b"\n\n" for f in frames[:-2]), b"\n\n".join(frames[-2:])
        more = message.get("more_body", False)
        if ready or not more:
            await send({"type": "http.response.body", "body": ready, "more_body": more})

    return wrapped
