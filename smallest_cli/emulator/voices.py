"""Get Voices and Get All Voices (REFERENCE §7), what the retired catalogs answer, and the
voice previews Get All Voices links to.

Get Voices on `lightning-v3.1` lists both pools together, as the spec and the voices page
say; on `lightning-v3.1-pro` (which the vendor's catalog script queries) only the Pro pool.
Any other model is 404 (REFERENCE §0.8), the retired ones keep their 410.
"""

from __future__ import annotations

import asyncio
import functools

import numpy as np
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smallest_cli.emulator.catalog import BY_ID, PREVIEW_PATH, VOICES, Pool
from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.retired import retired_response
from smallest_cli.emulator.speech import Synthesis, VoiceTimbre
from smallest_cli.emulator.tts_audio import encode

POOLS: dict[str, tuple[Pool, ...]] = {
    "lightning-v3.1": ("lightning_v3.1", "lightning_v3.1_pro"),
    "lightning-v3.1-pro": ("lightning_v3.1_pro",),
}
RETIRED_MODELS = ("lightning-v2", "lightning-large", "lightning")
PREVIEW_RATE = 24_000


async def get_voices(request: Request) -> Response:
    model = request.path_params["model"]
    if model in POOLS:
        pools = POOLS[model]
        listed = [v.get_voices_entry() for v in VOICES if set(v.pools) & set(pools)]
        return JSONResponse({"voices": listed})
    if model in RETIRED_MODELS:
        return retired_response(request.url.path)
    return JSONResponse(
        error_body("tts", 404, f"Model '{model}' not found. Supported models: {', '.join(POOLS)}"),
        status_code=404,
    )


async def get_all_voices(request: Request) -> Response:
    base_url = str(request.base_url)
    return JSONResponse({"voices": [v.catalog_entry(base_url) for v in VOICES]})


@functools.lru_cache(maxsize=8)
def preview_wav(voice_id: str) -> bytes:
    """A 24 kHz WAV of the voice saying its preview sentence."""
    voice = BY_ID[voice_id]
    synthesis = Synthesis(
        voice.preview_text(),
        sample_rate=PREVIEW_RATE,
        timbre=VoiceTimbre.for_voice(voice.voice_id, voice.gender),
    )
    return encode(np.frombuffer(synthesis.pcm(), dtype=np.int16), PREVIEW_RATE, "wav")


async def get_preview(request: Request) -> Response:
    voice = BY_ID.get(request.path_params["voice_id"])
    if voice is None or not voice.has_preview:
        raise HTTPException(404)
    audio = await asyncio.to_thread(preview_wav, voice.voice_id)
    return Response(audio, media_type="audio/wav")


routes = [
    Route("/waves/v1/voice/get-all-models", get_all_voices, methods=["GET"]),
    Route("/waves/v1/{model}/get_voices", get_voices, methods=["GET"]),
    Route(f"{PREVIEW_PATH}/{{voice_id}}.wav", get_preview, methods=["GET"]),
]
