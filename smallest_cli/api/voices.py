"""Voices: Get Voices and Get All Voices (REFERENCE §7)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from smallest_cli.api.constants import VOICES_MODEL
from smallest_cli.errors import APIError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient

# Where an entry may name the model(s) it serves. Get Voices has no such field today
# (REFERENCE §7.1); clones carry `modelIds` (§8.2), and a future catalog may add one.
MODEL_FIELDS = ("model", "models", "modelIds", "pool")


@dataclass(frozen=True)
class Voice:
    """A voice as the catalog describes it. Tags the API leaves empty are None or ().

    `document_id` is Get All Voices' `_id`; `models` are the model or pool names the entry
    itself lists (`model`, `models`, `modelIds` or `pool`), spelled as the API spells them,
    and usually empty. `cloned` marks the account's own clones, which the voice cache adds
    from the voice-cloning list, with their `clone_status` (pending, processing, completed,
    failed; None for catalog voices).
    """

    voice_id: str
    display_name: str
    languages: tuple[str, ...] = ()
    accent: str | None = None
    gender: str | None = None
    age: str | None = None
    emotions: tuple[str, ...] = ()
    usecases: tuple[str, ...] = ()
    description: str | None = None
    preview_url: str | None = None
    document_id: str | None = None
    models: tuple[str, ...] = ()
    cloned: bool = False  # one of the account's voice clones (REFERENCE §8.2)
    clone_status: str | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Voice:
        tags = raw.get("tags") if isinstance(raw.get("tags"), Mapping) else {}
        assert isinstance(tags, Mapping)
        models: list[str] = []
        for name in MODEL_FIELDS:
            models += [m for m in _strings(raw.get(name)) if m not in models]
        return cls(
            voice_id=str(raw["voiceId"]),
            display_name=str(raw.get("displayName") or raw["voiceId"]),
            languages=_strings(tags.get("language")),
            accent=_string(tags.get("accent")),
            gender=_string(tags.get("gender")),
            age=_string(tags.get("age")),
            emotions=_strings(tags.get("emotions")),
            usecases=_strings(tags.get("usecases")),
            description=_string(raw.get("description")),
            preview_url=_string(raw.get("audioPreview")),
            document_id=_string(raw.get("_id")),
            models=tuple(models),
            cloned=raw.get("cloned") is True,
            clone_status=_string(raw.get("status")) if raw.get("cloned") is True else None,
        )

    def to_json(self) -> dict[str, Any]:
        """Stable snake_case keys for --json."""
        data = asdict(self)
        for key in ("languages", "emotions", "usecases", "models"):
            data[key] = list(data[key])
        return data


class VoicesAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def list(self, model: str = VOICES_MODEL) -> builtins.list[Voice]:
        """GET /waves/v1/{model}/get_voices: the standard and Pro voices, without previews."""
        return [Voice.from_api(entry) for entry in self.entries(model)]

    def catalog(self) -> builtins.list[Voice]:
        """GET /waves/v1/voice/get-all-models: every voice with description and preview URL."""
        return [Voice.from_api(entry) for entry in self.catalog_entries()]

    def entries(self, model: str = VOICES_MODEL) -> builtins.list[dict[str, Any]]:
        """Get Voices' entries as sent (each has a `voiceId`), for callers that keep them."""
        return _entries(self._client.request_json("GET", f"/waves/v1/{model}/get_voices"))

    def preview_clip(self, voice: Voice) -> bytes:
        """The audio file at the voice's preview URL, fetched without the API key."""
        if voice.preview_url is None:
            raise APIError(f"the catalog has no preview clip for {voice.voice_id}")
        return self._client.fetch(voice.preview_url)

    def catalog_entries(self) -> builtins.list[dict[str, Any]]:
        """Get All Voices' entries as sent (each has a `voiceId`)."""
        return _entries(self._client.request_json("GET", "/waves/v1/voice/get-all-models"))


def _entries(body: Any) -> list[dict[str, Any]]:
    items = body.get("voices") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise APIError("the voices response has no `voices` list")
    return [dict(item) for item in items if isinstance(item, Mapping) and item.get("voiceId")]


def _string(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())
