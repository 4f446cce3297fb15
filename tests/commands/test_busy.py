"""Many requests on one key with one TTS slot (the documented default): waiting for the slot
is normal work. Every process and every transport waits its turn, with one note on stderr,
and `--concurrency` settles on the slots the account has."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import soundfile as sf

from smallest_cli.emulator.limits import ConcurrencyLimiter, LimitExceeded
from smallest_cli.emulator.state import Pacing
from tests.conftest import run, run_process

PROCESSES = 20
TEXT = "Waiting for a slot is normal work."
LONG = " ".join(
    f"Sentence {i} goes on for a while, with a clause; and then it ends." for i in range(12)
)
NOTE = "waiting for a free slot"


# twenty interpreters starting at once on a small machine take a while
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def one_slot(api_env):
    """The session emulator with one TTS slot, each request holding it a while."""
    api_env.state.limits.set_tts_concurrency(1)
    api_env.state.pacing = Pacing(first_audio_ms=100, rtf=0.02, stt_ms=0, stt_rtf=0)
    return api_env


def in_parallel(
    directory: Path, *args: str, processes: int = PROCESSES
) -> list[tuple[int, str, Path]]:
    """`processes` copies of `smallest ARGS -o N.wav` at once; (exit code, stderr, file) each."""
    procs = []
    for n in range(processes):
        target = directory / f"{n}.wav"
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "smallest_cli", *args, "-o", str(target)],
                    stdin=subprocess.PIPE if "--live" in args else subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ},
                ),
                target,
            )
        )
    results = []
    for proc, target in procs:
        _, stderr = proc.communicate(TEXT if "--live" in args else None, timeout=240)
        results.append((proc.returncode, stderr, target))
    return results


def assert_all_spoke(results: list[tuple[int, str, Path]]) -> None:
    failed = [stderr for code, stderr, _ in results if code != 0]
    assert failed == [], f"{len(failed)} of {len(results)} failed; first: {failed[0]}"
    for _, stderr, target in results:
        assert sf.info(target).duration > 0.5
        assert len(stderr.splitlines()) <= 1, stderr  # one note at most, not one per retry


@pytest.mark.parametrize("transport", ["sync", "sse", "ws"], ids=["sync", "sse", "websocket"])
def test_twenty_processes_on_one_slot_all_succeed(one_slot, tmp_path: Path, transport: str) -> None:
    results = in_parallel(tmp_path, "tts", "say", TEXT, "--transport", transport)
    assert_all_spoke(results)
    statuses = [e.status for e in one_slot.state.exchanges() if e.path.startswith("/waves/v1/tts")]
    assert 429 in statuses or transport == "ws"  # they did collide, and waited it out
    assert any(NOTE in stderr for _, stderr, _ in results)


def test_twenty_timestamps_runs_on_one_slot_all_succeed(one_slot, tmp_path: Path) -> None:
    results = in_parallel(
        tmp_path, "tts", "say", TEXT, "--voice", "liam", "--timestamps", str(tmp_path / "t.srt")
    )
    assert_all_spoke(results)


def test_twenty_live_runs_on_one_slot_all_succeed(one_slot, tmp_path: Path) -> None:
    """Each process gets its text only once the one before it has finished (`in_parallel`
    feeds stdin in turn): a session still waiting for its text must neither hold one of the
    account's five sockets nor count the wait as the server's silence."""
    results = in_parallel(tmp_path, "tts", "say", "--live")
    assert_all_spoke(results)


def test_live_text_that_comes_after_the_timeout_is_still_spoken(api_env, tmp_path: Path) -> None:
    """The server owes nothing before the text comes: waiting longer than --timeout for
    stdin is not a stalled server."""
    target = tmp_path / "late.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", "--timeout", "1", "--retries", "0"]
        + ["tts", "say", "--live"]
        + ["-o", str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write("The first sentence comes at once.")
    proc.stdin.flush()
    while not any(e.path == "/waves/v1/tts/live" for e in api_env.state.exchanges()):
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.1)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=3)  # the socket is open and stdin too, for longer than --timeout
    _, stderr = proc.communicate(" The second one much later.", timeout=60)
    assert proc.returncode == 0, stderr
    assert len(stderr.splitlines()) <= 1 and "Error" not in stderr, stderr  # a slot note at most
    assert sf.info(target).duration > 2


def test_a_flushed_sentence_the_server_never_answers_is_a_stall(api_env, tmp_path: Path) -> None:
    """Once a whole sentence went out with `flush`, the server owes audio: its silence for
    --timeout is a stall even while stdin stays open."""
    api_env.state.faults.replace(["stall@/waves/v1/tts/live"], 0)
    target = tmp_path / "stalled.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", "--timeout", "1", "--retries", "0"]
        + ["tts", "say", "--live", "-o", str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write("A whole sentence, flushed at once.")
    proc.stdin.flush()
    try:
        returncode = proc.wait(timeout=30)  # stdin is still open
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    assert returncode == 1, stderr
    assert "sent nothing for 1 s" in stderr and "Traceback" not in stderr, stderr
    assert not target.exists()


class BusyAtFirst(ConcurrencyLimiter):
    """The emulator's TTS limiter, with the slot taken (by another client) the first
    `refusals` times a synthesis asks for it."""

    def __init__(self, refusals: int) -> None:
        super().__init__(1)
        self.refusals = refusals

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        if self.refusals > 0:
            self.refusals -= 1
            raise LimitExceeded()
        with super().slot(key):
            yield


def test_a_429_frame_before_any_audio_is_waited_out(
    one_slot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket's synthesis is refused with a 429 frame twice; the command waits, opens a
    new socket and asks again."""
    limiter = BusyAtFirst(refusals=2)
    monkeypatch.setattr(one_slot.state.limits, "tts", limiter)
    target = tmp_path / "x.wav"
    result = run("tts", "say", TEXT, "--transport", "ws", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert sf.info(target).duration > 0.5
    assert result.stderr.count(NOTE) == 1, result.stderr
    assert limiter.refusals == 0


def test_live_text_refused_before_any_audio_is_sent_again(
    one_slot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(one_slot.state.limits, "tts", BusyAtFirst(refusals=1))
    target = tmp_path / "x.wav"
    result = run_process("tts", "say", "--live", "-o", str(target), input=TEXT)
    assert result.returncode == 0, result.stderr
    assert sf.info(target).duration > 0.5
    assert result.stderr.count(NOTE) == 1, result.stderr


def _key() -> str:
    return os.environ["SMALLEST_API_KEY"]


def test_concurrency_above_the_slots_notes_once_and_settles(one_slot, tmp_path: Path) -> None:
    target = tmp_path / "c.wav"
    result = run(
        "tts", "say", LONG, "-o", str(target), "--sample-rate", "8000", "--concurrency", "4"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count(NOTE) == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    statuses = [e.status for e in one_slot.state.exchanges() if e.path == "/waves/v1/tts"]
    # the three extra workers collide once at the start, then the worker count shrinks to
    # the one slot there is instead of knocking on it for every chunk
    assert statuses.count(429) <= 6, statuses


class CountingRefusals(ConcurrencyLimiter):
    """The emulator's one-slot TTS limiter, counting the syntheses it refuses."""

    def __init__(self) -> None:
        super().__init__(1)
        self.refused = 0

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        try:
            with super().slot(key):
                yield
        except LimitExceeded:
            self.refused += 1
            raise


def test_concurrency_over_websockets_settles_on_the_slots_too(
    one_slot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = CountingRefusals()
    monkeypatch.setattr(one_slot.state.limits, "tts", limiter)
    target = tmp_path / "c.wav"
    result = run(
        "tts", "say", LONG, "-o", str(target), "--sample-rate", "8000", "--concurrency", "4",
        "--transport", "ws",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sf.info(target).duration > 10
    assert len(result.stderr.splitlines()) == 1 and NOTE in result.stderr, result.stderr
    # 429 frames: the three extra sockets are refused at the start, then the workers shrink
    # to the one slot instead of knocking on it for every chunk
    assert limiter.refused <= 6, limiter.refused


def test_the_wait_is_bounded_by_max_wait(one_slot, tmp_path: Path) -> None:
    one_slot.state.faults.replace(["429@/waves/v1/tts"], 0)
    result = run("--max-wait", "1", "tts", "say", TEXT, "-o", str(tmp_path / "x.wav"))
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "429" in result.stderr
    assert "--max-wait" in result.stderr
    assert not (tmp_path / "x.wav").exists()


def test_a_1008_close_is_explained_from_its_reason(api_env, tmp_path: Path) -> None:
    api_env.state.faults.replace(["ws-close:1008"], 0)
    result = run(
        "--max-wait", "0", "tts", "say", TEXT, "--transport", "ws", "-o", str(tmp_path / "x.wav")
    )
    assert result.exit_code == 1
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error:"))
    assert "HTTP 429" not in error and "1008" in error, result.stderr
