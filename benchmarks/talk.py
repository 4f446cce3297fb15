"""`smallest talk` measured against a paced emulator: from the end of your speech to the first
audio byte of the answer, and what that time is made of.

    python benchmarks/talk.py [--turns N] [--pause SECONDS]

One `smallest emulator serve` at its default (realistic) pacing: the chat's first token
after 200 ms, the TTS's first audio after 150 ms, realtime STT finals once its endpointing
has heard the silence after the speech. `smallest talk --output answer.wav --transcript
t.json` runs in this process with the microphone replaced by a recording played at the
pace a microphone delivers it (frames of 100 ms, in real time): N questions, each followed
by a silence long enough for its answer. The times of each turn come from the transcript
(`final`, `first_token`, `first_audio`) and from the recording (where the speech ends).

Prints, per turn and as medians: the emulator's STT finalisation (end of speech → the
final), the CLI's wait for the end of the turn (final → question asked), the chat's time to
first token, the time from the first token to the first audio, the total, the emulator's
budget (its STT finalisation + 200 ms + 150 ms) and the CLI's overhead on top (target
≤ 150 ms; issue 13).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import KEY, Emulator

RATE = 16000
FRAME_SECONDS = 0.1  # what the microphone source hands over at a time
ANSWER_SECONDS = 6.0  # silence after each question: the answer is spoken meanwhile
QUESTIONS = (
    "What is the capital of France?",
    "How tall is the Eiffel Tower?",
    "Why is the sky blue?",
    "What is a WebSocket?",
)
FIRST_TOKEN_MS = 200.0  # the emulator's defaults (emulator/settings.py)
FIRST_AUDIO_MS = 150.0


def question_audio(text: str) -> tuple[bytes, float]:
    """The question spoken by the emulator's voice, and where its speech ends (seconds)."""
    import numpy as np

    from smallest_cli.emulator.speech import Synthesis

    pcm = Synthesis(text, sample_rate=RATE).pcm()
    samples = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
    loud = np.nonzero(samples > 328)[0]  # 1% of full scale
    return pcm, (int(loud[-1]) + 1) / RATE if len(loud) else 0.0


class PacedRecording:
    """Stands in for `audio.capture.MicSource`: the questions, each followed by silence,
    delivered in real time; the wall-clock moment each question's speech ends is noted.
    At the end, Ctrl-C ends the conversation as a user would."""

    live = True
    turns: list[tuple[bytes, float]] = []
    speech_ends: list[float] = []  # time.monotonic()

    def __init__(self, **_: Any) -> None:
        from smallest_cli.audio.formats import StreamFormat

        self.format = StreamFormat("linear16", RATE)
        self.description = "a paced recording"

    def chunks(self, stop: threading.Event) -> Iterator[bytes]:
        frame = int(RATE * FRAME_SECONDS) * 2
        silence = b"\0\0" * int(RATE * ANSWER_SECONDS)
        stream = b"".join(pcm + silence for pcm, _ in self.turns)
        offsets, at = [], 0.0
        for pcm, speech_end in self.turns:
            offsets.append(at + speech_end)
            at += len(pcm) / 2 / RATE + ANSWER_SECONDS
        started = time.monotonic()
        self.speech_ends.extend(started + offset for offset in offsets)
        for index, start in enumerate(range(0, len(stream), frame)):
            due = started + (index + 1) * FRAME_SECONDS  # a frame is ready once it is heard
            time.sleep(max(0.0, due - time.monotonic()))
            if stop.is_set():
                return
            yield stream[start : start + frame]
        os.kill(os.getpid(), signal.SIGINT)

    def close(self) -> None:
        pass


def converse(
    work: Path, turns: int, pause: float | None, debug: bool = False
) -> list[dict[str, float]]:
    """Run `smallest talk` on the paced recording; each turn's times, in seconds from the end
    of the speech."""
    import smallest_cli.audio.capture
    from smallest_cli.app import app
    from smallest_cli.jobs.talk import TalkJob

    PacedRecording.turns = [question_audio(QUESTIONS[i % len(QUESTIONS)]) for i in range(turns)]
    smallest_cli.audio.capture.MicSource = PacedRecording  # type: ignore[misc]
    jobs: list[TalkJob] = []
    run = TalkJob.run

    def remembered(job: TalkJob) -> None:
        jobs.append(job)
        run(job)

    TalkJob.run = remembered  # type: ignore[method-assign]
    transcript = work / "t.json"
    argv = [
        *(["--debug"] if debug else []),
        "talk",
        "--output",
        str(work / "answer.wav"),
        "--transcript",
        str(transcript),
    ]
    argv += ["--no-log", *(["--pause", str(pause)] if pause is not None else [])]
    try:
        app(argv, prog_name="smallest")
    except SystemExit as done:
        if done.code != 130:
            sys.exit(f"smallest talk ended with {done.code}")
    started = jobs[0]._started
    spoken = json.loads(transcript.read_text())["turns"]
    users = [t for t in spoken if t["role"] == "user"]
    answers = [t for t in spoken if t["role"] == "assistant"]
    if len(users) != turns or len(answers) != turns:
        sys.exit(f"expected {turns} questions and answers, the transcript has {spoken}")
    rows = []
    for speech_end, user, answer in zip(PacedRecording.speech_ends, users, answers, strict=True):
        end = speech_end - started
        rows.append(
            {
                "final": user["final"] - end,
                "turn_end": user["end"] - end,
                "asked": answer["start"] - end,
                "first_token": answer["first_token"] - end,
                "first_audio": answer["first_audio"] - end,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--pause", type=float, help="talk --pause (default: talk's own)")
    parser.add_argument("--debug", action="store_true", help="smallest --debug: its traffic")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, Emulator("--chat-per-minute", "10000") as em:
        os.environ.update(
            {"SMALLEST_BASE_URL": em.url, "SMALLEST_API_KEY": KEY, "SMALLEST_DATA_DIR": scratch}
        )
        rows = converse(Path(scratch), options.turns, options.pause, options.debug)
    parts = []
    for row in rows:
        total = row["first_audio"] * 1000
        budget = row["final"] * 1000 + FIRST_TOKEN_MS + FIRST_AUDIO_MS
        parts.append(
            {
                "STT finalisation (emulator)": row["final"] * 1000,
                "final → end of the turn (rest of --pause)": (row["turn_end"] - row["final"])
                * 1000,
                "end of the turn → question asked": (row["asked"] - row["turn_end"]) * 1000,
                "asked → first token": (row["first_token"] - row["asked"]) * 1000,
                "first token → first audio": (row["first_audio"] - row["first_token"]) * 1000,
                "total: end of speech → first audio": total,
                "budget: STT finalisation + 200 + 150": budget,
                "CLI overhead (target ≤ 150)": total - budget,
            }
        )
    names = list(parts[0])
    print(
        f"## `smallest talk`: end of speech → first audio byte ({len(rows)} turns, "
        f"--pause {options.pause or 'default'}; emulator: first token 200 ms, first audio 150 ms)\n"
    )
    print("| part | " + " | ".join(f"turn {i + 1}" for i in range(len(parts))) + " | median |")
    print("|---|" + "---:|" * (len(parts) + 1))
    for name in names:
        values = [p[name] for p in parts]
        cells = " | ".join(f"{v:.0f}" for v in values)
        print(f"| {name} | {cells} | {statistics.median(values):.0f} |")
    overhead = statistics.median(p[names[-1]] for p in parts)
    print(f"\nCLI overhead, median: {overhead:.0f} ms: {'met' if overhead <= 150 else 'MISSED'}")


if __name__ == "__main__":
    main()
