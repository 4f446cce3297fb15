"""`smallest stt`: transcripts from speech with the Pulse models.

`transcribe` is here; realtime commands register themselves on the same `app` from their
own modules (`stt live` in commands/stt_live.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from smallest_cli.api.constants import STT_REQUESTS_PER_MINUTE
from smallest_cli.choices import Route
from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import (
    DiarizeFlag,
    ExpireContentFlag,
    RedactOption,
    WordTimestampsFlag,
    check_http_url,
    output_option,
    takes,
)

app = typer.Typer(help=GROUPS["stt"], no_args_is_help=True)


@dataclass(frozen=True)
class TranscribeOptions:
    """`stt transcribe`'s options as given; `TranscribeJob.build` resolves and checks them
    together."""

    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Audio files, http(s) URLs (Pulse fetches them), or `-` for stdin.",
            metavar="SOURCE",
        ),
    ] = None
    output: Annotated[
        str | None,
        output_option(
            "Write the transcript to FILE (format from the extension: .txt .json .srt "
            ".vtt .tsv) or `-` for stdout (the default). One source only."
        ),
    ] = None
    output_dir: Annotated[
        str | None,
        typer.Option(
            "--output-dir",
            help="Write one transcript per source into DIR, named after it (talk.wav → talk.txt).",
        ),
    ] = None
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="text, json, srt, vtt or tsv. [default: from -o's extension, else text]",
        ),
    ] = None
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="pulse (multilingual, URLs) or pulse-pro (English, webhooks). "
            "[env var: SMALLEST_STT_MODEL; default: pulse]",
        ),
    ] = None
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Language code (en, hi, de, …) or multi-eu, multi-asian, multi-indic. "
            "[env var: SMALLEST_STT_LANGUAGE; default: en]",
        ),
    ] = None
    word_timestamps: WordTimestampsFlag = False
    diarize: DiarizeFlag = False
    redact: RedactOption = None
    emotions: Annotated[bool, typer.Option("--emotions", help="Detect emotions.")] = False
    gender: Annotated[
        bool, typer.Option("--gender", help="Detect the speaker's gender (Pulse).")
    ] = False
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            help="Pulse Pro: return at once with a request id; the API posts the result to URL.",
            callback=check_http_url,
        ),
    ] = None
    webhook_extra: Annotated[
        list[str] | None,
        typer.Option("--webhook-extra", help="key:value sent along to the webhook (repeatable)."),
    ] = None
    expire_content: ExpireContentFlag = False
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Headerless audio: linear16, linear32, mulaw or alaw. [default: from the "
            "extension: .pcm/.raw linear16, .ulaw mulaw, .alaw alaw]",
        ),
    ] = None
    sample_rate: Annotated[
        int | None,
        typer.Option(
            "--sample-rate",
            min=4000,
            max=192000,
            help="Headerless audio: samples per second (required: nothing in such audio "
            "says it; `tts say` writes 44100 unless told).",
        ),
    ] = None
    route: Annotated[
        Route,
        typer.Option(
            "--route",
            help="current: POST /waves/v1/stt/; legacy: POST /waves/v1/pulse/get_text (Pulse only).",
        ),
    ] = Route.CURRENT
    max_line_chars: Annotated[
        int,
        typer.Option("--max-line-chars", min=10, max=200, help="Subtitles: characters per cue."),
    ] = 42
    max_cue_seconds: Annotated[
        float,
        typer.Option("--max-cue-seconds", min=0.5, max=60, help="Subtitles: seconds per cue."),
    ] = 5.0
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite transcripts already in --output-dir.")
    ] = False
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing", help="Leave sources whose transcript is in --output-dir alone."
        ),
    ] = False
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=16, help="Sources transcribed at once.")
    ] = 4
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0.1,
            help="Seconds to wait for each transcript once its audio is sent (a long "
            "recording can take minutes). [default: --timeout if given, else 600]",
            show_default=False,
        ),
    ] = None
    max_rpm: Annotated[
        int,
        typer.Option(
            "--max-rpm",
            envvar="SMALLEST_STT_MAX_RPM",
            min=0,
            help="Requests started per minute at most (the Standard plan allows 25 per model; "
            "0 = no limit).",
        ),
    ] = STT_REQUESTS_PER_MINUTE


@app.command()
@takes(TranscribeOptions)
def transcribe(ctx: typer.Context, options: TranscribeOptions) -> None:
    """Transcribe recordings: files, URLs or stdin, one or many.

    Several sources run as a batch, a few at once within the API's request rate, with a
    progress bar on a terminal. Each transcript goes to stdout (a `==> name <==` header
    per source, or one JSON document per line with --json), to -o FILE, or to a file per
    source in --output-dir. A source that fails does not stop the others: the command
    reports it on stderr and exits 1 at the end (2 if every failure was a bad input file).
    Files over 250 MB are refused before anything is sent.

    Examples:

        $ smallest stt transcribe call.wav

        $ smallest stt transcribe talk.mp3 -o talk.srt --diarize

        $ smallest stt transcribe *.wav --output-dir transcripts --format vtt

        $ smallest tts say "Hello there" | smallest stt transcribe -

        $ smallest stt transcribe hello.pcm --sample-rate 44100

        $ smallest stt transcribe https://example.com/call.mp3 --json

        $ smallest stt transcribe long.wav --model pulse-pro --webhook https://my.app/hook
    """
    from smallest_cli.jobs.transcribe import TranscribeJob

    TranscribeJob.build(ctx.obj, options).run()


from smallest_cli.commands.stt_live import live  # noqa: E402

app.command("live")(live)
