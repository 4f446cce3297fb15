"""What `smallest dict` does, between parsing the options and the API client.

A dictionary is named on the command line by its id or by a local name: `push --name` and
`create --name` remember NAME → id in the profile's config.toml (`[<profile>.dicts]`).
`dict list` also keeps a small cache of the ids it saw (beside the voice cache), which shell
completion reads: completion never makes a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smallest_cli.dictionary_file import (
    DictionaryFileError,
    Entry,
    difference,
    file_format,
    from_pairs,
    has_content,
    listing,
    load,
    parse,
    read_as_comments,
    render,
    sniff_format,
    sorted_entries,
)
from smallest_cli.errors import APIError, SmallestError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.dictionaries import DictionariesAPI, Dictionary
    from smallest_cli.context import AppContext

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
ID_SHAPES = (
    re.compile(r"^[0-9a-f]{24}$"),  # a MongoDB ObjectId, as the API's examples show
    re.compile(r"^(?=.*[0-9])[A-Za-z0-9_-]{16,}$"),  # any other long token with a digit
)
FIRST_WORDS = 3
LIST_HINT = "`smallest dict list` shows the dictionaries and their ids"
PULL_HEADER = (
    "word<TAB>pronunciation per line; # starts a comment; matching is case-sensitive.",
    "Send changes with: smallest dict push FILE --name NAME",
)


# -- names and ids -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A dictionary as named on the command line: its id, and its local name if it has one."""

    id: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


def check_name(name: str) -> str:
    """A local name: a letter, then letters, digits, `_`, `-` or `.`; never an API id's shape
    (24 hex digits). A name is looked up before any id, so other id-like names still work."""
    if not NAME_PATTERN.match(name) or ID_SHAPES[0].match(name):
        raise UsageError(
            f"invalid dictionary name {name!r}",
            hint="start with a letter; use letters, digits, '_', '-' or '.' (at most 64)",
        )
    return name


def looks_like_id(value: str) -> bool:
    return any(shape.match(value) for shape in ID_SHAPES)


def resolve(obj: AppContext, value: str) -> Target:
    """The dictionary `value` names: a local name of this profile, else an id. A value that
    is neither a known name nor shaped like an id is refused before any request (exit 2)."""
    names = obj.config.dictionary_names()
    if value in names:
        return Target(names[value], value)
    by_id = {i: n for n, i in names.items()}
    if value in by_id or looks_like_id(value) or value in cached_ids(obj):
        return Target(value, by_id.get(value))
    raise UsageError(
        f"no dictionary named {value!r} in profile {obj.profile!r}",
        hint=f"{LIST_HINT}; `smallest dict push FILE --name {value}` creates one by that name",
    )


def resolve_ids(obj: AppContext, values: list[str] | None) -> tuple[str, ...]:
    """`tts say --dict` values (ids or local names) as ids, in order, without repeats."""
    ids: list[str] = []
    for value in values or ():
        found = resolve(obj, value).id
        if found not in ids:
            ids.append(found)
    return tuple(ids)


def fetch(api: DictionariesAPI, target: Target) -> Dictionary:
    """The dictionary from the API; an APIError (exit 1) when the id is unknown there."""
    found = api.get(target.id)
    if found is None:
        if target.name:
            raise APIError(
                f"the dictionary {target.name!r} (id {target.id}) no longer exists on the API",
                hint=f"{LIST_HINT}; `smallest dict push FILE --name {target.name} --force` "
                "creates it again",
            )
        raise APIError(f"no dictionary {target.id!r} on the API", hint=LIST_HINT)
    return found


# -- reading entries -------------------------------------------------------------------------


def read_entries(obj: AppContext, source: str) -> list[Entry]:
    """The entries of FILE or `-` (stdin), checked; a UsageError names the line."""
    from smallest_cli.text import read_text

    text = read_text(None, source, obj.output.stdin_isatty)
    label = "stdin" if source == "-" else source
    return load(text, label, sniff_format(text) if source == "-" else file_format(source))


# -- commands ---------------------------------------------------------------------------------


def list_dictionaries(obj: AppContext, as_json: bool) -> None:
    dictionaries = obj.client().dictionaries.list()
    _write_cache(obj, dictionaries)
    names = _names_by_id(obj)
    if as_json:
        obj.output.json([_json(d, names.get(d.id)) for d in dictionaries])
        return
    if not dictionaries:
        if obj.output.stdout_isatty:
            obj.output.info("No dictionaries yet; `smallest dict create FILE` makes one.")
        return
    tty = obj.output.stdout_isatty
    rows = []
    for d in dictionaries:
        words = [e.word for e in sorted_entries(d.entries)]
        first = words[:FIRST_WORDS]
        shown: Any = (
            ", ".join(first) + (", …" if len(words) > FIRST_WORDS else "") if tty else first
        )
        created = _minutes(d.created_at) if tty else d.created_at
        rows.append((d.id, names.get(d.id), len(d.entries), created, shown or None))
    obj.output.table(["ID", "NAME", "WORDS", "CREATED", "FIRST WORDS"], rows, whole=["ID"])


def show(obj: AppContext, value: str, as_json: bool) -> None:
    target = resolve(obj, value)
    found = fetch(obj.client().dictionaries, target)
    if as_json:
        obj.output.json(_json(found, target.name))
        return
    for entry in sorted_entries(found.entries):
        obj.output.data(f"{entry.word}\t{entry.pronunciation}")


def create(
    obj: AppContext,
    source: str | None,
    words: list[str],
    says: list[str],
    name: str | None,
) -> None:
    """Entries from FILE/stdin and --word/--say pairs; prints the new id on stdout."""
    if name is not None:
        check_name(name)
        known = obj.config.dictionary_names().get(name)
        if known is not None:
            raise UsageError(
                f"the name {name!r} already stands for {known}",
                hint=f"update it with `smallest dict push FILE --name {name}`, or pick another name",
            )
    if source is None and not words and not says and not obj.output.stdin_isatty:
        source = "-" if (entries := read_entries(obj, "-")) else None  # piped, as `tts say` reads
    else:
        entries = read_entries(obj, source) if source is not None else []
    pairs = from_pairs(words, says)
    if not entries and not pairs and source is None:
        raise UsageError(
            "no entries to create a dictionary from",
            hint="give a FILE (word<TAB>pronunciation lines), `-` for stdin, or --word W --say P",
        )
    entries = entries + pairs
    _check_together(entries, "the entries")
    if not entries:
        raise UsageError(f"{source}: no entries", hint="a dictionary needs at least one entry")
    client = obj.client()
    created = _sending(lambda: client.dictionaries.create(entries), entries, source)
    if name is not None:
        _remember_name(obj, name, created.id)
    _remember_id(obj, created)
    obj.output.data(created.id)
    what = f"{name} ({created.id})" if name else created.id
    obj.output.info(f"Created {what} with {_count(len(entries))}.")


def edit(obj: AppContext, value: str) -> None:
    """Open the listing in the editor until it parses; one PUT if anything changed."""
    from smallest_cli.editor import edit_until_valid, editor_chosen

    if not editor_chosen() and not obj.output.stdin_isatty:
        raise UsageError(  # the default vi would fail, or wait on a pipe, off a terminal
            "no editor: VISUAL and EDITOR are unset and stdin is not a terminal",
            hint="set EDITOR, or change words from a script with `smallest dict add`, "
            "`dict remove` or `dict push FILE`",
        )
    target = resolve(obj, value)
    client = obj.client()
    current = fetch(client.dictionaries, target)
    header: tuple[str, ...] = (
        f"Pronunciation dictionary {target.label}.",
        "One `word<TAB>pronunciation` per line; lines starting with # are ignored.",
        "Matching is case-sensitive. Save and quit to apply; empty the file to cancel.",
    )
    hidden_words = read_as_comments(current.entries)  # a line starting with # is a comment
    hidden = [e for e in current.entries if e.word in hidden_words]
    if hidden:
        header += (
            f"Not shown, kept as they are: {', '.join(map(repr, hidden_words))} (a line "
            "starting with # is a comment); change them with `smallest dict add` or `remove`.",
        )

    def check(saved: str, offset: int) -> tuple[list[Entry] | None, list[str]]:
        entries, problems = parse(saved)
        return entries, [p.text(offset) for p in problems]

    shown = [e for e in current.entries if e.word not in hidden_words]
    edited = edit_until_valid(listing(shown, header), check, has_content=has_content)
    if edited is None:
        obj.output.info("Edit cancelled: the file was emptied; nothing was sent.")
        return
    try:
        _update(obj, client, target, current, edited + hidden, "the edited file")
    except SmallestError as error:  # like `kubectl edit`: the work is not lost with the request
        kept = _keep_edit(listing(edited, header))
        again = (
            f"; `smallest dict push {kept} --name {target.name}` sends it" if target.name else ""
        )
        error.hint = f"your edit is kept in {kept}{again}"
        raise


def _keep_edit(text: str) -> str:
    """An edit that could not be sent, saved in a file of its own; its path."""
    import os
    import tempfile

    handle, path = tempfile.mkstemp(prefix="smallest-dict-edit-", suffix=".tsv")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def add(obj: AppContext, value: str, word: str, pronunciation: str) -> None:
    new = from_pairs([word], [pronunciation], "dict add")[0]
    target = resolve(obj, value)
    client = obj.client()
    current = fetch(client.dictionaries, target)
    entries = [e for e in current.entries if e.word != word] + [new]
    _update(obj, client, target, current, entries, None)


def remove(obj: AppContext, value: str, words: list[str]) -> None:
    target = resolve(obj, value)
    client = obj.client()
    current = fetch(client.dictionaries, target)
    present = {e.word for e in current.entries}
    missing = [w for w in words if w not in present]
    if missing:
        raise UsageError(
            f"no word {missing[0]!r} in {target.label} (words are case-sensitive)",
            hint=f"`smallest dict show {value}` lists its words",
        )
    entries = [e for e in current.entries if e.word not in words]
    _update(obj, client, target, current, entries, None)


def delete(obj: AppContext, values: list[str], yes: bool) -> None:
    """Delete each dictionary; asks first on a terminal, refuses to guess off one."""
    targets = [resolve(obj, v) for v in values]
    labels = ", ".join(t.label for t in targets)
    if not yes:
        if not obj.output.stdin_isatty:
            raise UsageError(
                f"not deleting {labels} without confirmation (stdin is not a terminal)",
                hint="pass --yes to delete without asking",
            )
        import typer

        if not typer.confirm(f"Delete {labels}? This cannot be undone", err=True):
            obj.output.info("Nothing was deleted.")
            return
    client = obj.client()
    for target in targets:
        gone = False
        try:
            client.dictionaries.delete(target.id)
        except APIError as error:
            if getattr(error, "status_code", None) not in (400, 404):
                raise
            if not target.name:
                raise error.explain(f"is {target.id} still there? {LIST_HINT}") from None
            gone = True  # a name left behind: what was asked for holds once it is forgotten
        for name, known in obj.config.dictionary_names().items():
            if known == target.id:
                obj.config.forget_dictionary(name)
        _forget_id(obj, target.id)
        if gone:
            obj.output.warn(
                f"{target.label} was already gone from the API; forgot the name {target.name!r}"
            )
        else:
            obj.output.info(f"Deleted {target.label}.")


def pull(obj: AppContext, value: str, output: str | None, name: str | None = None) -> None:
    """The sorted listing, to a file (whole or not at all) or stdout; `name` adopts the
    dictionary under that local name, so `push --name` updates it rather than making one."""
    from smallest_cli.files import check_output, write_output

    if name is not None:
        check_name(name)
        known = obj.config.dictionary_names().get(name)
        if known is not None and known != resolve(obj, value).id:
            raise UsageError(
                f"the name {name!r} already stands for {known}",
                hint="pick another name, or `smallest dict delete` that one first",
            )
    if output is not None and output != "-":
        check_output(output)
    target = resolve(obj, value)
    current = fetch(obj.client().dictionaries, target)
    if name is not None and target.name != name:
        _remember_name(obj, name, current.id)
    fmt = "tsv" if output is None or output == "-" else file_format(output)
    lost = read_as_comments(current.entries) if fmt != "json" else []
    if lost:
        obj.output.warn(
            f"the word {lost[0]!r} starts with '#', which a {fmt.upper()} file reads as a "
            "comment (pushing it would remove the word); pull to a .json file, e.g. "
            "-o words.json, to keep it"
        )
    text = render(current.entries, fmt, PULL_HEADER)
    if output is None or output == "-":
        obj.output.write(text)
        return
    write_output(output, text)
    obj.output.info(f"Wrote {_count(len(current.entries))} of {target.label} to {output}.")


def push(obj: AppContext, source: str, name: str | None, dry_run: bool, force: bool) -> None:
    """Make the API's copy of NAME equal the file: create it once, then update it only when
    the file differs; the id goes to stdout either way (not for --dry-run)."""
    from pathlib import Path

    if name is None:
        if source == "-":
            raise UsageError("push from stdin needs --name", hint="e.g. --name product")
        name = Path(source).stem
    check_name(name)
    entries = read_entries(obj, source)
    known = obj.config.dictionary_names().get(name)
    client = obj.client()
    current = client.dictionaries.get(known) if known is not None else None
    if known is not None and current is None and not force:
        raise APIError(
            f"the dictionary {name!r} (id {known}) no longer exists on the API",
            hint=f"push with --force to create it again as {name!r}",
        )
    change = difference(current.entries if current else [], entries)
    if dry_run:
        for line in change.lines():
            obj.output.data(line)
        verb = "would create" if current is None else "would update"
        state = f"{verb}: {change.summary()}" if change or current is None else "unchanged"
        obj.output.info(f"{name}: {state} (dry run: nothing was sent)")
        return
    if current is None:
        if not entries:
            raise UsageError(f"{source}: no entries", hint="a dictionary needs at least one entry")
        created = _sending(lambda: client.dictionaries.create(entries), entries, source)
        _remember_name(obj, name, created.id)
        _remember_id(obj, created)
        obj.output.data(created.id)
        obj.output.info(f"{name}: created {created.id} with {_count(len(entries))}")
        return
    obj.output.data(current.id)
    if not change:
        obj.output.info(f"{name}: unchanged")
        return
    _sending(lambda: client.dictionaries.update(current.id, entries), entries, source)
    obj.output.info(f"{name}: {change.summary()}")


def try_speaking(obj: AppContext, value: str, text: str, output: str | None, **speech: Any) -> None:
    """Speak `text` with the dictionary, through `tts say`'s job."""
    from smallest_cli.commands.tts import SpeechOptions
    from smallest_cli.jobs.speak import SpeechJob

    target = resolve(obj, value)
    options = SpeechOptions(text=text, output=output, dicts=[target.id], **speech)
    SpeechJob.build(obj, options).run()


# -- helpers -----------------------------------------------------------------------------------


def _update(
    obj: AppContext,
    client: SmallestClient,
    target: Target,
    current: Dictionary,
    entries: list[Entry],
    source: str | None,
) -> None:
    """One PUT of the complete list when it differs, and the summary on stderr."""
    change = difference(current.entries, entries)
    label = target.name or target.id
    if not change:
        obj.output.info(f"{label}: no changes; nothing was sent.")
        return
    _sending(lambda: client.dictionaries.update(target.id, entries), entries, source)
    obj.output.info(f"{label}: {change.summary()}")


def _sending(send: Any, entries: list[Entry], source: str | None) -> Dictionary:
    """`send()`, with a 400's zod issues (`items.3.word`) naming the line of `source`."""
    from smallest_cli.errors import APIStatusError

    try:
        result: Dictionary = send()
    except APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        issues = body.get("details")
        if error.status_code == 400 and isinstance(issues, list):
            located = [_locate(i, entries, source) for i in issues]
            error.details = [line for line in located if line] or error.details
        raise
    return result


def _locate(issue: Any, entries: list[Entry], source: str | None) -> str | None:
    if not isinstance(issue, dict):
        return None
    path = issue.get("path") or []
    message = str(issue.get("message", "invalid"))
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        index, field = path[1], ".".join(str(p) for p in path[2:]) or "entry"
        if 0 <= index < len(entries):
            entry = entries[index]
            named = "stdin" if source == "-" else source
            where = f"{named} line {entry.line}" if named and entry.line else f"entry {index + 1}"
            return f"{where} ({field} of {entry.word!r}): {message}"
    return ".".join(str(p) for p in path) + f": {message}" if path else message


def _remember_name(obj: AppContext, name: str, dictionary_id: str) -> None:
    """NAME → id in the profile's config; not for --emulator, whose in-process emulator
    (and every dictionary in it) ends with the command."""
    if obj.emulator:
        obj.output.warn(
            f"the name {name!r} is not remembered: --emulator forgets its dictionaries when "
            "the command ends (use `smallest emulator serve` to keep them)"
        )
        return
    obj.config.remember_dictionary(name, dictionary_id)


def _check_together(entries: list[Entry], source: str) -> None:
    from smallest_cli.dictionary_file import check

    problems = check(entries)
    if problems:
        raise DictionaryFileError(source, problems)


def _minutes(created_at: str | None) -> str | None:
    """`2026-12-03T06:55:19.578Z` as `2026-12-03 06:55` (UTC), for a table that fits."""
    if created_at and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", created_at):
        return created_at[:16].replace("T", " ")
    return created_at


def _count(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _names_by_id(obj: AppContext) -> dict[str, str]:
    names: dict[str, str] = {}
    for name, known in sorted(obj.config.dictionary_names().items()):
        names[known] = f"{names[known]},{name}" if known in names else name
    return names


def _json(found: Dictionary, name: str | None) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": name,
        "word_count": len(found.entries),
        "created_at": found.created_at,
        "items": [e.to_api() for e in sorted_entries(found.entries)],
    }


# -- the id cache, for completion -------------------------------------------------------------


def cache_path(key: str) -> Path:
    import hashlib

    from smallest_cli.jobs.voice_catalog import cache_dir

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"dicts-{digest}.json"


def cached(key: str) -> dict[str, str]:
    """id → a few of its words, as `dict list` last saw them (no network; {} when none)."""
    import json

    try:
        document = json.loads(cache_path(key).read_text(encoding="utf-8"))
        entries = document["dictionaries"] if document.get("key") == key else {}
        return {str(k): str(v) for k, v in entries.items()}
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return {}


def cached_ids(obj: AppContext) -> dict[str, str]:
    from smallest_cli.jobs.voice_catalog import context_key

    return cached(context_key(obj))


def _save_cache(obj: AppContext, entries: dict[str, str]) -> None:
    import json

    from smallest_cli.files import write_atomically
    from smallest_cli.jobs.voice_catalog import context_key

    key = context_key(obj)
    try:
        write_atomically(cache_path(key), json.dumps({"key": key, "dictionaries": entries}))
    except OSError as exc:
        if obj.debug:
            obj.output.debug(f"could not write the dictionary cache: {exc}")


def _summary(found: Dictionary) -> str:
    words = [e.word for e in sorted_entries(found.entries)]
    return ", ".join(words[:FIRST_WORDS]) + (", …" if len(words) > FIRST_WORDS else "")


def _write_cache(obj: AppContext, dictionaries: list[Dictionary]) -> None:
    _save_cache(obj, {d.id: _summary(d) for d in dictionaries})


def _remember_id(obj: AppContext, found: Dictionary) -> None:
    _save_cache(obj, {**cached_ids(obj), found.id: _summary(found)})


def _forget_id(obj: AppContext, dictionary_id: str) -> None:
    entries = cached_ids(obj)
    if entries.pop(dictionary_id, None) is not None:
        _save_cache(obj, entries)


def complete_dictionary(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """Completion for DICT: the profile's local names, then the ids `dict list` cached.
    Reads config.toml and the cache only: never a request."""
    try:
        from smallest_cli.config import Config
        from smallest_cli.jobs.voice_catalog import completion_key, completion_profile

        names = Config(completion_profile(ctx)).dictionary_names()
        ids = cached(completion_key(ctx))
    except Exception:  # completion must never print a traceback into the shell
        return []
    offered = [(n, f"local name for {i}") for n, i in sorted(names.items())]
    offered += [(i, words or "empty") for i, words in ids.items()]
    return [(value, help) for value, help in offered if value.startswith(incomplete)]
