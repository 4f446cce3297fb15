"""The emulator's HTTP text to speech over real loopback: sync, SSE, validation, limits."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.speech import listen, spoken_form
from smallest_cli.emulator.state import Pacing
from tests.conftest import TEST_KEY
from tests.shared import shared_path

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SYNC = {**AUTH, "Accept": "audio/wav"}
LIVE = {**AUTH, "Accept": "text/event-stream"}
TEXT = "Modern problems require modern solutions."
BODY = {"text": TEXT, "voice_id": "magnus", "sample_rate": 24000}


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=20) as client:
        yield client


def say(http: httpx.Client, **changes: Any) -> httpx.Response:
    return http.post("/waves/v1/tts", headers=SYNC, json={**BODY, **changes})


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2")


def heard(audio: np.ndarray, rate: int) -> str:
    return " ".join(h.text or "?" for h in listen(audio, rate))


def decode(audio: bytes, output_format: str, rate: int) -> tuple[np.ndarray, int]:
    if output_format == "pcm":
        return samples(audio), rate
    if output_format in ("ulaw", "alaw"):
        subtype = output_format.upper()
        data, read_rate = sf.read(
            io.BytesIO(audio),
            dtype="int16",
            format="RAW",
            subtype=subtype,
            samplerate=rate,
            channels=1,
        )
        return data, read_rate
    data, read_rate = sf.read(io.BytesIO(audio), dtype="int16")
    return data, read_rate


def sse_frames(text: str) -> list[str]:
    assert text.endswith("\n\n")
    return text[:-2].split("\n\n")


def sse_audio(frames: list[str]) -> list[bytes]:
    chunks = []
    for frame in frames[:-1]:
        event, data = frame.split("\n")
        assert event == "event: audio"
        payload = json.loads(data.removeprefix("data: "))
        assert list(payload) == ["audio", "done", "status"]
        assert payload["done"] is False and payload["status"] == "206"
        chunks.append(base64.b64decode(payload["audio"]))
    return chunks


# -- sync ------------------------------------------------------------------------------------


def test_default_output_is_headerless_pcm_labelled_wav(http) -> None:
    response = say(http)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"  # observed, whatever the format
    assert response.content[:4] != b"RIFF" and len(response.content) % 2 == 0
    audio = samples(response.content)
    assert 2.0 < len(audio) / 24000 < 4.0
    assert heard(audio, 24000) == spoken_form(TEXT)
    assert float(response.headers["x-emulator-synthesis-ms"]) >= 0
    for name in ("x-session-id", "x-request-id"):
        assert uuid.UUID(response.headers[name])
    assert response.headers["x-external-session-id"] == ""
    assert response.headers["x-external-request-id"] == ""
    assert "x-content-expiry" not in response.headers


@pytest.mark.parametrize("output_format", ["pcm", "wav", "mp3", "ulaw", "alaw"])
def test_every_format_carries_the_words(http, output_format: str) -> None:
    response = say(http, output_format=output_format, sample_rate=16000)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    body = response.content
    assert (body[:4] == b"RIFF") is (output_format == "wav")
    if output_format == "mp3":
        assert body[0] == 0xFF and body[1] & 0xE0 == 0xE0  # an MPEG frame sync, no ID3 tag
    if output_format in ("ulaw", "alaw"):  # one byte a sample, as many samples as in pcm
        assert len(body) == len(say(http, sample_rate=16000).content) // 2
    audio, rate = decode(body, output_format, 16000)
    assert rate == 16000 and audio.ndim == 1
    assert heard(audio, rate) == spoken_form(TEXT)


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 44100])
def test_wav_at_every_sample_rate(http, rate: int) -> None:
    info = sf.info(io.BytesIO(say(http, sample_rate=rate, output_format="wav").content))
    assert (info.samplerate, info.channels, info.subtype) == (rate, 1, "PCM_16")
    assert info.duration == pytest.approx(3.0, abs=0.5)


def test_default_sample_rate_is_44100(http) -> None:
    body = {"text": "Hi there.", "voice_id": "magnus", "output_format": "wav"}
    response = http.post("/waves/v1/tts", headers=SYNC, json=body)
    assert sf.info(io.BytesIO(response.content)).samplerate == 44100


def test_duration_follows_text_and_speed(http) -> None:
    def seconds(**changes: Any) -> float:
        return len(say(http, **changes).content) / 2 / 24000

    short, normal = seconds(text="Modern problems."), seconds()
    assert short < normal < seconds(text=f"{TEXT} {TEXT}")
    assert seconds(speed=2.0) < seconds(speed=1.5) < normal < seconds(speed=0.5)
    assert heard(samples(say(http, speed=2.0).content), 24000) == spoken_form(TEXT)


def test_same_request_same_bytes_and_voices_differ(http) -> None:
    first, again = say(http).content, say(http).content
    assert first == again
    assert say(http, voice_id="avery").content != first
    audio = samples(first).astype(np.float64) / 32768
    assert np.sqrt(np.mean(audio**2)) > 0.05  # speech, not silence
    assert len(listen(samples(first), 24000)) == len(TEXT.split())


def test_ids_are_echoed_and_content_expiry_applied(http) -> None:
    response = http.post(
        "/waves/v1/tts",
        headers={**SYNC, "x-expire-content": "true"},
        json={**BODY, "session_id": "my-session.1", "request_id": "req_42"},
    )
    assert response.headers["x-external-session-id"] == "my-session.1"
    assert response.headers["x-external-request-id"] == "req_42"
    assert response.headers["x-content-expiry"] == "applied"
    assert say(http).headers["x-session-id"] != response.headers["x-session-id"]


def test_a_voice_outside_its_pool_is_scrambled(http) -> None:
    text = "Konnichiwa, my good friend."
    standard = say(http, voice_id="jasper", text=text)  # jasper is a Pro voice
    assert standard.status_code == 200 and len(standard.content) > 24000
    assert {h.text for h in listen(samples(standard.content), 24000)} == {None}
    pro = say(http, voice_id="jasper", text=text, model="lightning_v3.1_pro")
    assert heard(samples(pro.content), 24000) == spoken_form(text)
    both = say(http, voice_id="meher", text=text)  # meher serves in both pools
    assert heard(samples(both.content), 24000) == spoken_form(text)


def test_sync_pacing_and_the_recorded_synthesis_time(http, emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=100, rtf=0.25)
    started = time.monotonic()
    response = say(http, text="Modern problems.")
    elapsed = time.monotonic() - started
    duration = len(response.content) / 2 / 24000
    expected = 0.1 + 0.25 * duration
    assert elapsed >= expected
    reported = float(response.headers["x-emulator-synthesis-ms"]) / 1000
    assert expected <= reported < expected + 0.25
    (exchange,) = emulator.state.exchanges()
    assert exchange.synthesis_ms == pytest.approx(reported * 1000, abs=0.1)
    assert exchange.to_json()["synthesis_ms"] == exchange.synthesis_ms


# -- validation --------------------------------------------------------------------------------


def observed_error(label: str) -> str:
    observed = shared_path("api", "observed", "baseline-lightning-tts.json")
    results = json.loads(observed.read_text())["results"]
    return str(next(r for r in results if r["label"] == label)["error_body"])


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"output_format": "mulaw", "sample_rate": 8000}, "sync-output-format-mulaw"),
        ({"voice_id": "this-voice-does-not-exist-2026"}, "sync-invalid-voice-id"),
    ],
)
@pytest.mark.parametrize("path", ["/waves/v1/tts", "/waves/v1/tts/live"])
def test_observed_400_bodies_byte_for_byte(http, path: str, changes, label: str) -> None:
    response = http.post(path, headers=SYNC, json={**BODY, **changes})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.text == observed_error(label)


LANGUAGE_OPTIONS = (
    "auto en hi mr kn ta bn gu te ml pa or es de fr it nl sv pt ru el fi no pl ar zh id ja ko "
    "ms tr vi he"
).split()


def enum_issue(field: str, received: Any, options: list[Any]) -> dict[str, Any]:
    joined = " | ".join(f"'{o}'" if isinstance(o, str) else str(o) for o in options)
    return {
        "received": received,
        "code": "invalid_enum_value",
        "options": options,
        "path": [field],
        "message": f"Invalid enum value. Expected {joined}, received '{received}'",
    }


def type_issue(path: list[Any], expected: str, received: str) -> dict[str, Any]:
    message = "Required" if received == "undefined" else f"Expected {expected}, received {received}"
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": path,
        "message": message,
    }


def size_issue(field: str, code: str, bound: Any, kind: str, message: str) -> dict[str, Any]:
    key = "minimum" if code == "too_small" else "maximum"
    return {
        "code": code,
        key: bound,
        "type": kind,
        "inclusive": True,
        "exact": False,
        "message": message,
        "path": [field],
    }


REGEX = {"validation": "regex", "code": "invalid_string", "message": "Invalid"}
BAD_VOICE = {"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("body", "issues"),
    [
        ({"sample_rate": 12345}, [enum_issue("sample_rate", 12345, [8000, 16000, 24000, 44100])]),
        (
            {"sample_rate": "24000"},
            [enum_issue("sample_rate", "24000", [8000, 16000, 24000, 44100])],
        ),
        (
            {"model": "lightning_v2"},
            [enum_issue("model", "lightning_v2", ["lightning_v3.1", "lightning_v3.1_pro"])],
        ),
        ({"language": "xx"}, [enum_issue("language", "xx", LANGUAGE_OPTIONS)]),
        (
            {"number_pronunciation_language": "english"},
            [enum_issue("number_pronunciation_language", "english", LANGUAGE_OPTIONS)],
        ),
        (
            {"speed": 0.4},
            [
                size_issue(
                    "speed",
                    "too_small",
                    0.5,
                    "number",
                    "Number must be greater than or equal to 0.5",
                )
            ],
        ),
        (
            {"speed": 2.5},
            [size_issue("speed", "too_big", 2, "number", "Number must be less than or equal to 2")],
        ),
        ({"speed": "fast"}, [type_issue(["speed"], "number", "string")]),
        ({"text": None}, [type_issue(["text"], "string", "null")]),
        ({"text": 5}, [type_issue(["text"], "string", "number")]),
        (
            {"text": ""},
            [
                size_issue(
                    "text", "too_small", 1, "string", "String must contain at least 1 character(s)"
                )
            ],
        ),
        ({"voice_id": "voice_abcdefghij"}, [BAD_VOICE]),
        ({"voice_id": "Magnus"}, [BAD_VOICE]),
        (
            {"session_id": "s" * 129},
            [
                size_issue(
                    "session_id",
                    "too_big",
                    128,
                    "string",
                    "String must contain at most 128 character(s)",
                )
            ],
        ),
        ({"request_id": "not ok!"}, [{**REGEX, "path": ["request_id"]}]),
        (
            {"pronunciation_dicts": "dict-1"},
            [type_issue(["pronunciation_dicts"], "array", "string")],
        ),
        (
            {"pronunciation_dicts": ["a", 7]},
            [type_issue(["pronunciation_dicts", 1], "string", "number")],
        ),
        ({"math_notation": "yes"}, [type_issue(["math_notation"], "boolean", "string")]),
        # A range error does not stop the voice check; a wrong type or enum value does.
        (
            {"voice_id": "nobody", "speed": 3},
            [
                size_issue(
                    "speed", "too_big", 2, "number", "Number must be less than or equal to 2"
                ),
                BAD_VOICE,
            ],
        ),
        (
            {"voice_id": "nobody", "output_format": "flac"},
            [enum_issue("output_format", "flac", ["wav", "ulaw", "alaw", "pcm", "mp3"])],
        ),
    ],
)
def test_zod_400_bodies(http, body: dict[str, Any], issues: list[dict[str, Any]]) -> None:
    response = http.post("/waves/v1/tts", headers=SYNC, json={**BODY, **body})
    assert response.status_code == 400
    assert response.json() == {"error": issues}
    assert list(response.json()["error"][0]) == list(issues[0])  # zod's key order too


@pytest.mark.no_contract
def test_missing_fields_and_bodies_that_are_not_objects(http) -> None:
    response = http.post("/waves/v1/tts", headers=SYNC, json={})
    assert response.json() == {
        "error": [
            type_issue(["text"], "string", "undefined"),
            type_issue(["voice_id"], "string", "undefined"),
        ]
    }
    response = http.post("/waves/v1/tts", headers=SYNC, json=[BODY])
    assert response.json() == {"error": [type_issue([], "object", "array")]}
    form = http.post("/waves/v1/tts", headers=SYNC, data={"text": TEXT})  # not JSON: read as {}
    assert form.status_code == 400 and form.json()["error"][0]["message"] == "Required"


@pytest.mark.no_contract
def test_a_body_that_is_not_json(http) -> None:
    response = http.post(
        "/waves/v1/tts/live",
        headers={**LIVE, "Content-Type": "application/json"},
        content=b'{"text": "Hi", ',
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "InvalidRequest",
        "message": "Request body is not valid JSON.",
    }


def test_accepted_fields_that_do_not_change_the_audio(http, emulator) -> None:
    dictionary = emulator.state.dictionaries.add(TEST_KEY, {"SQL": "sequel"})
    extra = {
        "language": "en",
        "number_pronunciation_language": "hi",
        "math_notation": True,
        "pronunciation_dicts": [dictionary.id],
        "word_timestamps": True,
    }
    assert say(http, **extra).content == say(http).content


# -- SSE ---------------------------------------------------------------------------------------


def test_sse_framing_and_chunks(http) -> None:
    response = http.post("/waves/v1/tts/live", headers=LIVE, json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    for name in ("x-session-id", "x-request-id"):
        assert uuid.UUID(response.headers[name])
    assert response.headers["x-external-session-id"] == ""
    frames = sse_frames(response.text)
    assert frames[-1] == 'data: {"status": "200", "done": true}'  # the terminator has no event line
    chunks = sse_audio(frames)
    assert len(chunks) > 100
    assert {len(c) for c in chunks[:-1]} == {960}  # 20 ms of 24 kHz int16
    assert 0 < len(chunks[-1]) <= 960
    assert b"".join(chunks) == say(http).content  # the same audio as the sync route


@pytest.mark.parametrize(("output_format", "size"), [("ulaw", 320), ("alaw", 320), ("pcm", 640)])
def test_sse_sliced_formats(http, output_format: str, size: int) -> None:
    body = {**BODY, "sample_rate": 16000, "output_format": output_format}
    chunks = sse_audio(sse_frames(http.post("/waves/v1/tts/live", headers=LIVE, json=body).text))
    assert {len(c) for c in chunks[:-1]} == {size}
    audio, rate = decode(b"".join(chunks), output_format, 16000)
    assert heard(audio, rate) == spoken_form(TEXT)


@pytest.mark.parametrize("output_format", ["wav", "mp3"])
def test_sse_container_formats_frame_every_chunk(http, output_format: str) -> None:
    body = {**BODY, "output_format": output_format}
    chunks = sse_audio(sse_frames(http.post("/waves/v1/tts/live", headers=LIVE, json=body).text))
    decoded = []
    for chunk in chunks:
        if output_format == "wav":
            assert chunk[:4] == b"RIFF"
        else:
            assert chunk[0] == 0xFF
        audio, rate = sf.read(io.BytesIO(chunk), dtype="int16")
        assert rate == 24000
        decoded.append(audio)
    assert {len(a) for a in decoded[:-1]} == {480}
    assert heard(np.concatenate(decoded), 24000) == spoken_form(TEXT)


def test_sse_streams_before_synthesis_is_done(http, emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=100, rtf=1.0)
    body = {**BODY, "text": "Modern problems require solutions."}
    started = time.monotonic()
    arrivals = []
    with http.stream("POST", "/waves/v1/tts/live", headers=LIVE, json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic() - started)
    audio_seconds = (len(arrivals) - 1) * 0.02
    assert audio_seconds > 2.0
    assert 0.1 <= arrivals[0] < 0.5  # first audio at first_audio_ms, long before the end
    assert arrivals[-1] >= 0.1 + audio_seconds - 0.05  # the rest at real time (rtf 1.0)
    middle = arrivals[len(arrivals) // 2]
    assert middle == pytest.approx(0.1 + audio_seconds / 2, abs=0.3)


# -- concurrency --------------------------------------------------------------------------------


def test_a_second_request_waits_for_the_first(http, emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=0, rtf=0.25)
    with http.stream("POST", "/waves/v1/tts/live", headers=LIVE, json=BODY) as first:
        lines = first.iter_lines()
        next(lines)  # the first request is streaming
        refused = say(http, text="Hi.")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/json; charset=utf-8"
        assert refused.json() == {
            "error": "TooManyRequests",
            "message": "Too many concurrent TTS requests for this account; wait for one to finish.",
        }
        assert http.post("/waves/v1/tts/live", headers=LIVE, json=BODY).status_code == 429
        assert lines_until_done(lines)
        assert say(http, text="Hi.").status_code == 200  # at once: the unit is free again


def test_the_limit_is_per_key_and_settable(http, emulator) -> None:
    emulator.state.pacing = Pacing(first_audio_ms=0, rtf=0.25)
    short = {**BODY, "text": "Hi."}
    with http.stream("POST", "/waves/v1/tts/live", headers=LIVE, json=BODY) as first:
        lines = first.iter_lines()
        next(lines)
        other = {**SYNC, "Authorization": "Bearer sk_other_key_1234"}
        assert http.post("/waves/v1/tts", headers=other, json=short).status_code == 200
        assert http.put("/_emulator/limits", json={"tts_concurrency": 2}).status_code == 200
        with http.stream("POST", "/waves/v1/tts/live", headers=LIVE, json=BODY) as second:
            second_lines = second.iter_lines()
            next(second_lines)
            assert say(http, text="Hi.").status_code == 429  # two in flight already
            assert lines_until_done(second_lines)
        assert lines_until_done(lines)


def lines_until_done(lines: Iterator[str]) -> bool:
    """Read an SSE stream to its terminator; True if there was one."""
    return any(line == 'data: {"status": "200", "done": true}' for line in lines)
