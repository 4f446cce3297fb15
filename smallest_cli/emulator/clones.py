"""Voice clones, one set per API key (REFERENCE §8.1–8.2), and how each one's status moves.

A clone is `pending` for the first half of the processing time (`Pacing.clone_ms`, as
it was when the clone was made), `processing` for the second, then `completed`, or `failed`
when its sample held no voice (`clone_sample`). With no processing time it is finished at
once, as the documented example answers (`"status": "completed"`). Only a completed clone
speaks in TTS, in its own pool (`modelIds`) with the pitch of its sample.

An account may also hold clones made by the retired `add_voice` (`modelIds:
["lightning-large"]`, REFERENCE §8.2): the API can no longer make them, so they are put in
through the control surface (`POST /_emulator/clones`). They are valid voice ids in TTS but
give no audio (§6.1: "an empty or ~100–200-byte WAV").
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from smallest_cli.emulator.catalog import Pool

CLONE_MODELS: dict[str, Pool] = {
    "lightning-v3.1": "lightning_v3.1",
    "lightning-v3.1-pro": "lightning_v3.1_pro",
}
"""The cloning `model` values and the TTS pool each clone speaks in."""
LEGACY_MODEL = "lightning-large"  # old clones: listed, accepted by TTS, silent
SAMPLE_TEXT = "Hello! This is a sample of what I sound like."  # the docs' example sample
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Clone:
    """One voice clone, as the emulator keeps it."""

    voice_id: str
    display_name: str
    model: str  # a key of CLONE_MODELS
    pitch_hz: float | None  # None: the sample held no voice, so the clone fails
    processing_seconds: float
    language: str | None = None
    description: str | None = None
    accent: str | None = None
    tags: tuple[str, ...] = ()
    file_name: str = ""
    document_id: str = field(default_factory=lambda: secrets.token_hex(12))
    model_document_id: str = field(default_factory=lambda: secrets.token_hex(12))
    created_at: str = field(default_factory=lambda: _now_iso())
    started: float = field(default_factory=time.monotonic)

    @property
    def pools(self) -> tuple[Pool, ...]:
        """The TTS pools it speaks in (none for a legacy `lightning-large` clone)."""
        return (CLONE_MODELS[self.model],) if self.model in CLONE_MODELS else ()

    def status(self, now: float | None = None) -> str:
        elapsed = (time.monotonic() if now is None else now) - self.started
        if elapsed >= self.processing_seconds:
            return "completed" if self.pitch_hz is not None else "failed"
        return "pending" if elapsed < self.processing_seconds / 2 else "processing"

    def created_body(self, organization_id: str, sample_url: str) -> dict[str, Any]:
        """`data` of the 200 answer to POST /waves/v1/voice-cloning."""
        data: dict[str, Any] = {
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "status": self.status(),
        }
        if self.language is not None:
            data["language"] = self.language
        data["model"] = {"_id": self.model_document_id, "modelName": self.model}
        data["audioFileNames"] = [self.file_name]
        data["createdAt"] = self.created_at
        data["organizationId"] = organization_id
        data["samples"] = (
            [] if self.pitch_hz is None else [{"text": SAMPLE_TEXT, "audioUrl": sample_url}]
        )
        return data

    def listed(self) -> dict[str, Any]:
        """One entry of GET /waves/v1/voice-cloning."""
        entry: dict[str, Any] = {
            "_id": self.document_id,
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "description": self.description or "",
            "accent": self.accent or "",
            "tags": list(self.tags),
        }
        if self.language is not None:
            entry["language"] = self.language
        entry.update(
            status=self.status(),
            cloningType="instant",
            modelIds=[self.model],
            createdAt=self.created_at,
        )
        return entry


class CloneLimitReached(Exception):
    pass


class Clones:
    """Every API key's clones; safe to use from any thread."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[str, Clone]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, clone: Clone, limit: int) -> None:
        """Keep `clone` for `key`; CloneLimitReached when the key already has `limit`."""
        with self._lock:
            owned = self._by_key.setdefault(key, {})
            if len(owned) >= limit:
                raise CloneLimitReached()
            owned[clone.voice_id] = clone

    def of(self, key: str) -> list[Clone]:
        """`key`'s clones, oldest first."""
        with self._lock:
            return list(self._by_key.get(key, {}).values())

    def find(self, voice_id: str) -> Clone | None:
        """A clone by id, whoever owns it (sample clips are fetched without a key)."""
        with self._lock:
            for owned in self._by_key.values():
                if voice_id in owned:
                    return owned[voice_id]
        return None

    def speaking(self, key: str) -> dict[str, Clone]:
        """`key`'s completed clones by voice id: the ones TTS accepts."""
        return {c.voice_id: c for c in self.of(key) if c.status() == "completed"}

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()


def new_voice_id() -> str:
    """`voice_` and ten letters or digits, like the live ids (`voice_dLP5T67Qw7`)."""
    return "voice_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def organization_id(key: str) -> str:
    """A stable Mongo-style id standing for the key's organization."""
    return hashlib.sha1(f"org:{key}".encode()).hexdigest()[:24]


def _now_iso() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
