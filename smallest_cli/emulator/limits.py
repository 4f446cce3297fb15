"""The API's concurrency and rate limits (REFERENCE §4), enforced per API key.

TTS: one request in flight per account by default (settable), 429 beyond; up to five
WebSocket connections per concurrency unit. STT: 25 pre-recorded requests a minute per
model, 100 streaming sessions (both settable). Electron: 10 requests a minute and 3 in
flight per key (both settable). Voice cloning: 10 clones per key (settable; the live
per-organization quota is UNKNOWN, REFERENCE §8.1).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class LimitExceeded(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("limit exceeded")
        self.retry_after = retry_after


class ConcurrencyLimiter:
    """At most `limit` holders per key at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        """Hold one unit for the duration; LimitExceeded if none is free."""
        with self._lock:
            if self._active[key] >= self.limit:
                raise LimitExceeded()
            self._active[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._active[key] -= 1

    def active(self, key: str) -> int:
        with self._lock:
            return self._active[key]


class RateLimiter:
    """At most `per_minute` requests per key in any sliding 60 s window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count a request; LimitExceeded (with the wait until a slot frees) if over."""
        now = self._clock()
        with self._lock:
            seen = self._seen[key]
            while seen and now - seen[0] >= 60.0:
                seen.popleft()
            if len(seen) >= self.per_minute:
                raise LimitExceeded(retry_after=60.0 - (now - seen[0]))
            seen.append(now)

    def reset(self) -> None:
        """Forget every request counted so far."""
        with self._lock:
            self._seen.clear()


SOCKETS_PER_TTS_UNIT = 5
STT_IDLE_SECONDS = 60.0
CLONE_LIMIT = 10


@dataclass
class Limits:
    """The limits of one emulator instance; the defaults are the Standard plan's.

    `clone_limit`: how many voice clones a key may have (`cloning`).
    `tts` counts syntheses in flight (HTTP requests and WebSocket syntheses alike);
    `tts_sockets` counts open TTS WebSockets, five per unit of `tts_concurrency`.
    `stt_rate` counts pre-recorded STT requests per key and model (`key:model`) in a sliding
    minute; `stt_sessions` counts open STT WebSockets per key (both socket routes, both
    regions). `stt_idle_seconds`: how long an STT socket may go without a client message
    (the real timeout is UNKNOWN, REFERENCE §5; the emulator's choice, see `stt_ws`).
    `chat_rate` counts chat completions per key in a sliding minute, `chat` those in flight.
    """

    tts_concurrency: int = 1
    stt_per_minute: int = 25
    stt_session_limit: int = 100
    stt_idle_seconds: float = STT_IDLE_SECONDS
    chat_per_minute: int = 10
    chat_concurrency: int = 3
    clone_limit: int = CLONE_LIMIT
    tts: ConcurrencyLimiter = field(init=False)
    tts_sockets: ConcurrencyLimiter = field(init=False)
    stt_rate: RateLimiter = field(init=False)
    stt_sessions: ConcurrencyLimiter = field(init=False)
    chat_rate: RateLimiter = field(init=False)
    chat: ConcurrencyLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.tts = ConcurrencyLimiter(self.tts_concurrency)
        self.tts_sockets = ConcurrencyLimiter(SOCKETS_PER_TTS_UNIT * self.tts_concurrency)
        self.stt_rate = RateLimiter(self.stt_per_minute)
        self.stt_sessions = ConcurrencyLimiter(self.stt_session_limit)
        self.chat_rate = RateLimiter(self.chat_per_minute)
        self.chat = ConcurrencyLimiter(self.chat_concurrency)

    def set_tts_concurrency(self, limit: int) -> None:
        self.tts_concurrency = self.tts.limit = limit
        self.tts_sockets.limit = SOCKETS_PER_TTS_UNIT * limit

    def set_stt_per_minute(self, limit: int) -> None:
        """A new per-minute cap; the requests already counted still count."""
        self.stt_per_minute = self.stt_rate.per_minute = limit

    def set_stt_sessions(self, limit: int) -> None:
        self.stt_session_limit = self.stt_sessions.limit = limit

    def set_chat_per_minute(self, limit: int) -> None:
        """A new per-minute cap on chat completions; the requests already counted still count."""
        self.chat_per_minute = self.chat_rate.per_minute = limit

    def set_chat_concurrency(self, limit: int) -> None:
        self.chat_concurrency = self.chat.limit = limit

    def to_json(self) -> dict[str, float]:
        return {
            "tts_concurrency": self.tts_concurrency,
            "stt_per_minute": self.stt_per_minute,
            "stt_sessions": self.stt_session_limit,
            "stt_idle_seconds": self.stt_idle_seconds,
            "chat_per_minute": self.chat_per_minute,
            "chat_concurrency": self.chat_concurrency,
            "clone_limit": self.clone_limit,
        }
