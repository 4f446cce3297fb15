"""Audio in (smallest_cli/audio/): decoding, sniffing, streaming WAV, resampling."""

from __future__ import annotations

import io
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smallest_cli.audio.codecs import Rechunker, to_linear16
from smallest_cli.audio.formats import (
    CHUNK_BYTES,
    StreamFormat,
    check_rate,
    sniff,
    wav_stream_header,
)
from smallest_cli.audio.resample import Resampler, resample
from smallest_cli.audio.sources import (
    ByteInput,
    FileSource,
    RawSource,
    WavStream,
    open_file,
    open_stdin,
)
from smallest_cli.emulator.speech import Synthesis
from smallest_cli.errors import UsageError

NEVER = threading.Event()


class Pipe(io.RawIOBase):
    """A non-seekable stream that hands out its bytes in small, uneven pieces, like a pipe."""

    def __init__(self, data: bytes, piece: int = 999) -> None:
        self._data = memoryview(data)
        self._position = 0
        self._piece = piece

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[override]
        size = min(len(buffer), self._piece, len(self._data) - self._position)
        buffer[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


def pipe(data: bytes, piece: int = 999) -> io.BufferedReader:
    return io.BufferedReader(Pipe(data, piece))


def tone(rate: int, seconds: float, hz: float, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(rate * seconds)) / rate)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def joined(source) -> bytes:
    chunks = list(source.chunks(NEVER))
    assert all(0 < len(c) <= CHUNK_BYTES for c in chunks)
    return b"".join(chunks)


# -- resampling ---------------------------------------------------------------------------


RATE_PAIRS = [
    (44100, 16000),
    (48000, 16000),
    (22050, 16000),
    (11025, 16000),
    (8000, 16000),
    (16000, 24000),
    (32000, 22050),
    (44101, 16000),  # an odd ratio: the interpolated filter table
]


@pytest.mark.parametrize(("rate_in", "rate_out"), RATE_PAIRS)
def test_a_tone_keeps_its_frequency_duration_and_level(rate_in: int, rate_out: int) -> None:
    seconds, hz = 1.5, 1000.0
    out = resample(tone(rate_in, seconds, hz), rate_in, rate_out)
    assert len(out) == -(-int(rate_in * seconds) * rate_out // rate_in)
    assert abs(peak_hz(out, rate_out) - hz) < 1.0
    ideal = tone(rate_out, len(out) / rate_out, hz)
    edge = rate_out // 100  # the filter rings at the very start and end (silence outside)
    assert np.max(np.abs(out[edge:-edge] - ideal[edge:-edge])) < 1e-4


@pytest.mark.parametrize(("rate_in", "rate_out"), RATE_PAIRS)
def test_blocks_join_without_a_seam(rate_in: int, rate_out: int) -> None:
    """Fed in uneven blocks, the stream equals the one-shot result sample for sample."""
    signal = tone(rate_in, 1.0, 440.0) + 0.2 * tone(rate_in, 1.0, 3000.0)
    whole = resample(signal, rate_in, rate_out)
    resampler = Resampler(rate_in, rate_out)
    rng = np.random.default_rng(7)
    pieces, position = [], 0
    while position < len(signal):
        size = int(rng.integers(1, 3000))
        pieces.append(resampler.process(signal[position : position + size]))
        position += size
    pieces.append(resampler.flush())
    streamed = np.concatenate(pieces)
    assert len(streamed) == len(whole)
    assert np.array_equal(streamed, whole)
    # and no click anywhere: the largest step is the tone's own
    steps = np.abs(np.diff(streamed[rate_out // 100 : -rate_out // 100]))
    assert steps.max() < 1.1 * np.abs(np.diff(resample(signal, rate_in, rate_out))).max()


def test_frequencies_above_the_new_nyquist_are_removed() -> None:
    out = resample(tone(44100, 1.0, 6000.0), 44100, 8000)  # 6 kHz cannot exist at 8 kHz
    assert np.sqrt(np.mean(out[100:-100] ** 2)) < 1e-3  # > 50 dB down, no 2 kHz alias


def test_dc_and_silence_pass_unchanged() -> None:
    out = resample(np.full(48000, 0.25), 48000, 16000)
    assert np.allclose(out[200:-200], 0.25, atol=1e-9)
    assert not resample(np.zeros(1000), 16000, 22050).any()


def test_equal_rates_are_a_copy_and_flush_once() -> None:
    resampler = Resampler(16000, 16000)
    block = np.arange(10) / 10
    assert np.array_equal(resampler.process(block), block)
    assert len(resampler.flush()) == 0
    with pytest.raises(RuntimeError):
        resampler.process(block)


def test_linear16_is_rounded_and_clipped() -> None:
    data = to_linear16(np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0]))
    assert np.frombuffer(data, "<i2").tolist() == [0, 16384, -16384, 32767, -32768, 32767, -32768]


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW"])
def test_a_g711_wav_stream_decodes_as_libsndfile_reads_the_file(
    tmp_path: Path, subtype: str
) -> None:
    path = tmp_path / "g711.wav"
    sf.write(path, tone(8000, 0.5, 440), 8000, subtype=subtype)
    expected = sf.read(path, dtype="int16")[0].tobytes()
    source = open_stdin(pipe(path.read_bytes()), encoding=None, rate=None)
    assert isinstance(source, WavStream)
    assert joined(source) == expected


# -- chunking and formats -----------------------------------------------------------------


def test_rechunker_cuts_into_equal_frames() -> None:
    chunks = Rechunker(4)
    out = [*chunks.feed(b"abcdefg"), *chunks.feed(b"hi"), *chunks.flush()]
    assert out == [b"abcd", b"efgh", b"i"]


@pytest.mark.parametrize(
    ("fmt", "paced", "size"),
    [
        (StreamFormat("linear16", 16000), False, 4096),
        (StreamFormat("linear16", 16000), True, 3200),  # 100 ms
        (StreamFormat("linear16", 48000), True, 4096),
        (StreamFormat("mulaw", 8000), True, 800),
        (StreamFormat("linear32", 22050), True, 4096),
    ],
)
def test_frame_sizes(fmt: StreamFormat, paced: bool, size: int) -> None:
    assert fmt.chunk_bytes(paced) == size
    assert size % fmt.sample_width == 0


def test_silence_in_each_encoding() -> None:
    assert StreamFormat("linear16", 16000).silence(0.5) == bytes(16000)
    assert set(StreamFormat("mulaw", 8000).silence(1)) == {0xFF}
    assert set(StreamFormat("alaw", 8000).silence(1)) == {0xD5}


# -- sniffing stdin -----------------------------------------------------------------------


def encoded(fmt: str, subtype: str, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(rate, 0.5, 440), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype", "expected"),
    [
        ("WAV", "PCM_16", "WAV"),
        ("FLAC", "PCM_16", "FLAC"),
        ("OGG", "VORBIS", "OGG"),
        ("MP3", "MPEG_LAYER_III", "MP3"),
        ("AIFF", "PCM_16", "AIFF"),
    ],
)
def test_containers_are_recognised_by_their_first_bytes(fmt, subtype, expected) -> None:
    assert sniff(encoded(fmt, subtype)[:12]) == expected


def test_raw_audio_is_not_mistaken_for_a_container() -> None:
    rng = np.random.default_rng(3)
    quiet = (rng.normal(0, 2, 16000)).astype("<i2").tobytes()  # dither around 0: bytes 0xFF…
    assert sniff(bytes(12)) is None
    assert sniff(b"\xff\xff" * 6) is None  # -1 samples look like an MPEG sync word
    assert sum(sniff(quiet[i : i + 12]) is not None for i in range(0, len(quiet), 2)) == 0
    assert sniff(b"ID3\x04" + bytes(8)) == "MP3"


def test_mp3_by_frame_sync_alone_can_be_left_out() -> None:
    mp3 = encoded("MP3", "MPEG_LAYER_III")
    mulaw_near_silence = b"\xff\xf3\xe5\xfd" + bytes(8)  # passes for an MPEG frame header
    assert mp3[:3] != b"ID3" and sniff(mp3[:12]) == "MP3"
    assert sniff(mulaw_near_silence) == "MP3"
    assert sniff(mp3[:12], frame_sync=False) is None
    assert sniff(mulaw_near_silence, frame_sync=False) is None
    assert sniff(encoded("WAV", "PCM_16")[:12], frame_sync=False) == "WAV"


def test_containers_that_cannot_be_decoded_are_still_recognised() -> None:
    m4a = b"\x00\x00\x00\x20ftypM4A " + bytes(40)
    webm = b"\x1a\x45\xdf\xa3" + bytes(40)
    assert (sniff(m4a), sniff(webm)) == ("M4A", "WEBM")
    for data in (m4a, webm):
        with pytest.raises(UsageError, match="cannot be decoded here"):
            open_stdin(pipe(data), encoding=None, rate=None)


# -- streaming WAV from a pipe ------------------------------------------------------------


def test_a_streaming_wav_from_tts_say_passes_through_sample_for_sample() -> None:
    pcm = Synthesis("Piped speech is read as it arrives.", sample_rate=24000).pcm()
    source = open_stdin(pipe(wav_stream_header(24000) + pcm), encoding=None, rate=None)
    assert isinstance(source, WavStream)
    assert source.format == StreamFormat("linear16", 24000)
    assert source.header.data_size is None  # 0xFFFFFFFF: until the end
    assert joined(source) == pcm


def test_a_wav_header_with_other_chunks_and_a_real_size() -> None:
    pcm = (np.arange(1000) % 200 - 100).astype("<i2").tobytes()
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 16000, 32000, 2, 16)
    listing = struct.pack("<4sI", b"LIST", 5) + b"abcde\x00"  # odd size: padded
    data = struct.pack("<4sI", b"data", len(pcm)) + pcm
    riff = b"RIFF" + struct.pack("<I", 4 + len(fmt) + len(listing) + len(data)) + b"WAVE"
    trailer = b"junkjunk"  # after the declared data: not audio
    source = open_stdin(pipe(riff + fmt + listing + data + trailer, 7), encoding=None, rate=None)
    assert joined(source) == pcm


def test_a_stereo_24_bit_wav_stream_is_mixed_and_resampled(tmp_path: Path) -> None:
    left, right = tone(44100, 1.0, 500), tone(44100, 1.0, 1500, 0.3)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_24")
    raw = path.read_bytes()
    raw = raw[:4] + b"\xff\xff\xff\xff" + raw[8:]  # as if written to a pipe
    source = open_stdin(pipe(raw), encoding=None, rate=None)
    assert source.format == StreamFormat("linear16", 44100)
    assert "stereo → mono 44100 Hz" in source.description
    resampled = open_stdin(pipe(raw), encoding=None, rate=16000)
    assert resampled.format.sample_rate == 16000
    got = np.frombuffer(joined(resampled), "<i2") / 32768
    expected = resample((left + right) / 2, 44100, 16000)
    assert len(got) == len(expected)
    assert np.max(np.abs(got - expected)) < 2e-4  # 24-bit → 16-bit rounding only


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")]
)
def test_compressed_containers_on_stdin_are_spooled_and_decoded(fmt: str, subtype: str) -> None:
    data = encoded(fmt, subtype, 24000)
    source = open_stdin(pipe(data), encoding=None, rate=None)
    try:
        assert isinstance(source, FileSource)
        assert source.format == StreamFormat("linear16", 24000)
        samples = np.frombuffer(joined(source), "<i2")
        assert abs(len(samples) - 12000) < 2000  # MP3 adds encoder padding
        assert abs(peak_hz(samples / 32768, 24000) - 440) < 3
    finally:
        source.close()


def test_raw_stdin_is_described_by_the_options_and_noted() -> None:
    notes: list[str] = []
    pcm = bytes(range(256)) * 40
    source = open_stdin(pipe(pcm, 300), encoding=None, rate=24000, note=notes.append)
    assert isinstance(source, RawSource)
    assert source.format == StreamFormat("linear16", 24000)
    assert joined(source) == pcm
    assert "raw linear16 at 24000 Hz" in notes[0]
    told = open_stdin(pipe(b"RIFF" + pcm), encoding="mulaw", rate=8000, note=notes.append)
    assert told.format == StreamFormat("mulaw", 8000)  # --encoding: no sniffing at all
    assert joined(told) == b"RIFF" + pcm and len(notes) == 1


@pytest.mark.parametrize("encoding", [None, "linear16", "mulaw", "alaw"])
def test_raw_stdin_without_a_rate_is_a_usage_error(encoding: str | None) -> None:
    with pytest.raises(UsageError, match="^stdin has no header to say its sample rate: ") as e:
        open_stdin(pipe(bytes(1000)), encoding=encoding, rate=None)
    assert "--sample-rate" in str(e.value) and "44100" in (e.value.hint or "")


def test_a_pipe_sends_what_has_arrived_in_whole_samples() -> None:
    source = RawSource(
        pipe(bytes(1001), 333).read1, StreamFormat("linear16", 16000), name="p", live=True
    )
    chunks = list(source.chunks(NEVER))
    assert all(len(c) % 2 == 0 for c in chunks[:-1])
    assert sum(map(len, chunks)) == 1001


def test_empty_stdin_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="stdin is empty"):
        open_stdin(pipe(b""), encoding=None, rate=None)


def test_broken_wav_streams_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="ended before its audio"):
        open_stdin(pipe(wav_stream_header(16000)[:12]), encoding=None, rate=None)
    with pytest.raises(UsageError, match="broken fmt chunk"):
        open_stdin(pipe(wav_stream_header(16000)[:30]), encoding=None, rate=None)
    float16 = bytearray(wav_stream_header(16000))
    struct.pack_into("<H", float16, 20, 3)  # float with 16 bits per sample
    with pytest.raises(UsageError, match="cannot be decoded"):
        open_stdin(pipe(bytes(float16)), encoding=None, rate=None)


def test_byte_input_peeks_without_losing_bytes() -> None:
    data = ByteInput(pipe(b"0123456789", 3))
    assert data.peek(5) == b"01234"
    assert data.read_exact(7) == b"0123456"
    assert data.read_exact(7) == b"789"


# -- files --------------------------------------------------------------------------------


def test_a_16_bit_mono_file_at_a_supported_rate_is_sent_as_it_is(tmp_path: Path) -> None:
    pcm = Synthesis("Files go out unchanged.", sample_rate=22050).pcm()
    path = tmp_path / "f.wav"
    sf.write(path, np.frombuffer(pcm, "<i2"), 22050, subtype="PCM_16")
    source = open_file(str(path), encoding=None, rate=None)
    assert source.format == StreamFormat("linear16", 22050)
    assert joined(source) == pcm
    assert source.description == f"{path} (WAV, 22050 Hz, mono)"


def test_an_unsupported_rate_goes_to_16k(tmp_path: Path) -> None:
    path = tmp_path / "f.flac"
    sf.write(path, tone(11025, 1.0, 700), 11025, subtype="PCM_16")
    source = open_file(str(path), encoding=None, rate=None)
    assert source.format == StreamFormat("linear16", 16000)
    samples = np.frombuffer(joined(source), "<i2")
    assert len(samples) == 16000
    assert abs(peak_hz(samples / 32768, 16000) - 700) < 1.5


@pytest.mark.parametrize(
    ("suffix", "encoding"),
    [(".pcm", "linear16"), (".raw", "linear16"), (".ulaw", "mulaw"), (".alaw", "alaw")],
)
def test_raw_files_by_extension(tmp_path: Path, suffix: str, encoding: str) -> None:
    path = tmp_path / f"a{suffix}"
    path.write_bytes(bytes(10000))
    source = open_file(str(path), encoding=None, rate=22050)
    assert source.format == StreamFormat(encoding, 22050)
    assert joined(source) == bytes(10000)
    source.close()
    with pytest.raises(UsageError, match="has no header to say its sample rate: .*--sample-rate"):
        open_file(str(path), encoding=None, rate=None)


def test_files_that_are_not_audio_are_usage_errors(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(UsageError, match="notes.txt has no audio header to say what it holds"):
        open_file(str(text), encoding=None, rate=None)
    with pytest.raises(UsageError, match="no such file"):
        open_file(str(tmp_path / "missing.wav"), encoding=None, rate=None)
    with pytest.raises(UsageError, match="is a directory"):
        open_file(str(tmp_path), encoding=None, rate=None)


@pytest.mark.parametrize("rate", [12345, 0])
def test_unsupported_send_rates_are_refused(rate: int) -> None:
    with pytest.raises(UsageError, match="8000, 16000, 22050, 24000, 44100, 48000"):
        check_rate(rate)


def test_stop_ends_a_source_early(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, tone(16000, 5.0, 300), 16000, subtype="PCM_16")
    stop = threading.Event()
    source = open_file(str(path), encoding=None, rate=None)
    received = 0
    for chunk in source.chunks(stop):
        received += len(chunk)
        stop.set()
    assert received < 5 * 32000
