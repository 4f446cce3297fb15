"""Files that appear whole or not at all: a temporary file beside the target, renamed into
place once everything is written, so an interrupted run never leaves half a file and an
existing file stays untouched until then.

Permissions: what the user's umask gives a new file (like any program that writes files),
except `private` files (credentials), which are 0600 from the first byte.

Also stdin as bytes, for the commands that read audio from a pipe, and how a file that
cannot be read is reported; and where the user's config and cache directories are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Literal

from smallest_cli.errors import UsageError

PRIVATE_MODE = 0o600


def umask_mode() -> int:
    """The mode a newly created file gets under the current umask (0o666 minus the umask)."""
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def temp_beside(path: Path) -> tuple[int, Path]:
    """An open temporary file (descriptor and name) in the directory of `path`."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    return fd, Path(name)


def publish(temp: Path, path: Path, *, private: bool = False) -> None:
    """Give `temp` its final mode and rename it to `path` (atomic on one filesystem)."""
    os.chmod(temp, PRIVATE_MODE if private else umask_mode())
    os.replace(temp, path)


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Write `text` to `path` (UTF-8) whole or not at all, creating its directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = temp_beside(path)
    try:  # mkstemp made it 0600: a secret is never readable by others, not even briefly
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        publish(temp, path, private=private)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def stdin_bytes() -> BinaryIO:
    """stdin as bytes (CliRunner gives a text wrapper around a bytes buffer, like a terminal)."""
    import sys

    buffer = getattr(sys.stdin, "buffer", None)
    return buffer if buffer is not None else os.fdopen(sys.stdin.fileno(), "rb", closefd=False)


def unreadable(path: str | Path, exc: OSError) -> UsageError:
    """The error for a file that cannot be opened, worded the same whichever command reads
    it: a missing file by name, a denied one plainly, anything else with the system's reason."""
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"no such file: {path}")
    if isinstance(exc, PermissionError):
        return UsageError(f"cannot read {path}: permission denied")
    return UsageError(f"cannot read {path}: {exc.strerror or exc}")


def user_dir(kind: Literal["config", "cache"], *, override: str) -> Path:
    """The user's `kind` directory for smallest, the same way for each kind: the directory in
    the environment variable `override` when it is set, else the platform's own."""
    given = os.environ.get(override)
    if given:
        return Path(given).expanduser()
    import platformdirs

    find = platformdirs.user_config_dir if kind == "config" else platformdirs.user_cache_dir
    return Path(find("smallest", appauthor=False))
