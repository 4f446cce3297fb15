"""Pronunciation dictionaries applied by the emulator's TTS, at the API level over loopback:
a dictionary created on the API changes what the synthetic voice says on every transport
(sync, SSE, WebSocket, and the deprecated model-named routes), so the emulator's STT hears
the pronunciation; an unknown id is refused on each of them."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from smallest_cli.emulator.speech import Synthesis, listen
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
TEXT = "Deploy it with nginx"
RATE = 16000
BODY = {"text": TEXT, "voice_id": "meher", "sample_rate": RATE, "output_format": "wav"}
HTTP_ROUTES = {
    "/waves/v1/tts": "audio/wav",
    "/waves/v1/tts/live": "text/event-stream",
    "/waves/v1/lightning-v3.1/get_speech": "audio/wav",
    "/waves/v1/lightning-v3.1/stream": "text/event-stream",
}
WS_ROUTES = ("/waves/v1/tts/live", "/waves/v1/lightning-v3.1/get_speech/stream")
UNKNOWN_DICT = {"code": "custom", "path": ["pronunciation_dicts"], "message": "Invalid input data"}


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


def create(http: httpx.Client, items: dict[str, str]) -> str:
    listed = [{"word": w, "pronunciation": p} for w, p in items.items()]
    response = http.post("/waves/v1/pronunciation-dicts", headers=AUTH, json={"items": listed})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def pcm_of_sse(text: str) -> bytes:
    chunks = []
    for frame in text.strip().split("\n\n"):
        data = json.loads(frame.split("data: ", 1)[1])
        if "audio" in data:
            chunks.append(base64.b64decode(data["audio"]))
    return b"".join(chunks)


def over_http(http: httpx.Client, route: str, body: dict[str, Any]) -> httpx.Response:
    accept = HTTP_ROUTES[route]
    wanted = body if accept == "audio/wav" else {**body, "output_format": "pcm"}
    return http.post(route, headers={**AUTH, "Accept": accept}, json=wanted)


def wav_of(http: httpx.Client, route: str, body: dict[str, Any]) -> bytes:
    """The route's answer as a WAV file (SSE chunks joined and wrapped)."""
    response = over_http(http, route, body)
    assert response.status_code == 200, response.text
    if HTTP_ROUTES[route] == "audio/wav":
        return response.content
    return wrap_pcm(pcm_of_sse(response.text))


def wrap_pcm(pcm: bytes) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.frombuffer(pcm, dtype="<i2"), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def over_websocket(emulator, route: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every frame the socket answers one message with, until the server closes."""
    url = emulator.base_url.replace("http://", "ws://") + route
    frames = []
    with connect(url, additional_headers=AUTH) as connection:
        connection.send(json.dumps({**body, "complete_backoff_ms": 0}))
        try:
            while True:
                frames.append(json.loads(connection.recv(timeout=10)))
        except ConnectionClosedOK:
            return frames


def transcribe(http: httpx.Client, wav: bytes) -> str:
    response = http.post(
        "/waves/v1/stt/?model=pulse&language=en",
        content=wav,
        headers={**AUTH, "Content-Type": "audio/wav"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["transcription"])


@pytest.mark.parametrize("route", HTTP_ROUTES)
def test_a_dictionary_changes_what_is_heard_over_http(http, route: str) -> None:
    nginx = create(http, {"nginx": "engine x"})
    with_it = transcribe(http, wav_of(http, route, {**BODY, "pronunciation_dicts": [nginx]}))
    without = transcribe(http, wav_of(http, route, BODY))
    assert with_it.rstrip(".") == "Deploy it with engine x"
    assert without.rstrip(".") == "Deploy it with nginx"


@pytest.mark.parametrize("route", WS_ROUTES)
def test_a_dictionary_changes_what_is_heard_over_the_websocket(http, emulator, route) -> None:
    nginx = create(http, {"nginx": "engine x"})
    body = {k: v for k, v in BODY.items() if k != "output_format"}

    def heard(frames: list[dict[str, Any]]) -> str:
        assert frames[-1]["status"] == "complete", frames
        chunks = [f["data"]["audio"] for f in frames if f["status"] == "chunk"]
        return transcribe(http, wrap_pcm(b"".join(base64.b64decode(c) for c in chunks)))

    with_it = over_websocket(emulator, route, {**body, "pronunciation_dicts": [nginx]})
    assert heard(with_it).rstrip(".") == "Deploy it with engine x"
    assert heard(over_websocket(emulator, route, body)).rstrip(".") == "Deploy it with nginx"


def test_websocket_word_timestamps_name_the_word_as_written(http, emulator) -> None:
    nginx = create(http, {"nginx": "engine x"})
    body = {"text": "Use nginx today.", "voice_id": "meher", "sample_rate": RATE}
    frames = over_websocket(
        emulator, WS_ROUTES[0], {**body, "word_timestamps": True, "pronunciation_dicts": [nginx]}
    )
    words = [f["data"] for f in frames if f["status"] == "word_timestamp"]
    assert [w["word"] for w in words] == ["Use", "nginx", "today."]
    plain = Synthesis("Use nginx today.", sample_rate=RATE).timings()
    # "engine x" is two spoken words with a pause between: longer than "nginx" alone
    assert words[1]["end"] - words[1]["start"] > plain[1].end - plain[1].start
    assert words[1]["end"] < words[2]["start"]


@pytest.mark.parametrize("route", HTTP_ROUTES)
def test_an_unknown_dictionary_is_400_over_http(http, route: str) -> None:
    nginx = create(http, {"nginx": "engine x"})
    http.request("DELETE", "/waves/v1/pronunciation-dicts", headers=AUTH, json={"id": nginx})
    for ids in (["64f1234567890abcdef12345"], [nginx]):  # never created; deleted
        response = over_http(http, route, {**BODY, "pronunciation_dicts": ids})
        assert (response.status_code, response.json()) == (400, {"error": [UNKNOWN_DICT]})


@pytest.mark.parametrize("route", WS_ROUTES)
def test_an_unknown_dictionary_is_refused_on_the_websocket(emulator, route: str) -> None:
    body = {"text": TEXT, "voice_id": "meher", "pronunciation_dicts": ["nope"]}
    (frame,) = over_websocket(emulator, route, body)
    assert frame["status"] == "error"
    assert frame["error"] == {"message": "pronunciation_dicts: Invalid input data", "code": "400"}


def test_matching_is_case_sensitive_and_whole_words(http) -> None:
    nginx = create(http, {"nginx": "engine x"})
    text = "nginx, Nginx NGINX nginx's nginx."
    heard = transcribe(
        http, wav_of(http, "/waves/v1/tts", {**BODY, "text": text, "pronunciation_dicts": [nginx]})
    )
    assert heard.lower().replace(",", "").rstrip(".") == "engine x nginx nginx nginx's engine x"


def test_several_dictionaries_and_the_first_listed_wins_a_clash(http) -> None:
    first = create(http, {"nginx": "engine x"})
    second = create(http, {"nginx": "en jinx", "SQL": "sequel"})
    text = "nginx and SQL"

    def heard(ids: list[str]) -> str:
        body = {**BODY, "text": text, "pronunciation_dicts": ids}
        return transcribe(http, wav_of(http, "/waves/v1/tts", body)).rstrip(".").lower()

    assert heard([first, second]) == "engine x and sequel"
    assert heard([second, first]) == "en jinx and sequel"


def test_an_updated_dictionary_is_used_at_once(http) -> None:
    nginx = create(http, {"nginx": "engine x"})
    items = [{"word": "nginx", "pronunciation": "engine ex"}]
    put = http.put(
        "/waves/v1/pronunciation-dicts", headers=AUTH, json={"id": nginx, "items": items}
    )
    assert put.status_code == 200
    body = {**BODY, "pronunciation_dicts": [nginx]}
    assert transcribe(http, wav_of(http, "/waves/v1/tts", body)).rstrip(".").endswith("engine ex")


def test_the_synthesis_says_the_pronunciation_and_times_the_written_word() -> None:
    plain = Synthesis(TEXT, sample_rate=RATE)
    spoken = Synthesis(TEXT, sample_rate=RATE, pronunciations={"nginx": "engine x"})
    heard = [h.text for h in listen(np.frombuffer(spoken.pcm(), dtype=np.int16), RATE)]
    assert heard == ["deploy", "it", "with", "engine", "x"]
    assert [t.word.written for t in spoken.timings()] == ["Deploy", "it", "with", "nginx"]
    assert spoken.timings()[-1].end < spoken.duration
    assert spoken.timings()[:3] == plain.timings()[:3]
