"""A client-side request-rate limiter: at most N requests in any sliding minute.

The pre-recorded STT routes allow 25 requests a minute per model on the Standard plan
(REFERENCE §4.2). A batch of 60 files sent as fast as the connections allow would collect
429s and spend its retries on them; pacing the requests here keeps the batch inside the
limit, and the retry policy still absorbs a stray 429 (another process on the same key).
It is shared by the threads of one process; separate processes do not coordinate, so when
the API answers 429 anyway (another client on the same key), `saturate` treats the minute
as used up: every thread waits a whole window before it starts again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# The API's minute plus a second: a request that took longer to arrive than a later one must
# still have left the server's window when the client counts it gone.
WINDOW_SECONDS = 61.0


class RateLimiter:
    """Blocks in `acquire` until starting one more request keeps to `per_window` a window."""

    def __init__(
        self,
        per_window: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if per_window < 1:
            raise ValueError("per_window must be at least 1")
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot and take it; return the seconds waited."""
        waited = 0.0
        announced = False
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                if len(self._starts) < self.per_window:
                    self._starts.append(now)
                    return waited
                delay = self._starts[0] + self.window - now
            if not announced and self._on_wait is not None:
                self._on_wait(delay)
                announced = True
            self._sleep(delay)
            waited += delay

    def saturate(self) -> None:
        """The server says its window is full: start nothing until a whole window has passed."""
        with self._lock:
            now = self._clock()
            self._starts = deque([now] * self.per_window)


class AdaptiveSlots:
    """How many of one process's requests run at once: `limit` at most, fewer once the API
    says the account has fewer slots (AIMD, as TCP does with its window).

    A worker holds a slot (`hold`) for the whole of its request. When the API answers 429
    while others of ours are in flight, those are the slots the account has: the count
    drops to theirs, and the refused worker waits for one of them to finish (`wait_busy`)
    instead of asking again on a timer. After `limit` × 4 requests without a 429 the count
    grows by one, to find slots that another process has since let go.
    """

    def __init__(self, limit: int) -> None:
        self.ceiling = self.limit = max(1, limit)
        self._active = 0
        self._finished = 0
        self._since_busy = 0
        self._holders: set[int] = set()
        self._changed = threading.Condition()

    def holds(self) -> bool:
        """Whether the calling thread holds a slot."""
        return threading.get_ident() in self._holders

    def acquire(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._active < self.limit)
            self._active += 1
            self._holders.add(threading.get_ident())

    def release(self, succeeded: bool) -> None:
        with self._changed:
            self._active -= 1
            self._holders.discard(threading.get_ident())
            self._finished += 1
            if succeeded:
                self._since_busy += 1
                if self.limit < self.ceiling and self._since_busy >= 4 * self.ceiling:
                    self.limit += 1
                    self._since_busy = 0
            self._changed.notify_all()

    def wait_busy(self) -> bool:
        """The calling holder was refused for lack of a slot: shrink to the requests of
        ours still in flight and wait until one of them ends. False when none is in flight
        (the slot is another process's): then the caller waits on its own timer."""
        with self._changed:
            others = self._active - 1
            self._since_busy = 0
            if others >= 1:
                self.limit = min(self.limit, others)
                finished = self._finished
                self._active -= 1
                self._changed.notify_all()
                self._changed.wait_for(
                    lambda: self._finished > finished and self._active < self.limit
                )
                self._active += 1
                return True
        return False
