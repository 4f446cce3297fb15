"""The emulator's voice catalog: the documented voices, in the two TTS pools.

Every voice id named in the vendor's voices page and the two Lightning model cards
(REFERENCE §0.2: `text-to-speech_get-voice-models-langs.mdx`,
`text-to-speech_model-cards_lightning-v-3-1{,-pro}.mdx`) is here, in its pool, with its
documented gender, accent and languages; the emulator invents no voices. The six
"base-queue" voices (`meher`, `devansh`, `kartik`, `maithili`, `liam`, `avery`) serve in both
pools, as the Pro model card says. `henry` is listed under both American and British Pro
males; it is British here.

What the documents leave out is synthetic: ages, use cases, emotions and descriptions
(the voices the emulator had before the documented catalog keep theirs), the accent of
`kartik`, `liam` and `avery`, and the accent of a non-English voice (named after its
language's country: `german`, `brazilian`, …). Tags follow the live vocabulary: lowercase
language names, accents such as `american`, `british`, `indian`.
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


@dataclass(frozen=True)
class _Extras:
    age: str = "young"
    usecases: str = "conversational"
    emotions: str = ""
    description: str = ""


EXTRAS: dict[str, _Extras] = {
    "avery": _Extras(),
    "liam": _Extras(),
    "magnus": _Extras("middle aged", "narration,conversational"),
    "kartik": _Extras(usecases="conversational,customer support"),
    "mishka": _Extras(
        description="A youthful Indian female voice with an inviting tone and smooth, expressive delivery."
    ),
    "olivia": _Extras("middle aged", "narration"),
    "nora": _Extras("senior", "audiobook", "calm"),
    "mateo": _Extras("middle aged", "narration"),
    "sebastian": _Extras("middle aged", "narration,audiobook"),
    "lakshmi": _Extras("middle aged"),
    "quinn": _Extras(usecases="conversational,advertisement", emotions="happy,excited"),
    "rachel": _Extras("middle aged", "narration,audiobook", "calm"),
    "ronald": _Extras("senior", "narration"),
    "blake": _Extras(usecases="conversational,customer support"),
    "sophie": _Extras(usecases="conversational,customer support"),
    "benedict": _Extras("senior", "audiobook", "calm"),
    "aviraj": _Extras(usecases="conversational,news"),
}
"""What the documents do not say about a voice (age, use cases, emotions, description):
young and conversational unless listed here."""


def _voices(
    pools: Pool | tuple[Pool, ...], accent: str, gender: str, languages: str, ids: str
) -> tuple[CatalogVoice, ...]:
    """One documented group: voices sharing pool, accent, gender and languages."""
    found = []
    for voice_id in ids.split():
        extras = EXTRAS.get(voice_id, _Extras())
        found.append(
            CatalogVoice(
                voice_id=voice_id,
                display_name=voice_id.capitalize(),
                pools=pools if isinstance(pools, tuple) else (pools,),
                languages=tuple(languages.split(",")),
                accent=accent,
                gender=gender,
                age=extras.age,
                usecases=tuple(extras.usecases.split(",")),
                emotions=tuple(e for e in extras.emotions.split(",") if e),
                description=extras.description,
            )
        )
    return tuple(found)


PREVIEW_PATH = "/_emulator/previews"
WITHOUT_PREVIEW = frozenset({"padmaja", "nilesh", "shibi", "wes", "kai"})
"""Voices listed without an `audioPreview`, so clients meet the field's absence: `padmaja`,
`nilesh`, `shibi` (standard pool), `wes` and `kai` (Pro pool)."""

STD: Pool = "lightning_v3.1"
PRO: Pool = "lightning_v3.1_pro"
BOTH = (STD, PRO)
F, M = "female", "male"

VOICES: tuple[CatalogVoice, ...] = (
    # Both pools: the base-queue voices (Pro model card, word-level timestamps).
    *_voices(BOTH, "american", F, "english", "avery"),
    *_voices(BOTH, "british", M, "english", "liam"),
    *_voices(BOTH, "indian", F, "english,hindi", "meher maithili"),
    *_voices(BOTH, "indian", M, "english,hindi", "devansh kartik"),
    # Lightning v3.1 (standard pool)
    *_voices(STD, "american", M, "english",
             "magnus jordan robert johnny lucas ronald blofeld zorin felix malcolm daniel"),
    *_voices(STD, "american", F, "english",
             "quinn olivia lauren hannah vanessa brooke rachel nicole elizabeth ilsa christine mia"),
    *_voices(STD, "canadian", M, "english", "william"),
    *_voices(STD, "canadian", F, "english", "erica"),
    *_voices(STD, "australian", F, "english", "chloe"),
    *_voices(STD, "indian", F, "english,hindi",
             "sunidhi chinmayi aanya siya anuja avni ishani yuvika advika sana sameera srishti "
             "sakshi maya"),
    *_voices(STD, "indian", M, "english,hindi", "wasim rehan parth atharv vivaan aarush neel mihir"),
    *_voices(STD, "indian", M, "tamil", "jeevan"),
    *_voices(STD, "indian", F, "tamil", "rajeshwari"),
    *_voices(STD, "indian", M, "telugu", "srihari"),
    *_voices(STD, "indian", F, "telugu", "padmaja"),
    *_voices(STD, "indian", M, "kannada", "pranav"),
    *_voices(STD, "indian", F, "kannada", "deepashri"),
    *_voices(STD, "indian", M, "malayalam", "vaisakh"),
    *_voices(STD, "indian", F, "malayalam", "shibi"),
    *_voices(STD, "indian", M, "marathi", "nilesh"),
    *_voices(STD, "indian", F, "marathi", "rupali"),
    *_voices(STD, "indian", M, "gujarati", "dhruvit"),
    *_voices(STD, "indian", F, "gujarati", "niharika"),
    *_voices(STD, "spanish", M, "spanish", "marcos david miguel"),
    *_voices(STD, "spanish", F, "spanish", "daniella camilla alba nerea"),
    # Lightning v3.1 Pro
    *_voices(PRO, "american", F, "english",
             "kaitlyn savannah amelia zoe ruby leah jenna kate molly sara fiona"),
    *_voices(PRO, "american", M, "english", "blake austin jack leo luke owen"),
    *_voices(PRO, "british", F, "english", "sophie ellie cressida ottilie elowen seraphina"),
    *_voices(PRO, "british", M, "english", "sam henry benedict cormac rupert finley"),
    *_voices(PRO, "indian", F, "english,hindi", "rhea zariya kareena mishka inaaya saira aarini"),
    *_voices(PRO, "indian", M, "english,hindi", "aviraj vyom zoravar reyansh ahan"),
    *_voices(PRO, "indian", F, "marathi", "mrunal manasi ketaki tejaswini"),
    *_voices(PRO, "indian", M, "marathi", "mandar tushar"),
    *_voices(PRO, "indian", F, "tamil", "malar nila tamilselvi"),
    *_voices(PRO, "indian", M, "tamil",
             "mathan dinesh prabhu ezhil kavin tamizh barath sakthi murugan"),
    *_voices(PRO, "indian", F, "malayalam", "parvathy lakshmi"),
    *_voices(PRO, "indian", M, "malayalam", "vishnu sreenath unni aravindan"),
    *_voices(PRO, "indian", F, "telugu", "sravani swathi"),
    *_voices(PRO, "indian", M, "telugu", "naveen charan sasank bhaskar gopal manohar"),
    *_voices(PRO, "indian", F, "kannada", "spoorthi rashmi varsha sahana"),
    *_voices(PRO, "indian", M, "kannada", "rakshith kishore yogesh gowtham shankar basava"),
    *_voices(PRO, "indian", F, "punjabi", "jasleen manmeet"),
    *_voices(PRO, "indian", M, "punjabi", "rajdeep tejinder sukhdeep amrit gagandeep"),
    *_voices(PRO, "indian", M, "bengali", "rajib tanmoy subhro arghya indranil"),
    *_voices(PRO, "indian", F, "odia", "sasmita ankita"),
    *_voices(PRO, "indian", M, "odia", "subrat debasish sambit pratik rakesh smruti"),
    *_voices(PRO, "indian", F, "gujarati", "krupa riddhi"),
    *_voices(PRO, "indian", M, "gujarati", "jignesh mit keval"),
    *_voices(PRO, "arabic", F, "arabic", "layla"),
    *_voices(PRO, "arabic", M, "arabic", "adam"),
    *_voices(PRO, "chinese", F, "chinese", "hazel vivian"),
    *_voices(PRO, "chinese", M, "chinese", "dylan silas eli"),
    *_voices(PRO, "indonesian", F, "indonesian", "nora"),
    *_voices(PRO, "indonesian", M, "indonesian", "bryce miles cole"),
    *_voices(PRO, "japanese", F, "japanese", "aria mila daisy"),
    *_voices(PRO, "japanese", M, "japanese", "jasper"),
    *_voices(PRO, "korean", F, "korean", "june"),
    *_voices(PRO, "malaysian", F, "malay", "sasha"),
    *_voices(PRO, "malaysian", M, "malay", "roman"),
    *_voices(PRO, "turkish", M, "turkish", "beau wes"),
    *_voices(PRO, "vietnamese", M, "vietnamese", "kai"),
    *_voices(PRO, "german", F, "german", "hanna lea petra"),
    *_voices(PRO, "german", M, "german", "max ben markus finn"),
    *_voices(PRO, "spanish", F, "spanish", "martina ines paula"),
    *_voices(PRO, "spanish", M, "spanish", "sebastian mateo gabriel"),
    *_voices(PRO, "french", F, "french", "manon juliette lucie elise amelie"),
    *_voices(PRO, "french", M, "french", "louis nicolas maxime raphael"),
    *_voices(PRO, "italian", F, "italian", "silvia concetta arianna"),
    *_voices(PRO, "italian", M, "italian", "davide luca leonardo"),
    *_voices(PRO, "brazilian", F, "portuguese", "juliana leticia"),
    *_voices(PRO, "brazilian", M, "portuguese", "gustavo thiago bruno"),
    *_voices(PRO, "portuguese", F, "portuguese", "catarina"),
    *_voices(PRO, "portuguese", M, "portuguese", "francisco"),
    *_voices(PRO, "russian", F, "russian", "anastasia ekaterina olga irina"),
    *_voices(PRO, "russian", M, "russian", "andrei nikolai maksim"),
    *_voices(PRO, "greek", F, "greek", "katerina dimitra athina"),
    *_voices(PRO, "greek", M, "greek", "dimitris vasilis"),
    *_voices(PRO, "finnish", F, "finnish", "aino helmi venla"),
    *_voices(PRO, "finnish", M, "finnish", "mika timo matti"),
    *_voices(PRO, "norwegian", F, "norwegian", "solveig marit"),
    *_voices(PRO, "norwegian", M, "norwegian", "kristian espen"),
    *_voices(PRO, "polish", F, "polish", "ewa joanna"),
    *_voices(PRO, "polish", M, "polish", "tomasz jakub"),
)  # fmt: skip

BY_ID: dict[str, CatalogVoice] = {v.voice_id: v for v in VOICES}

FIRST_PITCHED = ("avery", "liam", "magnus", "meher", "devansh", "kartik", "maithili", "mishka",
                 "olivia", "nora", "mateo", "sebastian", "lakshmi", "aino", "layla")  # fmt: skip
"""Voices the emulator served before the documented catalog: they keep the pitch they had,
so audio made with them still transcribes (and diarizes) the same."""


def pitch_hz(voice_id: str, gender: str | None, attempt: int = 0) -> float:
    """The synthetic voice's pitch: a spot on a 30 Hz band, from the id's hash."""
    spread = hashlib.sha1(voice_id.encode()).digest()[attempt] / 255
    return (115.0 if gender == "male" else 205.0) + 30.0 * spread


def _distinct_pitches() -> dict[str, float]:
    """Every catalog voice's pitch, no two voices of a gender alike (a later one that lands on
    a taken pitch tries the next byte of its hash)."""
    pitches: dict[str, float] = {}
    taken: set[tuple[str, float]] = set()
    ordered = [BY_ID[v] for v in FIRST_PITCHED] + [
        v for v in VOICES if v.voice_id not in FIRST_PITCHED
    ]
    for voice in ordered:
        attempt = 0
        while (voice.gender, pitch := pitch_hz(voice.voice_id, voice.gender, attempt)) in taken:
            attempt += 1
        taken.add((voice.gender, pitch))
        pitches[voice.voice_id] = pitch
    return pitches


PITCH_HZ = _distinct_pitches()
