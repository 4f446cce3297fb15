"""`smallest tts`: speech from text with the Lightning models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from smallest_cli.choices import Transport
from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import (
    ExpireContentFlag,
    PlaybackDeviceOption,
    check_dictionary_ids,
    check_id,
    output_option,
    takes,
)

app = typer.Typer(help=GROUPS["tts"], no_args_is_help=True)


def complete_voice_id(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Voice ids from the cached catalog (no network), for shell completion."""
    from smallest_cli.jobs import voice_catalog

    return voice_catalog.complete_voice_id(ctx, incomplete)


def complete_dictionary(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Dictionary names and cached ids (no network), for shell completion."""
    from smallest_cli.jobs import dicts

    return dicts.complete_dictionary(ctx, incomplete)


@dataclass(frozen=True)
class SpeechOptions:
    """`tts say`'s options as given; `SpeechJob.build` resolves and checks them together."""

    text: Annotated[
        str | None, typer.Argument(help="Text to speak; `-` or a pipe reads stdin.")
    ] = None
    file: Annotated[
        str | None,
        typer.Option("-f", "--file", help="Read the text from a UTF-8 file (`-` = stdin)."),
    ] = None
    output: Annotated[
        str | None,
        output_option(
            "Write audio to FILE (format from the extension) or `-` for stdout. "
            "Default: play on a terminal, write WAV to a pipe."
        ),
    ] = None
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Audio format: wav, mp3, flac, ogg, pcm (raw), ulaw, alaw. [env var: SMALLEST_FORMAT]",
        ),
    ] = None
    play: Annotated[bool, typer.Option("--play", help="Play on the speakers too (with -o).")] = (
        False
    )
    device: PlaybackDeviceOption = None
    voice: Annotated[
        str | None,
        typer.Option(
            "--voice",
            help="Voice id (see `smallest voices list`). [env var: SMALLEST_VOICE; default: magnus]",
            autocompletion=complete_voice_id,
        ),
    ] = None
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="lightning_v3.1 or lightning_v3.1_pro (hyphens accepted). [env var: SMALLEST_MODEL]",
        ),
    ] = None
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Language code (en, hi, ta, …, or auto). [env var: SMALLEST_LANGUAGE]",
        ),
    ] = None
    speed: Annotated[
        float, typer.Option("--speed", min=0.5, max=2.0, help="Speaking rate, 0.5–2.")
    ] = 1.0
    sample_rate: Annotated[
        int | None,
        typer.Option(
            "--sample-rate",
            help="8000, 16000, 24000 or 44100. [env var: SMALLEST_SAMPLE_RATE; default: 44100]",
        ),
    ] = None
    dicts: Annotated[
        list[str] | None,
        typer.Option(
            "--dict",
            help="Pronunciation dictionary: an id or a local name (repeatable).",
            callback=check_dictionary_ids,
            autocompletion=complete_dictionary,
        ),
    ] = None
    number_language: Annotated[
        str | None,
        typer.Option("--number-language", help="Language for reading numbers, currency and dates."),
    ] = None
    math: Annotated[bool, typer.Option("--math", help="Read math operators (5 x 3) as words.")] = (
        False
    )
    request_id: Annotated[
        str | None,
        typer.Option(
            "--request-id", help="Your id for this request (echoed back).", callback=check_id
        ),
    ] = None
    session_id: Annotated[
        str | None,
        typer.Option("--session-id", help="Your session id (echoed back).", callback=check_id),
    ] = None
    expire_content: ExpireContentFlag = False
    transport: Annotated[
        Transport,
        typer.Option(
            "--transport",
            help="auto streams (SSE) when playing or piping and uses one request per chunk for files.",
        ),
    ] = Transport.AUTO
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", min=1, max=16, help="Chunks of long text synthesized at once."
        ),
    ] = 1
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Speak text from stdin as it arrives (WebSocket), e.g. from an LLM."
        ),
    ] = False
    timestamps: Annotated[
        str | None,
        typer.Option("--timestamps", help="Also write word timings to FILE (.srt, .vtt or .json)."),
    ] = None


@app.command()
@takes(SpeechOptions)
def say(ctx: typer.Context, options: SpeechOptions) -> None:
    """Speak text: play it, or write it to a file or a pipe.

    Long text is cut at sentence boundaries and stitched into one seamless stream. Files are
    written in full or not at all.

    Examples:

        $ smallest tts say "Hello from Lightning"

        $ smallest tts say -f chapter.txt -o chapter.mp3 --voice meher

        $ echo "Piped text" | smallest tts say -o - | ffplay -nodisp -autoexit -

        $ some-llm-command | smallest tts say --live
    """
    from smallest_cli.jobs.speak import SpeechJob

    SpeechJob.build(ctx.obj, options).run()
