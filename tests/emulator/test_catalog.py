"""The emulator's voice catalog is the documented one (REFERENCE §0.2), served per pool."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import pytest

from smallest_cli.emulator.catalog import BY_ID, VOICES
from smallest_cli.emulator.speech import VoiceTimbre
from tests.conftest import TEST_KEY
from tests.shared import SHARED_DIR, shared_path

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
DOCS = SHARED_DIR / "api" / "docs"
VOICES_PAGE = DOCS / "text-to-speech_get-voice-models-langs.mdx"
PRO_CARD = DOCS / "text-to-speech_model-cards_lightning-v-3-1-pro.mdx"
STANDARD_CARD = DOCS / "text-to-speech_model-cards_lightning-v-3-1.mdx"
STD, PRO = "lightning_v3.1", "lightning_v3.1_pro"
QUICK_PICKS = (
    "kaitlyn blake sophie sam aviraj sunidhi jeevan rajeshwari marcos daniella quinn".split()
)

# The documents' headings (and accordion titles) → (accent, languages) of the voices under
# them; None where the heading does not say (a table's own columns may).
CONTEXTS = {
    "American": ("american", "english"),
    "English (American)": ("american", "english"),
    "English (US)": ("american", "english"),
    "British": ("british", "english"),
    "Indian (13": ("indian", "english,hindi"),
    "Indian - ": ("indian", "english,hindi"),
    "Indic": ("indian", "english,hindi"),
    "Hindi / English": ("indian", "english,hindi"),
    "Indian languages": ("indian", None),
    "Indian Languages": ("indian", None),
    "Other Indian Languages": ("indian", None),
    "English (other accents)": (None, "english"),
    "English (Other accents)": (None, "english"),
    "Spanish": (None, "spanish"),
    **{
        lang: ("indian", lang.lower())
        for lang in "Tamil Telugu Kannada Malayalam Marathi Gujarati".split()
    },  # fmt: skip
    "Asian": (None, None),
    "European": (None, None),
}


@dataclass
class Documented:
    pools: set[str] = field(default_factory=set)
    genders: set[str] = field(default_factory=set)
    accents: set[str] = field(default_factory=set)
    languages: set[frozenset[str]] = field(default_factory=set)


def _context(heading: str) -> tuple[str | None, str | None] | None:
    matches = [key for key in CONTEXTS if heading.startswith(key)]
    return CONTEXTS[max(matches, key=len)] if matches else None


def _ids(cell: str) -> list[str]:
    return re.findall(r"`([a-z]+)`", cell)


def _read(path, sections: dict[str, str], found: dict[str, Documented]) -> None:
    """Record the voices under the `## ` sections named in `sections` (title prefix → pool)."""
    pool = None
    context = None
    columns: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            pool = next((p for title, p in sections.items() if line[3:].startswith(title)), None)
            context = None
        title = re.match(r'<Accordion title="([^"]+)">|### (.+)', line)
        if title:
            context = _context(title.group(1) or title.group(2))
            columns = []
        if pool is None or context is None:
            continue
        accent, languages = context
        label = re.match(r"\*\*(Female|Male):\*\*(.*)", line)
        if label:
            for voice_id in _ids(label.group(2)):
                _note(found[voice_id], pool, label.group(1).lower(), accent, languages)
        elif line.startswith("|") and not set(line) <= set("|- "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not columns:
                columns = cells
                continue
            row = dict(zip(columns, cells, strict=True))
            language = row.get("Language", "").split(" ")[0].lower() or languages
            for column, gender in (("Voice ID", None), ("Female voices", "female"), ("Male voices", "male")):  # fmt: skip
                for voice_id in _ids(row.get(column, "")):
                    sex = gender or row.get("Gender", "").lower() or None
                    where = (row.get("Accent") or "").lower() or accent
                    _note(found[voice_id], pool, sex, where, language)


def _note(doc: Documented, pool, gender, accent, languages) -> None:
    doc.pools.add(pool)
    if gender:
        doc.genders.add(gender)
    if accent:
        doc.accents.add(accent)
    if languages:
        doc.languages.add(frozenset(languages.split(",")))


@pytest.fixture(scope="module")
def documented() -> dict[str, Documented]:
    shared_path("api", "docs", VOICES_PAGE.name)
    found: dict[str, Documented] = defaultdict(Documented)
    _read(VOICES_PAGE, {"Lightning v3.1 Pro": PRO, "Lightning v3.1 - standard": STD}, found)
    _read(PRO_CARD, {"Voice Catalog": PRO}, found)
    _read(STANDARD_CARD, {"Top Voices": STD, "Voice Catalog": STD}, found)
    shared = re.search(r"base-queue voices for English \+ Hindi \(([^)]*)\)", PRO_CARD.read_text())
    assert shared is not None
    for voice_id in _ids(shared.group(1)):
        found[voice_id].pools |= {STD, PRO}
    return dict(found)


def test_the_documents_were_read(documented) -> None:
    pro = [v for v, doc in documented.items() if PRO in doc.pools]
    standard = [v for v, doc in documented.items() if STD in doc.pools]
    assert 185 <= len(pro) <= 200 and 60 <= len(standard) <= 80
    assert set(QUICK_PICKS) <= set(documented)


def test_every_documented_voice_is_in_the_catalog_as_documented(documented) -> None:
    wrong = []
    for voice_id, doc in sorted(documented.items()):
        voice = BY_ID.get(voice_id)
        if voice is None:
            wrong.append(f"{voice_id}: missing")
            continue
        if set(voice.pools) != doc.pools:
            wrong.append(f"{voice_id}: pools {voice.pools}, documented {doc.pools}")
        if doc.genders and voice.gender not in doc.genders:
            wrong.append(f"{voice_id}: {voice.gender}, documented {doc.genders}")
        if doc.accents and voice.accent not in doc.accents:
            wrong.append(f"{voice_id}: {voice.accent} accent, documented {doc.accents}")
        if doc.languages and frozenset(voice.languages) not in doc.languages:
            wrong.append(f"{voice_id}: speaks {voice.languages}, documented {doc.languages}")
    assert wrong == []


def test_the_catalog_has_no_invented_voices(documented) -> None:
    assert sorted(set(BY_ID) - set(documented)) == []


def test_each_voice_has_its_own_pitch_and_older_voices_keep_theirs() -> None:
    pitches = defaultdict(list)
    for voice in VOICES:
        pitches[voice.gender].append(VoiceTimbre.for_voice(voice.voice_id, voice.gender).pitch_hz)
    for gender, found in pitches.items():
        assert len(set(found)) == len(found), gender
    for voice_id, base in (("magnus", 115.0), ("meher", 205.0), ("liam", 115.0)):
        before = base + 30.0 * hashlib.sha1(voice_id.encode()).digest()[0] / 255
        assert VoiceTimbre.for_voice(voice_id, BY_ID[voice_id].gender).pitch_hz == before


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


def test_get_voices_on_lightning_v3_1_lists_both_pools(http) -> None:
    response = http.get("/waves/v1/lightning-v3.1/get_voices", headers=AUTH)
    assert response.status_code == 200
    listed = [v["voiceId"] for v in response.json()["voices"]]
    assert listed == [v.voice_id for v in VOICES]
    assert set(QUICK_PICKS) <= set(listed)
    kaitlyn = next(v for v in response.json()["voices"] if v["voiceId"] == "kaitlyn")
    assert kaitlyn["tags"]["accent"] == "american" and kaitlyn["tags"]["gender"] == "female"


def test_get_voices_on_the_pro_model_lists_the_pro_pool(http) -> None:
    response = http.get("/waves/v1/lightning-v3.1-pro/get_voices", headers=AUTH)
    assert response.status_code == 200
    listed = {v["voiceId"] for v in response.json()["voices"]}
    assert listed == {v.voice_id for v in VOICES if PRO in v.pools}
    assert {"kaitlyn", "jasper", "meher", "devansh"} <= listed
    assert not {"magnus", "quinn", "sunidhi", "marcos"} & listed


@pytest.mark.no_contract  # no spec documents an unknown model
@pytest.mark.parametrize("model", ["lightning-v3.1-turbo", "lightning_v3.1", "nonsense"])
def test_get_voices_on_an_unknown_model_is_404(http, model) -> None:
    response = http.get(f"/waves/v1/{model}/get_voices", headers=AUTH)
    assert response.status_code == 404
    assert f"Model '{model}' not found" in response.json()["message"]
