"""What the retired routes answer (REFERENCE §0.1, §6.5, §8.3–8.5, §13.1).

Every route of the retired models (`lightning`, `lightning-v2`, `lightning-large`) and of the
old professional cloning answers 410 with the body the vendor quotes, word for word:
`{"status": "error", "error_code": "MODEL_DEPRECATED", "message": …, "recommended_endpoint":
"/waves/v1/lightning-v3.1/get_speech"}` (the deprecated v3.1 route it names is still served,
§0.1). `streaming-tts` was removed at the API layer and answers 404. A WebSocket handshake on
any of them is refused with the same HTTP answer.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from smallest_cli.emulator.errors import error_body
from smallest_cli.emulator.handshake import deny

GONE_FAMILIES = ("lightning", "lightning-v2", "lightning-large", "prof-voice-cloning")
REMOVED_FAMILIES = ("streaming-tts",)
RECOMMENDED_ENDPOINT = "/waves/v1/lightning-v3.1/get_speech"
MODEL_DEPRECATED: dict[str, Any] = {
    "status": "error",
    "error_code": "MODEL_DEPRECATED",
    "message": f"This model is retired. Please migrate to lightning-v3.1 via {RECOMMENDED_ENDPOINT}.",
    "recommended_endpoint": RECOMMENDED_ENDPOINT,
}


def retired_answer(path: str) -> tuple[int, dict[str, Any]]:
    """410 with the MODEL_DEPRECATED body for a retired model's route, 404 for a removed one."""
    family = path.removeprefix("/waves/v1/").partition("/")[0]
    if family in GONE_FAMILIES:
        return 410, dict(MODEL_DEPRECATED)
    return 404, error_body("tts", 404, f"Route {path} not found")


def retired_response(path: str) -> JSONResponse:
    status, body = retired_answer(path)
    return JSONResponse(body, status_code=status)


async def _retired(request: Request) -> Response:
    return retired_response(request.url.path)


async def _retired_socket(websocket: WebSocket) -> None:
    status, body = retired_answer(websocket.url.path)
    await deny(websocket.scope, websocket.receive, websocket.send, status, body)


_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]

routes = [
    route
    for family in (*GONE_FAMILIES, *REMOVED_FAMILIES)
    for route in (
        Route(f"/waves/v1/{family}", _retired, methods=_METHODS),
        Route(f"/waves/v1/{family}/{{rest:path}}", _retired, methods=_METHODS),
        WebSocketRoute(f"/waves/v1/{family}/{{rest:path}}", _retired_socket),
    )
]
