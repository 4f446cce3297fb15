"""Pre-recorded speech to text (REFERENCE §10.1–10.4): `POST /waves/v1/stt/` and the
legacy `POST /waves/v1/pulse/get_text`.

Input, on both routes: the audio bytes as the body (any Content-Type but JSON:
`application/octet-stream`, `audio/wav`, …; the container is found from the bytes, see
`stt_audio`), or `Content-Type: application/json` with `{"url": "http(s)://…"}`, which the
emulator downloads (redirects followed, 30 s timeout; no `file://` or other schemes). All
options are query parameters. Audio and transcripts are synthetic (`stt_text`): the
emulator's own TTS audio transcribes back to its words, any other sound to stand-in words,
except a known recording (`recordings`, `--transcripts DIR`), which gets its own text.

`POST /waves/v1/stt/?model=pulse|pulse-pro&language=…` (also served without the trailing
slash, as the live Express server would; the contract tests flag a client that uses it):

* `model` and `language` are required: 400 `{"error": "Missing required query param:
  model. Supported values: pulse | pulse-pro.", "request_id"}` (likewise for an invalid
  value, for `language`, and for every other bad parameter). `language` is the pre-recorded
  list of REFERENCE §10.1.
* Pulse 200: `{"status": "success", "transcription", "words", "utterances", "metadata":
  {"duration", "fileSize"}}` plus `gender` / `emotions` when asked. `words` is
  `[{"start", "end", ["speaker", "speaker_confidence",] "word", "confidence"}]` and
  `utterances` `[{"start", "end", ["speaker",] "text"}]` (one per sentence, split at speaker
  changes too) with `word_timestamps=true`, else both `[]`; `speaker` is an integer from 0
  (`diarize=true`). No `language`, no `request_id`.
* Pulse Pro 200: `{"status", "transcription", "words", "language", "metadata": {"duration",
  "processing_time_ms", "rtfx", "num_chunks"}, "totalBytes", "request_id"}`; no `utterances`
  key, no speakers (`diarize` is ignored), no `gender` (`gender_detection` is Pulse only);
  `emotions` when asked. `num_chunks` is one per started 30 s of audio.
* Pulse Pro refuses a URL body: 400 "Pulse Pro does not support audio-by-URL. Send raw
  bytes or use ?model=pulse."
* Async, Pulse Pro with `webhook_url` (http/https): 200 `{"status": "processing",
  "request_id"}` at once (the audio is decoded first, so undecodable audio still gets its
  400), then the result is delivered (below). On `model=pulse` the webhook parameters are
  ignored and the answer is synchronous (the spec: "Async (webhook) mode is Pulse Pro only").
* `emotions`: the documented five, `happiness`, `sadness`, `disgust`, `fear`, `anger`, each
  0–1 (REFERENCE §0.6; only this spec's example shows other keys). `gender`: `male` /
  `female` from the voice pitch, left out when nothing voiced was heard.
* `x-expire-content: true` is answered with `x-content-expiry: applied` on a 200.
* Errors are `{"error": str, "request_id": uuid}` (the `X-Request-Id` header carries the
  same id); 413 "File size exceeds maximum limit of 250MB." above 250 MiB; 429 "Rate limit
  exceeded. Please retry after a short backoff."; a region refusal adds
  `"error_code": "LANGUAGE_NOT_ENABLED_IN_REGION", "language", "region"`.

`POST /waves/v1/pulse/get_text` (legacy, always Pulse): `language` optional (default
`multi-eu`); the Pulse 200 above, plus `metadata.filename` for a URL body (the last part of
the URL's path). `webhook_url` makes it asynchronous too (its spec says the endpoint returns
at once), for Pulse, with the same acknowledgement and delivery. Errors:

* 400 `{"errors": str, "status": "error", "message": "Error handling audio data"}` for the
  body: "Invalid file format. Supported formats: audio/*" (empty or undecodable),
  "Audio data too large" (above 250 MiB: 400, not 413), "Invalid JSON data: missing or
  invalid 'url' field", "Could not download audio from URL: …"; the same shape with
  `"message": "Invalid query parameters"` for a bad parameter;
* 400 `{"status": "error", "error_code": "LANGUAGE_NOT_ENABLED_IN_REGION", "message",
  "language", "region"}`;
* 429 `{"error": "Rate limit exceeded. Please retry after a short backoff."}` (the legacy
  spec lists no 429; shape UNKNOWN, the one of its 401/500 chosen);
* 401 from the middleware (`{"message": …}` without a header, `{"error": "unauthorized"}`).

Both routes, decided where the sources are silent (UNKNOWN):

* `encoding` and `sample_rate` are accepted and ignored, whatever their value (REFERENCE
  §0.5): the body is read by its container. A body no reader recognises (headerless PCM,
  μ-law, A-law, or anything else without a header) answers 200 with an empty transcription,
  no words, and `metadata.duration` 0; a body whose header announces a container but does
  not decode is the route's 400 above.
* `format`, `punctuate`, `capitalize` and `redact_pii` / `redact_pci` work on both routes
  (legacy support for redaction is UNKNOWN; the changelog claims parity). `itn_normalize`
  is a realtime option and is ignored here; so is `keywords`.
* Oversize is decided by counting the body as it arrives (a larger Content-Length decides
  it at once); the rest of the body is read and dropped before the answer, so that a client
  still sending sees the answer rather than a reset connection. Bodies above 16 MiB are held
  in a temporary file, never all in memory.
* Order of checks: parameters, region, URL-with-Pro, rate limit, then the body.
* Rate limit (REFERENCE §4.2): 25 requests a minute per key and model (the legacy route
  counts as `pulse`), settable (`--stt-per-minute`, `SMALLEST_EMULATOR_STT_PER_MINUTE`,
  `PUT /_emulator/limits {"stt_per_minute": N}`). No `Retry-After` (whether the server
  sends one is UNKNOWN).
* Pacing: the answer (or the webhook) goes out `stt_ms + stt_rtf * duration` after the
  request arrived (`state.Pacing`; defaults 150 ms and 1/30 of the audio's length).
* Silence gives `"transcription": ""` and no words.

Webhook delivery (REFERENCE §10.4; signature, retry timing and `webhook_extra` placement
UNKNOWN): `POST` (default) of the synchronous 200 body of the route and model, plus
`"request_id"` (the acknowledged one) and, when `webhook_extra=k:v,k2:v2` was given,
`"webhook_extra": {"k": "v", "k2": "v2"}`; `Content-Type: application/json`,
`X-Request-Id: <request_id>`, no signature. With `webhook_method=GET` there is no body:
`request_id`, `status`, `transcription` and the `webhook_extra` pairs go in the query string.
Any 2xx–4xx answer ends the delivery; a 5xx or a connection error is retried up to 10 times,
after 0.25 s, 0.5 s, 1 s, 2 s, then every 4 s. `GET /_emulator/webhooks` lists deliveries.
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any, Literal
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from smallest_cli.emulator.errors import json_bytes
from smallest_cli.emulator.handshake import EMULATOR_HEADER
from smallest_cli.emulator.limits import LimitExceeded
from smallest_cli.emulator.recordings import Recordings, Script, tapped
from smallest_cli.emulator.state import EmulatorState, WebhookDelivery
from smallest_cli.emulator.stt_audio import AudioError, Sound, decode_file, hear_all
from smallest_cli.emulator.stt_request import (
    MODELS,
    REST_LANGUAGES,
    BadParam,
    Detection,
    Formatting,
    Webhook,
    detected_language,
    flag,
    http_url,
    not_enabled_message,
    query_of,
    region_refuses,
    webhook_extra,
)
from smallest_cli.emulator.stt_text import (
    Redactor,
    Written,
    diarize,
    emotions,
    gender_of,
    mark_sentences,
    mark_turns,
    pause_threshold,
    pauses_of,
    seconds,
    tokens_of,
    write,
)
from smallest_cli.emulator.tts import bearer_key, exchange_of

Route_ = Literal["stt", "pulse"]

MAX_BYTES = 250 * 1024 * 1024
SPOOL_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
CHUNK_SECONDS = 30.0
WEBHOOK_RETRIES = 10
WEBHOOK_FIRST_BACKOFF = 0.25
WEBHOOK_MAX_BACKOFF = 4.0
RATE_LIMITED = "Rate limit exceeded. Please retry after a short backoff."
TOO_LARGE = "File size exceeds maximum limit of 250MB."
AUDIO_CATEGORY = "Error handling audio data"
PARAMS_CATEGORY = "Invalid query parameters"
BAD_FORMAT = "Invalid file format. Supported formats: audio/*"
BAD_URL_BODY = "Invalid JSON data: missing or invalid 'url' field"
EMOTIONS = ("happiness", "sadness", "disgust", "fear", "anger")


class Refusal(Exception):
    """An error answer, in the route's own shape."""

    def __init__(self, status: int, body: dict[str, Any], request_id: str | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.request_id = status, body, request_id

    def response(self) -> Response:
        headers = {"X-Request-Id": self.request_id} if self.request_id else None
        return _json(self.body, self.status, headers)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_bytes(body), status, headers, media_type="application/json")


def refusal(
    route: Route_, status: int, message: str, *, category: str = AUDIO_CATEGORY, **extra: str
) -> Refusal:
    """The route's error body: `{"error", "request_id"}` on /stt/, Pulse's shapes on legacy."""
    if route == "stt":
        request_id = str(uuid.uuid4())
        return Refusal(status, {"error": message, **extra, "request_id": request_id}, request_id)
    if "error_code" in extra:
        code = extra.pop("error_code")
        return Refusal(status, {"status": "error", "error_code": code, "message": message, **extra})
    if status == 400:
        return Refusal(status, {"errors": message, "status": "error", "message": category})
    return Refusal(status, {"error": message})


@dataclass(frozen=True)
class Job:
    """A validated transcription request."""

    route: Route_
    model: str
    language: str
    detection: Detection
    formatting: Formatting
    webhook: Webhook | None = None
    expire: bool = False


def parse(route: Route_, query: dict[str, str], headers: Any) -> Job:
    """Validate the query of either route; Refusal (400) for the first bad parameter."""
    try:
        if route == "stt":
            model = query.get("model")
            if not model:
                raise BadParam(
                    "Missing required query param: model. Supported values: pulse | pulse-pro."
                )
            if model not in MODELS:
                raise BadParam(
                    f"Invalid query param: model='{model}'. Supported values: pulse | pulse-pro."
                )
            language = query.get("language")
            if not language:
                raise BadParam("Missing required query param: language.")
        else:
            model, language = "pulse", query.get("language") or "multi-eu"
        if language not in REST_LANGUAGES:
            raise BadParam(
                f"Unsupported language '{language}' for pre-recorded transcription. "
                f"Supported values: {' | '.join(REST_LANGUAGES)}."
            )
        pulse = model == "pulse"
        detection = Detection(
            word_timestamps=flag(query, "word_timestamps", False),
            diarize=flag(query, "diarize", False) and pulse,
            gender=flag(query, "gender_detection", False) and pulse,
            emotion=flag(query, "emotion_detection", False),
        )
        webhook = None
        if query.get("webhook_url") and (route == "pulse" or not pulse):
            method = query.get("webhook_method", "POST")
            if method.upper() not in ("GET", "POST"):
                raise BadParam(
                    f"Invalid value for webhook_method: '{method}'. Supported values: GET | POST."
                )
            webhook = Webhook(
                http_url(query["webhook_url"], "webhook_url"),
                method.upper(),
                webhook_extra(query.get("webhook_extra")),
            )
        formatting = Formatting.from_query(query, detected_language(language))
    except BadParam as bad:
        raise refusal(route, 400, str(bad), category=PARAMS_CATEGORY) from None
    expire = headers.get("x-expire-content", "").lower() == "true"
    return Job(route, model, language, detection, formatting, webhook, expire)


# -- the body ---------------------------------------------------------------------------------


@dataclass
class Upload:
    file: IO[bytes]
    size: int
    filename: str | None = None
    sounds: list[Sound] = field(default_factory=list)
    duration: float = 0.0
    script: Script | None = None  # the known recording it is (`recordings`), if any


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _spool(chunks: Any, declared: int | None, route: Route_) -> tuple[IO[bytes], int]:
    """Read `chunks` into a temporary file, counting; Refusal when over 250 MiB."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    size, over = 0, declared is not None and declared > MAX_BYTES
    try:
        async for chunk in chunks:
            size += len(chunk)
            over = over or size > MAX_BYTES
            if not over:
                spool.write(chunk)
    except BaseException:  # the client went away mid-upload
        spool.close()
        raise
    if over:
        spool.close()
        if route == "stt":
            raise refusal(route, 413, TOO_LARGE)
        raise refusal(route, 400, "Audio data too large")
    spool.seek(0)
    return spool, size


def _declared(headers: Any) -> int | None:
    value = str(headers.get("content-length", "")).strip()
    return int(value) if value.isdigit() else None


async def _upload(request: Request, job: Job) -> Upload:
    if not _is_json(request):
        file, size = await _spool(request.stream(), _declared(request.headers), job.route)
        if size == 0:
            file.close()
            if job.route == "stt":
                raise refusal(
                    "stt",
                    400,
                    'The request has no body: send the audio bytes, or JSON {"url": ...}.',
                )
            raise refusal("pulse", 400, BAD_FORMAT)
        return Upload(file, size)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            break
    try:
        document = json.loads(raw)
        url = document["url"]
        if not isinstance(url, str):
            raise TypeError(url)
        http_url(url, "url")
    except (ValueError, TypeError, KeyError, BadParam):
        if job.route == "stt":
            raise refusal(
                "stt", 400, 'Invalid JSON body: expected {"url": "http(s)://…"}.'
            ) from None
        raise refusal("pulse", 400, BAD_URL_BODY) from None
    return await _download(url, job.route)


async def _download(url: str, route: Route_) -> Upload:
    import httpx

    try:
        timeout = httpx.Timeout(30.0, connect=5.0)
        async with httpx.AsyncClient(follow_redirects=True, timeout=timeout) as client:
            async with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise refusal(
                        route,
                        400,
                        f"Could not download audio from URL: it answered HTTP {response.status_code}.",
                    )
                file, size = await _spool(
                    response.aiter_bytes(), _declared(response.headers), route
                )
    except httpx.HTTPError as exc:
        raise refusal(
            route, 400, f"Could not download audio from URL: {exc or type(exc).__name__}."
        ) from None
    name = PurePosixPath(urlsplit(url).path).name or None
    return Upload(file, size, name)


async def _drain(request: Request) -> None:
    """Read what is left of the body, so the client can finish sending and read the answer."""
    try:
        async for _ in request.stream():
            pass
    except (RuntimeError, ClientDisconnect):
        pass


def _hear(upload: Upload, job: Job, recordings: Recordings | None) -> None:
    try:
        decoded = decode_file(upload.file)
        if recordings is None:
            upload.sounds, upload.duration = hear_all(decoded)
            return
        printer = recordings.fingerprinter(decoded.sample_rate)
        upload.sounds, upload.duration = hear_all(tapped(decoded, printer))
        upload.script = recordings.identify(printer.power(), upload.duration)
    except AudioError as exc:
        if job.route == "stt":
            raise refusal("stt", 400, f"Invalid audio: {exc}.") from None
        raise refusal("pulse", 400, BAD_FORMAT) from None
    finally:
        upload.file.close()


# -- the answer -------------------------------------------------------------------------------


def transcript_of(sounds: list[Sound], job: Job, script: Script | None = None) -> Written:
    """The transcript of what was heard: `script`'s words when the audio is a known
    recording, else the words of `sounds`."""
    tokens = script.tokens(sounds) if script is not None else tokens_of(sounds)
    tokens = mark_sentences(tokens, pause_threshold(pauses_of(tokens)), last_ends=True)
    if job.detection.diarize:
        tokens = mark_turns(diarize(tokens))
    redactor = Redactor(pii=job.formatting.redact_pii, pci=job.formatting.redact_pci)
    return write(tokens, job.formatting, redactor)


def _words(written: Written, job: Job) -> list[dict[str, Any]]:
    words = []
    for index, token in enumerate(written.tokens):
        if job.model == "pulse-pro":
            words.append(
                {
                    "word": written.word_text(index),
                    "start": seconds(token.start),
                    "end": seconds(token.end),
                    "confidence": token.confidence,
                }
            )
            continue
        entry: dict[str, Any] = {"start": seconds(token.start), "end": seconds(token.end)}
        if job.detection.diarize:
            entry["speaker"] = token.speaker
            entry["speaker_confidence"] = token.speaker_confidence
        entry["word"] = written.word_text(index)
        entry["confidence"] = token.confidence
        words.append(entry)
    return words


def _utterances(written: Written, job: Job) -> list[dict[str, Any]]:
    utterances = []
    for first, stop in written.sentences(by_speaker=job.detection.diarize):
        entry: dict[str, Any] = {
            "start": seconds(written.tokens[first].start),
            "end": seconds(written.tokens[stop - 1].end),
        }
        if job.detection.diarize:
            entry["speaker"] = written.tokens[first].speaker
        entry["text"] = " ".join(written.texts[first:stop])
        utterances.append(entry)
    return utterances


def result(job: Job, upload: Upload, request_id: str, elapsed: float) -> dict[str, Any]:
    """The 200 body for a finished transcription (`elapsed`: seconds since the request)."""
    written = transcript_of(upload.sounds, job, upload.script)
    timed = job.detection.word_timestamps
    body: dict[str, Any] = {"status": "success", "transcription": written.transcript}
    body["words"] = _words(written, job) if timed else []
    if job.model == "pulse-pro":
        body["language"] = detected_language(job.language)
    else:
        body["utterances"] = _utterances(written, job) if timed else []
        gender = gender_of(written.tokens) if job.detection.gender else None
        if gender is not None:
            body["gender"] = gender
    if job.detection.emotion:
        body["emotions"] = emotions(written.transcript, EMOTIONS)
    duration = round(upload.duration, 2)
    if job.model == "pulse-pro":
        body["metadata"] = {
            "duration": duration,
            "processing_time_ms": round(elapsed * 1000, 2),
            "rtfx": round(upload.duration / elapsed, 1) if elapsed > 0 else 0.0,
            "num_chunks": max(1, math.ceil(upload.duration / CHUNK_SECONDS)),
        }
        body["totalBytes"] = upload.size
        body["request_id"] = request_id
    else:
        body["metadata"] = {"duration": duration, "fileSize": upload.size}
        if upload.filename is not None and job.route == "pulse":
            body["metadata"]["filename"] = upload.filename
    return body


# -- the route --------------------------------------------------------------------------------


def _state(request: Request) -> EmulatorState:
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state


async def _transcribe(request: Request, route: Route_) -> Response:
    loop = asyncio.get_running_loop()
    started = loop.time()
    state = _state(request)
    pacing = state.pacing.snapshot()
    try:
        job = parse(route, query_of(request.scope.get("query_string", b"")), request.headers)
        region = state.region_of(request.scope)
        if region_refuses(job.language, region, streaming=False):
            raise refusal(
                route,
                400,
                not_enabled_message(job.language),
                error_code="LANGUAGE_NOT_ENABLED_IN_REGION",
                language=job.language,
                region=region,
            )
        if _is_json(request) and job.model == "pulse-pro":
            raise refusal(
                route,
                400,
                "Pulse Pro does not support audio-by-URL. Send raw bytes or use ?model=pulse.",
            )
        try:
            state.limits.stt_rate.check(f"{bearer_key(request.headers)}:{job.model}")
        except LimitExceeded:
            raise refusal(route, 429, RATE_LIMITED) from None
        upload = await _upload(request, job)
        await anyio.to_thread.run_sync(_hear, upload, job, state.recordings)
    except Refusal as refused:
        await _drain(request)
        return refused.response()
    except ClientDisconnect:  # the client left while sending: nobody to answer
        exchange = exchange_of(request.scope)
        if exchange is not None:
            exchange.fault = "client disconnected"  # not an answer to hold to the contract
        return Response(status_code=499)
    request_id = str(uuid.uuid4())
    ready = started + pacing.transcribed_at(upload.duration)
    if job.webhook is not None:
        _schedule(state, _deliver(state, job, upload, request_id, started, ready))
        return _json(
            {"status": "processing", "request_id": request_id}, headers={"X-Request-Id": request_id}
        )
    delay = ready - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
    body = result(job, upload, request_id, loop.time() - started)
    headers = {"X-Request-Id": request_id} if job.model == "pulse-pro" else {}
    if job.expire and route == "stt":
        headers["x-content-expiry"] = "applied"
    return _json(body, headers=headers)


def _schedule(state: EmulatorState, work: Any) -> None:
    task = asyncio.get_running_loop().create_task(work)
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def _deliver(
    state: EmulatorState, job: Job, upload: Upload, request_id: str, started: float, ready: float
) -> None:
    import httpx

    loop = asyncio.get_running_loop()
    delay = ready - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
    assert job.webhook is not None
    payload = result(job, upload, request_id, loop.time() - started)
    payload["request_id"] = request_id
    if job.webhook.extra:
        payload["webhook_extra"] = dict(job.webhook.extra)
    delivery = WebhookDelivery(request_id, job.webhook.url, job.webhook.method, payload)
    state.record_webhook(delivery)
    headers = {
        "User-Agent": "smallest-emulator-webhook",
        "X-Emulator": EMULATOR_HEADER,
        "X-Request-Id": request_id,
    }
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
        for attempt in range(WEBHOOK_RETRIES + 1):
            try:
                if job.webhook.method == "GET":
                    params = {
                        **job.webhook.extra,
                        "request_id": request_id,
                        "status": payload["status"],
                        "transcription": payload["transcription"],
                    }
                    answer = await client.get(job.webhook.url, params=params, headers=headers)
                else:
                    answer = await client.post(
                        job.webhook.url,
                        content=json_bytes(payload),
                        headers={**headers, "Content-Type": "application/json"},
                    )
                delivery.statuses.append(answer.status_code)
                if answer.status_code < 500:
                    break
            except httpx.HTTPError as exc:
                delivery.statuses.append(type(exc).__name__)
            if attempt < WEBHOOK_RETRIES:
                await asyncio.sleep(min(WEBHOOK_FIRST_BACKOFF * 2**attempt, WEBHOOK_MAX_BACKOFF))
    delivery.done = True


async def transcribe(request: Request) -> Response:
    return await _transcribe(request, "stt")


async def transcribe_pulse(request: Request) -> Response:
    return await _transcribe(request, "pulse")


routes = [
    Route("/waves/v1/stt/", transcribe, methods=["POST"]),
    Route("/waves/v1/stt", transcribe, methods=["POST"]),
    Route("/waves/v1/pulse/get_text", transcribe_pulse, methods=["POST"]),
]

__all__ = ["MAX_BYTES", "Job", "Refusal", "parse", "refusal", "result", "routes", "transcript_of"]
