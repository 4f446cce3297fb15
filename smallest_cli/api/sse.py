"""Server-sent events: lines in, events out (the WHATWG event-stream format).

Service modules decide what an event means; this only frames them. Fields a server sends
that we do not know are ignored, comments (`:` lines) too, and `data` lines accumulate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Turn the lines of an event stream (without line endings) into events."""
    event, last_id, retry = "", None, None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    if data:  # a stream that ends without the final blank line still delivers its event
        yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
