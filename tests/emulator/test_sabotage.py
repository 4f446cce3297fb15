"""Every fault as a client meets it on the wire, with raw httpx and websockets clients."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from smallest_cli.emulator.server import InProcessEmulator
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
BODY = {"text": "Modern problems require modern solutions.", "voice_id": "magnus"}
SSE = {**AUTH, "Accept": "text/event-stream"}
SETTINGS = {"voice_id": "magnus", "sample_rate": 24000, "complete_backoff_ms": 0}


@pytest.fixture
def emulator() -> Iterator[InProcessEmulator]:
    """An emulator of its own: its stop must end whatever a fault left hanging."""
    from smallest_cli.emulator.state import EmulatorState, Pacing

    with InProcessEmulator(EmulatorState(pacing=Pacing(0, 0, 0, 0))) as running:
        yield running


def fault(emulator: InProcessEmulator, *specs: str) -> None:
    httpx.put(f"{emulator.base_url}/_emulator/faults", json={"faults": list(specs)})


def stream(emulator: InProcessEmulator, timeout: float = 10) -> tuple[httpx.Response, bytes]:
    """POST the SSE route; the response and the bytes read before the stream ended."""
    received = b""
    with (
        httpx.Client(base_url=emulator.base_url, timeout=timeout) as client,
        client.stream("POST", "/waves/v1/tts/live", headers=SSE, json=BODY) as response,
    ):
        for chunk in response.iter_raw():
            received += chunk
    return response, received


def causes(error: BaseException | None) -> Iterator[BaseException]:
    """The error and what it was raised from, innermost last."""
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def test_reset_mid_body(emulator) -> None:
    fault(emulator, "reset*1@/waves/v1/tts")
    with pytest.raises(httpx.ReadError) as caught:
        stream(emulator)
    assert any(isinstance(e, ConnectionResetError) for e in causes(caught.value))  # a TCP RST
    assert stream(emulator)[0].status_code == 200  # used up


def test_drop_mid_body_is_a_clean_close(emulator) -> None:
    fault(emulator, "drop*1")
    with pytest.raises(httpx.RemoteProtocolError):
        stream(emulator)


def test_stall_sends_headers_then_nothing(emulator) -> None:
    fault(emulator, "stall")
    with (
        httpx.Client(base_url=emulator.base_url, timeout=0.5) as client,
        client.stream("POST", "/waves/v1/tts/live", headers=SSE, json=BODY) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        with pytest.raises(httpx.ReadTimeout):
            response.read()
    (exchange,) = emulator.state.exchanges()
    assert exchange.fault == "stall" and exchange.response_body == b""


def test_stall_body_sends_part_of_the_body_then_nothing(emulator) -> None:
    fault(emulator, "stall-body")
    received = b""
    with (
        httpx.Client(base_url=emulator.base_url, timeout=0.5) as client,
        client.stream("POST", "/waves/v1/tts/live", headers=SSE, json=BODY) as response,
    ):
        with pytest.raises(httpx.ReadTimeout):
            for chunk in response.iter_raw():
                received += chunk
    assert received.startswith(b"event: audio\ndata: ")


def test_a_stall_ends_when_the_emulator_stops() -> None:
    from smallest_cli.emulator.state import EmulatorState, Pacing

    running = InProcessEmulator(EmulatorState(pacing=Pacing(0, 0, 0, 0))).__enter__()
    fault(running, "stall")
    with (
        httpx.Client(base_url=running.base_url, timeout=30) as client,
        client.stream("POST", "/waves/v1/tts", headers=AUTH, json=BODY) as response,
    ):
        assert response.status_code == 200
        running.stop()
        with pytest.raises(httpx.HTTPError):
            response.read()


def test_truncated_sse_ends_cleanly_without_its_final_frame(emulator) -> None:
    complete = stream(emulator)[1]
    assert complete.endswith(b'data: {"status": "200", "done": true}\n\n')
    fault(emulator, "truncate-sse")
    response, truncated = stream(emulator)
    assert response.status_code == 200
    assert b'"done": true' not in truncated
    assert truncated.endswith(b"\n\n") and truncated.count(b"event: audio") >= 1
    assert complete.startswith(truncated)


def test_truncate_sse_leaves_other_answers_alone(emulator) -> None:
    url = f"{emulator.base_url}/waves/v1/tts"
    whole = httpx.post(url, headers=AUTH, json=BODY)
    fault(emulator, "truncate-sse")
    response = httpx.post(url, headers=AUTH, json=BODY)
    assert response.status_code == 200 and len(response.content) == len(whole.content) > 1000


@pytest.mark.parametrize("path", ["/waves/v1/tts", "/waves/v1/lightning-v3.1/get_voices"])
def test_malformed_json_is_a_200_that_does_not_parse(emulator, path: str) -> None:
    fault(emulator, "malformed-json")
    response = httpx.request(
        "POST" if path.endswith("tts") else "GET",
        f"{emulator.base_url}{path}",
        headers=AUTH,
        json=BODY if path.endswith("tts") else None,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_html_is_a_200_page_like_a_proxy(emulator) -> None:
    fault(emulator, "html")
    response = httpx.post(f"{emulator.base_url}/waves/v1/tts", headers=AUTH, json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


def socket_url(emulator: InProcessEmulator, path: str = "/waves/v1/tts/live") -> str:
    return emulator.base_url.replace("http://", "ws://") + path


def tts_session(emulator: InProcessEmulator) -> tuple[list[str], int | None]:
    """Ask for one synthesis; the frames received and the close code (None: no frame)."""
    frames: list[str] = []
    with connect(socket_url(emulator), additional_headers=AUTH) as connection:
        connection.send(json.dumps({**SETTINGS, "text": "Hello there, how are you today?"}))
        try:
            while True:
                frame = connection.recv(timeout=10)
                frames.append(frame if isinstance(frame, str) else frame.decode())
        except ConnectionClosed as closed:
            return frames, closed.rcvd.code if closed.rcvd else None


@pytest.mark.parametrize("code", [1008, 1011])
def test_ws_close_after_n_frames(emulator, code: int) -> None:
    fault(emulator, f"ws-close:{code}:3@/waves/v1/tts/live")
    frames, closed_with = tts_session(emulator)
    assert (len(frames), closed_with) == (3, code)
    assert all(json.loads(frame)["status"] == "chunk" for frame in frames)


def test_ws_close_1006_is_no_close_frame_at_all(emulator) -> None:
    fault(emulator, "ws-close:1006:1")
    frames, closed_with = tts_session(emulator)
    assert (len(frames), closed_with) == (1, None)


def test_ws_close_does_not_touch_http(emulator) -> None:
    fault(emulator, "ws-close:1011")
    assert httpx.post(f"{emulator.base_url}/waves/v1/tts", headers=AUTH, json=BODY).is_success


def test_retry_after_on_a_refused_handshake(emulator) -> None:
    fault(emulator, "429:7*1@/waves/v1/tts/live")
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(emulator), additional_headers=AUTH)
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["retry-after"] == "7"
    assert tts_session(emulator)[1] == 1000  # used up


def test_html_refuses_the_handshake_with_a_page(emulator) -> None:
    fault(emulator, "html")
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(emulator), additional_headers=AUTH)
    assert refused.value.response.status_code == 200
    assert refused.value.response.headers["content-type"].startswith("text/html")


def test_malformed_json_cuts_the_first_text_frame(emulator) -> None:
    fault(emulator, "malformed-json")
    frames, closed_with = tts_session(emulator)
    with pytest.raises(json.JSONDecodeError):
        json.loads(frames[0])
    assert json.loads(frames[-1])["status"] == "complete" and closed_with == 1000


@pytest.mark.parametrize("spec", ["stall", "reset"])
def test_socket_stall_and_reset_at_the_first_frame(emulator, spec: str) -> None:
    fault(emulator, spec)
    with connect(socket_url(emulator), additional_headers=AUTH) as connection:
        connection.send(json.dumps({**SETTINGS, "text": "Hello there."}))
        if spec == "stall":
            with pytest.raises(TimeoutError):
                connection.recv(timeout=0.5)
        else:
            with pytest.raises(ConnectionClosed) as closed:
                connection.recv(timeout=10)
            assert closed.value.rcvd is None  # no close frame: 1006
