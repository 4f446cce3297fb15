"""Fault injection: make an emulator misbehave on purpose, to rehearse failures.

A fault is written `WHAT[:ARG[:ARG]][*TIMES][+AFTER][@PATH]`. WHAT is one of:

    STATUS[:RETRY_AFTER]    answer with that status (a WebSocket handshake is refused with
                            it), with `Retry-After` if given: 503, 429:1.5
    drop[:N]                send the headers and half the first body chunk, then close;
                            with N, the first N body chunks (SSE events) go out whole first
    reset[:N]               the same, then reset the connection (TCP RST)
    stall                   send the headers, then nothing, until the client gives up
    stall-body[:N]          send the headers and half the first body chunk, then nothing
    truncate-sse            end an SSE response cleanly but without its final frame
    malformed-json          answer 200 with a JSON body cut off halfway
    html                    answer 200 with an HTML page, as a captive portal or proxy does
    ws-close:CODE[:FRAMES]  let a WebSocket send FRAMES frames (default 0), then close it
                            with CODE; 1006 (abnormal) closes with no close frame at all

and then:

    *TIMES    only the next TIMES matching requests (default: all of them)
    +AFTER    let AFTER matching requests through first (a job failing midway)
    @PATH     only requests whose path starts with PATH

    503*2          the next two requests answer 503, then all is well
    drop*1@/waves  the next request under /waves is cut off halfway through its body
    500*1+3        let three requests through, then fail the fourth
    ws-close:1011:2@/waves/v1/tts/live   TTS sockets close with 1011 after two frames
    drop:4*1@/waves/v1/chat        a chat reply is cut after four events (mid-reply)

`truncate-sse` applies to HTTP only and `ws-close` to WebSockets only; the others to both
(on a WebSocket, `html` refuses the handshake with the page, `malformed-json` cuts the
first text frame, and the stalls and cuts happen at the first frame out, or after N frames).
Latency (`latency_ms`) delays every request before it is handled.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

CUTS = ("drop", "reset", "stall-body")  # these take a number of body chunks let through
SABOTAGE = (
    "drop",
    "reset",
    "stall",
    "stall-body",
    "truncate-sse",
    "malformed-json",
    "html",
    "ws-close",
)
FAULT_PATTERN = re.compile(
    r"^(?P<what>[1-5]\d\d|" + "|".join(sorted(SABOTAGE, key=len, reverse=True)) + r")"
    r"(?::(?P<arg>\d+(?:\.\d+)?))?(?::(?P<frames>\d+))?"
    r"(?:\*(?P<times>\d+))?(?:\+(?P<after>\d+))?(?:@(?P<path>/\S*))?$"
)
GRAMMAR = "STATUS[:RETRY_AFTER] | ws-close:CODE[:FRAMES] | " + " | ".join(SABOTAGE[:-1])
# Codes a server may put in a close frame, and 1006, which means "no close frame".
CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013))

Kind = Literal["http", "websocket"]


@dataclass
class Fault:
    what: str  # an HTTP status code, or one of SABOTAGE
    retry_after: str | None = None
    times: int | None = None  # None: forever
    path: str = "/"
    after: int = 0  # matching requests let through before the fault starts
    close_code: int | None = None  # ws-close
    frames: int = 0  # ws-close, and CUTS: frames (body chunks) sent before the fault acts
    used: int = field(default=0, compare=False)
    passed: int = field(default=0, compare=False)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    @property
    def status(self) -> int | None:
        return int(self.what) if self.what.isdigit() else None

    def applies_to(self, kind: Kind) -> bool:
        if self.what == "truncate-sse":
            return kind == "http"
        return kind == "websocket" or self.what != "ws-close"

    @property
    def spec(self) -> str:
        text = self.what
        if self.retry_after is not None:
            text += f":{self.retry_after}"
        if self.close_code is not None:
            text += f":{self.close_code}" + (f":{self.frames}" if self.frames else "")
        elif self.what in CUTS and self.frames:
            text += f":{self.frames}"
        if self.times is not None:
            text += f"*{self.times}"
        if self.after:
            text += f"+{self.after}"
        if self.path != "/":
            text += f"@{self.path}"
        return text


def parse_fault(spec: str) -> Fault:
    """Parse one fault spec (see the module's help); ValueError says what is wrong."""
    match = FAULT_PATTERN.match(spec.strip())
    if match is None:
        raise ValueError(
            f"bad fault {spec!r}: write WHAT[:ARG][*TIMES][+AFTER][@PATH] with WHAT one of "
            f"{GRAMMAR}, e.g. 503*2, 429:1@/waves/v1/tts, 500*1+3 or ws-close:1011:2"
        )
    what, arg, frames = match["what"], match["arg"], match["frames"]
    fault = Fault(
        what,
        times=int(match["times"]) if match["times"] is not None else None,
        path=match["path"] or "/",
        after=int(match["after"] or 0),
    )
    if what == "ws-close":
        if arg is None or not arg.isdigit() or int(arg) not in CLOSE_CODES:
            codes = ", ".join(str(code) for code in sorted(CLOSE_CODES))
            raise ValueError(f"bad fault {spec!r}: ws-close needs a close code: {codes}")
        fault.close_code, fault.frames = int(arg), int(frames or 0)
    elif what in CUTS and arg is not None and frames is None:
        if not arg.isdigit():
            raise ValueError(f"bad fault {spec!r}: {what} takes a whole number of body chunks")
        fault.frames = int(arg)
    elif arg is not None and fault.status is None:
        raise ValueError(f"bad fault {spec!r}: only a status code takes a Retry-After")
    elif frames is not None:
        raise ValueError(f"bad fault {spec!r}: only ws-close takes a number of frames")
    else:
        fault.retry_after = arg
    return fault


@dataclass
class FaultPlan:
    """The faults and latency of one emulator; safe to change while it serves."""

    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_specs(cls, specs: list[str], latency_ms: float = 0.0) -> FaultPlan:
        return cls(latency_ms=latency_ms, faults=[parse_fault(s) for s in specs if s.strip()])

    def take(self, path: str, kind: Kind = "http") -> Fault | None:
        """The fault that applies to a `kind` request for `path` now, using up one of its
        times."""
        with self._lock:
            for fault in self.faults:
                if not path.startswith(fault.path) or fault.exhausted:
                    continue
                if not fault.applies_to(kind):
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
