"""`smallest dict`: pronunciation dictionaries (list, show, create, edit, pull, push, …)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag, PlaybackDeviceOption, output_option
from smallest_cli.context import AppContext

app = typer.Typer(help=GROUPS["dict"], no_args_is_help=True)


def complete_dictionary(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Local names and cached ids (no network), for shell completion."""
    from smallest_cli.jobs import dicts

    return dicts.complete_dictionary(ctx, incomplete)


DictArg = Annotated[
    str,
    typer.Argument(
        metavar="DICT",
        help="A dictionary id, or a local name given with --name.",
        autocompletion=complete_dictionary,
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name", help="A local name for the dictionary, remembered in this profile's config."
    ),
]


def _jobs() -> Any:
    from smallest_cli.jobs import dicts

    return dicts


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the account's dictionaries: id, local name, word count, created, first words.

    A table on a terminal; piped, one dictionary per line, tab-separated, id first.

    Examples:

        $ smallest dict list

        $ smallest dict list | cut -f1
    """
    _jobs().list_dictionaries(ctx.obj, as_json)


@app.command()
def show(ctx: typer.Context, dictionary: DictArg, as_json: JsonFlag = False) -> None:
    """Print a dictionary's entries as `word<TAB>pronunciation`, sorted by word.

    Example:

        $ smallest dict show product
    """
    _jobs().show(ctx.obj, dictionary, as_json)


@app.command()
def create(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE|-",
            help="Entries: .tsv/.txt (word<TAB>pronunciation), .csv or .json; `-` (or none, "
            "when piped) reads stdin.",
        ),
    ] = None,
    words: Annotated[
        list[str] | None,
        typer.Option("--word", metavar="WORD", help="A word to respell (repeatable)."),
    ] = None,
    says: Annotated[
        list[str] | None,
        typer.Option(
            "--say", metavar="PRONUNCIATION", help="How to say the --word before it (repeatable)."
        ),
    ] = None,
    name: NameOption = None,
) -> None:
    """Create a dictionary and print its id on stdout.

    Empty fields, words given twice and tabs inside a field are refused before anything is
    sent, naming the line.

    Examples:

        $ ID=$(smallest dict create words.tsv)

        $ smallest dict create --word nginx --say "engine x" --name infra
    """
    _jobs().create(ctx.obj, file, words or [], says or [], name)


@app.command()
def edit(ctx: typer.Context, dictionary: DictArg) -> None:
    """Edit a dictionary in $VISUAL or $EDITOR (else vi), like `kubectl edit`.

    The entries open as a sorted TSV listing. On save the file is checked; on an error it
    opens again with the error at the top. Emptying the file cancels; an unchanged file
    sends nothing; otherwise the complete list is sent once and a summary printed
    (`+2 added, -1 removed, ~1 changed`).

    Example:

        $ EDITOR=nano smallest dict edit product
    """
    _jobs().edit(ctx.obj, dictionary)


@app.command()
def add(
    ctx: typer.Context,
    dictionary: DictArg,
    word: Annotated[str, typer.Argument(help="The word, as it appears in text (case-sensitive).")],
    pronunciation: Annotated[str, typer.Argument(help="How to say it, e.g. 'engine x'.")],
) -> None:
    """Add a word to a dictionary, or change how an existing word is said.

    Example:

        $ smallest dict add product nginx "engine x"
    """
    _jobs().add(ctx.obj, dictionary, word, pronunciation)


@app.command()
def remove(
    ctx: typer.Context,
    dictionary: DictArg,
    words: Annotated[list[str], typer.Argument(metavar="WORD", help="Words to remove.")],
) -> None:
    """Remove words from a dictionary.

    Example:

        $ smallest dict remove product nginx
    """
    _jobs().remove(ctx.obj, dictionary, words)


@app.command()
def delete(
    ctx: typer.Context,
    dictionaries: Annotated[
        list[str],
        typer.Argument(
            metavar="DICT",
            help="Dictionary ids or local names.",
            autocompletion=complete_dictionary,
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """Delete dictionaries (asks first on a terminal; scripts pass --yes).

    Example:

        $ smallest dict delete product --yes
    """
    _jobs().delete(ctx.obj, dictionaries, yes)


@app.command()
def pull(
    ctx: typer.Context,
    dictionary: DictArg,
    output: Annotated[
        str | None,
        output_option(
            "Write the listing to FILE (whole or not at all), as .csv or .json by its "
            "extension, else TSV; default stdout."
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Also remember DICT under this local name (so `push --name` updates it)."
        ),
    ] = None,
) -> None:
    """Write a dictionary as a sorted TSV listing, for a file kept in git.

    Examples:

        $ smallest dict pull product -o words.tsv

        $ smallest dict pull 64f1234567890abcdef12345 -o words.tsv --name product
    """
    _jobs().pull(ctx.obj, dictionary, output, name)


@app.command()
def push(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="Entries: .tsv/.txt, .csv or .json.")
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="The local name to create or update (default: FILE's stem)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the difference and send nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Create the dictionary again if NAME's id no longer exists."),
    ] = False,
) -> None:
    """Make the API's dictionary NAME match FILE: created once, later updated only when
    the file differs (`unchanged` otherwise). The id goes to stdout.

    NAME → id is remembered in this profile's config, so a CI job can run the same
    command on every commit.

    Examples:

        $ smallest dict push words.tsv --name product

        $ smallest dict push words.tsv --name product --dry-run
    """
    _jobs().push(ctx.obj, file, name, dry_run, force)


@app.command("try")
def try_(
    ctx: typer.Context,
    dictionary: DictArg,
    text: Annotated[str, typer.Argument(help="Text to speak with the dictionary.")],
    output: Annotated[
        str | None,
        output_option("Write the audio to FILE (format from the extension) instead of playing it."),
    ] = None,
    voice: Annotated[
        str | None, typer.Option("--voice", help="Voice id. [env var: SMALLEST_VOICE]")
    ] = None,
    device: PlaybackDeviceOption = None,
) -> None:
    """Speak text with a dictionary, to tune a pronunciation.

    Example:

        $ smallest dict try product "Deploy it with nginx"
    """
    obj: AppContext = ctx.obj
    _jobs().try_speaking(obj, dictionary, text, output, voice=voice, device=device)
