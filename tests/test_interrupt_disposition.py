"""The Ctrl-C tests hold when pytest itself starts with SIGINT ignored, as it does in the
background or under some CI runners (conftest's `ctrl_c_handled` sets what they rely on)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

IGNORING_SIGINT = (
    "import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "sys.exit(subprocess.call(sys.argv[1:]))"
)
CTRL_C_TESTS = [
    "tests/commands/test_tts.py::test_interrupt_leaves_no_partial_file",
    "tests/commands/test_stt_live.py::test_an_interrupt_in_process_is_exit_130_with_the_transcript",
]


@pytest.mark.timeout(300)
def test_ctrl_c_tests_pass_when_started_with_sigint_ignored() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IGNORING_SIGINT, sys.executable, "-m", "pytest",
         "-p", "no:cacheprovider", "-q", "-x", "-o", "addopts=", *CTRL_C_TESTS],
        cwd=REPO, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout
