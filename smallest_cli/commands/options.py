"""Options declared once: the ones several commands share, and the glue that turns a
frozen dataclass of options into a command's parameters.

A command's options are the fields of one frozen dataclass, each annotated the Typer way
(`Annotated[type, typer.Option(...)]`); `takes(Options)` makes the command take those
fields as its parameters and hand the job one `Options` value. A flag is therefore written
once (its field), and a value's own check sits in its declaration (a Typer callback), so
the job sees only values that are well-formed one by one and checks how they combine.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from smallest_cli.errors import UsageError

Options = TypeVar("Options")


def takes(
    options_type: type[Options],
) -> Callable[[Callable[[typer.Context, Options], None]], Callable[..., None]]:
    """Make `run(ctx, options)` a Typer command whose parameters are `options_type`'s fields.

    Typer reads a command's parameters from its signature, so the command gets one built
    from the dataclass (same names, annotations, defaults and order); the values Typer
    parses become one `options_type(...)`.
    """
    hints = typing.get_type_hints(options_type, include_extras=True)
    fields = dataclasses.fields(options_type)  # type: ignore[arg-type]
    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    ] + [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=hints[field.name],
        )
        for field in fields
    ]

    def decorate(run: Callable[[typer.Context, Options], None]) -> Callable[..., None]:
        @functools.wraps(run)
        def command(ctx: typer.Context, **values: Any) -> None:
            run(ctx, options_type(**values))

        del command.__wrapped__  # Typer must see the signature below, not run's
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate


# -- shared options ---------------------------------------------------------------------


def output_option(help: str) -> Any:
    """-o/--output, spelled once: every command that writes a result takes it, and only
    what that result is (the help) differs between them."""
    return typer.Option("-o", "--output", help=help)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DiarizeFlag = Annotated[
    bool, typer.Option("--diarize", help="Label speakers (Speaker 0, Speaker 1, …).")
]
RedactOption = Annotated[
    list[str] | None,
    typer.Option(
        "--redact",
        metavar="pii,pci",
        help="Redact pii, pci or pii,pci (effective for en and hi; repeatable).",
    ),
]
ExpireContentFlag = Annotated[
    bool,
    typer.Option(
        "--expire-content",
        help="Ask the API to delete this request's content after 7 days (enterprise plans).",
    ),
]
WordTimestampsFlag = Annotated[
    bool,
    typer.Option(
        "--word-timestamps",
        help="Ask for word timings (automatic for srt, vtt, tsv and --diarize).",
    ),
]
PlaybackDeviceOption = Annotated[
    str | None, typer.Option("--device", help="Output device (name or index) to play on.")
]


# -- a conversation with Electron (`chat` and `talk`) ------------------------------------

SystemOption = Annotated[
    str | None,
    typer.Option("-s", "--system", help="System prompt. [env var: SMALLEST_CHAT_SYSTEM]"),
]
ContinueFlag = Annotated[
    bool, typer.Option("-c", "--continue", help="Continue the latest conversation.")
]
ConversationOption = Annotated[
    str | None,
    typer.Option("--cid", help="Continue the conversation with this id (see `history list`)."),
]
TemperatureOption = Annotated[
    float | None,
    typer.Option(
        "--temperature", min=0, max=2, help="Randomness, 0–2. [env var: SMALLEST_CHAT_TEMPERATURE]"
    ),
]
MaxTokensOption = Annotated[
    int | None,
    typer.Option(
        "--max-tokens",
        min=1,
        max=32768,
        help="Longest reply in tokens. [env var: SMALLEST_CHAT_MAX_TOKENS]",
    ),
]
NoLogFlag = Annotated[
    bool,
    typer.Option("--no-log", help="Store nothing in the chat history. [config: chat_log = false]"),
]


# -- checks of one value, used by the declarations --------------------------------------

ID_PATTERN = re.compile(r"^[a-zA-Z0-9_\-.]{1,128}$")


def check_id(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """A --request-id or --session-id: at most 128 letters, digits, '-', '_' or '.'."""
    if value is not None and not ID_PATTERN.match(value):
        raise UsageError(
            f"invalid {param.opts[-1]} {value!r}",
            hint="use at most 128 letters, digits, '-', '_' or '.'",
        )
    return value


def check_dictionary_ids(
    ctx: typer.Context, param: typer.CallbackParam, values: list[str] | None
) -> list[str] | None:
    """--dict values: ids, so no blanks and no white space."""
    for dictionary in values or ():
        if not dictionary.strip() or any(c.isspace() for c in dictionary):
            raise UsageError(
                f"--dict {dictionary!r} is not a dictionary id", hint="see `smallest dict list`"
            )
    return values


def check_http_url(ctx: typer.Context, param: typer.CallbackParam, url: str | None) -> str | None:
    """--webhook: an http(s) URL with a host."""
    from urllib.parse import urlsplit

    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"invalid --webhook {url!r}", hint="give the http(s) URL that receives the result"
            )
    return url
