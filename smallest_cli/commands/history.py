"""`smallest history`: the conversations `smallest chat` stored."""

from __future__ import annotations

from typing import Annotated

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag
from smallest_cli.context import AppContext

app = typer.Typer(help=GROUPS["history"], no_args_is_help=True)

IdArgument = Annotated[
    str, typer.Argument(help="A conversation id (a unique start of it will do).")
]


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="Show this many.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The latest conversations, newest first: id, last use, messages and the first prompt.

    Examples:

        $ smallest history list

        $ smallest chat --cid "$(smallest history list | head -1 | cut -f1)" "And then?"
    """
    from smallest_cli.history import History, _iso

    obj: AppContext = ctx.obj
    with History() as history:
        conversations = history.conversations(limit)
    if as_json:
        obj.output.json(
            [
                {"id": c.id, "updated": _iso(c.updated), "messages": c.messages, "title": c.title}
                for c in conversations
            ]
        )
        return
    if not conversations and obj.output.stdout_isatty:
        obj.output.info('No conversations yet: start one with smallest chat "Hello".')
        return
    obj.output.table(
        ["Id", "Updated", "Messages", "Title"],
        [(c.id, _iso(c.updated), c.messages, c.title) for c in conversations],
    )


@app.command()
def show(ctx: typer.Context, conversation_id: IdArgument) -> None:
    """Print a conversation, one message after another.

    Example:

        $ smallest history show 3f9a
    """
    from smallest_cli.history import History

    obj: AppContext = ctx.obj
    titles = {"system": "System", "user": "You", "assistant": "Electron", "tool": "Tool"}
    with History() as history:
        found = history.find(conversation_id)
        messages = history.messages(found)
    for position, message in enumerate(messages):
        if position:
            obj.output.data("")
        obj.output.data(f"{titles.get(message.role, message.role)}: {message.content}")


@app.command()
def delete(ctx: typer.Context, conversation_id: IdArgument) -> None:
    """Delete a conversation from the history.

    Example:

        $ smallest history delete 3f9a
    """
    from smallest_cli.history import History

    obj: AppContext = ctx.obj
    with History() as history:
        found = history.delete(conversation_id)
    obj.output.info(f"Deleted conversation {found}.")


@app.command()
def export(
    ctx: typer.Context,
    conversation_id: IdArgument,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the only format so far).")
    ] = True,
) -> None:
    """Print a conversation as JSON: its id, title, times and messages.

    Example:

        $ smallest history export 3f9a --json > chat.json
    """
    from smallest_cli.history import History

    obj: AppContext = ctx.obj
    with History() as history:
        obj.output.json(history.export(conversation_id))
