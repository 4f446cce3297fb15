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
            help="Inject a failure (repeatable; see Faults above) [env SMALLEST_EMULATOR_FAULTS, "
            "comma-separated]",
        ),
    ] = None,
    latency_ms: Annotated[
        float | None,
        typer.Option(
            "--latency-ms",
            min=0,
            help="Delay every request by this much [env SMALLEST_EMULATOR_LATENCY_MS; default 0]",
        ),
    ] = None,
    tts_concurrency: Annotated[
        int | None,
        typer.Option(
            "--tts-concurrency",
            min=1,
            help="TTS requests in flight per key, 429 beyond "
            "[env SMALLEST_EMULATOR_TTS_CONCURRENCY; default 1]",
        ),
    ] = None,
    stt_per_minute: Annotated[
        int | None,
        typer.Option(
            "--stt-per-minute",
            min=1,
            help="Pre-recorded STT requests a minute per key and model, 429 beyond "
            "[env SMALLEST_EMULATOR_STT_PER_MINUTE; default 25]",
        ),
    ] = None,
    stt_sessions: Annotated[
        int | None,
        typer.Option(
            "--stt-sessions",
            min=1,
            help="Open STT WebSocket sessions per key, closed with 1008 beyond "
            "[env SMALLEST_EMULATOR_STT_SESSIONS; default 100]",
        ),
    ] = None,
    chat_per_minute: Annotated[
        int | None,
        typer.Option(
            "--chat-per-minute",
            metavar="N",
            min=1,
            help="Chat completions a minute per key, 429 beyond "
            "[env SMALLEST_EMULATOR_CHAT_PER_MINUTE; default 10]",
        ),
    ] = None,
    chat_concurrency: Annotated[
        int | None,
        typer.Option(
            "--chat-concurrency",
            metavar="N",
            min=1,
            help="Chat completions in flight per key, 429 beyond "
            "[env SMALLEST_EMULATOR_CHAT_CONCURRENCY; default 3]",
        ),
    ] = None,
    clone_limit: Annotated[
        int | None,
        typer.Option(
            "--clone-limit",
            min=1,
            help="Voice clones per key, 400 'clone limit exceeded' beyond "
            "[env SMALLEST_EMULATOR_CLONE_LIMIT; default 10]",
        ),
    ] = None,
    first_audio_ms: Annotated[
        float | None,
        typer.Option(
            "--first-audio-ms",
            min=0,
            help="Time to first audio of every TTS request, in milliseconds "
            "[env SMALLEST_EMULATOR_FIRST_AUDIO_MS; default 150; 0 under --emulator]",
        ),
    ] = None,
    rtf: Annotated[
        float | None,
        typer.Option(
            "--rtf",
            min=0,
            help="Real-time factor of synthesis: seconds of work per second of audio, 0.2: a "
            "5 s clip is done 1 s after its first audio "
            "[env SMALLEST_EMULATOR_RTF; default 0.2; 0 under --emulator]",
        ),
    ] = None,
    stt_ms: Annotated[
        float | None,
        typer.Option(
            "--stt-ms",
            min=0,
            help="Fixed processing time of every pre-recorded transcription, in milliseconds "
            "[env SMALLEST_EMULATOR_STT_MS; default 150; 0 under --emulator]",
        ),
    ] = None,
    stt_rtf: Annotated[
        float | None,
        typer.Option(
            "--stt-rtf",
            min=0,
            help="Processing time of pre-recorded transcription per second of audio, in "
            "seconds [env SMALLEST_EMULATOR_STT_RTF; default 1/30; 0 under --emulator]",
        ),
    ] = None,
    chat_first_token_ms: Annotated[
        float | None,
        typer.Option(
            "--chat-first-token-ms",
            metavar="MS",
            min=0,
            help="Time to the first token of every chat completion, in milliseconds "
            "[env SMALLEST_EMULATOR_CHAT_FIRST_TOKEN_MS; default 200; 0 under --emulator]",
        ),
    ] = None,
    chat_token_ms: Annotated[
        float | None,
        typer.Option(
            "--chat-token-ms",
            metavar="MS",
            min=0,
            help="Time between the streamed pieces (a word or so) of a chat reply, in "
            "milliseconds [env SMALLEST_EMULATOR_CHAT_TOKEN_MS; default 15; 0 under --emulator]",
        ),
    ] = None,
    clone_ms: Annotated[
        float | None,
        typer.Option(
            "--clone-ms",
            min=0,
            help="Time a voice clone takes from pending through processing to completed, in "
            "milliseconds "
            "[env SMALLEST_EMULATOR_CLONE_MS; default 3000; 0 under --emulator]",
        ),
    ] = None,
    transcripts: Annotated[
        Path | None,
        typer.Option(
            "--transcripts",
            help="A folder of known recordings: DIR/name.wav next to DIR/name.txt. Audio "
            "that sounds like one (any container, rate or codec) is transcribed as its text "
            "[env SMALLEST_EMULATOR_TRANSCRIPTS]",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request to stderr.")
    ] = False,
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
    Chat (Electron) replies are deterministic: arithmetic ("What is 12*7?"), counting
    ("count to 5"), "say X", "repeat after me: X", tool calls when a message names a tool,
    else a short sentence quoting the question. They stream a piece every --chat-token-ms
    after --chat-first-token-ms. A key starting with sk_no_electron stands for a plan
    without Electron (403).
    Every option can also be set by its SMALLEST_EMULATOR_* variable (the flag wins);
    `smallest --emulator ...` reads the same variables, with pacing off by default.
    Faults, limits and pacing can also be changed while it runs: PUT /_emulator/faults,
    /_emulator/limits and /_emulator/pacing; GET /_emulator/requests shows the traffic it
    has seen. A voice clone is pending, then processing, and done after --clone-ms.

    Faults, WHAT[:ARG][*TIMES][+AFTER][@PATH] (*2: the next two only; +3: after three
    went through; @/waves/v1/tts: only paths starting so):

    \b
        503, 429:1.5        answer with the status (and Retry-After); on a WebSocket,
                            refuse the handshake with it
        drop[:N]            headers and half the first body chunk, then close; with
                            N, N chunks (SSE events) whole first: a reply cut midway
        reset[:N]           the same, then reset the connection (TCP RST)
        stall               headers, then nothing until the client gives up
        stall-body[:N]      headers and part of the body, then nothing
        truncate-sse        an SSE stream ends cleanly without its final frame
        malformed-json      200 with a JSON body cut off halfway
                            (on a WebSocket: the first text frame, cut)
        html                200 with an HTML page, as a proxy or captive portal answers
        ws-close:CODE[:N]   a WebSocket closes with CODE after N frames (default 0):
                            1008, 1011, ...; 1006 is no close frame at all

    Examples:

        $ smallest emulator serve --port 0

        $ smallest emulator serve --fault 503*2 --latency-ms 150

        $ smallest emulator serve --fault stall*1@/waves/v1/tts --fault ws-close:1011:3

        $ smallest emulator serve --first-audio-ms 0 --rtf 0

        $ smallest emulator serve --fault drop:5*1@/waves/v1/chat --chat-per-minute 100

        $ smallest emulator serve --transcripts tests/recordings
    """
    from smallest_cli.emulator.server import serve as run
    from smallest_cli.emulator.settings import EmulatorSettings

    obj: AppContext = ctx.obj
    flags = {
        "faults": fault or None,
        "latency_ms": latency_ms,
        "tts_concurrency": tts_concurrency,
        "stt_per_minute": stt_per_minute,
        "stt_sessions": stt_sessions,
        "first_audio_ms": first_audio_ms,
        "rtf": rtf,
        "stt_ms": stt_ms,
        "stt_rtf": stt_rtf,
        "chat_per_minute": chat_per_minute,
        "chat_concurrency": chat_concurrency,
        "chat_first_token_ms": chat_first_token_ms,
        "chat_token_ms": chat_token_ms,
        "clone_limit": clone_limit,
        "clone_ms": clone_ms,
        "transcripts": transcripts,
    }
    try:
        state = EmulatorSettings.resolve(flags, in_process=False).state()
    except ValueError as exc:
        raise UsageError(f"bad emulator setting: {exc}") from None

    def ready(base_url: str, us_base_url: str) -> None:
        from smallest_cli.output import EMULATOR_KEY

        sys.stdout.write(base_url + "\n")
        sys.stdout.flush()
        obj.output.info(
            "Emulator ready (synthetic audio and transcripts). Point a client at it with:\n"
            f"  export SMALLEST_BASE_URL={base_url} SMALLEST_API_KEY={EMULATOR_KEY}\n"
            f"US region: export SMALLEST_US_BASE_URL={us_base_url}\n"
            "Any key starting with sk_ is accepted. Stop with Ctrl-C."
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
