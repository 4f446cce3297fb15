"""The emulator's ASGI application: the service routes behind one middleware.

The middleware does, in order, for every request under /waves: record the exchange, wait
the configured latency, apply an injected fault, check the bearer key (any key starting with `sk_`
is accepted, as a stand-in cannot know real keys), then hand over to the service route.
Everything under /_emulator is the control surface: health (with the base URL of each region
served), faults, limits, pacing, traffic, webhook deliveries, and the voice previews that Get
All Voices links to and the sample clips of voice clones (no key needed, like the real CDN).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import re
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route

from smallest_cli.credentials import mask
from smallest_cli.emulator import retired, sabotage, tts, voices
from smallest_cli.emulator.errors import error_body, json_bytes, service_of, unauthorized_body
from smallest_cli.emulator.handshake import EMULATOR_HEADER, Message, Receive, Scope, Send, deny
from smallest_cli.emulator.state import MAX_RECORDED_BODY, EmulatorState, Exchange, Pacing

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KEY_PATTERN = re.compile(r"^Bearer (sk_\S*)$")
MAX_RECORDED_FRAMES = 10_000


def create_app(state: EmulatorState | None = None) -> EmulatorMiddleware:
    """An emulator application around `state` (a fresh one if not given)."""
    state = state or EmulatorState()
    inner = Starlette(
        routes=[
            *control_routes(),
            *voices.routes,
            *tts.routes,
            _Deferred("smallest_cli.emulator.tts_ws"),
            _Deferred("smallest_cli.emulator.stt"),
            _Deferred("smallest_cli.emulator.stt_ws"),
            _Deferred("smallest_cli.emulator.chat"),
            _Deferred("smallest_cli.emulator.pronunciation_dicts"),
            _Deferred("smallest_cli.emulator.cloning"),
            *retired.routes,
        ],
        exception_handlers={HTTPException: _http_error},
    )
    inner.state.emulator = state
    return EmulatorMiddleware(inner, state)


class _Deferred(BaseRoute):
    """The routes of a module, imported when a request first gets as far as them: a
    `--emulator` command that only synthesizes speech never pays for importing the rest."""

    def __init__(self, module: str) -> None:
        self.module = module

    @functools.cached_property
    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = importlib.import_module(self.module).routes
        return routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        partial: Scope | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, "emulator.route": route}
            if match is Match.PARTIAL and partial is None:
                partial = {**child, "emulator.route": route}
        return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["emulator.route"].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


class EmulatorMiddleware:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket" and not scope["path"].startswith("/_emulator"):
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # -- HTTP -----------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        send = _with_emulator_headers(send)
        if path.startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        exchange = self._arrived("http", scope)
        receive, send = _recording_http(exchange, receive, send)
        try:
            await self._serve_http(scope, receive, send, exchange)
        except sabotage.Cut:
            pass  # returning without finishing the body makes the server drop the connection

    def _arrived(self, kind: str, scope: Scope) -> Exchange:
        """Record a request as it arrives (then fill the record in as it is served), so the
        log lists it even before the answer is complete; routes find it in the scope."""
        exchange = _exchange(kind, scope)
        scope["emulator.exchange"] = exchange
        self.state.record(exchange)
        return exchange

    async def _serve_http(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange
    ) -> None:
        path = scope["path"]
        await self._delay()
        fault = self.state.faults.take(path)
        if fault is not None:
            exchange.fault = fault.spec
            if fault.status is not None:
                headers = {"x-emulator-fault": fault.spec}
                if fault.retry_after is not None:
                    headers["retry-after"] = fault.retry_after
                phrase = _phrase(fault.status)
                body = error_body(
                    service_of(path), fault.status, f"{phrase} (fault injected by the emulator)"
                )
                await _send_json(send, fault.status, body, headers)
                return
            answer = sabotage.canned(fault)
            if answer is not None:  # a page or body in place of the service's answer
                await _send_raw(send, 200, *answer, {"x-emulator-fault": fault.spec})
                return
        denial = _check_bearer(_authorization(scope), path)
        if denial is not None:
            await _send_json(send, 401, denial)
            return
        if fault is not None:  # let the route answer, and spoil what it sends
            send = sabotage.http_send(fault, scope, receive, send)
        await self.app(scope, receive, send)

    # -- WebSocket ------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = self._arrived("websocket", scope)
        receive, send = _recording_ws(exchange, receive, send)
        try:
            await self._delay()
            fault = self.state.faults.take(scope["path"], "websocket")
            if fault is not None:
                exchange.fault = fault.spec
                headers = {"x-emulator-fault": fault.spec}
                if fault.status is not None:
                    if fault.retry_after is not None:
                        headers["retry-after"] = fault.retry_after
                    body = error_body(
                        service_of(scope["path"]), fault.status, _phrase(fault.status)
                    )
                    await deny(scope, receive, send, fault.status, body, headers)
                    return
                if fault.what == "html":  # the page a proxy answers the handshake with
                    page, content_type = sabotage.HTML_PAGE, "text/html; charset=utf-8"
                    await deny(
                        scope, receive, send, 200, page, {**headers, "content-type": content_type}
                    )
                    return
            denial = _check_bearer(_authorization(scope), scope["path"])
            if denial is not None:
                await deny(scope, receive, send, 401, denial)
                return
            if fault is not None:
                send = sabotage.websocket_send(fault, scope, receive, send)
            await self.app(scope, receive, send)
        except sabotage.Cut:
            pass

    async def _delay(self) -> None:
        if self.state.faults.latency_ms > 0:
            await asyncio.sleep(self.state.faults.latency_ms / 1000)


def _check_bearer(header: str | None, path: str) -> dict[str, Any] | None:
    """None if the key is acceptable, else the 401 body of the path's service."""
    if header is not None and KEY_PATTERN.match(header):
        return None
    return unauthorized_body(service_of(path), header_missing=header is None)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _exchange(kind: str, scope: Scope) -> Exchange:
    """A record of the request; the key in it is masked, since the log can be read back."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if "authorization" in headers:
        scheme, _, key = headers["authorization"].partition(" ")
        headers["authorization"] = f"{scheme} {mask(key)}" if key else scheme
    return Exchange(
        kind=kind,
        method=scope.get("method", "GET"),
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
    )


def _with_emulator_headers(send: Send) -> Send:
    request_id = str(uuid.uuid4())

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=list(message.get("headers", [])))
            headers["x-emulator"] = EMULATOR_HEADER
            headers.setdefault("x-request-id", request_id)
            message["headers"] = headers.raw
        await send(message)

    return wrapped


def _recording_http(exchange: Exchange, receive: Receive, send: Send) -> tuple[Receive, Send]:
    async def recording_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            exchange.body = _append(exchange, exchange.body, message.get("body", b""))
        return message

    async def recording_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.response_headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            exchange.response_body = _append(
                exchange, exchange.response_body, message.get("body", b"")
            )
        await send(message)

    return recording_receive, recording_send


def _recording_ws(exchange: Exchange, receive: Receive, send: Send) -> tuple[Receive, Send]:
    def keep(frames: list[str | bytes], message: Message) -> None:
        frame = message.get("text") if message.get("text") is not None else message.get("bytes")
        if frame is not None and len(frames) < MAX_RECORDED_FRAMES:
            frames.append(frame)

    async def recording_receive() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            keep(exchange.frames_in, message)
        return message

    async def recording_send(message: Message) -> None:
        if message["type"] == "websocket.send":
            keep(exchange.frames_out, message)
        elif message["type"] == "websocket.accept":
            exchange.status = 101
        elif message["type"] == "websocket.http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "websocket.http.response.body":
            exchange.response_body += message.get("body", b"")
        await send(message)

    return recording_receive, recording_send


def _append(exchange: Exchange, recorded: bytes, chunk: bytes) -> bytes:
    room = MAX_RECORDED_BODY - len(recorded)
    if len(chunk) > room:
        exchange.truncated = True
        return recorded + chunk[: max(room, 0)]
    return recorded + chunk


async def _send_json(
    send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    payload = json_bytes(body)
    raw = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def _send_raw(
    send: Send, status: int, payload: bytes, content_type: bytes, headers: dict[str, str]
) -> None:
    raw = [
        (b"content-type", content_type),
        (b"content-length", str(len(payload)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    message = (
        f"Cannot {request.method} {path}" if exc.status_code in (404, 405) else str(exc.detail)
    )
    return JSONResponse(
        error_body(service_of(path), exc.status_code, message), status_code=exc.status_code
    )


# -- the control surface ----------------------------------------------------------------


def _state(request: Request) -> EmulatorState:
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state


async def _health(request: Request) -> Response:
    """Status, and the base URL of each region the emulator serves (`regions`)."""
    state = _state(request)
    regions = dict(state.region_urls)
    if not regions:  # not served from registered listeners (an in-memory ASGI client)
        regions = {"ap-south-1": str(request.base_url).rstrip("/")}
    return JSONResponse({"status": "ok", "emulator": EMULATOR_HEADER, "regions": regions})


async def _faults(request: Request) -> Response:
    plan = _state(request).faults
    if request.method == "PUT":
        document = await request.json()
        try:
            plan.replace(list(document.get("faults", [])), float(document.get("latency_ms", 0)))
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    elif request.method == "DELETE":
        plan.replace([], 0.0)
    return JSONResponse(plan.to_json())


async def _limits(request: Request) -> Response:
    """GET or PUT `tts_concurrency`, `stt_per_minute`, `stt_sessions`, `stt_idle_seconds`,
    `chat_per_minute`, `chat_concurrency`, `clone_limit`."""
    limits = _state(request).limits
    if request.method == "PUT":
        document = await request.json()
        try:
            if "tts_concurrency" in document:
                limits.set_tts_concurrency(max(1, int(document["tts_concurrency"])))
            if "stt_per_minute" in document:
                limits.set_stt_per_minute(max(1, int(document["stt_per_minute"])))
            if "stt_sessions" in document:
                limits.set_stt_sessions(max(1, int(document["stt_sessions"])))
            if "chat_per_minute" in document:
                limits.set_chat_per_minute(max(1, int(document["chat_per_minute"])))
            if "chat_concurrency" in document:
                limits.set_chat_concurrency(max(1, int(document["chat_concurrency"])))
            if "stt_idle_seconds" in document:
                idle = float(document["stt_idle_seconds"])
                if not 0 < idle < float("inf"):
                    raise ValueError("stt_idle_seconds must be a positive number")
                limits.stt_idle_seconds = idle
            if "clone_limit" in document:
                limits.clone_limit = max(1, int(document["clone_limit"]))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(limits.to_json())


async def _pacing(request: Request) -> Response:
    state = _state(request)
    if request.method == "PUT":
        try:
            document = await request.json()
            current = state.pacing
            state.pacing = Pacing(
                float(document.get("first_audio_ms", current.first_audio_ms)),
                float(document.get("rtf", current.rtf)),
                float(document.get("stt_ms", current.stt_ms)),
                float(document.get("stt_rtf", current.stt_rtf)),
                float(document.get("chat_first_token_ms", current.chat_first_token_ms)),
                float(document.get("chat_token_ms", current.chat_token_ms)),
                float(document.get("clone_ms", current.clone_ms)),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(state.pacing.to_json())


async def _webhooks(request: Request) -> Response:
    """The asynchronous STT results delivered (or being delivered) to clients' webhooks."""
    return JSONResponse([delivery.to_json() for delivery in _state(request).webhooks()])


async def _requests(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.clear()
        return JSONResponse([])
    return JSONResponse([e.to_json() for e in state.exchanges()])


def control_routes() -> list[Route]:
    return [
        Route("/_emulator/health", _health, methods=["GET"]),
        Route("/_emulator/faults", _faults, methods=["GET", "PUT", "DELETE"]),
        Route("/_emulator/limits", _limits, methods=["GET", "PUT"]),
        Route("/_emulator/pacing", _pacing, methods=["GET", "PUT"]),
        Route("/_emulator/requests", _requests, methods=["GET", "DELETE"]),
        Route("/_emulator/webhooks", _webhooks, methods=["GET"]),
    ]
