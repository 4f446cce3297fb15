"""What one emulator instance knows: its faults, limits and pacing, and the traffic it has seen."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
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
    synthesis_ms: float | None = None  # TTS: paced time from the request to its last audio

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
            "synthesis_ms": self.synthesis_ms,
        }


def _printable(body: bytes) -> str | None:
    try:
        return body.decode("utf-8") if len(body) <= 64 * 1024 else None
    except UnicodeDecodeError:
        return None


@dataclass
class Pacing:
    """How fast the emulator "synthesizes": realistic timing for latency benchmarks.

    The first audio of a request is released `first_audio_ms` after the request arrives;
    audio from time t of the clip on follows at `first_audio_ms + rtf * t` (`rtf`, the
    real-time factor, is synthesis time per second of audio). A sync response, which needs
    the whole clip, is sent at `first_audio_ms + rtf * duration`. Zero and zero: at once.
    A request keeps the pacing it started with (`snapshot`), whatever changes meanwhile.
    """

    first_audio_ms: float = 150.0
    rtf: float = 0.2

    def __post_init__(self) -> None:
        if not all(0 <= value < math.inf for value in (self.first_audio_ms, self.rtf)):
            raise ValueError("first_audio_ms and rtf must be finite numbers, zero or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Pacing:
        """SMALLEST_EMULATOR_FIRST_AUDIO_MS and SMALLEST_EMULATOR_RTF (defaults when unset)."""
        first = environ.get("SMALLEST_EMULATOR_FIRST_AUDIO_MS") or cls.first_audio_ms
        rtf = environ.get("SMALLEST_EMULATOR_RTF") or cls.rtf
        return cls(float(first), float(rtf))

    def snapshot(self) -> Pacing:
        return Pacing(self.first_audio_ms, self.rtf)

    def release_at(self, seconds: float) -> float:
        """When audio from `seconds` into the clip may go out, in seconds after the request."""
        return self.first_audio_ms / 1000 + self.rtf * seconds

    def to_json(self) -> dict[str, float]:
        return {"first_audio_ms": self.first_audio_ms, "rtf": self.rtf}


class EmulatorState:
    def __init__(
        self,
        faults: FaultPlan | None = None,
        limits: Limits | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        self.faults = faults or FaultPlan()
        self.limits = limits or Limits()
        self.pacing = pacing or Pacing()
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
