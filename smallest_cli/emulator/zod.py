"""zod issues: the items of the emulator's 400 bodies, built the way zod 3 builds them.

The live server checks request bodies with zod 3 and answers one that fails with zod's issues,
one per problem: `{"code":"invalid_type","expected":"string","received":"undefined",
"path":["text"],"message":"Required"}`. Each code has its own extra keys, key order and
wording; the builders here keep all three, so that the emulator's bodies are the observed
server answers byte for byte (../shared/api/observed/, REFERENCE §6.1, §9). `brief` is the
`{code, message, path}` form of chat completions' `details` (REFERENCE §11). Which fields
fail, and which failure stops further checks, is each route's own checker's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Issue = dict[str, Any]
Path = Sequence[str | int]
REQUIRED = "Required"

MISSING: Any = object()
"""A field the body lacks: zod's `undefined`."""


def received(value: Any) -> str:
    """zod's name for the type of a JSON value ("undefined" for MISSING)."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _js(value: Any) -> Any:
    """A number as JavaScript prints and serializes it (2, not 2.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _type_message(expected: str, value: Any) -> str:
    return REQUIRED if value is MISSING else f"Expected {expected}, received {received(value)}"


def _choices(options: Sequence[Any]) -> str:
    """An enum's options as zod lists them: `'wav' | 'pcm'`, `8000 | 16000`."""
    return " | ".join(f"'{o}'" if isinstance(o, str) else str(o) for o in options)


def enum_message(options: Sequence[Any], value: Any) -> str:
    return f"Invalid enum value. Expected {_choices(options)}, received '{value}'"


_SIZE_WORDS = {
    ("too_small", "number"): "Number must be greater than or equal to {}",
    ("too_big", "number"): "Number must be less than or equal to {}",
    ("too_small", "string"): "String must contain at least {} character(s)",
    ("too_big", "string"): "String must contain at most {} character(s)",
    ("too_small", "array"): "Array must contain at least {} element(s)",
    ("too_big", "array"): "Array must contain at most {} element(s)",
}


def size_message(code: str, value_type: str, bound: float) -> str:
    """The message of a `too_small` or `too_big` issue."""
    return _SIZE_WORDS[code, value_type].format(_js(bound))


def wrong_type(path: Path, expected: str, value: Any) -> Issue:
    """`invalid_type`: a field of another type, or a required one missing ("Required")."""
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": received(value),
        "path": list(path),
        "message": _type_message(expected, value),
    }


def not_integer(path: Path) -> Issue:
    """`invalid_type` of `z.number().int()` given a fraction (its own key order)."""
    return {
        "code": "invalid_type",
        "expected": "integer",
        "received": "float",
        "message": "Expected integer, received float",
        "path": list(path),
    }


def enum_wrong_type(path: Path, options: Sequence[Any], value: Any) -> Issue:
    """`invalid_type` of an enum given another type: `expected` lists the options."""
    return {
        "expected": _choices(options),
        "received": received(value),
        "code": "invalid_type",
        "path": list(path),
        "message": _type_message(_choices(options), value),
    }


def enum_miss(path: Path, options: Sequence[Any], value: Any) -> Issue:
    """`invalid_enum_value`: a value of the enum's type that is not one of its options."""
    return {
        "received": _js(value),
        "code": "invalid_enum_value",
        "options": list(options),
        "path": list(path),
        "message": enum_message(options, _js(value)),
    }


def too_small(path: Path, value_type: str, minimum: float) -> Issue:
    """`too_small`: a number below `minimum`, or a string or array shorter."""
    return _size("too_small", "minimum", path, value_type, minimum)


def too_big(path: Path, value_type: str, maximum: float) -> Issue:
    """`too_big`: a number above `maximum`, or a string or array longer."""
    return _size("too_big", "maximum", path, value_type, maximum)


def _size(code: str, key: str, path: Path, value_type: str, bound: float) -> Issue:
    return {
        "code": code,
        key: _js(bound),
        "type": value_type,
        "inclusive": True,
        "exact": False,
        "message": size_message(code, value_type, bound),
        "path": list(path),
    }


def regex_miss(path: Path) -> Issue:
    """`invalid_string`: a string that does not match the field's pattern."""
    return {
        "validation": "regex",
        "code": "invalid_string",
        "message": "Invalid",
        "path": list(path),
    }


def custom(path: Path, message: str) -> Issue:
    """An issue of an object-level refinement (`superRefine`)."""
    return {"code": "custom", "path": list(path), "message": message}


def brief(code: str, path: Path, message: str) -> Issue:
    """An issue in the `{code, message, path}` form of chat completions' `details`."""
    return {"code": code, "message": message, "path": list(path)}
