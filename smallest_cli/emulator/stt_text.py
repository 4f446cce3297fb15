"""Speech to text, the writer: from heard sounds to words, sentences, speakers and text.

Everything here is deterministic: the same audio always gives the same transcript.

Words
-----
A sound that carried one of the emulator's tone-coded words (`speech`) gives exactly that
word, lowercase as spoken (`speech.spoken_form`); confidence 0.95–0.999. Any other sound
(real speech) is cut into stand-in words, one per ~0.32 s of sound, each taken from
`VOCABULARY` by a hash of its rounded timing, so a real recording reads as stable, plausible
English words (confidence 0.55–0.90) whose timings fall inside its speech. Silence gives no
words. Audio recognised as a known recording (`recordings`, `--transcripts DIR`) gives that
recording's words instead (confidence 0.90–0.99), written with the capitals and the
punctuation after them of its transcript (`Token.cased`, `Token.mark`); its sentences end
where its text puts `.`, `?` or `!`, not at pauses.

Sentences and formatting
------------------------
The emulator's TTS leaves ~0.1 s/speed between words and ~0.3 s/speed between sentences, so
a pause of at least twice the median pause (clamped to 0.1–0.6 s; 0.25 s while no pause is
known yet) ends a sentence; so do the end of the audio and the end of every realtime final
(the live server put a full stop at the end of each final, observed). With formatting on,
a sentence gets a full stop, or a question mark when its first word is one of
`QUESTION_WORDS`, and a capital letter; so do `i` (and `i'm`, `i'll`…) and the names in
`FIRST_NAMES` / `LAST_NAMES`. No commas are inferred. `punctuate=false` leaves the marks out,
`capitalize=false` writes everything lowercase, `format=false` does both.

ITN (`itn_normalize`, realtime finals only), a small honest rule set:
* two or more digit words in a row become their digits ("five five five one two three" →
  "555123"); `zero` counts, `oh` does not;
* other number words become a number ("twenty three" → "23", "one hundred five" → "105",
  "two thousand twenty four" → "2024"); a lone "one"…"nine" or "zero" stays a word;
* a number followed by "dollar(s)" becomes "$N", by "percent" "N%".
Dates, times, ordinals, e-mail addresses and the rest are left as spoken.

Redaction (`redact_pii`, `redact_pci`; for `en` and `hi` only, like the live service):
* PII: a word in `FIRST_NAMES` → `[FIRSTNAME_n]`, in `LAST_NAMES` → `[LASTNAME_n]`; a run of
  digits (digit words and/or numerals) of 7–11 digits → `[PHONENUMBER_n]`; 5–6 digits right
  after "zip"/"pin"/"postal" (code) → `[ZIPCODE_n]`;
* PCI: 12–19 digits → `[ACCOUNTNUMBER_n]`; 3–4 digits right after "cvv"/"cvc"/"security
  code" → `[CREDITCARDCVV_n]`.
Each type is numbered from 1 in order of appearance (per request, or per WebSocket
session), every occurrence gets its own number. The transcript shows the placeholder in
capitals, `words[]` in lowercase (as in the spec's example), and `redacted_entities` lists
them.

Speakers
--------
Each word's pitch (`stt_audio.pitch_of`; the TTS gives each voice a hum, male ~115–145 Hz,
female ~205–235 Hz) is clustered in one dimension (log2 Hz, sorted): a gap of more than
0.08 octave between two of our words, or 0.4 octave where real speech is involved, starts a
new speaker. So two emulator voices of different genders, or of one gender whose hums
differ by more than ~6 %, are told apart; a real recording's pitch wanders too much for
that, and one speaker in it stays one speaker. Speakers are numbered from 0 by first
appearance; a word without pitch takes the speaker of the word before it (or after it). A
change of speaker ends a sentence.
Gender: the median pitch of the words, below 170 Hz male, else female.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from smallest_cli.emulator.catalog import BY_ID
from smallest_cli.emulator.stt_audio import Sound
from smallest_cli.emulator.stt_request import Formatting

VOCABULARY = (
    "the", "and", "we", "you", "it", "is", "that", "this", "to", "of", "a", "in", "for", "on",
    "with", "so", "but", "have", "was", "be", "are", "they", "can", "will", "just", "like",
    "know", "think", "there", "about", "your", "our", "get", "time", "right", "well", "yes",
    "okay", "now", "going", "make", "here", "good", "want", "need", "see", "today", "thank",
    "really", "more", "people", "work", "also", "because", "then", "very", "way", "back",
    "help", "order", "please", "said", "would", "sure",
)  # fmt: skip
STAND_IN_SECONDS = 0.32
QUESTION_WORDS = frozenset({"what", "when", "where", "who", "whom", "whose", "why", "how"})
FIRST_NAMES = frozenset(
    {
        *BY_ID,  # the emulator's voices are names too
        "john", "james", "robert", "michael", "william", "david", "richard", "joseph", "thomas",
        "charles", "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan",
        "jessica", "sarah", "karen", "emma", "sophia", "hans", "huss", "peter", "anna", "maria",
        "rahul", "priya", "amit", "neha", "rohit", "pooja", "sanjay", "deepa", "raj", "sunita",
    }
)  # fmt: skip
LAST_NAMES = frozenset(
    {
        "smith", "johnson", "williams", "jones", "garcia", "miller", "davis", "rodriguez",
        "martinez", "wilson", "anderson", "taylor", "thompson", "jackson", "sharma", "patel",
        "singh", "kumar", "gupta", "mehta", "reddy", "iyer", "nair",
    }
)  # fmt: skip
LAST_NAMES = LAST_NAMES - FIRST_NAMES
UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine".split())}
TEENS = {
    w: n + 10
    for n, w in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
TENS = {
    w: 10 * (n + 2)
    for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
NUMBER_WORDS = {**UNITS, **TEENS, **TENS, **SCALES}
FINE_OCTAVES = 0.08
COARSE_OCTAVES = 0.4
MALE_BELOW_HZ = 170.0


@dataclass(frozen=True)
class Token:
    """A word of the transcript as it is being built."""

    word: str  # lowercase as heard; a numeral after ITN; "[TYPE_n]" after redaction
    start: float
    end: float
    confidence: float
    pitch: float | None = None
    ours: bool = False
    sentence_end: bool = False
    speaker: int | None = None
    speaker_confidence: float | None = None
    placeholder: bool = False
    cased: str | None = None  # the casing a keyword (or a known transcript) asked for
    mark: str | None = None  # the punctuation a known transcript writes after it
    scripted: bool = False  # from a known transcript (`recordings`): its marks end sentences


def _fraction(*parts: object) -> float:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def tokens_of(sounds: Sequence[Sound]) -> list[Token]:
    """The words that `sounds` say, in order."""
    tokens: list[Token] = []
    for sound in sounds:
        if sound.text is not None:
            confidence = 0.95 + 0.049 * _fraction("ours", sound.text, round(sound.start, 2))
            tokens.append(
                Token(sound.text, sound.start, sound.end, round(confidence, 4), sound.pitch, True)
            )
            continue
        count = max(1, round((sound.end - sound.start) / STAND_IN_SECONDS))
        span = (sound.end - sound.start) / count
        for index in range(count):
            start = sound.start + index * span
            key = (round(sound.start, 2), round(sound.end, 2), index)
            word = VOCABULARY[int(_fraction("word", *key) * len(VOCABULARY))]
            confidence = round(0.55 + 0.35 * _fraction("confidence", *key), 4)
            tokens.append(Token(word, start, start + span, confidence, sound.pitch))
    return tokens


# -- sentences -------------------------------------------------------------------------------


def pause_threshold(pauses: Sequence[float]) -> float:
    """The pause that ends a sentence, from the pauses heard so far (module docstring)."""
    if not pauses:
        return 0.25
    return min(0.6, max(0.1, 2 * statistics.median(pauses)))


def pauses_of(tokens: Sequence[Token]) -> list[float]:
    return [b.start - a.end for a, b in zip(tokens, tokens[1:], strict=False)]


def mark_sentences(tokens: list[Token], threshold: float, *, last_ends: bool) -> list[Token]:
    """Mark the words after which a pause of `threshold` or more follows (and the last)."""
    marked = []
    for index, token in enumerate(tokens):
        if index + 1 < len(tokens):
            ends = not token.scripted and tokens[index + 1].start - token.end >= threshold
        else:
            ends = last_ends or token.sentence_end
        marked.append(replace(token, sentence_end=ends or token.sentence_end))
    return marked


# -- speakers ---------------------------------------------------------------------------------


def diarize(tokens: Sequence[Token]) -> list[Token]:
    """Speakers and speaker confidences for the tokens (module docstring)."""
    pitched = sorted(
        (math.log2(t.pitch), index) for index, t in enumerate(tokens) if t.pitch and t.pitch > 0
    )
    if not pitched:
        return [replace(t, speaker=0, speaker_confidence=1.0) for t in tokens]
    clusters: list[list[tuple[float, int]]] = [[pitched[0]]]
    for previous, current in zip(pitched, pitched[1:], strict=False):
        both_ours = tokens[previous[1]].ours and tokens[current[1]].ours
        if current[0] - previous[0] > (FINE_OCTAVES if both_ours else COARSE_OCTAVES):
            clusters.append([])
        clusters[-1].append(current)
    clusters.sort(key=lambda members: min(index for _, index in members))
    speaker: dict[int, tuple[int, float]] = {}
    for number, members in enumerate(clusters):
        centre = statistics.median(value for value, _ in members)
        limit = FINE_OCTAVES if all(tokens[i].ours for _, i in members) else COARSE_OCTAVES
        for value, index in members:
            confidence = max(0.5, 1 - abs(value - centre) / (2 * limit))
            speaker[index] = (number, round(confidence, 2))
    result = []
    for index, token in enumerate(tokens):
        if index not in speaker:
            nearest = min(speaker, key=lambda i: (abs(i - index), i > index))
            speaker[index] = (speaker[nearest][0], 0.5)
        number, confidence = speaker[index]
        result.append(replace(token, speaker=number, speaker_confidence=confidence))
    return result


def mark_turns(tokens: Sequence[Token]) -> list[Token]:
    """A change of speaker ends a sentence too."""
    return [
        replace(t, sentence_end=True) if following.speaker != t.speaker else t
        for t, following in zip(tokens, tokens[1:], strict=False)
    ] + list(tokens[-1:])


def gender_of(tokens: Sequence[Token]) -> str | None:
    pitches = [t.pitch for t in tokens if t.pitch]
    if not pitches:
        return None
    return "male" if statistics.median(pitches) < MALE_BELOW_HZ else "female"


# -- inverse text normalisation -------------------------------------------------------------


def normalize(tokens: Sequence[Token]) -> list[Token]:
    """Number words to numerals (module docstring)."""
    result: list[Token] = []
    index = 0
    while index < len(tokens):
        run_end = index
        while (
            run_end < len(tokens)
            and tokens[run_end].word in NUMBER_WORDS
            and not tokens[run_end].placeholder
            and (run_end == index or not tokens[run_end - 1].sentence_end)
        ):
            run_end += 1
        if run_end == index:
            result.append(tokens[index])
            index += 1
            continue
        run = list(tokens[index:run_end])
        if len(run) >= 2 and all(t.word in UNITS for t in run):
            groups = [(run, "".join(str(UNITS[t.word]) for t in run))]
        else:
            groups = [(g, _value(g)) for g in _groups(run)]
        for group_index, (group, value) in enumerate(groups):
            last = group_index == len(groups) - 1
            follower = tokens[run_end] if last and run_end < len(tokens) else None
            if len(group) == 1 and group[0].word in UNITS and value is not None:
                if not (follower is not None and follower.word in ("dollars", "dollar", "percent")):
                    result.append(group[0])
                    continue
            absorbed = list(group)
            text = value
            if follower is not None and not group[-1].sentence_end:
                if follower.word in ("dollars", "dollar"):
                    text, absorbed = f"${value}", [*group, follower]
                elif follower.word == "percent":
                    text, absorbed = f"{value}%", [*group, follower]
            if len(absorbed) > len(group):
                run_end += 1
            result.append(_merge(absorbed, text))
        index = run_end
    return result


def _kind(word: str) -> str:
    if word in UNITS:
        return "unit"
    if word in TEENS:
        return "teen"
    if word in TENS:
        return "tens"
    return "hundred" if word == "hundred" else "scale"


_FOLLOWS = {
    "unit": {"hundred", "scale"},
    "teen": {"hundred", "scale"},
    "tens": {"unit", "scale"},
    "hundred": {"unit", "teen", "tens", "scale"},
    "scale": {"unit", "teen", "tens"},
}


def _groups(run: list[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = []
    previous: str | None = None
    for token in run:
        kind = _kind(token.word)
        fits = previous is not None and kind in _FOLLOWS[previous]
        if token.word == "zero" or (previous == "unit" and groups[-1][-1].word == "zero"):
            fits = False
        if not fits:
            groups.append([])
        groups[-1].append(token)
        previous = kind
    return groups


def _value(group: list[Token]) -> str:
    total, current = 0, 0
    for token in group:
        word = token.word
        if word in SCALES and word != "hundred":
            total += (current or 1) * SCALES[word]
            current = 0
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            current += NUMBER_WORDS[word]
    return str(total + current)


def _merge(group: Sequence[Token], text: str) -> Token:
    first, last = group[0], group[-1]
    return replace(
        first,
        word=text,
        end=last.end,
        confidence=min(t.confidence for t in group),
        sentence_end=last.sentence_end,
        cased=None,
        mark=last.mark,
    )


# -- redaction --------------------------------------------------------------------------------


def _digits(word: str) -> int:
    if word in UNITS:
        return 1
    if re.fullmatch(r"\d[\d\-.,/]*", word):
        return sum(c.isdigit() for c in word)
    return 0


class Redactor:
    """Replaces PII/PCI with numbered placeholders; numbering lives as long as the redactor."""

    def __init__(self, *, pii: bool, pci: bool) -> None:
        self.pii, self.pci = pii, pci
        self.counts: dict[str, int] = {}

    def _placeholder(self, kind: str, group: Sequence[Token]) -> Token:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        merged = _merge(group, f"[{kind}_{self.counts[kind]}]")
        return replace(merged, placeholder=True, cased=None)

    def redact(self, tokens: Sequence[Token]) -> tuple[list[Token], list[str]]:
        result: list[Token] = []
        entities: list[str] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            end = index
            while end < len(tokens) and _digits(tokens[end].word) and not tokens[end].placeholder:
                end += 1
                if tokens[end - 1].sentence_end:
                    break
            kind = None
            if end > index:
                kind = self._number_kind(
                    tokens, index, sum(_digits(t.word) for t in tokens[index:end])
                )
            elif self.pii and not token.placeholder:
                if token.word in FIRST_NAMES:
                    kind, end = "FIRSTNAME", index + 1
                elif token.word in LAST_NAMES:
                    kind, end = "LASTNAME", index + 1
            if kind is None:
                stop = max(end, index + 1)
                result.extend(tokens[index:stop])
                index = stop
                continue
            placeholder = self._placeholder(kind, tokens[index:end])
            result.append(placeholder)
            entities.append(placeholder.word)
            index = end
        return result, entities

    def _number_kind(self, tokens: Sequence[Token], index: int, digits: int) -> str | None:
        before = [t.word for t in tokens[max(0, index - 2) : index]]
        last = before[-1] if before else ""
        if last == "code" and len(before) == 2:
            last = f"{before[0]} code"
        if self.pci and last in ("cvv", "cvc", "security code") and 3 <= digits <= 4:
            return "CREDITCARDCVV"
        if self.pii and last in ("zip", "pin", "postal", "zip code", "pin code", "postal code"):
            if 5 <= digits <= 6:
                return "ZIPCODE"
        if self.pci and 12 <= digits <= 19:
            return "ACCOUNTNUMBER"
        if self.pii and 7 <= digits <= 11:
            return "PHONENUMBER"
        return None


# -- keywords ---------------------------------------------------------------------------------


def apply_keywords(tokens: Sequence[Token], formatting: Formatting) -> list[Token]:
    """Keywords give their casing to the words they match (case-insensitively); one boosted
    above 5 makes the model "hallucinate" it: every stand-in word becomes that keyword
    (the live server, boosted 20 and 26, answered "I I I I I I smiling I smiling…", observed)."""
    result = list(tokens)
    if not formatting.keywords:
        return result
    loudest = max(formatting.keywords, key=lambda k: k.boost)
    if loudest.boost > 5:
        result = [
            t
            if t.ours or t.placeholder
            else replace(t, word=loudest.text.lower(), cased=loudest.text)
            for t in result
        ]
    for keyword in formatting.keywords:
        parts = keyword.text.split()
        lowered = [p.lower() for p in parts]
        for start in range(len(result) - len(parts) + 1):
            window = result[start : start + len(parts)]
            if [t.word for t in window] == lowered:
                for offset, part in enumerate(parts):
                    result[start + offset] = replace(result[start + offset], cased=part)
    return result


# -- writing ----------------------------------------------------------------------------------


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


def written(tokens: Sequence[Token], formatting: Formatting) -> list[str]:
    """Each token as the transcript writes it (capitals and sentence punctuation)."""
    out: list[str] = []
    sentence_first: Token | None = None
    for token in tokens:
        if sentence_first is None:
            sentence_first = token
        word = token.word
        if token.placeholder:
            text = word
        elif token.cased is not None:
            text = token.cased
        elif formatting.capitalize and (
            token is sentence_first
            or word == "i"
            or word.startswith("i'")
            or word in FIRST_NAMES
            or word in LAST_NAMES
        ):
            text = _capital(word)
        else:
            text = word
        if formatting.punctuate and token.mark:
            text += token.mark
        elif formatting.punctuate and token.sentence_end:
            text += "?" if sentence_first.word in QUESTION_WORDS else "."
        if token.sentence_end:
            sentence_first = None
        out.append(text if formatting.capitalize else text.lower())
    return out


@dataclass(frozen=True)
class Written:
    """A finished piece of transcript."""

    tokens: list[Token]
    texts: list[str]  # each token as written
    entities: list[str]

    @property
    def transcript(self) -> str:
        return " ".join(self.texts)

    def word_text(self, index: int) -> str:
        """`words[].word`: as written, but placeholders in lowercase (the spec's example)."""
        text = self.texts[index]
        return text.lower() if self.tokens[index].placeholder else text

    def sentences(self, *, by_speaker: bool) -> list[tuple[int, int]]:
        """(first, last+1) token indices of each sentence (and of each speaker's turn)."""
        spans, start = [], 0
        for index, token in enumerate(self.tokens):
            following = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
            turn = by_speaker and following is not None and following.speaker != token.speaker
            if token.sentence_end or following is None or turn:
                spans.append((start, index + 1))
                start = index + 1
        return spans


def write(
    tokens: Sequence[Token], formatting: Formatting, redactor: Redactor | None = None
) -> Written:
    """ITN, redaction, keywords and formatting, in that order, over marked tokens."""
    tokens = list(tokens)
    if formatting.itn:
        tokens = normalize(tokens)
    entities: list[str] = []
    if redactor is not None and formatting.redacts:
        tokens, entities = redactor.redact(tokens)
    tokens = apply_keywords(tokens, formatting)
    return Written(tokens, written(tokens, formatting), entities)


def seconds(value: float) -> float:
    return round(value, 2)


def emotions(text: str, keys: Sequence[str]) -> dict[str, Any]:
    """Deterministic emotion scores (0–1) for a transcript (a hash of it: the audio has none)."""
    return {key: round(min(1.0, (0.05 + _fraction("emotion", key, text)) * 0.9), 4) for key in keys}


__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "QUESTION_WORDS",
    "VOCABULARY",
    "Redactor",
    "Token",
    "Written",
    "apply_keywords",
    "diarize",
    "emotions",
    "gender_of",
    "mark_sentences",
    "mark_turns",
    "normalize",
    "pause_threshold",
    "pauses_of",
    "seconds",
    "tokens_of",
    "write",
    "written",
]
