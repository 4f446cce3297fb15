"""The emulator's stand-in for Electron: deterministic, useful replies and a token estimate.

Replies answer the last user message (or the last `tool` result):

* arithmetic, "What is 12*7?" -> `84` (`+ - * / // % ** ^ x`, parentheses, and the words
  plus, minus, times, multiplied by, divided by);
* counting, "count to 5" -> `1, 2, 3, 4, 5` ("count from 3 to 7" too; at most 10,000);
* "say X" -> `X`, and "repeat after me: X" -> `X` (surrounding quotes dropped);
* a message naming one of the request's tools -> a call of that tool (below);
* a `tool` message last -> a sentence built from that tool's result;
* anything else -> a short sentence that quotes the question. It reads the same every time;
  a `seed` picks one of a few wordings, the same one for the same seed.

A tool is named when the message contains its name, its name with `_`/`-` read as spaces,
or every word of four letters or more in its name ("weather" names `get_weather`).
`tool_choice` "none" never calls, "required" calls the named tool or else the first, and
`{"type": "function", "function": {"name": N}}` calls N. Arguments fill each property of
the tool's `parameters`: strings from the message (the capitalised words after "in", "for",
"at", "of", "to" or "from", else the message), numbers from its first number, booleans false.
As documented for voice agents, a call comes with a filler sentence in `content` when the
conversation has a system prompt, and with `content: null` otherwise.

Tokens are estimated as one per four characters, rounded up (`count_tokens`); a message
adds 4 for its role and framing, a tool definition the tokens of its JSON.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_COUNT = 10_000
TOKENS_PER_MESSAGE = 4
CHARS_PER_TOKEN = 4
FILLER = "Let me check that for you."
WORDINGS = (
    'You asked: "{q}". This is the emulator\'s stand-in for Electron, so the answer is '
    "this short, stable sentence.",
    'About "{q}": the emulator answers every question with a short sentence like this one.',
    'Regarding "{q}": here is a brief, predictable reply from the emulator.',
)
NAME_STOP_WORDS = frozenset(("get", "set", "fetch", "list", "find", "lookup", "search", "make"))


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # a JSON object, as text

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Reply:
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()


def count_tokens(text: str) -> int:
    """The token estimate of a text: one per four characters, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(messages: Sequence[dict[str, Any]], tools: Sequence[Any] = ()) -> int:
    """The token estimate of a request's messages and tool definitions."""
    total = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE + count_tokens(text_of(message))
        for call in message.get("tool_calls") or ():
            total += count_tokens(json.dumps(call, separators=(",", ":")))
    return total + sum(count_tokens(json.dumps(t, separators=(",", ":"))) for t in tools)


def text_of(message: dict[str, Any]) -> str:
    """A message's text: its `content` string, or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def reply(
    messages: Sequence[dict[str, Any]],
    *,
    tools: Sequence[dict[str, Any]] = (),
    tool_choice: Any = "auto",
    json_object: bool = False,
    seed: int | None = None,
) -> Reply:
    """The emulator's answer to a conversation (see the module's help)."""
    last = messages[-1] if messages else {}
    has_system = any(m.get("role") == "system" for m in messages)
    if last.get("role") == "tool":
        text = _tool_result(messages, last)
    else:
        question = next(
            (text_of(m) for m in reversed(messages) if m.get("role") == "user"), ""
        ).strip()
        call = _tool_call(question, tools, tool_choice, len(messages))
        if call is not None:
            return Reply(FILLER if has_system else None, (call,))
        text = answer(question, seed)
    if json_object:
        text = json.dumps({"answer": _number_or_text(text)})
    return Reply(text)


def answer(question: str, seed: int | None = None) -> str:
    """The reply to one user message, tools aside."""
    for rule in _RULES:
        found = rule(question)
        if found is not None:
            return found
    if not question:
        return "Hello! How can I help you today?"
    wording = WORDINGS[0]
    if seed is not None:
        digest = hashlib.sha256(f"{seed}:{question}".encode()).digest()
        wording = WORDINGS[digest[0] % len(WORDINGS)]
    return wording.format(q=_gist(question))


def _gist(question: str) -> str:
    """The question, shortened; of several lines, the first and the last (piped material
    comes with its instruction before or after it)."""
    lines = [line for line in question.splitlines() if line.strip()] or [question]
    if len(lines) == 1:
        return _shorten(lines[0])
    return f"{_shorten(lines[0], 30)} … {_shorten(lines[-1], 30)}"


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split()).rstrip("?.!")
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _repeat(question: str) -> str | None:
    match = re.match(r"(?is)^\s*(?:please\s+)?repeat after me\s*[:,]?\s*(.+?)\s*$", question)
    if match is None:
        match = re.match(r"(?is)^\s*(?:please\s+)?say\s*[:,]?\s+(.+?)\s*$", question)
    return _unquote(match.group(1)) if match else None


def _unquote(text: str) -> str:
    for left, right in (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’")):
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            return text[1:-1]
    return text


def _count(question: str) -> str | None:
    match = re.match(
        r"(?i)\s*(?:(?:please|can you|could you|now)\s+)*count\s+"
        r"(?:from\s+(-?\d+)\s+)?(?:up\s+)?to\s+(-?\d+)",
        question,
    )
    if match is None:
        return None
    start, end = int(match.group(1) or 1), int(match.group(2))
    step = 1 if end >= start else -1
    if abs(end - start) >= MAX_COUNT:
        end = start + step * (MAX_COUNT - 1)
    return ", ".join(str(n) for n in range(start, end + step, step))


_WORD_OPERATORS = (
    (r"\bmultiplied by\b", "*"),
    (r"\bdivided by\b", "/"),
    (r"\btimes\b", "*"),
    (r"\bplus\b", "+"),
    (r"\bminus\b", "-"),
    (r"(?<=[\d)])\s*[x×]\s*(?=[\d(])", "*"),
    (r"÷", "/"),
    (r"\^", "**"),
)
_EXPRESSION = re.compile(r"[-(\s]*\d[\d.\s()+\-*/%]*")
_ASKING = re.compile(
    r"^\s*(?:(?:please|can you|could you|tell me)\s+)?"
    r"(?:what\s+is|what's|whats|calculate|compute|evaluate|how\s+much\s+is|solve)?\s*[:,]?"
    r"(?P<expression>.*?)[\s?=.!]*$",
    re.DOTALL,
)
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _arithmetic(question: str) -> str | None:
    """The value of a question that is an expression, asked ("What is 12*7?") or bare; a
    longer text that merely holds numbers and dashes (a diff, a date range) is not one."""
    text = question.lower()
    for pattern, symbol in _WORD_OPERATORS:
        text = re.sub(pattern, f" {symbol} ", text)
    asked = _ASKING.match(text)
    expression = asked.group("expression").strip() if asked else ""
    if not _EXPRESSION.fullmatch(expression):
        return None
    if not re.search(r"\d\s*[)]*\s*(?:\*\*|[-+*/%])\s*[-(]*\s*\d", expression):
        return None
    try:
        value = _evaluate(ast.parse(expression, mode="eval").body)
    except ZeroDivisionError:
        return "Division by zero is undefined."
    except (SyntaxError, ValueError, OverflowError, TypeError):
        return None
    return _format_number(value)


def _evaluate(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        if isinstance(node.value, bool):
            raise ValueError("not a number")
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large")
        return _OPERATORS[type(node.op)](left, right)  # type: ignore[no-any-return]
    raise ValueError("not arithmetic")


def _format_number(value: float | int) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return str(value)


def _number_or_text(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


_RULES: tuple[Callable[[str], str | None], ...] = (_repeat, _count, _arithmetic)


# -- tools -----------------------------------------------------------------------------------


def _tool_call(
    question: str, tools: Sequence[dict[str, Any]], tool_choice: Any, turn: int
) -> ToolCall | None:
    functions = [t.get("function") or {} for t in tools if isinstance(t, dict)]
    functions = [f for f in functions if isinstance(f.get("name"), str)]
    if not functions or tool_choice == "none":
        return None
    chosen: dict[str, Any] | None = None
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name")
        chosen = next((f for f in functions if f["name"] == wanted), None)
    if chosen is None:
        chosen = next((f for f in functions if _names(question, f["name"])), None)
    if chosen is None and tool_choice == "required":
        chosen = functions[0]
    if chosen is None:
        return None
    arguments = _arguments(question, chosen.get("parameters"))
    digest = hashlib.sha256(f"{turn}:{chosen['name']}:{question}".encode()).hexdigest()
    return ToolCall(f"call_{digest[:24]}", chosen["name"], json.dumps(arguments))


def _names(question: str, name: str) -> bool:
    text = question.lower()
    spaced = re.sub(r"[_\-]+", " ", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)).lower()
    if name.lower() in text or spaced in text:
        return True
    words = [w for w in spaced.split() if len(w) >= 4 and w not in NAME_STOP_WORDS]
    return bool(words) and all(re.search(rf"\b{re.escape(w)}", text) for w in words)


def _arguments(question: str, parameters: Any) -> dict[str, Any]:
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    if not isinstance(properties, dict):
        return {}
    number = re.search(r"-?\d+(?:\.\d+)?", question)
    place = re.search(
        r"\b(?:in|for|at|of|to|from)\s+((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*)", question
    )
    arguments: dict[str, Any] = {}
    for key, schema in properties.items():
        kind = schema.get("type") if isinstance(schema, dict) else None
        if kind in ("number", "integer"):
            value = float(number.group()) if number else 0
            arguments[key] = int(value) if kind == "integer" else value
        elif kind == "boolean":
            arguments[key] = False
        elif kind in (None, "string"):
            arguments[key] = place.group(1) if place else question.strip().rstrip("?.!")
    return arguments


def _tool_result(messages: Sequence[dict[str, Any]], last: dict[str, Any]) -> str:
    name = "the tool"
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict) and call.get("id") == last.get("tool_call_id"):
                name = str((call.get("function") or {}).get("name") or name)
    result = text_of(last).strip()
    try:
        data = json.loads(result)
    except ValueError:
        data = None
    if isinstance(data, dict) and data:
        result = ", ".join(f"{key}: {_plain(value)}" for key, value in data.items())
    elif data is not None:
        result = _plain(data)
    return f"According to {name}, {result or 'there is nothing to report'}."


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
