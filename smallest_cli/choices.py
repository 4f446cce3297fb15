"""The fixed choices some options offer, shared by the commands and the code behind them.

Kept apart (stdlib only) so that building the command line for `--help` stays cheap.
"""

from __future__ import annotations

from enum import Enum


class Transport(str, Enum):
    """How `tts say` fetches speech."""

    AUTO = "auto"
    SYNC = "sync"
    SSE = "sse"
    WS = "ws"


class Route(str, Enum):
    """Which speech-to-text route: the current one or the superseded `/waves/v1/pulse/get_text`."""

    CURRENT = "current"
    LEGACY = "legacy"
