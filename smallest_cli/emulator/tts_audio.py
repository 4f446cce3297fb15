"""TTS audio on the wire: output formats, ~20 ms chunks, and paced release.

Formats (REFERENCE §6.1; observed/baseline-lightning-tts.json): `pcm` is raw little-endian
int16 mono with no header, `wav` a RIFF file of 16-bit mono PCM, `mp3` MPEG layer III frames,
`ulaw` / `alaw` raw 8-bit G.711 samples, all at the requested sample rate.

Streams are cut into 20 ms chunks of audio (the live SSE stream sent 128 chunks for 2.7 s of
24 kHz PCM, about 960 bytes each). `pcm`, `ulaw` and `alaw` chunks are plain slices of the
stream; a `wav` or `mp3` chunk is a complete little file of its own (REFERENCE §6.3: "add
per-chunk framing bytes"; the live MP3 stream was three times the size of the sync MP3).

Synthesis is done one word at a time in a worker thread, so a stream's first chunk goes out
before the rest exists and the event loop is never held up by numpy or the MP3 encoder.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import numpy as np

from smallest_cli.emulator.speech import Synthesis
from smallest_cli.emulator.state import Pacing

CHUNK_SECONDS = 0.020

_SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ulaw": ("RAW", "ULAW"),
    "alaw": ("RAW", "ALAW"),
}


def encode(samples: np.ndarray, sample_rate: int, output_format: str) -> bytes:
    """int16 mono samples in `output_format` (pcm, wav, mp3, ulaw or alaw)."""
    if output_format == "pcm":
        return samples.astype("<i2").tobytes()
    import soundfile

    container, subtype = _SOUNDFILE_FORMATS[output_format]
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format=container, subtype=subtype)
    return buffer.getvalue()


@dataclass(frozen=True)
class Chunk:
    """A piece of a stream: where it starts in the clip, how long it is, its bytes."""

    start: float
    frames: int
    payload: bytes


class ChunkedAudio:
    """The audio of one synthesis as ~20 ms chunks in an output format."""

    def __init__(self, synthesis: Synthesis, output_format: str = "pcm") -> None:
        self.synthesis = synthesis
        self.output_format = output_format
        self.chunk_frames = max(1, round(synthesis.sample_rate * CHUNK_SECONDS))

    def batches(self) -> Iterator[list[Chunk]]:
        """The chunks, a batch per spoken word or pause (some batches may be empty)."""
        pending = np.zeros(0, dtype=np.int16)
        position = 0
        for block in self.synthesis.blocks():
            pending = np.concatenate([pending, block])
            whole = len(pending) - len(pending) % self.chunk_frames
            batch = self._cut(pending[:whole], position)
            pending, position = pending[whole:], position + whole
            yield batch
        if len(pending):
            yield self._cut(pending, position)

    def _cut(self, samples: np.ndarray, position: int) -> list[Chunk]:
        rate = self.synthesis.sample_rate
        return [
            Chunk(
                (position + offset) / rate,
                len(piece),
                encode(piece, rate, self.output_format),
            )
            for offset in range(0, len(samples), self.chunk_frames)
            for piece in (samples[offset : offset + self.chunk_frames],)
        ]


def _next_batch(batches: Iterator[list[Chunk]]) -> list[Chunk] | None:
    return next(batches, None)


async def paced_chunks(audio: ChunkedAudio, pacing: Pacing, started: float) -> AsyncIterator[Chunk]:
    """The chunks, each released when `pacing` says (`started`: the loop time of the request)."""
    batches = audio.batches()
    while True:
        batch = await asyncio.to_thread(_next_batch, batches)
        if batch is None:
            return
        for chunk in batch:
            await sleep_until(started + pacing.release_at(chunk.start))
            yield chunk


async def sleep_until(when: float) -> None:
    """Sleep until the event loop's clock reads `when` (at once if it already does).

    Always yields to the loop: unpaced, a stream would otherwise write chunk after chunk
    without ever learning that its client has gone (asyncio then logs "socket.send() raised
    exception." for each write), and the disconnect that ends the stream would wait."""
    await asyncio.sleep(max(when - asyncio.get_running_loop().time(), 0))


async def whole_clip(synthesis: Synthesis, output_format: str) -> bytes:
    """The whole clip in one piece (for the sync route), made in a worker thread."""

    def render() -> bytes:
        samples = np.frombuffer(synthesis.pcm(), dtype=np.int16)
        return encode(samples, synthesis.sample_rate, output_format)

    return await asyncio.to_thread(render)
