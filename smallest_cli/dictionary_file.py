"""Pronunciation dictionary files: reading them (with line numbers), checking them, writing
the listing that lives in git, and the difference between two versions.

Formats, chosen by the extension (anything else reads as TSV):

    .tsv, .txt   word<TAB>pronunciation per line; `#` comments and blank lines ignored.
                 A line without a tab may separate the two by two or more spaces (an
                 editor that turns tabs into spaces).
    .csv         word,pronunciation per row (an optional `word,pronunciation` header row).
    .json        the API's item list, `[{"word": …, "pronunciation": …}, …]`, or an object
                 with such an `items` list (what `dict show --json` prints).

Every entry remembers where it came from (`line`), so an error, ours or the API's, names
the line of the user's file. Nothing here does I/O or imports a third-party module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smallest_cli.errors import UsageError

FORMATS = ("tsv", "csv", "json")
SPACES = re.compile(r" {2,}")


@dataclass(frozen=True)
class Entry:
    """One `word` → `pronunciation` pair; `line` is where it was read (0: not from a file)."""

    word: str
    pronunciation: str
    line: int = field(default=0, compare=False)

    def to_api(self) -> dict[str, str]:
        return {"word": self.word, "pronunciation": self.pronunciation}


@dataclass(frozen=True)
class Problem:
    """Something wrong with one line (0: the file as a whole)."""

    line: int
    message: str

    def text(self, offset: int = 0) -> str:
        return f"line {self.line + offset}: {self.message}" if self.line else self.message


class DictionaryFileError(UsageError):
    """A file (or the pairs given as options) that cannot be sent: every problem found."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        first = problems[0].text()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{source}: {first}{more}",
            hint="one entry per line: word<TAB>pronunciation; lines starting with # are ignored",
        )
        self.source = source
        self.problems = list(problems)


def file_format(name: str) -> str:
    """The format of a file by its extension: tsv (also .txt and anything unknown), csv, json."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in ("csv", "json") else "tsv"


def sniff_format(text: str) -> str:
    """The format of text without a name (stdin): JSON when it starts like JSON, else TSV."""
    return "json" if text.lstrip()[:1] in ("[", "{") else "tsv"


def parse(text: str, fmt: str = "tsv") -> tuple[list[Entry], list[Problem]]:
    """The entries of a file's text and every problem found, in the order of the lines."""
    reader = {"tsv": _parse_tsv, "csv": _parse_csv, "json": _parse_json}[fmt]
    entries, problems = reader(text.removeprefix("\ufeff"))  # Excel's "CSV UTF-8" has a BOM
    return entries, sorted(problems + check(entries), key=lambda p: p.line)


def load(text: str, source: str, fmt: str = "tsv") -> list[Entry]:
    """The entries of a file's text, or a DictionaryFileError naming `source` and the line."""
    entries, problems = parse(text, fmt)
    if problems:
        raise DictionaryFileError(source, problems)
    return entries


def check(entries: Iterable[Entry]) -> list[Problem]:
    """Empty fields, tabs or newlines inside a field, and words given twice (matching is
    case-sensitive, so `API` and `api` are two words)."""
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for entry in entries:
        for name, value in (("word", entry.word), ("pronunciation", entry.pronunciation)):
            if not value.strip():
                problems.append(Problem(entry.line, f"empty {name}"))
            elif "\t" in value or "\n" in value or "\r" in value:
                problems.append(Problem(entry.line, f"a tab or newline inside the {name}"))
        if entry.word in first_line:
            where = first_line[entry.word]
            also = f" (first on line {where})" if where else ""
            problems.append(Problem(entry.line, f"the word {entry.word!r} is given twice{also}"))
        else:
            first_line[entry.word] = entry.line
    return problems


def from_pairs(
    words: Sequence[str], says: Sequence[str], source: str = "--word/--say"
) -> list[Entry]:
    """Entries from repeated --word/--say options (or `source`'s arguments), checked."""
    if len(words) != len(says):
        raise UsageError(
            f"{len(words)} --word but {len(says)} --say",
            hint="give each --word its --say: --word nginx --say 'engine x'",
        )
    entries = [Entry(w, s) for w, s in zip(words, says, strict=True)]
    problems = check(entries)
    if problems:
        raise UsageError(f"{source}: {problems[0].message}")
    return entries


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """A stable order for listings: by word ignoring case, then by exact spelling."""
    return sorted(entries, key=lambda e: (e.word.casefold(), e.word))


def listing(entries: Iterable[Entry], header: Sequence[str] = ()) -> str:
    """The TSV text of a dictionary: `# header` lines, sorted entries, a final newline."""
    lines = [f"# {line}".rstrip() for line in header]
    lines += [f"{e.word}\t{e.pronunciation}" for e in sorted_entries(entries)]
    return "\n".join(lines) + "\n" if lines else ""


def render(entries: Iterable[Entry], fmt: str, header: Sequence[str] = ()) -> str:
    """A sorted listing in a file format `parse` reads back: TSV (with the `header`
    comments), CSV (with a `word,pronunciation` row) or JSON (the API's item list, one item
    a line, so diffs stay clean)."""
    import json

    ordered = sorted_entries(entries)
    if fmt == "json":
        items = [json.dumps(e.to_api(), ensure_ascii=False) for e in ordered]
        return "[\n" + ",\n".join(f"  {item}" for item in items) + "\n]\n" if items else "[]\n"
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([("word", "pronunciation"), *((e.word, e.pronunciation) for e in ordered)])
        return buffer.getvalue()
    return listing(ordered, header)


def read_as_comments(entries: Iterable[Entry]) -> list[str]:
    """Words a TSV or CSV file cannot hold: they start with `#`, so they read as comments."""
    return [e.word for e in sorted_entries(entries) if e.word.lstrip().startswith("#")]


def has_content(text: str) -> bool:
    """Whether a file has anything besides comments and blank lines (an emptied file has not)."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


@dataclass(frozen=True)
class Difference:
    """What changes between two versions of a dictionary, by word."""

    added: tuple[Entry, ...]
    removed: tuple[Entry, ...]
    changed: tuple[tuple[Entry, Entry], ...]  # (before, after)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """`+2 added, -1 removed, ~1 changed`."""
        return (
            f"+{len(self.added)} added, -{len(self.removed)} removed, ~{len(self.changed)} changed"
        )

    def lines(self) -> list[str]:
        """One line per change, sorted by word: `+ word<TAB>say`, `- …`, `~ word<TAB>old -> new`."""
        rows = [(e.word, f"+ {e.word}\t{e.pronunciation}") for e in self.added]
        rows += [(e.word, f"- {e.word}\t{e.pronunciation}") for e in self.removed]
        rows += [
            (a.word, f"~ {a.word}\t{b.pronunciation} -> {a.pronunciation}") for b, a in self.changed
        ]
        return [text for _, text in sorted(rows, key=lambda r: (r[0].casefold(), r[0]))]


def difference(before: Iterable[Entry], after: Iterable[Entry]) -> Difference:
    """The changes that turn `before` into `after` (order does not matter)."""
    old = {e.word: e for e in before}
    new = {e.word: e for e in after}
    return Difference(
        added=tuple(sorted_entries(e for w, e in new.items() if w not in old)),
        removed=tuple(sorted_entries(e for w, e in old.items() if w not in new)),
        changed=tuple(
            (old[w], e)
            for w, e in ((e.word, e) for e in sorted_entries(new.values()))
            if w in old and old[w].pronunciation != e.pronunciation
        ),
    )


# -- readers -----------------------------------------------------------------------------


def _parse_tsv(text: str) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" in line:
            fields = [f.strip() for f in line.split("\t")]
        else:
            fields = [f.strip() for f in SPACES.split(line.strip(), maxsplit=1)]
        if len(fields) < 2:
            problems.append(Problem(number, "no tab between the word and its pronunciation"))
            continue
        if len(fields) > 2:
            problems.append(Problem(number, "more than one tab (a tab inside a field?)"))
            continue
        entries.append(Entry(fields[0], fields[1], number))
    return entries, problems


def _parse_csv(text: str) -> tuple[list[Entry], list[Problem]]:
    import csv
    import io

    entries: list[Entry] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            number = reader.line_num
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if (
                not entries
                and not problems
                and [c.strip().lower() for c in row]
                == [
                    "word",
                    "pronunciation",
                ]
            ):
                continue  # a header row
            if len(row) != 2:
                problems.append(Problem(number, f"{len(row)} columns; expected word,pronunciation"))
                continue
            entries.append(Entry(row[0].strip(), row[1].strip(), number))
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, f"not valid CSV ({exc})"))
    return entries, problems


def _parse_json(text: str) -> tuple[list[Entry], list[Problem]]:
    import json

    try:
        document: Any = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 0)
        return [], [Problem(line, f"not valid JSON ({getattr(exc, 'msg', exc)})")]
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]
    if not isinstance(document, list):
        return [], [Problem(0, 'expected a list of {"word": …, "pronunciation": …} items')]
    lines = _item_lines(text, len(document))
    entries: list[Entry] = []
    problems: list[Problem] = []
    for index, item in enumerate(document):
        word = item.get("word") if isinstance(item, dict) else None
        say = item.get("pronunciation") if isinstance(item, dict) else None
        if not isinstance(word, str) or not isinstance(say, str):
            problems.append(
                Problem(lines[index], f'item {index + 1} needs a "word" and a "pronunciation"')
            )
            continue
        entries.append(Entry(word, say, lines[index]))
    return entries, problems


def _item_lines(text: str, count: int) -> list[int]:
    """The line on which each item's `"word"` key appears (0 where it cannot be told)."""
    found = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"word"\s*:', text)]
    return found if len(found) == count else [0] * count
