"""`smallest chat`: talk to Electron, Smallest AI's LLM (a single command, not a group)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from smallest_cli.commands import COMMANDS
from smallest_cli.commands.options import (
    ContinueFlag,
    ConversationOption,
    JsonFlag,
    MaxTokensOption,
    NoLogFlag,
    PlaybackDeviceOption,
    SystemOption,
    TemperatureOption,
    output_option,
    takes,
)

app = typer.Typer(help=COMMANDS["chat"], add_completion=False, rich_markup_mode=None)


@dataclass(frozen=True)
class ChatOptions:
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="What to ask; `-` reads stdin. Piped stdin with a prompt is the material "
            "the prompt is about. Without one, on a terminal: an interactive chat."
        ),
    ] = None
    system: SystemOption = None
    continue_: ContinueFlag = False
    cid: ConversationOption = None
    temperature: TemperatureOption = None
    top_p: Annotated[
        float | None,
        typer.Option(
            "--top-p", min=0, max=1, help="Nucleus sampling, 0–1. [env var: SMALLEST_CHAT_TOP_P]"
        ),
    ] = None
    max_tokens: MaxTokensOption = None
    stop: Annotated[
        list[str] | None,
        typer.Option("--stop", help="Stop the reply at this text (repeatable, at most 4)."),
    ] = None
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for repeatable replies (best effort).")
    ] = None
    json_object: Annotated[
        bool,
        typer.Option("--json-object", help="Ask for a JSON object; the reply is checked to parse."),
    ] = False
    usage: Annotated[bool, typer.Option("--usage", help="Print token usage on stderr.")] = False
    as_json: JsonFlag = False
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole reply instead of streaming.")
    ] = False
    no_log: NoLogFlag = False
    speak: Annotated[
        bool,
        typer.Option(
            "--speak", help="Speak the reply while it is written (the text still goes to stdout)."
        ),
    ] = False
    output: Annotated[
        str | None,
        output_option(
            "Save the spoken reply to FILE (format from the extension); implies --speak."
        ),
    ] = None
    play: Annotated[bool, typer.Option("--play", help="Play it too (with -o).")] = False
    device: PlaybackDeviceOption = None
    voice: Annotated[
        str | None,
        typer.Option("--voice", help="Voice id for --speak. [env var: SMALLEST_VOICE]"),
    ] = None
    model: Annotated[
        str | None,
        typer.Option("--model", help="TTS model for --speak. [env var: SMALLEST_MODEL]"),
    ] = None
    speed: Annotated[
        float, typer.Option("--speed", min=0.5, max=2.0, help="Speaking rate, 0.5–2.")
    ] = 1.0
    language: Annotated[
        str | None,
        typer.Option("--language", help="Language to speak in. [env var: SMALLEST_LANGUAGE]"),
    ] = None


@app.command()
@takes(ChatOptions)
def chat(ctx: typer.Context, options: ChatOptions) -> None:
    """Chat with Electron: the reply streams to stdout as it is written.

    Piped text is the material and the prompt the instruction; piped text alone is the
    prompt. Every exchange is stored in the chat history (see `smallest history`) unless
    --no-log. On a terminal with no prompt, an interactive chat starts: type /help there.
    With --json, the whole completion object (streamed: one chunk a line).

    Examples:

        $ smallest chat "Explain WebSockets in one line"

        $ git diff | smallest chat "Write a commit message for this"

        $ smallest chat -c "Shorter, please"

        $ smallest chat --json-object "Three colours as JSON"

        $ smallest chat --speak -o reply.wav "Say hello in one sentence"
    """
    from smallest_cli.jobs.chat import run_chat

    run_chat(ctx.obj, options)
