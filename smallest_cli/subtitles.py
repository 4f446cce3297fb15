"""Timed words into subtitles (SRT, WebVTT) or JSON.

Words are grouped into cues of at most `max_chars` characters and `max_seconds` seconds; a
cue also ends at the end of a sentence (once it holds a few words) and when the speaker
changes. Cues never overlap and their times only move forward.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallest_cli.errors import UsageError
from smallest_cli.words import Word

SUBTITLE_FORMATS = ("srt", "vtt", "json")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None


def subtitle_format(path: str, explicit: str | None = None) -> str:
    """`srt`, `vtt` or `json`, from --format or the file's extension."""
    name = (explicit or Path(path).suffix.lstrip(".")).lower()
    if name not in SUBTITLE_FORMATS:
        raise UsageError(
            f"cannot tell the timestamp format of {path!r}",
            hint="name the file .srt, .vtt or .json",
        )
    return name


def cues(words: Sequence[Word], *, max_chars: int = 42, max_seconds: float = 5.0) -> list[Cue]:
    """Group words into readable cues."""
    result: list[Cue] = []
    current: list[Word] = []

    def emit() -> None:
        if current:
            text = " ".join(w.text for w in current)
            result.append(Cue(current[0].start, current[-1].end, text, current[0].label))
            current.clear()

    for word in words:
        if current:
            length = len(" ".join(w.text for w in current)) + 1 + len(word.text)
            too_long = length > max_chars or word.end - current[0].start > max_seconds
            sentence_done = current[-1].text.endswith((".", "!", "?", "।")) and len(current) >= 3
            if too_long or sentence_done or word.label != current[0].label:
                emit()
        current.append(word)
    emit()
    for i in range(1, len(result)):  # keep cues apart even if word timings touch or overlap
        previous, cue = result[i - 1], result[i]
        if cue.start < previous.end:
            result[i - 1] = Cue(
                previous.start, max(previous.start, cue.start), previous.text, previous.speaker
            )
    return result


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(cue_list: Sequence[Cue]) -> str:
    blocks = []
    for number, cue in enumerate(cue_list, 1):
        text = f"[{cue.speaker}] {cue.text}" if cue.speaker else cue.text
        blocks.append(f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{text}\n")
    return "\n".join(blocks)


def vtt(cue_list: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cue_list:
        text = f"<v {cue.speaker}>{cue.text}" if cue.speaker else cue.text
        blocks.append(f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{text}\n")
    return "\n".join(blocks)


def render(words: Sequence[Word], fmt: str, **limits: Any) -> str:
    """The document for `fmt`: subtitles for srt/vtt, the words themselves for json."""
    if fmt == "json":
        items = [
            {"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
            | ({"speaker": w.label} if w.label else {})
            for w in words
        ]
        return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    cue_list = cues(words, **limits)
    return srt(cue_list) if fmt == "srt" else vtt(cue_list)
