"""Voice cloning (REFERENCE §8.1–8.2): POST and GET /waves/v1/voice-cloning, and the clips.

POST takes `multipart/form-data` with `displayName` and `file` (required) and `model`,
`language`, `description`, `accent`, `tags` (comma-separated, split and trimmed). Refusals,
in the order they are checked (the live order is UNKNOWN), each `{"error": …}` (the cloning
service's shape, §3; the wording of the undocumented ones is the emulator's):

* 400 `No file provided` without a `file` part;
* 400 `Invalid file type. Supported types: …` when the sample is not of an accepted type;
* 400 `File too large` over 5 MB (5 × 1024 × 1024 bytes; the words are multer's);
* 400 `displayName is required` / `… at most 500 characters`;
* 400 `Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1`, and
  `Invalid model. Supported: …` for any other unknown model;
* 400 `Invalid language. Supported: en, hi, …` (the TTS codes of the clone's model, §0.3);
* 400 `clone limit exceeded, consider upgrading` when the key has `Limits.clone_limit` clones;
* 500 with `"error_code": "voice_clone_error"` when the sample does not decode.

The type of the sample is judged by its bytes when they are a container the emulator knows
(WAV `audio/wav`, MP3 `audio/mpeg`, MP4/M4A `audio/mp4`, WebM `audio/webm`; FLAC, OGG, AIFF…
are refused), else by the part's declared Content-Type: the documented curl, requests and
fetch examples all upload a .wav as `application/octet-stream` or with no type, and work.
Bytes that are no known container under an accepted declared type do not decode (500).

The answer is the documented 200 (`data.model` as the docs' `{_id, modelName}` object, which
clients accept beside the spec's string, §12), its `samples[].audioUrl` a clip on the
emulator itself (`/_emulator/clone-samples/VOICE.wav`, no key needed, like a signed URL):
the sample sentence in the new voice. A failed clone has no samples. Status over time, the
pitch and the pools: `clones`, `clone_sample`.

GET answers `{"data": [...]}`, the key's clones oldest first, in the §8.2 shape.

Control surface: `POST /_emulator/clones` with the key's `Authorization` header and JSON
`{"displayName", "model"}` (`model` defaults to `lightning-large`) puts a finished clone in
the key's account without a sample, the way an account keeps the clones the retired
`add_voice` made; it answers the clone's §8.2 entry.
"""

from __future__ import annotations

import asyncio
import functools

import numpy as np
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smallest_cli.audio.formats import sniff
from smallest_cli.emulator.catalog import pitch_hz
from smallest_cli.emulator.clone_sample import analyse
from smallest_cli.emulator.clones import (
    CLONE_MODELS,
    LEGACY_MODEL,
    SAMPLE_TEXT,
    Clone,
    CloneLimitReached,
    new_voice_id,
    organization_id,
)
from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.speech import Synthesis, VoiceTimbre
from smallest_cli.emulator.state import EmulatorState
from smallest_cli.emulator.stt_audio import AudioError
from smallest_cli.emulator.tts import bearer_key
from smallest_cli.emulator.tts_audio import encode
from smallest_cli.emulator.tts_request import MODEL_LANGUAGES

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 500
ACCEPTED_TYPES = (
    "audio/mpeg",
    "audio/mpeg-3",
    "audio/wav",
    "audio/wave",
    "audio/webm",
    "video/webm",
    "audio/mp4",
    "video/mp4",
)
SNIFFED_TYPES = {
    "WAV": "audio/wav",
    "MP3": "audio/mpeg",
    "M4A": "audio/mp4",
    "WEBM": "audio/webm",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "AIFF": "audio/aiff",
    "AU": "audio/basic",
    "CAF": "audio/x-caf",
    "RF64": "audio/x-rf64",
}
SAMPLE_PATH = "/_emulator/clone-samples"
SAMPLE_RATE = 24_000
V2_DEPRECATED = "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"
LIMIT_EXCEEDED = "clone limit exceeded, consider upgrading"


def _state(request: Request) -> EmulatorState:
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state


def _refuse(message: str, status: int = 400, code: str | None = None) -> JSONResponse:
    return JSONResponse(error_body("clone", status, message, code=code), status_code=status)


def _text(value: object) -> str | None:
    """A form field's text, None when absent or blank."""
    return value.strip() or None if isinstance(value, str) else None


def _sample_type(head: bytes, declared: str | None) -> str:
    sniffed = sniff(head)
    if sniffed is not None:
        return SNIFFED_TYPES[sniffed]
    return (declared or "application/octet-stream").split(";")[0].strip().lower()


async def create_clone(request: Request) -> Response:
    state = _state(request)
    key = bearer_key(request.headers)
    async with request.form(max_files=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _refuse("No file provided")
        body = await upload.read()
        file_name = upload.filename or "file"
        declared = upload.content_type
        fields = {name: _text(form.get(name)) for name in _FIELDS}
        tag_field = form.get("tags")
    sample_type = _sample_type(body[:64], declared)
    if sample_type not in ACCEPTED_TYPES:
        return _refuse(f"Invalid file type. Supported types: {', '.join(ACCEPTED_TYPES)}")
    if len(body) > MAX_FILE_BYTES:
        return _refuse("File too large")
    name = fields["displayName"]
    if name is None:
        return _refuse("displayName is required")
    if len(name) > MAX_NAME_CHARS:
        return _refuse(f"displayName must be at most {MAX_NAME_CHARS} characters")
    model = fields["model"] or "lightning-v3.1"
    if model == "lightning-v2":
        return _refuse(V2_DEPRECATED)
    if model not in CLONE_MODELS:
        return _refuse(f"Invalid model. Supported: {', '.join(CLONE_MODELS)}")
    language = fields["language"]
    supported = MODEL_LANGUAGES[CLONE_MODELS[model]]
    if language is not None and language not in supported:
        return _refuse(f"Invalid language. Supported: {', '.join(supported)}")
    limit = state.limits.clone_limit
    if len(state.clones.of(key)) >= limit:
        return _refuse(LIMIT_EXCEEDED)
    try:
        if sniff(body[:64]) is None:
            raise AudioError("no container")
        voice = await asyncio.to_thread(analyse, body)
    except AudioError:
        return _refuse(
            "Voice cloning failed: the audio could not be processed. Try a cleaner sample.",
            500,
            "voice_clone_error",
        )
    tags = tag_field.split(",") if isinstance(tag_field, str) else []
    clone = Clone(
        voice_id=new_voice_id(),
        display_name=name,
        model=model,
        pitch_hz=voice.pitch_hz,
        processing_seconds=state.pacing.clone_ms / 1000,
        language=language,
        description=fields["description"],
        accent=fields["accent"],
        tags=tuple(tag.strip() for tag in tags if tag.strip()),
        file_name=file_name,
    )
    try:
        state.clones.add(key, clone, limit)
    except CloneLimitReached:
        return _refuse(LIMIT_EXCEEDED)
    url = f"{str(request.base_url).rstrip('/')}{SAMPLE_PATH}/{clone.voice_id}.wav"
    data = clone.created_body(organization_id(key), url)
    return JSONResponse({"message": "Voice clone created successfully", "data": data})


_FIELDS = ("displayName", "model", "language", "description", "accent")


async def list_clones(request: Request) -> Response:
    clones = _state(request).clones.of(bearer_key(request.headers))
    return JSONResponse({"data": [clone.listed() for clone in clones]})


@functools.lru_cache(maxsize=16)
def sample_wav(pitch_hz: float) -> bytes:
    """The sample sentence in a voice of `pitch_hz`, as a 24 kHz WAV."""
    synthesis = Synthesis(SAMPLE_TEXT, sample_rate=SAMPLE_RATE, timbre=VoiceTimbre(pitch_hz))
    return encode(np.frombuffer(synthesis.pcm(), dtype=np.int16), SAMPLE_RATE, "wav")


async def get_sample(request: Request) -> Response:
    clone = _state(request).clones.find(request.path_params["voice_id"])
    if clone is None or clone.pitch_hz is None:
        raise HTTPException(404)
    audio = await asyncio.to_thread(sample_wav, clone.pitch_hz)
    return Response(audio, media_type="audio/wav")


async def seed_clone(request: Request) -> Response:
    """POST /_emulator/clones: a finished clone for the key of the Authorization header."""
    key = bearer_key(request.headers)
    try:
        document = await request.json()
        name = str(document.get("displayName", "legacy clone"))
        model = str(document.get("model", LEGACY_MODEL))
    except (ValueError, AttributeError):
        return JSONResponse({"error": "a JSON object is expected"}, status_code=400)
    if not key or model not in (*CLONE_MODELS, LEGACY_MODEL):
        return JSONResponse(
            {"error": "an Authorization: Bearer key and a known model are required"},
            status_code=400,
        )
    clone = Clone(new_voice_id(), name, model, pitch_hz(name, None), processing_seconds=0.0)
    state = _state(request)
    state.clones.add(key, clone, max(state.limits.clone_limit, len(state.clones.of(key)) + 1))
    return JSONResponse(clone.listed())


routes = [
    Route("/waves/v1/voice-cloning", create_clone, methods=["POST"]),
    Route("/waves/v1/voice-cloning", list_clones, methods=["GET"]),
    Route(f"{SAMPLE_PATH}/{{voice_id}}.wav", get_sample, methods=["GET"]),
    Route("/_emulator/clones", seed_clone, methods=["POST"]),
]
