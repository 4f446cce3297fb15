"""`smallest talk` on the CI sound server, whose monitor is the microphone: a question
played into it is answered out loud; the answer's own voice, coming straight back on the
monitor, does not interrupt it; a second question played over the next answer does."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from smallest_cli.emulator.speech import Synthesis, spoken_form
from smallest_cli.history import History
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.integration

PLAY_RATE = 48_000
FIRST, SECOND = "What is the capital of France?", "How tall is the Eiffel Tower?"


class Lines:
    """A process's stderr, read in the background so a wait can time out."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.put(line)

    def wait_for(self, needle: str, timeout: float = 30.0) -> list[str]:
        """The lines up to the one containing `needle`."""
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            lines.append(line)
            self.seen.append(line)
            if needle in line:
                return lines
        raise AssertionError(f"{needle!r} never appeared on stderr: {''.join(self.seen)}")


def speech(text: str) -> np.ndarray:
    return np.frombuffer(Synthesis(text, sample_rate=PLAY_RATE).pcm(), dtype=np.int16)


@pytest.mark.xfail(
    strict=False,
    reason="known flaky: in about one run in three the interrupting question, played at the "
    "answer's own level, is not judged louder than the echo could be, and no barge-in fires",
)
def test_talk_answers_out_loud_and_the_user_can_barge_in(sd, emulator, tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "--debug", "talk", "--transcript"]
    with subprocess.Popen(
        [*argv, str(transcript)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        stderr = Lines(proc)
        try:
            stderr.wait_for("→ WebSocket")  # listening
            time.sleep(0.3)
            sd.play(speech(FIRST), samplerate=PLAY_RATE, blocking=True)
            # the whole first answer plays into the monitor: its echo is no barge-in
            first_answer = stderr.wait_for("answer: first audio")
            assert not [line for line in first_answer if "barge-in:" in line]
            assert "barge-in at -" in first_answer[-1]
            sd.play(speech(FIRST), samplerate=PLAY_RATE, blocking=True)
            stderr.wait_for("POST")  # the second question was heard and asked
            time.sleep(1.0)  # its answer is playing
            sd.play(speech(SECOND), samplerate=PLAY_RATE, blocking=False)
            stderr.wait_for("barge-in: the user spoke over the answer")
            sd.wait()
            stderr.wait_for("You: ")  # the interrupting question is the next turn
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    turns = json.loads(transcript.read_text())["turns"]
    roles = [t["role"] for t in turns]
    assert roles[:4] == ["user", "assistant", "user", "assistant"]
    assert spoken_form(turns[0]["text"]) == spoken_form(FIRST)
    assert turns[1]["interrupted"] is False and turns[3]["interrupted"] is True
    assert "eiffel tower" in spoken_form(turns[4]["text"])  # heard through the answer's end
    history = History()
    try:
        conversation = history.latest()
        assert conversation is not None
        assert len(history.messages(conversation)) >= 4
    finally:
        history.close()
