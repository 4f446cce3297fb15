"""Voice cloning: create a clone and list the account's clones (REFERENCE §8.1, §8.2)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from smallest_cli.errors import APIError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient

PATH = "/waves/v1/voice-cloning"
MODELS = ("lightning-v3.1", "lightning-v3.1-pro")
CURRENT_POOLS = {"lightning-v3.1": "lightning_v3.1", "lightning-v3.1-pro": "lightning_v3.1_pro"}
STATUSES = ("pending", "processing", "completed", "failed")


@dataclass(frozen=True)
class Clone:
    """A cloned voice as the API describes it. `models` are `modelIds` (or, from the create
    answer, `model`, a string or `{_id, modelName}`), spelled as the API spells them."""

    voice_id: str
    display_name: str
    status: str | None = None
    language: str | None = None
    models: tuple[str, ...] = ()
    created_at: str | None = None
    description: str | None = None
    accent: str | None = None
    tags: tuple[str, ...] = ()
    cloning_type: str | None = None
    samples: tuple[tuple[str | None, str], ...] = ()  # (text, audio URL)
    error: str | None = None  # why it failed, when the API says

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Clone:
        models = list(_strings(raw.get("modelIds")))
        model = raw.get("model")
        if isinstance(model, Mapping):
            model = model.get("modelName")
        if isinstance(model, str) and model.strip() and model.strip() not in models:
            models.append(model.strip())
        samples = tuple(
            (_string(s.get("text")), str(s["audioUrl"]))
            for s in raw.get("samples") or ()
            if isinstance(s, Mapping) and isinstance(s.get("audioUrl"), str)
        )
        return cls(
            voice_id=str(raw["voiceId"]),
            display_name=str(raw.get("displayName") or raw["voiceId"]),
            status=_string(raw.get("status")),
            language=_string(raw.get("language")),
            models=tuple(models),
            created_at=_string(raw.get("createdAt")),
            description=_string(raw.get("description")),
            accent=_string(raw.get("accent")),
            tags=_strings(raw.get("tags")),
            cloning_type=_string(raw.get("cloningType")),
            samples=samples,
            error=_string(raw.get("error")) or _string(raw.get("errorMessage")),
        )

    @property
    def pools(self) -> tuple[str, ...]:
        """The TTS models (`lightning_v3.1`, `lightning_v3.1_pro`) the clone speaks in."""
        found = (CURRENT_POOLS.get(m.strip().casefold().replace("_", "-")) for m in self.models)
        return tuple(dict.fromkeys(p for p in found if p is not None))

    @property
    def usable(self) -> bool:
        """False for an old clone made for lightning-large only: current TTS gives silence."""
        return bool(self.pools) or not self.models

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = list(self.models)
        data["tags"] = list(self.tags)
        data["samples"] = [{"text": t, "audio_url": u} for t, u in self.samples]
        data["pools"] = list(self.pools)
        data["usable"] = self.usable
        return data


class CloningAPI:
    def __init__(self, client: SmallestClient) -> None:
        self._client = client

    def create(
        self,
        name: str,
        *,
        filename: str,
        data: bytes,
        mime: str,
        model: str | None = None,
        language: str | None = None,
        description: str | None = None,
        accent: str | None = None,
        tags: Sequence[str] = (),
    ) -> Clone:
        """POST /waves/v1/voice-cloning (multipart). Not retried once sent: a retry could
        make a second clone."""
        fields = {
            "displayName": name,
            "model": model,
            "language": language,
            "description": description,
            "accent": accent,
            "tags": ",".join(tags) if tags else None,
        }
        body = self._client.request_json(
            "POST",
            PATH,
            idempotent=False,
            data={k: v for k, v in fields.items() if v is not None},
            files={"file": (filename, data, mime)},
        )
        entry = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(entry, Mapping) or not entry.get("voiceId"):
            raise APIError("the voice-cloning answer has no `data.voiceId`")
        return Clone.from_api(entry)

    def list(self) -> builtins.list[Clone]:
        """GET /waves/v1/voice-cloning: every clone of the organization."""
        return [Clone.from_api(entry) for entry in self.entries()]

    def entries(self) -> builtins.list[dict[str, Any]]:
        """The list's entries as sent (each has a `voiceId`)."""
        body = self._client.request_json("GET", PATH)
        items = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(items, builtins.list):
            raise APIError("the voice-cloning list has no `data` list")
        return [dict(i) for i in items if isinstance(i, Mapping) and i.get("voiceId")]

    def sample_clip(self, url: str) -> bytes:
        """A sample clip of a clone (a signed URL, fetched without the API key)."""
        return self._client.fetch(url)


def _string(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, builtins.list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())
