"""The fixed choices some options offer, shared by the commands and the code behind them.

Kept apart (stdlib only) so that building the command line for `--help` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from smallest_cli.errors import UsageError


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


def redactions(values: Sequence[str]) -> tuple[bool, bool]:
    """(pii, pci) from --redact values such as `pii`, `pci`, `pii,pci` (repeatable)."""
    kinds = [part.strip().lower() for value in values for part in value.split(",")]
    kinds = [kind for kind in kinds if kind]
    unknown = [kind for kind in kinds if kind not in ("pii", "pci")]
    if unknown or (values and not kinds):
        raise UsageError(f"invalid --redact {','.join(values)!r}", hint="give pii, pci, or pii,pci")
    return "pii" in kinds, "pci" in kinds
