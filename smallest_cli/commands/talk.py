"""`smallest talk`: a spoken conversation with Electron (a single command, not a group)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from smallest_cli.commands import COMMANDS
from smallest_cli.commands.options import (
    ContinueFlag,
    ConversationOption,
    MaxTokensOption,
    NoLogFlag,
    PlaybackDeviceOption,
    SystemOption,
    TemperatureOption,
    output_option,
    takes,
)

app = typer.Typer(help=COMMANDS["talk"], add_completion=False, rich_markup_mode=None)


@dataclass(frozen=True)
class TalkOptions:
    """`smallest talk`'s options as given; the job checks how they combine."""

    input: Annotated[
        str | None,
        typer.Option(
            "-i",
            "--input",
            metavar="FILE",
            help="Take your side from a recording (`-` = stdin) instead of the microphone; "
            "turns are cut at its silences.",
        ),
    ] = None
    output: Annotated[
        str | None,
        output_option("Write the answers' audio to FILE instead of playing them."),
    ] = None
    play: Annotated[bool, typer.Option("--play", help="Play the answers too (with -o).")] = False
    device: PlaybackDeviceOption = None
    mic_device: Annotated[
        str | None,
        typer.Option(
            "--mic-device", metavar="DEVICE", help="Input device (name or index) to listen on."
        ),
    ] = None
    transcript: Annotated[
        str | None,
        typer.Option(
            "--transcript",
            metavar="FILE",
            help="Write both sides with their times to FILE (.json: JSON, else text).",
        ),
    ] = None
    system: SystemOption = None
    continue_: ContinueFlag = False
    cid: ConversationOption = None
    voice: Annotated[
        str | None,
        typer.Option("--voice", help="Voice id of the answers. [env var: SMALLEST_VOICE]"),
    ] = None
    model: Annotated[
        str | None,
        typer.Option("--model", help="TTS model of the answers. [env var: SMALLEST_MODEL]"),
    ] = None
    speed: Annotated[
        float, typer.Option("--speed", min=0.5, max=2.0, help="Speaking rate, 0.5–2.")
    ] = 1.0
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Language you speak (realtime STT). [env var: SMALLEST_STT_LANGUAGE]",
        ),
    ] = None
    pause: Annotated[
        float,
        typer.Option(
            "--pause",
            metavar="SECONDS",
            min=0.1,
            max=5.0,
            help="Seconds of silence that end your turn.",
        ),
    ] = 0.5
    half_duplex: Annotated[
        bool,
        typer.Option(
            "--half-duplex",
            help="Stop listening while an answer plays (for rooms where the answer's "
            "echo would interrupt it).",
        ),
    ] = False
    temperature: TemperatureOption = None
    max_tokens: MaxTokensOption = None
    no_log: NoLogFlag = False


@app.command()
@takes(TalkOptions)
def talk(ctx: typer.Context, options: TalkOptions) -> None:
    """Talk with Electron: you speak, it answers out loud, and it listens again.

    Your turn ends after a short pause (--pause). Speak over an answer to interrupt it.
    What was heard goes to stderr, the answers' text to stdout. The conversation is
    stored like any chat (`smallest history`), so `smallest chat -c` continues it in text.
    Ctrl-C ends it, keeping the transcript and the history.

    Examples:

        $ smallest talk --system "Answer in one sentence"

        $ smallest talk --input questions.wav --output answers.wav --transcript talk.json
    """
    from smallest_cli.jobs.talk import run_talk

    run_talk(ctx.obj, options)
