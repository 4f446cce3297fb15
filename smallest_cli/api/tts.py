"""Lightning text to speech (REFERENCE §6): sync, SSE and WebSocket.

Audio always comes back as 16-bit little-endian mono PCM at the requested rate: the client
asks for `pcm` and does any container or codec work itself, so a file's bytes do not depend
on the transport that produced them.
"""

from __future__ import annotations

import base64
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smallest_cli.api.constants import expiry_headers
from smallest_cli.api.errors import frame_error, refuse_not_audio
from smallest_cli.api.sse import iter_events
from smallest_cli.audio.formats import TTS_DEFAULT_RATE
from smallest_cli.errors import APIConnectionError, APIError
from smallest_cli.words import Word

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

    from smallest_cli.api.client import SmallestClient

SYNC_PATH = "/waves/v1/tts"
LIVE_PATH = "/waves/v1/tts/live"


@dataclass(frozen=True)
class SpeechRequest:
    """What to say and how; `body()` is the JSON the API takes."""

    text: str
    voice_id: str
    model: str = "lightning_v3.1"
    sample_rate: int = TTS_DEFAULT_RATE
    speed: float = 1.0
    language: str | None = None
    number_language: str | None = None
    math_notation: bool = False
    pronunciation_dicts: tuple[str, ...] = ()
    session_id: str | None = None
    request_id: str | None = None
    expire_content: bool = False

    def body(self, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "text": self.text,
            "voice_id": self.voice_id,
            "model": self.model,
            "sample_rate": self.sample_rate,
            "speed": self.speed,
        }
        optional = {
            "language": self.language,
            "number_pronunciation_language": self.number_language,
            "session_id": self.session_id,
            "request_id": self.request_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if self.math_notation:
            body["math_notation"] = True
        if self.pronunciation_dicts:
            body["pronunciation_dicts"] = list(self.pronunciation_dicts)
        body.update(extra)
        return body

    @property
    def headers(self) -> dict[str, str]:
        return expiry_headers(self.expire_content)


@dataclass
class LiveEvent:
    """What a TTS WebSocket delivers: audio, a word's timing, or the end of the request."""

    audio: bytes = b""
    word: Word | None = None
    complete: bool = False


class TtsAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def synthesize(self, request: SpeechRequest) -> bytes:
        """POST /waves/v1/tts: the whole clip at once."""
        response = self._client.request(
            "POST",
            SYNC_PATH,
            json=request.body(output_format="pcm"),
            headers={"Accept": "audio/wav", **request.headers},
        )
        refuse_not_audio(response.headers)
        return strip_wav_header(response.content)

    def stream(self, request: SpeechRequest) -> Iterator[bytes]:
        """POST /waves/v1/tts/live (SSE): PCM slices as the server sends them."""
        with self._client.stream(
            "POST",
            LIVE_PATH,
            json=request.body(output_format="pcm"),
            headers={"Accept": "text/event-stream", **request.headers},
        ) as response:
            refuse_not_audio(response.headers, "an event stream")
            for event in iter_events(response.iter_lines()):
                try:
                    frame = event.json()
                except ValueError:
                    raise APIError(
                        f"the server sent an event that is not JSON: {event.data[:80]!r}"
                    ) from None
                if not isinstance(frame, dict):
                    continue
                if frame.get("done") is True:
                    return
                if frame.get("status") == "error" or (frame.get("error") and "audio" not in frame):
                    raise frame_error(frame)
                audio = frame.get("audio")
                if isinstance(audio, str) and audio:
                    yield strip_wav_header(base64.b64decode(audio))
        raise APIConnectionError(
            "the speech stream ended before its final frame",
            hint="try again, or use --transport sync",
        )

    def live(
        self,
        request: SpeechRequest,
        *,
        word_timestamps: bool = False,
        idle_timeout: int | None = None,
    ) -> LiveSession:
        """Open the TTS WebSocket; text is sent through the session (`request.text` is ignored).

        `idle_timeout` raises the server's 60 s limit on waiting for more text (`?timeout=`).
        """
        params = {"timeout": idle_timeout} if idle_timeout else None
        settings = request.body(word_timestamps=word_timestamps, complete_backoff_ms=0)
        settings.pop("text")
        return LiveSession(
            lambda: self._client.connect_ws(
                LIVE_PATH, params=params, headers=request.headers, retry=False
            ),
            settings,
            timeout=self._client.timeout,
            retrying=self._client.with_retries,
        )


class LiveSession:
    """One TTS WebSocket, for a `with` block: send text as it comes, receive audio and word
    timings as they come. `send` may be called from one thread while another iterates
    `events`.

    The socket is opened once there is text to send, so a session still waiting for its
    text holds none of the account's sockets. Until the first audio arrives, what was sent is
    kept: when the server refuses for lack of a slot (a refused handshake, a 429 frame, or a
    close with 1008), the session opens a new socket and sends it all again, waiting as
    `retrying` (the client's retry policy) says: one wait, whichever way it was refused.
    `timeout` (the longest silence before the server counts as stalled) runs only while the
    server owes an answer: from a flush it has not answered yet, or from the end of the
    text; while text may still come, silence is fine.
    """

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[ClientConnection]],
        settings: Mapping[str, Any],
        *,
        timeout: float,
        retrying: Callable[[Callable[[], Any]], Any],
    ) -> None:
        self._connect = connect
        self._connecting: AbstractContextManager[ClientConnection] | None = None
        self._connection: ClientConnection | None = None
        self._settings = dict(settings)
        self._timeout = timeout
        self._retrying = retrying
        self._sent: list[dict[str, Any]] | None = []  # None once audio has come
        self._refused = False
        self._closed = False
        self._completed_at: float | None = None  # when the last text went out
        self._flushed_at = 0.0  # when text was last sent with `flush`
        self._heard_at = 0.0  # when the server last sent a frame
        self._lock = threading.Lock()
        self._has_text = threading.Event()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._connecting is not None:
            self._connecting.__exit__(*exc_info)
            self._connecting = None

    def _open(self) -> None:
        connecting = self._connect()
        self._connection = connecting.__enter__()
        self._connecting = connecting

    @property
    def connection(self) -> ClientConnection:
        if self._connection is None:
            raise RuntimeError("the socket opens once `events` is iterated")
        return self._connection

    def send(self, text: str, *, flush: bool = False) -> None:
        """More text; `flush` asks the server to speak what it has buffered now."""
        self._send({**self._settings, "text": text, "continue": True, "flush": flush})

    def finish(self) -> None:
        """No more text: the server speaks the rest, then sends `complete`."""
        self._send({**self._settings, "text": "", "continue": False, "flush": True}, last=True)

    def say(self, text: str) -> None:
        """The whole text in one message (no streaming input)."""
        self._send({**self._settings, "text": text}, last=True)

    def _send(self, message: dict[str, Any], *, last: bool = False) -> None:
        from smallest_cli.api.ws import send_json

        with self._lock:
            if last:
                self._completed_at = time.monotonic()
            elif message.get("flush"):
                self._flushed_at = time.monotonic()
            if self._sent is None:
                send_json(self.connection, message)
                return
            self._sent.append(message)
            self._has_text.set()
            if self._connection is None:
                return  # kept: `events` opens the socket and sends it
            try:
                send_json(self._connection, message)
            except APIError:
                pass  # kept: the reader sees the close, and sends it again or fails

    def _reopen(self) -> None:
        """A new socket, with everything sent so far sent again."""
        from smallest_cli.api.ws import send_json

        with self._lock:
            self.__exit__(None, None, None)
            self._connection = None  # until the handshake succeeds
            self._open()
            for message in self._sent or ():
                send_json(self.connection, message)

    def events(self) -> Iterator[LiveEvent]:
        """Audio and word timings until the server says `complete` (nothing if the session
        was closed before any text came)."""
        self._has_text.wait()
        if self._closed and self._connection is None:
            return
        first, rest = self._retrying(self._first_event)
        yield first
        yield from rest

    def _first_event(self) -> tuple[LiveEvent, Iterator[LiveEvent]]:
        if self._refused or self._connection is None:
            self._reopen()
        frames = self._events()
        try:
            first = next(frames)
        except APIError as error:
            self._refused = error.waits_for_slot
            if self._refused:
                self.connection.close()  # free the socket while waiting
            raise
        with self._lock:
            self._sent = None
        return first, frames

    def _events(self) -> Iterator[LiveEvent]:
        from smallest_cli.api.ws import iter_json

        for frame in iter_json(self.connection, timeout=self._timeout, grace=self._grace):
            self._heard_at = time.monotonic()
            status = frame.get("status")
            raw = frame.get("data")
            data: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if status == "chunk":
                audio = data.get("audio")
                if isinstance(audio, str) and audio:
                    yield LiveEvent(audio=strip_wav_header(base64.b64decode(audio)))
            elif status == "word_timestamp":
                yield LiveEvent(word=_word_time(data))
            elif status == "complete" or frame.get("done") is True:
                yield LiveEvent(complete=True)
                return
            elif status == "error" or "error" in frame:
                raise frame_error(frame)
        raise APIConnectionError("the TTS WebSocket closed before `complete`", hint="try again")

    def _grace(self) -> float:
        """How much longer the server may stay silent: what is left of the timeout since it
        came to owe an answer (the end of the text, or a flush it has not answered); while
        it owes nothing, a whole timeout more."""
        owed_since = self._completed_at
        if owed_since is None and self._flushed_at > self._heard_at:
            owed_since = self._flushed_at
        if owed_since is None:
            return self._timeout
        return self._timeout - (time.monotonic() - owed_since)

    def close(self) -> None:
        self._closed = True
        self._has_text.set()
        if self._connection is not None:
            self._connection.close()


def _word_time(data: Mapping[str, Any]) -> Word:
    try:
        int(data["id"])  # every timestamp names the word it times
        return Word(str(data["word"]), float(data["start"]), float(data["end"]))
    except (KeyError, TypeError, ValueError):
        raise APIError(f"the server sent a malformed word timestamp: {dict(data)!r}") from None


def strip_wav_header(audio: bytes) -> bytes:
    """PCM samples out of `audio`, whether or not a RIFF/WAVE header came with them.

    Whether the sync route puts a header on `pcm` is UNKNOWN (REFERENCE §13.2); the live
    server sent none, but SSE `wav` chunks each carry one. Either way the caller gets samples.
    """
    if len(audio) < 12 or audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        return audio
    position = 12
    while position + 8 <= len(audio):
        chunk, size = struct.unpack_from("<4sI", audio, position)
        position += 8
        if chunk == b"data":
            return audio[position : position + size] if size != 0xFFFFFFFF else audio[position:]
        position += size + (size & 1)
    return b""
