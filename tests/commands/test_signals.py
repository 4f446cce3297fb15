"""SIGTERM and SIGHUP stop every command that writes files the way Ctrl-C does: no
`.NAME.XXXX.partial` is left, an existing file is untouched, what is kept is written, and
the exit code is 143 (TERM), 129 (HUP) or 130 (INT). Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.speech import Synthesis
from smallest_cli.emulator.state import Pacing
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.no_contract

CLI = [sys.executable, "-m", "smallest_cli"]
STOPS = [
    pytest.param(signal.SIGTERM, 143, "Terminated.", id="TERM"),
    pytest.param(signal.SIGHUP, 129, "Hung up.", id="HUP"),
    pytest.param(signal.SIGINT, 130, "Interrupted.", id="INT"),
]
SLOW = 30_000  # ms the emulator holds an answer back: the command is mid-request
OLD = b"the user's earlier take"
LONG = " ".join(f"Sentence number {n} keeps the session going a little longer." for n in range(12))


@pytest.fixture(autouse=True)
def slots(emulator) -> None:
    """Requests of stopped clients may hold a slot for a while: allow plenty."""
    emulator.state.limits.set_tts_concurrency(100)


def env_for(emulator) -> dict[str, str]:
    return {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}


def paths_seen(emulator, prefix: str) -> int:
    return sum(1 for e in emulator.state.exchanges() if e.path.startswith(prefix))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def stopped(proc: subprocess.Popen[bytes], sig: int) -> str:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return err.decode()


def start(emulator, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(emulator)
    )


def partials(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize(("sig", "code", "says"), STOPS)
def test_tts_say(emulator, tmp_path: Path, sig: int, code: int, says: str) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=SLOW, rtf=0)
    out = tmp_path / "out.wav"
    out.write_bytes(OLD)
    with start(emulator, "tts", "say", "Hello there.", "-o", str(out)) as proc:
        wait_until(lambda: paths_seen(emulator, "/waves/v1/tts") > 0, "the TTS request")
        assert partials(tmp_path) != []  # the audio would go here
        err = stopped(proc, sig)
    assert proc.returncode == code, err
    assert err.strip().endswith(says) and "Traceback" not in err
    assert partials(tmp_path) == []
    assert out.read_bytes() == OLD


@pytest.mark.parametrize(("sig", "code", "says"), STOPS)
def test_voices_preview(emulator, tmp_path: Path, sig: int, code: int, says: str) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=SLOW, rtf=0)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "preview.wav"
    args = ["voices", "preview", "meher", "--text", "Hello there.", "-o", str(out)]
    with start(emulator, *args) as proc:
        wait_until(lambda: paths_seen(emulator, "/waves/v1/tts") > 0, "the TTS request")
        err = stopped(proc, sig)
    assert proc.returncode == code, err
    assert err.strip().endswith(says) and "Traceback" not in err
    assert list(out_dir.iterdir()) == []


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "speech.wav"
    path.parent.mkdir()
    speech = Synthesis(LONG, sample_rate=16000)
    sf.write(path, np.frombuffer(speech.pcm(), dtype="<i2"), 16000)
    return path


@pytest.mark.parametrize(("sig", "code", "says"), STOPS)
def test_stt_transcribe(
    emulator, tmp_path: Path, recording: Path, sig: int, code: int, says: str
) -> None:
    emulator.state.pacing = Pacing(stt_ms=SLOW, stt_rtf=0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "speech.txt").write_bytes(OLD)
    args = ["stt", "transcribe", str(recording), "--output-dir", str(out), "--force"]
    with start(emulator, *args) as proc:
        wait_until(lambda: paths_seen(emulator, "/waves/v1/stt") > 0, "the STT request")
        err = stopped(proc, sig)
    assert proc.returncode == code, err
    assert err.strip().endswith(says) and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["speech.txt"]
    assert (out / "speech.txt").read_bytes() == OLD


@pytest.mark.parametrize(("sig", "code", "says"), STOPS)
def test_stt_live_keeps_what_it_heard(
    emulator, tmp_path: Path, recording: Path, sig: int, code: int, says: str
) -> None:
    target = tmp_path / "kept.txt"
    args = ["stt", "live", str(recording), "--realtime", "-o", str(target)]
    with start(emulator, *args) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()  # a final, while the audio still goes
        assert first.startswith("Sentence number 0")
        err = stopped(proc, sig)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert target.read_text().startswith("Sentence number 0")
    assert partials(tmp_path) == []


def test_a_hangup_ignored_by_the_parent_stays_ignored(emulator, tmp_path: Path) -> None:
    """Under `nohup` SIGHUP is ignored; the command goes on and finishes."""
    emulator.state.pacing = Pacing(first_audio_ms=1000, rtf=0)
    out = tmp_path / "out.wav"
    with subprocess.Popen(
        [*CLI, "tts", "say", "Hello there.", "-o", str(out)],
        stderr=subprocess.PIPE,
        env=env_for(emulator),
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),  # noqa: PLW1509
    ) as proc:
        wait_until(lambda: paths_seen(emulator, "/waves/v1/tts") > 0, "the TTS request")
        err = stopped(proc, signal.SIGHUP)
    assert proc.returncode == 0, err
    assert sf.info(out).duration > 0.3
