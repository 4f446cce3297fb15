"""Emulator settings: flag > SMALLEST_EMULATOR_* > default, the same for `emulator serve` and
`--emulator`; only the pacing defaults differ."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smallest_cli.context import AppContext
from smallest_cli.emulator.settings import EmulatorSettings
from tests.conftest import run

PACING_OFF = {
    "first_audio_ms": 0.0,
    "rtf": 0.0,
    "stt_ms": 0.0,
    "stt_rtf": 0.0,
    "chat_first_token_ms": 0.0,
    "chat_token_ms": 0.0,
    "clone_ms": 0.0,
}


@pytest.fixture
def serve() -> Iterator[callable]:
    """Start `emulator serve --port 0 ARGS` with extra environment; yields its base URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> str:
        import os

        proc = subprocess.Popen(
            [sys.executable, "-m", "smallest_cli", "emulator", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        procs.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), proc.stderr.read() if proc.stderr else url
        return url

    yield start
    for proc in procs:
        proc.kill()
        proc.communicate()


def test_serve_paces_like_the_service_by_default(serve) -> None:
    url = serve()
    pacing = httpx.get(f"{url}/_emulator/pacing").json()
    assert (pacing["first_audio_ms"], pacing["rtf"], pacing["stt_ms"]) == (150.0, 0.2, 150.0)
    assert pacing["clone_ms"] == 3000.0
    assert httpx.get(f"{url}/_emulator/limits").json()["clone_limit"] == 10


def test_serve_honours_the_environment_and_the_flag_wins(serve) -> None:
    env = {
        "SMALLEST_EMULATOR_RTF": "0.5",
        "SMALLEST_EMULATOR_FIRST_AUDIO_MS": "40",
        "SMALLEST_EMULATOR_TTS_CONCURRENCY": "3",
        "SMALLEST_EMULATOR_FAULTS": "503*2@/waves/v1/tts",
        "SMALLEST_EMULATOR_LATENCY_MS": "5",
        "SMALLEST_EMULATOR_CLONE_MS": "500",
        "SMALLEST_EMULATOR_CLONE_LIMIT": "4",
    }
    url = serve("--first-audio-ms", "10", "--fault", "429*1", "--clone-limit", "2", env=env)
    assert httpx.get(f"{url}/_emulator/pacing").json()["clone_ms"] == 500.0
    assert httpx.get(f"{url}/_emulator/limits").json()["clone_limit"] == 2
    pacing = httpx.get(f"{url}/_emulator/pacing").json()
    assert (pacing["first_audio_ms"], pacing["rtf"]) == (10.0, 0.5)
    assert httpx.get(f"{url}/_emulator/limits").json()["tts_concurrency"] == 3
    assert httpx.get(f"{url}/_emulator/faults").json() == {"latency_ms": 5.0, "faults": ["429*1"]}


def test_serve_refuses_a_bad_variable() -> None:
    from tests.conftest import run_process

    bad = run_process("emulator", "serve", "--port", "0", env={"SMALLEST_EMULATOR_RTF": "fast"})
    assert bad.returncode == 2
    assert "SMALLEST_EMULATOR_RTF='fast': not a number" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_in_process_has_pacing_off_and_reads_the_same_variables(monkeypatch) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_STT_MS", "20")
    monkeypatch.setenv("SMALLEST_EMULATOR_STT_SESSIONS", "3")
    monkeypatch.setenv("SMALLEST_EMULATOR_CLONE_LIMIT", "5")
    context = AppContext(emulator=True)
    context.start_emulator()
    try:
        assert context._emulator is not None
        state = context._emulator.state
        assert state.pacing.to_json() == {**PACING_OFF, "stt_ms": 20.0}
        assert state.limits.stt_sessions.limit == 3
        assert state.limits.clone_limit == 5
    finally:
        context.close()


def test_in_process_faults_come_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_FAULTS", "401")
    result = run(
        "--emulator", "--retries", "0", "tts", "say", "Hello", "-o", str(tmp_path / "x.wav")
    )
    assert result.exit_code == 4 and "fault injected by the emulator" in result.stderr
    assert not (tmp_path / "x.wav").exists()


def test_in_process_refuses_a_bad_variable(monkeypatch) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_STT_SESSIONS", "0")
    result = run("--emulator", "voices", "list")
    assert result.exit_code == 2
    assert "SMALLEST_EMULATOR_STT_SESSIONS must be 1 or more" in result.stderr


def test_precedence_flag_then_environment_then_default() -> None:
    environ = {"SMALLEST_EMULATOR_RTF": "0.5", "SMALLEST_EMULATOR_STT_RTF": "0.25"}
    served = EmulatorSettings.resolve({"rtf": 0.1}, in_process=False, environ=environ)
    assert (served.rtf, served.stt_rtf, served.first_audio_ms) == (0.1, 0.25, 150.0)
    in_process = EmulatorSettings.resolve({"rtf": 0.1}, in_process=True, environ=environ)
    assert (in_process.rtf, in_process.stt_rtf, in_process.first_audio_ms) == (0.1, 0.25, 0.0)
    assert EmulatorSettings.resolve(in_process=True, environ={}) == EmulatorSettings.unpaced()
    faults = {"SMALLEST_EMULATOR_FAULTS": "ws-close:1011:2@/waves/v1/tts/live, stall*1"}
    plan = EmulatorSettings.resolve(in_process=True, environ=faults).state().faults
    assert plan.to_json()["faults"] == ["ws-close:1011:2@/waves/v1/tts/live", "stall*1"]
    with pytest.raises(ValueError, match="SMALLEST_EMULATOR_FAULTS='teapot': bad fault"):
        EmulatorSettings.resolve(in_process=True, environ={"SMALLEST_EMULATOR_FAULTS": "teapot"})


def test_transcripts_directory_from_flag_or_environment(tmp_path: Path) -> None:
    environ = {"SMALLEST_EMULATOR_TRANSCRIPTS": str(tmp_path)}
    assert EmulatorSettings.resolve(in_process=True, environ=environ).transcripts == tmp_path
    other = tmp_path / "other"
    flagged = EmulatorSettings.resolve({"transcripts": other}, in_process=False, environ=environ)
    assert flagged.transcripts == other
    missing = {"SMALLEST_EMULATOR_TRANSCRIPTS": str(tmp_path / "none")}
    with pytest.raises(ValueError, match="SMALLEST_EMULATOR_TRANSCRIPTS: .* is not a folder"):
        EmulatorSettings.resolve(in_process=True, environ=missing).state()


def test_the_emulator_never_asks_the_keyring(memory_keyring) -> None:
    memory_keyring.set_password("smallest-cli", "default", "sk_from_the_keyring_0000")
    result = run("--emulator", "auth", "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "emulator"
