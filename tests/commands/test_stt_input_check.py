"""`stt transcribe` and `stt live` judge their input with one local check (issue 9 point 15):
the same bad, empty or headerless input gets the same message and exit code from both, and
nothing is sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import run

TONE = (np.sin(np.arange(16000) / 5) * 8000).astype("<i2")


def _wav(path: Path) -> None:
    sf.write(path, TONE, 16000)


BAD_FILES: dict[str, tuple[str, Callable[[Path], None], tuple[str, ...]]] = {
    "empty": ("talk.wav", lambda p: p.write_bytes(b""), ()),
    "text named .wav": ("talk.wav", lambda p: p.write_text("not audio at all\n" * 20), ()),
    "text named .txt": ("notes.txt", lambda p: p.write_text("not audio at all\n" * 20), ()),
    "headerless, no extension": ("talk.bin", lambda p: p.write_bytes(TONE.tobytes()), ()),
    "headerless, given a rate": (
        "talk.bin",
        lambda p: p.write_bytes(TONE.tobytes()),
        ("--sample-rate", "16000"),
    ),
    "a WAV header and no audio": (
        "talk.wav",
        lambda p: (_wav(p), p.write_bytes(p.read_bytes()[:44])),
        (),
    ),
    "headerless by extension, no rate": ("talk.pcm", lambda p: p.write_bytes(TONE.tobytes()), ()),
}


def _audio_requests(emulator) -> list:
    return [e for e in emulator.state.exchanges() if "/stt" in e.path or "get_text" in e.path]


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_gets_one_verdict_from_both_commands(api_env, tmp_path: Path, case: str) -> None:
    name, make, flags = BAD_FILES[case]
    path = tmp_path / name
    make(path)
    transcribed = run("stt", "transcribe", str(path), *flags)
    live = run("stt", "live", str(path), *flags)
    assert transcribed.exit_code == live.exit_code == 2, (transcribed.stderr, live.stderr)
    assert transcribed.stderr == live.stderr
    assert transcribed.stderr.startswith(f"Error: {path} ")
    assert _audio_requests(api_env) == []  # judged locally: nothing was uploaded


@pytest.mark.parametrize(
    "data, flags",
    [
        (b"", ()),
        (b"", ("--encoding", "linear16", "--sample-rate", "16000")),
        (b"not audio at all\n" * 20, ()),
        (TONE.tobytes(), ()),
    ],
    ids=["empty", "empty, said raw", "text", "headerless, no rate"],
)
def test_bad_stdin_gets_one_verdict_from_both_commands(
    api_env, data: bytes, flags: tuple[str, ...]
) -> None:
    transcribed = run("stt", "transcribe", "-", *flags, input=data)
    live = run("stt", "live", "-", *flags, input=data)
    assert transcribed.exit_code == live.exit_code == 2, (transcribed.stderr, live.stderr)
    assert transcribed.stderr == live.stderr
    assert _audio_requests(api_env) == []


def test_headerless_stdin_with_a_rate_is_sent_as_described_by_both(api_env) -> None:
    transcribed = run("stt", "transcribe", "-", "--sample-rate", "16000", input=TONE.tobytes())
    assert transcribed.exit_code == 0, transcribed.stderr
    [request] = _audio_requests(api_env)
    assert request.body[:4] == b"RIFF"  # inside a WAV header that says its rate
    assert "has no header: sending it as linear16 at 16000 Hz" in transcribed.stderr
    live = run("stt", "live", "-", "--sample-rate", "16000", input=TONE.tobytes())
    assert live.exit_code == 0, live.stderr
