"""`stt live` decodes a file in blocks; the blocks must hold what a whole-file read holds,
for every container libsndfile writes here (issue 9 point 16: MP3 read in blocks gave other
samples than MP3 read whole)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.audio.codecs import Converter
from smallest_cli.audio.sources import READ_FRAMES, FileSource

# Longer than several blocks, so block boundaries fall inside the audio.
SECONDS = 3 * READ_FRAMES / 16000 + 0.3


def _writable() -> list[str]:
    """Every major format soundfile writes with its default subtype (RAW needs a layout)."""
    return sorted(f for f in sf.available_formats() if f != "RAW" and sf.default_subtype(f))


def _speechlike(rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(rate * SECONDS)) / rate
    noise = np.random.default_rng(7).standard_normal((len(t), channels))
    tone = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.2 * np.sin(t)))[:, None]
    return (tone + 0.05 * noise) * np.hanning(len(t))[:, None]


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2)], ids=["16k-mono", "44k-stereo"])
@pytest.mark.parametrize("container", _writable())
def test_block_reads_equal_a_whole_read(
    tmp_path: Path, container: str, rate: int, channels: int
) -> None:
    path = tmp_path / f"talk.{container.lower()}"
    try:
        sf.write(path, _speechlike(rate, channels), rate, format=container)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        pytest.skip(f"soundfile cannot write {container} at {rate} Hz × {channels}: {exc}")
    source = FileSource(path)
    try:
        sent = b"".join(source.chunks(threading.Event()))
    finally:
        source.close()
    whole, native = sf.read(path, dtype="float64", always_2d=True)
    converter = Converter(native, source.format.sample_rate, 4096)
    expected = b"".join([*converter.feed(whole), *converter.finish()])
    assert len(sent) == len(expected)
    assert sent == expected, f"{container}: block reads differ from a whole read"
