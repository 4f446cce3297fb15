"""What one emulator instance knows: its faults, its limits, and the traffic it has seen."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from smallest_cli.emulator.faults import FaultPlan
from smallest_cli.emulator.limits import Limits

MAX_RECORDED_BODY = 4 * 1024 * 1024
MAX_EXCHANGES = 2000


@dataclass
class Exchange:
    """One request and its response (or one WebSocket session), as the emulator saw them.

    Tests read these to check what the client sent and to validate both sides against the
    published contract. Bodies past 4 MiB are cut (`truncated`).
    """

    kind: str  # "http" or "websocket"
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    frames_in: list[str | bytes] = field(default_factory=list)
    frames_out: list[str | bytes] = field(default_factory=list)
    fault: str | None = None
    truncated: bool = False
    started: float = field(default_factory=time.time)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";")[0].strip()

    def to_json(self) -> dict[str, Any]:
        """A summary for GET /_emulator/requests (bodies as text where they are text)."""
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": _printable(self.body),
            "status": self.status,
            "fault": self.fault,
        }


def _printable(body: bytes) -> str | None:
    try:
        return body.decode("utf-8") if len(body) <= 64 * 1024 else None
    except UnicodeDecodeError:
        return None


class EmulatorState:
    def __init__(self, faults: FaultPlan | None = None, limits: Limits | None = None) -> None:
        self.faults = faults or FaultPlan()
        self.limits = limits or Limits()
        self._exchanges: deque[Exchange] = deque(maxlen=MAX_EXCHANGES)
        self._lock = threading.Lock()

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()
