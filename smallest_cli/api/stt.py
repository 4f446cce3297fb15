"""Pulse speech to text, pre-recorded (REFERENCE §10.2–§10.4): the current and the legacy route.

    POST /waves/v1/stt/?model=pulse|pulse-pro&language=…    current (`transcribe`)
    POST /waves/v1/pulse/get_text?language=…                 legacy, Pulse only (`route=LEGACY`)

Audio goes up as the raw bytes of the file (`Content-Type: application/octet-stream`, every
option a query parameter) or, for Pulse, as `{"url": …}` JSON that the API fetches itself.
Uploads stream from disk in chunks with an explicit Content-Length, so memory stays flat
whatever the size, and the body is made afresh for every attempt, so a retried upload sends
the whole file again. A stream of unknown length (stdin) goes up chunked and cannot be sent
twice: it is retried only while none of it has been read.

Headerless audio (raw PCM, μ-law, A-law) is sent inside a WAV header made here from its
`StreamFormat`: both routes ignore `encoding` and `sample_rate` and rely on the container
(REFERENCE §0.5; headerless bytes are answered with an empty transcription), and both read
WAV.

The answer is a `Transcript`, or, for Pulse Pro with a webhook, an `Accepted` carrying the
request id under which the result will be delivered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from smallest_cli.api.constants import STT_MAX_UPLOAD_BYTES, expiry_headers
from smallest_cli.audio.formats import StreamFormat
from smallest_cli.choices import Route
from smallest_cli.errors import APIError, UsageError
from smallest_cli.files import unreadable
from smallest_cli.transcript import Transcript

if TYPE_CHECKING:
    import httpx

    from smallest_cli.api.client import SmallestClient

CURRENT_PATH = "/waves/v1/stt/"
LEGACY_PATH = "/waves/v1/pulse/get_text"
CHUNK_BYTES = 512 * 1024
AUDIO_CONTENT_TYPE = "application/octet-stream"
# The API's session limit for one pre-recorded request is 10 minutes (§10.1): the answer to a
# long file may take that long, so this is the wait for it unless the user bounds it.
TRANSCRIPT_WAIT = 600.0

ProgressHook = Callable[[int, int | None], None]
"""Called after each chunk sent with the bytes sent so far and the total (None if unknown)."""


# -- what to transcribe ---------------------------------------------------------------------


@dataclass(frozen=True)
class AudioFile:
    """A file on disk, sent as raw bytes (after a WAV header when it is headerless `raw`)."""

    path: Path
    size: int
    raw: StreamFormat | None = None

    @property
    def header(self) -> bytes:
        return self.raw.wav_header(self.size) if self.raw is not None else b""

    @property
    def upload_size(self) -> int:
        return len(self.header) + self.size

    @classmethod
    def open(
        cls, path: str | Path, *, raw: StreamFormat | None = None, limit: int = STT_MAX_UPLOAD_BYTES
    ) -> AudioFile:
        """The file at `path`, checked without reading it: a UsageError if it cannot be sent."""
        path = Path(path)
        try:
            if path.is_dir():
                raise UsageError(f"{path} is a directory", hint="give audio files, not folders")
            size = path.stat().st_size
            with path.open("rb"):
                pass
        except OSError as exc:
            raise unreadable(path, exc) from None
        if size == 0:
            raise UsageError(f"{path} is empty", hint="there is no audio to transcribe")
        if size > limit:
            raise UsageError(
                f"{path} is {_megabytes(size)}; the API takes at most {_megabytes(limit)} per file",
                hint=TOO_LARGE_HINT,
            )
        return cls(path, size, raw)


@dataclass(frozen=True)
class AudioStream:
    """Audio of unknown length read as it comes (stdin), sent chunked."""

    reader: BinaryIO
    name: str = "stdin"
    limit: int = STT_MAX_UPLOAD_BYTES
    raw: StreamFormat | None = None


@dataclass(frozen=True)
class AudioURL:
    """Audio the API fetches itself (Pulse only)."""

    url: str


Audio = AudioFile | AudioStream | AudioURL

TOO_LARGE_HINT = (
    "compress it to mono 16 kHz (e.g. `ffmpeg -i in.wav -ac 1 -ar 16000 out.flac`), or split it"
)


# -- how -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptionOptions:
    """The knobs both routes share; `params` turns them into one route's query."""

    language: str = "en"
    model: str = "pulse"
    word_timestamps: bool = False
    diarize: bool = False
    redact_pii: bool = False
    redact_pci: bool = False
    emotions: bool = False
    gender: bool = False
    webhook_url: str | None = None
    webhook_extra: tuple[str, ...] = ()  # "key:value" pairs
    expire_content: bool = False

    def params(self, *, legacy: bool = False) -> dict[str, str]:
        """The query parameters; options left at their default are not sent."""
        params: dict[str, str] = {} if legacy else {"model": self.model}
        params["language"] = self.language
        flags = {
            "word_timestamps": self.word_timestamps,
            "diarize": self.diarize,
            "emotion_detection": self.emotions,
            "gender_detection": self.gender,
        }
        if not legacy:
            flags |= {"redact_pii": self.redact_pii, "redact_pci": self.redact_pci}
        params.update({name: "true" for name, on in flags.items() if on})
        if self.webhook_url is not None:
            params["webhook_url"] = self.webhook_url
            if self.webhook_extra:
                params["webhook_extra"] = ",".join(self.webhook_extra)
        return params


@dataclass(frozen=True)
class Accepted:
    """An asynchronous transcription the API took on; the result goes to the webhook."""

    request_id: str | None
    status: str = "processing"
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "request_id": self.request_id}
        return {"source": self.source, **data} if self.source is not None else data


Result = Transcript | Accepted


class SttAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def transcribe(
        self,
        audio: Audio,
        options: TranscriptionOptions,
        *,
        route: Route = Route.CURRENT,
        source: str | None = None,
        on_progress: ProgressHook | None = None,
        before_attempt: Callable[[], object] | None = None,
        wait: float | None = None,
    ) -> Result:
        """POST the audio on `route`: a transcript, or `Accepted` for Pulse Pro with a webhook.

        The legacy route (POST /waves/v1/pulse/get_text) is Pulse only, with its own error
        shapes; the options it lacks (model, redaction, content expiry, webhooks) are not
        sent, and the caller refuses them first. `before_attempt` runs before every attempt,
        retries included (a rate limiter); `wait` bounds the wait for the answer once the
        audio is sent (default: the client's timeout).
        """
        legacy = route is Route.LEGACY
        return self._post(
            LEGACY_PATH if legacy else CURRENT_PATH,
            audio,
            options.params(legacy=legacy),
            {} if legacy else expiry_headers(options.expire_content),
            source=source,
            on_progress=on_progress,
            before_attempt=before_attempt,
            wait=wait,
            # A webhook call is a side effect: never risk asking for it twice.
            idempotent=legacy or options.webhook_url is None,
        )

    def _post(
        self,
        path: str,
        audio: Audio,
        params: dict[str, str],
        headers: dict[str, str],
        *,
        source: str | None,
        on_progress: ProgressHook | None,
        before_attempt: Callable[[], object] | None,
        wait: float | None,
        idempotent: bool,
    ) -> Result:
        import httpx

        from smallest_cli.errors import APITimeoutError

        timeout = self._client.timeout
        read = timeout if wait is None else wait
        kwargs: dict[str, Any] = {
            "params": params,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0), read=read),
        }
        may_retry: Callable[[], bool] | None = None
        make: Callable[[], bytes | Iterator[bytes]]
        if isinstance(audio, AudioURL):
            payload = json.dumps({"url": audio.url}).encode()
            headers = {"Content-Type": "application/json", **headers}
            make = lambda: payload  # noqa: E731
        else:
            body = _Body(audio, on_progress)
            make, may_retry = body.make, body.replayable
            headers = {"Content-Type": AUDIO_CONTENT_TYPE, **headers}
            if isinstance(audio, AudioFile):
                headers["Content-Length"] = str(audio.upload_size)

        def content() -> bytes | Iterator[bytes]:
            if before_attempt is not None:
                before_attempt()
            return make()

        kwargs["headers"] = headers
        kwargs["content"] = content
        try:
            response = self._client.request(
                "POST", path, idempotent=idempotent, may_retry=may_retry, **kwargs
            )
        except APITimeoutError as error:
            if wait is None or not isinstance(error.__cause__, httpx.ReadTimeout):
                raise
            raise APITimeoutError(
                f"no transcript from {self._client._host()} within {wait:g} s of sending the audio",
                hint="raise --wait (a long recording can take minutes), or try again",
            ) from error.__cause__
        return _result(response, source)


class _Body:
    """Makes the upload body for each attempt: a fresh reader over the file, or stdin once."""

    def __init__(self, audio: AudioFile | AudioStream, on_progress: ProgressHook | None) -> None:
        self.audio = audio
        self.on_progress = on_progress
        self.started = False

    def replayable(self) -> bool:
        return isinstance(self.audio, AudioFile) or not self.started

    def make(self) -> Iterator[bytes]:
        if isinstance(self.audio, AudioFile):
            return self._file_chunks(self.audio)
        return self._stream_chunks(self.audio)

    def _file_chunks(self, audio: AudioFile) -> Iterator[bytes]:
        # Opened only when httpx starts sending, so an attempt never made holds no file.
        try:
            handle = audio.path.open("rb")
        except OSError as exc:
            raise unreadable(audio.path, exc) from None
        sent = 0
        with handle:
            if audio.raw is not None:
                yield audio.header
            while sent < audio.size:
                chunk = handle.read(min(CHUNK_BYTES, audio.size - sent))
                if not chunk:
                    raise APIError(
                        f"{audio.path} got shorter while it was being sent",
                        hint="wait until whatever writes it has finished, then try again",
                    )
                sent += len(chunk)
                yield chunk
                if self.on_progress is not None:
                    self.on_progress(sent, audio.size)

    def _stream_chunks(self, audio: AudioStream) -> Iterator[bytes]:
        self.started = True
        read = getattr(audio.reader, "read1", audio.reader.read)
        sent = 0
        if audio.raw is not None:
            yield audio.raw.wav_header(None)
        while True:
            chunk = read(CHUNK_BYTES)
            if not chunk:
                break
            sent += len(chunk)
            if sent > audio.limit:
                raise UsageError(
                    f"{audio.name} is more than {_megabytes(audio.limit)}, the most the API "
                    "takes per file",
                    hint=TOO_LARGE_HINT,
                )
            yield chunk
            if self.on_progress is not None:
                self.on_progress(sent, None)
        if sent == 0:
            raise UsageError(f"{audio.name} is empty", hint="there is no audio to transcribe")


def _result(response: httpx.Response, source: str | None) -> Result:
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
    except ValueError:
        raise APIError(
            f"the transcription answer ({response.status_code}) is not JSON",
            request_id=request_id,
        ) from None
    if not isinstance(body, dict):
        raise APIError("the transcription answer is not a JSON object", request_id=request_id)
    status = body.get("status")
    if status == "processing":
        return Accepted(
            request_id=_text(body.get("request_id")) or request_id, status=status, source=source
        )
    if status in ("error", "failed"):
        message = _text(body.get("message")) or _text(body.get("error")) or "transcription failed"
        raise APIError(message, request_id=_text(body.get("request_id")) or request_id)
    transcript = Transcript.from_api(body, source=source)
    if transcript.request_id is None:
        transcript.request_id = request_id
    transcript.content_expiry = response.headers.get("x-content-expiry")
    return transcript


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _megabytes(size: int) -> str:
    """ "250 MB" for a whole number of megabytes, else the exact byte count."""
    megabytes = size / 1024 / 1024
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{size:,} bytes"
