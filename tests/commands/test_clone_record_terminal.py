"""`clone create --record` on a terminal, with the microphone stood in for: the countdown,
the clipping warning, the level meter, playing the take back and asking before the upload."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from smallest_cli.jobs import clone_record
from tests.clone_audio import speechy
from tests.commands.test_clone import api_requests, uploads
from tests.conftest import run

TERMINAL = {"stdin_isatty": True, "stderr_isatty": True}


@pytest.fixture
def mic(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A microphone that hears `take`, no waiting in the countdown, and a player that
    remembers what it played."""
    seen: dict[str, Any] = {"take": speechy(8, clone_record.RECORD_RATE, 1, 1), "played": []}
    monkeypatch.setattr(clone_record, "_capture", lambda out, seconds, device: seen["take"])
    monkeypatch.setattr("smallest_cli.audio.devices.check_device", lambda device, purpose: None)
    monkeypatch.setattr(clone_record.time, "sleep", lambda _: None)
    monkeypatch.setattr(clone_record, "_play", lambda sample, device: seen["played"].append(sample))
    return seen


def test_the_take_is_counted_down_played_back_and_uploaded_after_a_yes(
    api_env: Any, mic: dict[str, Any]
) -> None:
    result = run("clone", "create", "Me", "--record", "--language", "en", "--no-wait",
                 input="y\ny\n", **TERMINAL)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().startswith("voice_")
    assert [n for n in (3, 2, 1) if f"Recording in {n}…" in result.stderr] == [3, 2, 1]
    assert "Play it back?" in result.stderr and "Upload this take as 'Me'?" in result.stderr
    (played,) = mic["played"]
    (sent,) = uploads(api_env)
    assert sent["file"]["data"] == played.data  # what was heard is what was sent
    assert "clipped" not in result.stderr


def test_a_clipped_take_is_warned_about(api_env: Any, mic: dict[str, Any]) -> None:
    mic["take"] = np.clip(mic["take"] * 4, -1, 1)
    result = run("clone", "create", "Me", "--record", "--language", "en", "--no-wait", "--yes",
                 **TERMINAL)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Warning: the take clipped" in result.stderr and "gain" in result.stderr
    assert "Play it back?" not in result.stderr  # --yes asks nothing
    assert mic["played"] == [] and len(uploads(api_env)) == 1


def test_saying_no_to_the_upload_sends_nothing(api_env: Any, mic: dict[str, Any]) -> None:
    result = run("clone", "create", "Me", "--record", "--language", "en", input="n\nn\n",
                 **TERMINAL)  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    assert "nothing was uploaded" in result.stderr
    assert mic["played"] == [] and api_requests(api_env) == []


def test_a_silent_take_is_refused_before_any_question(api_env: Any, mic: dict[str, Any]) -> None:
    mic["take"] = np.zeros(clone_record.RECORD_RATE * 8)
    result = run("clone", "create", "Me", "--record", "--language", "en", **TERMINAL)
    assert result.exit_code == 2 and "the recording is silent" in result.stderr
    assert "Upload this take" not in result.stderr and api_requests(api_env) == []


def test_the_level_meter_shows_level_and_clipping(capsys: pytest.CaptureFixture[str]) -> None:
    from smallest_cli.output import Output

    meter = clone_record._Meter(Output(stderr_isatty=True), 12)
    loud = (np.full(2400, 32767, dtype="<i2")).tobytes()
    quiet = (np.full(2400, 33, dtype="<i2")).tobytes()
    with meter:
        meter.show(quiet, 1.0)
        meter._live.refresh()
        meter.show(loud, 4.2)
        meter._live.refresh()
    err = capsys.readouterr().err
    assert "1.0 s / 12 s" in err and "-60 dB" in err
    assert "4.2 s / 12 s" in err and "0 dB  CLIPPING" in err


def test_a_missing_key_is_said_before_recording(
    mic: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("SMALLEST_API_KEY", raising=False)
    monkeypatch.setenv("SMALLEST_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    recorded = []
    monkeypatch.setattr(clone_record, "_capture", lambda *a: recorded.append(a) or mic["take"])
    result = run("clone", "create", "Me", "--record", "--yes", **TERMINAL)
    assert result.exit_code == 4 and "not logged in" in result.stderr
    assert recorded == [] and "Recording in" not in result.stderr


def test_ctrl_c_at_the_question_sends_nothing(
    api_env: Any, mic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallest_cli.jobs import clone

    def interrupted(question: str, default: bool = False) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(clone, "ask", interrupted)
    result = run("clone", "create", "Me", "--record", "--language", "en", **TERMINAL)
    assert result.exit_code == 130 and result.stdout == ""
    assert api_requests(api_env) == []


def test_no_microphone_is_said_before_the_countdown_with_a_file_to_clone_from(
    api_env: Any, mic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallest_cli.errors import SmallestError

    def no_device(device: Any, purpose: str) -> None:
        raise SmallestError("cannot record audio: no input device", hint="transcribe a file")

    monkeypatch.setattr("smallest_cli.audio.devices.check_device", no_device)
    result = run("clone", "create", "Me", "--record", "--yes", **TERMINAL)
    assert result.exit_code == 1 and "no input device" in result.stderr
    assert "Hint: clone from a recording instead: smallest clone create NAME FILE" in result.stderr
    assert "Recording in" not in result.stderr and api_requests(api_env) == []
