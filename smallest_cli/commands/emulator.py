"""`smallest emulator`: run the local stand-in for the Waves API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.context import AppContext
from smallest_cli.errors import UsageError

app = typer.Typer(
    help=GROUPS["emulator"],
    no_args_is_help=True,
)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port of the main (India region) URL; 0 picks a free one.",
        ),
    ] = 8089,
    us_port: Annotated[
        int,
        typer.Option(
            "--us-port",
            min=0,
            max=65535,
            help="Port of the US-region URL (the api.us.smallest.ai stand-in); 0 picks a free one.",
        ),
    ] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject a failure: STATUS[:RETRY_AFTER][*TIMES][+AFTER][@PATH] or drop[*TIMES][+AFTER][@PATH], "
            "e.g. 503*2, 429:1@/waves/v1/tts or 500*1+3. Repeatable.",
        ),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", min=0, help="Delay every request by this much.")
    ] = 0.0,
    tts_concurrency: Annotated[
        int,
        typer.Option(
            "--tts-concurrency", min=1, help="TTS requests in flight per key (429 beyond)."
        ),
    ] = 1,
    stt_per_minute: Annotated[
        int,
        typer.Option(
            "--stt-per-minute",
            min=1,
            help="Pre-recorded STT requests a minute per key and model (429 beyond).",
        ),
    ] = 25,
    stt_sessions: Annotated[
        int,
        typer.Option(
            "--stt-sessions",
            min=1,
            help="Open STT WebSocket sessions per key (closed with 1008 beyond).",
        ),
    ] = 100,
    first_audio_ms: Annotated[
        float,
        typer.Option(
            "--first-audio-ms",
            min=0,
            help="Time to first audio of every TTS request, in milliseconds.",
        ),
    ] = 150.0,
    rtf: Annotated[
        float,
        typer.Option(
            "--rtf",
            min=0,
            help="Real-time factor of synthesis: seconds of work per second of audio "
            "(0.2: a 5 s clip is done 1 s after its first audio).",
        ),
    ] = 0.2,
    stt_ms: Annotated[
        float,
        typer.Option(
            "--stt-ms",
            min=0,
            help="Fixed processing time of every pre-recorded transcription, in milliseconds.",
        ),
    ] = 150.0,
    stt_rtf: Annotated[
        float,
        typer.Option(
            "--stt-rtf",
            min=0,
            help="Processing time of pre-recorded transcription per second of audio, in seconds.",
        ),
    ] = 1 / 30,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request to stderr.")
    ] = False,
    transcripts: Annotated[
        Path | None,
        typer.Option(
            "--transcripts",
            envvar="SMALLEST_EMULATOR_TRANSCRIPTS",
            help="Folder of known recordings: name.wav + name.txt pairs. Audio that sounds "
            "like one (any container, rate or codec) is transcribed as its text.",
        ),
    ] = None,
) -> None:
    """Serve the emulator until Ctrl-C or SIGTERM.

    The base URL is printed on stdout once the emulator accepts connections, so a script can
    wait for that line. Point any client at it: this tool with --base-url or
    SMALLEST_BASE_URL, curl, or another SDK. Any key starting with sk_ is accepted.
    A second URL, named on stderr as SMALLEST_US_BASE_URL, is the US region, which is the
    only one that streams speech to text in zh, yue, ja, ko and multi-asian.
    TTS audio is paced like a real service: the first audio comes --first-audio-ms after
    the request, the rest at --rtf seconds per second of audio (0 and 0: at once).
    Pre-recorded transcripts take --stt-ms plus --stt-rtf seconds per second of audio.
    Transcripts are synthetic (the emulator's own speech reads back, other speech gives
    stand-in words) except for the recordings given with --transcripts.
    Faults, limits and pacing can also be changed while it runs: PUT /_emulator/faults,
    /_emulator/limits and /_emulator/pacing; GET /_emulator/requests shows the traffic it
    has seen.

    Examples:

        $ smallest emulator serve --port 0

        $ smallest emulator serve --fault 503*2 --latency-ms 150

        $ smallest emulator serve --first-audio-ms 0 --rtf 0

        $ smallest emulator serve --transcripts tests/recordings
    """
    from smallest_cli.emulator.faults import FaultPlan
    from smallest_cli.emulator.limits import Limits
    from smallest_cli.emulator.server import serve as run
    from smallest_cli.emulator.state import EmulatorState, Pacing

    obj: AppContext = ctx.obj
    try:
        plan = FaultPlan.from_specs(fault or [], latency_ms)
        pacing = Pacing(first_audio_ms, rtf, stt_ms, stt_rtf)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    limits = Limits(
        tts_concurrency=tts_concurrency,
        stt_per_minute=stt_per_minute,
        stt_session_limit=stt_sessions,
    )
    try:
        state = EmulatorState(plan, limits, pacing, transcripts)
    except ValueError as exc:
        raise UsageError(f"--transcripts: {exc}") from None

    def ready(base_url: str, us_base_url: str) -> None:
        sys.stdout.write(base_url + "\n")
        sys.stdout.flush()
        obj.output.info(
            f"Emulator ready (synthetic audio and transcripts). Use: export SMALLEST_BASE_URL={base_url}"
            f"  US region: export SMALLEST_US_BASE_URL={us_base_url}  Stop with Ctrl-C."
        )

    try:
        run(state, host=host, port=port, us_port=us_port, on_ready=ready, access_log=access_log)
    except OSError as exc:
        where = f"{host}:{port}" + (f" or {host}:{us_port}" if us_port else "")
        raise UsageError(
            f"cannot listen on {where}: {exc.strerror or exc}",
            hint="choose another --port or --us-port (0 picks a free one)",
        ) from None
    obj.output.info("Emulator stopped.")
