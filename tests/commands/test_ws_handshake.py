"""A WebSocket handshake answered with something other than a WebSocket: a redirect is not
followed (it could take the key to another host) and says where it pointed; a page says
what came back. Both are exit 1 with one Error line, for `stt live` and `tts say --live`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import TEST_KEY, Result, run

pytestmark = pytest.mark.no_contract

Answer = tuple[int, dict[str, str]]


class Recorder:
    """A local HTTP server answering every GET with one fixed status and headers, and
    remembering the paths and Authorization headers it saw."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[tuple[str, str | None]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                recorder.seen.append((self.path, self.headers.get("Authorization")))
                status, headers = recorder.answer
                body = b"<html><body>Sign in to the network</body></html>"
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Answer], Recorder]]:
    started: list[Recorder] = []

    def start(answer: Answer) -> Recorder:
        started.append(Recorder(answer))
        return started[-1]

    monkeypatch.setenv("SMALLEST_API_KEY", TEST_KEY)
    yield start
    for recorder in started:
        recorder.server.shutdown()
        recorder.server.server_close()


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    path = tmp_path / "speech.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000), 16000)
    return path


def commands(speech: Path, base_url: str) -> dict[str, tuple[str, ...]]:
    common = ("--retries", "0", "--base-url", base_url)
    out = speech.with_name("out.wav")
    return {
        "stt live": (*common, "stt", "live", str(speech)),
        "tts say --live": (*common, "tts", "say", "--live", "-o", str(out)),
        "tts say --transport ws": (
            *common,
            "tts",
            "say",
            "hello",
            "--transport",
            "ws",
            "-o",
            str(out),
        ),
    }


COMMANDS = ["stt live", "tts say --live", "tts say --transport ws"]


def one_error(result: Result) -> str:
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert not Path("out.wav").exists()
    return errors[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("scheme", ["ws", "http"])
def test_a_redirected_handshake_is_not_followed(
    serve, speech: Path, command: str, scheme: str
) -> None:
    elsewhere = serve((200, {}))
    target = f"{scheme}://127.0.0.1:{elsewhere.server.server_address[1]}/elsewhere"
    proxy = serve((302, {"Location": target}))
    error = one_error(run(*commands(speech, proxy.url)[command], input="hello"))
    assert "redirect" in error and target in error
    assert "/live" in proxy.seen[-1][0]  # the handshake reached the first server only
    assert elsewhere.seen == []  # the key went nowhere else


@pytest.mark.parametrize("command", COMMANDS)
def test_an_html_page_answering_the_handshake_says_so(serve, speech: Path, command: str) -> None:
    portal = serve((200, {"Content-Type": "text/html; charset=utf-8"}))
    error = one_error(run(*commands(speech, portal.url)[command], input="hello"))
    assert "HTML page" in error and "WebSocket" in error


@pytest.mark.parametrize("transport", [["--transport", "ws"], ["--live"]], ids=["ws", "live"])
def test_nothing_reaches_stdout_before_the_handshake(serve, transport: list[str]) -> None:
    """`-o -` writes no WAV header until audio comes: a failed handshake leaves stdout empty
    (a reader would otherwise take the lone header for an empty recording)."""
    portal = serve((200, {"Content-Type": "text/html; charset=utf-8"}))
    text = [] if "--live" in transport else ["hello"]
    result = run(
        "--retries", "0", "--base-url", portal.url,
        "tts", "say", *text, *transport, "-o", "-", "--format", "wav",
        input="hello",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert "HTML page" in result.stderr
    assert result.stdout_bytes == b""
