"""Where output goes: devices, named pipes and /dev/stdout are written straight into (never
replaced), a full device is an error, and every output path is checked before any request,
so paid work is never lost to a path that cannot be written.

Device nodes are made in the test's own directory (mknod), never the machine's /dev."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.speech import Synthesis
from tests.conftest import run, run_process

pytestmark = pytest.mark.no_contract

NULL, FULL = 3, 7  # minor numbers of /dev/null and /dev/full (major 1)
UNWRITABLE = "/proc/x"  # a directory where no file can be created, even by root


def device(tmp_path: Path, name: str, minor: int) -> Path:
    path = tmp_path / "out" / name
    path.parent.mkdir(exist_ok=True)
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        open(path, "wb").close()  # noqa: SIM115
    except OSError as exc:
        pytest.skip(f"cannot make or open a device node here ({exc})")
    return path


def exchanges(emulator) -> list[str]:
    return [e.path for e in emulator.state.exchanges() if not e.path.startswith("/waves/v1/voice")]


def voice_lookups_only(emulator) -> bool:
    return [p for p in exchanges(emulator) if "get_voices" not in p] == []


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "speech.wav"
    path.parent.mkdir()
    sf.write(
        path, np.frombuffer(Synthesis("Hello there.", sample_rate=24000).pcm(), dtype="<i2"), 24000
    )
    return path


# -- devices, named pipes, stdout (point 1) ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["tts", "say", "Hello there.", "--format", "wav", "-o", "{dev}"],
        ["tts", "say", "Hello there.", "--format", "flac", "-o", "{dev}"],
        ["stt", "transcribe", "{speech}", "--format", "text", "-o", "{dev}"],
        ["stt", "live", "{speech}", "--format", "text", "-o", "{dev}"],
    ],
)
def test_a_null_device_is_written_into_not_replaced(
    api_env, tmp_path: Path, speech: Path, command: list[str]
) -> None:
    null = device(tmp_path, "null", NULL)
    args = [a.format(dev=null, speech=speech) for a in command]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(null.stat().st_mode)
    assert [p.name for p in null.parent.iterdir()] == ["null"]


@pytest.mark.parametrize(
    "command",
    [
        ["tts", "say", "Hello there.", "--format", "wav", "-o", "{dev}"],
        ["tts", "say", "Hello there.", "--format", "pcm", "-o", "{dev}"],
        ["stt", "transcribe", "{speech}", "--format", "text", "-o", "{dev}"],
    ],
)
def test_a_full_device_is_an_error(
    api_env, tmp_path: Path, speech: Path, command: list[str]
) -> None:
    full = device(tmp_path, "full", FULL)
    result = run(*[a.format(dev=full, speech=speech) for a in command])
    assert result.exit_code == 1, result.stderr
    assert f"Error: cannot write {full}: No space left on device" in result.stderr
    assert "unexpected" not in result.stderr
    assert stat.S_ISCHR(full.stat().st_mode)


def test_a_full_stdout_is_an_error(api_env, tmp_path: Path) -> None:
    full = device(tmp_path, "full", FULL)
    with open(full, "wb") as stdout:
        process = subprocess.run(
            [sys.executable, "-m", "smallest_cli", "tts", "say", "Hi.", "--format", "wav"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert process.returncode == 1, process.stderr
    assert "Error: cannot write stdout: No space left on device" in process.stderr


def test_a_named_pipe_gets_the_audio_and_stays_a_pipe(api_env, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        fd = os.open(fifo, os.O_RDONLY)  # waits for the writer
        with os.fdopen(fd, "rb") as pipe:
            received.append(pipe.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    result = run("tts", "say", "Hello there.", "-o", str(fifo), "--format", "wav")
    thread.join(timeout=5)
    if thread.is_alive():  # never opened for writing: open it ourselves to free the reader
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    [data] = received
    audio, rate = sf.read(io.BytesIO(data), dtype="int16")
    assert len(audio) > rate // 2


def test_a_symbolic_link_is_written_through_and_kept(api_env, tmp_path: Path) -> None:
    """`-o link.wav` writes the file the link points to (in its own directory), and the
    link stays a link."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "take.wav"
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    result = run("tts", "say", "Hello there.", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert sf.info(target).duration > 0.5
    assert not list(tmp_path.glob(".link.wav.*"))
    assert [p.name for p in elsewhere.iterdir()] == ["take.wav"]  # no temporary file left


def test_dev_stdout_is_stdout(api_env) -> None:
    result = run("tts", "say", "Hello there.", "-o", "/dev/stdout", "--format", "wav")
    assert result.exit_code == 0, result.stderr
    audio, rate = sf.read(io.BytesIO(result.stdout_bytes), dtype="int16")
    assert len(audio) > rate // 2


def test_a_transcript_to_dev_stdout(api_env, speech: Path) -> None:
    process = run_process("stt", "transcribe", str(speech), "-o", "/dev/stdout", "--format", "text")
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip().lower().startswith("hello there")


# -- output paths are checked before any request (point 4) ---------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["stt", "transcribe", "{speech}", "-o", f"{UNWRITABLE}.txt"],
        ["stt", "transcribe", "{speech}", "--output-dir", f"{UNWRITABLE}/texts"],
        ["stt", "live", "{speech}", "-o", f"{UNWRITABLE}.txt"],
        [
            "tts",
            "say",
            "Hi.",
            "--voice",
            "meher",
            "-o",
            "{old}",
            "--timestamps",
            f"{UNWRITABLE}.srt",
        ],
        ["tts", "say", "Hi.", "-o", f"{UNWRITABLE}.wav"],
        ["voices", "preview", "meher", "--text", "Hi.", "-o", f"{UNWRITABLE}.wav"],
        ["voices", "preview", "meher", "-o", f"{UNWRITABLE}.wav"],
    ],
)
def test_an_unwritable_output_is_refused_before_any_request(
    api_env, tmp_path: Path, speech: Path, command: list[str]
) -> None:
    old = tmp_path / "old.wav"
    old.write_bytes(b"the user's earlier take")
    result = run(*[a.format(speech=speech, old=old) for a in command])
    assert result.exit_code == 2, result.stderr
    assert "Error:" in result.stderr and UNWRITABLE in result.stderr
    assert "unexpected" not in result.stderr
    assert voice_lookups_only(api_env), exchanges(api_env)
    assert old.read_bytes() == b"the user's earlier take"
