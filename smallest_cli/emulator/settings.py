"""Every setting of an emulator, resolved in one place: flag > SMALLEST_EMULATOR_* > default.

`smallest emulator serve` and the in-process emulator of `--emulator` take the same
settings under the same names (the variable of `first_audio_ms` is
SMALLEST_EMULATOR_FIRST_AUDIO_MS, and so on). Their defaults differ only in pacing: `serve`
paces audio, transcripts and voice clones like the real service, while `--emulator`, made
for tests and CI, answers at once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from smallest_cli.emulator.faults import FaultPlan, parse_fault
from smallest_cli.emulator.limits import Limits
from smallest_cli.emulator.state import EmulatorState, Pacing

ENV_PREFIX = "SMALLEST_EMULATOR_"
COUNTS = (
    "tts_concurrency",
    "stt_per_minute",
    "stt_sessions",
    "chat_per_minute",
    "chat_concurrency",
    "clone_limit",
)


@dataclass(frozen=True)
class EmulatorSettings:
    """The settings of one emulator; the defaults are `emulator serve`'s."""

    faults: tuple[str, ...] = ()
    latency_ms: float = 0.0
    tts_concurrency: int = 1
    stt_per_minute: int = 25
    stt_sessions: int = 100
    first_audio_ms: float = 150.0
    rtf: float = 0.2
    stt_ms: float = 150.0
    stt_rtf: float = 1 / 30
    chat_per_minute: int = 10
    chat_concurrency: int = 3
    chat_first_token_ms: float = 200.0
    chat_token_ms: float = 15.0
    clone_limit: int = 10
    clone_ms: float = 3000.0
    transcripts: Path | None = None  # recordings with known transcripts (DIR/name.wav + .txt)

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, Any] | None = None,
        *,
        in_process: bool,
        environ: Mapping[str, str] = os.environ,
    ) -> EmulatorSettings:
        """Each setting from `flags` (None: not given), else its variable, else its default
        (for `in_process`, pacing off). ValueError names a bad variable."""
        base = cls.unpaced() if in_process else cls()
        chosen: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            flag = (flags or {}).get(name)
            raw = environ.get(env_var(name), "").strip()
            if flag is not None:
                chosen[name] = tuple(flag) if name == "faults" else flag
            elif raw:
                chosen[name] = _parse(name, raw)
        return replace(base, **chosen)

    @classmethod
    def unpaced(cls) -> EmulatorSettings:
        """The defaults with pacing off: audio, transcripts, chat replies and clones at once."""
        return cls(
            first_audio_ms=0.0,
            rtf=0.0,
            stt_ms=0.0,
            stt_rtf=0.0,
            chat_first_token_ms=0.0,
            chat_token_ms=0.0,
            clone_ms=0.0,
        )

    def state(self) -> EmulatorState:
        """A fresh emulator state with these settings."""
        limits = Limits(
            tts_concurrency=self.tts_concurrency,
            stt_per_minute=self.stt_per_minute,
            stt_session_limit=self.stt_sessions,
            chat_per_minute=self.chat_per_minute,
            chat_concurrency=self.chat_concurrency,
            clone_limit=self.clone_limit,
        )
        pacing = Pacing(**{f.name: getattr(self, f.name) for f in fields(Pacing)})
        plan = FaultPlan.from_specs(list(self.faults), self.latency_ms)
        try:
            return EmulatorState(plan, limits, pacing, self.transcripts)
        except ValueError as exc:  # only the transcripts folder can be refused here
            raise ValueError(f"--transcripts / {env_var('transcripts')}: {exc}") from None


def env_var(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _parse(name: str, raw: str) -> Any:
    where = f"{env_var(name)}={raw!r}"
    if name == "faults":
        specs = tuple(spec.strip() for spec in raw.split(",") if spec.strip())
        for spec in specs:
            try:
                parse_fault(spec)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
        return specs
    if name == "transcripts":
        return Path(raw).expanduser()  # checked when it is loaded
    try:
        value = int(raw) if name in COUNTS else float(raw)
    except ValueError:
        kind = "a whole number" if name in COUNTS else "a number"
        raise ValueError(f"{where}: not {kind}") from None
    if name in COUNTS and value < 1:
        raise ValueError(f"{env_var(name)} must be 1 or more")
    if not 0 <= value < math.inf:
        raise ValueError(f"{env_var(name)} must be a finite number, zero or more")
    return value
