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
