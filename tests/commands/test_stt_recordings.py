"""Known recordings through the commands a user runs: `emulator serve --transcripts DIR` as a
real process, and `SMALLEST_EMULATOR_TRANSCRIPTS` with `--emulator`; `stt transcribe` and
`stt live` return the documented transcripts (tests/known_recordings.py) with word timings
inside the audio."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from tests.conftest import TEST_KEY, run, run_process
from tests.known_recordings import TRANSCRIPTS, plain, recording, reencoded, transcripts_dir


@pytest.fixture
def known(tmp_path: Path) -> Path:
    return transcripts_dir(tmp_path / "known")


@pytest.fixture
def served(known: Path) -> Iterator[str]:
    """`smallest emulator serve --transcripts DIR` in its own process; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", "emulator", "serve", "--port", "0"]
        + ["--transcripts", str(known), "--stt-ms", "0", "--stt-rtf", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def assert_timed_inside(words: list[dict[str, Any]], duration: float) -> None:
    assert words
    for word in words:
        assert 0 <= word["start"] < word["end"] <= duration + 0.05
    for before, after in zip(words, words[1:], strict=False):
        assert before["end"] <= after["start"]


def transcribed(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    return document


def test_serve_with_transcripts_answers_stt_transcribe(served: str, tmp_path: Path) -> None:
    audio = tmp_path / "hello.flac"
    audio.write_bytes(reencoded("tts-sample-hello", "flac"))
    env = {"SMALLEST_BASE_URL": served, "SMALLEST_API_KEY": TEST_KEY}
    result = run_process("stt", "transcribe", str(audio), "--json", "--word-timestamps", env=env)
    assert result.returncode == 0, result.stderr
    document = transcribed(result.stdout)
    assert document["transcript"] == TRANSCRIPTS["tts-sample-hello"]
    assert_timed_inside(document["words"], sf.info(audio).duration)
    srt = run_process("stt", "transcribe", str(audio), "--format", "srt", env=env)
    assert srt.returncode == 0, srt.stderr
    assert "Hello from Smallest AI." in srt.stdout and "This is Lightning v3.1." in srt.stdout


def test_serve_with_transcripts_answers_stt_live(served: str) -> None:
    env = {"SMALLEST_BASE_URL": served, "SMALLEST_API_KEY": TEST_KEY}
    path = recording("stt-sample-audio")
    result = run_process("stt", "live", str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert plain(" ".join(result.stdout.split())) == plain(TRANSCRIPTS["stt-sample-audio"])


def test_the_environment_variable_gives_emulator_transcripts(
    known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_TRANSCRIPTS", str(known))
    audio = tmp_path / "demo-8k.wav"
    audio.write_bytes(reencoded("pulse-feature-demo", "wav-8k-mulaw"))
    result = run("--emulator", "stt", "transcribe", str(audio), "--json", "--word-timestamps")
    assert result.exit_code == 0, result.stderr
    document = transcribed(result.stdout)
    assert document["transcript"] == TRANSCRIPTS["pulse-feature-demo"]
    assert_timed_inside(document["words"], sf.info(audio).duration)


def test_the_environment_variable_works_for_stt_live_too(
    known: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_TRANSCRIPTS", str(known))
    path = recording("tts-sample-hello")
    result = run("--emulator", "stt", "live", str(path), "--json", "--word-timestamps")
    assert result.exit_code == 0, result.stderr
    finals = [json.loads(line) for line in result.stdout.splitlines()]
    words = [w for event in finals if event["type"] == "final" for w in event["words"]]
    assert [plain(w["word"])[0] for w in words] == plain(TRANSCRIPTS["tts-sample-hello"])
    assert_timed_inside(words, sf.info(path).duration)


def test_unknown_audio_still_gets_synthetic_transcripts(
    known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_EMULATOR_TRANSCRIPTS", str(known))
    said = tmp_path / "said.wav"
    made = run("--emulator", "tts", "say", "Testing one two three", "-o", str(said))
    assert made.exit_code == 0, made.stderr
    result = run("--emulator", "stt", "transcribe", str(said))
    assert result.exit_code == 0, result.stderr
    assert plain(result.stdout) == ["testing", "one", "two", "three"]


def test_an_unusable_transcripts_folder_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    serve = run_process("emulator", "serve", "--port", "0", "--transcripts", str(missing))
    assert serve.returncode == 2
    assert "--transcripts" in serve.stderr and "is not a folder" in serve.stderr
    (tmp_path / "lonely.txt").write_text("Hello.")
    env = {"SMALLEST_EMULATOR_TRANSCRIPTS": str(tmp_path)}
    audio = tmp_path.parent / f"{tmp_path.name}-talk.wav"  # real audio: the input is fine
    sf.write(audio, [0.0] * 1600, 16000)
    result = run_process("--emulator", "stt", "transcribe", str(audio), env=env)
    assert result.returncode == 2
    assert "SMALLEST_EMULATOR_TRANSCRIPTS" in result.stderr and "lonely.txt" in result.stderr
