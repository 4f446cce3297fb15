"""When the user has finished speaking: turns from realtime STT events, or from a recording.

Live (the microphone), the API decides when an utterance ends (endpointing and
`eou_timeout_ms`, REFERENCE §10.7) and says so with a final; the turn ends once a final
has come and `pause` seconds of silence followed the last word, with no new speech after
the final (a partial with text, or `speech_started`), so a breath between two sentences
does not cut the question in half. The silence is counted on the audio sent, from the last
word's end when the events have word times (`word_timestamps`), so a final that came after
the API's own silence timer ends the turn at once; else from when the last words arrived.
A server that holds the text back (no final `FINALIZE_AFTER` seconds after the pause) is
`stalled`: the caller asks it for the final.

From a recording (`talk --input`), the user's side is cut where the audio is silent for
at least `pause` seconds; each stretch between silences is one turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smallest_cli.api.stt_live import Event

PAUSE_SECONDS = 0.5  # the emulator's endpointing silence: a longer pause waits after the final
FRAME_SECONDS = 0.02
SILENCE_FLOOR = 0.003  # RMS (full scale 1.0) below which a frame is silent whatever the level
SILENCE_RATIO = 0.05  # a frame this far below the loudest is silent too
MIN_TURN_SECONDS = 0.2  # shorter sounds (a click, a cough) are not a turn
FINALIZE_AFTER = 1.0


@dataclass
class TurnDetector:
    """Feed it STT events as they arrive; `turn(now, audio)` gives a finished turn's text.

    `now` is time.monotonic(); `audio` the seconds of audio sent so far (the clock of the
    events' word times)."""

    pause: float = PAUSE_SECONDS
    finals: list[str] = field(default_factory=list)
    _heard_at: float | None = None  # when the last sign of speech came
    _spoken_until: float | None = None  # the last word's end, in seconds of audio
    _open: bool = False  # speech was heard after the last final
    _asked: bool = False  # `stalled` has said so since the last speech

    def hear(self, event: Event, now: float) -> None:
        from smallest_cli.api.stt_live import SpeechEvent

        if isinstance(event, SpeechEvent):
            if event.kind == "speech_started":
                self._speech(now, None)
            return
        last_word = event.words[-1].end if event.words else None
        if event.is_final:
            if event.text:
                self.finals.append(event.text)
            self._open, self._asked = False, False
            if self._heard_at is None:
                self._heard_at = now
            if last_word is not None:
                self._spoken_until = last_word
        elif event.text:
            self._speech(now, last_word)

    def _speech(self, now: float, spoken_until: float | None) -> None:
        self._open, self._heard_at, self._asked = True, now, False
        if spoken_until is not None:
            self._spoken_until = spoken_until

    @property
    def speaking(self) -> bool:
        """Whether the user is in the middle of a turn."""
        return self._open or bool(self.finals)

    def turn(self, now: float, audio: float | None = None) -> str | None:
        """The turn's text once it has ended, else None."""
        left = self.left(now, audio)
        if left is None or left > 0:
            return None
        text = " ".join(self.finals)
        self.reset()
        return text

    def left(self, now: float, audio: float | None = None) -> float | None:
        """Seconds of silence still needed to end the turn (None: no final yet, or the user
        is speaking)."""
        if not self.finals or self._open or self._heard_at is None:
            return None
        if audio is not None and self._spoken_until is not None:
            return self.pause - (audio - self._spoken_until)
        return self.pause - (now - self._heard_at)

    def stalled(self, now: float) -> bool:
        """Words were heard, no final followed, and the user has long been silent: True
        once, until more is heard."""
        if self._asked or not self._open or self._heard_at is None:
            return False
        self._asked = now - self._heard_at >= self.pause + FINALIZE_AFTER
        return self._asked

    def reset(self) -> None:
        """Forget what was heard (e.g. the assistant's own voice while it spoke)."""
        self.finals = []
        self._open, self._heard_at, self._spoken_until, self._asked = False, None, None, False


@dataclass(frozen=True)
class Segment:
    """One turn of a recording: where it is (seconds) and its 16-bit PCM."""

    start: float
    end: float
    pcm: bytes


def split_at_silences(pcm: bytes, sample_rate: int, pause: float = PAUSE_SECONDS) -> list[Segment]:
    """The stretches of `pcm` (16-bit mono) between silences at least `pause` long."""
    import numpy as np

    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
    samples /= 32768.0
    frame = max(1, int(sample_rate * FRAME_SECONDS))
    count = len(samples) // frame
    if count == 0:
        return []
    levels = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    threshold = max(SILENCE_FLOOR, float(levels.max()) * SILENCE_RATIO)
    loud = levels > threshold
    gap = max(1, round(pause / FRAME_SECONDS))
    shortest = MIN_TURN_SECONDS / FRAME_SECONDS
    spans: list[tuple[int, int]] = []
    start: int | None = None
    quiet = 0
    for index, is_loud in enumerate(loud):
        if is_loud:
            if start is None:
                start = index
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= gap:
                spans.append((start, index - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        spans.append((start, count - quiet))
    return [
        _segment(pcm, first, stop, frame, sample_rate)
        for first, stop in spans
        if stop - first >= shortest
    ]


def _segment(pcm: bytes, first: int, stop: int, frame: int, sample_rate: int) -> Segment:
    """Frames first..stop, with a little of the silence around them kept (word edges)."""
    margin = int(0.1 * sample_rate)
    begin = max(0, first * frame - margin)
    end = min(len(pcm) // 2, stop * frame + margin)
    return Segment(begin / sample_rate, end / sample_rate, pcm[begin * 2 : end * 2])
