"""Pronunciation dictionaries, one set per API key (REFERENCE §9).

TTS checks the ids of `pronunciation_dicts` against the caller's set (§0.4); the entries do
not change the synthetic audio. Ids look like the live ones: 24 hex digits (a Mongo id).
"""

from __future__ import annotations

import datetime
import secrets
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    word: str
    pronunciation: str


@dataclass(frozen=True)
class Dictionary:
    id: str
    items: tuple[Word, ...]
    created_at: str


class Dictionaries:
    """Every API key's dictionaries; safe to use from any thread."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Dictionary]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, items: dict[str, str]) -> Dictionary:
        """Create a dictionary (word → pronunciation) owned by `key`."""
        now = datetime.datetime.now(datetime.timezone.utc)
        created = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        words = tuple(Word(w, p) for w, p in items.items())
        dictionary = Dictionary(secrets.token_hex(12), words, created)
        with self._lock:
            self._by_key.setdefault(key, {})[dictionary.id] = dictionary
        return dictionary

    def of(self, key: str) -> list[Dictionary]:
        """`key`'s dictionaries, oldest first."""
        with self._lock:
            return list(self._by_key.get(key, {}).values())

    def ids(self, key: str) -> frozenset[str]:
        """The ids of `key`'s dictionaries."""
        with self._lock:
            return frozenset(self._by_key.get(key, {}))
