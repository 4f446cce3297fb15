"""`smallest auth`: log in, see which key is used, log out, print the key."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from smallest_cli.commands import GROUPS
from smallest_cli.commands.options import JsonFlag
from smallest_cli.context import AppContext
from smallest_cli.errors import (
    APIError,
    AuthenticationError,
    AuthError,
    PermissionDeniedError,
    UsageError,
)

app = typer.Typer(
    help=GROUPS["auth"],
    no_args_is_help=True,
)

MAX_KEY_INPUT = 4096


@app.command()
def login(
    ctx: typer.Context,
    with_key: Annotated[
        bool, typer.Option("--with-key", help="Read the key from stdin instead of prompting.")
    ] = False,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Keep the key in a plain-text 0600 file instead of the OS keyring.",
        ),
    ] = False,
) -> None:
    """Store an API key for this profile, after checking that the API accepts it.

    The key is read from a hidden prompt, or from stdin with --with-key; it is never taken
    as an argument, so it stays out of shell history. Create keys at
    https://app.smallest.ai/dashboard/api-keys.

    Examples:

        $ smallest auth login

        $ printf %s "$SMALLEST_KEY" | smallest auth login --with-key
    """
    from smallest_cli import credentials

    obj: AppContext = ctx.obj
    if os.environ.get(credentials.ENV_VAR, "").strip():
        raise UsageError(
            "SMALLEST_API_KEY is set, and it wins over any stored key; nothing was stored",
            hint="unset SMALLEST_API_KEY to use a stored key, or keep using the variable",
        )
    key = credentials.check_key_shape(_read_key(obj, with_key))
    with obj.client(api_key=key) as client:
        try:
            client.voices.list()
        except AuthenticationError as error:
            raise AuthenticationError(
                f"the API rejected this key, so nothing was stored: {error.message}",
                status_code=error.status_code,
                request_id=error.request_id,
                hint="copy the whole key (it starts with sk_) from app.smallest.ai/dashboard/api-keys",
            ) from error
    where = credentials.store(obj.profile, key, insecure=insecure_storage)
    obj.output.info(
        f"Logged in: key {credentials.mask(key)} for profile {obj.profile!r} is in {where}."
    )


def _read_key(obj: AppContext, with_key: bool) -> str:
    if with_key:
        if obj.output.stdin_isatty:
            raise UsageError(
                "--with-key reads the key from stdin, but stdin is a terminal",
                hint='pipe it in (printf %s "$KEY" | smallest auth login --with-key), '
                "or drop --with-key to get a hidden prompt",
            )
        return sys.stdin.read(MAX_KEY_INPUT)
    if not obj.output.stdin_isatty:
        raise UsageError(
            "no terminal to prompt for the key on",
            hint='pipe the key with --with-key: printf %s "$KEY" | smallest auth login --with-key',
        )
    import getpass

    try:
        return getpass.getpass("Paste your API key (input is hidden): ", stream=sys.stderr)
    except EOFError:
        raise UsageError("no key was entered") from None


@app.command()
def status(
    ctx: typer.Context,
    as_json: JsonFlag = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the API whether the key works.")
    ] = False,
) -> None:
    """Show the profile, where its key comes from, and whether the API accepts it.

    Exits 0 when the key works, 4 when there is none or the API rejects it, 1 when the API
    cannot be reached.

    Examples:

        $ smallest auth status

        $ smallest auth status --json | jq -r .source
    """
    from smallest_cli import credentials

    obj: AppContext = ctx.obj
    report: dict[str, Any] = {"profile": obj.profile, "logged_in": False}
    try:
        key = obj.api_key()
    except AuthError as error:
        if not as_json:
            raise
        report.update(error=error.message)
        obj.output.json(report)
        raise
    base_url = obj.resolved_base_url()
    report.update(
        logged_in=True,
        source=key.source,
        key=key.masked,
        base_url=base_url,
        api="not_checked",
        error=None,
    )
    failure: APIError | None = None
    if not offline:
        try:
            with obj.client() as client:
                client.voices.list()
            report["api"] = "accepted"
        except (AuthenticationError, PermissionDeniedError) as error:
            report.update(api="rejected", error=str(error))
            failure = error
        except APIError as error:
            report.update(api="unreachable", error=error.message)
            failure = error
    if as_json:
        obj.output.json(report)
    else:
        source = {
            "env": "SMALLEST_API_KEY environment variable",
            "keyring": "OS keyring",
            "file": f"file {credentials.credentials_file()}",
            "emulator": "built-in emulator key",
        }[key.source]
        verdict = {
            "accepted": "key accepted",
            "rejected": f"key rejected ({report['error']})",
            "unreachable": f"unreachable ({report['error']})",
            "not_checked": "not checked (--offline)",
        }[report["api"]]
        obj.output.fields(
            [
                ("Profile", obj.profile),
                ("Source", source),
                ("Key", key.masked),
                ("Base URL", base_url),
                ("API", verdict),
            ]
        )
    if failure is not None:
        raise failure


@app.command()
def logout(ctx: typer.Context) -> None:
    """Remove this profile's key from the OS keyring and the credentials file.

    Example:

        $ smallest auth logout --profile work
    """
    from smallest_cli import credentials

    obj: AppContext = ctx.obj
    removed = credentials.delete(obj.profile)
    if removed:
        obj.output.info(
            f"Logged out of profile {obj.profile!r}: removed the key from {' and '.join(removed)}."
        )
    else:
        obj.output.info(f"Profile {obj.profile!r} had no stored key; nothing to remove.")
    if os.environ.get(credentials.ENV_VAR, "").strip():
        obj.output.warn("SMALLEST_API_KEY is still set, so commands in this shell keep using it.")


@app.command()
def token(ctx: typer.Context) -> None:
    """Print the API key in use, for scripts.

    Example:

    \b
        $ curl -H "Authorization: Bearer $(smallest auth token)" \\
            https://api.smallest.ai/waves/v1/lightning-v3.1/get_voices
    """
    obj: AppContext = ctx.obj
    obj.output.data(obj.api_key().value)
