"""`smallest emulator serve` as a real process: readiness line, any client, clean stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import TEST_KEY, run_process


@pytest.fixture
def serve() -> Iterator[callable]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smallest_cli", "emulator", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
        return proc, url

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_the_url_when_ready_and_stops_cleanly(serve, sig: int) -> None:
    proc, url = serve()
    response = httpx.get(
        f"{url}/waves/v1/lightning-v3.1/get_voices", headers={"Authorization": f"Bearer {TEST_KEY}"}
    )
    assert response.status_code == 200 and len(response.json()["voices"]) > 30
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert out == ""  # only the URL line, read above
    assert f"export SMALLEST_BASE_URL={url}" in err
    us_url = err.split("export SMALLEST_US_BASE_URL=", 1)[1].split()[0]
    assert us_url.startswith("http://127.0.0.1:") and us_url != url
    assert err.rstrip().endswith("Emulator stopped.")
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_closes_the_requests_in_flight_quietly(serve, sig: int) -> None:
    """A speech request still waiting for its audio and a live transcription session, when
    the emulator is stopped: the HTTP client sees the connection end (no made-up 500), the
    WebSocket gets a close frame, and the emulator prints no traceback."""
    import threading
    import time

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    proc, url = serve("--first-audio-ms", "60000")
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    answers: list[object] = []

    def speak() -> None:
        try:
            answers.append(
                httpx.post(
                    f"{url}/waves/v1/lightning-v3.1/get_speech",
                    json={"text": "Hello there.", "voice_id": "magnus"},
                    headers=auth,
                    timeout=30,
                ).status_code
            )
        except httpx.HTTPError as error:
            answers.append(error)

    speaker = threading.Thread(target=speak)
    speaker.start()
    live = (
        url.replace("http", "ws", 1)
        + "/waves/v1/stt/live?model=pulse&language=en&sample_rate=16000"
    )
    with connect(live, additional_headers=auth, open_timeout=10) as socket_:
        socket_.send(b"\0" * 3200)
        time.sleep(0.5)  # the speech request is waiting for its first audio
        proc.send_signal(sig)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket_.recv(timeout=10)
    speaker.join(10)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    assert len(answers) == 1 and isinstance(answers[0], httpx.RemoteProtocolError), answers
    assert "Traceback" not in err and "CancelledError" not in err
    assert err.rstrip().endswith("Emulator stopped.")


def test_serve_with_faults_and_the_cli_pointing_at_it(serve) -> None:
    proc, url = serve("--fault", "503:0*1")
    env = {"SMALLEST_BASE_URL": url, "SMALLEST_API_KEY": TEST_KEY}
    result = run_process("auth", "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "the API answered 503; retrying" in result.stderr
    log = httpx.get(f"{url}/_emulator/requests").json()
    assert [entry["status"] for entry in log] == [503, 200]


def test_following_the_serve_banner_gives_a_working_client(serve) -> None:
    proc, url = serve()
    assert proc.stderr is not None
    banner = [proc.stderr.readline()]
    while "Ctrl-C" not in banner[-1]:
        banner.append(proc.stderr.readline())
    [export] = [line.strip() for line in banner if "SMALLEST_API_KEY=" in line]
    assert export.startswith(f"export SMALLEST_BASE_URL={url} ")
    script = f"{export} && {sys.executable} -m smallest_cli voices list --json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLEST_API")}
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert '"voice_id"' in result.stdout


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("sk_x", 200),
        ("sk_live+key/with=odd~chars", 200),
        ("pk_0123456789", 401),
        ("sk-0123456789", 401),
    ],
)
def test_serve_accepts_any_key_starting_with_sk(serve, key: str, status: int) -> None:
    """The README's promise: any key starting with sk_ is accepted, as none can be checked."""
    _, url = serve()
    response = httpx.get(
        f"{url}/waves/v1/lightning-v3.1/get_voices", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == status


def test_serve_refuses_bad_faults_and_busy_ports() -> None:
    bad = run_process("emulator", "serve", "--fault", "teapot")
    assert bad.returncode == 2 and "bad fault 'teapot'" in bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = run_process("emulator", "serve", "--port", port)
    assert busy.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "--port" in busy.stderr


def test_emulator_env_switch_needs_no_key() -> None:
    result = run_process(
        "auth", "status", env={"SMALLEST_EMULATOR": "1", "HOME": os.environ.get("HOME", "/tmp")}
    )
    assert result.returncode == 0, result.stderr
    assert "key accepted" in result.stdout


def test_serve_paces_tts_as_asked(serve) -> None:
    proc, url = serve("--first-audio-ms", "250", "--rtf", "0")
    pacing = httpx.get(f"{url}/_emulator/pacing").json()
    assert pacing == {
        "first_audio_ms": 250.0,
        "rtf": 0.0,
        "stt_ms": 150.0,
        "stt_rtf": 1 / 30,
        "chat_first_token_ms": 200.0,
        "chat_token_ms": 15.0,
        "clone_ms": 3000.0,
    }
    response = httpx.post(
        f"{url}/waves/v1/tts",
        headers={"Authorization": f"Bearer {TEST_KEY}", "Accept": "audio/wav"},
        json={"text": "Hi.", "voice_id": "magnus", "sample_rate": 8000},
    )
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.25
    assert 250 <= float(response.headers["x-emulator-synthesis-ms"]) < 500
    bad = run_process("emulator", "serve", "--rtf", "-1")
    assert bad.returncode == 2 and "--rtf" in bad.stderr


def test_serve_listens_for_both_regions_with_stt_limits(serve) -> None:
    proc, url = serve("--stt-per-minute", "3", "--stt-sessions", "7", "--stt-ms", "0")
    regions = httpx.get(f"{url}/_emulator/health").json()["regions"]
    assert regions["ap-south-1"] == url and regions["us-west-2"] != url
    us = regions["us-west-2"]
    assert httpx.get(f"{us}/_emulator/health").json()["regions"] == regions
    limits = httpx.get(f"{us}/_emulator/limits").json()
    assert limits["stt_per_minute"] == 3 and limits["stt_sessions"] == 7
    assert httpx.get(f"{url}/_emulator/pacing").json()["stt_ms"] == 0
    voices = httpx.get(
        f"{us}/waves/v1/lightning-v3.1/get_voices", headers={"Authorization": f"Bearer {TEST_KEY}"}
    )
    assert voices.status_code == 200  # every route is served in both regions
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and f"export SMALLEST_US_BASE_URL={us}" in err


def test_requests_cancelled_by_a_stop_are_not_reported(caplog) -> None:
    """`smallest --emulator stt live x.wav | head -3` stops its emulator with a session in
    flight; uvicorn reported the cancelled session as a 45-line "Exception in ASGI
    application" on stderr (in about one run in four)."""
    import asyncio
    import logging

    import smallest_cli.emulator.server  # noqa: F401  (its log filter)

    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        try:
            raise asyncio.CancelledError()
        except asyncio.CancelledError as cancelled:
            logging.getLogger("uvicorn.error").error(
                "Exception in ASGI application\n", exc_info=cancelled
            )
    assert caplog.records == []


def test_serve_chats_with_the_openai_package_under_its_flags(serve) -> None:
    from openai import OpenAI, RateLimitError

    proc, url = serve(
        "--chat-per-minute", "2", "--chat-concurrency", "1", "--chat-first-token-ms", "5",
        "--chat-token-ms", "1",
    )  # fmt: skip
    limits = httpx.get(f"{url}/_emulator/limits").json()
    assert (limits["chat_per_minute"], limits["chat_concurrency"]) == (2, 1)
    pacing = httpx.get(f"{url}/_emulator/pacing").json()
    assert (pacing["chat_first_token_ms"], pacing["chat_token_ms"]) == (5, 1)
    client = OpenAI(base_url=f"{url}/waves/v1", api_key=TEST_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="electron",
        messages=[{"role": "user", "content": "Repeat after me: ready when you are"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices]
    assert "".join(p or "" for p in pieces) == "ready when you are" and len(pieces) == 4
    client.chat.completions.create(model="electron", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(RateLimitError):
        client.chat.completions.create(
            model="electron", messages=[{"role": "user", "content": "hi"}]
        )
