"""`smallest clone`: make voice clones from a recording and manage them (REFERENCE §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag
from smallest_cli.context import AppContext
from smallest_cli.errors import APIError, UsageError

if TYPE_CHECKING:
    from smallest_cli.api.cloning import Clone

app = typer.Typer(help=GROUPS["clone"], no_args_is_help=True)

DASHBOARD = "https://app.smallest.ai/dashboard/voices"


def _complete_clone(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The account's clones from the cached voice catalog (no network)."""
    from smallest_cli.jobs.voice_catalog import complete_voice_id

    return [(i, s) for i, s in complete_voice_id(ctx, incomplete) if i.startswith("voice_")]


def _complete_model(incomplete: str) -> list[str]:
    return [m for m in ("lightning-v3.1", "lightning-v3.1-pro") if m.startswith(incomplete)]


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The clone's display name (1–500 characters).")],
    file: Annotated[
        str | None,
        typer.Argument(
            help="The sample: 5–15 s of one person speaking (WAV, MP3, MP4, WebM; FLAC, OGG "
            "and raw PCM are converted); - reads it from stdin."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="Language of the sample (en, hi, …); use it in tts too."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="lightning-v3.1 (default) or lightning-v3.1-pro (underscores accepted).",
            autocompletion=_complete_model,
        ),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="A longer note about the clone.")
    ] = None,
    accent: Annotated[
        str | None, typer.Option("--accent", help="Accent label, e.g. general, indian.")
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="TAG", help="A tag (repeatable; commas split too)."),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Record the sample from the microphone.")
    ] = False,
    seconds: Annotated[
        float,
        typer.Option("--seconds", min=3, max=60, help="How long --record records."),
    ] = 12.0,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Device (name or index) to record from and play on."),
    ] = None,
    sample_rate: Annotated[
        int | None,
        typer.Option("--sample-rate", help="Sample rate of a headerless 16-bit PCM FILE."),
    ] = None,
    wait: Annotated[
        bool | None,
        typer.Option(
            "--wait/--no-wait",
            help="Wait until the clone is ready. [default: wait on a terminal]",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--wait-timeout", min=1, help="Seconds --wait waits at most.")
    ] = 300.0,
    play_sample: Annotated[
        bool, typer.Option("--play-sample", help="Play the API's sample of the new voice.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Upload a recording without asking.")
    ] = False,
) -> None:
    """Clone a voice from a sample file or the microphone; print the new voice id.

    The sample is checked before anything is sent: under 3 s of speech, silence, or a file
    that is not audio is refused; FLAC, OGG, raw PCM and files over 5 MB are converted
    (mono, trimmed, WAV or MP3 under 5 MB). Only the voice id goes to stdout.

    Examples:

        $ smallest clone create "Ana" ana.wav --language en

        $ VOICE=$(smallest clone create "Ana" ana.flac --language en --wait)

        $ smallest clone create "Me" --record --seconds 12 --language en
    """
    from smallest_cli.jobs import clone as job

    obj: AppContext = ctx.obj
    options = job.check_options(name, model, language, description, accent, tags or ())
    if play_sample:
        job.check_player(device)
    if record and file is not None:
        raise UsageError("give a FILE or --record, not both")
    if record:
        from smallest_cli.jobs.clone_record import record_sample

        obj.api_key()  # a missing key is said before the take, not after it

        sample = record_sample(obj, seconds, device, options.name, yes)
    elif file is None:
        raise UsageError(
            "missing FILE", hint="give a sample file, or --record to use the microphone"
        )
    elif file == "-":
        from smallest_cli.audio.sample import sample_from_stdin

        sample = sample_from_stdin(sample_rate=sample_rate)
    else:
        from smallest_cli.audio.sample import sample_from_file

        sample = sample_from_file(file, sample_rate=sample_rate)
    waiting = obj.output.stderr_isatty if wait is None else wait
    clone = job.create(obj, options, sample, wait=waiting or play_sample, timeout=timeout)
    obj.output.data(clone.voice_id)
    if clone.status not in job.DONE:
        obj.output.info(
            f"The clone is {clone.status or 'being made'}; "
            f"`smallest clone show {clone.voice_id}` says when it is ready."
        )
    obj.output.info(job.next_step(clone, in_process=obj.emulator))
    if play_sample:
        job.play_sample(obj, clone, device)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the account's clones: id, name, status, pools, language, created.

    Clones made for the retired lightning-large model are marked: current models cannot
    speak them.

    Examples:

        $ smallest clone list

        $ smallest clone list --json | jq -r '.[] | select(.status == "completed") | .voice_id'
    """
    from smallest_cli.jobs.clone import fetch_clones

    obj: AppContext = ctx.obj
    clones = fetch_clones(obj)
    if as_json:
        obj.output.json([c.to_json() for c in clones])
        return
    if not clones and obj.output.stdout_isatty:
        obj.output.info("No clones yet: smallest clone create NAME FILE")
        return
    tty = obj.output.stdout_isatty
    obj.output.table(
        ["ID", "NAME", "STATUS", "POOLS", "LANGUAGE", "CREATED"],
        [
            (c.voice_id, c.display_name, c.status, _pools(c, tty), c.language, c.created_at)
            for c in clones
        ],
    )


@app.command()
def show(
    ctx: typer.Context,
    voice_id: Annotated[
        str, typer.Argument(help="A clone's voice id (voice_…).", autocompletion=_complete_clone)
    ],
    as_json: JsonFlag = False,
) -> None:
    """Show one clone: its status, pools, language, tags and dates.

    Examples:

        $ smallest clone show voice_dLP5T67Qw7

        $ smallest clone show voice_dLP5T67Qw7 --json | jq -r .status
    """
    from smallest_cli.jobs.clone import fetch_clones, find

    obj: AppContext = ctx.obj
    clones = fetch_clones(obj)
    clone = find(clones, voice_id)
    if clone is None:
        raise UsageError(
            f"no clone {voice_id!r} on this account", hint="`smallest clone list` shows them"
        )
    if as_json:
        obj.output.json(clone.to_json())
        return
    tty = obj.output.stdout_isatty
    obj.output.fields(
        [
            ("ID", clone.voice_id),
            ("Name", clone.display_name),
            ("Status", clone.status),
            ("Pools", _pools(clone, tty)),
            ("Language", clone.language),
            ("Accent", clone.accent),
            ("Tags", ", ".join(clone.tags) if tty else list(clone.tags) or None),
            ("Description", clone.description),
            ("Type", clone.cloning_type),
            ("Created", clone.created_at),
        ]
    )


@app.command()
def delete(
    ctx: typer.Context,
    voice_id: Annotated[
        str, typer.Argument(help="A clone's voice id (voice_…).", autocompletion=_complete_clone)
    ],
) -> None:
    """Deleting a clone is only possible in the dashboard (Voices → Delete).

    The API's delete route is retired (it answers 410), so this sends nothing and says
    where to go.
    """
    raise APIError(
        f"{voice_id} was not deleted: the API no longer deletes clones",
        hint=f"delete it in the dashboard: {DASHBOARD} (Voices → Delete)",
    )


def _pools(clone: Clone, tty: bool) -> Any:
    """The pools it speaks in. Piped, only pool names (none: `-`), as --json's `pools`;
    on a terminal, an old clone's models are named and marked unusable."""
    if clone.pools:
        return ", ".join(clone.pools) if tty else ",".join(clone.pools)
    if clone.models and tty:
        return f"{', '.join(clone.models)} (not usable with current models)"
    return None
