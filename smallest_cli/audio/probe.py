"""What an input is, judged locally before anything is sent: one check for `stt transcribe`
and `stt live`, so the same bad, empty or headerless input gets the same message and exit
code from both.

A file is refused when it is missing, a directory, unreadable or empty; when its name says
a container (`.wav`, `.flac`, `.mp3`, …) its first bytes do not start; when it is a WAV
that ends with its header; and when it has no header and nothing says how to read it. A
file or stream is headerless when --encoding says so or its name does (`.pcm`, `.raw`,
`.ulaw`, `.alaw`), or, on stdin only, when its first bytes start no container; headerless
audio needs --sample-rate (`raw_format`). No audio library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from smallest_cli.audio.formats import (
    CONTAINER_EXTENSIONS,
    RAW_EXTENSIONS,
    StreamFormat,
    raw_format,
    sniff,
)
from smallest_cli.errors import UsageError

HEAD_BYTES = 16  # enough for `sniff`
UNSNIFFABLE_EXTENSIONS = (".aac",)  # ADTS has no magic `sniff` knows; the API reads it
EMPTY_HINT = "there is no audio to transcribe"
HEADERLESS_HINT = (
    "give audio in WAV, FLAC, OGG, MP3 or AIFF; for headerless audio give --encoding "
    "and --sample-rate"
)


@dataclass(frozen=True)
class Probe:
    """What the input is: a container the decoder reads, or headerless audio as described."""

    container: str | None  # "WAV", "FLAC", "MP3", … (None: headerless)
    raw: StreamFormat | None = None  # headerless: how to read it
    encoding_ignored: bool = False  # --encoding was given, but the input has a header


def probe_file(path: str, *, encoding: str | None, rate: int | None) -> Probe:
    """Judge the file at `path` from its name and first bytes; a UsageError says what is
    wrong with it."""
    target = Path(path)
    try:
        if target.is_dir():
            raise UsageError(f"{path} is a directory", hint="give audio files, not folders")
        size = target.stat().st_size
        with target.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            wav_audio = _wav_audio_bytes(handle, size) if head[:4] == b"RIFF" else None
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except PermissionError:
        raise UsageError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise UsageError(f"{path} is empty", hint=EMPTY_HINT)
    suffix = target.suffix.lower()
    raw_kind = encoding or RAW_EXTENSIONS.get(suffix)
    container = sniff(head, frame_sync=raw_kind is None)
    if container is not None:
        if wav_audio == 0:
            raise UsageError(f"{path} has a WAV header but no audio after it", hint=EMPTY_HINT)
        return Probe(container, encoding_ignored=encoding is not None)
    if raw_kind is not None:
        return Probe(None, raw_format(raw_kind, rate, path))
    if suffix in UNSNIFFABLE_EXTENSIONS:
        return Probe(suffix[1:].upper())
    if suffix in CONTAINER_EXTENSIONS:
        raise UsageError(
            f"{path} is not {suffix[1:].upper()} audio: it does not start like one",
            hint=HEADERLESS_HINT,
        )
    raise UsageError(f"{path} has no audio header to say what it holds", hint=HEADERLESS_HINT)


def probe_head(head: bytes, *, encoding: str | None, rate: int | None) -> Probe:
    """Judge stdin from its first bytes: a container, or headerless audio as described."""
    if not head:
        raise UsageError("stdin is empty", hint=EMPTY_HINT)
    if encoding is not None:
        return Probe(None, raw_format(encoding, rate, "stdin"))
    container = sniff(head)
    if container is not None:
        return Probe(container)
    return Probe(None, raw_format(None, rate, "stdin"))


def _wav_audio_bytes(handle: BinaryIO, size: int) -> int | None:
    """Bytes of audio a RIFF/WAVE file holds after its header (None: cannot tell)."""
    from smallest_cli.audio.sources import ByteInput, read_wav_header

    handle.seek(0)
    data = ByteInput(handle)
    try:
        read_wav_header(data)
    except UsageError:
        return None  # libsndfile or the API will say what is wrong with it
    return size - (handle.tell() - data.buffered)
