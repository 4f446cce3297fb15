"""`talk --transcript FILE`: both sides of the conversation with their times.

Times are seconds since the conversation began. `.json` gets an object with every turn;
any other name gets text, one line a turn:

    [0:01.20–0:03.05] You: What is the capital of France?
    [0:03.40–0:05.90] Assistant: The capital of France is Paris.

The JSON has the latency of each exchange too, on the same clock: `final` on a turn of
yours (when the speech-to-text's last final of it arrived), `first_token` and
`first_audio` on an answer (when its first text and its first audio came).

The file is written whole (atomically) when the conversation ends, however it ends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROLES = {"user": "You", "assistant": "Assistant"}


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    text: str
    start: float
    end: float
    interrupted: bool = False  # an answer the user cut off
    final: float | None = None
    first_token: float | None = None
    first_audio: float | None = None


@dataclass
class TalkTranscript:
    turns: list[Turn] = field(default_factory=list)
    conversation_id: str | None = None

    def add(self, turn: Turn) -> None:
        if turn.text.strip():
            self.turns.append(turn)

    def render(self, as_json: bool) -> str:
        if as_json:
            value = {
                "conversation_id": self.conversation_id,
                "turns": [_rounded(asdict(t)) for t in self.turns],
            }
            return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
        lines = []
        for turn in self.turns:
            cut = " [interrupted]" if turn.interrupted else ""
            span = f"[{clock(turn.start)}–{clock(turn.end)}]"
            lines.append(f"{span} {ROLES.get(turn.role, turn.role)}: {turn.text.strip()}{cut}")
        return "".join(line + "\n" for line in lines)

    def write(self, path: str) -> None:
        from smallest_cli.files import write_output

        write_output(path, self.render(Path(path).suffix.lower() == ".json"))


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:05.2f}"


def _rounded(turn: dict[str, object]) -> dict[str, object]:
    """Times to the millisecond; the latency fields a turn does not have are left out."""
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in turn.items() if v is not None}
