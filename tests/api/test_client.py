"""The client's request shape, retries and failure mapping, against httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from smallest_cli import __version__
from smallest_cli.api.client import SmallestClient
from smallest_cli.api.retry import RetryPolicy
from smallest_cli.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    RateLimitError,
    ServerError,
)

KEY = "sk_test_0123456789abcdef"
VOICES = {
    "voices": [{"voiceId": "avery", "displayName": "Avery", "tags": {"language": ["english"]}}]
}


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request."""

    def __init__(
        self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def make_client(
    handler: Recorder, retries: int = 2, sleeps: list[float] | None = None, **kw
) -> SmallestClient:
    sleeps = sleeps if sleeps is not None else []
    policy = RetryPolicy(retries=retries, sleep=sleeps.append, jitter=lambda: 1.0)
    return SmallestClient(
        KEY,
        base_url="https://api.example.test",
        transport=httpx.MockTransport(handler),
        policy=policy,
        **kw,
    )


def test_request_carries_auth_user_agent_and_path() -> None:
    handler = Recorder(httpx.Response(200, json=VOICES))
    voices = make_client(handler).voices.list()
    request = handler.requests[0]
    assert request.url == "https://api.example.test/waves/v1/lightning-v3.1/get_voices"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"] == f"smallest-cli/{__version__}"
    assert [v.voice_id for v in voices] == ["avery"]
    assert voices[0].languages == ("english",)


def test_429_is_retried_honouring_retry_after() -> None:
    handler = Recorder(
        httpx.Response(
            429,
            headers={"Retry-After": "1.5"},
            json={"error": "TooManyRequests", "message": "busy"},
        ),
        httpx.Response(200, json=VOICES),
    )
    sleeps: list[float] = []
    notes: list[tuple[float, int, int]] = []
    client = make_client(
        handler, sleeps=sleeps, on_retry=lambda e, d, n, m: notes.append((d, n, m))
    )
    assert client.voices.list()
    assert len(handler.requests) == 2
    assert sleeps == [1.5]
    assert notes == [(1.5, 1, 2)]


def test_backoff_doubles_without_retry_after_and_gives_up() -> None:
    handler = Recorder(httpx.Response(503, json={"error": "ServiceUnavailable", "message": "down"}))
    sleeps: list[float] = []
    with pytest.raises(ServerError) as caught:
        make_client(handler, retries=3, sleeps=sleeps).voices.list()
    assert len(handler.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]  # jitter fixed at its maximum
    assert caught.value.status_code == 503
    assert caught.value.message == "down"


def test_jitter_spreads_the_wait() -> None:
    policy = RetryPolicy(retries=5, jitter=lambda: 0.0)
    error = RateLimitError("x", status_code=429, retryable=True)
    assert [policy.delay(n, error) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 4.0, None]
    assert RetryPolicy(retries=9, jitter=lambda: 1.0).delay(8, error) == 8.0  # capped


def test_retry_after_beyond_a_minute_is_not_waited_for() -> None:
    handler = Recorder(
        httpx.Response(
            429, headers={"Retry-After": "600"}, json={"error": "x", "message": "slow down"}
        )
    )
    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as caught:
        make_client(handler, sleeps=sleeps).voices.list()
    assert sleeps == []
    assert len(handler.requests) == 1
    assert "600 s" in (caught.value.hint or "")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_other_statuses_are_not_retried(status: int) -> None:
    handler = Recorder(httpx.Response(status, json={"error": "E", "message": "no"}))
    with pytest.raises(APIStatusError) as caught:
        make_client(handler).voices.list()
    assert caught.value.status_code == status
    assert len(handler.requests) == 1


def test_401_becomes_authentication_error_with_request_id() -> None:
    handler = Recorder(
        httpx.Response(
            401,
            headers={"X-Request-Id": "req-77"},
            json={"error": "Unauthorized", "message": "Bearer token is missing or invalid."},
        )
    )
    with pytest.raises(AuthenticationError) as caught:
        make_client(handler).voices.list()
    assert caught.value.request_id == "req-77"
    assert str(caught.value) == "Bearer token is missing or invalid. (HTTP 401)"


def test_connection_refused_is_retried_then_reported() -> None:
    handler = Recorder(httpx.ConnectError("[Errno 111] Connection refused"))
    sleeps: list[float] = []
    with pytest.raises(APIConnectionError) as caught:
        make_client(handler, sleeps=sleeps).voices.list()
    assert len(handler.requests) == 3
    assert "cannot connect to https://api.example.test" in caught.value.message
    assert "--base-url" in (caught.value.hint or "")


def test_dropped_connection_retried_only_when_idempotent() -> None:
    drop = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    handler = Recorder(drop, httpx.Response(200, json={}))
    assert make_client(handler).request("GET", "/x").status_code == 200
    assert len(handler.requests) == 2

    handler = Recorder(drop, httpx.Response(200, json={}))
    with pytest.raises(APIConnectionError):
        make_client(handler).request("POST", "/x", json={}, idempotent=False)
    assert len(handler.requests) == 1


def test_timeouts() -> None:
    handler = Recorder(httpx.ReadTimeout("timed out"))
    with pytest.raises(APITimeoutError) as caught:
        make_client(handler, retries=0, timeout=7).request("GET", "/x")
    assert "within 7 s" in caught.value.message


def test_request_body_is_resent_on_retry() -> None:
    handler = Recorder(
        httpx.Response(502, text="Bad gateway"), httpx.Response(200, json={"ok": True})
    )
    client = make_client(handler)
    assert client.request_json("POST", "/waves/v1/tts", json={"text": "hi"}) == {"ok": True}
    assert [r.content for r in handler.requests] == [b'{"text":"hi"}'] * 2


def test_non_json_success_body_is_an_api_error() -> None:
    handler = Recorder(httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(APIError, match="answered 200 with a body that is not JSON"):
        make_client(handler).voices.list()


def test_stream_yields_before_the_body_and_maps_a_mid_body_drop() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        def body():
            yield b"event: audio\n"
            raise httpx.ReadError("connection reset")

        return httpx.Response(200, content=body())

    client = make_client(Recorder(answer))
    with pytest.raises(APIConnectionError, match="lost mid-response"):
        with client.stream("POST", "/waves/v1/tts/live", json={}) as response:
            for _ in response.iter_lines():
                pass


def test_stream_error_status_reads_the_body() -> None:
    handler = Recorder(
        httpx.Response(
            400,
            json={
                "error": [{"path": ["voice_id"], "message": "Invalid Voice ID", "code": "custom"}]
            },
        )
    )
    with pytest.raises(BadRequestError, match="voice_id: Invalid Voice ID"):
        with make_client(handler).stream("POST", "/waves/v1/tts/live", json={}):
            pass


def test_debug_log_never_shows_the_key() -> None:
    lines: list[str] = []
    handler = Recorder(httpx.Response(200, headers={"x-request-id": "r1"}, json=VOICES))
    make_client(handler, log=lines.append).voices.list()
    assert lines[0] == "→ GET https://api.example.test/waves/v1/lightning-v3.1/get_voices"
    assert lines[1].startswith("← 200 OK after ") and lines[1].endswith("(request id r1)")
    assert KEY not in "".join(lines)
    assert KEY not in repr(make_client(handler))


@pytest.mark.parametrize(
    ("base", "path", "params", "url"),
    [
        (
            "https://api.smallest.ai",
            "/waves/v1/tts/live",
            {"timeout": 120},
            "wss://api.smallest.ai/waves/v1/tts/live?timeout=120",
        ),
        (
            "http://127.0.0.1:8089/",
            "/waves/v1/stt/live",
            {"model": "pulse", "interim": True, "x": None},
            "ws://127.0.0.1:8089/waves/v1/stt/live?model=pulse&interim=true",
        ),
        (
            "https://proxy.example/smallest",
            "/waves/v1/tts/live",
            None,
            "wss://proxy.example/smallest/waves/v1/tts/live",
        ),
    ],
)
def test_websocket_urls_derive_from_the_base_url(base, path, params, url) -> None:
    assert SmallestClient(KEY, base_url=base).ws_url(path, params) == url
