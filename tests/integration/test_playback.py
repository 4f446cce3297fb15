"""`tts say` on the speakers: through PortAudio into the CI sound server, heard back on its monitor."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from smallest_cli.emulator.speech import Synthesis, listen, spoken_form
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.integration

TEXT = "Playback reaches the speakers in real time."
LISTEN_RATE = 16_000


def test_tts_say_plays_what_it_says(sd, emulator, tmp_path: Path) -> None:
    duration = Synthesis(TEXT, sample_rate=24000).duration
    recording = sd.rec(
        int((duration + 3.0) * LISTEN_RATE), samplerate=LISTEN_RATE, channels=1, dtype="int16"
    )
    time.sleep(0.3)
    env = {**os.environ, "SMALLEST_BASE_URL": emulator.base_url, "SMALLEST_API_KEY": TEST_KEY}
    started = time.monotonic()
    saved = tmp_path / "also.wav"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "smallest_cli",
            "tts",
            "say",
            TEXT,
            "--play",
            "-o",
            str(saved),
            "--sample-rate",
            "24000",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started
    sd.wait()
    assert result.returncode == 0, result.stderr
    assert elapsed >= duration, "the command returned before the audio had played"
    heard = listen(recording[:, 0], LISTEN_RATE)
    assert " ".join(h.text or "?" for h in heard) == spoken_form(TEXT)
    loud = [h for h in heard if h.text]
    assert loud[-1].end - loud[0].start == pytest.approx(
        Synthesis(TEXT, sample_rate=24000).timings()[-1].end
        - Synthesis(TEXT, sample_rate=24000).timings()[0].start,
        abs=0.1,
    )
    assert (
        sf.info(saved).frames == Synthesis(TEXT, sample_rate=24000).frames
    )  # --play with -o saves too
