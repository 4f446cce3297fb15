"""Text to speech over a WebSocket (REFERENCE §5, §6.4): `wss://…/waves/v1/tts/live`, and the
same protocol on the deprecated `wss://…/waves/v1/lightning-v3.1/get_speech/stream` (§0.1, §6.5.3).

The client sends JSON text frames, each a full TTS body plus `continue`, `flush`,
`max_buffer_flush_ms`, `complete_backoff_ms` and `word_timestamps`. Text is buffered the way
the streaming-text recipe describes: a message with `continue: true` adds its text to the
buffer; `flush: true` speaks what is buffered now; a message without `continue` ends the
request (its text and anything buffered are spoken). With `max_buffer_flush_ms` > 0 the
buffer is also spoken once no text has come for that long. The first message of a request
fixes its voice, model, sample rate, speed, ids and `word_timestamps`; later messages of the
same request only add text (and may change the two timing fields).

What the server sends, in order, for each request:

* `{"session_id", "request_id", ["external_session_id", "external_request_id",]
  "status": "chunk", "data": {"audio": base64}}`: 16-bit mono PCM at the sample rate, about
  20 ms a frame, paced like every emulator stream (`state.Pacing`);
* `{…, "status": "word_timestamp", "data": {"id", "word", "start", "end"}}` just before the
  chunk in which that word starts, when `word_timestamps` is true and the voice is one of
  `tts_request.WORD_TIMESTAMP_VOICES`: `id` counts the request's input words from 0, `word`
  is the input as written, times are seconds from the start of the request's audio;
* `{…, "status": "complete"}` `complete_backoff_ms` (default 4000) after its last audio; then,
  unless the client has already started another request, the server closes (code 1000).

`session_id` is `ws_<uuid>` for the connection, `request_id` `task_<uuid>` per request; the
`external_*` ids appear only when the client sent `session_id` / `request_id`.

Errors are frames, then a close with code 1000:
`{"status": "error", "message": ..., "error": {"message": ..., "code": "400"}}` (the message
at the top level too, as the vendor's own clients read it, §0.7) for a body that fails
validation (the message lists zod's issues as `path: message; …`) or a frame that is not
JSON text; `{"status": "error", "message": "Connection timed out after N seconds of
inactivity"}` when the client has sent nothing for the idle timeout (60 s, or `?timeout=N`).

UNKNOWN, decided here:

* Audio is always PCM: `output_format` is not in the WebSocket schema and is ignored.
* Close codes: 1000 after `complete`, after an error frame and after the idle timeout.
* The idle clock runs only while the socket has nothing to do: from the client's last
  message or the end of the last synthesis, whichever is later. A `timeout` that is not a
  positive integer is ignored (60 s).
* Requests on one socket are served in order; `request_id` is per request (not per flush).
* Concurrency (REFERENCE §4.1): a key may hold five sockets per TTS unit; the next handshake
  is refused with HTTP 429 and the TTS error body. Each synthesis (a flushed piece of text)
  takes a unit while its audio streams; when none is free it is skipped with
  `{"status": "error", "message": ..., "error": {"message": ..., "code": "429"}}` and the
  socket stays open.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.handshake import Message, Receive, Scope, Send, deny
from smallest_cli.emulator.limits import LimitExceeded
from smallest_cli.emulator.speech import words_of
from smallest_cli.emulator.state import EmulatorState
from smallest_cli.emulator.tts import bearer_key, exchange_of, too_many_requests
from smallest_cli.emulator.tts_audio import ChunkedAudio, paced_chunks
from smallest_cli.emulator.tts_request import Invalid, TtsRequest, parse, summary

IDLE_TIMEOUT_SECONDS = 60
NORMAL_CLOSURE = 1000


def idle_timeout(query_string: bytes) -> int:
    """The `?timeout=` in seconds, if it is a positive integer; else the default 60."""
    values = parse_qs(query_string.decode("latin-1")).get("timeout", [])
    value = values[-1].strip() if values else ""
    if value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    return IDLE_TIMEOUT_SECONDS


def error_frame(message: str, code: str) -> dict[str, Any]:
    """The spec's error frame, with the message at the top level too (REFERENCE §0.7)."""
    return {"status": "error", "message": message, "error": {"message": message, "code": code}}


async def tts_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """The socket route; it counts as one of its key's sockets until its close frame goes out."""
    state = scope["app"].state.emulator
    assert isinstance(state, EmulatorState)
    key = bearer_key(Headers(scope=scope))
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(state.limits.tts_sockets.slot(key))
        except LimitExceeded:
            body = error_body(
                "tts",
                429,
                f"Too many open TTS WebSockets for this account (at most "
                f"{state.limits.tts_sockets.limit}).",
            )
            await deny(scope, receive, send, 429, body)
            return

        async def releasing(message: Message) -> None:
            if message["type"] == "websocket.close":
                stack.close()
            await send(message)

        await _Session(WebSocket(scope, receive, releasing), state, key).run()


@dataclass
class _Request:
    settings: TtsRequest  # from the request's first message
    request_id: str
    buffer: str = ""
    words: int = 0  # input words already handed to syntheses
    frames: int = 0  # audio already sent, in samples
    complete_backoff_ms: float = 4000.0


@dataclass(frozen=True)
class _Speak:
    request: _Request
    text: str
    first_word: int


@dataclass(frozen=True)
class _Complete:
    request: _Request


class _Session:
    """One connection: a reader, a dispatcher (this coroutine) and a worker that speaks."""

    def __init__(self, websocket: WebSocket, state: EmulatorState, key: str) -> None:
        self.websocket = websocket
        self.state = state
        self.key = key
        self.idle_seconds = idle_timeout(websocket.scope.get("query_string", b""))
        self.session_id = f"ws_{uuid.uuid4()}"
        self.loop = asyncio.get_running_loop()
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.jobs: asyncio.Queue[_Speak | _Complete] = asyncio.Queue()
        self.pending = 0  # jobs queued or running
        self.current: _Request | None = None  # the request still taking text
        self.quiet_since = self.loop.time()
        self.flush_at: float | None = None
        self.send_lock = asyncio.Lock()
        self.failure: BaseException | None = None

    async def run(self) -> None:
        await self.websocket.accept()
        tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._work())]
        try:
            farewell = await self._dispatch()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.failure is not None and not isinstance(self.failure, WebSocketDisconnect):
            raise self.failure
        if farewell is not None:
            with contextlib.suppress(WebSocketDisconnect):
                await self.websocket.send_text(json.dumps(farewell))
                await self.websocket.close(NORMAL_CLOSURE)

    # -- the reader and the dispatcher ----------------------------------------------------

    async def _read(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.events.put_nowait(("disconnect", None))
                return
            text = message.get("text")
            self.events.put_nowait(("message", text if text is not None else message.get("bytes")))

    async def _dispatch(self) -> dict[str, Any] | None:
        """Handle events until the session ends; the frame to send before closing, if any."""
        while True:
            deadline = self._deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.loop.time())
            try:
                kind, value = await asyncio.wait_for(self.events.get(), timeout)
            except asyncio.TimeoutError:
                if self.flush_at is not None and self.loop.time() >= self.flush_at:
                    self._cut()
                    continue
                if self.pending == 0:
                    return {
                        "status": "error",
                        "message": f"Connection timed out after {self.idle_seconds} seconds "
                        "of inactivity",
                    }
                continue
            if kind == "message":
                self.quiet_since = self.loop.time()
                farewell = self._take(value)
                if farewell is not None:
                    return farewell
            elif kind == "failed":
                self.failure = value
                return None
            elif kind in ("disconnect", "closed"):
                return None

    def _deadline(self) -> float | None:
        candidates = [] if self.flush_at is None else [self.flush_at]
        if self.pending == 0:
            candidates.append(self.quiet_since + self.idle_seconds)
        return min(candidates, default=None)

    def _take(self, raw: str | bytes | None) -> dict[str, Any] | None:
        """Buffer or speak one client message; an error frame if it is not acceptable."""
        if not isinstance(raw, str):
            return error_frame("Messages must be JSON text frames.", "400")
        try:
            message = parse(
                json.loads(raw),
                websocket=True,
                dictionaries=self.state.dictionaries.by_id(self.key),
                clones=self.state.clones.speaking(self.key),
            )
        except ValueError:
            return error_frame("Invalid JSON.", "400")
        except Invalid as invalid:
            return error_frame(summary(invalid.issues), "400")
        if self.current is None:
            self.current = _Request(message, f"task_{uuid.uuid4()}")
        request = self.current
        request.buffer += message.text
        request.complete_backoff_ms = message.complete_backoff_ms
        if message.flush or not message.continue_:
            self._cut()
        elif message.max_buffer_flush_ms > 0:
            self.flush_at = self.loop.time() + message.max_buffer_flush_ms / 1000
        else:
            self.flush_at = None
        if not message.continue_:
            self._queue(_Complete(request))
            self.current = None
        return None

    def _cut(self) -> None:
        """Hand the buffered text of the current request to the worker."""
        self.flush_at = None
        request = self.current
        if request is None:
            return
        text, request.buffer = request.buffer, ""
        words = words_of(text)
        if any(word.spoken for word in words):
            self._queue(_Speak(request, text, request.words))
        request.words += len(words)

    def _queue(self, job: _Speak | _Complete) -> None:
        self.pending += 1
        self.jobs.put_nowait(job)

    # -- the worker ---------------------------------------------------------------------------

    async def _work(self) -> None:
        try:
            while True:
                job = await self.jobs.get()
                if isinstance(job, _Speak):
                    await self._speak(job)
                elif await self._complete(job):
                    self.events.put_nowait(("closed", None))
                    return
                self.pending -= 1
                if self.pending == 0:
                    self.quiet_since = self.loop.time()
                    self.events.put_nowait(("settled", None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.events.put_nowait(("failed", exc))

    async def _speak(self, job: _Speak) -> None:
        request, settings = job.request, job.request.settings
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.state.limits.tts.slot(self.key))
            except LimitExceeded:
                await self._send(error_frame(too_many_requests()["message"], "429"))
                return
            started = self.loop.time()
            synthesis = settings.synthesis(job.text)
            words = deque(synthesis.timings() if settings.has_word_timestamps else ())
            offset = request.frames / settings.sample_rate
            pacing = self.state.pacing.snapshot()
            async for chunk in paced_chunks(ChunkedAudio(synthesis), pacing, started):
                end = chunk.start + chunk.frames / settings.sample_rate
                while words and words[0].start < end:
                    timed = words.popleft()
                    data = {
                        "id": job.first_word + timed.word.index,
                        "word": timed.word.written,
                        "start": round(offset + timed.start, 3),
                        "end": round(offset + timed.end, 3),
                    }
                    await self._send(self._frame(request, "word_timestamp", data))
                audio = base64.b64encode(chunk.payload).decode("ascii")
                await self._send(self._frame(request, "chunk", {"audio": audio}))
            request.frames += synthesis.frames
            exchange = exchange_of(self.websocket.scope)
            if exchange is not None:
                exchange.synthesis_ms = (self.loop.time() - started) * 1000

    async def _complete(self, job: _Complete) -> bool:
        """Say `complete`; True if the socket was then closed (nothing more to do)."""
        await asyncio.sleep(job.request.complete_backoff_ms / 1000)
        await self._send(self._frame(job.request, "complete"))
        if self.jobs.empty() and self.current is None:
            await self.websocket.close(NORMAL_CLOSURE)
            return True
        return False

    def _frame(
        self, request: _Request, status: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        frame: dict[str, Any] = {"session_id": self.session_id, "request_id": request.request_id}
        if request.settings.session_id is not None:
            frame["external_session_id"] = request.settings.session_id
        if request.settings.request_id is not None:
            frame["external_request_id"] = request.settings.request_id
        frame["status"] = status
        if data is not None:
            frame["data"] = data
        return frame

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(json.dumps(frame))


class _Endpoint:
    """Lets Starlette call `tts_socket` as a plain ASGI app (it wraps bare functions)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await tts_socket(scope, receive, send)


routes = [
    WebSocketRoute("/waves/v1/tts/live", _Endpoint()),
    WebSocketRoute("/waves/v1/lightning-v3.1/get_speech/stream", _Endpoint()),
]
