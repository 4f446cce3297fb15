"""Terminal output: stdout carries data, stderr carries everything meant for people.

Listings become rich tables on a terminal and tab-separated rows without a header when
piped, so `cut -f1` and `sort` work on them. JSON is always plain (no markup, no colour).
Whether a stream is a terminal can be overridden, which is how tests exercise both modes.
rich is imported only when a table or a coloured message is actually drawn.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from smallest_cli.errors import SmallestError
from smallest_cli.files import cannot_write

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import ProgressColumn

KEY_PATTERN = re.compile(r"sk_[A-Za-z0-9._-]{4,}")  # anything shaped like a Smallest key
EMULATOR_KEY = "sk_emulator_local_0000"
"""The emulator's own key: public (the README and `emulator serve`'s banner print it), so
never masked."""
BUG_HINT = "this is a bug in smallest-cli; rerun with --debug and report the traceback"


class Output:
    """Where and how a command writes."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        no_color: bool = False,
        stdout_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        stdin_isatty: bool | None = None,
    ) -> None:
        self.quiet = quiet
        self._secrets: set[str] = set()
        self._no_color = no_color
        self._stdout_isatty = stdout_isatty
        self._stderr_isatty = stderr_isatty
        self._stdin_isatty = stdin_isatty
        self._silenced = False

    # Streams are looked up on every use, because test runners swap sys.stdout.
    @property
    def stdout(self) -> TextIO:
        return sys.stdout

    @property
    def stderr(self) -> TextIO:
        """stderr, every write masked: the one way anything reaches it."""
        return _Masking(sys.stderr, self)  # type: ignore[return-value]

    def redact(self, secret: str | None) -> None:
        """Mask `secret` (the key in use, whatever its shape) in all that stderr shows."""
        if secret:
            self._secrets.add(secret)

    def masked(self, text: str) -> str:
        """`text` with every known key, and anything shaped like a key, masked."""
        for secret in self._secrets:
            text = masked(text, secret)
        return masked(text)

    @property
    def stdout_isatty(self) -> bool:
        return _isatty(sys.stdout) if self._stdout_isatty is None else self._stdout_isatty

    @property
    def stderr_isatty(self) -> bool:
        return _isatty(sys.stderr) if self._stderr_isatty is None else self._stderr_isatty

    @property
    def stdin_isatty(self) -> bool:
        return _isatty(sys.stdin) if self._stdin_isatty is None else self._stdin_isatty

    def color(self, stream_isatty: bool) -> bool:
        """Colour follows --no-color, NO_COLOR, FORCE_COLOR, then whether it is a terminal."""
        if self._no_color or os.environ.get("NO_COLOR"):
            return False
        if os.environ.get("FORCE_COLOR"):
            return True
        return stream_isatty

    # -- data on stdout ---------------------------------------------------------------

    def data(self, text: str) -> None:
        """Write one line of data."""
        self.write(text + "\n")

    def write(self, text: str) -> None:
        """Write data to stdout as it is, at once."""
        with writing_stdout():
            self.stdout.write(text)
            self.stdout.flush()

    def json(self, value: Any) -> None:
        """Write a JSON document (snake_case keys are the caller's promise)."""
        self.data(json.dumps(value, indent=2, ensure_ascii=False))

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, whole: Sequence[str] = ()
    ) -> None:
        """A rich table on a terminal; tab-separated rows, no header, when piped. The `whole`
        columns (ids a user copies) are never cut short; the others wrap to fit instead."""
        if not self.stdout_isatty:
            for row in rows:
                self.data("\t".join(_cell(value) for value in row))
            return
        from rich.table import Table

        table = Table(box=None, header_style="bold", pad_edge=False)
        for index, column in enumerate(columns):
            widest = max((len(_cell(row[index])) for row in rows), default=0)
            table.add_column(
                column,
                no_wrap=column in whole,
                min_width=max(widest, len(column)) if column in whole else None,
            )
        for row in rows:
            table.add_row(*(_cell(value) for value in row))
        with writing_stdout():
            self._console(self.stdout, self.stdout_isatty).print(table)

    def fields(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """Labelled values: aligned `Label: value` lines, or `label<TAB>value` when piped."""
        if not self.stdout_isatty:
            for label, value in pairs:
                self.data(f"{label.lower().replace(' ', '_')}\t{_cell(value)}")
            return
        width = max((len(label) for label, _ in pairs), default=0) + 1
        for label, value in pairs:
            self.data(f"{label + ':':<{width}} {_cell(value)}")

    def progress(self, total: int, description: str) -> Progress:
        """A progress bar on stderr for `total` steps; silent unless stderr is a terminal."""
        if total <= 1 or self.quiet or not self.stderr_isatty:
            return Progress(None)
        from rich.progress import MofNCompleteColumn, TimeElapsedColumn

        return self._bar(description, total, MofNCompleteColumn(), TimeElapsedColumn())

    def transfer(self, total: int, description: str) -> Progress:
        """A bar for `total` bytes sent (size, speed, time left); silent off a terminal."""
        if self.quiet or not self.stderr_isatty:
            return Progress(None)
        from rich.progress import DownloadColumn, TimeRemainingColumn, TransferSpeedColumn

        return self._bar(
            description, total, DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()
        )

    def _bar(self, description: str, total: int, *columns: ProgressColumn) -> Progress:
        """A transient bar on stderr, `columns` after the description and the bar: one place
        for how every bar shares the terminal with the data on stdout."""
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn(description),
            BarColumn(),
            *columns,
            console=self._console(self.stderr, True),
            transient=True,
            # Data written meanwhile goes to stdout, not into the bar's console on stderr;
            # only when both are the terminal is it printed above the bar.
            redirect_stdout=self.stdout_isatty,
        )
        return Progress(bar, bar.add_task(description, total=total))

    # -- messages on stderr -----------------------------------------------------------

    def info(self, message: str) -> None:
        """Progress and confirmations; silenced by --quiet."""
        if not self.quiet:
            self._message(message, None)

    def warn(self, message: str) -> None:
        self._message(message, ("Warning: ", "yellow"))

    def error(self, message: str, hint: str | None = None) -> None:
        self._message(message, ("Error: ", "bold red"))
        if hint:
            self._message(hint, ("Hint: ", "dim"))

    def debug(self, message: str) -> None:
        self._message(message, ("debug: ", "dim"))

    def failure(
        self,
        error: BaseException,
        *,
        source: str | None = None,
        secret: str | None = None,
        traceback: bool = False,
    ) -> None:
        """The one way a failure is shown: `Error:`, its hint, and the request id to quote.

        `source` names the input of a batch that failed; the key (`secret`, and anything
        shaped like a key) is masked everywhere; `traceback` (--debug) shows it first.
        """
        self.redact(secret)
        if traceback:
            import traceback as tracebacks

            self.stderr.write("".join(tracebacks.format_exception(error)))
        if isinstance(error, SmallestError):
            message, hint = str(error), error.hint
        else:
            message, hint = f"unexpected {type(error).__name__}: {error}", BUG_HINT
        if source is not None and source not in self.masked(message):
            message = f"{source}: {message}"
        self.error(message, hint)
        request_id = getattr(error, "request_id", None)
        if request_id:
            self.info(f"Request id: {request_id} (quote it to support)")

    def silence(self) -> None:
        """No more messages: after "Interrupted.", threads still at work print nothing."""
        self._silenced = True

    def _message(self, message: str, label: tuple[str, str] | None) -> None:
        if self._silenced:
            return
        stream = self.stderr
        if label is None or not self.color(self.stderr_isatty):
            prefix = label[0] if label else ""
            stream.write(prefix + message + "\n")
            stream.flush()
            return
        from rich.text import Text

        text = Text(label[0], style=label[1])
        text.append(message)
        self._console(stream, self.stderr_isatty).print(text, soft_wrap=True)

    def _console(self, stream: TextIO, isatty: bool) -> Console:
        from rich.console import Console

        color = self.color(isatty)
        return Console(
            file=stream,
            markup=False,
            highlight=False,
            emoji=False,
            no_color=not color,
            force_terminal=isatty or color,  # FORCE_COLOR colours a pipe too
        )


class Progress:
    """A context manager around a rich progress bar, or around nothing."""

    def __init__(self, bar: Any, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, steps: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, steps)

    def update(self, completed: float) -> None:
        """Set how much is done (thread-safe, like `advance`)."""
        if self._bar is not None:
            self._bar.update(self._task, completed=completed)


@contextmanager
def writing_stdout() -> Iterator[None]:
    """Writes to stdout: one that fails (a full device, ENOSPC; a dead terminal, EIO) is an
    error, exit 1. A reader that has gone (EPIPE) is not; app.py ends the command quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        discard_stdout()  # what is still buffered cannot be written either
        raise cannot_write("stdout", exc) from None


@contextmanager
def answering_on_stdout() -> Iterator[None]:
    """Writes made while the command line is read (`--help`, `--version`, a completion
    script): a failing stdout is `writing_stdout`'s error, and a reader that has gone ends
    the command at once with exit 0, as it does any command's output."""
    import typer

    try:
        with writing_stdout():
            yield
    except BrokenPipeError:
        discard_stdout()
        raise typer.Exit(0) from None


def discard_stdout() -> None:
    """Point stdout at /dev/null once it has failed (EPIPE, ENOSPC), so that later flushes,
    the interpreter's last one included, are silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def masked(text: str, secret: str | None = None) -> str:
    """The text with `secret` and anything shaped like a key masked (`sk_…3f9a`)."""
    from smallest_cli.credentials import mask

    if secret and secret != EMULATOR_KEY:
        text = text.replace(secret, mask(secret))
    return KEY_PATTERN.sub(
        lambda found: found.group(0) if found.group(0) == EMULATOR_KEY else mask(found.group(0)),
        text,
    )


class _Masking:
    """A text stream that masks the output's known keys in everything written to it."""

    def __init__(self, stream: TextIO, output: Output) -> None:
        self._stream = stream
        self._output = output

    def write(self, text: str) -> int:
        self._stream.write(self._output.masked(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value)
    return " ".join(str(value).split("\t")).replace("\n", " ")
