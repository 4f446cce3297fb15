"""When to send a failed request again, and how long to wait first.

429, 502, 503 and connection failures are retried (the error says whether it is
`retryable`); a `Retry-After` from the server is honoured up to a minute, otherwise the
wait doubles from 0.5 s up to 8 s, with jitter so that parallel clients spread out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smallest_cli.errors import APIError

DEFAULT_RETRIES = 2


@dataclass
class RetryPolicy:
    retries: int = DEFAULT_RETRIES
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
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
