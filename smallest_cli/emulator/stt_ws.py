"""Realtime speech to text (REFERENCE §5, §10.5–10.7): `wss://…/waves/v1/stt/live` and the
legacy `wss://…/waves/v1/pulse/get_text`.

Handshake. The key is checked by the middleware (HTTP 401 before the upgrade). Then the
query; a bad one is refused with HTTP 400 before the upgrade, in the route's error shape:
`{"error": str, "request_id"}` on /stt/live, `{"errors": str, "status": "error",
"message": "Invalid query parameters"}` on the legacy route.

* /stt/live: `model` is required (`pulse`); `model=pulse-pro` gets 400 "Pulse Pro has no
  streaming transport. Use POST /waves/v1/stt/?model=pulse-pro instead."; a missing or
  other model, or a missing or unlisted `language` (streaming list, REFERENCE §10.1), 400.
* legacy: `language` is optional and not checked against the list (the live server took
  an omitted `language`, `multi-eu` and even `multi`, observed); unknown codes act as
  auto-detection and report `en`.
* both: `encoding` linear16|linear32|alaw|mulaw|opus|ogg_opus (default linear16),
  `sample_rate` 8000|16000|22050|24000|44100|48000 (default 16000), the booleans,
  `eou_timeout_ms` 100–10000, `max_words` 1–10000, `keywords` (at most 10,000 entries),
  `external_session_id` (`^[a-zA-Z0-9_\\-.]+$`, ≤128 chars; stored nowhere, never echoed).

Regions (REFERENCE §10.1; the emulator's India port is `base_url`, its US port
`us_base_url`):

* on the India port, `zh yue ja ko multi-asian` are accepted and the socket is closed at
  once with code 1011, reason "Language 'zh' is only served in the US region", and no
  frame (the docs: "closes without any transcription frame"; the code is UNKNOWN);
* on the US port, `ta te kn ml multi-south-indic` get `{"type": "error", "error_code":
  "LANGUAGE_NOT_ENABLED_IN_REGION", "message": "Language 'ta' has not been enabled in this
  region. Please contact support to request access.", "session_id"}`, then close 1000.

Sessions: at most 100 open per key across both routes and regions (settable:
`--stt-sessions`, `SMALLEST_EMULATOR_STT_SESSIONS`, `PUT /_emulator/limits
{"stt_sessions": N}`); one more is accepted, gets `{"type": "error", "status": "error",
"message": "Too many concurrent sessions…", "session_id"}` and is closed with 1008.

Known recordings (`recordings`, `--transcripts DIR`): while the emulator has any, a session
hears nothing until its first 1.5 s of audio (or a finalize/close_stream) have come, by
which it recognises a known recording; then that recording's words are sent, each once the
sound it falls in has been heard.

Client → server: binary frames of audio (see `stt_audio`: the declared encoding and rate,
any split, a leading WAV header skipped; `opus` = one packet per frame); JSON text
`{"type": "finalize"}` and `{"type": "close_stream"}`. Anything else (a text frame that is
not one of these) gets an error frame and the socket is closed (1000).

Server → client (JSON text), every one with `session_id` (a UUID for the connection):

* `{"type": "transcription", "status": "success", "session_id", "transcript",
  "transcription", "is_final", "is_last", …}`: `transcription` is the same text as
  `transcript`, on both routes (REFERENCE §0.9: the vendor's smoke test of the legacy route
  reads it).
  - partial (`is_final: false, is_last: false`): the current utterance so far, sent each
    time new words are heard in it; no ITN, no redaction (as the docs warn), no trailing
    full stop. With `word_timestamps`, its `words`.
  - final (`is_final: true`): the utterance, formatted, ITN'd and redacted, ending with a
    full stop (the live server ended every final so, observed); `language` and `languages`
    (`[language]`); `from_finalize` (true when a client `finalize` made it) on every final on
    /stt/live, and on the legacy route only with `itn_normalize=true` (its docs page says
    so, and the live server sent none without it, observed); `words` with
    `word_timestamps`, `utterances` (one per sentence) with `sentence_timestamps`,
    `redacted_entities` (this final's placeholders) with `redact_pii`/`redact_pci`.
  - the terminal event after `close_stream`: a final with `is_last: true`, holding what was
    left (possibly `""`), then the server closes with 1000.
  - `full_transcript` (the finals so far, joined by spaces; on a final, including it): on
    /stt/live with `full_transcript=true`; on the legacy route only when `language` is
    omitted or not a single code (the live server ignored `full_transcript=true` there and
    sent the field only in auto-detect sessions, observed).
  - `words[]`: `{"word", "start", "end", "confidence"}` plus `speaker`, `speaker_confidence`
    with `diarize=true`; seconds since the first audio; `speaker` is an integer from 0 on
    the legacy route and the string `"speaker_0"`, `"speaker_1"`… on /stt/live (its spec
    types it string). `utterances[]`: `{"text", "start", "end"}` (+ `speaker`).
* `{"type": "speech_started" | "speech_ended", "session_id", "timestamp"}` with
  `vad_events=true` (or `vad=true`; `vad_events` wins when both are given): started at the
  onset of sound after silence, ended at the end of the last sound once 0.5 s of silence has
  followed it (so, as documented, none without trailing silence).
* `{"type": "error", "status": "error", "message", "session_id"}`, then close 1000.

When finals happen (audio time, measured in the audio received, not the wall clock; a
client that stops sending stops the clocks too):

* `finalize` (always; one final even if nothing was heard, with `from_finalize: true`);
* `max_words=N`: as soon as the utterance has N words;
* `finalize_on_words` (default true): at a sentence end (a pause as `stt_text` defines it,
  ~0.2 s for the emulator's TTS at normal speed) or at 10 words (the live server's finals
  held at most 10, observed), whichever comes first; `false` turns both off (the live
  server then sent finals only at long pauses, observed);
* silence after the last word of at least `eou_timeout_ms` (default 800), or, with
  `endpointing` (default true, on both routes: UNKNOWN for the legacy one), at least 0.5 s
  when that is shorter.

Audio is heard as it arrives, every 100 ms of new audio (Opus: every 0.4 s), so partials
and finals come while the client is still sending.

Decided where the sources are silent (UNKNOWN): a session that receives no message for
60 s (settable: `PUT /_emulator/limits {"stt_idle_seconds": N}`) gets `{"type": "error",
"status": "error", "message": "Connection timed out after 60 seconds of inactivity",
"session_id"}` and close 1000; there is no keepalive message. `keywords` give their casing
to the words they match, and one boosted above 5 turns every stand-in word (real speech)
into it (see `stt_text.apply_keywords`); they cannot change the emulator's own words.
Redaction numbering runs for the whole session. `x-expire-content` is accepted and has no
visible effect (REFERENCE §2.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import anyio.to_thread
import numpy as np
from starlette.datastructures import Headers
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from smallest_cli.emulator.handshake import Message, Receive, Scope, Send, deny
from smallest_cli.emulator.limits import LimitExceeded
from smallest_cli.emulator.recordings import HEAD_SECONDS, Script
from smallest_cli.emulator.state import US, EmulatorState
from smallest_cli.emulator.stt_audio import (
    ENCODINGS,
    STREAM_SAMPLE_RATES,
    AudioError,
    Ear,
    Onset,
    Sound,
    StreamDecoder,
)
from smallest_cli.emulator.stt_request import (
    EXTERNAL_ID,
    STREAM_LANGUAGES,
    BadParam,
    Formatting,
    choice,
    detected_language,
    flag,
    integer,
    not_enabled_message,
    query_of,
    region_refuses,
    sample_rate_choice,
)
from smallest_cli.emulator.stt_text import (
    Redactor,
    Token,
    Written,
    diarize,
    mark_sentences,
    mark_turns,
    pause_threshold,
    seconds,
    tokens_of,
    write,
)
from smallest_cli.emulator.tts import bearer_key, exchange_of

Kind = Literal["live", "pulse"]

FINALIZE_WORDS = 10
ENDPOINT_SECONDS = 0.5
VAD_HANGOVER_SECONDS = 0.5
HEAR_EVERY_SECONDS = 0.1
NORMAL_CLOSURE = 1000
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
PRO_MESSAGE = (
    "Pulse Pro has no streaming transport. Use POST /waves/v1/stt/?model=pulse-pro instead."
)


@dataclass(frozen=True)
class Settings:
    """A session's validated query."""

    kind: Kind
    language: str | None
    encoding: str = "linear16"
    sample_rate: int = 16000
    word_timestamps: bool = False
    sentence_timestamps: bool = False
    diarize: bool = False
    vad: bool = False
    endpointing: bool = True
    eou_seconds: float = 0.8
    finalize_on_words: bool = True
    max_words: int | None = None
    full_transcript: bool = False
    formatting: Formatting = Formatting()

    @property
    def reported_language(self) -> str:
        """The language finals report: the pinned code, else `en` (auto-detection)."""
        return self.formatting.language

    @property
    def from_finalize_field(self) -> bool:
        return self.kind == "live" or self.formatting.itn


def settings_of(kind: Kind, query: Mapping[str, str]) -> Settings:
    """Validate a session's query (BadParam says what is wrong)."""
    language = query.get("language") or None
    if kind == "live":
        model = query.get("model")
        if not model:
            raise BadParam(
                "Missing required query param: model. Supported values: pulse | pulse-pro."
            )
        if model == "pulse-pro":
            raise BadParam(PRO_MESSAGE)
        if model != "pulse":
            raise BadParam(
                f"Invalid query param: model='{model}'. Supported values: pulse | pulse-pro."
            )
        if language is None:
            raise BadParam("Missing required query param: language.")
        if language not in STREAM_LANGUAGES:
            raise BadParam(
                f"Unsupported language '{language}' for streaming. "
                f"Supported values: {' | '.join(STREAM_LANGUAGES)}."
            )
    encoding = choice(query, "encoding", ENCODINGS, "linear16") or "linear16"
    sample_rate = sample_rate_choice(query, STREAM_SAMPLE_RATES)
    eou = integer(query, "eou_timeout_ms", 100, 10000, 800) or 800
    max_words = integer(query, "max_words", 1, 10000)
    session_id = query.get("external_session_id")
    if session_id is not None and not EXTERNAL_ID.fullmatch(session_id):
        raise BadParam(
            "Invalid external_session_id: use up to 128 letters, digits, '_', '-' or '.'."
        )
    vad = flag(query, "vad_events", False) if "vad_events" in query else flag(query, "vad", False)
    reported = detected_language(language) if language in STREAM_LANGUAGES else "en"
    if kind == "live":
        full = flag(query, "full_transcript", False)
    else:
        flag(query, "full_transcript", False)  # accepted, ignored (observed)
        full = language not in STREAM_LANGUAGES or language in (
            "north_indic",
            "multi-asian",
            "multi-south-indic",
        )
    return Settings(
        kind=kind,
        language=language,
        encoding=encoding,
        sample_rate=sample_rate,
        word_timestamps=flag(query, "word_timestamps", kind == "pulse"),
        sentence_timestamps=flag(query, "sentence_timestamps", False),
        diarize=flag(query, "diarize", False),
        vad=vad,
        endpointing=flag(query, "endpointing", True),
        eou_seconds=eou / 1000,
        finalize_on_words=flag(query, "finalize_on_words", True),
        max_words=max_words,
        full_transcript=full,
        formatting=Formatting.from_query(query, reported, realtime=True),
    )


def _denial(kind: Kind, message: str) -> dict[str, Any]:
    if kind == "live":
        return {"error": message, "request_id": str(uuid.uuid4())}
    return {"errors": message, "status": "error", "message": "Invalid query parameters"}


class _Endpoint:
    """The socket route of one kind, as a plain ASGI app."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state.emulator
        assert isinstance(state, EmulatorState)
        try:
            settings = settings_of(self.kind, query_of(scope.get("query_string", b"")))
        except BadParam as bad:
            await deny(scope, receive, send, 400, _denial(self.kind, str(bad)))
            return
        websocket = WebSocket(scope, receive, send)
        session_id = str(uuid.uuid4())
        region = state.region_of(scope)
        language = settings.language
        if language is not None and region_refuses(language, region, streaming=True):
            await websocket.accept()
            if region == US:
                frame = {
                    "type": "error",
                    "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION",
                    "message": not_enabled_message(language),
                    "session_id": session_id,
                }
                await _farewell(websocket, frame, NORMAL_CLOSURE)
            else:
                reason = f"Language '{language}' is only served in the US region"
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                    await websocket.close(INTERNAL_ERROR, reason)
            return
        key = bearer_key(Headers(scope=scope))
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(state.limits.stt_sessions.slot(key))
            except LimitExceeded:
                await websocket.accept()
                limit = state.limits.stt_sessions.limit
                frame = _error(
                    session_id, f"Too many concurrent sessions: at most {limit} per API key."
                )
                await _farewell(websocket, frame, POLICY_VIOLATION)
                return

            async def releasing(message: Message) -> None:
                if message["type"] == "websocket.close":
                    stack.close()
                await send(message)

            session = _Session(WebSocket(scope, receive, releasing), state, settings, session_id)
            await session.run()


def _error(session_id: str, message: str) -> dict[str, Any]:
    return {"type": "error", "status": "error", "message": message, "session_id": session_id}


async def _farewell(websocket: WebSocket, frame: dict[str, Any], code: int) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(json.dumps(frame))
        await websocket.close(code)


class _Closed(Exception):
    """The session is over (the client left, or the server closed it)."""


class _Session:
    """One connection: audio in, events out, in the order things are heard."""

    def __init__(
        self, websocket: WebSocket, state: EmulatorState, settings: Settings, session_id: str
    ) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = settings
        self.session_id = session_id
        self.decoder = StreamDecoder(settings.encoding, settings.sample_rate)
        self.ear = Ear(self.decoder.sample_rate)
        self.pending: list[np.ndarray] = []
        self.pending_samples = 0
        self.utterance: list[Token] = []
        self.history: list[Token] = []  # every word of the session (for speakers)
        self.pauses: list[float] = []
        self.finals: list[str] = []
        self.redactor = Redactor(
            pii=settings.formatting.redact_pii, pci=settings.formatting.redact_pci
        )
        self.speaking = False
        self.last_sound_end = 0.0
        self.changed = False
        self.identifying = state.recordings is not None  # until its first 1.5 s are heard
        self.script: Script | None = None  # the known recording this stream is, if any

    async def run(self) -> None:
        await self.websocket.accept()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(
                        self.websocket.receive(), self.state.limits.stt_idle_seconds
                    )
                except asyncio.TimeoutError:
                    idle = self.state.limits.stt_idle_seconds
                    shown = int(idle) if float(idle).is_integer() else idle
                    await self._fail(f"Connection timed out after {shown} seconds of inactivity")
                    return
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await self._audio(message["bytes"])
                elif not await self._control(message.get("text") or ""):
                    return
        except (_Closed, WebSocketDisconnect):
            return
        except AudioError as exc:
            await self._fail(f"Cannot decode the audio as {self.settings.encoding}: {exc}")

    # -- input ---------------------------------------------------------------------------------

    async def _audio(self, data: bytes) -> None:
        samples = self.decoder.feed(data)
        if len(samples):
            self.pending.append(samples)
            self.pending_samples += len(samples)
        if self.identifying:
            if self.pending_samples < HEAD_SECONDS * self.ear.rate:
                return
            self._identify()
        if self.pending_samples >= HEAR_EVERY_SECONDS * self.ear.rate:
            await self._hear(end=False)

    def _identify(self) -> None:
        """Which known recording the stream is, from its first 1.5 s (`recordings`)."""
        self.identifying = False
        assert self.state.recordings is not None
        head = np.concatenate(self.pending) if self.pending else np.zeros(0, dtype=np.float32)
        self.script = self.state.recordings.identify_head(
            head[: int(HEAD_SECONDS * self.ear.rate)], self.ear.rate
        )

    async def _control(self, text: str) -> bool:
        """Handle a text frame; False when the session is over."""
        try:
            message = json.loads(text)
            kind = message.get("type") if isinstance(message, dict) else None
        except ValueError:
            kind = None
        if kind == "finalize":
            await self._flush()
            await self._final(from_finalize=True, force=True)
            return True
        if kind == "close_stream":
            started = time.perf_counter()
            await self._flush()
            await self._final(from_finalize=False, force=True, last=True)
            exchange = exchange_of(self.websocket.scope)
            if exchange is not None:  # the emulator's own work on the last audio, for benchmarks
                exchange.processing_ms = (time.perf_counter() - started) * 1000
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(NORMAL_CLOSURE)
            return False
        await self._fail(
            'Unsupported message: send audio as binary frames, or {"type": "finalize"} or '
            '{"type": "close_stream"} as text.'
        )
        return False

    async def _flush(self) -> None:
        tail = self.decoder.flush()
        if len(tail):
            self.pending.append(tail)
        if self.identifying:
            self._identify()
        await self._hear(end=True)
        if self.script is not None:  # the words of the audio heard last
            await self._words(self.script.take_until(self.ear.position))

    async def _hear(self, *, end: bool) -> None:
        audio = np.concatenate(self.pending) if self.pending else np.zeros(0, dtype=np.float32)
        self.pending, self.pending_samples = [], 0

        def listen() -> list[Sound | Onset]:
            events = self.ear.hear(audio)
            return events + self.ear.end() if end else events

        for event in await anyio.to_thread.run_sync(listen):
            if isinstance(event, Onset):
                await self._onset(event.time)
            else:
                await self._sound(event)
        await self._silence(finals=not end)
        if not end and self.changed and self.utterance:
            await self._partial()

    # -- what was heard ---------------------------------------------------------------------------

    async def _onset(self, time: float) -> None:
        if not self.settings.vad:
            return
        if self.speaking and time - self.last_sound_end >= VAD_HANGOVER_SECONDS:
            await self._send({"type": "speech_ended", "timestamp": round(self.last_sound_end, 3)})
            self.speaking = False
        if not self.speaking:
            self.speaking = True
            await self._send({"type": "speech_started", "timestamp": round(time, 3)})

    def _silence_limit(self) -> float:
        limit = self.settings.eou_seconds
        if self.settings.endpointing:
            limit = min(limit, ENDPOINT_SECONDS)
        if self.settings.finalize_on_words:
            limit = min(limit, pause_threshold(self.pauses))
        return limit

    async def _sound(self, sound: Sound) -> None:
        self.last_sound_end = sound.end
        if self.script is not None:
            await self._words(self.script.take_until(sound.end, sound.pitch))
        else:
            await self._words(tokens_of([sound]))

    async def _words(self, tokens: list[Token]) -> None:
        for token in tokens:
            if self.utterance:
                pause = token.start - self.utterance[-1].end
                self.pauses.append(pause)
                if pause >= self._silence_limit():
                    await self._final(from_finalize=False)
            self.utterance.append(token)
            self.history.append(token)
            self.changed = True
            words = len(self.utterance)
            if (self.settings.max_words is not None and words >= self.settings.max_words) or (
                self.settings.finalize_on_words and words >= FINALIZE_WORDS
            ):
                await self._final(from_finalize=False)

    async def _silence(self, *, finals: bool) -> None:
        """After each stretch of audio: end speech, and the utterance, on enough silence
        (not the utterance when a finalize or close_stream is about to)."""
        quiet = self.ear.trailing_silence if not self.ear.sounding else 0.0
        if self.settings.vad and self.speaking and quiet >= VAD_HANGOVER_SECONDS:
            timestamp = round(self.ear.last_loud_end, 3)
            await self._send({"type": "speech_ended", "timestamp": timestamp})
            self.speaking = False
        if finals and self.utterance and quiet >= self._silence_limit():
            await self._final(from_finalize=False)

    # -- what is sent ---------------------------------------------------------------------------

    def _speakers(self, tokens: list[Token]) -> list[Token]:
        if not self.settings.diarize or not tokens:
            return tokens
        return mark_turns(diarize(self.history)[len(self.history) - len(tokens) :])

    async def _partial(self) -> None:
        self.changed = False
        threshold = pause_threshold(self.pauses)
        tokens = mark_sentences(self._speakers(self.utterance), threshold, last_ends=False)
        formatting = replace(
            self.settings.formatting, itn=False, redact_pii=False, redact_pci=False
        )
        written = write(tokens, formatting)
        await self._send(self._event(written, final=False))

    async def _final(self, *, from_finalize: bool, force: bool = False, last: bool = False) -> None:
        if not self.utterance and not force:
            return
        threshold = pause_threshold(self.pauses)
        tokens = mark_sentences(self._speakers(self.utterance), threshold, last_ends=True)
        written = write(tokens, self.settings.formatting, self.redactor)
        self.utterance, self.changed = [], False
        if written.transcript:
            self.finals.append(written.transcript)
        await self._send(self._event(written, final=True, from_finalize=from_finalize, last=last))

    def _event(
        self, written: Written, *, final: bool, from_finalize: bool = False, last: bool = False
    ) -> dict[str, Any]:
        settings = self.settings
        event: dict[str, Any] = {"type": "transcription", "status": "success"}
        event["session_id"] = self.session_id
        event["transcript"] = written.transcript
        event["transcription"] = written.transcript
        event["is_final"] = final
        event["is_last"] = last
        if final:
            if settings.from_finalize_field:
                event["from_finalize"] = from_finalize
            event["language"] = settings.reported_language
            event["languages"] = [settings.reported_language]
        if settings.word_timestamps:
            event["words"] = [self._word(written, i) for i in range(len(written.tokens))]
        if final and settings.sentence_timestamps:
            event["utterances"] = self._utterances(written)
        if final and settings.formatting.redacts:
            event["redacted_entities"] = written.entities
        if settings.full_transcript:
            event["full_transcript"] = " ".join(self.finals)
        return event

    def _speaker(self, token: Token) -> int | str | None:
        if token.speaker is None:
            return None
        return f"speaker_{token.speaker}" if self.settings.kind == "live" else token.speaker

    def _word(self, written: Written, index: int) -> dict[str, Any]:
        token = written.tokens[index]
        word: dict[str, Any] = {
            "word": written.word_text(index),
            "start": seconds(token.start),
            "end": seconds(token.end),
            "confidence": token.confidence,
        }
        if self.settings.diarize:
            word["speaker"] = self._speaker(token)
            word["speaker_confidence"] = token.speaker_confidence
        return word

    def _utterances(self, written: Written) -> list[dict[str, Any]]:
        utterances = []
        for first, stop in written.sentences(by_speaker=self.settings.diarize):
            entry: dict[str, Any] = {
                "text": " ".join(written.texts[first:stop]),
                "start": seconds(written.tokens[first].start),
                "end": seconds(written.tokens[stop - 1].end),
            }
            if self.settings.diarize:
                entry["speaker"] = self._speaker(written.tokens[first])
            utterances.append(entry)
        return utterances

    async def _send(self, event: dict[str, Any]) -> None:
        if "session_id" not in event:
            event = {"type": event.pop("type"), "session_id": self.session_id, **event}
        try:
            await self.websocket.send_text(json.dumps(event, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise _Closed() from exc

    async def _fail(self, message: str) -> None:
        await _farewell(self.websocket, _error(self.session_id, message), NORMAL_CLOSURE)


routes = [
    WebSocketRoute("/waves/v1/stt/live", _Endpoint("live")),
    WebSocketRoute("/waves/v1/pulse/get_text", _Endpoint("pulse")),
]

__all__ = ["Settings", "routes", "settings_of"]
