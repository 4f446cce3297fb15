"""Pronunciation dictionaries: list, create, update, delete (REFERENCE §9).

All four share `/waves/v1/pronunciation-dicts`; the id travels in the JSON body. The API
has no call for one dictionary, so `get` looks it up in the list.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smallest_cli.dictionary_file import Entry
from smallest_cli.errors import APIError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient

PATH = "/waves/v1/pronunciation-dicts"


@dataclass(frozen=True)
class Dictionary:
    """A dictionary as the API returns it (`created_at` is absent from an update's answer)."""

    id: str
    entries: tuple[Entry, ...]
    created_at: str | None = None

    @classmethod
    def from_api(cls, raw: Any) -> Dictionary:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise APIError("the pronunciation dictionary in the response has no `id`")
        items = raw.get("items")
        if not isinstance(items, list):
            items = []
        entries = tuple(
            Entry(str(item["word"]), str(item["pronunciation"]))
            for item in items
            if isinstance(item, Mapping) and "word" in item and "pronunciation" in item
        )
        created = raw.get("createdAt")
        return cls(raw["id"], entries, created if isinstance(created, str) else None)


class DictionariesAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def list(self) -> builtins.list[Dictionary]:
        """GET: every dictionary of the account (a bare JSON array)."""
        body = self._client.request_json("GET", PATH)
        if isinstance(body, Mapping):  # tolerate an envelope, should one ever appear
            body = body.get("items", body.get("data"))
        if not isinstance(body, builtins.list):
            raise APIError("the pronunciation dictionary list is not a JSON array")
        return [Dictionary.from_api(raw) for raw in body]

    def get(self, dictionary_id: str) -> Dictionary | None:
        """The dictionary with this id, from the list; None when there is none."""
        return next((d for d in self.list() if d.id == dictionary_id), None)

    def create(self, entries: Iterable[Entry]) -> Dictionary:
        """POST: a new dictionary with these entries (not retried once it may have arrived:
        a second POST would make a second dictionary)."""
        body = {"items": [e.to_api() for e in entries]}
        raw = self._client.request_json("POST", PATH, json=body, idempotent=False)
        return Dictionary.from_api(raw)

    def update(self, dictionary_id: str, entries: Iterable[Entry]) -> Dictionary:
        """PUT the complete list (replace versus merge is unspecified, so always all of it)."""
        items = [e.to_api() for e in entries]
        raw = self._client.request_json("PUT", PATH, json={"id": dictionary_id, "items": items})
        return Dictionary.from_api(raw)

    def delete(self, dictionary_id: str) -> None:
        """DELETE with the id in the JSON body."""
        self._client.request_json("DELETE", PATH, json={"id": dictionary_id})
