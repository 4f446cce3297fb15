"""How a TTS WebSocket waits for the account's one slot: refused handshakes (429) and 429
frames are one wait, with one backoff and one `--max-wait` budget, not a wait inside a wait."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from smallest_cli.api.client import SmallestClient
from smallest_cli.api.retry import RetryPolicy
from smallest_cli.api.tts import SpeechRequest
from smallest_cli.emulator.limits import ConcurrencyLimiter, LimitExceeded
from smallest_cli.errors import RateLimitError
from tests.conftest import TEST_KEY, run

LIVE = "/waves/v1/tts/live"


class BusyOnce(ConcurrencyLimiter):
    """The emulator's one-slot TTS limiter, taken by another client the first time."""

    def __init__(self) -> None:
        super().__init__(1)
        self.refused = False

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        if not self.refused:
            self.refused = True
            raise LimitExceeded()
        with super().slot(key):
            yield


def speak(base_url: str, waits: list[float], max_wait: float) -> list[bytes]:
    """Say a sentence over the TTS WebSocket, recording the waits instead of sleeping."""
    policy = RetryPolicy(max_wait=max_wait, sleep=waits.append, jitter=lambda: 1.0)
    with SmallestClient(TEST_KEY, base_url=base_url, policy=policy) as client:
        request = SpeechRequest(text="", voice_id="kaitlyn")
        with client.tts.live(request) as session:
            session.say("Waiting for a slot is normal work.")
            return [event.audio for event in session.events() if event.audio]


def handshakes(emulator) -> list[int | None]:
    return [e.status for e in emulator.state.exchanges() if e.path == LIVE]


@pytest.mark.no_contract  # the refused handshakes are the fault's, not the spec's
def test_refused_handshakes_share_one_budget(emulator) -> None:
    emulator.state.faults.replace([f"429@{LIVE}"], 0)
    waits: list[float] = []
    with pytest.raises(RateLimitError) as caught:
        speak(emulator.base_url, waits, max_wait=3)
    assert waits == [0.25, 0.5, 1.0, 1.25]  # doubling, then what is left of --max-wait
    assert handshakes(emulator) == [429] * 5
    assert "--max-wait" in (caught.value.hint or "")


@pytest.mark.no_contract
def test_backoff_goes_on_across_a_429_frame_and_refused_handshakes(
    emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 frame, then two refused handshakes: each wait doubles the one before."""
    monkeypatch.setattr(emulator.state.limits, "tts", BusyOnce())
    emulator.state.faults.replace([f"429*2+1@{LIVE}"], 0)
    waits: list[float] = []
    audio = speak(emulator.base_url, waits, max_wait=300)
    assert b"".join(audio)
    assert waits == [0.25, 0.5, 1.0]
    assert handshakes(emulator) == [101, 429, 429, 101]


@pytest.mark.no_contract
@pytest.mark.parametrize("live", [False, True], ids=["ws", "live"])
def test_the_command_gives_up_after_max_wait_with_one_note(api_env, tmp_path, live: bool) -> None:
    api_env.state.faults.replace([f"429@{LIVE}"], 0)
    target = tmp_path / "x.wav"
    how = ["--live"] if live else ["Waiting for a slot is normal work.", "--transport", "ws"]
    result = run(
        "--max-wait", "1", "tts", "say", *how, "-o", str(target),
        input="Waiting for a slot is normal work." if live else None,
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and "waiting for a free slot" in lines[0], result.stderr
    assert lines[1].startswith("Error:") and "--max-wait" in lines[2], result.stderr
    # waits of 0.125–0.25, 0.25–0.5, 0.5–1 s, then what is left of the second: five at most
    assert 2 <= len(handshakes(api_env)) <= 5, handshakes(api_env)
    assert not target.exists()
