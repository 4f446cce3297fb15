"""What one emulator instance knows: its faults, limits and pacing, and the traffic it has seen."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from smallest_cli.emulator.clones import Clones
from smallest_cli.emulator.dictionaries import Dictionaries
from smallest_cli.emulator.faults import FaultPlan
from smallest_cli.emulator.limits import Limits

if TYPE_CHECKING:
    from smallest_cli.emulator.recordings import Recordings

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
    processing_ms: float | None = None  # STT socket: from close_stream to the is_last event

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
            "processing_ms": self.processing_ms,
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

    Pre-recorded speech to text is paced the same way: its answer (or webhook) is released
    `stt_ms + stt_rtf * duration` after the request arrived (Pulse Pro's documented example
    took 172 ms for 5.28 s of audio, rtfx 30.7, hence the defaults 150 ms and 1/30).
    Realtime STT events are not delayed: they go out as soon as the audio is heard.

    A chat completion's first piece goes out `chat_first_token_ms` after the request, and
    each next piece (a word or so) `chat_token_ms` after the one before; a reply that is not
    streamed is sent when its last piece would have been (Electron: time to first token
    "typically under 300 ms", then "a few milliseconds" per token).
    A voice clone takes `clone_ms` milliseconds to go from `pending` through `processing` to
    done.
    """

    first_audio_ms: float = 150.0
    rtf: float = 0.2
    stt_ms: float = 150.0
    stt_rtf: float = 1 / 30
    chat_first_token_ms: float = 200.0
    chat_token_ms: float = 15.0
    clone_ms: float = 3000.0

    def __post_init__(self) -> None:
        if not all(0 <= value < math.inf for value in astuple(self)):
            names = [f.name for f in fields(self)]
            raise ValueError(
                f"{', '.join(names[:-1])} and {names[-1]} must be finite numbers, zero or more"
            )

    def snapshot(self) -> Pacing:
        return replace(self)

    def release_at(self, seconds: float) -> float:
        """When audio from `seconds` into the clip may go out, in seconds after the request."""
        return self.first_audio_ms / 1000 + self.rtf * seconds

    def transcribed_at(self, seconds: float) -> float:
        """When the transcript of `seconds` of audio is ready, in seconds after the request."""
        return self.stt_ms / 1000 + self.stt_rtf * seconds

    def to_json(self) -> dict[str, float]:
        return {
            "first_audio_ms": self.first_audio_ms,
            "rtf": self.rtf,
            "stt_ms": self.stt_ms,
            "stt_rtf": self.stt_rtf,
            "chat_first_token_ms": self.chat_first_token_ms,
            "chat_token_ms": self.chat_token_ms,
            "clone_ms": self.clone_ms,
        }


Region = Literal["ap-south-1", "us-west-2"]
INDIA: Region = "ap-south-1"
US: Region = "us-west-2"


@dataclass
class WebhookDelivery:
    """One asynchronous STT result and how its delivery to the client's webhook went."""

    request_id: str
    url: str
    method: str
    payload: dict[str, Any]
    statuses: list[int | str] = field(default_factory=list)  # per attempt: status or error
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "url": self.url,
            "method": self.method,
            "attempts": len(self.statuses),
            "statuses": list(self.statuses),
            "done": self.done,
        }


class EmulatorState:
    """One emulator: its settings, its traffic, and the regions it listens as.

    The emulator serves both regions of the API at once (REFERENCE §2.1): each listening
    port is registered with its region (`listen_as`), and a request's region is the one of
    the port it arrived on (`region_of`: `scope["server"]`); a port never registered, or an
    in-memory ASGI call, is the India region (`ap-south-1`, the `api.smallest.ai` stand-in).
    """

    def __init__(
        self,
        faults: FaultPlan | None = None,
        limits: Limits | None = None,
        pacing: Pacing | None = None,
        transcripts: Path | None = None,
    ) -> None:
        """`transcripts`: a folder of known recordings (`recordings`); RecordingsError
        (a ValueError) when it cannot be used."""
        self.faults = faults or FaultPlan()
        self.limits = limits or Limits()
        self.pacing = pacing or Pacing()
        self.recordings: Recordings | None = None
        if transcripts is not None:
            from smallest_cli.emulator.recordings import Recordings

            self.recordings = Recordings.load(transcripts)
        self.dictionaries = Dictionaries()
        self.clones = Clones()
        self.region_ports: dict[int, Region] = {}
        self.region_urls: dict[Region, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()  # background work (webhook deliveries)
        self._exchanges: deque[Exchange] = deque(maxlen=MAX_EXCHANGES)
        self._webhooks: deque[WebhookDelivery] = deque(maxlen=MAX_EXCHANGES)
        self._lock = threading.Lock()

    def listen_as(self, region: Region, base_url: str) -> None:
        """Register a listening base URL (`http://host:port`) as serving `region`."""
        port = int(base_url.rsplit(":", 1)[1])
        self.region_ports[port] = region
        self.region_urls[region] = base_url

    def region_of(self, scope: Mapping[str, Any]) -> Region:
        server = scope.get("server")
        port = server[1] if isinstance(server, (tuple, list)) and len(server) > 1 else None
        return self.region_ports.get(port, INDIA) if isinstance(port, int) else INDIA

    def record_webhook(self, delivery: WebhookDelivery) -> None:
        with self._lock:
            self._webhooks.append(delivery)

    def webhooks(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhooks)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        """Forget the traffic seen so far (requests and webhook deliveries)."""
        with self._lock:
            self._exchanges.clear()
            self._webhooks.clear()
