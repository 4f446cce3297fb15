"""Pulse realtime speech to text (REFERENCE §10.5–§10.7): one WebSocket session.

    wss://…/waves/v1/stt/live?model=pulse&language=…      current (`Route.CURRENT`)
    wss://…/waves/v1/pulse/get_text?language=…            legacy (`Route.LEGACY`)

Both routes speak the same protocol. The client sends audio as binary frames, in the
encoding and at the rate named in the query, then `{"type": "close_stream"}` once, which
flushes what is left. (`{"type": "finalize"}` marks a turn boundary in a multi-turn voice
agent; a one-off transcription, which is what `stt live` does, never sends it: §10.7 and
the stt-live-ws spec.) The server sends JSON events:
partial and final `transcription`s, `speech_started`/`speech_ended` when VAD events were
asked for, and `error` frames before it closes. The last final of a session carries
`is_last: true`. A close with code 1008 means too many concurrent sessions (§4.2).

Handshake refusals are plain HTTP: 401 is an AuthenticationError (exit 4); 400 means the
query was refused, a `SessionRefused` (exit 2). Error frames become APIErrors through
`api.errors.frame_error`.

`LiveTranscription.send_audio` and `close_stream` may be called from one thread
while another calls `receive`; nothing is sent after `close_stream`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smallest_cli.api.constants import expiry_headers
from smallest_cli.api.session import WebSocketSession
from smallest_cli.audio.formats import RECOMMENDED_RATE
from smallest_cli.choices import Route
from smallest_cli.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ExitCode,
    RateLimitError,
)
from smallest_cli.transcript import Utterance, mappings, string_or_none
from smallest_cli.words import Word, number_or_none

if TYPE_CHECKING:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import ClientConnection

    from smallest_cli.api.client import SmallestClient

LIVE_PATH = "/waves/v1/stt/live"
LEGACY_PATH = "/waves/v1/pulse/get_text"
MODEL = "pulse"

# Streaming languages and where they are served (REFERENCE §10.1, §2.1).
LANGUAGES = (
    "en", "hi", "de", "es", "ru", "it", "fr", "nl", "pt", "zh", "yue", "ja", "ko", "gu", "mr",
    "or", "bn", "ta", "te", "kn", "ml", "north_indic", "multi-asian", "multi-south-indic",
)  # fmt: skip
US_ONLY = ("zh", "yue", "ja", "ko", "multi-asian")
INDIA_ONLY = ("ta", "te", "kn", "ml", "multi-south-indic")
REDACTING_LANGUAGES = ("en", "hi")
REGION_ERROR = "LANGUAGE_NOT_ENABLED_IN_REGION"
MAX_KEYWORDS = 10_000
LOUD_BOOST = 5.0  # above this the API inserts keywords that were never said (§10.7)
SEND_LOCK_TIMEOUT = 5.0
STANDARD_SESSIONS = 100  # concurrent realtime sessions on the Standard plan (§4.2)
CLOSE_WAIT_SECONDS = 1.0  # after an error frame, how long to wait for the close code


def route_path(route: Route) -> str:
    return LIVE_PATH if route is Route.CURRENT else LEGACY_PATH


class SessionRefused(BadRequestError):
    """The server refused the session's options before the WebSocket opened (HTTP 400)."""

    exit_code = ExitCode.USAGE


class SessionEndedEarly(APIConnectionError):
    """The server closed the session normally but before its last transcript."""


class SessionLimitError(RateLimitError):
    """The server closed the socket with 1008: too many concurrent sessions (REFERENCE §4.2)."""

    def __str__(self) -> str:  # a close code, not an HTTP status
        return self.message


def closed_error(exc: ConnectionClosed, message: str | None = None) -> APIError:
    """Why the server closed the socket (api.ws), with 1008 as a SessionLimitError."""
    from smallest_cli.api.ws import POLICY_VIOLATION
    from smallest_cli.api.ws import closed_error as described

    error = described(exc)
    if exc.rcvd is None or exc.rcvd.code != POLICY_VIOLATION:
        return error
    reason = exc.rcvd.reason or "too many concurrent sessions"
    return SessionLimitError(
        f"{message or 'the server closed the session: ' + reason} (WebSocket closed with 1008)",
        status_code=429,
        code="1008",
        hint=f"the account has too many realtime sessions open (at most {STANDARD_SESSIONS} on "
        "the Standard plan); close others or wait",
    )


@dataclass(frozen=True)
class LiveOptions:
    """How to transcribe; `query(route)` is the URL's query string."""

    language: str
    sample_rate: int = RECOMMENDED_RATE
    encoding: str = "linear16"
    word_timestamps: bool = False
    sentence_timestamps: bool = False
    diarize: bool = False
    redact_pii: bool = False
    redact_pci: bool = False
    itn_normalize: bool = False
    vad_events: bool = False
    keywords: str | None = None
    eou_timeout_ms: int | None = None
    max_words: int | None = None
    endpointing: bool = True
    finalize_on_words: bool = True  # False: no final at sentence ends or every 10 words
    expire_content: bool = False

    def query(self, route: Route) -> dict[str, Any]:
        """The query parameters. Defaults that differ between the routes (word timestamps:
        on for legacy, off for current) are always sent explicitly (REFERENCE §12)."""
        query: dict[str, Any] = {}
        if route is Route.CURRENT:
            query["model"] = MODEL
        query.update(
            language=self.language,
            sample_rate=self.sample_rate,
            encoding=self.encoding,
            word_timestamps=self.word_timestamps,
        )
        flags = {
            "sentence_timestamps": self.sentence_timestamps,
            "diarize": self.diarize,
            "redact_pii": self.redact_pii,
            "redact_pci": self.redact_pci,
            "itn_normalize": self.itn_normalize,
            "vad_events": self.vad_events,
        }
        query.update({name: True for name, on in flags.items() if on})
        optional = {
            "keywords": self.keywords,
            "eou_timeout_ms": self.eou_timeout_ms,
            "max_words": self.max_words,
        }
        query.update({k: v for k, v in optional.items() if v is not None})
        if not self.finalize_on_words:
            query["finalize_on_words"] = False
        if not self.endpointing and route is Route.CURRENT:  # undocumented on legacy (§13.2)
            query["endpointing"] = False
        return query


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transcription:
    """A `transcription` event: partial (`is_final` false) or final text for recent audio."""

    text: str
    is_final: bool
    is_last: bool = False
    from_finalize: bool | None = None
    language: str | None = None
    languages: list[str] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    redacted_entities: list[str] = field(default_factory=list)
    full_transcript: str | None = None
    session_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The NDJSON line for this event (stable keys for each type)."""
        if not self.is_final:
            return {"type": "partial", "text": self.text, "session_id": self.session_id}
        return {
            "type": "final",
            "text": self.text,
            "is_last": self.is_last,
            "from_finalize": bool(self.from_finalize),
            "language": self.language,
            "words": [w.to_json() for w in self.words],
            "utterances": [u.to_json() for u in self.utterances],
            "redacted_entities": self.redacted_entities,
            "session_id": self.session_id,
        }


@dataclass(frozen=True)
class SpeechEvent:
    """`speech_started` or `speech_ended` (with `vad_events`): seconds since the first audio."""

    kind: str
    timestamp: float | None
    session_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "timestamp": self.timestamp, "session_id": self.session_id}


Event = Transcription | SpeechEvent


def parse_event(frame: Mapping[str, Any]) -> Event | None:
    """The typed event for a server frame; None for frames of no known type. Error frames
    raise their APIError."""
    kind = frame.get("type")
    if kind == "error" or frame.get("status") == "error":
        raise _frame_error(frame)
    session_id = string_or_none(frame.get("session_id"))
    if kind in ("speech_started", "speech_ended"):
        return SpeechEvent(str(kind), number_or_none(frame.get("timestamp")), session_id)
    if kind not in (None, "transcription") or not any(
        name in frame for name in ("transcript", "transcription", "is_final")
    ):
        return None
    text = frame.get("transcript")
    if not isinstance(text, str):
        text = frame.get("transcription")
    from_finalize = frame.get("from_finalize")
    return Transcription(
        text=text.strip() if isinstance(text, str) else "",
        is_final=frame.get("is_final") is True,
        is_last=frame.get("is_last") is True,
        from_finalize=from_finalize if isinstance(from_finalize, bool) else None,
        language=string_or_none(frame.get("language")),
        languages=[v for v in frame.get("languages") or [] if isinstance(v, str)],
        words=[Word.from_api(w) for w in mappings(frame.get("words"))],
        utterances=[Utterance.from_api(u) for u in mappings(frame.get("utterances"))],
        redacted_entities=[v for v in frame.get("redacted_entities") or [] if isinstance(v, str)],
        full_transcript=string_or_none(frame.get("full_transcript")),
        session_id=session_id,
        raw=dict(frame),
    )


def _frame_error(frame: Mapping[str, Any]) -> APIError:
    from smallest_cli.api.errors import frame_error

    error = frame_error(frame)
    code = (error.code or "").upper()
    if code in ("UNAUTHORIZED", "INVALID_API_KEY", "AUTHENTICATION_FAILED"):
        return AuthenticationError(error.message, status_code=401, code=error.code)
    return error


# -- the session ----------------------------------------------------------------------------


class SttLiveAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def url(self, options: LiveOptions, route: Route = Route.CURRENT) -> str:
        return self._client.ws_url(route_path(route), options.query(route))

    def open(self, options: LiveOptions, route: Route = Route.CURRENT) -> LiveTranscription:
        """A session for a `with` block (connected on entry; the handshake is retried like a
        request on 429, 502, 503 and connection errors)."""
        connecting = self._client.connect_ws(
            route_path(route),
            params=options.query(route),
            headers=expiry_headers(options.expire_content),
        )
        return LiveTranscription(connecting, url=self.url(options, route))


class LiveTranscription(WebSocketSession):
    """One realtime STT WebSocket."""

    def __init__(
        self, connecting: AbstractContextManager[ClientConnection], *, url: str = ""
    ) -> None:
        super().__init__(connecting)
        self.url = url
        self._lock = threading.Lock()
        self.closing = False  # close_stream was sent
        self.finished = False  # is_last arrived, or the server closed the socket
        self.bytes_sent = 0
        self.last_audio_at: float | None = None  # time.monotonic() of the last audio frame
        self.close_sent_at: float | None = None

    def __enter__(self) -> LiveTranscription:
        try:
            return super().__enter__()
        except BadRequestError as error:
            raise SessionRefused(
                f"the server refused the session: {error.message}",
                status_code=error.status_code,
                details=error.details,
                body=error.body,
                code=error.code,
                request_id=error.request_id,
                hint="check --language, --sample-rate, --encoding and the other options",
            ) from error

    # -- sending ------------------------------------------------------------------------

    def send_audio(self, data: bytes) -> bool:
        """One binary audio frame; False (nothing sent) once the stream is closing."""
        return self._send(data, audio=True)

    def finalize(self) -> bool:
        """Ask for a final of what was heard so far now (REFERENCE §10.7)."""
        return self._send(json.dumps({"type": "finalize"}), audio=False)

    def close_stream(self) -> bool:
        """No more audio: the server flushes, sends the last final (`is_last`), and closes.
        Sent once; later calls do nothing and return False."""
        return self._send(json.dumps({"type": "close_stream"}), audio=False, closing=True)

    def _send(self, message: str | bytes, *, audio: bool, closing: bool = False) -> bool:
        from websockets.exceptions import ConnectionClosed

        if not self._lock.acquire(timeout=SEND_LOCK_TIMEOUT):
            raise APIConnectionError("the WebSocket did not take more data for 5 s")
        try:
            if self.closing or self.finished:
                return False
            try:
                self.connection.send(message)
            except ConnectionClosed as exc:
                raise closed_error(exc) from exc
            if audio:
                self.bytes_sent += len(message)
                self.last_audio_at = time.monotonic()
            if closing:
                self.closing = True
                self.close_sent_at = time.monotonic()
            return True
        finally:
            self._lock.release()

    # -- receiving ----------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> Event | None:
        """The next event, or None when `timeout` passes first. After the last final the
        session is `finished` and this returns None at once."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        from smallest_cli.api.ws import decode_frame

        while not self.finished:
            try:
                raw = self.connection.recv(timeout=timeout)
            except TimeoutError:
                return None
            except ConnectionClosedOK:
                self.finished = True
                raise SessionEndedEarly(
                    "the server closed the session before its last transcript",
                    hint="try again; the transcript above may be incomplete",
                ) from None
            except ConnectionClosed as exc:
                self.finished = True
                raise closed_error(exc) from exc
            frame = decode_frame(raw)
            if not isinstance(frame, dict):
                continue
            try:
                event = parse_event(frame)
            except APIError as error:
                self.finished = True
                raise self._with_close_code(error) from None
            if event is None:
                continue
            if isinstance(event, Transcription) and event.is_last:
                self.finished = True
            return event
        return None

    def _with_close_code(self, error: APIError) -> APIError:
        """An error frame comes just before the server closes; the close code can say more
        (1008: the concurrency limit), so wait a moment for it."""
        from websockets.exceptions import ConnectionClosed

        try:
            self.connection.recv(timeout=CLOSE_WAIT_SECONDS)
        except ConnectionClosed as exc:
            limited = closed_error(exc, error.message)
            if isinstance(limited, SessionLimitError):
                limited.request_id = error.request_id
                return limited
        except Exception:  # a timeout or another frame: the error frame says enough
            pass
        return error
