"""The local checks and conversion of a voice-cloning sample (audio/sample.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from smallest_cli.audio.sample import MAX_BYTES, sample_from_file, sample_from_pcm
from smallest_cli.errors import UsageError
from tests.clone_audio import speechy, write


def decoded(data: bytes) -> tuple[Any, int]:
    samples, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return samples, rate


def test_a_clean_wav_goes_as_it_is(tmp_path: Path) -> None:
    path = write(tmp_path / "me.wav", speechy(8))
    sample = sample_from_file(path)
    assert sample.data == Path(path).read_bytes()
    assert (sample.filename, sample.mime) == ("me.wav", "audio/wav")
    assert sample.seconds == pytest.approx(8, abs=0.01)
    assert sample.notes == () and sample.warnings == ()


def test_an_mp3_goes_as_it_is(tmp_path: Path) -> None:
    path = write(tmp_path / "me.mp3", speechy(8), format="MP3")
    sample = sample_from_file(path)
    assert sample.mime == "audio/mpeg" and sample.data == Path(path).read_bytes()


@pytest.mark.parametrize(("name", "kind"), [("me.flac", "FLAC"), ("me.ogg", "OGG")])
def test_flac_and_ogg_become_a_trimmed_mono_wav(tmp_path: Path, name: str, kind: str) -> None:
    stereo = np.column_stack([speechy(8, lead=2, tail=2)] * 2)
    path = write(tmp_path / name, stereo)
    sample = sample_from_file(path)
    assert (sample.filename, sample.mime) == ("me.wav", "audio/wav")
    samples, rate = decoded(sample.data)
    assert samples.shape[1] == 1 and rate == 24000
    assert 8 <= len(samples) / rate <= 8.5  # the 4 s of silence are gone
    assert any("2 channels" in n for n in sample.notes)
    assert any(f"is {kind}" in n and "trimmed" in n for n in sample.notes)


def test_headerless_pcm_needs_and_uses_a_rate(tmp_path: Path) -> None:
    path = tmp_path / "me.raw"
    path.write_bytes((speechy(6, 16000) * 32767).astype("<i2").tobytes())
    with pytest.raises(UsageError, match="headerless PCM, which does not say its sample rate"):
        sample_from_file(str(path))
    sample = sample_from_file(str(path), sample_rate=16000)
    samples, rate = decoded(sample.data)
    assert rate == 16000 and 6 <= len(samples) / rate <= 6.3


def test_over_5_mb_becomes_a_wav_that_fits(tmp_path: Path) -> None:
    stereo = np.column_stack([speechy(12, 96000)] * 2)
    path = write(tmp_path / "big.wav", stereo, 96000, subtype="PCM_24")
    assert Path(path).stat().st_size > MAX_BYTES
    sample = sample_from_file(path)
    assert len(sample.data) <= MAX_BYTES and sample.mime == "audio/wav"
    samples, rate = decoded(sample.data)
    assert rate == 48000 and samples.shape[1] == 1
    assert any("over 5 MB" in n for n in sample.notes)


def test_a_long_sample_becomes_an_mp3_that_fits(tmp_path: Path) -> None:
    path = write(tmp_path / "long.wav", speechy(70, 44100), 44100)
    assert Path(path).stat().st_size > MAX_BYTES
    sample = sample_from_file(path)
    assert sample.mime == "audio/mpeg" and sample.filename == "long.mp3"
    assert len(sample.data) <= MAX_BYTES
    assert any("5 to 15 s" in w for w in sample.warnings)


@pytest.mark.parametrize(
    ("seconds", "warning"), [(4, "only 4"), (17, "17.")], ids=["short", "long"]
)
def test_lengths_outside_5_to_15_s_warn(tmp_path: Path, seconds: float, warning: str) -> None:
    sample = sample_from_file(write(tmp_path / "me.wav", speechy(seconds)))
    assert len(sample.warnings) == 1 and warning in sample.warnings[0]


def test_under_3_s_of_speech_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"only 2\.\d s of speech"):
        sample_from_file(write(tmp_path / "me.wav", speechy(2, lead=1, tail=1)))


def test_mostly_silence_is_refused(tmp_path: Path) -> None:
    t = np.arange(24000 * 10) / 24000
    sparse = 0.4 * np.sin(2 * np.pi * 180 * t) * ((t % 2.5) < 0.2)
    with pytest.raises(UsageError, match="mostly silence"):
        sample_from_file(write(tmp_path / "me.wav", sparse))


def test_silence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="silent"):
        sample_from_file(write(tmp_path / "me.wav", np.zeros(24000 * 8)))


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"", "is empty"), (b"hello, not audio at all", "not an audio file")],
)
def test_bad_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "me.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        sample_from_file(str(path))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        sample_from_file(str(tmp_path))


def test_mp4_goes_unchecked_but_not_over_5_mb(tmp_path: Path) -> None:
    small = tmp_path / "me.mp4"
    small.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 1000)
    sample = sample_from_file(str(small))
    assert sample.mime == "audio/mp4" and sample.seconds is None
    assert "could not be checked" in sample.notes[0]
    big = tmp_path / "big.webm"
    big.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * MAX_BYTES)
    with pytest.raises(UsageError, match="at most 5 MB"):
        sample_from_file(str(big))


def test_a_recording_is_trimmed_into_a_wav() -> None:
    sample = sample_from_pcm(speechy(6, 16000, lead=1.5, tail=1.5), 16000, "take")
    samples, rate = decoded(sample.data)
    assert sample.filename == "take.wav" and rate == 16000
    assert 6 <= len(samples) / rate <= 6.4


def test_a_flac_without_its_length_is_refused_in_one_line(tmp_path: Path) -> None:
    """A FLAC streamed to a pipe has no length in its header (libsndfile reads it as endless)."""
    path = tmp_path / "piped.flac"
    soundfile.write(str(path), speechy(6, 16000), 16000)
    data = bytearray(path.read_bytes())
    data[21] &= 0xF0  # STREAMINFO's 36-bit total samples (offset 21.5): 0, unknown
    data[22:26] = bytes(4)
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="does not say how long it is"):
        sample_from_file(str(path))
