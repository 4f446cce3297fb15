"""What the retired routes answer (REFERENCE §6.5, §8.3–8.5, §13.1).

Lightning v2 and Lightning Large answer 410 `MODEL_DEPRECATED`, naming the current route to
use instead (`/waves/v1/tts` for synthesis, `/waves/v1/tts/live` for the streaming and
WebSocket routes, `/waves/v1/voice-cloning` for the old clone routes); the model-named v3.1
and v1 routes and `streaming-tts` were removed at the API layer and answer 404. A WebSocket
handshake on any of them is refused with the same HTTP answer.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.handshake import deny

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


def retired_answer(path: str) -> tuple[int, dict[str, Any]]:
    """410 with the MODEL_DEPRECATED body for v2/large routes, 404 for the removed ones."""
    if not path.startswith(GONE_PREFIXES):
        return 404, error_body("tts", 404, f"Route {path} not found")
    replacement = next(
        (new for old, new in REPLACEMENTS.items() if path.startswith(old)),
        "/waves/v1/tts/live" if path.endswith("/stream") else "/waves/v1/tts",
    )
    return 410, {
        "status": "error",
        "error_code": "MODEL_DEPRECATED",
        "message": f"This model is retired. Please migrate to lightning-v3.1 via {replacement}.",
        "recommended_endpoint": replacement,
    }


def retired_response(path: str) -> JSONResponse:
    status, body = retired_answer(path)
    return JSONResponse(body, status_code=status)


async def _retired(request: Request) -> Response:
    return retired_response(request.url.path)


async def _retired_socket(websocket: WebSocket) -> None:
    status, body = retired_answer(websocket.url.path)
    await deny(websocket.scope, websocket.receive, websocket.send, status, body)


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
        WebSocketRoute(f"/waves/v1/{family}/{{rest:path}}", _retired_socket),
    )
]
