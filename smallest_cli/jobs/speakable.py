"""Streamed text (an LLM's deltas) cut into pieces worth speaking as soon as they are whole.

A piece ends at a sentence end as soon as the space after it arrives (so "3.5" is not
cut); a sentence that runs on past `clause_after`
characters is cut at its last clause mark (comma, semicolon, colon, dash), and one with
none is cut between words before the API's 250-character limit. The reply's first piece
ends at its first clause mark already (once it has `first_clause_after` characters): the
first audio, which the listener waits for, comes sooner. The boundaries are the
ones `text.chunks` uses for whole texts.
"""

from __future__ import annotations

from collections.abc import Iterator

from smallest_cli.text import CHUNK_LIMIT, CLAUSE_END, SENTENCE_END, chunks

CLAUSE_AFTER = 80  # characters of a sentence after which a clause is worth speaking alone
FIRST_CLAUSE_AFTER = 8  # "Sure thing," or "You asked:" is worth speaking first, alone


class SpeakableText:
    """Feed deltas in, get speakable pieces out; `flush` gives the rest at the end."""

    def __init__(
        self,
        clause_after: int = CLAUSE_AFTER,
        limit: int = CHUNK_LIMIT,
        first_clause_after: int = FIRST_CLAUSE_AFTER,
    ) -> None:
        self.clause_after = clause_after
        self.limit = limit
        self.first_clause_after = first_clause_after
        self._buffer = ""
        self._first = True

    def feed(self, delta: str) -> list[str]:
        """The pieces `delta` completes (often none)."""
        self._buffer += delta
        pieces: list[str] = []
        while (cut := self._cut()) is not None:
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
            pieces.extend(_speakable(piece, self.limit))
            self._first = self._first and not pieces
        return pieces

    def flush(self) -> list[str]:
        """What is left once the text is complete."""
        rest, self._buffer = self._buffer, ""
        return list(_speakable(rest, self.limit))

    def _cut(self) -> int | None:
        """Where the next piece ends in the buffer, if it ends there yet."""
        text = self._buffer
        sentence = SENTENCE_END.search(text)
        if self._first:
            for clause in CLAUSE_END.finditer(text):
                if self.first_clause_after <= clause.end() < len(text) and (
                    sentence is None or clause.end() < sentence.end()
                ):
                    return clause.end()
        if sentence is not None:
            return sentence.end()
        if len(text) < self.clause_after:
            return None
        clauses = [m.end() for m in CLAUSE_END.finditer(text) if m.end() < len(text)]
        within = [end for end in clauses if end <= self.limit]
        if within:
            return within[-1]
        if len(text) <= self.limit:
            return None
        space = text.rfind(" ", 0, self.limit)
        return space + 1 if space > 0 else self.limit


def _speakable(piece: str, limit: int) -> Iterator[str]:
    """`piece` without extra whitespace, cut to the limit; nothing if it has no words."""
    if piece.strip():
        yield from chunks(piece, limit)
