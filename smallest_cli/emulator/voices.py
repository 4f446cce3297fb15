"""Get Voices and Get All Voices (REFERENCE §7), and what the retired catalogs answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smallest_cli.emulator.catalog import VOICES
from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.retired import retired_response

CURRENT_MODEL = "lightning-v3.1"
RETIRED_MODELS = ("lightning-v2", "lightning-large", "lightning")


async def get_voices(request: Request) -> Response:
    model = request.path_params["model"]
    if model == CURRENT_MODEL:
        return JSONResponse({"voices": [v.get_voices_entry() for v in VOICES]})
    if model in RETIRED_MODELS:
        return retired_response(request.url.path)
    return JSONResponse(
        error_body("tts", 400, f"Invalid model '{model}'. Supported models: {CURRENT_MODEL}"),
        status_code=400,
    )


async def get_all_voices(request: Request) -> Response:
    return JSONResponse({"voices": [v.catalog_entry() for v in VOICES]})


routes = [
    Route("/waves/v1/voice/get-all-models", get_all_voices, methods=["GET"]),
    Route("/waves/v1/{model}/get_voices", get_voices, methods=["GET"]),
]
