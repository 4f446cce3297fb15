"""`clone create --record` through PortAudio: speech played into the CI sound server's sink
comes back on its monitor (the default input), and that take is what gets uploaded."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.clone_audio import speechy
from tests.commands.test_clone import CLONING, uploads
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.integration

PLAY_RATE = 48_000


def started(proc: subprocess.Popen[str], needle: str = "Recording", timeout: float = 20) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if needle in line:
            return
        if not line:
            break
    raise AssertionError(f"{needle!r} never appeared on stderr: {''.join(seen)}")


def record(emulator: Any, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "clone", "create", "Me", "--record"]
    return subprocess.Popen(
        [*argv, "--language", "en", "--no-wait", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_the_played_speech_is_what_is_uploaded(sd: Any, emulator: Any) -> None:
    played = speechy(5, PLAY_RATE)
    with record(emulator, "--seconds", "8", "--yes") as proc:
        started(proc)
        time.sleep(0.5)
        sd.play(played.astype(np.float32), samplerate=PLAY_RATE, blocking=True)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip().startswith("voice_")
    (sent,) = uploads(emulator)
    file = sent["file"]
    assert file["mime"] == "audio/wav"
    take, rate = soundfile.read(io.BytesIO(file["data"]), dtype="float64")
    # trimmed to the speech: 5 s played, plus the trim's padding
    assert len(take) / rate == pytest.approx(5.3, abs=0.35)
    # the syllable rhythm (0.22 s on, 0.13 s off: 63 % voiced) is in the take, not a hum
    window = rate // 100
    envelope = np.sqrt((take[: len(take) // window * window].reshape(-1, window) ** 2).mean(1))
    assert 0.5 < (envelope > 0.05).mean() < 0.8


def test_ctrl_c_while_recording_sends_nothing(sd: Any, emulator: Any) -> None:
    with record(emulator, "--seconds", "10", "--yes") as proc:
        started(proc)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert out == ""
    assert not [e for e in emulator.state.exchanges() if e.path == CLONING]


def test_play_sample_plays_the_clip_and_keeps_stdout_for_the_id(
    sd: Any, emulator: Any, tmp_path
) -> None:
    from tests.clone_audio import write

    path = write(tmp_path / "ana.wav", speechy(8))
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    argv = [sys.executable, "-m", "smallest_cli", "clone", "create", "Ana", path]
    done = subprocess.run(
        [*argv, "--language", "en", "--play-sample"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("voice_")  # the clip went to the speakers
    assert "could not be fetched" not in done.stderr
    # the clip came from the emulator's sample URL (not recorded), not from a fallback TTS call
    assert [(e.method, e.path) for e in emulator.state.exchanges()] == [("POST", CLONING)]
