"""Where audio goes: a file, stdout or the speakers, from -o, --format, --play and --device.

Shared by every command that makes audio (`tts say`, `voices preview`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from smallest_cli.audio.formats import AudioFormat, audio_format, format_for_path, headerless_note
from smallest_cli.errors import UsageError
from smallest_cli.files import STDOUT_NAMES, check_output

if TYPE_CHECKING:
    from smallest_cli.context import AppContext


@dataclass(frozen=True)
class Destination:
    """Where audio goes, as the user said it."""

    output: str | None = None
    format: str | None = None
    play: bool = False
    device: str | None = None


def note_headerless(
    obj: AppContext, path: str | None, fmt: AudioFormat | None, sample_rate: int
) -> None:
    """Tell (on stderr, unless --quiet) how to read back a file just written without a header."""
    note = headerless_note(path, fmt, sample_rate) if path and fmt else None
    if note is not None:
        obj.output.info(note)


def destinations(
    obj: AppContext, destination: Destination
) -> tuple[str | None, AudioFormat | None, AudioFormat | None, bool]:
    """(file path, its format, stdout format, play) for where the audio should go; a file
    that cannot be written is refused now, before any request."""
    output = obj.output
    file_output, file_format, stdout_format = None, None, None
    play = destination.play or destination.device is not None
    if destination.output is not None and os.path.abspath(destination.output) in STDOUT_NAMES:
        destination = replace(destination, output="-")
    if destination.output == "-" or (destination.output is None and not output.stdout_isatty):
        if output.stdout_isatty:
            raise UsageError(
                "refusing to write audio to a terminal",
                hint="redirect it (> speech.wav, | ffplay -) or drop -o - to play it",
            )
        stdout_format = audio_format(destination.format or str(obj.setting("format")))
    elif destination.output is not None:
        file_output = destination.output
        file_format = format_for_path(destination.output, destination.format)
        check_output(file_output)
    else:
        play = True
    return file_output, file_format, stdout_format, play
