"""The body of POST /waves/v1/chat/completions, checked as Electron does (REFERENCE §11).

A body that breaks the schema gets the documented 400: message "Invalid input data", type
`invalid_request_error` and zod-style `details` (`{code, message, path}`, the path's array
indices written as strings, as the spec's `path: string[]` has it). Checked: `model`
("electron" only), `messages` (1-200, roles, `content`, `tool_call_id` on `tool` messages),
`temperature` 0-2, `top_p` 0-1, `max_tokens` >= 1, `stop` (a string or at most 4),
`tools` (at most 64, each a function with a name), `tool_choice`, `response_format`,
`seed`, `logprobs`/`top_logprobs` (0-20, needs `logprobs`), the penalties (-2 to 2),
`stream`, `stream_options`, `user`; `n > 1` and `prompt_logprobs` are refused with the
documented custom issues. Other fields are accepted and ignored, as the docs say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smallest_cli.emulator import zod
from smallest_cli.emulator.chat_brain import prompt_tokens

MODEL = "electron"
CONTEXT_TOKENS = 32_768
MAX_MESSAGES = 200
MAX_TOOLS = 64
MAX_STOP = 4
ROLES = ("system", "user", "assistant", "tool")


class Invalid(Exception):
    """The request breaks the schema: `issues` are its zod-style details."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__("Invalid input data")
        self.issues = issues


class ContextExceeded(Exception):
    """The prompt and the completion asked for do not fit the context window."""


@dataclass
class ChatRequest:
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_object: bool = False
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = "auto"
    prompt_tokens: int = 0

    @property
    def room(self) -> int:
        """How many tokens the completion may take."""
        left = CONTEXT_TOKENS - self.prompt_tokens
        return left if self.max_tokens is None else min(left, self.max_tokens)


def parse(document: Any) -> ChatRequest:
    """The request in `document`; Invalid (schema) or ContextExceeded (the window)."""
    issues: list[dict[str, Any]] = []
    if not isinstance(document, dict):
        raise Invalid([_type([], "object", document)])
    check = _Checker(document, issues)
    model = check.typed("model", str, "string", required=True)
    if isinstance(model, str) and model != MODEL:
        issues.append(
            zod.brief("custom", ["model"], f"Model '{model}' is not supported; use '{MODEL}'")
        )
    messages = check.typed("messages", list, "array", required=True)
    if isinstance(messages, list):
        check.length("messages", messages, 1, MAX_MESSAGES)
        for index, message in enumerate(messages):
            _check_message(message, ["messages", str(index)], issues)
    check.number("temperature", 0, 2)
    check.number("top_p", 0, 1)
    check.number("presence_penalty", -2, 2)
    check.number("frequency_penalty", -2, 2)
    max_tokens = check.integer("max_tokens", 1, None)
    seed = check.integer("seed", None, None)
    check.integer("top_logprobs", 0, 20)
    stream = check.typed("stream", bool, "boolean")
    logprobs = check.typed("logprobs", bool, "boolean")
    check.typed("user", str, "string")
    check.typed("logit_bias", dict, "object")
    if document.get("top_logprobs") is not None and logprobs is not True:
        issues.append(zod.brief("custom", ["top_logprobs"], "top_logprobs requires logprobs: true"))
    options = check.typed("stream_options", dict, "object")
    include_usage = False
    if isinstance(options, dict):
        include_usage = (
            _Checker(options, issues, ["stream_options"]).typed("include_usage", bool, "boolean")
            is True
        )
    stop = _stop(document.get("stop"), issues)
    tools = check.typed("tools", list, "array")
    if isinstance(tools, list):
        check.length("tools", tools, 0, MAX_TOOLS)
        for index, tool in enumerate(tools):
            _check_tool(tool, ["tools", str(index)], issues)
    tool_choice = document.get("tool_choice", "auto")
    if tool_choice is not None:
        _check_tool_choice(tool_choice, issues)
    response_format = check.typed("response_format", dict, "object")
    json_object = False
    if isinstance(response_format, dict):
        kind = response_format.get("type", "text")
        if kind not in ("text", "json_object"):
            issues.append(_enum(["response_format", "type"], ("text", "json_object"), kind))
        json_object = kind == "json_object"
    n = document.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
        issues.append(_type(["n"], "number", n))
    elif isinstance(n, int) and n > 1:
        issues.append(zod.brief("custom", ["n"], "n > 1 is not supported"))
    if document.get("prompt_logprobs") is not None:
        issues.append(zod.brief("custom", ["prompt_logprobs"], "prompt_logprobs is not supported"))
    if issues:
        raise Invalid(issues)
    assert isinstance(messages, list)
    request = ChatRequest(
        messages=messages,
        stream=stream is True,
        include_usage=include_usage,
        max_tokens=max_tokens,
        stop=stop,
        seed=seed,
        json_object=json_object,
        tools=tools or [],
        tool_choice=tool_choice if tool_choice is not None else "auto",
        prompt_tokens=prompt_tokens(messages, tools or []),
    )
    asked = request.prompt_tokens + (max_tokens or 0)
    if request.prompt_tokens >= CONTEXT_TOKENS or asked > CONTEXT_TOKENS:
        completion = f", {max_tokens} in the completion" if max_tokens else ""
        raise ContextExceeded(
            f"This model's maximum context length is {CONTEXT_TOKENS} tokens. However, you "
            f"requested {asked} tokens ({request.prompt_tokens} in the messages{completion}). "
            "Please reduce the length of the messages or max_tokens."
        )
    return request


class _Checker:
    """Typed look-ups in one object, adding an issue for each bad field."""

    def __init__(
        self, document: dict[str, Any], issues: list[dict[str, Any]], path: list[str] | None = None
    ) -> None:
        self.document, self.issues, self.path = document, issues, path or []

    def typed(self, key: str, kind: type, name: str, *, required: bool = False) -> Any:
        value = self.document.get(key)
        if value is None:
            if required:
                self.issues.append(_required([*self.path, key]))
            return None
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.issues.append(_type([*self.path, key], name, value))
            return None
        return value

    def number(self, key: str, low: float | None, high: float | None) -> float | None:
        value = self.document.get(key)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.issues.append(_type([*self.path, key], "number", value))
            return None
        self._range(key, value, low, high)
        return float(value)

    def integer(self, key: str, low: int | None, high: int | None) -> int | None:
        value = self.document.get(key)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            kind = "integer" if isinstance(value, float) else "number"
            self.issues.append(_type([*self.path, key], kind, value))
            return None
        return value if self._range(key, value, low, high) else None

    def length(self, key: str, items: list[Any], low: int, high: int) -> None:
        if len(items) < low:
            self._size("too_small", key, "array", low)
        elif len(items) > high:
            self._size("too_big", key, "array", high)

    def _range(self, key: str, value: float, low: float | None, high: float | None) -> bool:
        if low is not None and value < low:
            self._size("too_small", key, "number", low)
            return False
        if high is not None and value > high:
            self._size("too_big", key, "number", high)
            return False
        return True

    def _size(self, code: str, key: str, value_type: str, bound: float) -> None:
        message = zod.size_message(code, value_type, bound)
        self.issues.append(zod.brief(code, [*self.path, key], message))


def _check_message(message: Any, path: list[str], issues: list[dict[str, Any]]) -> None:
    if not isinstance(message, dict):
        issues.append(_type(path, "object", message))
        return
    role = message.get("role")
    if role is None:
        issues.append(_required([*path, "role"]))
    elif role not in ROLES:
        issues.append(_enum([*path, "role"], ROLES, role))
    content = message.get("content")
    if content is None:
        if role != "assistant" or not message.get("tool_calls"):
            issues.append(_required([*path, "content"]))
    elif isinstance(content, list):
        for index, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text":
                where = [*path, "content", str(index)]
                issues.append(zod.brief("custom", where, "Electron accepts text content only"))
    elif not isinstance(content, str):
        issues.append(_type([*path, "content"], "string", content))
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        issues.append(_required([*path, "tool_call_id"]))
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        issues.append(_type([*path, "tool_calls"], "array", calls))


def _check_tool(tool: Any, path: list[str], issues: list[dict[str, Any]]) -> None:
    if not isinstance(tool, dict):
        issues.append(_type(path, "object", tool))
        return
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        issues.append(_required([*path, "function", "name"]))


def _check_tool_choice(choice: Any, issues: list[dict[str, Any]]) -> None:
    if isinstance(choice, str):
        if choice not in ("auto", "required", "none"):
            issues.append(_enum(["tool_choice"], ("auto", "required", "none"), choice))
        return
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(name, str):
        issues.append(zod.brief("invalid_union", ["tool_choice"], "Invalid input"))


def _stop(stop: Any, issues: list[dict[str, Any]]) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,) if stop else ()
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        issues.append(zod.brief("invalid_union", ["stop"], "Invalid input"))
        return ()
    if len(stop) > MAX_STOP:
        issues.append(
            zod.brief("too_big", ["stop"], zod.size_message("too_big", "array", MAX_STOP))
        )
    return tuple(s for s in stop if s)


def _required(path: list[str]) -> dict[str, Any]:
    return zod.brief("invalid_type", path, zod.REQUIRED)


def _type(path: list[str], expected: str, value: Any) -> dict[str, Any]:
    kind = zod.received(value)
    # This route has always called a NaN (which Python's json reads, Node's does not) a number.
    received = "number" if kind == "nan" else kind
    return zod.brief("invalid_type", path, f"Expected {expected}, received {received}")


def _enum(path: list[str], options: tuple[str, ...], value: Any) -> dict[str, Any]:
    return zod.brief("invalid_enum_value", path, zod.enum_message(options, value))
