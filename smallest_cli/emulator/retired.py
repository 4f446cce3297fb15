"""What the retired routes answer (REFERENCE §6.5, §8.3–8.5, §13.1).

Lightning v2 and Lightning Large answer 410 `MODEL_DEPRECATED`; the model-named v3.1 and
v1 routes were removed at the API layer and answer 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smallest_cli.emulator.errors import error_body

GONE_PREFIXES = (
    "/waves/v1/lightning-v2",
    "/waves/v1/lightning-large",
    "/waves/v1/prof-voice-cloning",
)
REPLACEMENTS = {
    "/waves/v1/lightning-large/add_voice": "/waves/v1/voice-cloning",
    "/waves/v1/lightning-large/get_cloned_voices": "/waves/v1/voice-cloning",
    "/waves/v1/prof-voice-cloning": "/waves/v1/voice-cloning",
}


def retired_response(path: str) -> JSONResponse:
    """410 with the MODEL_DEPRECATED body for v2/large routes, 404 for the removed ones."""
    if not path.startswith(GONE_PREFIXES):
        return JSONResponse(error_body("tts", 404, f"Route {path} not found"), status_code=404)
    replacement = next(
        (new for old, new in REPLACEMENTS.items() if path.startswith(old)), "/waves/v1/tts"
    )
    return JSONResponse(
        {
            "status": "error",
            "error_code": "MODEL_DEPRECATED",
            "message": f"This model is retired. Please migrate to lightning-v3.1 via {replacement}.",
            "recommended_endpoint": replacement,
        },
        status_code=410,
    )


async def _retired(request: Request) -> Response:
    return retired_response(request.url.path)


_FAMILIES = (
    "lightning-v2",
    "lightning-large",
    "lightning-v3.1",
    "lightning",
    "prof-voice-cloning",
    "streaming-tts",
)
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]

routes = [
    route
    for family in _FAMILIES
    for route in (
        Route(f"/waves/v1/{family}", _retired, methods=_METHODS),
        Route(f"/waves/v1/{family}/{{rest:path}}", _retired, methods=_METHODS),
    )
]
