"""The emulator's realtime speech to text over real loopback WebSockets: /waves/v1/stt/live
and the legacy /waves/v1/pulse/get_text."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from smallest_cli.emulator.catalog import BY_ID
from smallest_cli.emulator.speech import Synthesis, VoiceTimbre, spoken_form
from smallest_cli.emulator.stt_audio import OggPacketReader
from tests.conftest import TEST_KEY
from tests.shared import shared_path

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
LIVE = "/waves/v1/stt/live"
PULSE = "/waves/v1/pulse/get_text"
TEXT = "Modern problems require modern solutions. How are you today? I am fine."
RECEIVE_TIMEOUT = 10


def pcm(
    text: str = TEXT, rate: int = 16000, voice_id: str = "magnus", silence: float = 0.0
) -> bytes:
    voice = VoiceTimbre.for_voice(voice_id, BY_ID[voice_id].gender)
    audio = Synthesis(text, sample_rate=rate, timbre=voice).pcm()
    return audio + bytes(2 * int(silence * rate))


def url(base: str, path: str, query: str) -> str:
    return base.replace("http://", "ws://") + path + "?" + query


@contextmanager
def socket(
    emulator, path: str = LIVE, query: str = "model=pulse&language=en", base: str | None = None
) -> Iterator[ClientConnection]:
    with connect(
        url(base or emulator.base_url, path, query), additional_headers=AUTH
    ) as connection:
        yield connection


def receive_all(connection: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every event until the server closes, and its close code."""
    events = []
    try:
        while True:
            events.append(json.loads(connection.recv(timeout=RECEIVE_TIMEOUT)))
    except ConnectionClosed as closed:
        return events, closed.rcvd.code if closed.rcvd else None


def send_audio(connection: ClientConnection, audio: bytes, chunk: int = 4096) -> None:
    for start in range(0, len(audio), chunk):
        connection.send(audio[start : start + chunk])


def stream(
    emulator,
    audio: bytes,
    path: str = LIVE,
    query: str = "model=pulse&language=en",
    chunk: int = 4096,
    base: str | None = None,
):
    with socket(emulator, path, query, base) as connection:
        send_audio(connection, audio, chunk)
        connection.send(json.dumps({"type": "close_stream"}))
        return receive_all(connection)


def finals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == "transcription" and e["is_final"]]


def heard(events: list[dict[str, Any]]) -> str:
    """The session's transcript, case and punctuation aside."""
    return spoken_form(" ".join(e["transcript"] for e in finals(events)))


# -- hearing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 44100, 48000])
def test_streamed_tts_audio_transcribes_back_at_every_rate(emulator, rate) -> None:
    events, code = stream(
        emulator, pcm(rate=rate), query=f"model=pulse&language=en&sample_rate={rate}"
    )
    assert code == 1000
    assert heard(events) == spoken_form(TEXT)
    assert events[-1]["is_last"] is True and all(not e["is_last"] for e in events[:-1])


@pytest.mark.parametrize(("speed", "chunk"), [(0.5, 333), (2.0, 100), (1.0, 64000)])
def test_finals_follow_sentences_at_any_speed_and_chunking(emulator, speed, chunk) -> None:
    audio = Synthesis(TEXT, sample_rate=16000, speed=speed).pcm() + bytes(32000)
    events, _ = stream(emulator, audio, chunk=chunk)
    assert [e["transcript"] for e in finals(events)] == [
        "Modern problems require modern solutions.",
        "How are you today?",
        "I am fine.",
        "",
    ]


def _ogg_opus(rate: int = 48000) -> bytes:
    audio = np.frombuffer(pcm(rate=rate), dtype=np.int16)
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="OGG", subtype="OPUS")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("encoding", "rate"),
    [("linear32", 16000), ("mulaw", 8000), ("alaw", 8000), ("ogg_opus", 48000), ("opus", 16000)],
)
def test_every_encoding(emulator, encoding, rate) -> None:
    audio = np.frombuffer(pcm(rate=rate, silence=0.5), dtype=np.int16)
    query = f"model=pulse&language=en&encoding={encoding}&sample_rate={rate}"
    if encoding == "linear32":
        events, _ = stream(emulator, (audio.astype("<i4") << 16).tobytes(), query=query)
    elif encoding in ("mulaw", "alaw"):
        buffer = io.BytesIO()
        sf.write(
            buffer, audio, rate, format="RAW", subtype="ULAW" if encoding == "mulaw" else "ALAW"
        )
        events, _ = stream(emulator, buffer.getvalue(), query=query, chunk=1000)
    elif encoding == "ogg_opus":
        events, _ = stream(emulator, _ogg_opus(rate), query=query, chunk=777)
    else:  # raw Opus: one packet per frame
        packets = OggPacketReader().feed(_ogg_opus(48000))[2:]
        with socket(emulator, query=query) as connection:
            for packet in packets:
                connection.send(packet)
            connection.send(json.dumps({"type": "close_stream"}))
            events, _ = receive_all(connection)
    assert heard(events) == spoken_form(TEXT)


def test_a_leading_wav_header_is_skipped(emulator) -> None:
    audio = np.frombuffer(pcm(rate=24000), dtype=np.int16)
    buffer = io.BytesIO()
    sf.write(buffer, audio, 24000, format="WAV", subtype="PCM_16")
    query = "model=pulse&language=en&sample_rate=24000&word_timestamps=true"
    events, _ = stream(emulator, buffer.getvalue(), query=query, chunk=4096)
    assert heard(events) == spoken_form(TEXT)
    plain, _ = stream(emulator, audio.tobytes(), query=query)
    assert [w["start"] for e in finals(events) for w in e["words"]] == [
        w["start"] for e in finals(plain) for w in e["words"]
    ]


def test_audio_is_heard_while_it_streams(emulator) -> None:
    audio = pcm(silence=1.0)
    with socket(emulator) as connection:
        send_audio(connection, audio[: len(audio) // 2])
        first = json.loads(connection.recv(timeout=RECEIVE_TIMEOUT))  # before the rest is sent
        assert first["type"] == "transcription" and first["is_final"] is False
        assert first["transcript"] == "Modern"
        send_audio(connection, audio[len(audio) // 2 :])
        connection.send(json.dumps({"type": "close_stream"}))
        events, code = receive_all(connection)
    assert code == 1000 and heard([first, *events]) == spoken_form(TEXT)


def test_a_real_recording_streams_fast_and_deterministically(emulator) -> None:
    data = shared_path("audio", "pulse-feature-demo.wav").read_bytes()
    query = "model=pulse&language=en&sample_rate=24000"
    started = time.monotonic()
    events, code = stream(emulator, data, query=query)
    elapsed = time.monotonic() - started
    assert code == 1000 and elapsed < 22.5 / 4, elapsed  # far from the 22.5 s of real time
    again, _ = stream(emulator, data, query=query)
    assert [e["transcript"] for e in finals(events)] == [e["transcript"] for e in finals(again)]
    assert len(heard(events).split()) > 30


# -- the protocol ---------------------------------------------------------------------------------


def test_partials_finals_and_the_terminal_event_on_the_current_route(emulator) -> None:
    events, code = stream(emulator, pcm(silence=1.0))
    assert code == 1000
    assert {e["type"] for e in events} == {"transcription"}
    session = events[0]["session_id"]
    assert all(e["session_id"] == session and e["status"] == "success" for e in events)
    assert all(e["transcript"] == e["transcription"] for e in events)
    partial = events[0]
    assert list(partial) == [
        "type",
        "status",
        "session_id",
        "transcript",
        "transcription",
        "is_final",
        "is_last",
    ]
    final = finals(events)[0]
    assert final["transcript"] == "Modern problems require modern solutions."
    assert list(final) == [
        "type", "status", "session_id", "transcript", "transcription", "is_final", "is_last",
        "from_finalize", "language", "languages",
    ]  # fmt: skip
    assert (
        final["from_finalize"] is False
        and final["language"] == "en"
        and final["languages"] == ["en"]
    )
    assert [e["transcript"] for e in finals(events)] == [
        "Modern problems require modern solutions.",
        "How are you today?",
        "I am fine.",
        "",  # the terminal event: nothing was left
    ]
    kinds = [("F" if e["is_final"] else "p") for e in events]
    assert kinds[:6] == ["p", "p", "p", "p", "p", "F"]  # a partial per new word, then the final
    assert events[-1]["is_last"] is True and events[-1]["is_final"] is True


def test_legacy_route_differences(emulator) -> None:
    events, code = stream(
        emulator, pcm(silence=1.0), path=PULSE, query="language=en&sample_rate=16000"
    )
    assert code == 1000 and heard(events) == spoken_form(TEXT)
    assert all("words" in e for e in events)  # word_timestamps: on
    # the vendor's smoke test reads `transcription` here too (REFERENCE §0.9)
    assert all(e["transcription"] == e["transcript"] for e in events)
    assert list(events[0])[:5] == ["type", "status", "session_id", "transcript", "transcription"]
    assert all("from_finalize" not in e for e in events)  # only with itn_normalize
    itn, _ = stream(
        emulator,
        pcm("Call five five five."),
        path=PULSE,
        query="language=en&itn_normalize=true&word_timestamps=false",
    )
    assert finals(itn)[0]["transcript"] == "Call 555." and finals(itn)[0]["from_finalize"] is False
    assert "words" not in itn[0]
    auto, _ = stream(emulator, pcm("Hello there."), path=PULSE, query="")  # no language: auto
    assert auto[-1]["full_transcript"] == "Hello there." and auto[-1]["language"] == "en"
    pinned, _ = stream(
        emulator, pcm("Hello there."), path=PULSE, query="language=en&full_transcript=true"
    )
    assert all("full_transcript" not in e for e in pinned)  # ignored (observed)


def test_finalize_keeps_the_session_open(emulator) -> None:
    with socket(emulator, query="model=pulse&language=en&finalize_on_words=false") as connection:
        send_audio(connection, pcm("Hello there my friend"))
        connection.send(json.dumps({"type": "finalize"}))
        events = []
        while not (events and events[-1]["is_final"]):
            events.append(json.loads(connection.recv(timeout=RECEIVE_TIMEOUT)))
        assert (
            events[-1]["transcript"] == "Hello there my friend."
            and events[-1]["from_finalize"] is True
        )
        connection.send(json.dumps({"type": "finalize"}))  # nothing new: an empty final
        empty = json.loads(connection.recv(timeout=RECEIVE_TIMEOUT))
        assert (empty["transcript"], empty["is_final"], empty["from_finalize"]) == ("", True, True)
        send_audio(connection, pcm("See you soon"))
        connection.send(json.dumps({"type": "close_stream"}))
        rest, code = receive_all(connection)
    assert code == 1000 and finals(rest)[-1]["transcript"] == "See you soon."
    assert finals(rest)[-1]["is_last"] is True and finals(rest)[-1]["from_finalize"] is False


def test_word_count_and_max_words(emulator) -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen"
    default, _ = stream(emulator, pcm(text))
    assert [len(e["transcript"].split()) for e in finals(default)] == [10, 3]  # 3: the terminal
    capped, _ = stream(emulator, pcm(text), query="model=pulse&language=en&max_words=4")
    assert [len(e["transcript"].split()) for e in finals(capped)] == [4, 4, 4, 1]
    whole, _ = stream(emulator, pcm(TEXT), query="model=pulse&language=en&finalize_on_words=false")
    assert [e["transcript"] for e in finals(whole)] == [
        "Modern problems require modern solutions. How are you today? I am fine."
    ]


def test_silence_finalizes_by_eou_timeout_and_endpointing(emulator) -> None:
    audio = pcm("First part.", silence=0.5) + pcm("Second part.")  # a 0.65 s pause
    base = "model=pulse&language=en&finalize_on_words=false"
    endpointed, _ = stream(emulator, audio, query=base)  # endpointing: 0.5 s of silence
    assert [e["transcript"] for e in finals(endpointed)] == ["First part.", "Second part."]
    waiting, _ = stream(emulator, audio, query=base + "&endpointing=false")  # eou 800 ms
    assert [e["transcript"] for e in finals(waiting)] == ["First part. Second part."]
    short, _ = stream(emulator, audio, query=base + "&endpointing=false&eou_timeout_ms=300")
    assert [e["transcript"] for e in finals(short)] == ["First part.", "Second part."]


def test_word_and_sentence_timestamps_and_speakers(emulator) -> None:
    audio = pcm("Good morning, how are you?", voice_id="meher") + pcm(
        "I am well.", voice_id="magnus"
    )
    query = "model=pulse&language=en&word_timestamps=true&sentence_timestamps=true&diarize=true&finalize_on_words=false"
    events, _ = stream(emulator, audio, query=query)
    (final,) = finals(events)  # no pause long enough: all in the terminal event
    assert [w["speaker"] for w in final["words"]] == ["speaker_0"] * 5 + ["speaker_1"] * 3
    assert list(final["words"][0]) == [
        "word",
        "start",
        "end",
        "confidence",
        "speaker",
        "speaker_confidence",
    ]
    assert [(u["speaker"], u["text"]) for u in final["utterances"]] == [
        ("speaker_0", "Good morning how are you."),
        ("speaker_1", "I am well."),
    ]
    assert list(final["utterances"][0]) == ["text", "start", "end", "speaker"]
    legacy, _ = stream(emulator, audio, path=PULSE, query=query.replace("model=pulse&", ""))
    assert [w["speaker"] for w in finals(legacy)[0]["words"]] == [0] * 5 + [1] * 3
    partials = [e for e in events if not e["is_final"]]
    assert "utterances" not in partials[0] and partials[0]["words"][0]["word"] == "Good"


def test_vad_events(emulator) -> None:
    audio = bytes(16000) + pcm("Hello there.", silence=0.8) + pcm("Again.", silence=0.8)
    events, _ = stream(emulator, audio, query="model=pulse&language=en&vad_events=true")
    vad = [(e["type"], e["timestamp"]) for e in events if e["type"] != "transcription"]
    assert [kind for kind, _ in vad] == [
        "speech_started",
        "speech_ended",
        "speech_started",
        "speech_ended",
    ]
    assert vad[0][1] == pytest.approx(
        0.5 + 0.05, abs=0.02
    )  # 0.5 s of silence, then the TTS lead-in
    assert all(e["session_id"] == events[0]["session_id"] for e in events)
    assert list(events[0]) == ["type", "session_id", "timestamp"]
    for chunk in (1000, 3200, 100000):  # speech_ended does not depend on how audio was cut
        cut, _ = stream(
            emulator, audio, query="model=pulse&language=en&vad_events=true", chunk=chunk
        )
        assert [(e["type"], e["timestamp"]) for e in cut if e["type"] != "transcription"] == vad
    alias, _ = stream(emulator, pcm("Hello there."), query="model=pulse&language=en&vad=true")
    assert [e["type"] for e in alias if e["type"] != "transcription"] == [
        "speech_started"
    ]  # no trailing silence
    wins, _ = stream(
        emulator, pcm("Hello."), query="model=pulse&language=en&vad=true&vad_events=false"
    )
    assert {e["type"] for e in wins} == {"transcription"}


def test_itn_and_redaction_on_finals_only(emulator) -> None:
    text = "My name is John Smith and my phone is five five five one two three four."
    query = "model=pulse&language=en&itn_normalize=true&redact_pii=true&finalize_on_words=false&word_timestamps=true"
    events, _ = stream(emulator, pcm(text, silence=1.0), query=query)
    final = finals(events)[0]
    assert (
        final["transcript"]
        == "My name is [FIRSTNAME_1] [LASTNAME_1] and my phone is [PHONENUMBER_1]."
    )
    assert final["redacted_entities"] == ["[FIRSTNAME_1]", "[LASTNAME_1]", "[PHONENUMBER_1]"]
    assert [w["word"] for w in final["words"]][3:5] == ["[firstname_1]", "[lastname_1]"]
    assert any("John Smith" in e["transcript"] for e in events if not e["is_final"])  # raw partials
    assert finals(events)[-1]["redacted_entities"] == []
    numbers, _ = stream(
        emulator,
        pcm("It costs twenty three dollars."),
        query="model=pulse&language=en&itn_normalize=true",
    )
    assert finals(numbers)[0]["transcript"] == "It costs $23."
    unformatted, _ = stream(
        emulator,
        pcm("It costs twenty three dollars."),
        query="model=pulse&language=en&itn_normalize=true&format=false",
    )
    assert (
        finals(unformatted)[0]["transcript"] == "it costs $23"
    )  # ITN survives format=false (observed)


def test_full_transcript_and_keywords(emulator) -> None:
    events, _ = stream(
        emulator,
        pcm("Jensen talked about blackwell. It was great.", silence=1.0),
        query="model=pulse&language=en&full_transcript=true&keywords=Blackwell:2,Jensen",
    )
    assert [e["full_transcript"] for e in finals(events)] == [
        "Jensen talked about Blackwell.",
        "Jensen talked about Blackwell. It was great.",
        "Jensen talked about Blackwell. It was great.",
    ]
    assert all("full_transcript" in e for e in events)


# -- errors, limits and regions ---------------------------------------------------------------------


@pytest.mark.no_contract
@pytest.mark.parametrize(
    ("path", "query", "body"),
    [
        (
            LIVE,
            "language=en",
            {"error": "Missing required query param: model. Supported values: pulse | pulse-pro."},
        ),
        (
            LIVE,
            "model=pulse-pro&language=en",
            {
                "error": "Pulse Pro has no streaming transport. Use POST /waves/v1/stt/?model=pulse-pro instead."
            },
        ),
        (LIVE, "model=pulse", {"error": "Missing required query param: language."}),
        (LIVE, "model=pulse&language=multi-eu", None),
        (
            LIVE,
            "model=pulse&language=en&encoding=flac",
            {
                "error": "Invalid value for encoding: 'flac'. Supported values: linear16 | linear32 | alaw | mulaw | opus | ogg_opus."
            },
        ),
        (LIVE, "model=pulse&language=en&sample_rate=11025", None),
        (
            LIVE,
            "model=pulse&language=en&eou_timeout_ms=50",
            {
                "error": "Invalid value for eou_timeout_ms: '50'. Expected an integer from 100 to 10000."
            },
        ),
        (LIVE, "model=pulse&language=en&external_session_id=a%20b", None),
        (
            LIVE,
            "model=pulse&language=en&keywords=a,,b",
            {"error": "Invalid keywords: empty entry in 'a,,b'."},
        ),
        (
            PULSE,
            "language=en&diarize=maybe",
            {
                "errors": "Invalid value for diarize: 'maybe'. Expected true or false.",
                "status": "error",
                "message": "Invalid query parameters",
            },
        ),
    ],
)
def test_bad_queries_are_refused_before_the_upgrade(emulator, path, query, body) -> None:
    with pytest.raises(InvalidStatus) as refused:
        with socket(emulator, path, query):
            pass
    response = refused.value.response
    assert response.status_code == 400
    answer = json.loads(response.body)
    if body is not None:
        assert {k: v for k, v in answer.items() if k != "request_id"} == body
    if path == LIVE:
        assert set(answer) == {"error", "request_id"}


@pytest.mark.no_contract
def test_keys_are_checked_on_the_upgrade(emulator) -> None:
    for path, missing, bad in [
        (PULSE, {"message": "Unauthorized: No tokens provided"}, {"error": "unauthorized"}),
        (LIVE, None, None),
    ]:
        for headers, expected in (({}, missing), ({"Authorization": "Bearer nope"}, bad)):
            with pytest.raises(InvalidStatus) as refused:
                with connect(
                    url(emulator.base_url, path, "model=pulse&language=en"),
                    additional_headers=headers,
                ):
                    pass
            assert refused.value.response.status_code == 401
            if expected is not None:
                assert json.loads(refused.value.response.body) == expected


def test_regions(emulator) -> None:
    for path, query in ((LIVE, "model=pulse&language=zh"), (PULSE, "language=multi-asian")):
        with socket(emulator, path, query) as connection:  # India: closed without a frame
            with pytest.raises(ConnectionClosed) as closed:
                connection.recv(timeout=RECEIVE_TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        assert "only served in the US region" in closed.value.rcvd.reason
        events, code = stream(
            emulator, pcm("Hello."), path=path, query=query, base=emulator.us_base_url
        )
        assert code == 1000 and heard(events) == "hello"
    for path, query in ((LIVE, "model=pulse&language=ta"), (PULSE, "language=multi-south-indic")):
        with socket(emulator, path, query, base=emulator.us_base_url) as connection:
            events, code = receive_all(connection)
        language = query.rsplit("=", 1)[1]
        assert code == 1000 and events == [
            {
                "type": "error",
                "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION",
                "message": f"Language '{language}' has not been enabled in this region. Please contact support to request access.",
                "session_id": str(uuid.UUID(events[0]["session_id"])),  # a UUID
            }
        ]
        events, code = stream(emulator, pcm("Hello."), path=path, query=query)  # India serves it
        assert code == 1000 and heard(events) == "hello"


def test_sessions_beyond_the_limit_are_closed_with_1008(emulator) -> None:
    emulator.state.limits.set_stt_sessions(2)
    with socket(emulator) as first, socket(emulator, PULSE, "language=en") as second:
        with socket(emulator) as third:
            events, code = receive_all(third)
        assert code == 1008
        assert events == [
            {
                "type": "error",
                "status": "error",
                "message": "Too many concurrent sessions: at most 2 per API key.",
                "session_id": str(uuid.UUID(events[0]["session_id"])),  # a UUID
            }
        ]
        first.send(json.dumps({"type": "close_stream"}))
        receive_all(first)
        with socket(emulator, base=emulator.us_base_url) as fourth:  # a slot is free again
            fourth.send(json.dumps({"type": "close_stream"}))
            assert receive_all(fourth)[1] == 1000
        second.send(json.dumps({"type": "close_stream"}))


def test_idle_sessions_time_out(emulator) -> None:
    emulator.state.limits.stt_idle_seconds = 0.3
    with socket(emulator) as connection:
        send_audio(connection, pcm("Hi."))
        events, code = receive_all(connection)
    assert code == 1000
    assert events[-1] == {
        "type": "error",
        "status": "error",
        "message": "Connection timed out after 0.3 seconds of inactivity",
        "session_id": events[0]["session_id"],
    }


@pytest.mark.no_contract
def test_unknown_control_messages_end_the_session(emulator) -> None:
    for text in ("hello", json.dumps({"type": "keepalive"})):
        with socket(emulator) as connection:
            connection.send(text)
            events, code = receive_all(connection)
        assert code == 1000 and events[0]["type"] == "error"
        assert events[0]["message"].startswith("Unsupported message")


def test_bad_ogg_stream_is_an_error_frame(emulator) -> None:
    with socket(
        emulator, query="model=pulse&language=en&encoding=ogg_opus&sample_rate=48000"
    ) as connection:
        connection.send(b"this is not ogg at all, not even close to it")
        events, code = receive_all(connection)
    assert code == 1000 and events[0]["type"] == "error"
    assert events[0]["message"].startswith("Cannot decode the audio as ogg_opus")


def test_the_session_records_its_own_processing_time(emulator) -> None:
    events, code = stream(emulator, pcm())
    assert events[-1]["is_last"] is True and code == 1000
    [session] = [e for e in emulator.state.exchanges() if e.path == LIVE]
    assert session.processing_ms is not None and 0 <= session.processing_ms < 5000
    assert session.to_json()["processing_ms"] == session.processing_ms
