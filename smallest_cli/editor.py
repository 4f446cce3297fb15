"""Editing text in the user's editor, the way `git commit` and `kubectl edit` do.

The editor is `$VISUAL`, else `$EDITOR`, else `vi` (`notepad` on Windows); its value may
carry arguments (`code --wait`). The text goes into a private temporary file; after the
editor exits, the file is read back and checked. When the check fails, the same file is
opened again with the problems written as comments at the top, until it passes or the
user empties it (only comments and blank lines left), which cancels.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from smallest_cli.errors import SmallestError, UsageError

T = TypeVar("T")
ERROR_PREFIX = "# ERROR: "


def editor_chosen() -> bool:
    """Whether the user named an editor ($VISUAL or $EDITOR), rather than left the default."""
    return bool(os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip())


def editor_command() -> list[str]:
    """The editor to run, as a command line: $VISUAL, $EDITOR, else the platform's default."""
    chosen = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip()
    if not chosen:
        return ["notepad"] if sys.platform == "win32" else ["vi"]
    return shlex.split(chosen, posix=sys.platform != "win32")


def edit_until_valid(
    text: str,
    check: Callable[[str, int], tuple[T | None, Sequence[str]]],
    *,
    suffix: str = ".tsv",
    has_content: Callable[[str], bool],
) -> T | None:
    """Open `text` in the editor until `check` accepts what was saved; None if emptied.

    `check(saved, offset)` gets the saved text without our error comments and returns the
    value and no problems, or problems (line numbers shifted by `offset`, the number of
    comment lines put above the text when it is reopened).
    """
    directory = tempfile.mkdtemp(prefix="smallest-edit-")
    path = Path(directory) / f"dictionary{suffix}"
    try:
        path.write_text(text, encoding="utf-8")
        while True:
            _run_editor(path)
            saved = _without_errors(path.read_text(encoding="utf-8"))
            if not has_content(saved):
                return None
            value, problems = check(saved, 0)
            if not problems:
                return value
            _, shifted = check(saved, len(problems) + 1)
            comments = [ERROR_PREFIX + p for p in shifted] + ["#"]
            path.write_text("\n".join(comments) + "\n" + saved, encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
        os.rmdir(directory)


def _run_editor(path: Path) -> None:
    command = editor_command()
    try:
        code = subprocess.run([*command, str(path)], check=False).returncode
    except FileNotFoundError:
        raise UsageError(
            f"cannot run the editor {command[0]!r}", hint="set VISUAL or EDITOR to your editor"
        ) from None
    if code != 0:
        raise SmallestError(
            f"the editor {command[0]!r} exited with status {code}; nothing was changed",
            hint="save and quit normally to apply; empty the file to cancel",
        )


def _without_errors(text: str) -> str:
    """The text minus the error comments (and their separator) put at its top earlier."""
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index].startswith(ERROR_PREFIX):
        index += 1
    if index and index < len(lines) and lines[index].strip() == "#":
        index += 1
    return "".join(lines[index:])
