"""Audio sinks: files appear whole or not at all, pipes stream, formats decode."""

from __future__ import annotations

import io
import os
import stat

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.audio.formats import FORMATS, audio_format, format_for_path, wav_stream_header
from smallest_cli.audio.sinks import Aligned, FileSink, StreamSink, Tee
from smallest_cli.errors import UsageError

RATE = 24000
TONE = (np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE) * 12000).astype(np.int16)


def feed(sink, pcm: bytes, size: int = 999) -> None:
    aligned = Aligned(sink)
    for i in range(0, len(pcm), size):  # odd chunk sizes on purpose
        aligned.write(pcm[i : i + size])
    aligned.close()


@pytest.mark.parametrize(
    ("name", "tolerance"), [("wav", 0), ("flac", 0), ("ogg", 900), ("mp3", 2500)]
)
def test_file_formats_decode_to_the_same_audio(tmp_path, name: str, tolerance: int) -> None:
    target = tmp_path / f"tone.{name}"
    feed(FileSink(target, FORMATS[name], RATE), TONE.tobytes())
    data, rate = sf.read(target, dtype="int16")
    assert rate == RATE
    assert data.ndim == 1
    assert abs(len(data) - RATE) <= 1200  # lossy codecs pad a frame or so
    assert sf.info(target).format == FORMATS[name].container
    if tolerance == 0:
        assert np.array_equal(data, TONE)
    assert [p.name for p in tmp_path.iterdir()] == [f"tone.{name}"]


@pytest.mark.parametrize(("name", "subtype"), [("ulaw", "ULAW"), ("alaw", "ALAW")])
def test_telephony_codecs(tmp_path, name: str, subtype: str) -> None:
    target = tmp_path / f"t.{name}"
    feed(FileSink(target, FORMATS[name], 8000), TONE[:8000].tobytes())
    assert target.stat().st_size == 8000  # one byte a sample
    data, _ = sf.read(
        target, dtype="int16", format="RAW", subtype=subtype, samplerate=8000, channels=1
    )
    assert np.max(np.abs(data.astype(int) - TONE[:8000])) < 600


def test_raw_pcm_is_exact_and_permissions_follow_umask(tmp_path) -> None:
    target = tmp_path / "t.pcm"
    feed(FileSink(target, FORMATS["pcm"], RATE), TONE.tobytes())
    assert target.read_bytes() == TONE.tobytes()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_abort_leaves_no_file_and_keeps_the_old_one(tmp_path) -> None:
    target = tmp_path / "keep.wav"
    target.write_bytes(b"precious")
    sink = FileSink(target, FORMATS["wav"], RATE)
    sink.write(TONE.tobytes())
    sink.abort()
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_file_sink_refuses_bad_targets(tmp_path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        FileSink(tmp_path, FORMATS["wav"], RATE)
    with pytest.raises(UsageError, match="does not exist"):
        FileSink(tmp_path / "nope" / "x.wav", FORMATS["wav"], RATE)


def test_streamed_wav_decodes_in_full() -> None:
    pipe = io.BytesIO()
    sink = StreamSink(FORMATS["wav"], RATE, stream=pipe)
    feed(sink, TONE.tobytes())
    raw = pipe.getvalue()
    assert raw[:44] == wav_stream_header(RATE)
    assert raw.count(b"RIFF") == 1
    data, rate = sf.read(io.BytesIO(raw), dtype="int16")
    assert rate == RATE and np.array_equal(data, TONE)


def test_tee_feeds_every_sink(tmp_path) -> None:
    pipe = io.BytesIO()
    feed(
        Tee(
            StreamSink(FORMATS["pcm"], RATE, stream=pipe),
            FileSink(tmp_path / "a.wav", FORMATS["wav"], RATE),
        ),
        TONE.tobytes(),
    )
    assert pipe.getvalue() == TONE.tobytes()
    assert sf.read(tmp_path / "a.wav", dtype="int16")[0].tobytes() == TONE.tobytes()


@pytest.mark.parametrize(
    ("path", "explicit", "name"),
    [
        ("a.wav", None, "wav"),
        ("b.MP3", None, "mp3"),
        ("c.raw", None, "pcm"),
        ("d.ul", None, "ulaw"),
        ("e.bin", "alaw", "alaw"),
        ("f.oga", None, "ogg"),
    ],
)
def test_format_for_path(path: str, explicit: str | None, name: str) -> None:
    assert format_for_path(path, explicit).name == name


def test_unknown_formats_name_the_choices() -> None:
    with pytest.raises(UsageError) as caught:
        format_for_path("speech.aiff", None)
    assert ".wav" in (caught.value.hint or "") and "--format" in (caught.value.hint or "")
    with pytest.raises(UsageError, match="unknown audio format 'm4a'"):
        audio_format("m4a")
