"""The emulator's voice: synthetic speech that carries its words, and the ear that reads them.

Each spoken word becomes a burst of tones, shaped like a syllable (soft attack and release,
a low voice hum under it), separated from the next word by a pause; sentences end with a
longer pause. Inside a burst, every symbol is one of 19 tones between 500 and 3300 Hz, held
for 30 ms (scaled by 1/speed, but never under 20 ms), and it carries 4 bits *differentially*: the tone index moves
by 2 + value (mod 19) from the previous one, so two symbols in a row are never the same or
neighbouring tones and the listener needs no clock. A word's symbols are the nibbles of its UTF-8 bytes followed by a
checksum byte.

A pronunciation dictionary (`pronunciations`, word as written → respelling) makes the voice
say the respelling's words instead of a word it matches: case-sensitive, the whole word (as
written, or without its edge punctuation: `nginx,` matches `nginx`). "engine x" for `nginx`
is spoken, and heard, as the two words "engine" "x"; word timings still name the word as
written, spanning everything spoken for it. An entry of several words ("New York") never
matches, since the text is matched word by word.

This survives what audio goes through between our TTS and our STT: resampling down to
8 kHz, 16-bit PCM, μ-law and A-law, MP3, Vorbis and Opus. The listener (`listen`) finds words
by energy, reads each burst's tones, and keeps a word only when its checksum holds; any other
sound (real speech, music) is reported as an unreadable segment with its timing, which the
STT turns into deterministic stand-in words.

numpy is imported by the emulator only; nothing here is needed to run the CLI.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from smallest_cli.emulator.catalog import PITCH_HZ, pitch_hz

TONE_COUNT = 19
TONES_HZ = np.linspace(500.0, 3300.0, TONE_COUNT)
STEP = 2  # consecutive tones are at least two places apart, so they never blur together
SYMBOL_SECONDS = 0.030
MIN_SYMBOL_SECONDS = 0.020  # faster speech shortens pauses more than tones: codecs need ~20 ms
WORD_GAP_SECONDS = 0.100
SENTENCE_GAP_SECONDS = 0.300
LEAD_SECONDS = 0.050
TAIL_SECONDS = 0.100
RAMP_SECONDS = 0.006
TONE_LEVEL = 0.42
HUM_LEVEL = 0.10

LISTEN_RATE = 16_000
_EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}<>.,;:!?¡¿…—–-*_/\\|"
_SENTENCE_END = re.compile(r"[.!?।…]+[\"'”’)\]]*$")


# -- text into words ---------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """A word of the input: as written, where it is, and what is spoken for it."""

    index: int
    written: str  # the exact input substring (word timestamps report this)
    spoken: str  # lowercase, edge punctuation removed; "" for a bare punctuation mark
    ends_sentence: bool


def words_of(text: str) -> list[Word]:
    """Split text into words the way the synthesizer speaks them."""
    words = []
    for index, match in enumerate(re.finditer(r"\S+", text)):
        written = match.group(0)
        spoken = unicodedata.normalize("NFC", written.strip(_EDGE_PUNCTUATION).lower())
        words.append(Word(index, written, spoken, bool(_SENTENCE_END.search(written))))
    return words


def _spoken(word: Word, pronunciations: Mapping[str, str]) -> list[str]:
    """What is said for `word`: its spoken form, or the words of its pronunciation."""
    for form in (word.written, word.written.strip(_EDGE_PUNCTUATION)):
        respelling = pronunciations.get(unicodedata.normalize("NFC", form))
        if respelling is not None:
            parts = [w.spoken for w in words_of(respelling) if w.spoken]
            if parts:
                return parts
    return [word.spoken] if word.spoken else []


def spoken_form(text: str) -> str:
    """How a transcript of `text` reads with case and punctuation aside (for comparisons)."""
    return " ".join(w.spoken for w in words_of(text) if w.spoken)


# -- the word <-> tone code -----------------------------------------------------------------


def _checksum(data: bytes) -> int:
    return hashlib.blake2b(data, digest_size=1).digest()[0]


def encode_word(spoken: str) -> list[int]:
    """The tone indices (0–16) that say `spoken`."""
    data = spoken.encode("utf-8")
    data += bytes([_checksum(data)])
    tones, previous = [], 0
    for byte in data:
        for nibble in (byte >> 4, byte & 0x0F):
            previous = (previous + STEP + nibble) % TONE_COUNT
            tones.append(previous)
    return tones


def decode_word(tones: list[int]) -> str | None:
    """The word a tone sequence says, or None if it is not one of ours."""
    if len(tones) < 4 or len(tones) % 2:
        return None
    nibbles, previous = [], 0
    for tone in tones:
        nibble = (tone - previous - STEP) % TONE_COUNT
        if nibble > 15:
            return None
        nibbles.append(nibble)
        previous = tone
    data = bytes((hi << 4) | lo for hi, lo in zip(nibbles[::2], nibbles[1::2], strict=True))
    if _checksum(data[:-1]) != data[-1]:
        return None
    try:
        word = data[:-1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return word if word and word.isprintable() else None


# -- synthesis -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    """A word and when it is heard, in seconds from the start of the audio."""

    word: Word
    start: float
    end: float


@dataclass(frozen=True)
class VoiceTimbre:
    pitch_hz: float

    @classmethod
    def for_voice(cls, voice_id: str, gender: str | None) -> VoiceTimbre:
        """The catalog voice's own pitch (distinct within its gender); any other id's from
        its hash."""
        return cls(PITCH_HZ.get(voice_id) or pitch_hz(voice_id, gender))


class Synthesis:
    """The audio for one text, produced block by block (one word or pause at a time).

    `scramble` makes the audio say nothing intelligible, as the real service does when a
    voice is used with the other model's pool (REFERENCE §6.1); `mute` makes no audio at
    all, as an old `lightning-large` clone gives on current models (§6.1).
    """

    def __init__(
        self,
        text: str,
        *,
        sample_rate: int,
        speed: float = 1.0,
        timbre: VoiceTimbre | None = None,
        scramble: bool = False,
        mute: bool = False,
        pronunciations: Mapping[str, str] | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.speed = speed
        self.timbre = timbre or VoiceTimbre(160.0)
        self.scramble = scramble
        self.words = [] if mute else words_of(text)
        self.mute = mute
        self.pronunciations = pronunciations or {}
        self._plan = self._make_plan()

    def _seconds(self, base: float) -> float:
        return base / self.speed

    def _samples(self, seconds: float) -> int:
        return int(round(seconds * self.sample_rate))

    def _make_plan(self) -> list[tuple[Word | None, str, int]]:
        """(word or None for a pause, what is said, length in samples), in order."""
        if self.mute:
            return []
        plan: list[tuple[Word | None, str, int]] = [(None, "", self._samples(LEAD_SECONDS))]
        word_gap = self._samples(self._seconds(WORD_GAP_SECONDS))
        for word in self.words:
            for number, spoken in enumerate(_spoken(word, self.pronunciations)):
                if number:
                    plan.append((None, "", word_gap))
                symbols = len(encode_word(spoken))
                symbol = max(MIN_SYMBOL_SECONDS, self._seconds(SYMBOL_SECONDS))
                plan.append((word, spoken, self._samples(symbol) * symbols))
            gap = SENTENCE_GAP_SECONDS if word.ends_sentence else WORD_GAP_SECONDS
            plan.append((None, "", self._samples(self._seconds(gap))))
        if len(plan) > 1 and plan[-1][0] is None:
            plan.pop()
        plan.append((None, "", self._samples(TAIL_SECONDS)))
        return plan

    @property
    def frames(self) -> int:
        """Total length in samples."""
        return sum(length for _, _, length in self._plan)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def timings(self) -> list[Timed]:
        """When each spoken word starts and ends (exact: the bursts are placed by plan); a
        word said as several (a pronunciation) spans them all."""
        timed: list[Timed] = []
        position = 0
        for word, _, length in self._plan:
            if word is not None:
                start, end = position / self.sample_rate, (position + length) / self.sample_rate
                if timed and timed[-1].word is word:
                    start = timed.pop().start
                timed.append(Timed(word, start, end))
            position += length
        return timed

    def blocks(self) -> Iterator[np.ndarray]:
        """int16 mono blocks: a pause or a word each, in order."""
        for word, spoken, length in self._plan:
            if word is None:
                yield np.zeros(length, dtype=np.int16)
            else:
                yield self._burst(spoken, length)

    def pcm(self) -> bytes:
        return b"".join(block.tobytes() for block in self.blocks())

    def _burst(self, spoken: str, length: int) -> np.ndarray:
        tones = encode_word(spoken)
        if self.scramble:
            digest = hashlib.sha256(spoken.encode()).digest()
            tones = [(t * 7 + digest[i % len(digest)]) % TONE_COUNT for i, t in enumerate(tones)]
        per_symbol = length // len(tones)
        frequencies = np.repeat(TONES_HZ[tones], per_symbol)
        # Phase-continuous frequency changes: no clicks between symbols.
        phase = 2 * np.pi * np.cumsum(frequencies) / self.sample_rate
        carrier = np.sin(phase)
        t = np.arange(length) / self.sample_rate
        pitch = self.timbre.pitch_hz * (1 + 0.04 * np.sin(2 * np.pi * 3.0 * t))
        hum_phase = 2 * np.pi * np.cumsum(pitch) / self.sample_rate
        hum = np.sin(hum_phase) + 0.5 * np.sin(2 * hum_phase)
        loudness = 0.85 + 0.15 * (hashlib.md5(spoken.encode()).digest()[0] / 255)
        signal = loudness * (TONE_LEVEL * carrier + HUM_LEVEL * hum)
        ramp = min(self._samples(RAMP_SECONDS), length // 2)
        if ramp:
            edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
            signal[:ramp] *= edge
            signal[-ramp:] *= edge[::-1]
        return np.round(signal * 32767).astype(np.int16)


# -- listening -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """A stretch of sound: the word it carried if it was one of ours, and when."""

    text: str | None
    start: float
    end: float


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling (FFT), good enough for listening and for speech."""
    if rate == target or len(samples) == 0:
        return samples.astype(np.float64)
    count = int(round(len(samples) * target / rate))
    spectrum = np.fft.rfft(samples.astype(np.float64))
    keep = min(len(spectrum), count // 2 + 1)
    resized = np.zeros(count // 2 + 1, dtype=complex)
    resized[:keep] = spectrum[:keep]
    return np.fft.irfft(resized, count) * (count / len(samples))


def listen(samples: np.ndarray, sample_rate: int) -> list[Heard]:
    """Find the words in mono audio (any rate, int16 or float)."""
    audio = samples.astype(np.float64)
    if samples.dtype == np.int16:
        audio /= 32768.0
    audio = resample(audio, sample_rate, LISTEN_RATE)
    return [_read(audio, start, end) for start, end in _segments(audio)]


def _segments(audio: np.ndarray) -> list[tuple[int, int]]:
    """Stretches of sound separated by at least 30 ms of quiet, in samples."""
    hop = LISTEN_RATE // 400  # 2.5 ms
    frames = len(audio) // hop
    if frames == 0:
        return []
    energy = np.sqrt(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    loud = energy > max(0.01, 0.05 * float(np.percentile(energy, 99)))
    segments, start, quiet = [], None, 0
    min_gap = int(0.030 * 400)
    for i, on in enumerate(loud):
        if on:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_gap:
                segments.append((start, i - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        segments.append((start, frames - quiet))
    min_frames = int(0.04 * 400)
    return [(a * hop, b * hop) for a, b in segments if b - a >= min_frames]


_WINDOW = 160  # 10 ms at 16 kHz
_STEP = 40  # 2.5 ms
_FFT = 2048
_BIN_HZ = LISTEN_RATE / _FFT
_TOLERANCE_HZ = 55.0


def _read(audio: np.ndarray, start: int, end: int) -> Heard:
    heard_start, heard_end = start / LISTEN_RATE, end / LISTEN_RATE
    segment = audio[start:end]
    if len(segment) < _WINDOW:
        return Heard(None, heard_start, heard_end)
    count = 1 + (len(segment) - _WINDOW) // _STEP
    index = np.arange(_WINDOW)[None, :] + _STEP * np.arange(count)[:, None]
    frames = segment[index] * np.hanning(_WINDOW)
    spectrum = np.abs(np.fft.rfft(frames, _FFT, axis=1))
    low, high = int(420 / _BIN_HZ), int(3400 / _BIN_HZ)
    power = spectrum[:, low:high] ** 2
    peaks = power.argmax(axis=1)
    # How much of the band's energy sits within ±tolerance of the peak: a held tone is
    # concentrated there; speech, noise and the hum are not.
    reach = int(_TOLERANCE_HZ / _BIN_HZ)
    cumulative = np.concatenate([np.zeros((len(power), 1)), np.cumsum(power, axis=1)], axis=1)
    rows = np.arange(len(power))
    near = (
        cumulative[rows, np.minimum(peaks + reach + 1, power.shape[1])]
        - cumulative[rows, np.maximum(peaks - reach, 0)]
    )
    concentration = near / (cumulative[:, -1] + 1e-18)
    peak_hz = (peaks + low) * _BIN_HZ
    nearest = np.abs(TONES_HZ[None, :] - peak_hz[:, None]).argmin(axis=1)
    clean = (np.abs(TONES_HZ[nearest] - peak_hz) <= _TOLERANCE_HZ) & (concentration > 0.6)
    return Heard(_read_slots(np.where(clean, nearest, -1)), heard_start, heard_end)


def _read_slots(labels: np.ndarray) -> str | None:
    """Read the burst as symbols on a regular grid.

    The synthesizer lays symbols end to end at one fixed period, so the middles of the
    clearly held tones fall on a grid; fitting it recovers every symbol's slot (also one
    the codec smeared), and the tone held most in each slot decides it. A stray sound at
    either edge is tolerated by also trying the grid without its first or last slot; the
    checksum picks the reading that holds.
    """
    middles = np.array(_run_middles(labels))
    if len(middles) < 2:
        return None
    period = float(np.median(np.diff(middles)))
    if period <= 0:
        return None
    slots = np.round((middles - middles[0]) / period)
    slope, offset = np.polyfit(slots, middles, 1) if len(set(slots)) > 1 else (period, middles[0])
    positions = np.arange(len(labels))
    tones = []
    for k in range(int(slots[-1]) + 1):
        centre = offset + slope * k
        inside = labels[np.abs(positions - centre) <= 0.3 * slope]
        inside = inside[inside >= 0]
        tones.append(int(np.bincount(inside).argmax()) if len(inside) else -1)
    for first, last in ((0, len(tones)), (0, len(tones) - 1), (1, len(tones)), (1, len(tones) - 1)):
        candidate = tones[first:last]
        if -1 not in candidate:
            word = decode_word(candidate)
            if word is not None:
                return word
    return None


def _run_middles(labels: np.ndarray) -> list[float]:
    """Middles (in frames) of the runs of one clean label, two frames or longer."""
    middles, previous, length = [], -1, 0
    for position, label in enumerate([*labels.tolist(), -1]):
        if label == previous:
            length += 1
            continue
        if previous >= 0 and length >= 2:
            middles.append(position - length / 2)
        previous, length = label, 1
    return middles


__all__ = [
    "Heard",
    "Synthesis",
    "Timed",
    "VoiceTimbre",
    "Word",
    "decode_word",
    "encode_word",
    "listen",
    "resample",
    "spoken_form",
    "words_of",
]
