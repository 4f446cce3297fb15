"""The emulator's TTS WebSocket over real loopback: buffering, frames, timestamps, limits."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from smallest_cli.emulator.speech import listen, spoken_form
from smallest_cli.emulator.state import Pacing
from smallest_cli.emulator.tts_request import parse
from smallest_cli.emulator.tts_ws import idle_timeout
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SETTINGS = {"voice_id": "magnus", "sample_rate": 24000, "complete_backoff_ms": 0}
COMPLETE_TIMEOUT = 10


@contextmanager
def socket(emulator, query: str = "", key: str = TEST_KEY) -> Iterator[ClientConnection]:
    url = emulator.base_url.replace("http://", "ws://") + "/waves/v1/tts/live" + query
    with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as connection:
        yield connection


def send(connection: ClientConnection, **message: Any) -> None:
    connection.send(json.dumps({**SETTINGS, **message}))


def receive_all(connection: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until the server closes, and its close code."""
    frames = []
    try:
        while True:
            frames.append(json.loads(connection.recv(timeout=COMPLETE_TIMEOUT)))
    except ConnectionClosedOK as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


def audio_of(frames: list[dict[str, Any]]) -> np.ndarray:
    pcm = b"".join(base64.b64decode(f["data"]["audio"]) for f in frames if f["status"] == "chunk")
    return np.frombuffer(pcm, dtype="<i2")


def heard(audio: np.ndarray) -> str:
    return " ".join(h.text or "?" for h in listen(audio, 24000))


def test_one_message_is_one_request_then_complete_then_close(emulator) -> None:
    text = "Modern problems require modern solutions."
    with socket(emulator) as connection:
        send(connection, text=text)
        frames, code = receive_all(connection)
    assert code == 1000
    assert [f["status"] for f in frames[-2:]] == ["chunk", "complete"]
    assert {f["status"] for f in frames[:-1]} == {"chunk"}
    assert {(f["session_id"], f["request_id"]) for f in frames} == {
        (frames[0]["session_id"], frames[0]["request_id"])
    }
    assert frames[0]["session_id"].startswith("ws_") and frames[0]["request_id"].startswith("task_")
    assert list(frames[0]) == ["session_id", "request_id", "status", "data"]
    assert list(frames[-1]) == ["session_id", "request_id", "status"]
    chunk_sizes = {len(base64.b64decode(f["data"]["audio"])) for f in frames[:-2]}
    assert chunk_sizes == {960}  # 20 ms of 24 kHz PCM
    assert heard(audio_of(frames)) == spoken_form(text)
    (exchange,) = emulator.state.exchanges()
    assert exchange.status == 101 and exchange.synthesis_ms is not None


def test_continue_buffers_and_flush_speaks(emulator) -> None:
    with socket(emulator) as connection:
        ids = {"session_id": "call-7", "request_id": "turn.3"}
        send(connection, text="Hello brave ", **{"continue": True}, **ids)
        send(connection, text="new ", **{"continue": True})
        with pytest.raises(TimeoutError):
            connection.recv(timeout=0.3)  # buffered: nothing is spoken yet
        send(connection, text="world.", flush=True, **{"continue": True})
        first = json.loads(connection.recv(timeout=COMPLETE_TIMEOUT))
        assert first["status"] == "chunk"
        assert first["external_session_id"] == "call-7"
        assert first["external_request_id"] == "turn.3"
        send(connection, text="Goodbye.", **{"continue": True})
        send(connection, text="", flush=True)  # the recipe's last message
        frames, code = receive_all(connection)
    frames = [first, *frames]
    assert code == 1000 and frames[-1]["status"] == "complete"
    assert len({f["request_id"] for f in frames}) == 1
    assert heard(audio_of(frames)) == "hello brave new world goodbye"


def test_max_buffer_flush_ms_speaks_after_a_pause(emulator) -> None:
    with socket(emulator) as connection:
        sent = time.monotonic()
        send(connection, text="Are you there?", max_buffer_flush_ms=300, **{"continue": True})
        first = json.loads(connection.recv(timeout=COMPLETE_TIMEOUT))
        waited = time.monotonic() - sent
        assert first["status"] == "chunk" and 0.28 <= waited < 1.0
        send(connection, text="", **{"continue": False})
        frames, _ = receive_all(connection)
    assert heard(audio_of([first, *frames])) == "are you there"


def test_word_timestamps_follow_the_audio(emulator) -> None:
    first, second = "I paid $100 for", "the 25th ticket, नमस्ते."
    with socket(emulator) as connection:
        settings = {"voice_id": "meher", "word_timestamps": True}
        send(connection, text=first, flush=True, **settings, **{"continue": True})
        send(connection, text=f" {second}", **settings)
        frames, _ = receive_all(connection)
    words = [f["data"] for f in frames if f["status"] == "word_timestamp"]
    assert [w["word"] for w in words] == f"{first} {second}".split()
    assert [w["id"] for w in words] == list(range(len(words)))
    audio = audio_of(frames)
    duration = len(audio) / 24000
    assert all(0 <= w["start"] < w["end"] <= duration for w in words)
    assert all(a["end"] <= b["start"] for a, b in zip(words, words[1:], strict=False))
    spoken = listen(audio, 24000)
    assert [h.text for h in spoken] == spoken_form(f"{first} {second}").split()
    for word, sound in zip(words, spoken, strict=True):
        assert abs(word["start"] - sound.start) < 0.02 and abs(word["end"] - sound.end) < 0.02
    sent = 0.0  # each word comes before the chunk in which it starts
    for frame in frames:
        if frame["status"] == "chunk":
            sent += len(base64.b64decode(frame["data"]["audio"])) / 2 / 24000
        elif frame["status"] == "word_timestamp":
            assert sent <= frame["data"]["start"] < sent + 0.02


def test_no_word_timestamps_for_other_voices(emulator) -> None:
    with socket(emulator) as connection:
        send(connection, text="I paid $100.", voice_id="magnus", word_timestamps=True)
        frames, _ = receive_all(connection)
    assert {f["status"] for f in frames} == {"chunk", "complete"}
    assert heard(audio_of(frames)) == "i paid $100"


def test_complete_waits_for_the_backoff(emulator) -> None:
    with socket(emulator) as connection:
        started = time.monotonic()
        send(connection, text="Hi.", complete_backoff_ms=400)  # unpaced: all audio at once
        frames, _ = receive_all(connection)
    assert frames[-1]["status"] == "complete" and time.monotonic() - started >= 0.4


def test_idle_timeout_counts_from_the_last_message(emulator) -> None:
    with socket(emulator, "?timeout=1") as connection:
        time.sleep(0.6)
        send(connection, text="", **{"continue": True})
        sent = time.monotonic()
        frames, code = receive_all(connection)
    assert frames == [
        {"status": "error", "message": "Connection timed out after 1 seconds of inactivity"}
    ]
    assert code == 1000 and 0.95 <= time.monotonic() - sent < 1.6


def test_defaults() -> None:
    message = parse({"voice_id": "magnus", "text": ""}, websocket=True)
    assert (message.complete_backoff_ms, message.max_buffer_flush_ms) == (4000, 0)
    assert (message.sample_rate, message.model, message.continue_, message.flush) == (
        44100,
        "lightning_v3.1",
        False,
        False,
    )
    assert idle_timeout(b"") == 60 and idle_timeout(b"timeout=999") == 999
    for ignored in (b"timeout=0", b"timeout=-5", b"timeout=abc", b"timeout=%C2%B2"):
        assert idle_timeout(ignored) == 60


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            {**SETTINGS, "text": "Hi", "voice_id": "nobody"},
            {"message": "voice_id: Invalid Voice ID", "code": "400"},
        ),
        (
            {**SETTINGS, "text": "Hi", "speed": 5},
            {"message": "speed: Number must be less than or equal to 2", "code": "400"},
        ),
        (
            {"voice_id": "magnus"},
            {"message": "text: Required", "code": "400"},
        ),
        (
            {**SETTINGS, "text": "Hi", "max_buffer_flush_ms": 2.5},
            {"message": "max_buffer_flush_ms: Expected integer, received float", "code": "400"},
        ),
        ("not json", {"message": "Invalid JSON.", "code": "400"}),
        (b"\x00binary", {"message": "Messages must be JSON text frames.", "code": "400"}),
    ],
)
def test_bad_messages_get_an_error_frame_then_a_close(emulator, message, error) -> None:
    with socket(emulator) as connection:
        connection.send(json.dumps(message) if isinstance(message, dict) else message)
        frames, code = receive_all(connection)
    # the message at the top level too, where the vendor's own clients read it (REFERENCE §0.7)
    assert frames == [{"status": "error", "message": error["message"], "error": error}]
    assert code == 1000


def test_one_synthesis_at_a_time_across_sockets_and_http(emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=0, rtf=0.5)
    text = "Modern problems."
    with socket(emulator) as busy, socket(emulator) as other:
        send(busy, text=text)
        assert json.loads(busy.recv(timeout=COMPLETE_TIMEOUT))["status"] == "chunk"
        send(other, text="Hi.", **{"continue": True}, flush=True)
        refused = json.loads(other.recv(timeout=COMPLETE_TIMEOUT))
        message = "Too many concurrent TTS requests for this account; wait for one to finish."
        assert refused == {
            "status": "error",
            "message": message,
            "error": {"message": message, "code": "429"},
        }
        with httpx.Client(base_url=emulator.base_url) as http:
            body = {"text": "Hi.", "voice_id": "magnus"}
            sync = http.post("/waves/v1/tts", headers={**AUTH, "Accept": "audio/wav"}, json=body)
            assert sync.status_code == 429
        receive_all(busy)
        send(other, text="Hi again.")  # the socket stayed open; the unit is free now
        frames, code = receive_all(other)
    assert frames[-1]["status"] == "complete" and heard(audio_of(frames)) == "hi again"


def test_five_sockets_per_unit(emulator) -> None:
    with socket(emulator), socket(emulator), socket(emulator), socket(emulator), socket(emulator):
        with pytest.raises(InvalidStatus) as refused, socket(emulator):
            pass
        response = refused.value.response
        assert response.status_code == 429
        assert json.loads(response.body) == {
            "error": "TooManyRequests",
            "message": "Too many open TTS WebSockets for this account (at most 5).",
        }
        with socket(emulator, key="sk_someone_else_1234") as elsewhere:
            elsewhere.ping().wait(5)
        emulator.state.limits.set_tts_concurrency(2)
        with socket(emulator) as sixth:
            sixth.ping().wait(5)


def test_sockets_are_paced(emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=200, rtf=0.5)
    with socket(emulator) as connection:
        started = time.monotonic()
        send(connection, text="Modern problems.")
        connection.recv(timeout=COMPLETE_TIMEOUT)
        first = time.monotonic() - started
        frames, _ = receive_all(connection)
        last = time.monotonic() - started
    duration = len(audio_of(frames)) / 24000
    assert 0.2 <= first < 0.5
    assert last >= 0.2 + 0.5 * duration - 0.05
