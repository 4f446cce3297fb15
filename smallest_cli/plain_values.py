"""Option values converted without pydantic wherever that gives the same value.

Typer converts each option value through a pydantic TypeAdapter, and importing pydantic
and building the adapters is most of what `smallest tts --help` costs, and a good part of
how long `tts say` takes to its first audio. The plain cases (a string, a flag, a number
written plainly and within its bounds, a list of strings, an enum member or its value) are
converted here to the value pydantic would give; anything else goes to Typer's own
conversion, so its results and its error messages stay Typer's. A plain number outside its
bounds is refused here, in words that give the whole range ("--temperature must be between
0 and 2"), where pydantic's name only the bound that was crossed.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import typer

WHOLE = re.compile(r"-?[0-9]{1,18}")
DECIMAL = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,18})?")


class NotPlain(Exception):
    """The value needs Typer's own conversion."""


def convert_plainly(command: Any, ctx: Any) -> None:
    """Give every parameter of `command` and of its subcommands the plain conversion.

    `ctx` is the root command's: the subcommands' `--help` options are made now with its
    help option names, which their own contexts would inherit.
    """
    params = command.params
    if command is ctx.command or "help_option_names" not in command.context_settings:
        params = command.get_params(ctx)
    for param in params:
        # Typer's lazily built converter; absent from Typer versions without pydantic.
        if hasattr(param, "_runtime_param") and hasattr(param, "type_descriptor"):
            param._runtime_param = PlainConversion()
    for subcommand in getattr(command, "commands", {}).values():
        convert_plainly(subcommand, ctx)


class OutOfRange(NotPlain):
    """A plain number outside its option's bounds."""

    def __init__(self, number: float, low: float | None, high: float | None) -> None:
        self.number, self.low, self.high = number, low, high

    def wording(self) -> str:
        if self.low is not None and self.high is not None:
            allowed = f"be between {_plain(self.low)} and {_plain(self.high)}"
        elif self.low is not None:
            allowed = f"be at least {_plain(self.low)}"
        else:
            allowed = f"be at most {_plain(self.high or 0)}"
        return f"must {allowed} (got {_plain(self.number)})"


class RangeError(typer.BadParameter):
    """`--temperature must be between 0 and 2 (got 3)`: the option, then its whole range."""

    def format_message(self) -> str:
        opts = getattr(self.param, "opts", None) or [""]
        if not opts[-1].startswith("-"):
            return super().format_message()
        return f"{opts[-1]} {self.message}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


class PlainConversion:
    """Stands in for Typer's converter of one parameter; hands it what is not plain."""

    def __init__(self) -> None:
        self.typer_conversion: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = bool(param.multiple or param.nargs == -1)
        if value is None:
            return () if multiple else None
        try:
            return plain_value(value, param.type_descriptor, multiple, ctx)
        except OutOfRange as error:
            raise RangeError(error.wording(), ctx=ctx, param=param) from None
        except NotPlain:
            if self.typer_conversion is None:
                from typer._coercion import build_runtime_param

                self.typer_conversion = build_runtime_param(param.type_descriptor)
            return self.typer_conversion.coerce(value, param=param, ctx=ctx)


def plain_value(value: Any, descriptor: Any, multiple: bool, ctx: Any) -> Any:
    """`value` as Typer would convert it for `descriptor`, or NotPlain."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None or info.clamp:
        raise NotPlain
    if multiple:
        if annotation == list[str] and isinstance(value, list | tuple):
            if all(type(item) is str for item in value):
                return list(value)
        raise NotPlain
    if annotation in (str, bool) and type(value) is annotation:
        return value
    if annotation is int:
        number: int | float = whole(value)
    elif annotation is float:
        number = decimal(value)
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        return member(annotation, value, info.case_sensitive, ctx)
    else:
        raise NotPlain
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        raise OutOfRange(number, info.min, info.max)
    return number


def whole(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and WHOLE.fullmatch(value):
        return int(value)
    raise NotPlain


def decimal(value: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    if type(value) is str and DECIMAL.fullmatch(value):
        return float(value)
    raise NotPlain


def member(enum: type[Enum], value: Any, case_sensitive: bool, ctx: Any) -> Enum:
    if isinstance(value, enum):
        return value
    if type(value) is str and case_sensitive and getattr(ctx, "token_normalize_func", None) is None:
        for candidate in enum:
            if str(candidate.value) == value:
                return candidate
    raise NotPlain
