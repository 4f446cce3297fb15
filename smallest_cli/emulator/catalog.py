"""The emulator's voice catalog: realistic, fixed, and split into the two TTS pools.

The live API's Get Voices returns the union of the standard and Pro pools with no pool
flag (REFERENCE §7.1); the pools are kept here so the emulator can behave like the server
does for each (a few voices, like `meher`, serve in both: the spec's Pro example uses it). Tags follow the live vocabulary: lowercase language names, accents such as
`american`, `british`, `indian`, ages `young`, `middle aged`, `senior`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

Pool = Literal["lightning_v3.1", "lightning_v3.1_pro"]


@dataclass(frozen=True)
class CatalogVoice:
    voice_id: str
    display_name: str
    pools: tuple[Pool, ...]
    languages: tuple[str, ...]
    accent: str
    gender: str
    age: str
    usecases: tuple[str, ...] = ("conversational",)
    emotions: tuple[str, ...] = ()
    description: str = ""

    @property
    def document_id(self) -> str:
        """A stable Mongo-style `_id`, as Get All Voices returns."""
        return hashlib.sha1(self.voice_id.encode()).hexdigest()[:24]

    def get_voices_entry(self) -> dict[str, Any]:
        """The shape of GET /waves/v1/{model}/get_voices."""
        return {
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "tags": {
                "language": list(self.languages),
                "accent": self.accent,
                "gender": self.gender,
                "age": self.age,
                "emotions": list(self.emotions),
                "usecases": list(self.usecases),
            },
        }

    @property
    def has_preview(self) -> bool:
        return self.voice_id not in WITHOUT_PREVIEW

    def catalog_entry(self, base_url: str) -> dict[str, Any]:
        """The shape of GET /waves/v1/voice/get-all-models.

        `audioPreview` points at the emulator's own preview route under `base_url` (no key
        needed, like the live CDN links); voices in WITHOUT_PREVIEW have no `audioPreview`.
        """
        entry: dict[str, Any] = {
            "_id": self.document_id,
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "description": self.description or self._describe(),
        }
        if self.has_preview:
            entry["audioPreview"] = f"{base_url.rstrip('/')}{PREVIEW_PATH}/{self.voice_id}.wav"
        entry["tags"] = {
            "age": self.age,
            "emotions": list(self.emotions),
            "language": list(self.languages),
        }
        return entry

    def preview_text(self) -> str:
        """What the voice says in its preview clip."""
        return f"Hello, I am {self.display_name}. This is how my voice sounds."

    def _describe(self) -> str:
        languages = " and ".join(l.capitalize() for l in self.languages[:2])  # noqa: E741
        return f"A {self.age} {self.accent} {self.gender} voice for {self.usecases[0]} speech in {languages}."


def _voice(
    voice_id: str,
    pool: Pool | tuple[Pool, ...],
    gender: str,
    age: str,
    accent: str,
    languages: str,
    usecases: str = "conversational",
    emotions: str = "",
    description: str = "",
) -> CatalogVoice:
    return CatalogVoice(
        voice_id=voice_id,
        display_name=voice_id.capitalize(),
        pools=pool if isinstance(pool, tuple) else (pool,),
        languages=tuple(languages.split(",")),
        accent=accent,
        gender=gender,
        age=age,
        usecases=tuple(usecases.split(",")),
        emotions=tuple(e for e in emotions.split(",") if e),
        description=description,
    )


PREVIEW_PATH = "/_emulator/previews"
WITHOUT_PREVIEW = frozenset({"harpreet", "subhash", "midhun", "daan", "emre"})
"""Voices listed without an `audioPreview`, so clients meet the field's absence: `harpreet`,
`subhash`, `midhun` (standard pool), `daan` and `emre` (Pro pool)."""

STD: Pool = "lightning_v3.1"
PRO: Pool = "lightning_v3.1_pro"
BOTH = (STD, PRO)

VOICES: tuple[CatalogVoice, ...] = (
    _voice("avery", STD, "female", "young", "american", "english"),
    _voice("liam", STD, "male", "young", "british", "english"),
    _voice("magnus", STD, "male", "middle aged", "american", "english", "narration,conversational"),
    _voice("meher", BOTH, "female", "young", "indian", "english,hindi"),
    _voice("devansh", BOTH, "male", "young", "indian", "hindi,english"),
    _voice("kartik", STD, "male", "young", "indian", "hindi,english", "conversational,customer support"),
    _voice("maithili", STD, "female", "young", "indian", "hindi,english,marathi"),
    _voice(
        "mishka", STD, "female", "young", "indian",
        "english,hindi,marathi,gujarati,punjabi,bengali,odia,tamil,telugu",
        description="A youthful Indian female voice with an inviting tone and smooth, expressive delivery.",
    ),
    _voice("harper", STD, "female", "young", "american", "english", "advertisement", "happy,excited"),
    _voice("ethan", STD, "male", "young", "american", "english"),
    _voice("olivia", STD, "female", "middle aged", "british", "english", "narration"),
    _voice("arthur", STD, "male", "senior", "british", "english", "narration,audiobook", "calm"),
    _voice("nora", STD, "female", "senior", "american", "english", "audiobook", "calm"),
    _voice("aarav", STD, "male", "young", "indian", "hindi,english", "news"),
    _voice("ananya", STD, "female", "young", "indian", "hindi,english", "customer support"),
    _voice("vikram", STD, "male", "middle aged", "indian", "hindi,english", "narration"),
    _voice("kavya", STD, "female", "young", "indian", "tamil,english"),
    _voice("arjun", STD, "male", "middle aged", "indian", "tamil,english", "narration"),
    _voice("lakshmi", STD, "female", "middle aged", "indian", "telugu,english"),
    _voice("ravi", STD, "male", "young", "indian", "telugu,english"),
    _voice("shreya", STD, "female", "young", "indian", "kannada,english"),
    _voice("manjunath", STD, "male", "middle aged", "indian", "kannada,english"),
    _voice("anjali", STD, "female", "young", "indian", "malayalam,english"),
    _voice("midhun", STD, "male", "young", "indian", "malayalam,english"),
    _voice("sneha", STD, "female", "young", "indian", "marathi,hindi"),
    _voice("omkar", STD, "male", "middle aged", "indian", "marathi,hindi", "news"),
    _voice("hetal", STD, "female", "young", "indian", "gujarati,hindi"),
    _voice("harpreet", STD, "male", "young", "indian", "punjabi,hindi"),
    _voice("riya", STD, "female", "young", "indian", "bengali,hindi"),
    _voice("subhash", STD, "male", "senior", "indian", "odia,hindi", "narration"),
    _voice("lucia", STD, "female", "young", "spanish", "spanish,english"),
    _voice("mateo", STD, "male", "middle aged", "latin american", "spanish", "narration"),
    _voice("aurora", PRO, "female", "young", "american", "english", "conversational,advertisement", "happy,calm"),
    _voice("sebastian", PRO, "male", "middle aged", "british", "english", "narration,audiobook"),
    _voice("isha", PRO, "female", "young", "indian", "hindi,english", "conversational,customer support"),
    _voice("rohan", PRO, "male", "middle aged", "indian", "hindi,english", "news"),
    _voice("camille", PRO, "female", "young", "french", "french,english"),
    _voice("lukas", PRO, "male", "middle aged", "german", "german,english", "narration"),
    _voice("giulia", PRO, "female", "young", "italian", "italian"),
    _voice("daan", PRO, "male", "young", "dutch", "dutch"),
    _voice("astrid", PRO, "female", "middle aged", "swedish", "swedish"),
    _voice("joao", PRO, "male", "young", "brazilian", "portuguese"),
    _voice("zofia", PRO, "female", "young", "polish", "polish"),
    _voice("dmitri", PRO, "male", "senior", "russian", "russian", "narration"),
    _voice("eleni", PRO, "female", "young", "greek", "greek"),
    _voice("aino", PRO, "female", "young", "finnish", "finnish"),
    _voice("ingrid", PRO, "female", "middle aged", "norwegian", "norwegian"),
    _voice("mei", PRO, "female", "young", "chinese", "chinese"),
    _voice("haruto", PRO, "male", "young", "japanese", "japanese"),
    _voice("jiwoo", PRO, "female", "young", "korean", "korean"),
    _voice("putri", PRO, "female", "young", "indonesian", "indonesian"),
    _voice("aisyah", PRO, "female", "young", "malaysian", "malay"),
    _voice("linh", PRO, "female", "young", "vietnamese", "vietnamese"),
    _voice("emre", PRO, "male", "middle aged", "turkish", "turkish"),
    _voice("layla", PRO, "female", "young", "arabic", "arabic"),
)  # fmt: skip

BY_ID: dict[str, CatalogVoice] = {v.voice_id: v for v in VOICES}
