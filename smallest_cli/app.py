"""The root command: global options, the command groups, and the one error translator.

`SmallestGroup.invoke` is the only place where an exception that ends a command becomes an
exit code (0 ok, 1 API or network error, 2 usage, 4 auth, 130 interrupted); the message is
rendered by `AppContext.report`, the same as each failed source of a batch. Sitting in the
group rather than in `main()`, it is exercised by CliRunner tests too.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from smallest_cli import __version__
from smallest_cli.commands import GROUPS
from smallest_cli.context import AppContext
from smallest_cli.errors import ExitCode, SmallestError
from smallest_cli.plain_values import convert_plainly


class SmallestGroup(TyperGroup):
    """The root command: loads command groups on first use, translates errors."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        convert_plainly(self, ctx)  # not in __init__: Typer adds options after it
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and name in GROUPS:
            command = self.commands[name] = _load_group(name)
            convert_plainly(command, ctx)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list, from GROUPS: `--help` imports none of the groups."""
        from typer.core import TyperCommand

        limit = formatter.width - 6 - max(len(name) for name in GROUPS)
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    (name, TyperCommand(name, help=text).get_short_help_str(limit))
                    for name, text in GROUPS.items()
                ]
            )

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SmallestError as error:
            _context(ctx).report(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("\nInterrupted.\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # click's own: --help, usage errors, prompts aborted
        except Exception as error:
            _context(ctx).report(error)
            raise typer.Exit(ExitCode.ERROR) from None


def _context(ctx: typer.Context) -> AppContext:
    """The command's AppContext, or a default one when the root callback never ran."""
    return ctx.find_object(AppContext) or AppContext()


def _load_group(name: str) -> Any:
    """The click group for `smallest NAME`, built from its module's Typer app."""
    import importlib

    from typer.main import get_group_from_info
    from typer.models import TyperInfo

    module = importlib.import_module(f"smallest_cli.commands.{name}")
    return get_group_from_info(
        TyperInfo(module.app, name=name),
        pretty_exceptions_short=app.pretty_exceptions_short,
        suggest_commands=app.suggest_commands,
        rich_markup_mode=None,
    )


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smallest {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=SmallestGroup,
    name="smallest",
    help="The command line for the Smallest AI voice API: speech, voices and transcripts.",
    epilog="Exit codes: 0 ok, 1 API or network error, 2 bad usage, 4 not logged in or key "
    "rejected, 130 interrupted. Docs: https://waves-docs.smallest.ai",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str,
        typer.Option(
            "--profile", envvar="SMALLEST_PROFILE", help="Profile for the key and settings."
        ),
    ] = "default",
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="API base URL [env var: SMALLEST_BASE_URL; default: https://api.smallest.ai].",
            show_default=False,
        ),
    ] = None,
    use_emulator: Annotated[
        bool,
        typer.Option(
            "--emulator",
            envvar="SMALLEST_EMULATOR",
            help="Run against a local emulator started for this command (synthetic audio and "
            "transcripts; no key needed; answers at once, and takes the SMALLEST_EMULATOR_* "
            "settings of `emulator serve`).",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", envvar="SMALLEST_TIMEOUT", min=0.1, help="Seconds to wait for the API."
        ),
    ] = 60.0,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            envvar="SMALLEST_RETRIES",
            min=0,
            max=10,
            help="Retries on 429, 502, 503 and connection errors.",
        ),
    ] = 2,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print only data and errors.")
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colours (NO_COLOR is honoured too).")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="SMALLEST_DEBUG",
            help="Log requests and show tracebacks (the key is masked).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    obj = ctx.ensure_object(AppContext)
    from smallest_cli.config import check_profile, parse_value

    obj.profile = check_profile(profile)
    if base_url is not None:
        obj.base_url = parse_value("base_url", base_url, f"--base-url {base_url!r}")
    obj.emulator = use_emulator
    obj.timeout = timeout
    obj.retries = retries
    obj.quiet = obj.quiet or quiet
    obj.no_color = obj.no_color or no_color
    obj.debug = obj.debug or debug
    ctx.call_on_close(obj.close)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="smallest")
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
