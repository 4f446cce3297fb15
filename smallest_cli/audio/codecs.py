"""Samples in and out: bytes to floats and back, G.711, and cutting a stream into frames.

numpy and soundfile are imported inside the functions that need them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from smallest_cli.audio.formats import WavHeader

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Rechunker:
    """Cuts a byte stream into frames of `size` bytes (the last one may be shorter)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pending = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._pending += data
        while len(self._pending) >= self.size:
            yield bytes(self._pending[: self.size])
            del self._pending[: self.size]

    def flush(self) -> Iterator[bytes]:
        if self._pending:
            yield bytes(self._pending)
            self._pending.clear()


def to_linear16(samples: npt.NDArray[Any]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM (clipped, rounded)."""
    import numpy as np

    scaled = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


class Converter:
    """Float blocks (frames × channels) in; mono linear16 at the target rate out, in frames."""

    def __init__(self, rate_in: int, rate_out: int, frame_bytes: int) -> None:
        from smallest_cli.audio.resample import Resampler

        self._resampler = Resampler(rate_in, rate_out) if rate_in != rate_out else None
        self._chunks = Rechunker(frame_bytes)

    def feed(self, block: npt.NDArray[Any]) -> Iterator[bytes]:
        mono = block.mean(axis=1) if block.ndim == 2 else block
        if self._resampler is not None:
            mono = self._resampler.process(mono)
        yield from self._chunks.feed(to_linear16(mono))

    def finish(self) -> Iterator[bytes]:
        if self._resampler is not None:
            yield from self._chunks.feed(to_linear16(self._resampler.flush()))
        yield from self._chunks.flush()


def decode_frames(block: bytes, header: WavHeader) -> npt.NDArray[np.float64]:
    """Whole WAV frames as floats in [-1, 1], shaped frames × channels."""
    import numpy as np

    tag, bits = header.format_tag, header.bits
    if tag == 3:
        values = np.frombuffer(block, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
    elif tag in (6, 7):
        table = g711_table("alaw" if tag == 6 else "mulaw")
        values = table[np.frombuffer(block, dtype=np.uint8)]
    elif bits == 8:
        values = (np.frombuffer(block, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 16:
        values = np.frombuffer(block, dtype="<i2") / 32768.0
    elif bits == 24:
        raw = np.frombuffer(block, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        values = np.where(joined >= 1 << 23, joined - (1 << 24), joined) / float(1 << 23)
    else:
        values = np.frombuffer(block, dtype="<i4") / float(1 << 31)
    result: npt.NDArray[np.float64] = np.asarray(values, dtype=np.float64).reshape(
        -1, header.channels
    )
    return result


@functools.cache
def g711_table(law: str) -> npt.NDArray[np.float64]:
    """The 256 G.711 code values (`alaw` or `mulaw`) as floats in [-1, 1], as libsndfile
    decodes them (its RAW format with the ALAW or ULAW subtype)."""
    import io

    import numpy as np
    import soundfile

    data, _ = soundfile.read(
        io.BytesIO(bytes(range(256))),
        dtype="float64",
        format="RAW",
        subtype="ALAW" if law == "alaw" else "ULAW",
        samplerate=8000,
        channels=1,
    )
    table: npt.NDArray[np.float64] = np.asarray(data, dtype=np.float64)
    table.flags.writeable = False  # shared by every caller
    return table


def decode_clip(data: bytes) -> tuple[bytes, int]:
    """A whole audio file held in memory as 16-bit mono PCM and its sample rate.

    A ValueError says why libsndfile cannot read it.
    """
    import io

    import numpy as np
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise ValueError(str(exc)) from None
    mono = samples.mean(axis=1).astype(np.int16) if samples.shape[1] > 1 else samples[:, 0]
    return mono.tobytes(), int(rate)
