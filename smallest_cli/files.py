"""Files that appear whole or not at all: a temporary file beside the target, renamed into
place once everything is written, so an interrupted run never leaves half a file and an
existing file stays untouched until then.

That is for regular files only. A device (`/dev/null`), a named pipe or stdout by a name
(`/dev/stdout`) is written straight into, never replaced. Every output path is checked
(`check_output`) before any request is sent, so paid work is never lost to a bad path.

Permissions: what the user's umask gives a new file (like any program that writes files),
except `private` files (credentials), which are 0600 from the first byte.

Also stdin as bytes, for the commands that read audio from a pipe, and how a file that
cannot be read is reported; and where the user's config and cache directories are.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, Literal

from smallest_cli.errors import SmallestError, UsageError

PRIVATE_MODE = 0o600
STDOUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
"""Paths that name stdout: audio written there goes the way of `-o -`."""
DESCRIPTOR_DIRS = ("/dev/fd/", "/proc/self/fd/")


def is_special(path: str | Path) -> bool:
    """Whether `path` is an existing device, named pipe or socket, or a name for an open
    descriptor (/dev/stdout, /dev/fd/N): something to write into, not to replace."""
    absolute = os.path.abspath(path)
    if absolute in ("/dev/stdout", "/dev/stderr") or absolute.startswith(DESCRIPTOR_DIRS):
        return os.path.exists(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def open_straight(path: str | Path) -> BinaryIO:
    """`path` (a device, a pipe, a descriptor's name) opened for writing as it is: not
    created, not truncated (a regular file behind /dev/stdout is appended to)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "wb")


def cannot_write(path: str | Path, exc: OSError) -> SmallestError:
    """The error for a write that failed midway (a full disk: ENOSPC)."""
    return SmallestError(
        f"cannot write {path}: {exc.strerror or exc}",
        hint="free some space or write elsewhere" if exc.errno == 28 else None,
    )


def check_output(path: str | Path, *, flag: str = "-o", create_parents: bool = False) -> None:
    """Refuse (exit 2), before any request, an output path that cannot be written: a
    directory, a missing directory (unless `create_parents`), a place where no file can be
    created (/proc, a read-only mount). A device or a pipe must be writable."""
    target = Path(path)
    if is_special(target):
        if not os.access(target, os.W_OK):
            raise UsageError(f"{flag} {path}: permission denied")
        return
    if target.is_dir():
        raise UsageError(f"{flag} {path} is a directory", hint="give a file name")
    directory = target.parent
    if create_parents:
        while not directory.exists() and directory != directory.parent:
            directory = directory.parent
    if not directory.is_dir():
        raise UsageError(f"the directory {target.parent} does not exist", hint="create it first")
    probe_directory(directory, f"{flag} {path}")


def check_output_dir(path: str | Path, *, flag: str = "--output-dir") -> None:
    """Refuse (exit 2), before any request, a directory that cannot be made or written."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{flag} {path} is not a directory")
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    if not directory.is_dir():
        raise UsageError(f"{flag} {path}: {directory} is not a directory")
    probe_directory(directory, f"{flag} {path}")


def probe_directory(directory: Path, what: str) -> None:
    """Create and delete a temporary file in `directory`: the only sure test of writing."""
    try:
        fd, temp = temp_beside(directory / "probe")
    except OSError as exc:
        raise UsageError(
            f"{what}: cannot create files in {directory} ({exc.strerror or exc})",
            hint="write somewhere else",
        ) from None
    os.close(fd)
    temp.unlink(missing_ok=True)


def umask_mode() -> int:
    """The mode a newly created file gets under the current umask (0o666 minus the umask)."""
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def through_links(path: Path) -> Path:
    """The file a symbolic link names (the link itself is left in place), else `path`."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def temp_beside(path: Path) -> tuple[int, Path]:
    """An open temporary file (descriptor and name) in the directory of `path` (of the file
    it links to, if it is a symbolic link)."""
    import tempfile

    path = through_links(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    return fd, Path(name)


def publish(temp: Path, path: Path, *, private: bool = False) -> None:
    """Give `temp` its final mode and rename it to `path` (atomic on one filesystem); a
    symbolic link keeps pointing where it did, at the new content."""
    os.chmod(temp, PRIVATE_MODE if private else umask_mode())
    os.replace(temp, through_links(path))


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


def replay(head: bytes, stream: BinaryIO) -> BinaryIO:
    """`stream` with `head` (bytes already read from it) put back in front."""
    import io

    class Replay(io.RawIOBase):
        def __init__(self) -> None:
            self.pending = head

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.pending:
                read = getattr(stream, "read1", stream.read)
                self.pending = read(len(buffer))
            size = min(len(buffer), len(self.pending))
            buffer[:size] = self.pending[:size]
            self.pending = self.pending[size:]
            return size

    return io.BufferedReader(Replay())


def write_output(path: str | Path, text: str) -> None:
    """Write a text output (a transcript, subtitles): straight into a device, a pipe or
    stdout by a name, else whole or not at all. A failure names the path (SmallestError)."""
    try:
        if is_special(path):
            with open_straight(path) as handle:
                handle.write(text.encode("utf-8"))
        else:
            write_atomically(Path(path), text)
    except OSError as exc:
        raise cannot_write(path, exc) from None


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


def user_dir(kind: Literal["config", "cache", "data"], *, override: str) -> Path:
    """The user's `kind` directory for smallest, the same way for each kind: the directory in
    the environment variable `override` when it is set, else the platform's own."""
    given = os.environ.get(override)
    if given:
        return Path(given).expanduser()
    import platformdirs

    find = {
        "config": platformdirs.user_config_dir,
        "cache": platformdirs.user_cache_dir,
        "data": platformdirs.user_data_dir,
    }[kind]
    return Path(find("smallest", appauthor=False))
