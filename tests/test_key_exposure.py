"""The key stays off the screen and off the network's plain text (issue 9, points 18–19)."""

from __future__ import annotations

import http.server
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smallest_cli.emulator.server import InProcessEmulator
from tests.conftest import TEST_KEY, run

PLAIN_KEY = "plainkey0123456789abcdef"  # a key without the sk_ prefix


@pytest.fixture
def echoing_server() -> Iterator[str]:
    """Answers every request 400 with a message that repeats the key it was sent."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._echo()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._echo()

        def _echo(self) -> None:
            sent = self.headers.get("Authorization", "")
            body = json.dumps({"message": f"invalid request for {sent}"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_echoed_key_is_masked_in_every_debug_line(
    echoing_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", PLAIN_KEY)
    result = run(
        "--debug", "--base-url", echoing_server, "tts", "say", "hello", "-o", str(tmp_path / "a.wav")
    )  # fmt: skip
    assert result.exit_code == 1
    assert "voice pairing not checked" in result.stderr  # the line that echoed the key
    assert PLAIN_KEY not in result.stderr
    assert PLAIN_KEY[-4:] in result.stderr  # masked, still tellable apart


def test_the_key_is_masked_in_the_debug_traceback_of_an_unprefixed_key(
    echoing_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", PLAIN_KEY)
    result = run("--debug", "--base-url", echoing_server, "voices", "list")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert PLAIN_KEY not in result.stderr


def test_plain_http_to_another_host_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "sk_test_0123456789abcdef")
    result = run("--retries", "0", "--base-url", "http://api.example.invalid", "tts", "say", "hi")
    assert result.exit_code == 1
    warnings = [line for line in result.stderr.splitlines() if "plain http://" in line]
    assert warnings == [
        "Warning: api.example.invalid is plain http://: the API key is sent unencrypted "
        "(use https:// unless this is a trusted network)"
    ]


@pytest.mark.parametrize(
    "url", ["https://api.example.invalid", "http://127.0.0.1:9", "http://localhost:9"]
)
def test_https_and_loopback_do_not_warn(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "sk_test_0123456789abcdef")
    result = run("--retries", "0", "--base-url", url, "voices", "list")
    assert result.exit_code == 1
    assert "plain http" not in result.stderr


def test_the_config_directory_is_created_owner_only(tmp_path: Path) -> None:
    directory = Path(os.environ["SMALLEST_CONFIG_DIR"])
    assert not directory.exists()
    result = run("config", "set", "voice", "meher")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_the_credentials_file_directory_is_created_owner_only(
    emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_BASE_URL", emulator.base_url)
    directory = Path(os.environ["SMALLEST_CONFIG_DIR"])
    result = run("auth", "login", "--with-key", "--insecure-storage", input=TEST_KEY)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
