"""`stt live --mic` through PortAudio: speech played into the CI sound server's null sink comes
back on its monitor, the default input, and the CLI transcribes it as it is spoken."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from smallest_cli.emulator.speech import Synthesis, spoken_form
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.integration

TEXT = "The microphone hears every word. Then it writes them down."
PLAY_RATE = 48_000


def wait_for(proc: subprocess.Popen[str], needle: str, timeout: float = 20.0) -> list[str]:
    """stderr lines up to the one containing `needle`."""
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never appeared on stderr: {''.join(seen)}")


def test_the_microphone_is_transcribed_as_it_speaks(sd, emulator, tmp_path: Path) -> None:
    speech = Synthesis(TEXT, sample_rate=PLAY_RATE)
    samples = np.frombuffer(speech.pcm(), dtype=np.int16)
    target = tmp_path / "mic.json"
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "--debug", "stt", "live", "--mic", "--json"]
    with subprocess.Popen(
        [*argv, "--word-timestamps", "-o", str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            wait_for(proc, "→ WebSocket")  # capturing, and the session is open
            time.sleep(0.3)
            sd.play(samples, samplerate=PLAY_RATE, blocking=True)
            time.sleep(1.5)  # the loopback lags ~0.2 s; the last final needs a pause after it
            proc.send_signal(signal.SIGINT)  # a microphone session ends with Ctrl-C
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    events = [json.loads(line) for line in out.splitlines()]
    finals = [e for e in events if e["type"] == "final"]
    assert spoken_form(" ".join(f["text"] for f in finals)) == spoken_form(TEXT)
    assert finals[-1]["is_last"] is True  # Ctrl-C waited for the session's last final
    words = [w for f in finals for w in f["words"]]
    played = speech.timings()
    # heard in real time: the words are as far apart as they were spoken
    spoken_span = played[-1].end - played[0].start
    assert words[-1]["end"] - words[0]["start"] == pytest.approx(spoken_span, abs=0.1)
    document = json.loads(target.read_text())
    assert spoken_form(document["transcript"]) == spoken_form(TEXT)


def test_a_named_input_device_that_does_not_exist(sd, emulator) -> None:
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    proc = subprocess.run(
        [sys.executable, "-m", "smallest_cli", "stt", "live", "--mic", "--device", "No Such Mic"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "no input device 'No Such Mic'" in proc.stderr
    assert not [e for e in emulator.state.exchanges() if e.path.startswith("/waves/v1/stt")]
