"""Timed words: one type for every word with a time, whichever API it came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Word:
    """A word and when it is said, in seconds from the start of the audio: what speech to
    text hears (with its confidence and speaker when asked) and what text to speech reports
    it speaks."""

    text: str
    start: float
    end: float
    confidence: float | None = None
    speaker: str | int | None = None
    speaker_confidence: float | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Word:
        return cls(
            text=str(raw.get("word", "")),
            start=float(raw.get("start", 0.0)),
            end=float(raw.get("end", 0.0)),
            confidence=number_or_none(raw.get("confidence")),
            speaker=raw.get("speaker"),
            speaker_confidence=number_or_none(raw.get("speaker_confidence")),
        )

    @property
    def label(self) -> str | None:
        """The speaker as people read it ("Speaker 0"), or None."""
        return speaker_label(self.speaker)

    def shifted(self, offset: float) -> Word:
        """The same word `offset` seconds later (a chunk's words placed in the whole audio)."""
        return replace(self, start=self.start + offset, end=self.end + offset)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"word": self.text, "start": self.start, "end": self.end}
        if self.confidence is not None:
            data["confidence"] = self.confidence
        if self.speaker is not None:
            data["speaker"] = self.speaker
        if self.speaker_confidence is not None:
            data["speaker_confidence"] = self.speaker_confidence
        return data


def speaker_label(speaker: str | int | None) -> str | None:
    """The label for a speaker: "Speaker 0" for 0, "0" or "speaker_0"; None for no speaker."""
    if speaker is None or speaker == "":
        return None
    match = re.fullmatch(r"(?:speaker[_ ]?)?(\d+)", str(speaker), re.IGNORECASE)
    return f"Speaker {match.group(1)}" if match else str(speaker)


def number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
