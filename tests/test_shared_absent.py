"""A fresh clone has no ../shared: the tests that read it skip, saying why, and none fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# One test (or parametrized family) for each way a test reads the vendor's folder:
# observed bodies, doc pages, recordings (directly and through tests/known_recordings.py).
READERS = [
    "tests/emulator/test_tts.py::test_observed_400_bodies_byte_for_byte",
    "tests/api/test_errors.py::test_every_observed_error_body_gives_a_specific_message",
    "tests/emulator/test_catalog.py::test_the_documents_were_read",
    "tests/emulator/test_stt_ws.py::test_a_real_recording_streams_fast_and_deterministically",
    "tests/emulator/test_speech.py::test_real_speech_is_segmented_but_never_misread",
    "tests/emulator/test_stt.py::test_real_recordings_give_stable_plausible_transcripts",
    "tests/commands/test_stt.py::test_real_recordings_upload_and_get_a_transcript",
    "tests/commands/test_stt_live.py::test_the_vendors_recordings_stream_at_their_rate_and_resampled",
    "tests/emulator/test_recordings.py::test_sentences_of_the_text_are_the_utterances",
    "tests/test_contract.py::test_valid_get_voices_exchange_passes",
]


def test_without_the_shared_folder_its_readers_skip_with_the_reason(tmp_path: Path) -> None:
    empty = tmp_path / "no-shared"
    empty.mkdir()
    env = {**os.environ, "SMALLEST_SHARED_DIR": str(empty)}
    env.pop("CI", None)  # CI=true turns integration skips into failures; none is listed
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *READERS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.fullmatch(r"\d+ skipped in .*", summary), summary  # none ran, none failed
    reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert reasons and all(str(empty) in line for line in reasons), reasons
    assert all("SMALLEST_SHARED_DIR" in line for line in reasons), reasons  # says what to do
