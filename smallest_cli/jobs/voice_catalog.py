"""The voice catalog, cached on disk: what `voices`, `tts say --voice` and completion know.

Two documented endpoints are merged by voice id (REFERENCE §7): Get Voices gives the tags
(gender, accent, age, languages, use cases, emotions), Get All Voices the description, the
preview URL and `_id`. When Get All Voices fails (404, 5xx, a body of another shape), the
catalog is Get Voices alone, and it goes stale sooner so the next run tries again.

The cache is one JSON file per API, so the emulator and the real API never share one. The
key is the base URL, or `emulator` for the in-process emulator of `--emulator` (its port
changes on every run but its catalog does not):

    <cache dir>/voices-<first 16 hex digits of sha256(key)>.json

    {"format": 1, "key": "https://api.smallest.ai", "fetched_at": 1755000000.0,
     "get_voices": [<entries>], "get_all_voices": [<entries>] | null,
     "get_all_voices_error": null | "<why it failed>",
     "clones": [<entries>] | null, "clones_error": null | "<why it failed>"}

The account's voice clones (REFERENCE §8.2) join the catalog as entries with `cloned: true`,
their `modelIds`, and `tags` holding their language and accent; `clone create` adds a new
one to the cache at once (`remember_clone`). A cache written before clones were kept has
no `clones` key and reads as none.

Entries keep the API's own fields (`voiceId`, `displayName`, `tags`, `description`,
`audioPreview`, `_id` and any `model`/`models`/`modelIds`/`pool`) and are merged when read,
so a newer version of this tool still understands an older file. The cache dir is the
platform's user cache dir (`SMALLEST_CACHE_DIR` moves it). A cache is fresh for 24 hours
(1 hour when Get All Voices failed); a missing, corrupt or unreadable file is refetched,
never an error, and a cache that cannot be written is skipped. Writes are atomic.

Import cost: stdlib and our own light modules only. Shell completion reads the cache
through this module and never loads httpx.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smallest_cli.api.constants import TTS_MODEL_LANGUAGES
from smallest_cli.api.voices import MODEL_FIELDS, Voice
from smallest_cli.errors import APIError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.cloning import Clone
    from smallest_cli.context import AppContext

FORMAT = 1
TTL = 24 * 3600.0
"""Seconds a complete catalog stays fresh."""
PARTIAL_TTL = 3600.0
"""Seconds a catalog without Get All Voices (no descriptions or previews) stays fresh."""
CLOCK_SKEW = 300.0
EMULATOR_KEY = "emulator"
KEEP_FIELDS = ("voiceId", "displayName", "tags", "description", "audioPreview", "_id", "cloned")

STANDARD = "lightning_v3.1"
PRO = "lightning_v3.1_pro"

LANGUAGES: dict[str, str] = {
    "en": "english", "hi": "hindi", "mr": "marathi", "kn": "kannada", "ta": "tamil",
    "bn": "bengali", "gu": "gujarati", "te": "telugu", "ml": "malayalam", "pa": "punjabi",
    "or": "odia", "es": "spanish", "de": "german", "fr": "french", "it": "italian",
    "nl": "dutch", "sv": "swedish", "pt": "portuguese", "ru": "russian", "el": "greek",
    "fi": "finnish", "no": "norwegian", "pl": "polish", "ar": "arabic", "zh": "chinese",
    "id": "indonesian", "ja": "japanese", "ko": "korean", "ms": "malay", "tr": "turkish",
    "vi": "vietnamese",
}  # fmt: skip
"""Language code → the lowercase name Get Voices uses in `tags.language` (REFERENCE §6.1)."""

STANDARD_LANGUAGE_CODES = frozenset(TTS_MODEL_LANGUAGES[STANDARD])
"""The codes `lightning_v3.1` accepts; `lightning_v3.1_pro` accepts all of LANGUAGES."""

PRO_ONLY_LANGUAGES = frozenset(
    name for code, name in LANGUAGES.items() if code not in STANDARD_LANGUAGE_CODES
)
"""greek, finnish, norwegian, chinese, japanese, korean, indonesian, malay, vietnamese,
turkish, arabic: languages only `lightning_v3.1_pro` speaks."""


def language_name(value: str) -> str | None:
    """The catalog's name for a language given as a code or a name, any case; None if unknown.

    `language_name("JA") == language_name("japanese") == "japanese"`.
    """
    text = value.strip().casefold()
    if text in LANGUAGES:
        return LANGUAGES[text]
    return text if text in LANGUAGES.values() else None


# -- pools --------------------------------------------------------------------------------


def known_pools(voice: Voice) -> frozenset[str] | None:
    """The TTS models (`lightning_v3.1`, `lightning_v3.1_pro`) a voice is known to serve.

    Get Voices returns the standard and Pro pools together with no per-voice pool flag
    (REFERENCE §7.1), and the API does not check the pairing: a Pro-only voice sent with
    `lightning_v3.1` gives wrong audio instead of an error (§6.1). So this infers what it
    can, from what the API does say:

    1. An explicit field, if the entry has one (`model`, `models`, `modelIds` or `pool`,
       none of which Get Voices sends today): its values, in any of the API's spellings
       (`lightning-v3.1`, `lightning_v3.1_pro`, `pro`, `standard`), are the answer. An
       empty set means the entry names only models that are not current TTS models (an
       old `lightning-large` clone), so neither current model suits it.
    2. Otherwise, the voice's trained languages (`tags.language`): one that only
       `lightning_v3.1_pro` speaks (see PRO_ONLY_LANGUAGES) makes it a Pro voice, and the
       answer is `{"lightning_v3.1_pro"}`; `jasper` (japanese) is one.
    3. Otherwise None: unknown. Most voices land here, Pro ones too (a Pro voice trained on
       English looks exactly like a standard one), so None never means "standard".

    Refuse a pairing only when the answer is a set that lacks the model:

        pools = known_pools(voice)
        if pools is not None and model not in pools:
            raise UsageError(
                f"{voice.voice_id} is not a {model} voice ({pool_reason(voice)})",
                hint=f"use --model {' or '.join(sorted(pools))}" if pools else None,
            )
    """
    if voice.models:
        return frozenset(p for p in map(_pool, voice.models) if p is not None)
    if _pro_only_languages(voice):
        return frozenset({PRO})
    return None


def speaking_model(voice: Voice) -> str:
    """The model to speak in `voice`: Pro when the catalog shows only Pro serves it."""
    pools = known_pools(voice)
    return PRO if pools is not None and STANDARD not in pools else STANDARD


def pool_reason(voice: Voice) -> str | None:
    """Why known_pools() answers as it does, in words for a message; None when unknown."""
    if voice.models:
        return "the API lists it for " + ", ".join(voice.models)
    pro_only = _pro_only_languages(voice)
    if pro_only:
        return f"it speaks {', '.join(pro_only)}, which only {PRO} supports"
    return None


def _pro_only_languages(voice: Voice) -> list[str]:
    names = (language_name(lang) or lang.casefold() for lang in voice.languages)
    return [name for name in names if name in PRO_ONLY_LANGUAGES]


def _pool(name: str) -> str | None:
    text = name.strip().casefold().replace("-", "_")
    if text in (STANDARD, "standard", "std"):
        return STANDARD
    if text in (PRO, "pro"):
        return PRO
    return None


# -- the catalog --------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The merged voices of one API, and where they came from."""

    key: str
    voices: tuple[Voice, ...]
    fetched_at: float
    from_cache: bool
    partial: str | None = None
    """Why descriptions and previews are missing (Get All Voices failed), else None."""

    def find(self, voice_id: str) -> Voice | None:
        """The voice with this id (exactly, else ignoring case), or None."""
        for voice in self.voices:
            if voice.voice_id == voice_id:
                return voice
        folded = voice_id.casefold()
        return next((v for v in self.voices if v.voice_id.casefold() == folded), None)

    def close_matches(self, voice_id: str, n: int = 3) -> list[str]:
        """Up to `n` voice ids that look like `voice_id` (a typo, a display name)."""
        ids = {v.voice_id.casefold(): v.voice_id for v in self.voices}
        names = {v.display_name.casefold(): v.voice_id for v in self.voices}
        folded = voice_id.casefold()
        import difflib

        found = [ids[m] for m in difflib.get_close_matches(folded, ids, n=n, cutoff=0.7)]
        found += [names[m] for m in difflib.get_close_matches(folded, names, n=n, cutoff=0.7)]
        found += [v.voice_id for v in self.voices if folded and v.voice_id.startswith(folded)]
        return list(dict.fromkeys(found))[:n]


def load(
    client: SmallestClient | Callable[[], SmallestClient],
    *,
    key: str | None = None,
    refresh: bool = False,
    log: Callable[[str], None] | None = None,
    voice: str | None = None,
) -> Catalog:
    """The catalog for `key` (default: the client's base URL), from the cache when fresh.

    With `voice`, the catalog holds only the voices with that id (ignoring case): one
    lookup need not build every voice of the cache.

    `client` may be a factory (like `AppContext.client`), called only when a request is
    needed, so a fresh cache costs no key lookup and no emulator start. `refresh=True`
    always refetches. Errors of Get Voices propagate (APIError, AuthenticationError, …);
    errors of Get All Voices only make the catalog partial.
    """
    made: list[SmallestClient] = []

    def get_client() -> SmallestClient:
        if not made:
            made.append(client() if callable(client) else client)
        return made[0]

    if key is None:
        key = get_client().base_url
    path = cache_path(key)
    if not refresh:
        cached = _read(path, key, voice)
        if cached is not None and _fresh(cached):
            if log is not None:
                age = max(0.0, _now() - cached.fetched_at)
                log(f"voices from the cache {path} ({age / 60:.0f} min old)")
            return cached
    document = _fetch(get_client(), key)
    _write(path, document, log)
    return _catalog(key, document, from_cache=False, voice=voice)


def get_voices(
    client: SmallestClient | Callable[[], SmallestClient],
    *,
    key: str | None = None,
    refresh: bool = False,
) -> list[Voice]:
    """The voices for a client (cached; fetched when stale or when `refresh` is true)."""
    return list(load(client, key=key, refresh=refresh).voices)


def context_key(obj: AppContext) -> str:
    """The cache key for a command's AppContext: `emulator`, or the resolved base URL."""
    if obj.emulator:
        if obj.base_url is not None:
            obj.resolved_base_url()  # reports --emulator with --base-url as a usage error
        return EMULATOR_KEY
    return obj.resolved_base_url().rstrip("/")


def load_for(obj: AppContext, *, refresh: bool = False, voice: str | None = None) -> Catalog:
    """The catalog for a command: its API, its client, `--debug` notes about the cache
    (only `voice`'s entries, when given; see `load`)."""
    return load(
        obj.client,
        key=context_key(obj),
        refresh=refresh,
        log=obj.output.debug if obj.debug else None,
        voice=voice,
    )


def cached_voices(key: str) -> list[Voice]:
    """The cached voices for `key`, however old, without any network; [] when none."""
    cached = _read(cache_path(key), key)
    return [] if cached is None else list(cached.voices)


def cached_voice(key: str, voice_id: str) -> Voice | None:
    """One cached voice (id matched exactly, else ignoring case), without any network.

    None when there is no cache for `key` or the id is not in it. For a command, the key
    is `context_key(obj)`, which also covers `--emulator`.
    """
    cached = _read(cache_path(key), key)
    return None if cached is None else cached.find(voice_id)


def cache_dir() -> Path:
    """Where cached catalogs live: SMALLEST_CACHE_DIR, else the user cache dir."""
    from smallest_cli.files import user_dir

    return user_dir("cache", override="SMALLEST_CACHE_DIR")


def cache_path(key: str) -> Path:
    """The cache file for one API (base URL, or `emulator`)."""
    import hashlib

    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return cache_dir() / f"voices-{digest}.json"


def _now() -> float:
    return time.time()


def _fetch(client: SmallestClient, key: str) -> dict[str, Any]:
    api = client.voices
    entries = api.entries()
    catalog: list[dict[str, Any]] | None
    try:
        catalog = api.catalog_entries()
        error = None
    except APIError as exc:
        catalog, error = None, str(exc)
    clones: list[dict[str, Any]] | None
    try:
        clones = [clone_entry(c) for c in client.cloning.list()]
        clones_error = None
    except APIError as exc:
        clones, clones_error = None, str(exc)
    return {
        "format": FORMAT,
        "key": key,
        "fetched_at": _now(),
        "get_voices": [_keep(e) for e in entries],
        "get_all_voices": None if catalog is None else [_keep(e) for e in catalog],
        "get_all_voices_error": error,
        "clones": clones,
        "clones_error": clones_error,
    }


def clone_entry(clone: Clone) -> dict[str, Any]:
    """A clone as a catalog entry (the shape Get Voices gives, marked `cloned`)."""
    tags: dict[str, Any] = {}
    if clone.language:
        tags["language"] = [language_name(clone.language) or clone.language]
    if clone.accent:
        tags["accent"] = clone.accent
    entry: dict[str, Any] = {
        "voiceId": clone.voice_id,
        "displayName": clone.display_name,
        "tags": tags,
        "modelIds": list(clone.models),
        "cloned": True,
    }
    if clone.status:
        entry["status"] = clone.status
    if clone.description:
        entry["description"] = clone.description
    return entry


def refreshed_clone(obj: AppContext, voice_id: str) -> Voice | None:
    """One clone as the voice-cloning list says now (one request), the cache updated."""
    with obj.client() as client:
        clones = client.cloning.list()
    remember_clones(context_key(obj), clones)
    found = [c for c in clones if c.voice_id == voice_id]
    return Voice.from_api(clone_entry(found[0])) if found else None


def remember_clone(key: str, clone: Clone) -> None:
    """Add (or update) one clone in the cached catalog for `key`, if there is one."""
    remember_clones(key, [clone], replace_all=False)


def remember_clones(key: str, clones: Iterable[Clone], *, replace_all: bool = True) -> None:
    """Put the account's clones into the cached catalog for `key` (all of them, or, with
    `replace_all=False`, these in addition); no cache, nothing to do. Not for --emulator:
    its clones end with the command that made them."""
    if key == EMULATOR_KEY:
        return
    path = cache_path(key)
    if _read(path, key) is None:
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    known = {} if replace_all else {e["voiceId"]: e for e in document.get("clones") or []}
    for clone in clones:
        known[clone.voice_id] = clone_entry(clone)
    document["clones"] = list(known.values())
    document["clones_error"] = None
    _write(path, document, None)


def _keep(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in (*KEEP_FIELDS, *MODEL_FIELDS) if k in entry}


def _read(path: Path, key: str, voice: str | None = None) -> Catalog | None:
    """The cached catalog, or None when it is missing, unreadable, corrupt or not ours."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (
        isinstance(document, dict)
        and document.get("format") == FORMAT
        and document.get("key") == key
        and isinstance(document.get("fetched_at"), int | float)
        and _entries_ok(document.get("get_voices"))
        and (document.get("get_all_voices") is None or _entries_ok(document["get_all_voices"]))
        and (document.get("clones") is None or _entries_ok(document["clones"]))
    ):
        return None
    try:
        return _catalog(key, document, from_cache=True, voice=voice)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _entries_ok(entries: Any) -> bool:
    return isinstance(entries, list) and all(
        isinstance(e, dict) and isinstance(e.get("voiceId"), str) and e["voiceId"] for e in entries
    )


def _fresh(catalog: Catalog) -> bool:
    ttl = PARTIAL_TTL if catalog.partial is not None else TTL
    age = _now() - catalog.fetched_at
    return -CLOCK_SKEW <= age < ttl


def _write(path: Path, document: Mapping[str, Any], log: Callable[[str], None] | None) -> None:
    from smallest_cli.files import write_atomically

    try:
        write_atomically(path, json.dumps(document, ensure_ascii=False))
    except OSError as exc:
        if log is not None:
            log(f"could not write the voice cache {path}: {exc}")


def _catalog(
    key: str, document: Mapping[str, Any], *, from_cache: bool, voice: str | None = None
) -> Catalog:
    catalog = document.get("get_all_voices")
    partial = None
    if catalog is None:
        partial = str(document.get("get_all_voices_error") or "Get All Voices failed")
    primary, extra = document["get_voices"], catalog or []
    clones = document.get("clones") or []
    if voice is not None:
        primary, extra, clones = (_named(e, voice) for e in (primary, extra, clones))
    merged = _merge(primary, extra)
    ids = {e["voiceId"] for e in merged}
    merged += [dict(e) for e in clones if e["voiceId"] not in ids]
    voices = tuple(Voice.from_api(e) for e in merged)
    return Catalog(key, voices, float(document["fetched_at"]), from_cache, partial)


def _named(entries: Iterable[Mapping[str, Any]], voice_id: str) -> list[Mapping[str, Any]]:
    folded = voice_id.casefold()
    return [e for e in entries if str(e["voiceId"]).casefold() == folded]


def _merge(
    primary: Iterable[Mapping[str, Any]], catalog: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Get Voices entries (in their order) completed by Get All Voices, then catalog-only ones.

    A non-empty value from Get Voices wins, tag by tag; Get All Voices fills the gaps.
    """
    extra = {str(e["voiceId"]): e for e in catalog}
    merged: dict[str, dict[str, Any]] = {}
    for entry in primary:
        voice_id = str(entry["voiceId"])
        if voice_id not in merged:
            merged[voice_id] = _overlay(extra.get(voice_id, {}), entry)
    for voice_id, entry in extra.items():
        merged.setdefault(voice_id, dict(entry))
    return list(merged.values())


def _overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    result = {**base, **{k: v for k, v in top.items() if not _empty(v)}}
    base_tags, top_tags = base.get("tags"), top.get("tags")
    if isinstance(base_tags, Mapping) and isinstance(top_tags, Mapping):
        result["tags"] = {**base_tags, **{k: v for k, v in top_tags.items() if not _empty(v)}}
    return result


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# -- shell completion ---------------------------------------------------------------------


def complete_voice_id(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """Completion for a voice id: ids from the cache only (no network), with a summary.

    Use it as `typer.Argument(autocompletion=complete_voice_id)` or the same on an option
    (`tts say --voice`). The cache is the one of the API the command line points at
    (`--emulator`, `--base-url`, `--profile`, their env vars, config.toml); with no cache
    yet there is nothing to offer, and `smallest voices list` fills it.
    """
    try:
        key = _completion_key(ctx)
        voices = cached_voices(key)
    except Exception:  # completion must never print a traceback into the shell
        return []
    prefix = incomplete.casefold()
    return [(v.voice_id, _summary(v)) for v in voices if v.voice_id.casefold().startswith(prefix)]


def _completion_key(ctx: Any) -> str:
    root = ctx.find_root() if hasattr(ctx, "find_root") else None
    params: Mapping[str, Any] = getattr(root, "params", None) or {}
    emulator_env = os.environ.get("SMALLEST_EMULATOR", "").strip().casefold()
    if params.get("use_emulator") or emulator_env in ("1", "true", "t", "yes", "y", "on"):
        return EMULATOR_KEY
    from smallest_cli.config import Config

    profile = completion_profile(ctx)
    return str(Config(profile).get("base_url", params.get("base_url"))).rstrip("/")


def completion_key(ctx: Any) -> str:
    """The cache key of the API a command line being completed points at (no network)."""
    return _completion_key(ctx)


def completion_profile(ctx: Any) -> str:
    """The profile a command line being completed uses (--profile, SMALLEST_PROFILE)."""
    root = ctx.find_root() if hasattr(ctx, "find_root") else None
    params: Mapping[str, Any] = getattr(root, "params", None) or {}
    return str(params.get("profile") or os.environ.get("SMALLEST_PROFILE") or "default")


def _summary(voice: Voice) -> str:
    accent = f"{voice.accent} accent" if voice.accent else None
    parts = [voice.display_name, voice.gender, voice.age, accent, "/".join(voice.languages)]
    return ", ".join(p for p in parts if p)
