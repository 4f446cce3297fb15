"""What a command does when its stdout goes away or fills up, as a real process: a reader
that stops early (`| head`) ends it silently with exit 0; a full device is an error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

STORY = " ".join(["Every sentence here makes the stream a little longer."] * 12)


def _read_then_close(args: list[str], amount: int, tmp_path: os.PathLike[str]) -> tuple[int, str]:
    """Run `smallest ARGS`, read `amount` bytes of its stdout, close it (as `head` does);
    the exit code and all of stderr."""
    with subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert len(proc.stdout.read(amount)) == amount
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        return proc.wait(timeout=60), stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["tts", "say", STORY, "-o", "-", "--format", "wav"], id="tts-say-stream"),
    ],
)
def test_a_reader_that_stops_early_gets_a_silent_exit_0_from_the_emulator(
    args: list[str], tmp_path: os.PathLike[str]
) -> None:
    """The in-process emulator kept streaming into the closed connection and asyncio said
    "socket.send() raised exception." on stderr for each chunk after the fifth."""
    code, stderr = _read_then_close(["--emulator", *args], 100, tmp_path)
    assert (code, stderr) == (0, "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--emulator", "voices", "list"], id="voices-list"),
        pytest.param(["config", "list"], id="config-list"),
        pytest.param(["history", "list", "--json"], id="history-list"),
        pytest.param(["--emulator", "tts", "say", "hi", "-o", "-"], id="tts-say-stdout"),
        pytest.param(["--version"], id="version"),
    ],
)
def test_stdout_on_a_full_device_is_an_error_with_exit_1(
    args: list[str], tmp_path: os.PathLike[str]
) -> None:
    """They exited 0 without a word (history), or said "unexpected OSError … this is a bug"."""
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "smallest_cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "HOME": str(tmp_path)},
            timeout=60,
            check=False,
        )
    first, *rest = done.stderr.splitlines()
    assert (done.returncode, first) == (1, "Error: cannot write stdout: No space left on device")
    assert all(line.startswith("Hint: ") for line in rest), done.stderr


HELP_AND_USAGE = [
    pytest.param(["--help"], id="root-help"),
    pytest.param(["tts", "say", "--help"], id="tts-say-help"),
    pytest.param(["stt", "--help"], id="stt-help"),
    pytest.param(["voices", "list", "-h"], id="voices-list-help"),
    pytest.param(["dict", "--help"], id="dict-help"),
    pytest.param(["--quiet", "--version"], id="version-through-the-app"),
    pytest.param(["--show-completion", "bash"], id="show-completion"),
]


def _run_into(stdout: int, args: list[str], home: os.PathLike[str]) -> tuple[int, str]:
    """Run `smallest ARGS` with its stdout on the file descriptor given; exit code, stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "smallest_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=home,
        env={**os.environ, "HOME": str(home), "SHELL": "/bin/bash"},
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", HELP_AND_USAGE)
def test_help_on_a_full_device_is_the_one_write_error_with_exit_1(
    args: list[str], tmp_path: os.PathLike[str]
) -> None:
    """A subcommand's help said "unexpected OSError … this is a bug"."""
    with open("/dev/full", "wb") as full:
        code, stderr = _run_into(full.fileno(), args, tmp_path)
    assert (code, stderr.splitlines()) == (
        1,
        [
            "Error: cannot write stdout: No space left on device",
            "Hint: free some space or write elsewhere",
        ],
    )


@pytest.mark.parametrize("args", HELP_AND_USAGE)
def test_help_into_a_pipe_nobody_reads_is_a_silent_exit_0(
    args: list[str], tmp_path: os.PathLike[str]
) -> None:
    """`| head -c1` where head has already gone: the root's help and --version exited 1."""
    reading, writing = os.pipe()
    os.close(reading)  # every write now fails with EPIPE, as after `head` has read its byte
    try:
        code, stderr = _run_into(writing, args, tmp_path)
    finally:
        os.close(writing)
    assert (code, stderr) == (0, "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("into", ["full-device", "closed-pipe"])
@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["tts", "say", "--no-such-option"],
            "Error: No such option: --no-such-option",
            id="tts-say",
        ),
        pytest.param(["stt"], "Usage: smallest stt [OPTIONS] COMMAND [ARGS]...", id="stt-bare"),
        pytest.param(["--no-such-option"], "Error: No such option: --no-such-option", id="root"),
    ],
)
def test_a_usage_error_still_reaches_stderr_with_exit_2_when_stdout_is_broken(
    args: list[str], error: str, into: str, tmp_path: os.PathLike[str]
) -> None:
    if into == "full-device":
        with open("/dev/full", "wb") as full:
            code, stderr = _run_into(full.fileno(), args, tmp_path)
    else:
        reading, writing = os.pipe()
        os.close(reading)
        try:
            code, stderr = _run_into(writing, args, tmp_path)
        finally:
            os.close(writing)
    assert code == 2, stderr
    assert any(line.startswith(error) for line in stderr.splitlines()), stderr
    assert "cannot write" not in stderr and "bug" not in stderr
