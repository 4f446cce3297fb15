"""Known recordings, known transcripts (`emulator serve --transcripts DIR`).

A folder of pairs, `DIR/name.wav` (or any other file libsndfile reads: FLAC, OGG, MP3,
AIFF…) and `DIR/name.txt` (UTF-8, the transcript as it should be written). Audio that
sounds like one of the recordings is transcribed as that recording's text; all other audio
keeps the emulator's synthetic transcripts (`stt_text`).

Matching goes by what the audio sounds like, never by its bytes, so a recording still
matches after conversion to another container, sample rate or codec (FLAC, MP3, Ogg,
8 kHz µ-law…):

* fingerprint: the audio's power in 6 bands between 100 Hz and 3.6 kHz (what survives
  even 8 kHz telephone audio), in 40 ms Hann windows every 20 ms, on a log scale with a
  floor 50 dB under the loudest band;
* match: the Pearson correlation of the two fingerprints (each band's mean taken out, so
  loudness does not matter), at the best of the alignments up to 0.3 s apart (codecs add
  delay), is at least 0.9, and, for an upload, the two lengths agree within 0.3 s (or 2 %);
* streams (realtime WebSocket) are identified from their first 1.5 s: while recordings are
  loaded, a session hears nothing until it has 1.5 s of audio (or a finalize/close_stream),
  so its first events come up to 1.5 s later than without `--transcripts`.

The text is cut into words at white space. Each word is written as in the file (its
capitals, and the punctuation that follows it); the route's options still apply:
`punctuate=false` drops the marks, `capitalize=false` lowercases, ITN and redaction work on
its words as on any transcript. A word ending in `.`, `?` or `!` ends a sentence (and an
utterance). Word timings are spread over the recording's speech: the sounds the emulator
hears in it (`stt_audio.Ear`), joined across pauses under 0.25 s, share the words in
proportion to their lengths in letters, no word straddling a pause; shifted by the
alignment found, so they fall where the speech is in the audio that was sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from smallest_cli.emulator.stt_audio import (
    HEADERLESS,
    AudioError,
    Decoded,
    Sound,
    decode_file,
    hear_all,
)
from smallest_cli.emulator.stt_text import Token

BANDS_HZ = (100, 300, 600, 1000, 1600, 2400, 3600)
HOP_SECONDS = 0.02
WINDOW_SECONDS = 0.04
FLOOR_DB = 50.0
MATCH = 0.9
MAX_LAG_SECONDS = 0.3
HEAD_SECONDS = 1.5
LENGTH_TOLERANCE = (0.3, 0.02)  # seconds, or this share of the recording's length
PAUSE_JOINED = 0.25
MARKS = ".,;:!?…"
SENTENCE_MARKS = ".?!…"
TRANSCRIPT_SUFFIX = ".txt"


class RecordingsError(ValueError):
    """The transcripts folder cannot be used (missing, empty, unreadable audio…)."""


# -- fingerprints ---------------------------------------------------------------------------


class Fingerprinter:
    """Band powers of mono audio at one rate, fed in pieces of any size (module docstring)."""

    def __init__(self, sample_rate: int, limit_seconds: float | None = None) -> None:
        self.rate = sample_rate
        self._window = max(8, round(sample_rate * WINDOW_SECONDS))
        self._buffer = np.zeros(0, dtype=np.float64)
        self._origin = 0  # absolute index of _buffer[0]
        self._frames: list[np.ndarray] = []
        self._count = 0
        self._limit = None if limit_seconds is None else int(limit_seconds / HOP_SECONDS)
        hz = np.fft.rfftfreq(self._window, 1 / sample_rate)
        self._bands = [
            (hz >= low) & (hz < high) for low, high in zip(BANDS_HZ, BANDS_HZ[1:], strict=False)
        ]
        self._taper = np.hanning(self._window)

    def _start(self, frame: int) -> int:
        return int(frame * HOP_SECONDS * self.rate)

    def feed(self, samples: np.ndarray) -> None:
        if self._limit is not None and self._count >= self._limit:
            return
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float64)])
        end = self._origin + len(self._buffer)
        starts: list[int] = []
        while self._start(self._count + len(starts)) + self._window <= end:
            starts.append(self._start(self._count + len(starts)) - self._origin)
            if self._limit is not None and self._count + len(starts) >= self._limit:
                break
        if starts:
            index = np.asarray(starts)[:, None] + np.arange(self._window)
            spectrum = np.abs(np.fft.rfft(self._buffer[index] * self._taper, axis=1)) ** 2
            self._frames.append(np.stack([spectrum[:, b].sum(axis=1) for b in self._bands], 1))
            self._count += len(starts)
        keep = self._start(self._count) - self._origin
        if keep > 0:
            self._buffer = self._buffer[keep:]
            self._origin += keep

    def power(self) -> np.ndarray:
        """Band powers so far: one row per 20 ms frame, one column per band."""
        if not self._frames:
            return np.zeros((0, len(self._bands)))
        return np.concatenate(self._frames)


def _shape(power: np.ndarray) -> np.ndarray:
    """Log band powers with a floor under the loudest, each band's mean taken out."""
    if len(power) == 0:
        return power
    floor = float(power.max()) * 10 ** (-FLOOR_DB / 10) + 1e-20
    logs = np.log10(power + floor)
    return np.asarray(logs - logs.mean(axis=0))


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """The best correlation of two band-power fingerprints, and the lag in frames at which
    it is found (`b` later than `a` by that many frames when positive)."""
    best, best_lag = -1.0, 0
    limit = round(MAX_LAG_SECONDS / HOP_SECONDS)
    for lag in range(-limit, limit + 1):
        x = a[max(0, -lag) :]
        y = b[max(0, lag) :]
        size = min(len(x), len(y))
        if size < 10:
            continue
        x, y = _shape(x[:size]).ravel(), _shape(y[:size]).ravel()
        spread = float(np.linalg.norm(x) * np.linalg.norm(y))
        if spread <= 0:
            continue
        value = float(np.dot(x, y) / spread)
        if value > best:
            best, best_lag = value, lag
    return best, best_lag


# -- transcripts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptWord:
    """A word of a known transcript, timed in its recording."""

    word: str  # lowercase, without the punctuation after it
    cased: str  # as the transcript writes it
    mark: str | None  # the punctuation after it
    start: float
    end: float


def words_of(text: str) -> list[tuple[str, str | None]]:
    """(word as written, punctuation after it) for each word of a transcript."""
    words: list[tuple[str, str | None]] = []
    for piece in text.split():
        core = piece.rstrip(MARKS)
        mark = piece[len(core) :] or None
        if not any(c.isalnum() for c in core):  # a lone dash or mark joins the word before
            if words and mark:
                before, before_mark = words[-1]
                words[-1] = (before, (before_mark or "") + mark)
            continue
        words.append((core, mark))
    return words


def speech_spans(sounds: Sequence[Sound]) -> list[tuple[float, float]]:
    """The sounds of a recording, joined across pauses shorter than `PAUSE_JOINED`."""
    spans: list[tuple[float, float]] = []
    for sound in sounds:
        if spans and sound.start - spans[-1][1] < PAUSE_JOINED:
            spans[-1] = (spans[-1][0], sound.end)
        else:
            spans.append((sound.start, sound.end))
    return spans


def timed(text: str, spans: Sequence[tuple[float, float]]) -> list[ScriptWord]:
    """The words of `text` spread over `spans` by their lengths (module docstring)."""
    words = words_of(text)
    if not words or not spans:
        return []
    weights = [len(w) + 1 for w, _ in words]
    total = sum(weights)
    lengths = [b - a for a, b in spans]
    speech = sum(lengths)

    def where(share: float) -> tuple[int, float]:
        """The span holding this share of the speech, and the time there."""
        left = share * speech
        for index, (start, _) in enumerate(spans):
            if left <= lengths[index] or index == len(spans) - 1:
                return index, start + min(left, lengths[index])
            left -= lengths[index]
        raise AssertionError("unreachable")

    result = []
    done = 0
    for (core, mark), weight in zip(words, weights, strict=True):
        first, start = where(done / total)
        last, end = where((done + weight) / total)
        if first != last:  # keep the word inside one stretch of speech: where most of it is
            middle, _ = where((done + weight / 2) / total)
            span = spans[middle]
            start, end = (start, span[1]) if middle == first else (span[0], end)
        end -= min(0.05, 0.1 * (end - start))  # a breath between words
        result.append(ScriptWord(core.lower(), core, mark, start, max(start, end)))
        done += weight
    return result


def _confidence(word: ScriptWord) -> float:
    digest = hashlib.blake2b(repr((word.word, round(word.start, 2))).encode(), digest_size=8)
    return round(0.9 + 0.09 * int.from_bytes(digest.digest(), "big") / 2**64, 4)


def _token(word: ScriptWord, shift: float, pitch: float | None) -> Token:
    return Token(
        word.word,
        word.start + shift,
        word.end + shift,
        _confidence(word),
        pitch,
        sentence_end=word.mark is not None and word.mark[-1] in SENTENCE_MARKS,
        cased=word.cased,
        mark=word.mark,
        scripted=True,
    )


@dataclass
class Script:
    """The words of a recognised recording, in the time of the audio that was sent."""

    name: str
    words: list[ScriptWord]
    shift: float  # seconds the sent audio runs behind the recording
    taken: int = 0

    def tokens(self, sounds: Sequence[Sound]) -> list[Token]:
        """All the words (an upload), each with the pitch of the sound it falls in."""
        return [
            _token(w, self.shift, _pitch_at(sounds, (w.start + w.end) / 2 + self.shift))
            for w in self.words
        ]

    def take_until(self, time: float, pitch: float | None = None) -> list[Token]:
        """The words not yet taken that start before `time` (a stream, as it is heard)."""
        taken = []
        while self.taken < len(self.words) and self.words[self.taken].start + self.shift < time:
            taken.append(_token(self.words[self.taken], self.shift, pitch))
            self.taken += 1
        return taken


def _pitch_at(sounds: Sequence[Sound], time: float) -> float | None:
    pitched = [s for s in sounds if s.pitch]
    if not pitched:
        return None
    return min(pitched, key=lambda s: max(0.0, s.start - time, time - s.end)).pitch


# -- the folder -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownRecording:
    name: str
    duration: float
    power: np.ndarray  # its fingerprint (`Fingerprinter.power`)
    words: list[ScriptWord]


def _read(path: Path) -> tuple[np.ndarray, float, list[Sound]]:
    with path.open("rb") as file:
        decoded = decode_file(file)
        if decoded is HEADERLESS:
            raise AudioError("it has no audio container (WAV, FLAC, MP3, OGG, ...)")
        printer = Fingerprinter(decoded.sample_rate)
        sounds, duration = hear_all(tapped(decoded, printer))
    return printer.power(), duration, sounds


def tapped(decoded: Decoded, printer: Fingerprinter) -> Decoded:
    """`decoded`, feeding `printer` each block as it is read."""

    def blocks() -> Iterator[np.ndarray]:
        for block in decoded.blocks:
            printer.feed(block)
            yield block

    return Decoded(blocks(), decoded.sample_rate)


@dataclass
class Recordings:
    """The recordings of a transcripts folder, to recognise audio by."""

    known: list[KnownRecording] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Recordings:
        """Every `name.txt` in `folder` with the audio file of the same name beside it."""
        if not folder.is_dir():
            raise RecordingsError(f"{folder} is not a folder")
        known = []
        for text in sorted(folder.glob("*" + TRANSCRIPT_SUFFIX)):
            audio = [p for p in sorted(folder.glob(f"{text.stem}.*")) if p != text]
            if not audio:
                raise RecordingsError(f"{text} has no recording beside it ({text.stem}.wav …)")
            try:
                power, duration, sounds = _read(audio[0])
            except (AudioError, OSError) as exc:
                raise RecordingsError(f"cannot read {audio[0]}: {exc}") from None
            try:
                transcript = text.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RecordingsError(f"cannot read {text}: {exc}") from None
            words = timed(transcript, speech_spans(sounds))
            known.append(KnownRecording(text.stem, duration, power, words))
        if not known:
            raise RecordingsError(f"{folder} holds no name.wav + name.txt pairs")
        return cls(known)

    @property
    def longest(self) -> float:
        return max((k.duration for k in self.known), default=0.0)

    def fingerprinter(self, sample_rate: int) -> Fingerprinter:
        """A fingerprinter for an upload (it stops past the longest recording)."""
        return Fingerprinter(sample_rate, self.longest + 2 * MAX_LAG_SECONDS + 1)

    def identify(self, power: np.ndarray, duration: float) -> Script | None:
        """The recording that a whole upload (its fingerprint, its length) is, if any."""
        candidates = [
            (known.power, known)
            for known in self.known
            if abs(duration - known.duration)
            <= max(LENGTH_TOLERANCE[0], LENGTH_TOLERANCE[1] * known.duration)
        ]
        return _best(power, candidates)

    def identify_head(self, samples: np.ndarray, sample_rate: int) -> Script | None:
        """The recording that a stream starting with `samples` (about 1.5 s) is, if any."""
        printer = Fingerprinter(sample_rate)
        printer.feed(samples)
        head = printer.power()
        lag = round(MAX_LAG_SECONDS / HOP_SECONDS)
        return _best(head, [(known.power[: len(head) + lag], known) for known in self.known])


def _best(power: np.ndarray, candidates: list[tuple[np.ndarray, KnownRecording]]) -> Script | None:
    """The words of the candidate most like `power` (each compared by its own fingerprint),
    shifted to `power`'s time; None when none reaches `MATCH`."""
    best: tuple[float, int, KnownRecording] | None = None
    for reference, known in candidates:
        value, lag = similarity(reference, power)
        if value >= MATCH and (best is None or value > best[0]):
            best = (value, lag, known)
    if best is None:
        return None
    _, lag, known = best
    return Script(known.name, list(known.words), lag * HOP_SECONDS)


__all__ = [
    "HEAD_SECONDS",
    "MATCH",
    "Fingerprinter",
    "KnownRecording",
    "Recordings",
    "RecordingsError",
    "Script",
    "ScriptWord",
    "similarity",
    "tapped",
    "speech_spans",
    "timed",
    "words_of",
]
