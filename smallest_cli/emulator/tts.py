"""Text to speech over HTTP (REFERENCE §6.2, §6.3): POST /waves/v1/tts and POST /waves/v1/tts/live.

The deprecated model-named routes are served too, as live (REFERENCE §0.1, §6.5.1–6.5.2):
`POST /waves/v1/lightning-v3.1/get_speech` is the sync route and
`POST /waves/v1/lightning-v3.1/stream` the SSE route, with the same body, validation, errors
and concurrency units; only the SSE framing differs (below).

All take the same JSON body (`tts_request`) and answer, like the live server:

* sync: the audio in the requested `output_format` (default `pcm`), whatever the format
  labelled `Content-Type: audio/wav` (observed), plus `X-Emulator-Synthesis-Ms`;
* SSE: `text/event-stream`, one `event: audio` frame per ~20 ms chunk,
  `data: {"audio": "<base64>", "done": false, "status": "206"}`, then the terminator
  `data: {"status": "200", "done": true}` with no event line; on the deprecated SSE route the
  older framing, `event: audio` + `data: {"audio": "<base64>"}` per chunk and the terminator
  `data: {"done": true}`;
* both: `X-Session-Id` and `X-Request-Id` (server UUIDs), `X-External-Session-Id` and
  `X-External-Request-Id` (the body's ids, empty when absent), and `x-content-expiry:
  applied` when the request carried `x-expire-content: true`.

Errors: 400 with zod issues (`tts_request`); a body that is not JSON gets 400
`{"error": "InvalidRequest", "message": ...}`. A body sent without a JSON Content-Type is
read as `{}` (so "Required" issues follow), the way Express's JSON parser leaves it.

Concurrency (REFERENCE §4.1): a request holds one of its key's TTS units from the moment it
is validated until its last byte is sent; without a free unit it gets 429 at once. The body
of that 429 is UNKNOWN: the TTS error shape is used, `{"error": "TooManyRequests",
"message": ...}`, without Retry-After (whether the server sends one is UNKNOWN too). A body
that fails validation gets its 400 even when no unit is free (order UNKNOWN).

The `Accept: audio/wav` the spec requires on the sync route is not enforced: audio comes back
either way (what the server does without it is UNKNOWN; the contract tests hold clients to it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.handshake import Message, Receive, Scope, Send
from smallest_cli.emulator.limits import LimitExceeded
from smallest_cli.emulator.state import EmulatorState, Exchange, Pacing
from smallest_cli.emulator.tts_audio import ChunkedAudio, paced_chunks, sleep_until, whole_clip
from smallest_cli.emulator.tts_request import Invalid, TtsRequest, parse

SSE_DONE = b'data: {"status": "200", "done": true}\n\n'
LEGACY_SSE_DONE = b'data: {"done": true}\n\n'


def bearer_key(headers: Any) -> str:
    """The API key of a request (the middleware has already checked that there is one)."""
    return str(headers.get("authorization", "")).partition(" ")[2]


def exchange_of(scope: Scope) -> Exchange | None:
    """The middleware's record of this request, for the route to add to."""
    exchange = scope.get("emulator.exchange")
    return exchange if isinstance(exchange, Exchange) else None


def json_response(body: Any, status_code: int) -> Response:
    """JSON the way the live TTS service sends it: compact, UTF-8, `charset` labelled."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(payload, status_code, media_type="application/json; charset=utf-8")


def too_many_requests() -> dict[str, str]:
    return error_body(
        "tts",
        429,
        "Too many concurrent TTS requests for this account; wait for one to finish.",
    )


async def _read(request: Request) -> TtsRequest | Response:
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(raw)
        except ValueError:
            body = error_body("tts", 400, "Request body is not valid JSON.", code="InvalidRequest")
            return json_response(body, 400)
    else:
        document = {}
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    key = bearer_key(request.headers)
    dictionaries = state.dictionaries.by_id(key)
    try:
        return parse(document, dictionaries=dictionaries, clones=state.clones.speaking(key))
    except Invalid as invalid:
        return json_response({"error": invalid.issues}, 400)


def _headers(request: Request, tts: TtsRequest) -> dict[str, str]:
    headers = {
        "X-Session-Id": str(uuid.uuid4()),
        "X-Request-Id": str(uuid.uuid4()),
        "X-External-Session-Id": tts.session_id or "",
        "X-External-Request-Id": tts.request_id or "",
    }
    if request.headers.get("x-expire-content", "").lower() == "true":
        headers["x-content-expiry"] = "applied"
    return headers


@dataclass(frozen=True)
class _Answering:
    """One TTS request being answered: what every responder needs, handed over as one value."""

    request: Request
    tts: TtsRequest
    pacing: Pacing
    started: float  # the event loop's time when the request arrived
    release: Callable[[], None]  # gives the request's rate-limit unit back

    def record(self) -> float:
        """The synthesis time so far (ms), kept on the request's exchange for the log."""
        elapsed = (asyncio.get_running_loop().time() - self.started) * 1000
        exchange = exchange_of(self.request.scope)
        if exchange is not None:
            exchange.synthesis_ms = elapsed
        return elapsed


Responder = Callable[[_Answering], Awaitable[Response]]


class _TtsRoute:
    """An endpoint that speaks ASGI itself, so that it holds its unit until the last byte.

    The unit is given back just before the last bytes are sent (the sync body, or the SSE
    terminator), so a client that starts its next request as soon as it has the audio never
    finds its own finished request still counted.
    """

    def __init__(self, respond: Responder) -> None:
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = asyncio.get_running_loop().time()
        request = Request(scope, receive)
        state = request.app.state.emulator
        assert isinstance(state, EmulatorState)
        tts = await _read(request)
        if isinstance(tts, Response):
            await tts(scope, receive, send)
            return
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(state.limits.tts.slot(bearer_key(request.headers)))
            except LimitExceeded:
                await json_response(too_many_requests(), 429)(scope, receive, send)
                return
            pacing = state.pacing.snapshot()
            response = await self.respond(_Answering(request, tts, pacing, started, stack.close))
            await response(scope, receive, _releasing(send, stack.close))


def _releasing(send: Send, release: Callable[[], None]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            release()
        await send(message)

    return wrapped


async def _synthesize(call: _Answering) -> Response:
    synthesis = call.tts.synthesis()
    audio = await whole_clip(synthesis, call.tts.output_format)
    await sleep_until(call.started + call.pacing.release_at(synthesis.duration))
    headers = _headers(call.request, call.tts)
    headers["X-Emulator-Synthesis-Ms"] = f"{call.record():.1f}"
    return Response(audio, media_type="audio/wav", headers=headers)


def _streamer(frame: Callable[[str], dict[str, Any]], done: bytes) -> Responder:
    """An SSE responder: one `event: audio` per chunk, data `frame(base64)`, then `done`."""

    async def stream(call: _Answering) -> Response:
        audio = ChunkedAudio(call.tts.synthesis(), call.tts.output_format)

        async def events() -> AsyncIterator[bytes]:
            async for chunk in paced_chunks(audio, call.pacing, call.started):
                data = frame(base64.b64encode(chunk.payload).decode("ascii"))
                yield b"event: audio\ndata: " + json.dumps(data).encode() + b"\n\n"
            call.record()
            call.release()
            yield done

        headers = {**_headers(call.request, call.tts), "Content-Type": "text/event-stream"}
        return StreamingResponse(events(), headers=headers)

    return stream


_stream = _streamer(lambda audio: {"audio": audio, "done": False, "status": "206"}, SSE_DONE)
_legacy_stream = _streamer(lambda audio: {"audio": audio}, LEGACY_SSE_DONE)

routes = [
    Route("/waves/v1/tts", _TtsRoute(_synthesize), methods=["POST"]),
    Route("/waves/v1/tts/live", _TtsRoute(_stream), methods=["POST"]),
    Route("/waves/v1/lightning-v3.1/get_speech", _TtsRoute(_synthesize), methods=["POST"]),
    Route("/waves/v1/lightning-v3.1/stream", _TtsRoute(_legacy_stream), methods=["POST"]),
]
