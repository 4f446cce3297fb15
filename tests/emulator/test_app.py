"""The emulator over real loopback HTTP: auth bodies, catalog, faults, control surface."""

from __future__ import annotations

import threading

import httpx
import pytest

from smallest_cli.emulator.limits import ConcurrencyLimiter, LimitExceeded, RateLimiter
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


def test_get_voices_catalog_is_realistic(http) -> None:
    response = http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["x-emulator"].endswith("synthetic audio and transcripts")
    assert response.headers["x-request-id"]
    voices = response.json()["voices"]
    assert len(voices) >= 36
    ids = {v["voiceId"] for v in voices}
    assert {"magnus", "meher", "avery", "liam", "devansh", "kartik", "maithili", "mishka"} <= ids
    assert {v["tags"]["gender"] for v in voices} == {"male", "female"}
    assert {"american", "british", "indian"} <= {v["tags"]["accent"] for v in voices}
    assert {"young", "middle aged", "senior"} == {v["tags"]["age"] for v in voices}
    languages = {lang for v in voices for lang in v["tags"]["language"]}
    assert len(languages) >= 25 and {"english", "hindi", "tamil", "japanese", "arabic"} <= languages


def test_get_all_voices_has_ids_and_descriptions(http) -> None:
    voices = http.get("/waves/v1/voice/get-all-models", headers=AUTH).json()["voices"]
    mishka = next(v for v in voices if v["voiceId"] == "mishka")
    assert len(mishka["_id"]) == 24
    assert mishka["description"].startswith("A youthful Indian female voice")
    assert all(v["description"] for v in voices)


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/waves/v1/nonsense/get_voices", 404, "Model 'nonsense' not found"),
        ("/waves/v1/no/such/route", 404, "Cannot GET"),
    ],
)
def test_unknown_routes(http, path: str, status: int, body: str) -> None:
    response = http.get(path, headers=AUTH)
    assert response.status_code == status
    assert body in response.text


@pytest.mark.parametrize(
    ("headers", "path", "body"),
    [
        (
            {},
            "/waves/v1/lightning-v3.1/get_voices",
            {"error": "Unauthorized", "message": "Bearer token is missing or invalid."},
        ),
        (
            {"Authorization": "Bearer nope"},
            "/waves/v1/voice/get-all-models",
            {"error": "Unauthorized", "message": "Bearer token is missing or invalid."},
        ),
        (
            {"Authorization": f"Token {TEST_KEY}"},
            "/waves/v1/lightning-v3.1/get_voices",
            {"error": "Unauthorized", "message": "Bearer token is missing or invalid."},
        ),
        ({}, "/waves/v1/pulse/get_text", {"message": "Unauthorized: No tokens provided"}),
        ({"Authorization": "Bearer nope"}, "/waves/v1/pulse/get_text", {"error": "unauthorized"}),
        ({}, "/waves/v1/pronunciation-dicts", {"error": "Unauthorized"}),
        ({}, "/waves/v1/voice-cloning", {"error": "Unauthorized"}),
    ],
)
@pytest.mark.no_contract
def test_401_bodies_per_service(http, headers, path, body) -> None:
    response = http.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == body


@pytest.mark.no_contract
def test_401_for_stt_and_electron_shapes(http) -> None:
    stt = http.post("/waves/v1/stt/", params={"model": "pulse"}).json()
    assert stt["error"] and stt["request_id"]
    llm = http.post("/waves/v1/chat/completions", json={}).json()
    assert llm["error"]["type"] == "authentication_error" and llm["error"]["request_id"]


@pytest.mark.no_contract
def test_status_fault_counts_down_and_carries_retry_after(http, emulator) -> None:
    emulator.state.faults.replace(["429:2*2@/waves/v1/lightning-v3.1"], 0)
    first = http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json() == {
        "error": "TooManyRequests",
        "message": "Too Many Requests (fault injected by the emulator)",
    }
    assert http.get("/waves/v1/voice/get-all-models", headers=AUTH).status_code == 200  # other path
    assert http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH).status_code == 429
    assert http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH).status_code == 200
    assert [e.fault for e in emulator.state.exchanges()] == [
        "429:2*2@/waves/v1/lightning-v3.1",
        None,
        "429:2*2@/waves/v1/lightning-v3.1",
        None,
    ]


def test_drop_fault_cuts_the_body(http, emulator) -> None:
    emulator.state.faults.replace(["drop*1"], 0)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH)
    assert http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH).status_code == 200


def test_latency(http, emulator) -> None:
    emulator.state.faults.replace([], 300)
    response = http.get("/waves/v1/voice/get-all-models", headers=AUTH)
    assert response.elapsed.total_seconds() >= 0.3


@pytest.mark.no_contract
def test_control_surface(http, emulator) -> None:
    assert http.get("/_emulator/health").json()["status"] == "ok"
    assert http.put("/_emulator/faults", json={"faults": ["503*1"], "latency_ms": 5}).json() == {
        "latency_ms": 5.0,
        "faults": ["503*1"],
    }
    bad = http.put("/_emulator/faults", json={"faults": ["nope"]})
    assert bad.status_code == 400 and "bad fault 'nope'" in bad.json()["error"]
    assert http.get("/waves/v1/voice/get-all-models", headers=AUTH).status_code == 503
    assert http.get("/_emulator/faults").json() == {"latency_ms": 5.0, "faults": []}
    assert http.delete("/_emulator/faults").json() == {"latency_ms": 0.0, "faults": []}
    assert http.put("/_emulator/limits", json={"tts_concurrency": 4}).json()["tts_concurrency"] == 4
    assert emulator.state.limits.tts.limit == 4
    log = http.get("/_emulator/requests").json()
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [
        ("/waves/v1/voice/get-all-models", 503, "503*1")
    ]
    assert log[0]["headers"]["authorization"] == "Bearer sk_…cdef"  # the key is never kept whole
    assert http.delete("/_emulator/requests").json() == [] and emulator.state.exchanges() == []


def test_concurrency_limiter_per_key() -> None:
    limiter = ConcurrencyLimiter(1)
    with limiter.slot("a"):
        with pytest.raises(LimitExceeded):
            with limiter.slot("a"):
                pass
        with limiter.slot("b"):
            assert limiter.active("b") == 1
    with limiter.slot("a"):
        assert limiter.active("a") == 1
    assert limiter.active("a") == 0


def test_concurrency_limiter_under_threads() -> None:
    limiter = ConcurrencyLimiter(3)
    barrier, admitted, refused = threading.Barrier(8), [], []

    def worker() -> None:
        barrier.wait()
        try:
            with limiter.slot("k"):
                admitted.append(1)
                barrier_done.wait()
        except LimitExceeded:
            refused.append(1)
            barrier_done.wait()

    barrier_done = threading.Barrier(8)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(admitted), len(refused)) == (3, 5)


def test_rate_limiter_sliding_minute() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("k")
    now[0] += 10
    limiter.check("k")
    with pytest.raises(LimitExceeded) as caught:
        limiter.check("k")
    assert caught.value.retry_after == pytest.approx(50.0)
    limiter.check("other")
    now[0] += 50
    limiter.check("k")


def test_get_all_voices_links_previews_served_without_a_key(http, emulator) -> None:
    import io

    import soundfile as sf

    from smallest_cli.emulator.catalog import WITHOUT_PREVIEW
    from smallest_cli.emulator.speech import listen, spoken_form

    voices = http.get("/waves/v1/voice/get-all-models", headers=AUTH).json()["voices"]
    missing = {v["voiceId"] for v in voices if "audioPreview" not in v}
    assert missing == WITHOUT_PREVIEW and len(missing) == 5
    mishka = next(v for v in voices if v["voiceId"] == "mishka")
    assert list(mishka) == ["_id", "voiceId", "displayName", "description", "audioPreview", "tags"]
    assert mishka["audioPreview"] == f"{emulator.base_url}/_emulator/previews/mishka.wav"
    preview = httpx.get(mishka["audioPreview"])  # no Authorization, like the live CDN
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(preview.content), dtype="int16")
    assert rate == 24000 and audio.ndim == 1
    said = " ".join(h.text or "?" for h in listen(audio, rate))
    assert said == spoken_form("Hello, I am Mishka. This is how my voice sounds.")
    assert http.get("/_emulator/previews/kai.wav").status_code == 404  # listed without one
    assert http.get("/_emulator/previews/nobody.wav").status_code == 404


@pytest.mark.no_contract
def test_pacing_control(http, emulator) -> None:
    zero = {
        "first_audio_ms": 0,
        "rtf": 0,
        "stt_ms": 0,
        "stt_rtf": 0,
        "chat_first_token_ms": 0,
        "chat_token_ms": 0,
        "clone_ms": 0,
    }
    assert http.get("/_emulator/pacing").json() == zero
    changed = http.put("/_emulator/pacing", json={"first_audio_ms": 120, "rtf": 0.3})
    assert changed.json() == {**zero, "first_audio_ms": 120.0, "rtf": 0.3}
    assert http.put("/_emulator/pacing", json={"stt_ms": 80, "stt_rtf": 0.1}).json()["stt_ms"] == 80
    assert http.put("/_emulator/pacing", json={"rtf": 0.5}).json()["first_audio_ms"] == 120.0
    for bad in ({"rtf": -1}, {"first_audio_ms": "soon"}, [1], {"rtf": "inf"}, {"stt_rtf": -1}):
        refused = http.put("/_emulator/pacing", json=bad)
        assert refused.status_code == 400 and refused.json()["error"]
    assert http.put("/_emulator/pacing", content=b"{").status_code == 400
    assert http.put("/_emulator/pacing", json={"clone_ms": 2}).json()["clone_ms"] == 2
    assert http.put("/_emulator/pacing", json={"chat_token_ms": 7}).json()["chat_token_ms"] == 7
    assert http.put("/_emulator/pacing", json={"chat_first_token_ms": -1}).status_code == 400
    expected = {**zero, "first_audio_ms": 120.0, "rtf": 0.5, "stt_ms": 80.0, "stt_rtf": 0.1}
    expected["chat_token_ms"] = 7.0
    expected["clone_ms"] = 2.0
    assert emulator.state.pacing.to_json() == expected


def test_stt_limits_control(http, emulator) -> None:
    changed = http.put(
        "/_emulator/limits",
        json={"stt_per_minute": 4, "stt_sessions": 9, "stt_idle_seconds": 5, "clone_limit": 3},
    ).json()
    assert changed == {
        "tts_concurrency": 1,
        "stt_per_minute": 4,
        "stt_sessions": 9,
        "stt_idle_seconds": 5.0,
        "chat_per_minute": 10,
        "chat_concurrency": 3,
        "clone_limit": 3,
    }
    assert emulator.state.limits.clone_limit == 3
    assert emulator.state.limits.stt_sessions.limit == 9
    assert http.put("/_emulator/limits", json={"stt_idle_seconds": 0}).status_code == 400
    assert http.get("/_emulator/webhooks").json() == []
