"""A WebSocket held open for a `with` block: what the TTS and STT live sessions share.

Kept apart from api/ws.py so that naming a session type does not import websockets.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

Session = TypeVar("Session", bound="WebSocketSession")


class WebSocketSession:
    """Connects on `with` entry and closes on exit, so a session is never left open; using
    `connection` outside the block is a programming error, said plainly."""

    def __init__(self, connecting: AbstractContextManager[ClientConnection]) -> None:
        self._connecting = connecting
        self._connection: ClientConnection | None = None

    def __enter__(self: Session) -> Session:
        self._connection = self._connecting.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._connecting.__exit__(*exc_info)

    @property
    def connection(self) -> ClientConnection:
        if self._connection is None:
            raise RuntimeError("use the session in a `with` block")
        return self._connection
