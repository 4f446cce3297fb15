"""The STT client: query parameters, streamed uploads, retries that resend the whole file,
stdin that is never replayed, results, and the request-rate limiter."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from smallest_cli.api import stt as stt_module
from smallest_cli.api.client import SmallestClient
from smallest_cli.api.ratelimit import RateLimiter
from smallest_cli.api.retry import RetryPolicy
from smallest_cli.api.stt import (
    Accepted,
    AudioFile,
    AudioStream,
    AudioURL,
    TranscriptionOptions,
)
from smallest_cli.choices import Route
from smallest_cli.errors import APIConnectionError, RateLimitError, ServerError, UsageError
from smallest_cli.transcript import Transcript
from tests.api.test_client import KEY, Recorder, make_client

PULSE = {
    "status": "success",
    "transcription": "Hello there.",
    "words": [
        {"word": "Hello", "start": 0.1, "end": 0.4},
        {"word": "there.", "start": 0.5, "end": 0.9},
    ],
    "utterances": [{"text": "Hello there.", "start": 0.1, "end": 0.9}],
    "metadata": {"duration": 1.0, "fileSize": 10},
}


class Uploads(httpx.BaseTransport):
    """A transport that reads each request body chunk by chunk, as a socket would."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.recorder = Recorder(*answers)
        self.requests = self.recorder.requests
        self.chunks: list[list[bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.chunks.append(list(request.stream))  # type: ignore[arg-type]
        return self.recorder(request)


def uploading_client(transport: Uploads, retries: int = 2) -> SmallestClient:
    policy = RetryPolicy(retries=retries, sleep=lambda _: None, jitter=lambda: 1.0)
    return SmallestClient(
        KEY, base_url="https://api.example.test", transport=transport, policy=policy
    )


@pytest.fixture
def audio_file(tmp_path: Path) -> AudioFile:
    path = tmp_path / "talk.wav"
    path.write_bytes(bytes(range(256)) * 5000)  # 1.28 MB: three chunks
    return AudioFile.open(path)


def test_file_upload_streams_in_chunks_with_a_content_length(audio_file: AudioFile) -> None:
    handler = Uploads(httpx.Response(200, json=PULSE, headers={"x-request-id": "req-1"}))
    seen: list[tuple[int, int | None]] = []
    result = uploading_client(handler).stt.transcribe(
        audio_file,
        TranscriptionOptions(language="hi", word_timestamps=True, diarize=True, redact_pii=True),
        source="talk.wav",
        on_progress=lambda sent, total: seen.append((sent, total)),
    )
    [request] = handler.requests
    assert request.url.path == "/waves/v1/stt/"
    assert dict(request.url.params) == {
        "model": "pulse",
        "language": "hi",
        "word_timestamps": "true",
        "diarize": "true",
        "redact_pii": "true",
    }
    assert request.headers["content-type"] == "application/octet-stream"
    assert request.headers["content-length"] == str(audio_file.size)
    assert "transfer-encoding" not in request.headers
    assert (
        len(handler.chunks[0]) == 3 and max(map(len, handler.chunks[0])) == stt_module.CHUNK_BYTES
    )
    assert b"".join(handler.chunks[0]) == audio_file.path.read_bytes()
    assert seen[-1] == (audio_file.size, audio_file.size) and len(seen) == 3
    assert isinstance(result, Transcript)
    assert (result.text, result.source, result.request_id) == ("Hello there.", "talk.wav", "req-1")


def test_a_retried_upload_sends_the_whole_file_again(audio_file: AudioFile) -> None:
    handler = Uploads(
        httpx.Response(429, json={"error": "Rate limit exceeded."}, headers={"retry-after": "0"}),
        httpx.Response(200, json=PULSE),
    )
    attempts: list[int] = []
    uploading_client(handler).stt.transcribe(
        audio_file, TranscriptionOptions(), before_attempt=lambda: attempts.append(1)
    )
    assert [b"".join(c) for c in handler.chunks] == [audio_file.path.read_bytes()] * 2
    assert len(attempts) == 2  # the rate limiter sees retries too


def test_stdin_is_sent_chunked_and_never_replayed() -> None:
    handler = Uploads(httpx.Response(503, json={"error": "busy"}), httpx.Response(200, json=PULSE))
    stream = AudioStream(io.BytesIO(b"RIFF" + b"\0" * 2000))
    with pytest.raises(ServerError) as caught:
        uploading_client(handler).stt.transcribe(stream, TranscriptionOptions())
    assert caught.value.status_code == 503
    assert len(handler.requests) == 1  # what was read from stdin is gone: no retry
    assert handler.requests[0].headers["transfer-encoding"] == "chunked"
    assert "content-length" not in handler.requests[0].headers


def test_stdin_over_the_limit_stops_while_reading() -> None:
    handler = Uploads(httpx.Response(200, json=PULSE))
    stream = AudioStream(io.BytesIO(b"x" * 3000), limit=1000)
    with pytest.raises(UsageError, match="more than 1,000 bytes"):
        uploading_client(handler).stt.transcribe(stream, TranscriptionOptions())


def test_url_goes_as_json_and_legacy_has_no_model() -> None:
    handler = Recorder(httpx.Response(200, json=PULSE))
    client = make_client(handler)
    client.stt.transcribe(
        AudioURL("https://example.com/a.mp3"),
        TranscriptionOptions(emotions=True, gender=True, redact_pci=True, expire_content=True),
        route=Route.LEGACY,
    )
    [request] = handler.requests
    assert request.url.path == "/waves/v1/pulse/get_text"
    assert dict(request.url.params) == {
        "language": "en",
        "emotion_detection": "true",
        "gender_detection": "true",
    }
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"url": "https://example.com/a.mp3"}
    assert "x-expire-content" not in request.headers


def test_webhook_answer_is_accepted_with_the_request_id(audio_file: AudioFile) -> None:
    handler = Recorder(httpx.Response(200, json={"status": "processing", "request_id": "abc"}))
    options = TranscriptionOptions(
        model="pulse-pro",
        webhook_url="https://my.app/hook",
        webhook_extra=("ticket:1", "who:me"),
        expire_content=True,
    )
    result = make_client(handler).stt.transcribe(audio_file, options, source="talk.wav")
    assert result == Accepted(request_id="abc", source="talk.wav")
    request = handler.requests[0]
    assert request.url.params["webhook_url"] == "https://my.app/hook"
    assert request.url.params["webhook_extra"] == "ticket:1,who:me"
    assert request.headers["x-expire-content"] == "true"


def test_webhook_requests_are_not_retried_after_a_dropped_connection(audio_file: AudioFile) -> None:
    handler = Recorder(httpx.ReadError("reset"), httpx.Response(200, json={"status": "processing"}))
    options = TranscriptionOptions(model="pulse-pro", webhook_url="https://my.app/hook")
    with pytest.raises(APIConnectionError, match="failed"):
        make_client(handler).stt.transcribe(audio_file, options)
    assert len(handler.requests) == 1


def test_429s_beyond_max_wait_surface_as_rate_limit_errors(audio_file: AudioFile) -> None:
    handler = Recorder(
        httpx.Response(
            429,
            json={"error": "Rate limit exceeded.", "request_id": "r9"},
            headers={"Retry-After": "2"},
        )
    )
    stt_client = make_client(handler, retries=1)
    stt_client.policy.max_wait = 5  # waits 2 s twice, then gives up: the next would pass 5 s
    with pytest.raises(RateLimitError) as caught:
        stt_client.stt.transcribe(audio_file, TranscriptionOptions())
    assert caught.value.request_id == "r9"
    assert len(handler.requests) == 3


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "is empty"), (None, "no such file")],
)
def test_files_are_checked_without_reading_them(tmp_path: Path, content, fragment: str) -> None:
    path = tmp_path / "a.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=fragment):
        AudioFile.open(path)


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    with path.open("wb") as handle:
        handle.truncate(stt_module.STT_MAX_UPLOAD_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(UsageError) as caught:
        AudioFile.open(path)
    assert "262,144,001 bytes" in caught.value.message and "250 MB" in caught.value.message


def test_rate_limiter_keeps_to_n_per_sliding_window() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(3, window=60, clock=lambda: now[0], sleep=sleep, on_wait=waits.append)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(now[0])
        now[0] += 1
    assert starts == [0, 1, 2, 60, 61, 62, 120]
    assert waits == [57, 57]  # announced once per wait
    assert all(sum(1 for s in starts if t <= s < t + 60) <= 3 for t in starts)


def test_a_saturated_limiter_waits_a_whole_window() -> None:
    now = [10.0]
    limiter = RateLimiter(
        5, window=60, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    limiter.acquire()
    limiter.saturate()
    assert limiter.acquire() == 60 and now[0] == 70
