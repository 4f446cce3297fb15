"""Pronunciation dictionaries, one set per API key (REFERENCE §9).

TTS checks the ids of `pronunciation_dicts` against the caller's set (§0.4) and speaks each
matched word as its pronunciation (`pronunciations`). Ids look like the live ones: 24 hex
digits (a Mongo id).
"""

from __future__ import annotations

import datetime
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Word:
    word: str
    pronunciation: str


@dataclass(frozen=True)
class Dictionary:
    id: str
    items: tuple[Word, ...]
    created_at: str

    def to_json(self, *, created: bool = True) -> dict[str, object]:
        """The API's `PronunciationDict` (without `createdAt`: an update's answer)."""
        body: dict[str, object] = {
            "id": self.id,
            "items": [{"word": w.word, "pronunciation": w.pronunciation} for w in self.items],
        }
        if created:
            body["createdAt"] = self.created_at
        return body


Items = Mapping[str, str] | Iterable[tuple[str, str]]
"""Entries as word → pronunciation, or as (word, pronunciation) pairs in order."""


def _words(items: Items) -> tuple[Word, ...]:
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple(Word(w, p) for w, p in pairs)


class Dictionaries:
    """Every API key's dictionaries; safe to use from any thread."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Dictionary]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, items: Items) -> Dictionary:
        """Create a dictionary owned by `key`."""
        now = datetime.datetime.now(datetime.timezone.utc)
        created = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        dictionary = Dictionary(secrets.token_hex(12), _words(items), created)
        with self._lock:
            self._by_key.setdefault(key, {})[dictionary.id] = dictionary
        return dictionary

    def update(self, key: str, dictionary_id: str, items: Items) -> Dictionary | None:
        """Replace the entries of `key`'s dictionary; None if `key` has no such dictionary."""
        with self._lock:
            owned = self._by_key.get(key, {})
            if dictionary_id not in owned:
                return None
            owned[dictionary_id] = replace(owned[dictionary_id], items=_words(items))
            return owned[dictionary_id]

    def remove(self, key: str, dictionary_id: str) -> bool:
        """Delete `key`'s dictionary; False if `key` has no such dictionary."""
        with self._lock:
            return self._by_key.get(key, {}).pop(dictionary_id, None) is not None

    def clear(self) -> None:
        """Forget every key's dictionaries."""
        with self._lock:
            self._by_key.clear()

    def of(self, key: str) -> list[Dictionary]:
        """`key`'s dictionaries, oldest first."""
        with self._lock:
            return list(self._by_key.get(key, {}).values())

    def ids(self, key: str) -> frozenset[str]:
        """The ids of `key`'s dictionaries."""
        with self._lock:
            return frozenset(self._by_key.get(key, {}))

    def by_id(self, key: str) -> dict[str, Dictionary]:
        """`key`'s dictionaries by id."""
        with self._lock:
            return dict(self._by_key.get(key, {}))


def pronunciations(dictionaries: Sequence[Dictionary]) -> dict[str, str]:
    """Word → pronunciation over several dictionaries: on a clash the first dictionary
    listed wins, and within one dictionary the first entry for a word."""
    merged: dict[str, str] = {}
    for dictionary in dictionaries:
        for item in dictionary.items:
            merged.setdefault(item.word, item.pronunciation)
    return merged
