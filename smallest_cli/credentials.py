"""Finding, storing and removing the API key.

Lookup order, first hit wins:

1. the `SMALLEST_API_KEY` environment variable;
2. the OS keyring: service `smallest-cli`, account = the profile name;
3. `credentials.json` in the config dir (mode 0600), written only by
   `smallest auth login --insecure-storage`.

When none has a key the caller gets `NotLoggedIn`, or `KeyringUnavailable` when the
keyring could not even be asked; there is never a silent fall back to plain text. Every
keyring call runs with a timeout, because an OS keyring can hang on an unlock prompt.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from smallest_cli.config import config_dir, make_config_dir
from smallest_cli.errors import KeyringUnavailable, NotLoggedIn, UsageError
from smallest_cli.files import write_atomically

ENV_VAR = "SMALLEST_API_KEY"
SERVICE = "smallest-cli"
KEYRING_TIMEOUT = 5.0

KeySource = Literal["env", "keyring", "file", "emulator"]
T = TypeVar("T")


@dataclass(frozen=True)
class ApiKey:
    """A key and where it was found."""

    value: str = ""
    source: KeySource = "env"

    @property
    def masked(self) -> str:
        return mask(self.value)

    def __repr__(self) -> str:  # never show the key in a traceback or a log
        return f"ApiKey(value={self.masked!r}, source={self.source!r})"


def mask(key: str) -> str:
    """`sk_…3f9a`: enough to tell keys apart, useless to anyone else."""
    if len(key) < 12:
        return "…"
    prefix = key[:3] if key.startswith("sk_") else ""
    return f"{prefix}…{key[-4:]}"


def check_key_shape(key: str) -> str:
    """Strip surrounding whitespace; refuse what cannot be a key."""
    key = key.strip()
    if not key:
        raise UsageError("no API key given", hint="paste the key from app.smallest.ai")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise UsageError(
            "the API key contains spaces or control characters",
            hint='give the key alone, e.g. `printf %s "$KEY" | smallest auth login --with-key`',
        )
    return key


def credentials_file() -> Path:
    return config_dir() / "credentials.json"


def resolve(profile: str) -> ApiKey:
    """The key to use for `profile`, following the lookup order above."""
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return ApiKey(from_env, "env")
    keyring_problem: KeyringUnavailable | None = None
    try:
        stored = _keyring_call(_get_password, profile)
    except KeyringUnavailable as exc:
        keyring_problem, stored = exc, None
    if stored:
        return ApiKey(stored, "keyring")
    from_file = _read_file().get(profile)
    if from_file:
        return ApiKey(from_file, "file")
    login = "smallest auth login" + ("" if profile == "default" else f" --profile {profile}")
    if keyring_problem is not None:
        raise KeyringUnavailable(
            f"not logged in, and {keyring_problem.message}",
            hint=f"set SMALLEST_API_KEY, or run `{login} --insecure-storage` "
            f"to keep the key in a 0600 file ({credentials_file()})",
        )
    raise NotLoggedIn(
        "not logged in" + ("" if profile == "default" else f" (profile {profile!r})"),
        hint=f"run `{login}`, or set SMALLEST_API_KEY",
    )


def store(profile: str, key: str, *, insecure: bool) -> str:
    """Save `key` for `profile`; return a phrase saying where it went.

    The other store is cleared for this profile, so that lookup can never find a stale key.
    """
    if insecure:
        entries = _read_file()
        entries[profile] = key
        _write_file(entries)
        try:
            _keyring_call(_delete_password, profile)
        except KeyringUnavailable:
            pass
        return f"the file {credentials_file()} (plain text, mode 0600)"
    backend = _keyring_call(_set_password, profile, key)
    if _keyring_call(_get_password, profile) != key:
        raise KeyringUnavailable(
            f"the keyring backend {backend} accepted the key but did not keep it",
            hint="set SMALLEST_API_KEY, or use `smallest auth login --insecure-storage`",
        )
    _remove_from_file(profile)
    return "the OS keyring"


def delete(profile: str) -> list[str]:
    """Remove the stored key of `profile`; return the places it was removed from."""
    removed = []
    problem: KeyringUnavailable | None = None
    try:
        if _keyring_call(_delete_password, profile):
            removed.append("the OS keyring")
    except KeyringUnavailable as exc:
        problem = exc
    if _remove_from_file(profile):
        removed.append(str(credentials_file()))
    if problem is not None and not removed:
        raise problem
    return removed


# -- the OS keyring -------------------------------------------------------------------


def _get_password(profile: str) -> str | None:
    import keyring

    return keyring.get_password(SERVICE, profile)


def _set_password(profile: str, key: str) -> str:
    import keyring

    keyring.set_password(SERVICE, profile, key)
    return type(keyring.get_keyring()).__module__.removeprefix("keyring.backends.")


def _delete_password(profile: str) -> bool:
    import keyring
    from keyring.errors import NoKeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, profile)
    except (PasswordDeleteError, NoKeyringError):  # no keyring at all holds no key either
        return False
    return True


def _keyring_call(function: Callable[..., T], *args: Any) -> T:
    """Run a keyring call with a timeout, turning its failures into KeyringUnavailable."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="keyring", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    hint = "set SMALLEST_API_KEY, or run `smallest auth login --insecure-storage`"
    if worker.is_alive():
        raise KeyringUnavailable(
            f"the OS keyring did not answer within {KEYRING_TIMEOUT:g} s", hint=hint
        )
    error = outcome.get("error")
    if error is None:
        return outcome["value"]  # type: ignore[no-any-return]
    raise KeyringUnavailable(_describe_keyring_error(error), hint=hint) from error


def _describe_keyring_error(error: BaseException) -> str:
    from keyring.errors import KeyringLocked, NoKeyringError

    if isinstance(error, NoKeyringError):
        return "no OS keyring backend is available (headless system or no Secret Service)"
    if isinstance(error, KeyringLocked):
        return "the OS keyring is locked"
    text = str(error).strip().splitlines()
    return "the OS keyring failed: " + (text[0] if text else type(error).__name__)


# -- the opt-in credentials file ------------------------------------------------------


def _read_file() -> dict[str, str]:
    path = credentials_file()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read {path}: {exc}", hint="delete the file and log in again"
        ) from exc
    if not isinstance(entries, dict):
        return {}
    return {str(k): str(v) for k, v in entries.items() if isinstance(v, str)}


def _write_file(entries: dict[str, str]) -> None:
    make_config_dir()
    write_atomically(credentials_file(), json.dumps(entries, indent=2) + "\n", private=True)


def _remove_from_file(profile: str) -> bool:
    entries = _read_file()
    if profile not in entries:
        return False
    del entries[profile]
    if entries:
        _write_file(entries)
    else:
        credentials_file().unlink(missing_ok=True)
    return True
