"""When to send a failed request again, and how long to wait first.

Two kinds of failure, two budgets. A busy account (429, or a WebSocket closed with 1008
before any audio: the account's requests-at-once limit is taken, often by another process
on the same key) is normal work: it is waited out for up to `max_wait` seconds (--max-wait),
asking again every 0.25 s doubling to 2 s, with jitter so that parallel clients spread out,
or when the server's `Retry-After` says. 502, 503 and connection failures are retried
`retries` times (--retries), waiting 0.5 s doubling up to 8 s, or as `Retry-After` says up to
a minute.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smallest_cli.errors import APIError

DEFAULT_RETRIES = 2
DEFAULT_MAX_WAIT = 300.0


@dataclass
class RetryPolicy:
    retries: int = DEFAULT_RETRIES
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    max_wait: float = DEFAULT_MAX_WAIT
    busy_base_delay: float = 0.25
    busy_max_delay: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, error: APIError) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up now."""
        if not error.retryable or attempt >= self.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * float(2**attempt))
        return backoff * (0.5 + self.jitter() / 2)

    def busy_delay(self, attempt: int, error: APIError, waited: float) -> float | None:
        """Seconds to wait for a slot before asking again (the `attempt`-th time, after
        `waited` seconds of waiting), or None once `max_wait` is spent (or would be, by
        the wait the server asks for)."""
        remaining = self.max_wait - waited
        if remaining <= 0:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= remaining else None
        backoff = min(self.busy_max_delay, self.busy_base_delay * float(2 ** min(attempt, 16)))
        return min(backoff * (0.5 + self.jitter() / 2), remaining)
