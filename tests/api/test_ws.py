"""WebSocket plumbing: the authenticated handshake and JSON framing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from smallest_cli.api.client import SmallestClient
from smallest_cli.api.retry import RetryPolicy
from smallest_cli.api.ws import iter_json, send_json
from smallest_cli.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    PolicyCloseError,
    ServerError,
)
from tests.conftest import TEST_KEY


@pytest.fixture
def ws_server() -> Iterator[Callable[[Callable[[ServerConnection], None]], str]]:
    servers = []

    def start(handler: Callable[[ServerConnection], None]) -> str:
        server = serve(handler, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.socket.getsockname()[1]}"

    yield start
    for server in servers:
        server.shutdown()


def client(base_url: str, key: str = TEST_KEY) -> SmallestClient:
    return SmallestClient(
        key, base_url=base_url, policy=RetryPolicy(retries=2, sleep=lambda s: None)
    )


def test_handshake_sends_bearer_and_frames_round_trip(ws_server) -> None:
    seen: dict[str, str] = {}

    def echo(connection: ServerConnection) -> None:
        seen["authorization"] = connection.request.headers["Authorization"]
        seen["path"] = connection.request.path
        seen["user-agent"] = connection.request.headers["User-Agent"]
        for message in connection:
            frame = json.loads(message)
            connection.send(json.dumps({"status": "chunk", "echo": frame["text"]}))
            if frame.get("flush"):
                connection.send(json.dumps({"status": "complete"}))
                connection.close()

    base = ws_server(echo)
    with client(base).connect_ws("/waves/v1/tts/live", params={"timeout": 30}) as connection:
        send_json(connection, {"text": "héllo", "continue": True})
        send_json(connection, {"text": "", "flush": True})
        frames = list(iter_json(connection, timeout=5))
    assert frames == [
        {"status": "chunk", "echo": "héllo"},
        {"status": "chunk", "echo": ""},
        {"status": "complete"},
    ]
    assert seen["authorization"] == f"Bearer {TEST_KEY}"
    assert seen["path"] == "/waves/v1/tts/live?timeout=30"
    assert seen["user-agent"].startswith("smallest-cli/")


def test_close_1008_is_explained_from_its_reason(ws_server) -> None:
    base = ws_server(lambda c: c.close(1008, "Too many concurrent sessions"))
    with client(base).connect_ws("/waves/v1/stt/live") as connection:
        with pytest.raises(PolicyCloseError, match="Too many concurrent sessions") as caught:
            list(iter_json(connection, timeout=5))
    assert "HTTP 429" not in str(caught.value) and "1008" in str(caught.value)
    assert caught.value.waits_for_slot  # safe to wait out before any audio
    assert "too many sessions" in (caught.value.hint or "")
    base = ws_server(lambda c: c.close(1008, "Message too long for this route"))
    with client(base).connect_ws("/x") as connection:
        with pytest.raises(PolicyCloseError) as caught:
            list(iter_json(connection, timeout=5))
    assert "too many" not in (caught.value.hint or "")


def test_abnormal_close_and_non_json_frames(ws_server) -> None:
    base = ws_server(lambda c: c.send("not json"))
    with client(base).connect_ws("/x") as connection:
        with pytest.raises(APIError, match="not JSON"):
            list(iter_json(connection, timeout=5))
    base = ws_server(lambda c: c.close(1011, "internal error"))
    with client(base).connect_ws("/x") as connection:
        with pytest.raises(APIConnectionError, match="1011: internal error"):
            list(iter_json(connection, timeout=5))


def test_silence_times_out(ws_server) -> None:
    base = ws_server(lambda c: c.recv())
    with client(base).connect_ws("/x") as connection:
        with pytest.raises(APIConnectionError, match="sent nothing for 0.2 s"):
            list(iter_json(connection, timeout=0.2))


@pytest.mark.no_contract
def test_emulator_refuses_a_bad_key_on_the_handshake(emulator) -> None:
    with pytest.raises(AuthenticationError) as caught:
        with client(emulator.base_url, key="bad").connect_ws("/waves/v1/tts/live"):
            pass
    assert caught.value.message == "Bearer token is missing or invalid."
    emulator.state.faults.replace(["503*1"], 0)
    with pytest.raises(AuthenticationError):  # the 503 is retried, then the key is refused
        with client(emulator.base_url, key="bad").connect_ws("/waves/v1/stt/live"):
            pass
    assert [e.status for e in emulator.state.exchanges()] == [401, 503, 401]


@pytest.mark.no_contract
def test_emulator_handshake_faults_exhaust_retries(emulator) -> None:
    emulator.state.faults.replace(["502"], 0)
    with pytest.raises(ServerError) as caught:
        with client(emulator.base_url).connect_ws("/waves/v1/tts/live"):
            pass
    assert caught.value.status_code == 502
    assert len(emulator.state.exchanges()) == 3


def test_connection_refused(ws_server) -> None:
    with pytest.raises(APIConnectionError, match="cannot connect to ws://127.0.0.1:9/x"):
        with client("http://127.0.0.1:9").connect_ws("/x"):
            pass
