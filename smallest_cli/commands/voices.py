"""`smallest voices`: browse the TTS voice catalog (cached for a day, see jobs/voice_catalog.py)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag, PlaybackDeviceOption, output_option
from smallest_cli.context import AppContext
from smallest_cli.errors import UsageError
from smallest_cli.jobs.voice_catalog import (
    LANGUAGES,
    complete_voice_id,
    known_pools,
    language_name,
    load_for,
    pool_reason,
)

if TYPE_CHECKING:
    from smallest_cli.api.voices import Voice
    from smallest_cli.jobs.voice_catalog import Catalog

app = typer.Typer(
    help=GROUPS["voices"],
    no_args_is_help=True,
)


class Gender(str, Enum):
    male = "male"
    female = "female"


def _check_language(value: str | None) -> str | None:
    if value is None:
        return None
    name = language_name(value)
    if name is None:
        allowed = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
        raise typer.BadParameter(f"unknown language {value!r}; use a code or a name: {allowed}")
    return name


def _complete_language(incomplete: str) -> list[tuple[str, str]]:
    return [(code, name) for code, name in LANGUAGES.items() if code.startswith(incomplete)]


RefreshFlag = Annotated[
    bool, typer.Option("--refresh", help="Fetch the catalog again instead of using the cache.")
]


@app.command("list")
def list_(
    ctx: typer.Context,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Voices trained on this language: a code (hi) or a name (hindi).",
            callback=_check_language,
            autocompletion=_complete_language,
        ),
    ] = None,
    gender: Annotated[
        Gender | None, typer.Option("--gender", case_sensitive=False, help="male or female.")
    ] = None,
    accent: Annotated[
        str | None, typer.Option("--accent", help="e.g. american, british, indian.")
    ] = None,
    age: Annotated[
        str | None, typer.Option("--age", help="e.g. young, 'middle aged', senior.")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", help="Text to find in the id, name, description or tags."),
    ] = None,
    mine: Annotated[
        bool, typer.Option("--mine", help="Only the account's own voice clones.")
    ] = False,
    as_json: JsonFlag = False,
    refresh: RefreshFlag = False,
) -> None:
    """List the voices, optionally filtered; filters combine (all must match).

    The account's voice clones are listed too, marked `(clone)` on a terminal.

    A table on a terminal; piped, one voice per line with tab-separated id, name, gender,
    age, accent and languages, so `cut -f1` gives the ids. Pass an id to `tts say --voice`.

    Examples:

        $ smallest voices list --language hi --gender female

        $ smallest voices list --search narration --json | jq -r '.[].voice_id'

        $ smallest voices list | cut -f1
    """
    obj: AppContext = ctx.obj
    catalog = load_for(obj, refresh=refresh)
    voices = [
        v
        for v in catalog.voices
        if (language is None or language in _language_names(v))
        and (gender is None or _norm(v.gender) == gender.value)
        and (accent is None or _norm(v.accent) == _norm(accent))
        and (age is None or _norm(v.age) == _norm(age))
        and (search is None or _matches(v, search))
        and (not mine or v.cloned)
    ]
    if as_json:
        obj.output.json([_json(v) for v in voices])
        return
    if not voices:
        if obj.output.stdout_isatty:
            used = [
                f"{flag} {value}"
                for flag, value in (
                    ("--language", language),
                    ("--gender", gender.value if gender else None),
                    ("--accent", accent),
                    ("--age", age),
                    ("--search", search),
                    ("--mine", "" if mine else None),
                )
                if value is not None
            ]
            obj.output.info(
                f"No voices match {' '.join(used)}." if used else "The catalog has no voices."
            )
        return
    tty = obj.output.stdout_isatty
    obj.output.table(
        ["ID", "NAME", "GENDER", "AGE", "ACCENT", "LANGUAGES"],
        [
            (v.voice_id, _name(v, tty), v.gender, v.age, v.accent, _join(v.languages, tty))
            for v in voices
        ],
    )


@app.command()
def show(
    ctx: typer.Context,
    voice_id: Annotated[
        str, typer.Argument(help="A voice id, e.g. magnus.", autocompletion=complete_voice_id)
    ],
    as_json: JsonFlag = False,
    refresh: RefreshFlag = False,
) -> None:
    """Show everything the catalog says about one voice.

    That is its tags, description, preview URL and, where the API lets it be known, the
    model pool it serves (lightning_v3.1 or lightning_v3.1_pro); Get Voices has no pool
    flag, so the pool is known only for voices trained on a language only the Pro model
    speaks.

    Examples:

        $ smallest voices show magnus

        $ smallest voices show jasper --json | jq -r .preview_url
    """
    obj: AppContext = ctx.obj
    catalog, voice = _find(obj, voice_id, refresh)
    if as_json:
        obj.output.json({**_json(voice), **({"preview_url": None} if obj.emulator else {})})
        return
    tty = obj.output.stdout_isatty
    obj.output.fields(
        [
            ("ID", voice.voice_id),
            ("Name", voice.display_name),
            ("Gender", voice.gender),
            ("Age", voice.age),
            ("Accent", voice.accent),
            ("Languages", _join(voice.languages, tty)),
            ("Use cases", _join(voice.usecases, tty)),
            ("Emotions", _join(voice.emotions, tty)),
            ("Pools", _pools_text(voice, tty)),
            ("Description", voice.description),
            ("Preview URL", _preview_url(obj, voice, tty)),
            ("Document ID", voice.document_id),
            *(
                [("Clone", f"yes (smallest clone show {voice.voice_id})" if tty else "yes")]
                if voice.cloned
                else []
            ),
        ]
    )
    if catalog.partial is not None and voice.description is None:
        obj.output.info(
            f"No description or preview: Get All Voices failed ({catalog.partial}); "
            "--refresh tries again."
        )


@app.command()
def preview(
    ctx: typer.Context,
    voice_id: Annotated[
        str, typer.Argument(help="A voice id, e.g. meher.", autocompletion=complete_voice_id)
    ],
    output: Annotated[
        str | None,
        output_option(
            "Write the audio to FILE (format from the extension) or `-` for stdout instead of playing it."
        ),
    ] = None,
    device: PlaybackDeviceOption = None,
    text: Annotated[
        str | None,
        typer.Option("--text", help="Speak this instead of playing the catalog's preview."),
    ] = None,
) -> None:
    """Hear a voice: the catalog's preview clip, or a sample sentence spoken in it.

    Voices without a preview clip (and any voice with --text) are heard through the
    speech API instead. The preview URL is fetched without your API key.

    Examples:

        $ smallest voices preview meher

        $ smallest voices preview kaitlyn --text "Testing, one two three." -o kaitlyn.wav
    """
    from smallest_cli.destinations import Destination
    from smallest_cli.jobs.preview import PreviewJob

    obj: AppContext = ctx.obj
    job = PreviewJob.build(obj, Destination(output=output, device=device))
    _, voice = _find(obj, voice_id, refresh=True)  # preview links can expire; the emulator's move
    job.run(voice, text)


def _find(obj: AppContext, voice_id: str, refresh: bool) -> tuple[Catalog, Voice]:
    """The catalog and the voice with this id, or a UsageError with likely ids."""
    catalog = load_for(obj, refresh=refresh)
    voice = catalog.find(voice_id)
    if voice is None and catalog.from_cache:  # a voice added since the cache was filled?
        catalog = load_for(obj, refresh=True)
        voice = catalog.find(voice_id)
    if voice is None:
        matches = catalog.close_matches(voice_id)
        hint = "`smallest voices list` shows every voice id"
        if matches:
            hint = f"did you mean {_either(matches)}? " + hint
        elif voice_id.startswith("voice_"):
            hint = "`smallest clone list` shows the account's clones; " + hint
        raise UsageError(f"no voice {voice_id!r} in the catalog", hint=hint)
    return catalog, voice


def _name(voice: Voice, tty: bool) -> str:
    return f"{voice.display_name} (clone)" if voice.cloned and tty else voice.display_name


def _either(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " or " + ids[-1]


def _json(voice: Voice) -> dict[str, Any]:
    pools = known_pools(voice)
    return {**voice.to_json(), "known_pools": None if pools is None else sorted(pools)}


def _preview_url(obj: AppContext, voice: Voice, tty: bool) -> Any:
    """The preview's URL; none under --emulator, whose port closes when the command ends."""
    if not obj.emulator or voice.preview_url is None:
        return voice.preview_url
    return f"the emulator's: smallest --emulator voices preview {voice.voice_id}" if tty else None


def _pools_text(voice: Voice, tty: bool) -> Any:
    pools = known_pools(voice)
    if pools is None:
        return "unknown (Get Voices has no pool flag)" if tty else None
    text = ",".join(sorted(pools)) if pools else "none of the current models"
    return f"{text} ({pool_reason(voice)})" if tty else text


def _join(items: tuple[str, ...], tty: bool) -> Any:
    if not items:
        return None
    return ", ".join(items) if tty else list(items)


def _norm(value: str | None) -> str:
    """Compare tags loosely: case, `-`/`_` and extra spaces do not matter."""
    if value is None:
        return ""
    return " ".join(value.casefold().replace("-", " ").replace("_", " ").split())


def _language_names(voice: Voice) -> set[str]:
    return {language_name(lang) or lang.casefold() for lang in voice.languages}


def _matches(voice: Voice, text: str) -> bool:
    needle = text.casefold()
    haystack = [
        voice.voice_id,
        voice.display_name,
        voice.description,
        voice.accent,
        voice.gender,
        voice.age,
        *voice.languages,
        *voice.usecases,
        *voice.emotions,
    ]
    return any(needle in value.casefold() for value in haystack if value)
