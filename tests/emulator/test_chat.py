"""The emulator's Electron chat completions over real loopback: replies, streaming, checks,
limits and tools (every exchange is contract-checked against the Electron spec)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_KEY

PATH = "/waves/v1/chat/completions"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def http(emulator: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=20) as client:
        yield client


def ask(http: httpx.Client, text: str = "Hello!", **fields: Any) -> httpx.Response:
    body = {"model": "electron", "messages": [{"role": "user", "content": text}], **fields}
    return http.post(PATH, headers=AUTH, json=body)


def content(response: httpx.Response) -> str | None:
    assert response.status_code == 200, response.text
    value = response.json()["choices"][0]["message"]["content"]
    assert value is None or isinstance(value, str)
    return value


def events(response: httpx.Response) -> list[str]:
    """The `data:` payloads of an SSE body, checking the framing on the way."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    text = response.text
    assert text.endswith("\n\n")
    frames = text[:-2].split("\n\n")
    assert all(frame.startswith("data: ") and "\n" not in frame for frame in frames)
    return [frame.removeprefix("data: ") for frame in frames]


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]


def streamed_text(parts: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in parts if c["choices"])


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is 12*7?", "84"),
        ("what is 3.5 plus 1.25?", "4.75"),
        ("(2 + 3) x 4", "20"),
        ("count to 5", "1, 2, 3, 4, 5"),
        ("Count from 3 to 6 please", "3, 4, 5, 6"),
        ("say hello world", "hello world"),
        ('Repeat after me: "The cat sat."', "The cat sat."),
    ],
)
def test_simple_questions_get_their_answers(
    http: httpx.Client, question: str, expected: str
) -> None:
    assert content(ask(http, question)) == expected


def test_other_questions_get_a_stable_sentence_quoting_them(http: httpx.Client) -> None:
    first = content(ask(http, "Explain WebSockets in one line"))
    assert first is not None and "Explain WebSockets in one line" in first
    assert content(ask(http, "Explain WebSockets in one line")) == first
    assert content(ask(http, "Explain HTTP in one line")) != first


def test_a_completion_has_the_documented_shape(http: httpx.Client) -> None:
    response = ask(http, "What is 12*7?")
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "electron"
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice == {
        "index": 0,
        "message": {"role": "assistant", "content": "84", "tool_calls": None},
        "finish_reason": "stop",
    }
    usage = body["usage"]
    assert usage["completion_tokens"] == 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert response.headers["x-request-id"]


# -- streaming -------------------------------------------------------------------------------


def test_a_stream_has_openai_framing(http: httpx.Client) -> None:
    response = ask(http, "count to 20", stream=True)
    parts = chunks(response)
    assert len(parts) > 5  # a few characters or words per chunk
    assert all(c["object"] == "chat.completion.chunk" for c in parts)
    assert len({c["id"] for c in parts}) == 1 and parts[0]["id"].startswith("chatcmpl-")
    assert parts[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in c["choices"][0]["delta"] for c in parts[1:])
    assert [c["choices"][0]["finish_reason"] for c in parts] == [None] * (len(parts) - 1) + ["stop"]
    assert streamed_text(parts) == ", ".join(str(n) for n in range(1, 21))
    assert all(len(c["choices"][0]["delta"]["content"]) <= 16 for c in parts)
    assert "usage" not in parts[-1]


def test_include_usage_adds_a_usage_chunk_before_done(http: httpx.Client) -> None:
    plain = ask(http, "say one two three").json()["usage"]
    response = ask(http, "say one two three", stream=True, stream_options={"include_usage": True})
    parts = chunks(response)
    assert parts[-1]["choices"] == [] and parts[-1]["usage"] == plain
    assert parts[-2]["choices"][0]["finish_reason"] == "stop"
    assert streamed_text(parts) == "one two three"
