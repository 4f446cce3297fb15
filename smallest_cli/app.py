"""The root command: global options, the command groups, and the one error translator.

`SmallestGroup.invoke` is the only place where an exception that ends a command becomes an
exit code (0 ok, 1 API or network error, 2 usage, 4 auth, 130 interrupted, 143 and 129
for SIGTERM and SIGHUP, which `stop_on_termination` turns into a Ctrl-C's cleanup); the message is
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
from smallest_cli.commands import COMMANDS, GROUPS, LISTED
from smallest_cli.context import AppContext
from smallest_cli.errors import ExitCode, SmallestError
from smallest_cli.output import answering_on_stdout, discard_stdout, writing_stdout
from smallest_cli.plain_values import convert_plainly


class SmallestGroup(TyperGroup):
    """The root command: loads command groups on first use, translates errors."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _complete_for_a_named_shell(ctx, args)
        convert_plainly(self, ctx)  # not in __init__: Typer adds options after it
        _answer_on_stdout(self, ctx)
        return super().parse_args(ctx, _hoist_global_options(ctx, args))

    def get_params(self, ctx: Any) -> list[Any]:
        from smallest_cli.metavars import name_values

        return name_values(super().get_params(ctx))

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LISTED]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and name in GROUPS:
            command = self.commands[name] = _load_group(name)
            convert_plainly(command, ctx)
            _answer_on_stdout(command, ctx)
        elif command is None and name in COMMANDS:
            command = self.commands[name] = _load_command(name)
            convert_plainly(command, ctx)
            _answer_on_stdout(command, ctx)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list, from LISTED: `--help` imports none of the commands."""
        from typer.core import TyperCommand

        limit = formatter.width - 6 - max(len(name) for name in LISTED)
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    (name, TyperCommand(name, help=text).get_short_help_str(limit))
                    for name, text in LISTED.items()
                ]
            )

    def invoke(self, ctx: Any) -> Any:
        try:
            result = super().invoke(ctx)
            _flush_stdout()  # what is still buffered must reach its device too
            return result
        except SmallestError as error:
            _context(ctx).report(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt as interruption:  # Ctrl-C, or a Terminated signal
            _context(ctx).output.silence()
            _say(f"\n{getattr(interruption, 'message', 'Interrupted.')}\n")
            raise typer.Exit(getattr(interruption, "exit_code", ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            discard_stdout()
            raise typer.Exit(ExitCode.OK) from None
        except typer.BadParameter as error:
            error.message = error.message.removeprefix("Value error, ")  # pydantic's wording
            raise
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # click's own: --help, usage errors, prompts aborted
        except Exception as error:
            _context(ctx).report(error)
            raise typer.Exit(ExitCode.ERROR) from None


COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _complete_for_a_named_shell(ctx: typer.Context, args: list[str]) -> None:
    """`--install-completion zsh` / `--show-completion fish`: that shell, not the current one.

    Typer's options are flags that detect the shell, and would ignore the name given.
    """
    from typer.completion import install_callback, show_callback

    callbacks: dict[str, Any] = {
        "--install-completion": install_callback,
        "--show-completion": _Answering(show_callback),
    }
    for position, token in enumerate(args):
        name, _, shell = token.partition("=")
        if token == "--" or not token.startswith("-"):
            return
        if name in callbacks:
            following = args[position + 1 : position + 2]
            shell = shell or next((t for t in following if not t.startswith("-")), "")
            if not shell:
                return
            if shell not in COMPLETION_SHELLS:
                ctx.fail(f"{name} {shell}: choose one of {', '.join(COMPLETION_SHELLS)}.")
            option = next(p for p in ctx.command.get_params(ctx) if name in p.opts)
            callbacks[name](ctx, option, shell)


def _answer_on_stdout(command: Any, ctx: typer.Context) -> None:
    """Give the `--help` of `command` and of its subcommands (and the root's
    `--show-completion`) the stdout errors of every command's output: a full device is
    `Error: cannot write stdout`, exit 1; a reader that has gone, a silent exit 0.

    `ctx` is the root command's, whose help option names the subcommands' options take.
    """
    options = [command.get_help_option(ctx)]
    if command is ctx.command:
        options += [p for p in command.get_params(ctx) if "--show-completion" in p.opts]
    for option in options:
        if option is not None and not isinstance(option.callback, _Answering):
            option.callback = _Answering(option.callback)
    for subcommand in getattr(command, "commands", {}).values():
        _answer_on_stdout(subcommand, ctx)


class _Answering:
    """An option's callback that writes its answer to stdout under `answering_on_stdout`."""

    def __init__(self, callback: Any) -> None:
        self.callback = callback

    def __call__(self, *args: Any) -> Any:
        with answering_on_stdout():
            return self.callback(*args)


def _hoist_global_options(ctx: typer.Context, args: list[str]) -> list[str]:
    """`args` with the global options given after the command moved in front of it.

    `smallest tts say --emulator hi` then means `smallest --emulator tts say hi`. No command
    declares an option of the same name (a test keeps it so), and `--` ends the search.
    """
    takes_value: dict[str, bool] = {}
    for param in ctx.command.get_params(ctx):
        if not param.is_eager:  # --help, --version, completion: each command's own
            takes_value.update(dict.fromkeys(param.opts, not getattr(param, "is_flag", False)))
    before: list[str] = []  # the global options and the command's name
    after: list[str] = []
    tokens = iter(args)
    for token in tokens:
        name = token.split("=", 1)[0]
        if token == "--":
            after += [token, *tokens]
        elif name in takes_value:
            before.append(token)
            if takes_value[name] and "=" not in token:
                value = next(tokens, None)
                if value is None:
                    ctx.fail(f"Option '{name}' requires an argument.")
                before.append(value)
        elif after or not token.startswith("-"):
            after.append(token)
        else:
            before.append(token)
    return [*before, *after]


def _context(ctx: typer.Context) -> AppContext:
    """The command's AppContext, or a default one when the root callback never ran."""
    return ctx.find_object(AppContext) or AppContext()


def _load_group(name: str) -> Any:
    """The click group for `smallest NAME`, built from its module's Typer app."""
    import importlib

    from typer.main import get_group_from_info
    from typer.models import TyperInfo

    from smallest_cli.metavars import name_values

    module = importlib.import_module(f"smallest_cli.commands.{name}")
    group = get_group_from_info(
        TyperInfo(module.app, name=name),
        pretty_exceptions_short=app.pretty_exceptions_short,
        suggest_commands=app.suggest_commands,
        rich_markup_mode=None,
    )
    for command in group.commands.values():
        name_values(command.params)
    return group


def _load_command(name: str) -> Any:
    """The click command for `smallest NAME`, from its module's one-command Typer app."""
    import importlib

    from typer.main import get_command

    from smallest_cli.metavars import name_values

    command = get_command(importlib.import_module(f"smallest_cli.commands.{name}").app)
    command.name = name
    name_values(command.params)
    return command


def _say(text: str) -> None:
    """Write to stderr, if it is still there (after SIGHUP the terminal may be gone)."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def stop_on_termination() -> None:
    """SIGTERM and SIGHUP stop a command the way Ctrl-C does: partial files are removed and
    what is kept is written, then the exit code is 143 or 129. A signal the parent set to be
    ignored (nohup ignores SIGHUP) stays ignored."""
    import signal

    from smallest_cli.errors import interruption

    def stop(signum: int, frame: object) -> None:
        raise interruption(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, stop)


def _flush_stdout() -> None:
    """Flush stdout: a full device (ENOSPC) or a dead terminal (EIO) is an error."""
    from smallest_cli.output import writing_stdout

    with writing_stdout():
        sys.stdout.flush()


def _version(value: bool) -> None:
    if value:
        with answering_on_stdout():
            typer.echo(f"smallest {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=SmallestGroup,
    name="smallest",
    help="The command line for the Smallest AI voice API: speech, transcripts, voices and clones, and the Electron LLM, typed or spoken.",
    epilog="Exit codes: 0 ok, 1 API or network error, 2 bad usage, 4 not logged in or key "
    "rejected, 130 interrupted (143 on SIGTERM, 129 on SIGHUP). Docs: https://waves-docs.smallest.ai",
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
            help="API base URL [env var: SMALLEST_BASE_URL; default: https://api.smallest.ai]",
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
            help="Retries on 502, 503 and connection errors.",
        ),
    ] = 2,
    max_wait: Annotated[
        float,
        typer.Option(
            "--max-wait",
            envvar="SMALLEST_MAX_WAIT",
            min=0,
            help="Seconds to wait for a free slot when the account's requests-at-once or "
            "per-minute limit is taken (HTTP 429); 0 fails at once.",
        ),
    ] = 300.0,
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
    obj.max_wait = max_wait
    obj.quiet = obj.quiet or quiet
    obj.no_color = obj.no_color or no_color
    obj.debug = obj.debug or debug
    ctx.call_on_close(obj.close)


def main() -> None:
    """Console-script entry point."""
    stop_on_termination()
    try:
        with writing_stdout():  # before any command ran: --help, --version, shell completion
            app(prog_name="smallest")
    except SystemExit as done:
        if done.code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED, ExitCode.HUNG_UP):
            _exit_now(int(done.code))
        raise
    except BrokenPipeError:
        discard_stdout()
    except SmallestError as error:
        AppContext().report(error)
        raise SystemExit(ExitCode.ERROR) from None
    finally:
        try:
            _flush_stdout()
        except BrokenPipeError:
            discard_stdout()
        except SmallestError as error:  # written after the command: --version, click's own
            AppContext().report(error)
            raise SystemExit(ExitCode.ERROR) from None


def _exit_now(code: int) -> None:
    """After Ctrl-C (or TERM, HUP): everything is cleaned up and said, so skip the interpreter's teardown
    of its modules (about 0.5 s with the emulator, numpy and httpx loaded)."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
