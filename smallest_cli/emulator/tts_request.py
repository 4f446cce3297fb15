"""The TTS request body (REFERENCE §6.1, §6.4) and its validation, issue for issue like the server's.

The live server validates bodies with zod and answers 400 `{"error": [issue, ...]}`, not the
`{"error": str, "message": str}` its spec shows (observed/baseline-lightning-tts.json), the
issues built byte for byte as zod builds them (`zod`):

* a missing field: `invalid_type` "Required";
* an enum miss: `{"received":"mulaw","code":"invalid_enum_value","options":[...],"path":[...],
  "message":"Invalid enum value. Expected 'wav' | ..., received 'mulaw'"}` (observed; the
  output formats are listed in the observed order wav, ulaw, alaw, pcm, mp3);
* ranges and lengths: `too_small` / `too_big`; the id pattern: `invalid_string` "Invalid";
* an unknown voice: `{"code":"custom","path":["voice_id"],"message":"Invalid Voice ID"}`
  (observed). Its key order says it comes from an object-level `superRefine`, which zod
  runs only when no field failed outright (a wrong type or enum value): a bad voice is
  reported alongside range errors, but not alongside type errors.

UNKNOWN, decided here:

* `sample_rate` is checked like a zod `nativeEnum` of 8000, 16000, 24000, 44100.
* Empty `text` is refused on HTTP as zod's `min(1)` would (`too_small`); on the WebSocket it is
  allowed, since the streaming-text recipe ends with `"text": ""`.
* Voice ids are the catalog's, matched exactly, and the caller's completed clones (`clones`;
  a pending, failed or other key's clone gets "Invalid Voice ID", which is UNKNOWN live). A
  clone speaks with the pitch of its sample. A voice outside the chosen model's pool (for a
  clone: outside its `modelIds`) is accepted (REFERENCE §6.1) and comes out scrambled; an
  old `lightning-large` clone (in no pool) gives no audio at all (§6.1).
* `language` is checked against the model (§0.3) after the enum, in the same object-level
  refinement as the voice: `{"code":"custom","path":["language"],"message":"Language 'ja'
  is not supported on the lightning_v3.1 model. Supported languages: en, hi, mr, …"}`. The
  message lists the model's codes in the spec's enum order (it starts `en, hi, mr` live),
  `he` last on the base model (accepted live, missing from the spec), `auto` unnamed but
  accepted. `number_pronunciation_language` is only checked against the enum: nothing says
  the server checks it per model.
* `pronunciation_dicts` ids must be the caller's own dictionaries (§0.4), else
  `{"code":"custom","path":["pronunciation_dicts"],"message":"Invalid input data"}`, on
  every transport: the WebSocket, whose schema lacks the field, checks it too, since the
  model card calls dictionaries "WebSocket only".
* Known `pronunciation_dicts` are applied (`speech.Synthesis`: the voice says the
  pronunciation's words instead of a word it matches, case-sensitive, whole words). With
  several dictionaries, the first id listed wins a word they both define; within one
  dictionary, its first entry for the word. On the WebSocket the first message of a request
  fixes its dictionaries, like its voice.
* `language`, `number_pronunciation_language` and `math_notation` do not change the
  synthetic audio.
* Other unknown fields are ignored (zod strips them), so `output_format` on the WebSocket is too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from smallest_cli.emulator import zod
from smallest_cli.emulator.catalog import BY_ID, Pool
from smallest_cli.emulator.dictionaries import Dictionary, pronunciations
from smallest_cli.emulator.speech import Synthesis, VoiceTimbre

MODELS: tuple[Pool, ...] = ("lightning_v3.1", "lightning_v3.1_pro")
SAMPLE_RATES = (8000, 16000, 24000, 44100)
OUTPUT_FORMATS = ("wav", "ulaw", "alaw", "pcm", "mp3")
MODEL_LANGUAGES: dict[str, tuple[str, ...]] = {
    "lightning_v3.1": (
        "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr", "it",
        "nl", "sv", "pt", "ru", "pl", "he",
    ),
    "lightning_v3.1_pro": (
        "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr", "it",
        "nl", "sv", "pt", "ru", "el", "fi", "no", "pl", "ar", "zh", "id", "ja", "ko", "ms", "tr",
        "vi",
    ),
}  # fmt: skip
"""The codes each model speaks, in the order its refusal lists them; both also take `auto`."""
LANGUAGES = ("auto", *MODEL_LANGUAGES["lightning_v3.1_pro"], "he")
"""The `language` enum: the spec's, with `he`."""
ID_PATTERN = re.compile(r"^[a-zA-Z0-9_\-.]+$")
WORD_TIMESTAMP_VOICES = frozenset({"meher", "devansh", "kartik", "maithili", "liam", "avery"})


class ClonedVoice(Protocol):
    """What TTS needs of a voice clone (`clones.Clone`)."""

    @property
    def pools(self) -> tuple[Pool, ...]: ...

    @property
    def pitch_hz(self) -> float | None: ...


class Invalid(Exception):
    """The body failed validation; `issues` are zod's, in order."""

    def __init__(self, issues: list[zod.Issue]) -> None:
        super().__init__(summary(issues))
        self.issues = issues


@dataclass(frozen=True)
class TtsRequest:
    """A validated TTS body with the server's defaults filled in."""

    text: str
    voice_id: str
    model: Pool = "lightning_v3.1"
    sample_rate: int = 44100
    speed: float = 1.0
    output_format: str = "pcm"
    word_timestamps: bool = False
    session_id: str | None = None
    request_id: str | None = None
    pronunciations: tuple[tuple[str, str], ...] = ()  # word → pronunciation, merged
    # WebSocket only (REFERENCE §6.4)
    continue_: bool = False
    flush: bool = False
    max_buffer_flush_ms: int = 0
    complete_backoff_ms: float = 4000.0
    clone: ClonedVoice | None = None  # the caller's clone that `voice_id` names

    @property
    def scrambled(self) -> bool:
        """True when the voice is not in the model's pool: the audio says nothing."""
        pools = self.clone.pools if self.clone is not None else BY_ID[self.voice_id].pools
        return self.model not in pools

    @property
    def has_word_timestamps(self) -> bool:
        return self.word_timestamps and self.voice_id in WORD_TIMESTAMP_VOICES

    def synthesis(self, text: str | None = None) -> Synthesis:
        if self.clone is not None and self.clone.pitch_hz is not None:
            timbre = VoiceTimbre(self.clone.pitch_hz)
        else:
            voice = BY_ID[self.voice_id]
            timbre = VoiceTimbre.for_voice(voice.voice_id, voice.gender)
        return Synthesis(
            self.text if text is None else text,
            sample_rate=self.sample_rate,
            speed=self.speed,
            timbre=timbre,
            scramble=self.scrambled,
            pronunciations=dict(self.pronunciations),
            mute=self.clone is not None and not self.clone.pools,
        )


def parse(
    body: Any,
    *,
    websocket: bool = False,
    dictionaries: Mapping[str, Dictionary] | None = None,
    clones: Mapping[str, ClonedVoice] | None = None,
) -> TtsRequest:
    """Validate a decoded JSON body; Invalid (with zod's issues) if it does not pass.

    `dictionaries` are the caller's pronunciation dictionaries, by id, `clones` the caller's
    completed voice clones by id.
    """
    dictionaries = dictionaries or {}
    clones = clones or {}
    check = _Checker()
    if not isinstance(body, dict):
        check.wrong_type([], "object", body)
        raise Invalid(check.issues)
    fields: dict[str, Any] = {}
    text = check.string(body, "text", required=True, min_length=0 if websocket else 1)
    voice_id = check.string(body, "voice_id", required=True)
    fields["model"] = check.enum(body, "model", MODELS)
    fields["sample_rate"] = check.native_enum(body, "sample_rate", SAMPLE_RATES)
    fields["speed"] = check.number(body, "speed", 0.5, 2)
    language = check.enum(body, "language", LANGUAGES)
    check.enum(body, "number_pronunciation_language", LANGUAGES)
    check.boolean(body, "math_notation")
    if not websocket:
        fields["output_format"] = check.enum(body, "output_format", OUTPUT_FORMATS)
    dicts = check.string_array(body, "pronunciation_dicts")
    fields["word_timestamps"] = check.boolean(body, "word_timestamps")
    for name in ("session_id", "request_id"):
        fields[name] = check.string(body, name, max_length=128, pattern=ID_PATTERN)
    if websocket:
        fields["max_buffer_flush_ms"] = check.number(
            body, "max_buffer_flush_ms", 0, 1000, integer=True
        )
        fields["continue_"] = check.boolean(body, "continue")
        fields["flush"] = check.boolean(body, "flush")
        fields["complete_backoff_ms"] = check.number(body, "complete_backoff_ms", 0, 10000)
    if not check.aborted:
        model = fields["model"] or "lightning_v3.1"
        if voice_id not in BY_ID and voice_id not in clones:
            check.custom("voice_id", "Invalid Voice ID")
        if language not in (None, "auto", *MODEL_LANGUAGES[model]):
            supported = ", ".join(MODEL_LANGUAGES[model])
            check.custom(
                "language",
                f"Language '{language}' is not supported on the {model} model. "
                f"Supported languages: {supported}",
            )
        if any(d not in dictionaries for d in dicts):
            check.custom("pronunciation_dicts", "Invalid input data")
    if check.issues:
        raise Invalid(check.issues)
    assert isinstance(text, str) and isinstance(voice_id, str)
    given = {k: v for k, v in fields.items() if v is not None}
    if dicts:
        chosen = [dictionaries[d] for d in dicts]
        given["pronunciations"] = tuple(pronunciations(chosen).items())
    if "max_buffer_flush_ms" in given:
        given["max_buffer_flush_ms"] = int(given["max_buffer_flush_ms"])
    return TtsRequest(text=text, voice_id=voice_id, clone=clones.get(voice_id), **given)


def summary(issues: list[zod.Issue]) -> str:
    """The issues as one line, `path: message; …` (for WebSocket error frames)."""
    parts = []
    for issue in issues:
        path = ".".join(str(p) for p in issue.get("path", []))
        parts.append(f"{path}: {issue['message']}" if path else str(issue["message"]))
    return "; ".join(parts)


class _Checker:
    """Collects issues; `aborted` once a field fails outright (type or enum), as in zod."""

    def __init__(self) -> None:
        self.issues: list[zod.Issue] = []
        self.aborted = False

    def fail(self, issue: zod.Issue) -> None:
        """A field that fails outright: zod checks no refinement after it."""
        self.issues.append(issue)
        self.aborted = True

    def wrong_type(self, path: zod.Path, expected: str, value: Any) -> None:
        self.fail(zod.wrong_type(path, expected, value))

    def string(
        self,
        body: Mapping[str, Any],
        name: str,
        *,
        required: bool = False,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING and not required:
            return None
        if not isinstance(value, str):
            self.wrong_type([name], "string", value)
            return None
        if len(value) < min_length:
            self.issues.append(zod.too_small([name], "string", min_length))
        if max_length is not None and len(value) > max_length:
            self.issues.append(zod.too_big([name], "string", max_length))
        if pattern is not None and not pattern.match(value):
            self.issues.append(zod.regex_miss([name]))
        return value

    def enum(self, body: Mapping[str, Any], name: str, options: tuple[str, ...]) -> Any:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING:
            return None
        if not isinstance(value, str):
            self.fail(zod.enum_wrong_type([name], options, value))
            return None
        if value not in options:
            self.fail(zod.enum_miss([name], options, value))
            return None
        return value

    def native_enum(self, body: Mapping[str, Any], name: str, options: tuple[int, ...]) -> Any:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(zod.enum_wrong_type([name], options, value))
            return None
        if isinstance(value, str) or value not in options:
            self.fail(zod.enum_miss([name], options, value))
            return None
        return int(value)

    def number(
        self,
        body: Mapping[str, Any],
        name: str,
        minimum: float,
        maximum: float,
        *,
        integer: bool = False,
    ) -> float | None:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING:
            return None
        if zod.received(value) != "number":
            self.wrong_type([name], "number", value)
            return None
        if integer and not float(value).is_integer():
            self.issues.append(zod.not_integer([name]))
        if value < minimum:
            self.issues.append(zod.too_small([name], "number", minimum))
        if value > maximum:
            self.issues.append(zod.too_big([name], "number", maximum))
        return float(value)

    def boolean(self, body: Mapping[str, Any], name: str) -> bool | None:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING:
            return None
        if not isinstance(value, bool):
            self.wrong_type([name], "boolean", value)
            return None
        return value

    def string_array(self, body: Mapping[str, Any], name: str) -> list[str]:
        value = body.get(name, zod.MISSING)
        if value is zod.MISSING:
            return []
        if not isinstance(value, list):
            self.wrong_type([name], "array", value)
            return []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.wrong_type([name, index], "string", item)
        return [item for item in value if isinstance(item, str)]

    def custom(self, name: str, message: str) -> None:
        """An issue of the object-level refinement (`superRefine`)."""
        self.issues.append(zod.custom([name], message))
