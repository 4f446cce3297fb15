"""The vendor's three recordings in ../shared/audio, with their documented transcripts, as
fixtures for the emulator's known recordings (`emulator serve --transcripts DIR`).

The recordings are read from ../shared (`contract.SHARED_DIR`) at test time and copied
into a temporary folder; a test skips when they are absent. Only what the vendor documents
is used as a transcript:

* tts-sample-hello: the quickstart's request that made it, `"text": "Hello from Smallest
  AI. This is Lightning v3.1."` (smallest-ai-documentation, the Waves quickstart);
* stt-sample-audio: its Pulse Pro transcript, quoted in ../shared/audio/README.md;
* pulse-feature-demo: only its first 120 characters are documented (the live probe's
  `transcript_first120`, ../shared/api/observed/baseline-pulse-stt.json, 'baseline-en'),
  cut mid-word; the transcript here is the whole sentences among them. The emulator spreads
  these words over the whole 22.5 s recording, so their timings are not where the words
  are really said.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from smallest_cli.audio.resample import resample
from tests.shared import shared_path

TRANSCRIPTS = {
    "tts-sample-hello": "Hello from Smallest AI. This is Lightning v3.1.",
    "stt-sample-audio": (
        "This is a sample audio file for testing speech-to-text transcription with the Pulse API."
    ),
    "pulse-feature-demo": (
        "Hi, this is Huss Miller calling about my recent order. "
        "My phone is five five five one two three. Four five six seven."
    ),
}
NAMES = tuple(TRANSCRIPTS)
# container, subtype and rate (None: the recording's own) of each re-encoding
ENCODINGS = {
    "wav": ("WAV", "PCM_16", None),
    "flac": ("FLAC", "PCM_16", None),
    "mp3": ("MP3", "MPEG_LAYER_III", None),
    "ogg": ("OGG", "VORBIS", None),
    "opus": ("OGG", "OPUS", 48000),
    "wav-16k": ("WAV", "PCM_16", 16000),
    "wav-8k-mulaw": ("WAV", "ULAW", 8000),
}


def recording(name: str) -> Path:
    """The vendor's recording `name` (.wav) in ../shared/audio; skips the test if absent."""
    return shared_path("audio", f"{name}.wav")


def samples(name: str) -> tuple[np.ndarray, int]:
    """The recording as mono float32 samples, and its rate."""
    data, rate = sf.read(recording(name), dtype="float32")
    return data, rate


def transcripts_dir(folder: Path) -> Path:
    """`folder` filled with the three recordings and their transcripts (name.wav + name.txt)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TRANSCRIPTS.items():
        shutil.copyfile(recording(name), folder / f"{name}.wav")
        (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def reencoded(name: str, encoding: str) -> bytes:
    """The recording `name` as a file of another container, codec and rate (`ENCODINGS`)."""
    container, subtype, rate = ENCODINGS[encoding]
    data, own = samples(name)
    if rate is not None and rate != own:
        data = resample(data, own, rate).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, data, rate or own, format=container, subtype=subtype)
    return buffer.getvalue()


def plain(text: str) -> list[str]:
    """The words of a transcript, lowercase and without punctuation."""
    return [w.strip(".,;:!?…").lower() for w in text.split()]


__all__ = [
    "ENCODINGS",
    "NAMES",
    "TRANSCRIPTS",
    "plain",
    "recording",
    "reencoded",
    "samples",
    "transcripts_dir",
]
