"""`smallest config`: show and change per-profile settings in config.toml."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag
from smallest_cli.context import AppContext

app = typer.Typer(
    help=GROUPS["config"],
    no_args_is_help=True,
)

KeyArg = Annotated[str, typer.Argument(help="Setting name, e.g. voice or base_url.")]


def _flags(obj: AppContext) -> dict[str, Any]:
    return {"base_url": obj.base_url}


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show every setting, its effective value and where that value comes from.

    Examples:

        $ smallest config list

        $ smallest config list --json | jq -r .settings.voice.value
    """
    from smallest_cli.config import SETTINGS

    obj: AppContext = ctx.obj
    resolved = [obj.config.resolve(name, _flags(obj).get(name)) for name in SETTINGS]
    if as_json:
        obj.output.json(
            {
                "profile": obj.profile,
                "path": str(obj.config.path),
                "settings": {r.name: {"value": r.value, "source": r.source} for r in resolved},
            }
        )
        return
    obj.output.table(
        ["SETTING", "VALUE", "SOURCE"], [(r.name, r.value, r.source) for r in resolved]
    )


@app.command()
def get(ctx: typer.Context, key: KeyArg, as_json: JsonFlag = False) -> None:
    """Print one setting's effective value.

    Example:

        $ smallest config get voice
    """
    obj: AppContext = ctx.obj
    resolved = obj.config.resolve(key, _flags(obj).get(key))
    if as_json:
        obj.output.json({"name": key, "value": resolved.value, "source": resolved.source})
    else:
        obj.output.data("" if resolved.value is None else str(resolved.value))


@app.command("set")
def set_(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Store a setting for this profile (validated first).

    Examples:

        $ smallest config set voice meher

        $ smallest --profile local config set base_url http://127.0.0.1:8089
    """
    obj: AppContext = ctx.obj
    stored = obj.config.set(key, value)
    obj.output.info(f"{key} = {stored!r} for profile {obj.profile!r} (in {obj.config.path}).")


@app.command()
def unset(ctx: typer.Context, key: KeyArg) -> None:
    """Remove a stored setting, so the built-in default applies again.

    Example:

        $ smallest config unset voice
    """
    obj: AppContext = ctx.obj
    if obj.config.unset(key):
        obj.output.info(f"Removed {key} from profile {obj.profile!r}.")
    else:
        obj.output.info(f"{key} was not set for profile {obj.profile!r}.")


@app.command()
def path(ctx: typer.Context) -> None:
    """Print where config.toml lives (SMALLEST_CONFIG_DIR moves it)."""
    obj: AppContext = ctx.obj
    obj.output.data(str(obj.config.path))
