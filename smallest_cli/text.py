"""Text in: where it comes from, and how long text is cut for synthesis.

The API recommends at most 250 characters per request (REFERENCE §6.1). `chunks` cuts at
sentence ends first, then at clause punctuation, then between words, and only splits a
word when a single word is longer than the limit; short sentences are packed together so a
long text needs as few requests as possible.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from smallest_cli.errors import UsageError
from smallest_cli.files import unreadable

CHUNK_LIMIT = 250
SENTENCE_END = re.compile(r"(?<=[.!?।…。！？])[\"'”’)\]]*\s+")
CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def read_text(argument: str | None, file: str | None, stdin_isatty: bool) -> str:
    """The text to speak: the argument, `-`/piped stdin, or --file (UTF-8, `-` = stdin)."""
    if argument is not None and file is not None:
        raise UsageError("give the text either as an argument or with --file, not both")
    if file is not None:
        if file == "-":
            return _read_stdin()
        try:
            return Path(file).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{file} is not UTF-8 text") from None
        except OSError as exc:
            raise unreadable(file, exc) from None
    if argument == "-" or (argument is None and not stdin_isatty):
        return _read_stdin()
    if argument is None:
        raise UsageError(
            "no text to speak",
            hint='give it as an argument (smallest tts say "Hello"), pipe it in, or use --file',
        )
    return _utf8(argument, "the text argument")


def read_stdin() -> str:
    """All of stdin as UTF-8 text (a UsageError if it is not UTF-8)."""
    return _read_stdin()


def _read_stdin() -> str:
    """stdin decoded strictly: the default `surrogateescape` would smuggle bad bytes through."""
    buffer = getattr(sys.stdin, "buffer", None)
    try:
        if buffer is not None:
            return str(buffer.read().decode("utf-8"))
        return _utf8(sys.stdin.read(), "stdin")
    except UnicodeDecodeError:
        raise UsageError("stdin is not UTF-8 text") from None


def _utf8(text: str, source: str) -> str:
    """`text`, unless it holds bytes that were not UTF-8 (decoded as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    return text


def require_words(text: str) -> str:
    """The text with surrounding whitespace removed; a UsageError if nothing is left."""
    stripped = text.strip()
    if not stripped:
        raise UsageError("the text is empty", hint="there is nothing to say; give some words")
    return stripped


def chunks(text: str, limit: int = CHUNK_LIMIT) -> Iterator[str]:
    """Pieces of at most `limit` characters, cut at the most natural boundary available."""
    return _pack(_pieces(" ".join(text.split()), limit), limit)


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Sentences no longer than `limit`, split further where they are too long."""
    for sentence in SENTENCE_END.split(text):
        if len(sentence) <= limit:
            if sentence:
                yield sentence
            continue
        for clause in _pack(CLAUSE_END.split(sentence), limit):
            if len(clause) <= limit:
                yield clause
            else:
                yield from _pack(_split_long_words(clause.split(" "), limit), limit)


def _pack(parts: Iterable[str], limit: int) -> Iterator[str]:
    """Join consecutive parts with spaces while they fit in `limit`."""
    pending = ""
    for part in parts:
        if not pending:
            pending = part
        elif len(pending) + 1 + len(part) <= limit:
            pending += " " + part
        else:
            yield pending
            pending = part
    if pending:
        yield pending


def _split_long_words(words: list[str], limit: int) -> list[str]:
    out: list[str] = []
    for word in words:
        out.extend(word[i : i + limit] for i in range(0, len(word), limit))
    return out


def sentence_complete(buffer: str) -> bool:
    """Whether streamed text ends at a sentence boundary (a good moment to flush)."""
    return bool(re.search(r"[.!?।…。！？][\"'”’)\]]*\s*$", buffer))
