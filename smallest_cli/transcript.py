"""Transcripts: one model for what Pulse returns, and every way we print it.

The pre-recorded routes answer with one JSON document; the realtime routes send final
events whose pieces add up to one. Both become a `Transcript`. Speakers come as integers
(`0`) or strings (`"speaker_0"`) depending on the route and spec (REFERENCE §12); they are
kept as given for JSON and shown as "Speaker 0" to people.

Output formats:

* `text`: the transcript; when speakers are known, each speaker turn on its own line;
* `json`: stable snake_case keys (`to_json`);
* `srt`, `vtt`: subtitles from the word timings (speaker labels when diarized);
* `tsv`: `start  end  speaker  text`, one row per utterance (or per cue when the API sent
  words but no utterances).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smallest_cli.errors import UsageError
from smallest_cli.subtitles import cues, srt, vtt
from smallest_cli.words import Word, number_or_none, speaker_label

TRANSCRIPT_FORMATS = ("text", "json", "srt", "vtt", "tsv")
EXTENSIONS = {".txt": "text", ".json": "json", ".srt": "srt", ".vtt": "vtt", ".tsv": "tsv"}
TIMED_FORMATS = ("srt", "vtt", "tsv")


def transcript_format(explicit: str | None, path: str | None) -> str:
    """--format if given, else the one `path`'s extension names, else `text`."""
    if explicit is not None:
        if explicit not in TRANSCRIPT_FORMATS:
            raise UsageError(
                f"unknown transcript format {explicit!r}",
                hint="choose one of " + ", ".join(TRANSCRIPT_FORMATS),
            )
        return explicit
    if path is None or path == "-":
        return "text"
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in EXTENSIONS:
        raise UsageError(
            f"cannot tell the transcript format of {path!r}",
            hint="name it .txt, .json, .srt, .vtt or .tsv, or give --format",
        )
    return EXTENSIONS[suffix]


@dataclass(frozen=True)
class Utterance:
    text: str
    start: float
    end: float
    speaker: str | int | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Utterance:
        return cls(
            text=str(raw.get("text", "")),
            start=float(raw.get("start", 0.0)),
            end=float(raw.get("end", 0.0)),
            speaker=raw.get("speaker"),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "start": self.start, "end": self.end}
        if self.speaker is not None:
            data["speaker"] = self.speaker
        return data


@dataclass
class Transcript:
    """A transcript with whatever the API sent alongside it."""

    text: str
    words: list[Word] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    language: str | None = None
    duration: float | None = None
    gender: str | None = None
    emotions: dict[str, float] | None = None
    redacted_entities: list[str] = field(default_factory=list)
    request_id: str | None = None
    source: str | None = None
    content_expiry: str | None = None  # the x-content-expiry answer; not part of the JSON

    @classmethod
    def from_api(cls, body: Mapping[str, Any], *, source: str | None = None) -> Transcript:
        """A pre-recorded response (either route, Pulse or Pulse Pro)."""
        metadata = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
        assert isinstance(metadata, Mapping)
        duration = number_or_none(metadata.get("duration")) or number_or_none(
            body.get("audio_length")
        )
        emotions = body.get("emotions")
        return cls(
            text=str(body.get("transcription") or body.get("transcript") or ""),
            words=[Word.from_api(w) for w in mappings(body.get("words"))],
            utterances=[Utterance.from_api(u) for u in mappings(body.get("utterances"))],
            language=string_or_none(body.get("language")),
            duration=duration,
            gender=string_or_none(body.get("gender")),
            emotions={
                str(k): float(v) for k, v in emotions.items() if number_or_none(v) is not None
            }
            if isinstance(emotions, Mapping)
            else None,
            redacted_entities=strings(body.get("redacted_entities")),
            request_id=string_or_none(body.get("request_id")),
            source=source,
        )

    @classmethod
    def from_finals(
        cls, events: Iterable[Mapping[str, Any]], *, source: str | None = None
    ) -> Transcript:
        """The session transcript: the final realtime events put together, in order."""
        texts: list[str] = []
        words: list[Word] = []
        utterances: list[Utterance] = []
        entities: list[str] = []
        language = None
        for event in events:
            text = str(event.get("transcript") or event.get("transcription") or "").strip()
            if text:
                texts.append(text)
            words += [Word.from_api(w) for w in mappings(event.get("words"))]
            utterances += [Utterance.from_api(u) for u in mappings(event.get("utterances"))]
            entities += [e for e in strings(event.get("redacted_entities")) if e not in entities]
            language = string_or_none(event.get("language")) or language
        return cls(
            text=" ".join(texts),
            words=words,
            utterances=utterances,
            language=language,
            redacted_entities=entities,
            source=source,
        )

    @property
    def speakers(self) -> bool:
        return any(w.speaker is not None for w in self.words) or any(
            u.speaker is not None for u in self.utterances
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"transcript": self.text}
        if self.source is not None:
            data = {"source": self.source, **data}
        data["words"] = [w.to_json() for w in self.words]
        data["utterances"] = [u.to_json() for u in self.utterances]
        optional = {
            "language": self.language,
            "duration": self.duration,
            "gender": self.gender,
            "emotions": self.emotions,
            "redacted_entities": self.redacted_entities or None,
            "request_id": self.request_id,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    def turns(self) -> list[Utterance]:
        """Speaker turns: the utterances, else runs of words with one speaker."""
        if self.utterances:
            return _merge_turns(self.utterances)
        if not self.words or not self.speakers:
            return []
        runs: list[Utterance] = []
        for word in self.words:
            if runs and runs[-1].speaker == word.speaker:
                last = runs[-1]
                runs[-1] = Utterance(f"{last.text} {word.text}", last.start, word.end, last.speaker)
            else:
                runs.append(Utterance(word.text, word.start, word.end, word.speaker))
        return runs

    def render(self, fmt: str, *, max_line_chars: int = 42, max_cue_seconds: float = 5.0) -> str:
        """The transcript as `fmt` (see the module docstring), ending with a newline."""
        if fmt == "json":
            return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        if fmt == "text":
            if self.speakers:
                lines = [
                    f"{speaker_label(t.speaker) or 'Speaker ?'}: {t.text}" for t in self.turns()
                ]
                if lines:
                    return "\n".join(lines) + "\n"
            return self.text.strip() + "\n"
        timed = self.words
        if fmt == "tsv":
            rows = self.utterances or [
                Utterance(c.text, c.start, c.end, c.speaker)
                for c in cues(timed, max_chars=max_line_chars, max_seconds=max_cue_seconds)
            ]
            return "".join(
                f"{u.start:.3f}\t{u.end:.3f}\t{speaker_label(u.speaker) or ''}\t{_one_line(u.text)}\n"
                for u in rows
            )
        cue_list = cues(timed, max_chars=max_line_chars, max_seconds=max_cue_seconds)
        return srt(cue_list) if fmt == "srt" else vtt(cue_list)


def _merge_turns(utterances: Sequence[Utterance]) -> list[Utterance]:
    turns: list[Utterance] = []
    for utterance in utterances:
        if turns and utterance.speaker is not None and turns[-1].speaker == utterance.speaker:
            last = turns[-1]
            turns[-1] = Utterance(
                f"{last.text} {utterance.text}", last.start, utterance.end, last.speaker
            )
        else:
            turns.append(utterance)
    return turns


def _one_line(text: str) -> str:
    return " ".join(text.split())


# Readers for JSON the API sends, which may lack a field or carry the wrong type.


def mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
