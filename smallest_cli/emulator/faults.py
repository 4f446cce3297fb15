"""Fault injection: make an emulator misbehave on purpose, to rehearse failures.

A fault is written `WHAT[:RETRY_AFTER][*TIMES][+AFTER][@PATH]`:

    503            every request answers 503
    503*2          the next two requests answer 503, then all is well
    429            429 without Retry-After;  429:1.5  with `Retry-After: 1.5`
    drop*1@/waves  the next request under /waves is cut off halfway through its body
    500*1+3        let three requests through, then fail the fourth (a job failing midway)

Latency (`latency_ms`) delays every request before it is handled.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_PATTERN = re.compile(
    r"^(?P<what>[1-5]\d\d|drop)(?::(?P<retry_after>\d+(?:\.\d+)?))?"
    r"(?:\*(?P<times>\d+))?(?:\+(?P<after>\d+))?(?:@(?P<path>/\S*))?$"
)


@dataclass
class Fault:
    what: str  # an HTTP status code, or "drop"
    retry_after: str | None = None
    times: int | None = None  # None: forever
    path: str = "/"
    after: int = 0  # matching requests let through before the fault starts
    used: int = field(default=0, compare=False)
    passed: int = field(default=0, compare=False)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    @property
    def status(self) -> int | None:
        return None if self.what == "drop" else int(self.what)

    @property
    def spec(self) -> str:
        text = self.what
        if self.retry_after is not None:
            text += f":{self.retry_after}"
        if self.times is not None:
            text += f"*{self.times}"
        if self.after:
            text += f"+{self.after}"
        if self.path != "/":
            text += f"@{self.path}"
        return text


def parse_fault(spec: str) -> Fault:
    """Parse `WHAT[:RETRY_AFTER][*TIMES][@PATH]`; ValueError says what is wrong."""
    match = FAULT_PATTERN.match(spec.strip())
    if match is None:
        raise ValueError(
            f"bad fault {spec!r}: write STATUS[:RETRY_AFTER][*TIMES][+AFTER][@PATH] or "
            "drop[*TIMES][+AFTER][@PATH], e.g. 503*2, 429:1@/waves/v1/tts or 500*1+3"
        )
    if match["what"] == "drop" and match["retry_after"]:
        raise ValueError(f"bad fault {spec!r}: only a status code takes a Retry-After")
    times = int(match["times"]) if match["times"] is not None else None
    return Fault(
        match["what"], match["retry_after"], times, match["path"] or "/", int(match["after"] or 0)
    )


@dataclass
class FaultPlan:
    """The faults and latency of one emulator; safe to change while it serves."""

    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_specs(cls, specs: list[str], latency_ms: float = 0.0) -> FaultPlan:
        return cls(latency_ms=latency_ms, faults=[parse_fault(s) for s in specs if s.strip()])

    def take(self, path: str) -> Fault | None:
        """The fault that applies to a request for `path` now, using up one of its times."""
        with self._lock:
            for fault in self.faults:
                if not path.startswith(fault.path) or fault.exhausted:
                    continue
                if fault.passed < fault.after:
                    fault.passed += 1
                    continue
                fault.used += 1
                return fault
        return None

    def replace(self, specs: list[str], latency_ms: float) -> None:
        faults = [parse_fault(s) for s in specs if s.strip()]
        with self._lock:
            self.faults, self.latency_ms = faults, latency_ms

    def to_json(self) -> dict[str, Any]:
        """The plan as set, with the faults that are used up left out."""
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "faults": [f.spec for f in self.faults if not f.exhausted],
            }
