"""Settings: where they live, what they may be, and which one wins.

A value is resolved in this order: the command-line flag, then the `SMALLEST_<NAME>`
environment variable, then the profile's table in `config.toml`, then the built-in
default. The file lives in the platform's user config dir (`SMALLEST_CONFIG_DIR`
overrides it) and holds one table per profile:

    [default]
    voice = "magnus"

    [work]
    base_url = "http://127.0.0.1:8089"

The API key is never stored here (see credentials.py).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from smallest_cli.api import constants
from smallest_cli.audio.formats import TTS_DEFAULT_RATE, TTS_SAMPLE_RATES
from smallest_cli.errors import UsageError

DEFAULT_PROFILE = "default"
PROFILE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DICTS_TABLE = "dicts"
"""The table in a profile's that maps local dictionary names to ids (`smallest dict`)."""
AUDIO_FORMATS = ("wav", "mp3", "flac", "ogg", "pcm", "raw", "ulaw", "alaw")

Source = Literal["flag", "env", "config", "default"]


def config_dir() -> Path:
    """The directory for config.toml and the opt-in credentials file."""
    from smallest_cli.files import user_dir

    return user_dir("config", override="SMALLEST_CONFIG_DIR")


def make_config_dir() -> Path:
    """The config directory, created owner-only (0700): it may hold the credentials file."""
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def check_profile(name: str) -> str:
    """Return the profile name, or raise UsageError if it cannot be one."""
    if not PROFILE_PATTERN.match(name):
        raise UsageError(
            f"invalid profile name {name!r}",
            hint="use letters, digits, '-' and '_' (at most 64 characters)",
        )
    return name


def _choice(*allowed: Any) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        for value in allowed:
            if raw == str(value):
                return value
        raise ValueError("choose one of " + ", ".join(str(v) for v in allowed))

    return parse


def _model(raw: str) -> str:
    # Accept the hyphen spelling used by Get Voices and voice cloning (REFERENCE §6.1).
    normalised = raw.replace("lightning-v3.1", "lightning_v3.1").replace("-pro", "_pro")
    return str(_choice(*constants.TTS_MODELS)(normalised))


def _base_url(raw: str) -> str:
    if not re.match(r"^https?://[^\s/]+", raw):
        raise ValueError("give an http:// or https:// URL, e.g. https://api.smallest.ai")
    return raw.rstrip("/")


def _stt_model(raw: str) -> str:
    return str(_choice(*constants.STT_MODELS)(raw.lower().replace("_", "-")))


def _streaming_only() -> tuple[str, ...]:
    return tuple(c for c in constants.STT_STREAMING_LANGUAGES if c not in constants.STT_LANGUAGES)


def _voice(raw: str) -> str:
    if not raw.strip() or any(c.isspace() for c in raw):
        raise ValueError("a voice id has no spaces, e.g. magnus")
    return raw


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:
            raise ValueError(f"give a number from {low:g} to {high:g}")
        return value

    return parse


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("give a whole number of at least 1")
    return value


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"give a whole number from {low} to {high}")
        return value

    return parse


def _switch(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ValueError("give true or false")


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, help line, parser and built-in default."""

    name: str
    help: str
    parse: Callable[[str], Any]
    default: Any = None

    @property
    def env_var(self) -> str:
        return "SMALLEST_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("base_url", "API base URL", _base_url, constants.DEFAULT_BASE_URL),
        Setting("voice", "default TTS voice id", _voice, "magnus"),
        Setting("model", "default TTS model", _model, "lightning_v3.1"),
        Setting("language", "default language code", _choice(*constants.TTS_LANGUAGES), "en"),
        Setting(
            "sample_rate", "default sample rate (Hz)", _choice(*TTS_SAMPLE_RATES), TTS_DEFAULT_RATE
        ),
        Setting("format", "default audio format", _choice(*AUDIO_FORMATS), "wav"),
        Setting("stt_model", "default speech-to-text model", _stt_model, "pulse"),
        Setting(
            "stt_language",
            "default speech-to-text language",
            _choice(*constants.STT_LANGUAGES, *_streaming_only()),
            "en",
        ),
        Setting("chat_system", "default system prompt for `smallest chat`", str, None),
        Setting("chat_temperature", "default chat temperature (0-2)", _number(0, 2), None),
        Setting("chat_top_p", "default chat top_p (0-1)", _number(0, 1), None),
        Setting(
            "chat_max_tokens",
            "default chat reply limit in tokens (1-32768)",
            _whole_number(1, 32768),
            None,
        ),
        Setting("chat_log", "store chats in the history (true or false)", _switch, True),
    )
}


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from."""

    name: str
    value: Any
    source: Source


def lookup(name: str) -> Setting:
    """The Setting called `name`, or a UsageError listing the known ones."""
    if name in ("api_key", "key", "token"):
        raise UsageError(
            "the API key is never stored in config.toml",
            hint="run `smallest auth login`, or set SMALLEST_API_KEY",
        )
    try:
        return SETTINGS[name]
    except KeyError:
        raise UsageError(
            f"unknown setting {name!r}", hint="known settings: " + ", ".join(SETTINGS)
        ) from None


class Config:
    """The settings of one profile, backed by config.toml."""

    def __init__(self, profile: str = DEFAULT_PROFILE, directory: Path | None = None) -> None:
        self.profile = check_profile(profile)
        self.path = (directory or config_dir()) / "config.toml"
        self._document: dict[str, dict[str, Any]] | None = None

    @property
    def document(self) -> dict[str, dict[str, Any]]:
        if self._document is None:
            self._document = self._read()
        return self._document

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            from smallest_cli.files import unreadable

            raise unreadable(self.path, exc) from exc
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"{self.path} is not valid TOML: {exc}",
                hint="fix the file, or delete it to start over",
            ) from exc
        return {k: v for k, v in document.items() if isinstance(v, dict)}

    def stored(self) -> dict[str, Any]:
        """This profile's table as written in the file."""
        return dict(self.document.get(self.profile, {}))

    def resolve(self, name: str, flag: Any = None) -> Resolved:
        """The effective value of `name`: flag > env > config.toml > built-in default."""
        setting = lookup(name)
        if flag is not None:
            return Resolved(name, flag, "flag")
        raw_env = os.environ.get(setting.env_var)
        if raw_env:
            return Resolved(name, _parse(setting, raw_env, f"{setting.env_var}={raw_env!r}"), "env")
        stored = self.stored()
        if name in stored:
            where = f"{name} = {stored[name]!r} in {self.path} [{self.profile}]"
            return Resolved(name, _parse(setting, str(stored[name]), where), "config")
        return Resolved(name, setting.default, "default")

    def describe(self, resolved: Resolved, flag: str | None = None) -> str:
        """Where a resolved value came from, as an error message names it; `flag` is the
        option that can give it (`--language`), so a flag's value is named by that option."""
        if resolved.source == "flag" and flag is not None:
            return f"{flag} {resolved.value!r}"
        if resolved.source == "env":
            return f"{lookup(resolved.name).env_var}={resolved.value!r}"
        if resolved.source == "config":
            return f"{resolved.name} = {resolved.value!r} in {self.path}"
        return repr(resolved.value)

    def get(self, name: str, flag: Any = None) -> Any:
        return self.resolve(name, flag).value

    def set(self, name: str, raw: str) -> Any:
        """Validate and store a value for this profile; return the parsed value."""
        setting = lookup(name)
        value = _parse(setting, raw, f"{raw!r} for {name}")
        self.document.setdefault(self.profile, {})[name] = value
        self._write()
        return value

    def unset(self, name: str) -> bool:
        """Remove a stored value; False if there was none."""
        lookup(name)
        table = self.document.get(self.profile, {})
        if name not in table:
            return False
        del table[name]
        if not table:
            self.document.pop(self.profile, None)
        self._write()
        return True

    # -- pronunciation dictionaries' local names (a `[<profile>.dicts]` table) -----------

    def dictionary_names(self) -> dict[str, str]:
        """NAME → id of the dictionaries this profile knows by a local name."""
        table = self.document.get(self.profile, {}).get(DICTS_TABLE)
        if not isinstance(table, dict):
            return {}
        return {str(k): str(v) for k, v in table.items() if isinstance(v, str)}

    def remember_dictionary(self, name: str, dictionary_id: str) -> None:
        table = self.document.setdefault(self.profile, {}).setdefault(DICTS_TABLE, {})
        table[name] = dictionary_id
        self._write()

    def forget_dictionary(self, name: str) -> None:
        profile = self.document.get(self.profile, {})
        table = profile.get(DICTS_TABLE, {})
        if name in table:
            del table[name]
            if not table:
                del profile[DICTS_TABLE]
            if not profile:
                self.document.pop(self.profile, None)
            self._write()

    def _write(self) -> None:
        from smallest_cli.files import write_atomically

        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(self.path, dump_toml(self.document))


def parse_value(name: str, raw: str, where: str) -> Any:
    """Parse `raw` as setting `name`; a UsageError that says `where` the value came from."""
    return _parse(lookup(name), raw, where)


def _parse(setting: Setting, raw: str, where: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise UsageError(f"invalid {where}: {exc}") from None


def dump_toml(document: dict[str, dict[str, Any]]) -> str:
    """Serialise profile tables of strings and integers (all config.toml ever holds), and
    their sub-tables of the same (`[default.dicts]`)."""
    lines = ["# smallest-cli settings; edit with `smallest config set KEY VALUE`."]
    for profile, table in document.items():
        lines += ["", f"[{profile}]"]
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
        for key, value in table.items():
            if key not in subtables:
                lines.append(f"{key} = {_toml_value(value)}")
        for name, subtable in subtables.items():
            lines += ["", f"[{profile}.{name}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in subtable.items()]
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
