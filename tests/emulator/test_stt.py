"""The emulator's pre-recorded speech to text over real loopback: /waves/v1/stt/ and the
legacy /waves/v1/pulse/get_text, hearing, options, errors, limits, regions and webhooks."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
import soundfile as sf

from smallest_cli.emulator.catalog import BY_ID
from smallest_cli.emulator.speech import Synthesis, VoiceTimbre, listen, spoken_form
from smallest_cli.emulator.state import Pacing
from smallest_cli.emulator.stt_text import VOCABULARY
from tests.conftest import TEST_KEY
from tests.shared import shared_path

EMOTIONS = ("happiness", "sadness", "disgust", "fear", "anger")  # REFERENCE §0.6

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
WAV = {**AUTH, "Content-Type": "audio/wav"}
OCTETS = {**AUTH, "Content-Type": "application/octet-stream"}
TEXT = "Modern problems require modern solutions. How are you today? I am fine."
STT = "/waves/v1/stt/"
BROKEN_WAV = b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(40)  # announces WAV, holds none
PULSE = "/waves/v1/pulse/get_text"


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


def voice(voice_id: str) -> VoiceTimbre:
    return VoiceTimbre.for_voice(voice_id, BY_ID[voice_id].gender)


def synth(text: str = TEXT, rate: int = 16000, voice_id: str = "magnus", speed: float = 1.0):
    return Synthesis(text, sample_rate=rate, speed=speed, timbre=voice(voice_id))


def samples(synthesis: Synthesis) -> np.ndarray:
    return np.frombuffer(synthesis.pcm(), dtype=np.int16)


def encoded(audio: np.ndarray, rate: int, container: str = "WAV", subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format=container, subtype=subtype)
    return buffer.getvalue()


def wav(text: str = TEXT, rate: int = 16000, voice_id: str = "magnus") -> bytes:
    return encoded(samples(synth(text, rate, voice_id)), rate)


def said(transcript: str) -> str:
    """The words of a transcript, case and punctuation aside."""
    return spoken_form(transcript)


def speak(http: httpx.Client, output_format: str, rate: int) -> httpx.Response:
    """TEXT spoken by the emulator's TTS in `output_format` at `rate`."""
    return http.post(
        "/waves/v1/tts",
        headers={**AUTH, "Accept": "audio/wav"},
        json={
            "text": TEXT,
            "voice_id": "meher",
            "sample_rate": rate,
            "output_format": output_format,
        },
    )


def transcribe(http: httpx.Client, body: bytes, query: str = "model=pulse&language=en", **kw):
    path = kw.pop("path", STT)
    return http.post(f"{path}?{query}", content=body, headers=kw.pop("headers", WAV), **kw)


# -- hearing: our own speech comes back word for word ---------------------------------------


@pytest.mark.parametrize("output_format", ["wav", "mp3"])
@pytest.mark.parametrize("rate", [8000, 16000, 24000, 44100])
def test_tts_audio_transcribes_back_in_every_container_and_rate(http, output_format, rate) -> None:
    spoken = speak(http, output_format, rate)
    assert spoken.status_code == 200
    answer = transcribe(http, spoken.content, headers=OCTETS)
    assert answer.status_code == 200, answer.text
    assert said(answer.json()["transcription"]) == spoken_form(TEXT)


@pytest.mark.parametrize(
    ("container", "subtype", "rate"),
    [
        ("MP3", "MPEG_LAYER_III", 22050),
        ("OGG", "VORBIS", 48000),
        ("OGG", "OPUS", 16000),
        ("OGG", "OPUS", 48000),
        ("FLAC", "PCM_16", 44100),
        ("WAV", "FLOAT", 32000),
    ],
)
def test_resampled_and_lossy_audio_transcribes_back(http, container, subtype, rate) -> None:
    original = synth(rate=24000)
    from smallest_cli.emulator.speech import resample

    audio = resample(samples(original) / 32768.0, 24000, rate)
    body = encoded(np.clip(audio, -1, 1).astype(np.float32), rate, container, subtype)
    answer = transcribe(http, body, headers=OCTETS)
    assert answer.status_code == 200, answer.text
    assert said(answer.json()["transcription"]) == spoken_form(TEXT)


HEADERLESS_OUTPUTS = ["pcm", "ulaw", "alaw"]


@pytest.mark.parametrize("output_format", HEADERLESS_OUTPUTS)
@pytest.mark.parametrize("encoding", [None, "linear16", "mulaw", "alaw", "no-such-encoding"])
def test_headerless_audio_answers_an_empty_transcription_whatever_its_encoding(
    http, output_format, encoding
) -> None:
    """REFERENCE §0.5: pre-recorded STT ignores `encoding` and `sample_rate` (even bogus ones)
    and relies on the container, so headerless speech is heard as nothing, on both routes."""
    spoken = speak(http, output_format, 8000)
    assert spoken.status_code == 200 and spoken.content[:4] != b"RIFF"
    extra = f"&encoding={encoding}&sample_rate=8000" if encoding else ""
    empty = {"status": "success", "transcription": "", "words": [], "utterances": []}
    metadata = {"duration": 0.0, "fileSize": len(spoken.content)}
    for path, query in ((STT, "model=pulse&language=en"), (PULSE, "language=en")):
        answer = transcribe(
            http, spoken.content, query + extra + "&word_timestamps=true", headers=OCTETS, path=path
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {**empty, "metadata": metadata}
    pro = transcribe(http, spoken.content, "model=pulse-pro&language=en" + extra, headers=OCTETS)
    assert pro.status_code == 200, pro.text
    body = pro.json()
    assert (body["transcription"], body["words"], body["metadata"]["duration"]) == ("", [], 0.0)
    assert "utterances" not in body and body["totalBytes"] == len(spoken.content)


def test_the_same_audio_in_a_container_is_heard_whatever_encoding_claims(http) -> None:
    body = wav(rate=8000)
    answer = transcribe(http, body, "model=pulse&language=en&encoding=mulaw&sample_rate=44100")
    assert said(answer.json()["transcription"]) == spoken_form(TEXT)
    assert answer.json()["metadata"]["duration"] == pytest.approx(synth(rate=8000).duration, 0.01)


def test_stereo_and_two_speeds_transcribe_back(http) -> None:
    for speed in (0.5, 2.0):
        mono = samples(synth(speed=speed))
        stereo = np.stack([mono, mono // 2], axis=1)
        answer = transcribe(http, encoded(stereo, 16000))
        assert said(answer.json()["transcription"]) == spoken_form(TEXT)


def test_word_timings_fall_inside_the_speech_and_silence_gives_nothing(http) -> None:
    speech = synth()
    silence = np.zeros(16000, dtype=np.int16)
    audio = np.concatenate([silence, samples(speech), silence])
    answer = transcribe(http, encoded(audio, 16000), "model=pulse&language=en&word_timestamps=true")
    words = answer.json()["words"]
    assert [said(w["word"]) for w in words] == spoken_form(TEXT).split()
    for word, timed in zip(words, speech.timings(), strict=True):
        assert word["start"] == pytest.approx(1 + timed.start, abs=0.02)
        assert word["end"] == pytest.approx(1 + timed.end, abs=0.02)
    assert words[0]["start"] > 1.0 and words[-1]["end"] < 1 + speech.duration
    quiet = transcribe(
        http,
        encoded(np.zeros(32000, dtype=np.int16), 16000),
        "model=pulse&language=en&word_timestamps=true",
    )
    assert quiet.json()["transcription"] == "" and quiet.json()["words"] == []
    assert quiet.json()["metadata"] == {"duration": 2.0, "fileSize": 64044}


def test_sentences_punctuation_and_utterances(http) -> None:
    answer = transcribe(http, wav(), "model=pulse&language=en&word_timestamps=true")
    body = answer.json()
    assert (
        body["transcription"]
        == "Modern problems require modern solutions. How are you today? I am fine."
    )
    assert [u["text"] for u in body["utterances"]] == [
        "Modern problems require modern solutions.",
        "How are you today?",
        "I am fine.",
    ]
    assert body["words"][4]["word"] == "solutions." and body["words"][5]["word"] == "How"
    assert list(body["words"][0]) == ["start", "end", "word", "confidence"]
    assert list(body["utterances"][0]) == ["start", "end", "text"]


@pytest.mark.parametrize(
    "name", ["stt-sample-audio.wav", "tts-sample-hello.wav", "pulse-feature-demo.wav"]
)
def test_real_recordings_give_stable_plausible_transcripts(http, name) -> None:
    body = shared_path("audio", name).read_bytes()
    query = "model=pulse&language=en&word_timestamps=true&diarize=true"
    first, second = (transcribe(http, body, query).json() for _ in range(2))
    assert first == second and first["transcription"]
    audio, rate = sf.read(io.BytesIO(body), dtype="int16")
    segments = listen(audio, rate)
    assert all(h.text is None for h in segments)  # real speech: none of our coded words
    for word in first["words"]:
        assert said(word["word"]) in VOCABULARY
        assert any(s.start - 0.02 <= word["start"] < word["end"] <= s.end + 0.02 for s in segments)
    assert {w["speaker"] for w in first["words"]} == {0}  # one real voice stays one speaker
    assert first["metadata"]["duration"] == pytest.approx(len(audio) / rate, abs=0.01)


# -- response shapes and options --------------------------------------------------------------


def test_pulse_with_every_option(http) -> None:
    query = (
        "model=pulse&language=en&word_timestamps=true&diarize=true"
        "&gender_detection=true&emotion_detection=true"
    )
    body = transcribe(http, wav(voice_id="meher"), query).json()
    assert list(body) == [
        "status", "transcription", "words", "utterances", "gender", "emotions", "metadata",
    ]  # fmt: skip
    assert body["status"] == "success" and body["gender"] == "female"
    assert list(body["words"][0]) == [
        "start",
        "end",
        "speaker",
        "speaker_confidence",
        "word",
        "confidence",
    ]
    assert {w["speaker"] for w in body["words"]} == {0}
    assert all(
        0 < w["confidence"] <= 1 and 0.5 <= w["speaker_confidence"] <= 1 for w in body["words"]
    )
    assert list(body["utterances"][0]) == ["start", "end", "speaker", "text"]
    assert tuple(body["emotions"]) == EMOTIONS  # on both routes
    assert all(0 <= score <= 1 for score in body["emotions"].values())
    assert "language" not in body and "request_id" not in body
    male = transcribe(http, wav(voice_id="magnus"), "model=pulse&language=en&gender_detection=true")
    assert male.json()["gender"] == "male"
    legacy = transcribe(http, wav(), "language=en&emotion_detection=true", path=PULSE).json()
    assert tuple(legacy["emotions"]) == EMOTIONS
    assert legacy["words"] == [] and legacy["utterances"] == []


def test_pulse_pro_has_its_own_shape(http) -> None:
    data = wav()
    query = "model=pulse-pro&language=en&word_timestamps=true&diarize=true&gender_detection=true"
    answer = transcribe(http, data, query, headers=OCTETS)
    body = answer.json()
    assert list(body) == [
        "status",
        "transcription",
        "words",
        "language",
        "metadata",
        "totalBytes",
        "request_id",
    ]
    assert answer.headers["x-request-id"] == body["request_id"]
    assert body["language"] == "en" and body["totalBytes"] == len(data)
    assert list(body["words"][0]) == ["word", "start", "end", "confidence"]
    assert set(body["metadata"]) == {"duration", "processing_time_ms", "rtfx", "num_chunks"}
    assert body["metadata"]["num_chunks"] == 1
    assert said(body["transcription"]) == spoken_form(TEXT)


def test_formatting_switches(http) -> None:
    def text(extra: str) -> str:
        return transcribe(http, wav(), f"model=pulse&language=en{extra}").json()["transcription"]

    assert (
        text("&punctuate=false")
        == "Modern problems require modern solutions How are you today I am fine"
    )
    assert (
        text("&capitalize=false")
        == "modern problems require modern solutions. how are you today? i am fine."
    )
    assert (
        text("&format=false&punctuate=true")
        == "modern problems require modern solutions how are you today i am fine"
    )
    assert text("&punctuation=false&capitalisation=false") == text("")  # unknown: ignored


def test_redaction_on_english_and_hindi_only(http) -> None:
    speech = wav(
        "Hi, this is John Miller. My phone is five five five one two three four. Card four one one one one one one one one one one one one one one one."
    )
    query = "model=pulse&language={}&redact_pii=true&redact_pci=true&word_timestamps=true"
    body = transcribe(http, speech, query.format("en")).json()
    assert body["transcription"] == (
        "Hi this is [FIRSTNAME_1] [LASTNAME_1]. My phone is [PHONENUMBER_1]. Card [ACCOUNTNUMBER_1]."
    )
    assert [w["word"] for w in body["words"]][3:5] == ["[firstname_1]", "[lastname_1]."]
    hindi = transcribe(http, speech, query.format("hi")).json()["transcription"]
    assert "[PHONENUMBER_1]" in hindi
    german = transcribe(http, speech, query.format("de")).json()["transcription"]
    assert "[" not in german and "John Miller" in german
    legacy = transcribe(http, speech, "language=en&redact_pii=true", path=PULSE).json()
    assert (
        "[FIRSTNAME_1]" in legacy["transcription"]
        and "[ACCOUNTNUMBER" not in legacy["transcription"]
    )


def test_diarization_tells_two_voices_apart(http) -> None:
    first, second = "Good morning, how can I help you?", "I would like to check my order please."
    audio = np.concatenate(
        [samples(synth(first, voice_id="meher")), samples(synth(second, voice_id="magnus"))]
    )
    query = "model=pulse&language=en&word_timestamps=true&diarize=true"
    body = transcribe(http, encoded(audio, 16000), query).json()
    speakers = [w["speaker"] for w in body["words"]]
    count = len(spoken_form(first).split())
    assert speakers == [0] * count + [1] * (len(speakers) - count)
    assert [(u["speaker"], u["text"]) for u in body["utterances"]] == [
        (0, "Good morning how can I help you."),
        (1, "I would like to check my order please."),
    ]
    pro = transcribe(http, encoded(audio, 16000), query.replace("=pulse&", "=pulse-pro&")).json()
    assert "speaker" not in pro["words"][0]  # Pulse Pro does not diarize


def test_json_url_input_is_downloaded(http, emulator) -> None:
    data = wav()
    with serving({"/calls/call.wav": (200, data)}) as base:
        legacy = http.post(
            f"{PULSE}?language=en", headers=AUTH, json={"url": f"{base}/calls/call.wav"}
        )
        assert legacy.status_code == 200
        assert legacy.json()["metadata"] == {
            "duration": pytest.approx(synth().duration, abs=0.01),
            "fileSize": len(data),
            "filename": "call.wav",
        }
        assert said(legacy.json()["transcription"]) == spoken_form(TEXT)
        current = http.post(
            f"{STT}?model=pulse&language=en", headers=AUTH, json={"url": f"{base}/calls/call.wav"}
        )
        assert current.status_code == 200 and "filename" not in current.json()["metadata"]
        missing = http.post(
            f"{STT}?model=pulse&language=en", headers=AUTH, json={"url": f"{base}/nope.wav"}
        )
        assert missing.status_code == 400
        assert missing.json()["error"] == "Could not download audio from URL: it answered HTTP 404."


def test_expire_content_header(http) -> None:
    answer = transcribe(http, wav(), headers={**WAV, "x-expire-content": "true"})
    assert answer.headers["x-content-expiry"] == "applied"
    assert "x-content-expiry" not in transcribe(http, wav()).headers


@pytest.mark.no_contract  # the spec documents /waves/v1/stt/ with its slash; the harness flags this
def test_the_route_is_served_without_its_trailing_slash(http) -> None:
    answer = http.post("/waves/v1/stt?model=pulse&language=en", content=wav(), headers=WAV)
    assert answer.status_code == 200 and answer.json()["transcription"]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "language=en",
            "Missing required query param: model. Supported values: pulse | pulse-pro.",
        ),
        (
            "model=lightning&language=en",
            "Invalid query param: model='lightning'. Supported values: pulse | pulse-pro.",
        ),
        ("model=pulse", "Missing required query param: language."),
        ("model=pulse&language=yue", "Unsupported language 'yue' for pre-recorded transcription."),
        (
            "model=pulse&language=en&diarize=yes",
            "Invalid value for diarize: 'yes'. Expected true or false.",
        ),
        (
            "model=pulse-pro&language=en&webhook_url=ftp://x",
            "Invalid webhook_url: 'ftp://x'. Expected an http or https URL.",
        ),
        (
            "model=pulse-pro&language=en&webhook_url=http://x&webhook_method=PUT",
            "Invalid value for webhook_method: 'PUT'. Supported values: GET | POST.",
        ),
    ],
)
def test_bad_parameters_on_the_current_route(http, query, message) -> None:
    answer = transcribe(http, wav(), query)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"].startswith(message) and set(body) == {"error", "request_id"}
    assert answer.headers["x-request-id"] == body["request_id"]


@pytest.mark.no_contract
def test_body_errors_on_the_current_route(http) -> None:
    def error(answer: httpx.Response) -> tuple[int, str]:
        return answer.status_code, answer.json()["error"]

    assert error(transcribe(http, b"")) == (
        400,
        'The request has no body: send the audio bytes, or JSON {"url": ...}.',
    )
    status, message = error(transcribe(http, BROKEN_WAV))
    assert status == 400 and message.startswith("Invalid audio: not a readable audio file")
    m4a = b"\x00\x00\x00\x20ftypM4A " + bytes(200)
    status, message = error(transcribe(http, m4a))
    assert status == 400 and "M4A audio cannot be decoded by the emulator" in message
    pro_url = http.post(
        f"{STT}?model=pulse-pro&language=en",
        headers=AUTH,
        json={"url": "https://example.com/a.wav"},
    )
    assert error(pro_url) == (
        400,
        "Pulse Pro does not support audio-by-URL. Send raw bytes or use ?model=pulse.",
    )
    for document in ({"uri": "https://x/a.wav"}, {"url": "file:///etc/passwd"}, {"url": 3}):
        bad = http.post(f"{STT}?model=pulse&language=en", headers=AUTH, json=document)
        assert error(bad) == (400, 'Invalid JSON body: expected {"url": "http(s)://…"}.')


@pytest.mark.no_contract
def test_legacy_route_errors_have_their_own_shape(http) -> None:
    audio_error = {"status": "error", "message": "Error handling audio data"}
    assert transcribe(http, BROKEN_WAV, "language=en", path=PULSE).json() == {
        "errors": "Invalid file format. Supported formats: audio/*", **audio_error,
    }  # fmt: skip
    for document in ({"uri": "x"}, {"url": "file:///etc/passwd"}):
        bad = http.post(f"{PULSE}?language=en", headers=AUTH, json=document)
        assert bad.json() == {
            "errors": "Invalid JSON data: missing or invalid 'url' field",
            **audio_error,
        }
    param = transcribe(http, wav(), "language=klingon", path=PULSE)
    assert param.status_code == 400 and param.json()["message"] == "Invalid query parameters"
    assert param.json()["errors"].startswith("Unsupported language 'klingon'")
    assert http.post(PULSE, content=wav(), headers={"Content-Type": "audio/wav"}).json() == {
        "message": "Unauthorized: No tokens provided"
    }
    assert http.post(
        PULSE, content=wav(), headers={**WAV, "Authorization": "Bearer nope"}
    ).json() == {"error": "unauthorized"}
    assert transcribe(http, wav(), path=PULSE, query="").status_code == 200  # language: multi-eu


def test_regions(http, emulator) -> None:
    refused = transcribe(http, wav(), "language=multi-asian", path=PULSE)
    assert refused.status_code == 400 and refused.json() == {
        "status": "error",
        "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION",
        "message": "Language 'multi-asian' has not been enabled in this region. Please contact support to request access.",
        "language": "multi-asian",
        "region": "ap-south-1",
    }
    assert transcribe(http, wav(), "model=pulse&language=multi-indic").status_code == 200
    with httpx.Client(base_url=emulator.us_base_url, timeout=30) as us:
        assert transcribe(us, wav(), "language=multi-asian", path=PULSE).status_code == 200
        indic = transcribe(us, wav(), "model=pulse&language=multi-indic")
        assert indic.status_code == 400
        body = indic.json()
        assert (
            body["error_code"] == "LANGUAGE_NOT_ENABLED_IN_REGION" and body["region"] == "us-west-2"
        )
        assert body["error"].startswith("Language 'multi-indic' has not been enabled")
        assert (
            us.post(
                "/waves/v1/tts",
                headers={**AUTH, "Accept": "audio/wav"},
                json={"text": "Hi.", "voice_id": "magnus"},
            ).status_code
            == 200
        )
    assert http.get("/_emulator/health").json()["regions"] == {
        "ap-south-1": emulator.base_url,
        "us-west-2": emulator.us_base_url,
    }


def big_body(size: int) -> Iterator[bytes]:
    block = bytes(1024 * 1024)
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


def test_oversize_uploads_413_on_the_current_route_and_400_on_the_legacy_one(http) -> None:
    size = 250 * 1024 * 1024 + 1
    headers = {**OCTETS, "Content-Length": str(size)}
    current = http.post(f"{STT}?model=pulse&language=en", content=big_body(size), headers=headers)
    assert current.status_code == 413
    assert current.json()["error"] == "File size exceeds maximum limit of 250MB."
    legacy = http.post(f"{PULSE}?language=en", content=big_body(size), headers=headers)
    assert legacy.status_code == 400 and legacy.json()["errors"] == "Audio data too large"
    chunked = http.post(f"{PULSE}?language=en", content=big_body(size), headers=OCTETS)
    assert chunked.status_code == 400 and chunked.json()["errors"] == "Audio data too large"


def test_rate_limit_per_key_and_model(http) -> None:
    assert http.put("/_emulator/limits", json={"stt_per_minute": 2}).json()["stt_per_minute"] == 2
    data = wav("Hi.")
    assert [transcribe(http, data).status_code for _ in range(2)] == [200, 200]
    limited = transcribe(http, data)
    assert limited.status_code == 429
    assert limited.json()["error"] == "Rate limit exceeded. Please retry after a short backoff."
    assert limited.json()["request_id"] == limited.headers["x-request-id"]
    legacy = transcribe(http, data, "language=en", path=PULSE)  # the legacy route counts as pulse
    assert legacy.status_code == 429
    assert legacy.json() == {"error": "Rate limit exceeded. Please retry after a short backoff."}
    assert transcribe(http, data, "model=pulse-pro&language=en").status_code == 200
    other = {**WAV, "Authorization": "Bearer sk_another_key_0000"}
    assert transcribe(http, data, headers=other).status_code == 200


def test_pacing(http, emulator) -> None:
    emulator.state.pacing = Pacing(0, 0, stt_ms=200, stt_rtf=0.1)
    data = wav()
    started = time.monotonic()
    body = transcribe(http, data, "model=pulse-pro&language=en").json()
    elapsed = time.monotonic() - started
    duration = body["metadata"]["duration"]
    assert elapsed >= 0.2 + 0.1 * duration
    assert body["metadata"]["processing_time_ms"] >= 1000 * (0.2 + 0.1 * duration) - 1
    assert body["metadata"]["rtfx"] == pytest.approx(
        duration / (body["metadata"]["processing_time_ms"] / 1000), rel=0.05
    )


# -- webhooks -----------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    server: Any

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.calls.append((self.command, self.path, dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        pages = self.server.pages
        content = b"ok"
        if pages:
            status, content = pages.get(urlsplit(self.path).path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


class serving:
    """A tiny local HTTP server: pages to serve, and statuses to answer calls with."""

    def __init__(
        self, pages: dict[str, tuple[int, bytes]] | None = None, statuses: list[int] | None = None
    ) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        self.server.calls = []  # type: ignore[attr-defined]
        self.server.statuses = list(statuses or [])  # type: ignore[attr-defined]
        self.server.pages = dict(pages or {})  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def calls(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        return self.server.calls  # type: ignore[attr-defined,no-any-return]

    def __enter__(self) -> str:
        self.thread.start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_pulse_pro_webhook_is_delivered_and_retried_on_5xx(http, emulator) -> None:
    receiver = serving(statuses=[500, 503, 200])
    with receiver as base:
        query = (
            f"model=pulse-pro&language=en&webhook_url={base}/hook&webhook_extra=call:42,agent:ann"
        )
        accepted = transcribe(http, wav(), query, headers=OCTETS)
        assert accepted.status_code == 200
        ack = accepted.json()
        assert list(ack) == ["status", "request_id"] and ack["status"] == "processing"
        wait_for(lambda: len(receiver.calls) == 3)
    methods = {call[0] for call in receiver.calls}
    assert methods == {"POST"}
    _, path, headers, body = receiver.calls[-1]
    payload = json.loads(body)
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    assert headers["X-Request-Id"] == ack["request_id"] == payload["request_id"]
    assert payload["status"] == "success" and said(payload["transcription"]) == spoken_form(TEXT)
    assert payload["webhook_extra"] == {"call": "42", "agent": "ann"}
    assert "metadata" in payload and "totalBytes" in payload
    (delivery,) = http.get("/_emulator/webhooks").json()
    assert delivery["statuses"] == [500, 503, 200] and delivery["done"] is True


def test_webhook_by_get_and_on_the_legacy_route(http) -> None:
    receiver = serving()
    with receiver as base:
        query = f"language=en&webhook_url={base}/cb&webhook_method=GET&webhook_extra=ticket:7"
        ack = transcribe(http, wav(), query, path=PULSE).json()
        assert ack["status"] == "processing"
        wait_for(lambda: len(receiver.calls) == 1)
        method, path, _, body = receiver.calls[0]
        assert method == "GET" and body == b""
        params = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        assert params["ticket"] == "7" and params["request_id"] == ack["request_id"]
        assert params["status"] == "success" and said(params["transcription"]) == spoken_form(TEXT)
        sync = transcribe(http, wav(), f"model=pulse&language=en&webhook_url={base}/cb")
        assert "transcription" in sync.json()  # Pulse on /stt/ is never asynchronous
    time.sleep(0.1)
    assert len(receiver.calls) == 1


def test_undecodable_audio_is_refused_before_the_webhook_acknowledgement(http) -> None:
    query = "model=pulse-pro&language=en&webhook_url=http://127.0.0.1:9/hook"
    refused = transcribe(http, BROKEN_WAV, query, headers=OCTETS)
    assert refused.status_code == 400 and refused.json()["error"].startswith("Invalid audio")
