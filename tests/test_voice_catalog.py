"""The cached voice catalog: merging, caching, staleness, pools and completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from smallest_cli.api.client import SmallestClient
from smallest_cli.api.voices import Voice
from smallest_cli.jobs import voice_catalog
from smallest_cli.jobs.voice_catalog import PRO, STANDARD, known_pools, pool_reason
from tests.conftest import TEST_KEY

GET_VOICES = "/waves/v1/lightning-v3.1/get_voices"
GET_ALL = "/waves/v1/voice/get-all-models"
CLONES = "/waves/v1/voice-cloning"


@pytest.fixture
def client(emulator) -> Iterator[SmallestClient]:
    with SmallestClient(TEST_KEY, base_url=emulator.base_url) as client:
        yield client


def paths(emulator) -> list[str]:
    return [exchange.path for exchange in emulator.state.exchanges()]


def test_load_merges_both_endpoints_by_voice_id(client, emulator) -> None:
    catalog = voice_catalog.load(client)
    assert paths(emulator) == [GET_VOICES, GET_ALL, CLONES]
    assert catalog.from_cache is False and catalog.partial is None
    assert catalog.key == emulator.base_url
    mishka = catalog.find("mishka")
    assert mishka is not None
    # tags from Get Voices ...
    assert (mishka.gender, mishka.accent, mishka.age) == ("female", "indian", "young")
    assert mishka.usecases == ("conversational",)
    assert mishka.languages == ("english", "hindi")
    # ... description and _id from Get All Voices
    assert mishka.description and mishka.description.startswith("A youthful Indian female voice")
    assert mishka.document_id and len(mishka.document_id) == 24
    assert len({v.voice_id for v in catalog.voices}) == len(catalog.voices)


def test_second_load_uses_the_cache_and_refresh_refetches(client, emulator) -> None:
    first = voice_catalog.load(client)
    emulator.state.clear()
    again = voice_catalog.load(client)
    assert emulator.state.exchanges() == []
    assert again.from_cache is True and again.voices == first.voices
    fresh = voice_catalog.load(client, refresh=True)
    assert fresh.from_cache is False
    assert paths(emulator) == [GET_VOICES, GET_ALL, CLONES]


def test_a_fresh_cache_never_builds_the_client(client) -> None:
    voice_catalog.load(client)
    calls: list[int] = []

    def factory() -> SmallestClient:
        calls.append(1)
        return client

    assert voice_catalog.load(factory, key=client.base_url).from_cache
    assert calls == []


def test_ttl_expiry_refetches(client, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(voice_catalog, "_now", lambda: now[0])
    voice_catalog.load(client)
    emulator.state.clear()
    now[0] += voice_catalog.TTL - 60
    assert voice_catalog.load(client).from_cache
    assert emulator.state.exchanges() == []
    now[0] += 120
    assert not voice_catalog.load(client).from_cache
    assert paths(emulator) == [GET_VOICES, GET_ALL, CLONES]


def test_a_cache_from_the_future_is_stale(client, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(voice_catalog, "_now", lambda: now[0])
    voice_catalog.load(client)
    now[0] -= 3600  # the clock went back an hour
    assert not voice_catalog.load(client).from_cache


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'{"format": 1}',
        b'{"format": 99, "key": "K", "fetched_at": 0, "get_voices": []}',
        b'{"format": 1, "key": "K", "fetched_at": "yesterday", "get_voices": []}',
        b'{"format": 1, "key": "K", "fetched_at": 1, "get_voices": [{"voiceId": 7}]}',
        b'{"format": 1, "key": "K", "fetched_at": 1, "get_voices": [], "get_all_voices": {}}',
    ],
)
def test_a_corrupt_cache_is_refetched_not_an_error(
    client, emulator, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setattr(voice_catalog, "_now", lambda: 1.0)
    path = voice_catalog.cache_path(client.base_url)
    path.parent.mkdir(parents=True)
    path.write_bytes(content.replace(b'"K"', json.dumps(client.base_url).encode()))
    assert voice_catalog.cached_voices(client.base_url) == []
    catalog = voice_catalog.load(client)
    assert catalog.from_cache is False and catalog.find("magnus") is not None
    assert json.loads(path.read_text())["key"] == client.base_url  # rewritten


def test_an_unreadable_cache_dir_is_skipped(client, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    monkeypatch.setenv("SMALLEST_CACHE_DIR", str(blocker))
    notes: list[str] = []
    catalog = voice_catalog.load(client, log=notes.append)
    assert catalog.find("magnus") is not None
    assert notes and notes[0].startswith("could not write the voice cache")
    assert voice_catalog.cached_voices(client.base_url) == []


def test_the_cache_file_layout(client, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_catalog, "_now", lambda: 1_800_000_000.0)
    previous = os.umask(0o027)
    try:
        voice_catalog.load(client)
    finally:
        os.umask(previous)
    [path] = (tmp_path / "cache").iterdir()
    assert path.name.startswith("voices-") and path.suffix == ".json"
    assert path.stat().st_mode & 0o777 == 0o640  # the umask's mode
    document = json.loads(path.read_text())
    assert set(document) == {
        "format",
        "key",
        "fetched_at",
        "get_voices",
        "get_all_voices",
        "get_all_voices_error",
        "clones",
        "clones_error",
    }
    assert (document["format"], document["key"]) == (1, client.base_url)
    assert document["fetched_at"] == 1_800_000_000.0
    assert document["get_all_voices_error"] is None
    assert document["get_voices"][0] == {
        "voiceId": "avery",
        "displayName": "Avery",
        "tags": {
            "language": ["english"],
            "accent": "american",
            "gender": "female",
            "age": "young",
            "emotions": [],
            "usecases": ["conversational"],
        },
    }
    kept = set(document["get_all_voices"][0])
    assert {"_id", "voiceId", "displayName", "description", "tags"} <= kept
    assert kept <= {*voice_catalog.KEEP_FIELDS, "model", "models", "modelIds", "pool"}
    assert not list(path.parent.glob(".voices-*"))  # no temp file left behind


def test_cached_voice_looks_up_one_id_without_network(client, emulator) -> None:
    assert voice_catalog.cached_voice(client.base_url, "jasper") is None  # no cache yet
    voice_catalog.load(client)
    emulator.state.clear()
    jasper = voice_catalog.cached_voice(client.base_url, "Jasper")
    assert jasper is not None and jasper.voice_id == "jasper"
    assert voice_catalog.cached_voice(client.base_url, "nobody") is None
    assert voice_catalog.cached_voice("http://other.example.test", "jasper") is None
    assert emulator.state.exchanges() == []


def test_a_lookup_of_one_voice_builds_only_that_voice(
    client, emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tts say` checks its one voice before the request: it builds that voice, not the
    whole catalog (its time comes before the first audio)."""
    full = voice_catalog.load(client)
    built: list[str] = []
    real = Voice.from_api.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Voice, "from_api", classmethod(lambda cls, e: built.append(e["voiceId"]) or real(cls, e))
    )
    for lookup in (voice_catalog.load, lambda c, **k: voice_catalog.load(c, refresh=True, **k)):
        built.clear()
        catalog = lookup(client, voice="JASPER")
        assert [v.voice_id for v in catalog.voices] == ["jasper"] == built
        assert catalog.find("JASPER") == full.find("jasper")
    assert voice_catalog.load(client, voice="nobody").voices == ()


def test_each_base_url_has_its_own_cache(client, emulator) -> None:
    voice_catalog.load(client)
    other = "http://other.example.test"
    assert voice_catalog.cache_path(other) != voice_catalog.cache_path(client.base_url)
    assert voice_catalog.cached_voices(other) == []
    emulator.state.clear()
    # the same server under a second key is fetched again, not served from the first cache
    assert not voice_catalog.load(client, key="emulator").from_cache
    assert paths(emulator) == [GET_VOICES, GET_ALL, CLONES]
    assert voice_catalog.cached_voices("emulator")


@pytest.mark.no_contract  # a 404 from Get All Voices is not in its spec
@pytest.mark.parametrize("fault", ["404", "500", "403"])
def test_get_all_voices_failing_degrades_to_get_voices(
    client, emulator, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(voice_catalog, "_now", lambda: now[0])
    emulator.state.faults.replace([f"{fault}@{GET_ALL}"], 0)
    catalog = voice_catalog.load(client)
    assert catalog.partial is not None and f"HTTP {fault}" in catalog.partial
    jasper = catalog.find("jasper")
    assert jasper is not None and jasper.gender == "male" and jasper.description is None
    assert len(catalog.voices) > 50
    # kept, but only for PARTIAL_TTL: the next run after that tries Get All Voices again
    emulator.state.faults.replace([], 0)
    emulator.state.clear()
    assert voice_catalog.load(client).from_cache
    now[0] += voice_catalog.PARTIAL_TTL + 1
    recovered = voice_catalog.load(client)
    assert recovered.partial is None and recovered.find("jasper").description
    assert paths(emulator) == [GET_VOICES, GET_ALL, CLONES]


@pytest.mark.no_contract
def test_get_voices_failing_is_an_error_and_keeps_the_old_cache(client, emulator) -> None:
    from smallest_cli.errors import AuthenticationError

    voice_catalog.load(client)
    with SmallestClient("not-a-key", base_url=emulator.base_url) as bad:
        with pytest.raises(AuthenticationError):
            voice_catalog.load(bad, refresh=True)
    assert voice_catalog.cached_voices(client.base_url)


def test_merge_prefers_get_voices_and_keeps_catalog_only_voices() -> None:
    merged = voice_catalog._merge(
        [
            {"voiceId": "a", "displayName": "A", "tags": {"age": "", "gender": "male"}},
            {"voiceId": "a", "displayName": "duplicate"},
            {"voiceId": "b", "displayName": "", "tags": {"language": []}},
        ],
        [
            {"voiceId": "b", "displayName": "Bee", "tags": {"language": ["hindi"]}, "_id": "x"},
            {"voiceId": "a", "displayName": "Old", "tags": {"age": "senior"}, "description": "d"},
            {"voiceId": "c", "displayName": "Sea", "audioPreview": "https://p/c.wav"},
        ],
    )
    voices = [Voice.from_api(e) for e in merged]
    assert [v.voice_id for v in voices] == ["a", "b", "c"]
    assert (voices[0].display_name, voices[0].age, voices[0].gender) == ("A", "senior", "male")
    assert voices[0].description == "d"
    assert (voices[1].display_name, voices[1].languages, voices[1].document_id) == (
        "Bee",
        ("hindi",),
        "x",
    )
    assert voices[2].preview_url == "https://p/c.wav"


# -- languages and pools --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("hi", "hindi"),
        ("HI", "hindi"),
        ("Hindi", "hindi"),
        (" ja ", "japanese"),
        ("no", "norwegian"),
    ],
)
def test_language_name(given: str, name: str) -> None:
    assert voice_catalog.language_name(given) == name


@pytest.mark.parametrize("given", ["xx", "auto", "klingon", ""])
def test_unknown_language(given: str) -> None:
    assert voice_catalog.language_name(given) is None


def test_pro_only_languages_are_the_eleven_of_reference_6_1() -> None:
    assert voice_catalog.PRO_ONLY_LANGUAGES == {
        "greek", "finnish", "norwegian", "chinese", "japanese", "korean",
        "indonesian", "malay", "vietnamese", "turkish", "arabic",
    }  # fmt: skip
    assert len(voice_catalog.LANGUAGES) == 31


def voice(*languages: str, **raw: Any) -> Voice:
    return Voice.from_api({"voiceId": "v", "tags": {"language": list(languages)}, **raw})


@pytest.mark.parametrize(
    ("subject", "pools"),
    [
        (voice("japanese"), {PRO}),
        (voice("English", "Japanese"), {PRO}),  # any Pro-only language decides
        (voice("ar"), {PRO}),  # a code in the tags works too
        (voice("english"), None),  # unknown: could be either pool
        (voice("hindi", "english"), None),
        (voice(), None),
        (voice("japanese", model="lightning-v3.1"), {STANDARD}),  # an explicit field wins
        (voice("english", models=["lightning_v3.1", "lightning_v3.1_pro"]), {STANDARD, PRO}),
        (voice("english", modelIds=["lightning-v3.1-pro"]), {PRO}),
        (voice("english", pool="pro"), {PRO}),
        (voice("english", modelIds=["lightning-large"]), set()),  # no current model suits
    ],
)
def test_known_pools(subject: Voice, pools: set[str] | None) -> None:
    assert known_pools(subject) == pools


def test_known_pools_on_the_emulator_catalog(client) -> None:
    catalog = voice_catalog.load(client)
    pools = {v.voice_id: known_pools(v) for v in catalog.voices}
    assert pools["jasper"] == {PRO}  # japanese
    assert pools["layla"] == {PRO}
    assert pools["magnus"] is None
    assert pools["meher"] is None  # serves both pools: not knowable
    assert pools["kaitlyn"] is None  # a Pro voice in English: not knowable either


def test_pool_reason() -> None:
    assert pool_reason(voice("japanese")) == (
        "it speaks japanese, which only lightning_v3.1_pro supports"
    )
    assert pool_reason(voice("english", modelIds=["lightning-v3.1"])) == (
        "the API lists it for lightning-v3.1"
    )
    assert pool_reason(voice("english")) is None


# -- completion -----------------------------------------------------------------------------


def fake_ctx(**params: Any) -> SimpleNamespace:
    root = SimpleNamespace(params=params)
    return SimpleNamespace(find_root=lambda: root)


def test_completion_with_no_cache_offers_nothing(emulator) -> None:
    assert voice_catalog.complete_voice_id(fake_ctx(base_url=emulator.base_url), "") == []
    assert voice_catalog.complete_voice_id(None, "ha") == []
    assert emulator.state.exchanges() == []


def test_completion_reads_the_cache_of_the_api_in_use(client, emulator, monkeypatch) -> None:
    voice_catalog.load(client)
    emulator.state.clear()
    found = voice_catalog.complete_voice_id(fake_ctx(base_url=emulator.base_url), "ha")
    assert found == [
        ("hannah", "Hannah, female, young, american accent, english"),
        ("hazel", "Hazel, female, young, chinese accent, chinese"),
        ("hanna", "Hanna, female, young, german accent, german"),
    ]  # in the catalog's order
    assert emulator.state.exchanges() == []  # no network
    # the base URL also comes from SMALLEST_BASE_URL or config.toml
    assert voice_catalog.complete_voice_id(fake_ctx(), "ha") == []
    monkeypatch.setenv("SMALLEST_BASE_URL", emulator.base_url + "/")
    assert len(voice_catalog.complete_voice_id(fake_ctx(), "ha")) == 3
    # and --emulator (or SMALLEST_EMULATOR) means the in-process emulator's cache
    assert voice_catalog.complete_voice_id(fake_ctx(use_emulator=True), "ha") == []


def test_completion_survives_a_broken_config(tmp_path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("not = [toml")
    assert voice_catalog.complete_voice_id(fake_ctx(), "") == []


PROBE = """
import json, sys
sys.argv = ["smallest"]
from smallest_cli.__main__ import main
try:
    main()
except SystemExit:
    pass
loaded = {m.split(".")[0] for m, module in sys.modules.items() if module is not None}
sys.stderr.write("MODULES " + json.dumps(sorted(loaded)) + "\\n")
"""


@pytest.mark.parametrize(
    "words", [["voices", "show", "ha"], ["--emulator", "voices", "show", "ha"]]
)
def test_shell_completion_in_a_real_process_reads_only_the_cache(
    words: list[str], client, emulator, tmp_path: Path
) -> None:
    key = "emulator" if "--emulator" in words else emulator.base_url
    voice_catalog.load(client, key=key)
    emulator.state.clear()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={
            **os.environ,
            "SMALLEST_BASE_URL": emulator.base_url,
            "_SMALLEST_COMPLETE": "complete_bash",
            "COMP_WORDS": " ".join(["smallest", *words]),
            "COMP_CWORD": str(len(words)),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.split() == ["hannah", "hazel", "hanna"]
    modules = json.loads(proc.stderr.split("MODULES ", 1)[1])
    assert not {"httpx", "rich", "uvicorn", "starlette"} & set(modules)
    assert emulator.state.exchanges() == []
