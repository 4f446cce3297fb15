"""Electron chat completions (REFERENCE §11): one POST, answered whole or as SSE chunks.

Thin: the request body is the caller's, the answer is the API's JSON, chunk by chunk when
streamed. Retries (429 waited out, 502/503 retried) happen before the first byte of an
answer; a stream that stops before `data: [DONE]` raises `StreamCut`, carrying nothing
itself: the caller has already seen every chunk that arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from smallest_cli.api.errors import refuse_not_audio
from smallest_cli.api.sse import iter_events
from smallest_cli.errors import APIConnectionError, APIError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient

CHAT_PATH = "/waves/v1/chat/completions"
MODEL = "electron"
DONE = "[DONE]"


class StreamCut(APIConnectionError):
    """The reply stream ended before `data: [DONE]`: what arrived is all there is."""


class ChatAPI:
    def __init__(self, client: SmallestClient) -> None:
        self.client = client

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The whole completion object for `body` (sent with `stream: false`)."""
        answer = self.client.request_json(
            "POST", CHAT_PATH, json={**body, "stream": False}, idempotent=False
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            raise APIError("the API answered 200 with something that is not a chat completion")
        return answer

    def stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The completion's chunks as they arrive (sent with `stream: true`)."""
        with self.client.stream(
            "POST", CHAT_PATH, json={**body, "stream": True}, idempotent=False
        ) as response:
            refuse_not_audio(response.headers, "an event stream")
            for event in iter_events(response.iter_lines()):
                if event.data.strip() == DONE:
                    return
                try:
                    chunk = event.json()
                except ValueError:
                    raise APIError(
                        f"the reply stream sent a frame that is not JSON: {event.data[:80]!r}"
                    ) from None
                if isinstance(chunk, dict) and "error" in chunk:
                    from smallest_cli.api.errors import normalise

                    info = normalise(chunk)
                    raise APIError(
                        f"the reply stopped with an error: {info.message or 'unknown'}",
                        code=info.code,
                        request_id=info.request_id,
                    )
                if isinstance(chunk, dict):
                    yield chunk
        raise StreamCut(
            "the reply was cut off before its end (no `data: [DONE]`)",
            hint="what arrived is shown above; ask again, or continue with -c",
        )
