"""Electron chat completions (REFERENCE §11): POST /waves/v1/chat/completions.

OpenAI's wire format, so the `openai` package works against it unmodified:

* not streamed: a `chat.completion` object, `X-Request-Id` header;
* streamed (`stream: true`): `text/event-stream`, `data:` lines only. The first chunk's
  delta carries `role: assistant` and the first piece of content; each next chunk a piece of
  a word or so; the last content chunk carries `finish_reason`. Tool calls follow as
  `delta.tool_calls` (name first, then the arguments in pieces) and a final chunk with
  `finish_reason: tool_calls`. With `stream_options.include_usage` a chunk with empty
  `choices` and the `usage` block comes next, then `data: [DONE]`.

The replies come from `chat_brain` (deterministic), the checks from `chat_request`. `stop`
cuts the reply before the first stop sequence (`finish_reason: stop`); `max_tokens`, or what
is left of the 32,768-token window, cuts it to that many tokens (`finish_reason: length`).
`usage.prompt_tokens_details.cached_tokens` is always 0 (no prefix cache is emulated).

Errors use Electron's envelope `{"error": {"message", "type", "details"?, "request_id"}}`,
with `request_id` equal to the `X-Request-Id` header:

* 400 `invalid_request_error`: a body that is not JSON, "Invalid input data" with `details`
  (`chat_request`), or a prompt over the context window (the message says by how much);
* 403 `permission_error`: a key starting with `sk_no_electron` stands for one whose plan
  has no Electron;
* 429 `rate_limit_error`: over 10 requests a minute per key ("Rate limit reached") or 3 in
  flight ("Concurrency limit reached", the docs' wording); both limits are settable. A
  request holds its unit until its last byte is sent. No Retry-After (UNKNOWN, §13.2).

Checks run in that order after the key: 403, then the body (a 400 is not counted), then the
minute's count, then a free unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from smallest_cli.emulator import zod
from smallest_cli.emulator.chat_brain import CHARS_PER_TOKEN, Reply, count_tokens, reply
from smallest_cli.emulator.chat_request import ChatRequest, ContextExceeded, Invalid, parse
from smallest_cli.emulator.handshake import Message, Receive, Scope, Send
from smallest_cli.emulator.limits import LimitExceeded
from smallest_cli.emulator.state import EmulatorState, Pacing
from smallest_cli.emulator.tts import bearer_key

NO_ELECTRON_PREFIX = "sk_no_electron"
MODEL = "electron"
DONE = b"data: [DONE]\n\n"
ARGUMENT_PIECE = 12  # characters of tool-call arguments per streamed chunk


@dataclass(frozen=True)
class Completion:
    """One answer, before it is framed for the wire."""

    id: str
    created: int
    content: str | None
    tool_calls: tuple[dict[str, Any], ...]
    finish_reason: str
    usage: dict[str, Any]

    @property
    def pieces(self) -> list[str]:
        """The content as streamed: words with their trailing space (long ones split)."""
        if not self.content:
            return [""] if self.content is not None else []
        pieces: list[str] = []
        for word in re.findall(r"\s*\S+\s*|\s+", self.content):
            pieces += [word[i : i + 16] for i in range(0, len(word), 16)]
        return pieces

    def to_json(self) -> dict[str, Any]:
        message = {
            "role": "assistant",
            "content": self.content,
            "tool_calls": list(self.tool_calls) or None,
        }
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        }

    def chunks(self, include_usage: bool) -> list[dict[str, Any]]:
        """The streamed chunks, [DONE] aside."""
        deltas: list[dict[str, Any]] = [{"content": piece} for piece in self.pieces]
        for index, call in enumerate(self.tool_calls):
            function = call["function"]
            head = {"name": function["name"], "arguments": ""}
            deltas.append(
                {
                    "tool_calls": [
                        {"index": index, "id": call["id"], "type": "function", "function": head}
                    ]
                }
            )
            arguments = function["arguments"]
            for start in range(0, len(arguments), ARGUMENT_PIECE):
                piece = {"arguments": arguments[start : start + ARGUMENT_PIECE]}
                deltas.append({"tool_calls": [{"index": index, "function": piece}]})
        if not deltas:
            deltas.append({"content": None})
        deltas[0] = {"role": "assistant", **deltas[0]}
        choices: list[dict[str, Any]] = [
            {"index": 0, "delta": delta, "finish_reason": None} for delta in deltas
        ]
        if self.tool_calls:
            choices.append({"index": 0, "delta": {}, "finish_reason": self.finish_reason})
        else:
            choices[-1]["finish_reason"] = self.finish_reason
        chunks = [self._chunk([choice]) for choice in choices]
        if include_usage:
            chunks.append({**self._chunk([]), "usage": self.usage})
        return chunks

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL,
            "choices": choices,
        }


def complete(chat: ChatRequest) -> Completion:
    """Answer a checked request: the brain's reply, cut by `stop` and by the tokens left."""
    answer: Reply = reply(
        chat.messages,
        tools=chat.tools,
        tool_choice=chat.tool_choice,
        json_object=chat.json_object,
        seed=chat.seed,
    )
    content, finish = answer.content, "tool_calls" if answer.tool_calls else "stop"
    if content is not None:
        for stop in chat.stop:
            content = content.split(stop, 1)[0]
        if count_tokens(content) > chat.room:
            content, finish = content[: chat.room * CHARS_PER_TOKEN], "length"
    calls = tuple(call.to_json() for call in answer.tool_calls)
    completion_tokens = count_tokens(content or "") + sum(
        count_tokens(call.name + call.arguments) for call in answer.tool_calls
    )
    usage = {
        "prompt_tokens": chat.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": chat.prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    return Completion(
        f"chatcmpl-{uuid.uuid4().hex[:16]}", int(time.time()), content, calls, finish, usage
    )


def error_response(
    request_id: str,
    status: int,
    message: str,
    kind: str,
    details: list[dict[str, Any]] | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind}
    if details is not None:
        error["details"] = details
    error["request_id"] = request_id
    body = json.dumps({"error": error}, separators=(",", ":")).encode()
    return Response(
        body, status, media_type="application/json", headers={"X-Request-Id": request_id}
    )


async def _checked(request: Request, request_id: str) -> ChatRequest | Response:
    """The request, or the error response it gets."""
    if bearer_key(request.headers).startswith(NO_ELECTRON_PREFIX):
        return error_response(
            request_id,
            403,
            "Your plan does not include access to Electron. Upgrade your plan or contact "
            "support to enable it.",
            "permission_error",
        )
    try:
        document = json.loads(await request.body())
    except ValueError:
        return error_response(
            request_id, 400, "Request body is not valid JSON", "invalid_request_error"
        )
    try:
        return parse(document)
    except Invalid as invalid:
        return error_response(
            request_id, 400, "Invalid input data", "invalid_request_error", invalid.issues
        )
    except ContextExceeded as exceeded:
        details = [zod.brief("custom", ["messages"], str(exceeded))]
        return error_response(request_id, 400, str(exceeded), "invalid_request_error", details)


async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI endpoint, so that the request holds its unit until its last byte."""
    started = asyncio.get_running_loop().time()
    request = Request(scope, receive)
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    request_id = str(uuid.uuid4())
    key = bearer_key(request.headers)
    chat = await _checked(request, request_id)
    if isinstance(chat, Response):
        await chat(scope, receive, send)
        return
    limits = state.limits
    with contextlib.ExitStack() as stack:
        try:
            limits.chat_rate.check(key)
            stack.enter_context(limits.chat.slot(key))
        except LimitExceeded as exceeded:
            message = (
                f"Rate limit reached: {limits.chat_per_minute} requests per minute"
                if exceeded.retry_after is not None
                else "Concurrency limit reached"
            )
            await error_response(request_id, 429, message, "rate_limit_error")(scope, receive, send)
            return
        completion = complete(chat)
        pacing = state.pacing.snapshot()
        headers = {"X-Request-Id": request_id}
        if chat.stream:
            events = _events(completion, chat.include_usage, pacing, started)
            response: Response = StreamingResponse(
                events, media_type="text/event-stream", headers=headers
            )
        else:
            await _sleep_until(started + _release_at(pacing, len(completion.pieces) - 1))
            body = json.dumps(completion.to_json(), separators=(",", ":")).encode()
            response = Response(body, media_type="application/json", headers=headers)
        await response(scope, receive, _releasing(send, stack.close))


async def _events(
    completion: Completion, include_usage: bool, pacing: Pacing, started: float
) -> AsyncIterator[bytes]:
    for index, chunk in enumerate(completion.chunks(include_usage)):
        await _sleep_until(started + _release_at(pacing, index))
        yield b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
    yield DONE


def _release_at(pacing: Pacing, index: int) -> float:
    """When piece `index` of a reply may go out, in seconds after the request."""
    return (pacing.chat_first_token_ms + pacing.chat_token_ms * max(index, 0)) / 1000


async def _sleep_until(when: float) -> None:
    delay = when - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


def _releasing(send: Send, release: Any) -> Send:
    """`send` that gives the unit back just before the last bytes go out."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            release()
        await send(message)

    return wrapped


class _Endpoint:
    """Starlette calls a class instance as ASGI (a plain function would get a Request)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await chat_completions(scope, receive, send)


routes = [Route("/waves/v1/chat/completions", _Endpoint(), methods=["POST"])]
