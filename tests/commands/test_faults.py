"""The CLI meets each fault the emulator can inject: it fails with exit code 1 and one
`Error:` line on stderr, shows no traceback, and leaves no file behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import Result, run

pytestmark = pytest.mark.no_contract

STALL_TIMEOUT = "1"  # seconds: how long the client waits on a stalled answer


def set_fault(emulator, spec: str) -> None:
    emulator.state.faults.replace([spec], 0)


def assert_met(result: Result, directory: Path, says: str = "") -> None:
    """Exit 1, one Error line (naming what went wrong, `says`), no traceback, and nothing
    written to `directory`."""
    assert result.exit_code == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert says.lower() in errors[0].lower()
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in directory.iterdir()) == [], result.stderr


def say(directory: Path, transport: str, *extra: str) -> Result:
    out = directory / "x.wav"
    return run(
        "--retries", "0", "--max-wait", "0", "--timeout", STALL_TIMEOUT,
        "tts", "say", "Modern problems require modern solutions.",
        "-o", str(out), "--transport", transport, *extra,
    )  # fmt: skip


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


# What the Error line must name, where a fault has a clear name for the user.
SAYS = {"stall-body": "mid-response", "malformed-json": "JSON", "html": "HTML"}

HTTP_FAULTS = [
    "500",
    "429:1",
    "drop",
    "reset",
    "stall",
    "stall-body",
    "malformed-json",
    "html",
]


@pytest.mark.parametrize("spec", HTTP_FAULTS)
def test_tts_say_sync(api_env, out_dir: Path, spec: str) -> None:
    set_fault(api_env, spec)
    assert_met(say(out_dir, "sync"), out_dir, SAYS.get(spec, ""))


@pytest.mark.parametrize(
    "spec",
    [
        "500",
        "drop",
        "reset",
        "stall",
        "stall-body",
        "truncate-sse",
        "malformed-json",
        "html",
    ],
)
def test_tts_say_sse(api_env, out_dir: Path, spec: str) -> None:
    set_fault(api_env, spec)
    assert_met(say(out_dir, "sse"), out_dir, SAYS.get(spec, ""))


@pytest.mark.parametrize(
    "spec",
    [
        "ws-close:1006:2",
        "ws-close:1008:2",
        "ws-close:1011:2",
        "ws-close:1011",
        "429:3",
        "503",
        "html",
        "malformed-json",
        "stall",
        "reset",
    ],
)
def test_tts_say_websocket(api_env, out_dir: Path, spec: str) -> None:
    set_fault(api_env, spec)
    assert_met(say(out_dir, "ws"), out_dir, SAYS.get(spec, ""))


@pytest.mark.parametrize("transport", ["sync", "sse"])
@pytest.mark.parametrize("spec", ["html", "malformed-json"])
def test_a_200_that_is_not_audio_keeps_the_old_file(
    api_env, out_dir: Path, transport: str, spec: str
) -> None:
    old = out_dir / "x.wav"
    old.write_bytes(b"the user's earlier take")
    set_fault(api_env, spec)
    result = say(out_dir, transport)
    assert result.exit_code == 1, result.stderr
    assert "instead of" in result.stderr and "Traceback" not in result.stderr
    assert old.read_bytes() == b"the user's earlier take"
    assert sorted(p.name for p in out_dir.iterdir()) == ["x.wav"]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "speech.wav"
    rate = 16000
    t = np.arange(rate) / rate
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t) * (t < 0.6), rate)
    return path


STT_STALL = [pytest.mark.timeout(20)]  # it once waited at least 600 s, whatever --timeout said


@pytest.mark.parametrize(
    "spec",
    [
        "500",
        "drop",
        "reset",
        pytest.param("stall", marks=STT_STALL),
        pytest.param("stall-body", marks=STT_STALL),
        "malformed-json",
        "html",
    ],
)
def test_stt_transcribe(api_env, out_dir: Path, recording: Path, spec: str) -> None:
    set_fault(api_env, spec)
    result = run(
        "--retries", "0", "--max-wait", "0", "--timeout", STALL_TIMEOUT,
        "stt", "transcribe", str(recording), "-o", str(out_dir / "x.txt"),
    )  # fmt: skip
    assert_met(result, out_dir, {"malformed-json": "JSON"}.get(spec, ""))


@pytest.mark.timeout(20)
def test_stt_transcribe_wait_bounds_the_wait_for_the_transcript(
    api_env, out_dir: Path, recording: Path
) -> None:
    set_fault(api_env, "stall")
    result = run(
        "--retries", "0", "stt", "transcribe", str(recording), "--wait", STALL_TIMEOUT,
        "-o", str(out_dir / "x.txt"),
    )  # fmt: skip
    assert_met(result, out_dir, "no transcript")
    assert "--wait" in result.stderr


@pytest.mark.parametrize(
    "spec",
    [
        "ws-close:1006:1",
        "ws-close:1008:1",
        "ws-close:1011:1",
        "429:3",
        "html",
        "malformed-json",
        "stall",
        "reset",
    ],
)
def test_stt_live(api_env, out_dir: Path, recording: Path, spec: str) -> None:
    set_fault(api_env, spec)
    result = run(
        "--retries", "0", "--max-wait", "0", "--timeout", STALL_TIMEOUT,
        "stt", "live", str(recording), "-o", str(out_dir / "x.txt"),
    )  # fmt: skip
    assert_met(result, out_dir, SAYS.get(spec, ""))
