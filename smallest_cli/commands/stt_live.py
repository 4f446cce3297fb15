"""`smallest stt live`: realtime transcription over the Pulse WebSocket (registered on the
`stt` app in commands/stt.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from smallest_cli.choices import Route
from smallest_cli.commands.options import (
    DiarizeFlag,
    ExpireContentFlag,
    RedactOption,
    WordTimestampsFlag,
    output_option,
    takes,
)


@dataclass(frozen=True)
class ListenOptions:
    """`stt live`'s options as given; `LiveJob.build` checks them together."""

    source: Annotated[
        str | None,
        typer.Argument(
            help="An audio file, or `-` for stdin (a pipe is read without `-` too).",
            metavar="SOURCE",
        ),
    ] = None
    mic: Annotated[bool, typer.Option("--mic", help="Transcribe the microphone.")] = False
    device: Annotated[
        str | None, typer.Option("--device", help="Input device (name or index) for --mic.")
    ] = None
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="en, hi, de, es, ru, it, fr, nl, pt, zh, yue, ja, ko, gu, mr, or, bn, ta, te, "
            "kn, ml, north_indic, multi-asian or multi-south-indic. zh, yue, ja, ko and "
            "multi-asian stream from the US host, automatically. "
            "[env var: SMALLEST_STT_LANGUAGE; default: en]",
        ),
    ] = None
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Raw input: linear16, linear32, alaw or mulaw (no header is looked for). "
            "[default: linear16]",
        ),
    ] = None
    sample_rate: Annotated[
        int | None,
        typer.Option(
            "--sample-rate",
            help="8000, 16000, 22050, 24000, 44100 or 48000. Raw input: its rate (required: "
            "nothing in such audio says it). Files and the microphone: the rate to send "
            "[default: the file's own if the API takes it, else 16000]",
        ),
    ] = None
    realtime: Annotated[
        bool,
        typer.Option("--realtime", help="Send a file at the pace it plays (as a live call would)."),
    ] = False
    duration: Annotated[
        float | None,
        typer.Option("--duration", min=0.1, help="Stop after this many seconds of audio."),
    ] = None
    interim: Annotated[
        bool,
        typer.Option(
            "--interim",
            help="Show partial transcripts as one updating line (on a terminal's stderr; "
            "with --json, as events).",
        ),
    ] = False
    word_timestamps: WordTimestampsFlag = False
    diarize: DiarizeFlag = False
    redact: RedactOption = None
    keywords: Annotated[
        list[str] | None,
        typer.Option(
            "--keywords",
            metavar="WORD[:BOOST],…",
            help="Boost words: WORD[:BOOST],… e.g. 'Blackwell:2,Jensen Huang' (boost 1–3 "
            "recommended; repeatable).",
        ),
    ] = None
    itn: Annotated[
        bool, typer.Option("--itn", help="Write numbers, dates and amounts as digits (finals).")
    ] = False
    vad_events: Annotated[
        bool,
        typer.Option(
            "--vad-events",
            help="Report when speech starts and ends (on a terminal's stderr; with --json, "
            "as events).",
        ),
    ] = False
    eou_timeout_ms: Annotated[
        int | None,
        typer.Option(
            "--eou-timeout-ms",
            min=100,
            max=10000,
            help="Silence (ms) that ends an utterance [API default: 800]",
        ),
    ] = None
    max_words: Annotated[
        int | None, typer.Option("--max-words", min=1, help="Finalize after this many words.")
    ] = None
    no_endpointing: Annotated[
        bool,
        typer.Option(
            "--no-endpointing",
            help="Do not finalize on trailing silence (the model's own, slower cadence).",
        ),
    ] = False
    route: Annotated[
        Route,
        typer.Option(
            "--route", help="current: /waves/v1/stt/live; legacy: /waves/v1/pulse/get_text."
        ),
    ] = Route.CURRENT
    expire_content: ExpireContentFlag = False
    output: Annotated[
        str | None,
        output_option(
            "Also write the whole transcript to FILE at the end (format from the "
            "extension: .txt .json .srt .vtt .tsv), or `-` for stdout instead of live lines."
        ),
    ] = None
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Format for -o: text, json, srt, vtt or tsv. [default: from the extension]",
        ),
    ] = None
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON event per line on stdout: finals (and partials with --interim, "
            "speech_started/speech_ended with --vad-events).",
        ),
    ] = False


@takes(ListenOptions)
def live(ctx: typer.Context, options: ListenOptions) -> None:
    """Transcribe speech as it is spoken: a file, a pipe, or the microphone.

    The audio streams over the Pulse realtime WebSocket and each final segment is printed
    on its own line as soon as it is recognised. Files are decoded (WAV, FLAC, OGG, MP3,
    …), mixed to mono and resampled to a rate the API takes; a pipe is sniffed for a
    container header, else taken as raw audio described by --encoding and --sample-rate.
    At the end of the audio the command waits for the last transcript. Ctrl-C stops the
    audio but keeps everything heard: the last transcript is awaited (up to 5 s), -o FILE
    is written, and the exit code is 130.

    Examples:

        $ smallest stt live call.wav

        $ smallest stt live --mic --interim

        $ smallest tts say "Testing one two three" | smallest stt live -

        $ arecord -t raw -f S16_LE -r 16000 | smallest stt live - --sample-rate 16000

        $ smallest stt live interview.mp3 --diarize -o interview.srt

        $ smallest stt live call.wav --json --vad-events --interim

        $ smallest stt live meeting.flac --language ja --keywords 'Kubernetes:2'
    """
    from smallest_cli.jobs.listen import LiveJob

    LiveJob.build(ctx.obj, options).run()
