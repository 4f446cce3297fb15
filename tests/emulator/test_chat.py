"""The emulator's Electron chat completions over real loopback: replies, streaming, checks,
limits and tools (every exchange is contract-checked against the Electron spec)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import contract
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
    """The chunks of a streamed reply, each checked against the Electron spec's schemas."""
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    parsed = [json.loads(payload) for payload in payloads[:-1]]
    if contract.specs_available():
        for chunk in parsed:
            check_chunk(chunk)
    return parsed


@functools.cache
def spec_validators() -> tuple[Any, Any, list[Any]]:
    """The spec's Usage schema, its message schema as a delta (nothing required; tool-call
    deltas come in pieces), and its `finish_reason` values."""
    from openapi_schema_validator import OAS30Validator

    schemas = contract.spec_document("electron-openapi.yaml")["components"]["schemas"]
    delta = {**schemas["ElectronMessage"], "required": []}
    delta["properties"] = {k: v for k, v in delta["properties"].items() if k != "tool_calls"}
    choice = schemas["ChatCompletion"]["properties"]["choices"]["items"]
    finish = choice["properties"]["finish_reason"]["enum"]
    return OAS30Validator(schemas["Usage"]), OAS30Validator(delta), finish


def check_chunk(chunk: dict[str, Any]) -> None:
    usage, delta, finish_reasons = spec_validators()
    assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == "electron"
    if "usage" in chunk:
        usage.validate(chunk["usage"])
    for choice in chunk["choices"]:
        delta.validate(choice["delta"])
        assert choice["finish_reason"] in [None, *finish_reasons]


def streamed_text(parts: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in parts if c["choices"])


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is 12*7?", "84"),
        ("what is 3.5 plus 1.25?", "4.75"),
        ("(2 + 3) x 4", "20"),
        ("Calculate: 100 - 58", "42"),
        ("what is -3 * -2?", "6"),
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


@pytest.mark.parametrize(
    "question",
    ["Write a commit message\n\n@@ -1,5 +1,7 @@\n-old\n+new", "I count to 5 daily"],
)
def test_numbers_inside_other_text_are_not_taken_for_sums(
    http: httpx.Client, question: str
) -> None:
    reply = content(ask(http, question)) or ""
    assert reply.startswith("You asked: ") and question.splitlines()[0] in reply


def test_a_question_of_several_lines_is_quoted_by_its_first_and_last() -> None:
    from smallest_cli.emulator.chat_brain import answer

    reply = answer("line one\nline two\n\nSummarize this")
    assert reply.startswith('You asked: "line one … Summarize this". ')


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


def test_a_stream_is_sent_while_the_reply_is_still_being_written(
    http: httpx.Client, emulator: Any
) -> None:
    emulator.state.pacing.chat_token_ms = 100.0  # 10 pieces: a second to the end
    body = {
        "model": "electron",
        "messages": [{"role": "user", "content": "count to 10"}],
        "stream": True,
    }
    with http.stream("POST", PATH, headers=AUTH, json=body) as response:
        lines = response.iter_lines()
        first = next(lines)
        (exchange,) = emulator.state.exchanges()
        assert json.loads(first.removeprefix("data: "))["choices"][0]["delta"]["content"]
        assert b"[DONE]" not in exchange.response_body  # not written yet
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"


# -- options ---------------------------------------------------------------------------------


def test_json_object_replies_parse_as_json(http: httpx.Client) -> None:
    reply = content(ask(http, "What is 12*7?", response_format={"type": "json_object"}))
    assert json.loads(reply or "") == {"answer": 84}
    reply = content(ask(http, "Describe Mars", response_format={"type": "json_object"}))
    assert "Describe Mars" in json.loads(reply or "")["answer"]


def test_stop_cuts_the_reply_before_the_sequence(http: httpx.Client) -> None:
    response = ask(http, "count to 10", stop=[", 5", "never"])
    assert content(response) == "1, 2, 3, 4"
    assert response.json()["choices"][0]["finish_reason"] == "stop"
    assert content(ask(http, "say abcdef", stop="d")) == "abc"
    parts = chunks(ask(http, "count to 10", stop=", 5", stream=True))
    assert streamed_text(parts) == "1, 2, 3, 4"


def test_max_tokens_cuts_the_reply_with_finish_reason_length(http: httpx.Client) -> None:
    full = content(ask(http, "count to 100")) or ""
    response = ask(http, "count to 100", max_tokens=3)
    cut = content(response) or ""
    assert cut and full.startswith(cut) and len(cut) < len(full)
    body = response.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    parts = chunks(ask(http, "count to 100", max_tokens=3, stream=True))
    assert streamed_text(parts) == cut
    assert parts[-1]["choices"][0]["finish_reason"] == "length"


def test_a_seed_picks_a_wording_and_keeps_it(http: httpx.Client) -> None:
    question = "Why is the sky blue?"
    by_seed = {seed: content(ask(http, question, seed=seed)) for seed in range(6)}
    assert len(set(by_seed.values())) > 1
    assert all(question.rstrip("?") in (reply or "") for reply in by_seed.values())
    assert content(ask(http, question, seed=3)) == by_seed[3]


def test_the_last_user_message_is_answered(http: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "say first"},
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "What is 6 times 7?"},
    ]
    response = http.post(PATH, headers=AUTH, json={"model": "electron", "messages": messages})
    assert content(response) == "42"


def test_usage_grows_with_the_prompt_one_token_per_four_characters(http: httpx.Client) -> None:
    short = ask(http, "say hi").json()["usage"]["prompt_tokens"]
    longer = ask(http, "say hi" + " " * 400).json()["usage"]["prompt_tokens"]
    assert longer - short == 100


# -- tools -----------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}


def test_a_message_naming_a_tool_gets_a_tool_call(http: httpx.Client) -> None:
    response = ask(http, "What's the weather in Mumbai?", tools=[WEATHER])
    (choice,) = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None  # no system prompt: OpenAI's shape
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Mumbai"}


def test_with_a_system_prompt_a_tool_call_comes_with_a_filler(http: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Acknowledge out loud before using any tool."},
        {"role": "user", "content": "What's the weather in New Delhi?"},
    ]
    body = {"model": "electron", "messages": messages, "tools": [WEATHER]}
    message = http.post(PATH, headers=AUTH, json=body).json()["choices"][0]["message"]
    assert message["content"] == "Let me check that for you."
    arguments = json.loads(message["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"city": "New Delhi"}


def test_the_tool_result_is_answered(http: httpx.Client) -> None:
    question = {"role": "user", "content": "What's the weather in Mumbai?"}
    first = ask(http, question["content"], tools=[WEATHER]).json()["choices"][0]["message"]
    call = first["tool_calls"][0]
    messages = [
        question,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 31, "sky": "humid"}'},
    ]
    body = {"model": "electron", "messages": messages, "tools": [WEATHER]}
    response = http.post(PATH, headers=AUTH, json=body)
    assert content(response) == "According to get_weather, temp_c: 31, sky: humid."
    assert response.json()["choices"][0]["finish_reason"] == "stop"


def test_tool_choice_none_required_and_named(http: httpx.Client) -> None:
    named = ask(http, "What's the weather in Mumbai?", tools=[WEATHER], tool_choice="none")
    assert named.json()["choices"][0]["message"]["tool_calls"] is None
    unnamed = ask(http, "Hello there", tools=[WEATHER])
    assert unnamed.json()["choices"][0]["finish_reason"] == "stop"
    forced = ask(http, "Hello there", tools=[WEATHER], tool_choice="required")
    assert forced.json()["choices"][0]["finish_reason"] == "tool_calls"
    choice = {"type": "function", "function": {"name": "get_weather"}}
    picked = ask(http, "Hello there", tools=[WEATHER], tool_choice=choice)
    assert picked.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == (
        "get_weather"
    )


def test_a_streamed_tool_call_builds_up_its_arguments(http: httpx.Client) -> None:
    parts = chunks(
        ask(
            http,
            "What's the weather in Mumbai?",
            tools=[WEATHER],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [c["choices"][0]["delta"] for c in parts if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    calls = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert calls[0]["id"] and calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2  # the arguments come in pieces
    arguments = "".join(call["function"].get("arguments", "") for call in calls)
    assert json.loads(arguments) == {"city": "Mumbai"}
    assert parts[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert parts[-1]["usage"]["completion_tokens"] > 0


# -- errors ----------------------------------------------------------------------------------


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The Electron error envelope, checked: request_id as the header, the type named."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)


def test_n_above_one_gets_the_documented_body(http: httpx.Client) -> None:
    error = error_of(ask(http, n=2), 400)
    assert error["message"] == "Invalid input data"
    assert error["type"] == "invalid_request_error"
    assert error["details"] == [
        {"code": "custom", "message": "n > 1 is not supported", "path": ["n"]}
    ]
    assert content(ask(http, "say ok", n=1)) == "ok"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"prompt_logprobs": 1}, ["prompt_logprobs"]),
        ({"temperature": 2.5}, ["temperature"]),
        ({"temperature": -0.1}, ["temperature"]),
        ({"temperature": "hot"}, ["temperature"]),
        ({"top_p": 1.5}, ["top_p"]),
        ({"max_tokens": 0}, ["max_tokens"]),
        ({"max_tokens": 2.5}, ["max_tokens"]),
        ({"stop": ["a", "b", "c", "d", "e"]}, ["stop"]),
        ({"stop": 5}, ["stop"]),
        ({"presence_penalty": 3}, ["presence_penalty"]),
        ({"frequency_penalty": -3}, ["frequency_penalty"]),
        ({"top_logprobs": 21, "logprobs": True}, ["top_logprobs"]),
        ({"top_logprobs": 2}, ["top_logprobs"]),
        ({"seed": "x"}, ["seed"]),
        ({"stream": "yes"}, ["stream"]),
        ({"response_format": {"type": "xml"}}, ["response_format", "type"]),
        ({"tools": [WEATHER] * 65}, ["tools"]),
        ({"tools": [{"type": "function"}]}, ["tools", "0", "function", "name"]),
        ({"tool_choice": "sometimes"}, ["tool_choice"]),
        ({"model": "gpt-4o"}, ["model"]),
        ({"model": None}, ["model"]),
        ({"messages": []}, ["messages"]),
        ({"messages": [{"role": "user", "content": "x"}] * 201}, ["messages"]),
        ({"messages": [{"role": "bot", "content": "x"}]}, ["messages", "0", "role"]),
        ({"messages": [{"role": "user"}]}, ["messages", "0", "content"]),
        ({"messages": [{"role": "tool", "content": "x"}]}, ["messages", "0", "tool_call_id"]),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            ["messages", "0", "content", "0"],
        ),
    ],
)
@pytest.mark.no_contract  # the requests break the spec on purpose
def test_bad_fields_get_a_400_naming_them(
    http: httpx.Client, fields: dict[str, Any], path: list[str]
) -> None:
    error = error_of(ask(http, **fields), 400)
    assert error["message"] == "Invalid input data"
    assert error["type"] == "invalid_request_error"
    assert path in [detail["path"] for detail in error["details"]], error["details"]


def test_limits_at_their_edges_are_accepted(http: httpx.Client) -> None:
    many = [{"role": "user", "content": "say ok"}] * 200
    response = http.post(PATH, headers=AUTH, json={"model": "electron", "messages": many})
    assert content(response) == "ok"
    edges = {"temperature": 2, "top_p": 0, "stop": ["w", "x", "y", "z"], "max_tokens": 1}
    assert content(ask(http, "say ok", **edges)) == "ok"  # two characters: one token


@pytest.mark.no_contract  # the request breaks the spec on purpose
def test_a_body_that_is_not_json_gets_a_400(http: httpx.Client) -> None:
    response = http.post(PATH, headers={**AUTH, "Content-Type": "application/json"}, content=b"{")
    assert error_of(response, 400)["type"] == "invalid_request_error"


def test_a_prompt_over_the_context_window_gets_a_400(http: httpx.Client) -> None:
    huge = "word " * 26_300  # 131,500 characters: about 32,875 tokens
    error = error_of(ask(http, huge), 400)
    assert "32768" in error["message"] and "messages" in error["message"]
    assert error["details"][0]["path"] == ["messages"]
    fits = "word " * 26_000
    assert ask(http, fits).status_code == 200
    error = error_of(ask(http, fits, max_tokens=2_000), 400)
    assert "2000 in the completion" in error["message"]


def test_a_missing_or_bad_key_gets_a_401(http: httpx.Client) -> None:
    body = {"model": "electron", "messages": [{"role": "user", "content": "hi"}]}
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = http.post(PATH, headers=headers, json=body)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"


def test_a_key_without_electron_gets_a_403(http: httpx.Client) -> None:
    body = {"model": "electron", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": "Bearer sk_no_electron_1234"}
    error = error_of(http.post(PATH, headers=headers, json=body), 403)
    assert "Electron" in error["message"] and "plan" in error["message"]


def test_over_the_requests_a_minute_gets_a_429(http: httpx.Client, emulator: Any) -> None:
    emulator.state.limits.set_chat_per_minute(2)
    assert ask(http, n=2).status_code == 400  # refused requests are not counted
    assert ask(http).status_code == 200
    assert ask(http).status_code == 200
    error = error_of(ask(http), 429)
    assert error["type"] == "rate_limit_error" and "per minute" in error["message"]
    other = {"Authorization": "Bearer sk_other_key"}
    body = {"model": "electron", "messages": [{"role": "user", "content": "hi"}]}
    assert http.post(PATH, headers=other, json=body).status_code == 200  # per key


def test_over_the_requests_in_flight_gets_a_429(http: httpx.Client, emulator: Any) -> None:
    emulator.state.limits.set_chat_concurrency(1)
    emulator.state.pacing.chat_token_ms = 50.0
    body = {"model": "electron", "messages": [{"role": "user", "content": "count to 10"}]}
    with http.stream("POST", PATH, headers=AUTH, json={**body, "stream": True}) as held:
        lines = held.iter_lines()
        next(lines)
        error = error_of(ask(http), 429)
        assert error["message"] == "Concurrency limit reached"
        assert error["type"] == "rate_limit_error"
        assert [line for line in lines if line][-1] == "data: [DONE]"
    assert ask(http).status_code == 200  # the unit came back with the last byte


def test_the_default_limits_are_the_standard_plans() -> None:
    from smallest_cli.emulator.settings import EmulatorSettings

    served = EmulatorSettings.resolve({}, in_process=False, environ={}).state()
    assert (served.limits.chat_per_minute, served.limits.chat_concurrency) == (10, 3)
    assert served.pacing.chat_first_token_ms > 0 and served.pacing.chat_token_ms > 0
    environ = {
        "SMALLEST_EMULATOR_CHAT_PER_MINUTE": "7",
        "SMALLEST_EMULATOR_CHAT_CONCURRENCY": "2",
        "SMALLEST_EMULATOR_CHAT_TOKEN_MS": "5",
    }
    tuned = EmulatorSettings.resolve({}, in_process=True, environ=environ).state()
    assert (tuned.limits.chat_per_minute, tuned.limits.chat_concurrency) == (7, 2)
    assert (tuned.pacing.chat_first_token_ms, tuned.pacing.chat_token_ms) == (0, 5)
    flagged = EmulatorSettings.resolve({"chat_per_minute": 50}, in_process=True, environ=environ)
    assert flagged.chat_per_minute == 50


# -- faults ----------------------------------------------------------------------------------


def test_a_fault_cuts_a_streamed_reply_midway(http: httpx.Client, emulator: Any) -> None:
    emulator.state.faults.replace(["drop:4*1@/waves/v1/chat"], 0.0)
    received: list[str] = []
    body = {
        "model": "electron",
        "messages": [{"role": "user", "content": "count to 50"}],
        "stream": True,
    }
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", PATH, headers=AUTH, json=body) as response,
    ):
        for line in response.iter_lines():
            received.append(line)
    events = [json.loads(line.removeprefix("data: ")) for line in received if line[6:7] == "{"]
    assert streamed_text(events) == "1, 2, 3, 4, "  # four whole events, then the cut
    assert "data: [DONE]" not in received
    assert ask(http, "say ok").status_code == 200  # used up


def test_an_injected_status_has_electrons_error_shape(http: httpx.Client, emulator: Any) -> None:
    emulator.state.faults.replace(["503*1@/waves/v1/chat"], 0.0)
    response = ask(http)
    assert response.status_code == 503
    assert set(response.json()["error"]) >= {"message", "type", "request_id"}


# -- the openai package, unmodified ------------------------------------------------------------


def openai_client(emulator: Any, key: str = TEST_KEY) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{emulator.base_url}/waves/v1", api_key=key, max_retries=0)


def test_openai_create_and_stream_with_usage(emulator: Any) -> None:
    client = openai_client(emulator)
    response = client.chat.completions.create(
        model="electron", messages=[{"role": "user", "content": "What is 12*7?"}]
    )
    assert response.choices[0].message.content == "84"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None and response.usage.completion_tokens == 1
    stream = client.chat.completions.create(
        model="electron",
        messages=[{"role": "user", "content": "count to 12"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    assert text == ", ".join(str(n) for n in range(1, 13))
    assert usage is not None and usage.completion_tokens == -(-len(text) // 4)  # 4 chars/token
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_tools_round_trip(emulator: Any) -> None:
    client = openai_client(emulator)
    question = {"role": "user", "content": "What's the weather in Mumbai?"}
    first = client.chat.completions.create(model="electron", messages=[question], tools=[WEATHER])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls" and message.tool_calls
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Mumbai"}
    second = client.chat.completions.create(
        model="electron",
        messages=[
            question,
            {"role": "assistant", "content": message.content, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 31})},
        ],
        tools=[WEATHER],
    )
    assert second.choices[0].message.content == "According to get_weather, temp_c: 31."
    streamed = client.chat.completions.create(
        model="electron", messages=[question], tools=[WEATHER], stream=True
    )
    arguments = ""
    for chunk in streamed:
        for delta_call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            arguments += delta_call.function.arguments or ""
    assert json.loads(arguments) == {"city": "Mumbai"}


def test_openai_raises_its_own_exceptions(emulator: Any) -> None:
    import openai

    client = openai_client(emulator)
    hello = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="electron", messages=hello, n=2)
    assert bad.value.status_code == 400
    assert bad.value.request_id is not None
    with pytest.raises(openai.AuthenticationError):
        openai_client(emulator, "not-a-key").chat.completions.create(
            model="electron", messages=hello
        )
    with pytest.raises(openai.PermissionDeniedError):
        openai_client(emulator, "sk_no_electron_x").chat.completions.create(
            model="electron", messages=hello
        )
    emulator.state.limits.set_chat_per_minute(1)
    client.chat.completions.create(model="electron", messages=hello)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="electron", messages=hello)
