"""The emulator's voice cloning over real loopback (REFERENCE §8.1–8.2): create, list,
refusals, the limit, status over time, sample clips, and clones speaking in TTS."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from smallest_cli.emulator.speech import Synthesis, VoiceTimbre, listen, spoken_form
from smallest_cli.emulator.state import Pacing
from smallest_cli.emulator.stt_audio import pitch_of
from tests.conftest import TEST_KEY
from tests.shared import shared_path

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SYNC = {**AUTH, "Accept": "audio/wav"}
ROUTE = "/waves/v1/voice-cloning"
RATE = 24_000
SAMPLE_SENTENCE = "Hello! This is a sample of what I sound like."


@pytest.fixture
def http(emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


def voice_audio(pitch_hz: float, fmt: str = "WAV", seconds_of_text: int = 2) -> bytes:
    """The emulator's own speech at `pitch_hz`: a voiced, syllabic sample of a few seconds."""
    text = " ".join(["Every clone needs a clean sample of one speaker."] * seconds_of_text)
    pcm = Synthesis(text, sample_rate=RATE, timbre=VoiceTimbre(pitch_hz)).pcm()
    return encoded(np.frombuffer(pcm, dtype=np.int16), fmt)


def encoded(samples: np.ndarray, fmt: str, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt)
    return buffer.getvalue()


def create(
    http: httpx.Client,
    audio: bytes | None,
    *,
    name: str = "my-voice",
    filename: str = "sample.wav",
    mime: str | None = "audio/wav",
    headers: dict[str, str] = AUTH,
    **fields: str,
) -> httpx.Response:
    """POST a multipart form (without a `file` part when `audio` is None)."""
    data = {"displayName": name, **fields} if name else dict(fields)
    files: Any = {key: (None, value) for key, value in data.items()}
    if audio is not None:
        files["file"] = (filename, audio, mime) if mime else (filename, audio)
    return http.post(ROUTE, headers=headers, files=files)


def listed(http: httpx.Client) -> list[dict[str, Any]]:
    response = http.get(ROUTE, headers=AUTH)
    assert response.status_code == 200
    clones = response.json()["data"]
    assert isinstance(clones, list)
    return clones


def heard(wav: bytes) -> tuple[str, float]:
    """What the emulator's ear reads in a WAV, and the sound's median pitch."""
    samples, rate = sf.read(io.BytesIO(wav), dtype="int16")
    words = " ".join(h.text or "?" for h in listen(samples, rate))
    pitch = pitch_of(samples.astype(np.float64) / 32768, rate)
    assert pitch is not None
    return words, pitch


# -- create and list ------------------------------------------------------------------------


def test_create_from_wav_answers_the_documented_body_and_lists_the_clone(http) -> None:
    response = create(
        http,
        voice_audio(140.0),
        language="en",
        accent="general",
        description="my narrator",
        tags="en, tone-test",
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Voice clone created successfully"
    data = body["data"]
    assert data["voiceId"].startswith("voice_") and len(data["voiceId"]) == 16
    assert data["voiceId"][6:].isalnum()
    assert data["displayName"] == "my-voice"
    assert data["status"] == "completed"
    assert data["language"] == "en"
    assert data["model"]["modelName"] == "lightning-v3.1"
    assert data["audioFileNames"] == ["sample.wav"]
    assert data["samples"][0]["text"] == SAMPLE_SENTENCE
    assert data["samples"][0]["audioUrl"].startswith(http.base_url.scheme + "://")
    [clone] = listed(http)
    assert clone == {
        "_id": clone["_id"],
        "voiceId": data["voiceId"],
        "displayName": "my-voice",
        "description": "my narrator",
        "accent": "general",
        "tags": ["en", "tone-test"],
        "language": "en",
        "status": "completed",
        "cloningType": "instant",
        "modelIds": ["lightning-v3.1"],
        "createdAt": data["createdAt"],
    }
    assert len(clone["_id"]) == 24


def test_create_and_list_are_checked_against_the_cloning_spec(http, emulator) -> None:
    from tests import contract

    if not contract.specs_available():
        pytest.skip("the vendor's spec files (../shared/api/specs) are absent")
    create(http, voice_audio(140.0), language="en", tags="a,b")
    listed(http)
    create(http, voice_audio(140.0), language="xx")  # a documented 400

    exchanges = emulator.state.exchanges()

    assert [(e.method, e.status) for e in exchanges] == [("POST", 200), ("GET", 200), ("POST", 400)]
    assert exchanges[0].headers["content-type"].startswith("multipart/form-data; boundary=")
    assert all(contract.validate_exchange(e) for e in exchanges)
    broken = dataclasses.replace(exchanges[1], response_body=b'{"data": [{"voiceId": 7}]}')
    with pytest.raises(contract.ContractViolation):
        contract.validate_exchange(broken)


def test_create_from_mp3_and_on_the_pro_pool(http) -> None:
    response = create(
        http,
        voice_audio(210.0, "MP3"),
        filename="take.mp3",
        mime="audio/mpeg",
        model="lightning-v3.1-pro",
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["model"]["modelName"] == "lightning-v3.1-pro"
    [clone] = listed(http)
    assert clone["modelIds"] == ["lightning-v3.1-pro"]
    assert clone["status"] == "completed"
    assert "language" not in clone


def test_a_wav_sent_as_octet_stream_is_taken_by_its_bytes(http) -> None:
    """The docs' curl and fetch examples send a .wav without an audio MIME type."""
    response = create(http, voice_audio(140.0), mime="application/octet-stream")

    assert response.status_code == 200, response.text


def test_clones_are_kept_per_key(http) -> None:
    other = {"Authorization": "Bearer sk_someone_else"}
    assert create(http, voice_audio(140.0), headers=other).status_code == 200

    assert listed(http) == []
    assert len(http.get(ROUTE, headers=other).json()["data"]) == 1


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.no_contract  # each request breaks the spec's request schema on purpose
@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"audio": None}, "No file provided"),
        (
            {"model": "lightning-v2"},
            "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1",
        ),
        (
            {"model": "lightning_v3.1"},
            "Invalid model. Supported: lightning-v3.1, lightning-v3.1-pro",
        ),
        ({"name": ""}, "displayName is required"),
        ({"name": "x" * 501}, "displayName must be at most 500 characters"),
    ],
)
def test_refusals_answer_400_with_the_documented_body(http, changes, error) -> None:
    audio = changes.pop("audio", voice_audio(140.0))

    response = create(http, audio, **changes)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert listed(http) == []


def test_an_unsupported_language_is_refused_with_the_supported_list(http) -> None:
    response = create(http, voice_audio(140.0), language="ja")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("Invalid language. Supported: en, hi, mr,")
    assert " ja" not in error
    # Pro speaks Japanese (REFERENCE §0.3), so a Pro clone may be Japanese
    pro = create(http, voice_audio(140.0), language="ja", model="lightning-v3.1-pro")
    assert pro.status_code == 200, pro.text


@pytest.mark.parametrize(
    ("audio", "mime"),
    [
        (b"FLACbytes", "audio/flac"),
        (b"just some text, not audio at all", "text/plain"),
    ],
)
def test_a_sample_of_another_type_is_refused(http, audio, mime) -> None:
    if audio.startswith(b"FLAC"):
        audio = encoded(np.zeros(RATE, dtype=np.int16), "FLAC")

    response = create(http, audio, filename="sample.bin", mime=mime)

    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid file type. Supported types: audio/mpeg")


def test_a_sample_over_5_mb_is_refused(http) -> None:
    audio = voice_audio(140.0)
    audio += b"\0" * (5 * 1024 * 1024 + 1 - len(audio))

    response = create(http, audio)

    assert response.status_code == 400
    assert response.json() == {"error": "File too large"}


def test_an_undecodable_sample_is_a_voice_clone_error(http) -> None:
    response = create(http, b"\x00\x01" * 4000, mime="audio/wav")

    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "voice_clone_error"
    assert "cleaner sample" in body["error"]
    assert listed(http) == []


def test_an_injected_server_error_is_the_retryable_timeout(http, emulator) -> None:
    emulator.state.faults.replace([f"500*1@{ROUTE}"], 0.0)

    first = create(http, voice_audio(140.0))
    second = create(http, voice_audio(140.0))

    assert first.status_code == 500
    assert first.json()["error_code"] == "voice_clone_timeout"
    assert second.status_code == 200


def test_the_clone_limit_is_per_key_and_settable(http, emulator) -> None:
    emulator.state.limits.clone_limit = 2
    for _ in range(2):
        assert create(http, voice_audio(140.0)).status_code == 200

    refused = create(http, voice_audio(140.0))

    assert refused.status_code == 400
    assert refused.json() == {"error": "clone limit exceeded, consider upgrading"}
    assert len(listed(http)) == 2
    other = {"Authorization": "Bearer sk_someone_else"}
    assert create(http, voice_audio(140.0), headers=other).status_code == 200


@pytest.mark.no_contract  # the GET has no Authorization header at all, on purpose
def test_a_bad_key_is_refused_by_the_middleware(http) -> None:
    response = create(http, voice_audio(140.0), headers={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    assert http.get(ROUTE).status_code == 401


# -- status over time -------------------------------------------------------------------------


def test_status_moves_from_pending_through_processing_to_completed(http, emulator) -> None:
    emulator.state.pacing = Pacing(0, 0, 0, 0, clone_ms=60_000)
    created = create(http, voice_audio(140.0))
    assert created.json()["data"]["status"] == "pending"
    speak = {"text": "Ready?", "voice_id": created.json()["data"]["voiceId"]}
    assert http.post("/waves/v1/tts", headers=SYNC, json=speak).status_code == 400

    # the clock moved on, not waited for (a test that waits is flaky on a loaded machine)
    (clone,) = emulator.state.clones.of(TEST_KEY)
    seen = [listed(http)[0]["status"]]
    for elapsed in (31, 61):
        clone.started = time.monotonic() - elapsed
        seen.append(listed(http)[0]["status"])

    assert seen == ["pending", "processing", "completed"]
    assert http.post("/waves/v1/tts", headers=SYNC, json=speak).status_code == 200


@pytest.mark.parametrize(
    "samples",
    [
        np.zeros(8 * RATE, dtype=np.int16),
        (np.random.default_rng(7).normal(0, 3000, 8 * RATE)).astype(np.int16),
        (3000 * np.sin(2 * np.pi * 100 * np.arange(8 * RATE) / RATE)).astype(np.int16),
    ],
    ids=["silence", "white-noise", "steady-hum"],
)
def test_a_sample_without_a_voice_fails(http, emulator, samples) -> None:
    emulator.state.pacing = Pacing(0, 0, 0, 0, clone_ms=300)
    created = create(http, encoded(samples, "WAV"))
    assert created.status_code == 200
    assert created.json()["data"]["status"] == "pending"
    assert created.json()["data"]["samples"] == []

    time.sleep(0.35)

    assert listed(http)[0]["status"] == "failed"
    voice = created.json()["data"]["voiceId"]
    tts = http.post("/waves/v1/tts", headers=SYNC, json={"text": "Hi", "voice_id": voice})
    assert tts.status_code == 400


# -- the sample clip and TTS in the clone's voice ---------------------------------------------


def test_the_sample_clip_is_the_sample_sentence_in_the_new_voice(http) -> None:
    data = create(http, voice_audio(120.0)).json()["data"]

    clip = httpx.get(data["samples"][0]["audioUrl"], timeout=30)

    assert clip.status_code == 200
    assert clip.headers["content-type"] == "audio/wav"
    words, pitch = heard(clip.content)
    assert words == spoken_form(SAMPLE_SENTENCE)
    assert pitch == pytest.approx(120.0, rel=0.06)


def test_a_clone_speaks_in_its_own_pool_with_the_samples_pitch(http) -> None:
    voice = create(http, voice_audio(215.0)).json()["data"]["voiceId"]
    body = {"text": "Cloned voices speak.", "voice_id": voice, "output_format": "wav"}

    own = http.post("/waves/v1/tts", headers=SYNC, json={**body, "model": "lightning_v3.1"})
    other = http.post("/waves/v1/tts", headers=SYNC, json={**body, "model": "lightning_v3.1_pro"})

    assert own.status_code == 200
    words, pitch = heard(own.content)
    assert words == "cloned voices speak"
    assert pitch == pytest.approx(215.0, rel=0.06)
    assert other.status_code == 200  # pairing is not validated (REFERENCE §6.1): scrambled
    assert "cloned" not in heard(other.content)[0]


def test_another_keys_clone_is_an_invalid_voice(http) -> None:
    other = {"Authorization": "Bearer sk_someone_else"}
    voice = create(http, voice_audio(140.0), headers=other).json()["data"]["voiceId"]

    response = http.post("/waves/v1/tts", headers=SYNC, json={"text": "Hi", "voice_id": voice})

    assert response.status_code == 400
    assert response.json()["error"][0]["message"] == "Invalid Voice ID"


def test_samples_of_two_real_speakers_get_pitches_diarization_tells_apart(http) -> None:
    first = shared_path("audio", "stt-sample-audio.wav").read_bytes()
    second = shared_path("audio", "tts-sample-hello.wav").read_bytes()
    voices = [
        create(http, audio, name=f"speaker-{i}").json()["data"]
        for i, audio in enumerate((first, second))
    ]
    lines = ["Good morning, how can I help?", "I would like to book a table.",
             "For how many people?", "Two, at eight tonight."]  # fmt: skip
    audio = []
    for index, line in enumerate(lines):
        body = {"text": line, "voice_id": voices[index % 2]["voiceId"], "sample_rate": 16000}
        response = http.post("/waves/v1/tts", headers=SYNC, json=body)
        assert response.status_code == 200
        audio.append(response.content)
    wav = encoded(np.frombuffer(b"".join(audio), dtype=np.int16), "WAV", 16000)

    response = http.post(
        "/waves/v1/stt/",
        params={"model": "pulse", "language": "en", "diarize": "true", "word_timestamps": "true"},
        headers={**AUTH, "Content-Type": "audio/wav"},
        content=wav,
    )

    assert response.status_code == 200, response.text
    utterances = response.json()["utterances"]
    speakers = [u["speaker"] for u in utterances]
    assert speakers == [0, 1, 0, 1]
    assert [spoken_form(u["text"]) for u in utterances] == [spoken_form(line) for line in lines]


def test_a_clone_speaks_over_sse_and_the_websocket(http, emulator) -> None:
    voice = create(http, voice_audio(120.0)).json()["data"]["voiceId"]
    body = {"text": "Streams too.", "voice_id": voice, "sample_rate": RATE}

    sse = http.post(
        "/waves/v1/tts/live", headers={**AUTH, "Accept": "text/event-stream"}, json=body
    )
    url = emulator.base_url.replace("http://", "ws://") + "/waves/v1/tts/live"
    frames = []
    with connect(url, additional_headers=AUTH) as connection:
        connection.send(json.dumps(body))
        with contextlib.suppress(ConnectionClosedOK):
            while True:
                frames.append(json.loads(connection.recv(timeout=10)))

    events = [json.loads(line[6:]) for line in sse.text.splitlines() if line.startswith("data: ")]
    sse_pcm = b"".join(base64.b64decode(e["audio"]) for e in events if "audio" in e)
    ws_pcm = b"".join(
        base64.b64decode(f["data"]["audio"]) for f in frames if f["status"] == "chunk"
    )
    for pcm in (sse_pcm, ws_pcm):
        samples = np.frombuffer(pcm, dtype="<i2")
        assert " ".join(h.text or "?" for h in listen(samples, RATE)) == "streams too"
        assert pitch_of(samples.astype(np.float64) / 32768, RATE) == pytest.approx(120.0, rel=0.06)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "video/webm"),
    ],
    ids=["m4a", "webm"],
)
def test_mp4_and_webm_samples_are_taken_though_the_emulator_cannot_decode_them(
    http, head, mime
) -> None:
    audio = head + bytes(range(256)) * 200

    response = create(http, audio, filename="take.bin", mime=mime)

    assert response.status_code == 200, response.text
    assert listed(http)[0]["status"] == "completed"


# -- the retired cloning routes ---------------------------------------------------------------


def test_the_retired_clone_routes_answer_410_and_delete_nothing(http) -> None:
    voice = create(http, voice_audio(140.0)).json()["data"]["voiceId"]
    files = {"displayName": (None, "old"), "file": ("sample.wav", voice_audio(140.0), "audio/wav")}

    answers = [
        http.post("/waves/v1/lightning-large/add_voice", headers=AUTH, files=files),
        http.get("/waves/v1/lightning-large/get_cloned_voices", headers=AUTH),
        http.request("DELETE", "/waves/v1/lightning-large", headers=AUTH, json={"voiceId": voice}),
    ]

    for answer in answers:
        assert answer.status_code == 410
        assert answer.json()["error_code"] == "MODEL_DEPRECATED"
        assert answer.json()["recommended_endpoint"] == "/waves/v1/lightning-v3.1/get_speech"
    assert [clone["voiceId"] for clone in listed(http)] == [voice]


def test_an_old_lightning_large_clone_is_listed_and_gives_no_audio(http, emulator) -> None:
    seeded = httpx.post(
        f"{emulator.base_url}/_emulator/clones", headers=AUTH, json={"displayName": "old one"}
    )
    assert seeded.status_code == 200
    voice = seeded.json()["voiceId"]

    [clone] = listed(http)
    body = {"text": "Anyone there?", "voice_id": voice, "output_format": "wav"}
    speech = http.post("/waves/v1/tts", headers=SYNC, json=body)

    assert clone["modelIds"] == ["lightning-large"]
    assert clone["status"] == "completed"
    assert speech.status_code == 200
    assert len(speech.content) < 200  # REFERENCE §6.1: "an empty or ~100-200-byte WAV"
    assert sf.info(io.BytesIO(speech.content)).frames == 0
