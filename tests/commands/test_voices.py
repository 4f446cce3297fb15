"""`smallest voices` against the emulator over loopback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from smallest_cli.emulator.catalog import BY_ID, VOICES
from smallest_cli.jobs import voice_catalog
from tests.conftest import run

GET_VOICES = "/waves/v1/lightning-v3.1/get_voices"
GET_ALL = "/waves/v1/voice/get-all-models"
CLONES = "/waves/v1/voice-cloning"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
JSON_KEYS = [
    "voice_id", "display_name", "languages", "accent", "gender", "age", "emotions", "usecases",
    "description", "preview_url", "document_id", "models", "cloned", "clone_status",
    "known_pools",
]  # fmt: skip


def ids(stdout: str) -> list[str]:
    return [line.split("\t")[0] for line in stdout.splitlines()]


def paths(emulator) -> list[str]:
    return [exchange.path for exchange in emulator.state.exchanges()]


# -- list -----------------------------------------------------------------------------------


def test_list_piped_is_tab_separated_without_header(api_env) -> None:
    result = run("voices", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == len(VOICES)
    assert lines[0] == "avery\tAvery\tfemale\tyoung\tamerican\tenglish"
    assert "mishka\tMishka\tfemale\tyoung\tindian\tenglish,hindi" in lines
    assert "magnus\tMagnus\tmale\tmiddle aged\tamerican\tenglish" in lines
    assert all(len(line.split("\t")) == 6 for line in lines)
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]


def test_list_on_a_terminal_is_a_table(api_env) -> None:
    result = run(
        "voices", "list", "--accent", "american", "--age", "middle aged", stdout_isatty=True
    )
    assert result.exit_code == 0, result.stderr
    assert "\x1b[1m" in result.stdout  # a bold header
    lines = [line.split() for line in ANSI.sub("", result.stdout).splitlines()]
    assert lines[0] == ["ID", "NAME", "GENDER", "AGE", "ACCENT", "LANGUAGES"]
    assert lines[1:] == [
        ["magnus", "Magnus", "male", "middle", "aged", "american", "english"],
        ["olivia", "Olivia", "female", "middle", "aged", "american", "english"],
        ["rachel", "Rachel", "female", "middle", "aged", "american", "english"],
    ]


def test_list_json_shape(api_env) -> None:
    result = run("voices", "list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == len(VOICES)
    by_id = {item["voice_id"]: item for item in data}
    assert by_id["jasper"] == {
        "voice_id": "jasper",
        "display_name": "Jasper",
        "languages": ["japanese"],
        "accent": "japanese",
        "gender": "male",
        "age": "young",
        "emotions": [],
        "usecases": ["conversational"],
        "description": "A young japanese male voice for conversational speech in Japanese.",
        "preview_url": f"{api_env.base_url}/_emulator/previews/jasper.wav",  # Get All Voices'
        "document_id": BY_ID["jasper"].document_id,  # its `_id`
        "models": [],
        "cloned": False,
        "clone_status": None,
        "known_pools": ["lightning_v3.1_pro"],
    }
    assert re.fullmatch(r"[0-9a-f]{24}", by_id["jasper"]["document_id"])
    assert by_id["magnus"]["known_pools"] is None
    without_preview = [v.voice_id for v in VOICES if not v.has_preview]
    assert without_preview and all(by_id[v]["preview_url"] is None for v in without_preview)
    assert all(list(item) == JSON_KEYS for item in data)  # same keys, same order


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--language", "ja"), ["aria", "mila", "daisy", "jasper"]),
        (("--language", "japanese", "--gender", "male"), ["jasper"]),
        (("--language", "JaPaNeSe", "--gender", "male"), ["jasper"]),
        (("--language", "JA", "--gender", "male"), ["jasper"]),
        (("--language", "or", "--gender", "female"), ["sasmita", "ankita"]),  # or = odia
        (("--language", "no"), ["solveig", "marit", "kristian", "espen"]),  # no = norwegian
        (("--gender", "male", "--accent", "british"),
         ["liam", "sam", "henry", "benedict", "cormac", "rupert", "finley"]),
        (("--gender", "FEMALE", "--language", "ta"), ["rajeshwari", "malar", "nila", "tamilselvi"]),
        (("--age", "senior"), ["ronald", "benedict", "nora"]),
        (("--age", "Middle-Aged", "--accent", "AMERICAN"), ["magnus", "olivia", "rachel"]),
        (("--accent", "canadian"), ["william", "erica"]),
        (("--search", "CALM"), ["rachel", "benedict", "nora"]),  # an emotion tag
        (("--search", "audiobook", "--gender", "male"), ["benedict", "sebastian"]),  # a use case
        (("--search", "youthful"), ["mishka"]),  # the description
        (("--search", "JASP"), ["jasper"]),  # the id
        (("--search", "greek", "--gender", "male"), ["dimitris", "vasilis"]),
        (("--language", "hi", "--gender", "male", "--age", "young", "--search", "support"),
         ["kartik"]),
    ],
)  # fmt: skip
def test_list_filters(api_env, args: tuple[str, ...], expected: list[str]) -> None:
    result = run("voices", "list", *args)
    assert result.exit_code == 0, result.stderr
    assert ids(result.stdout) == expected


def test_filters_also_apply_to_json(api_env) -> None:
    data = json.loads(
        run("voices", "list", "--language", "el", "--gender", "male", "--json").stdout
    )
    assert [item["voice_id"] for item in data] == ["dimitris", "vasilis"]


def test_no_match_is_success_with_a_note_only_on_a_terminal(api_env) -> None:
    piped = run("voices", "list", "--language", "ko", "--gender", "male")
    assert (piped.exit_code, piped.stdout, piped.stderr) == (0, "", "")
    tty = run("voices", "list", "--language", "ko", "--gender", "male", stdout_isatty=True)
    assert (tty.exit_code, tty.stdout) == (0, "")
    assert tty.stderr == "No voices match --language korean --gender male.\n"
    quiet = run("-q", "voices", "list", "--search", "zzz", stdout_isatty=True)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    as_json = run("voices", "list", "--search", "zzz", "--json", stdout_isatty=True)
    assert (as_json.exit_code, as_json.stdout, as_json.stderr) == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--gender", "robot"), ["--gender", "'robot' is not one of 'male', 'female'"]),
        (("--language", "klingon"), ["--language", "unknown language 'klingon'", "ja (japanese)", "en (english)"]),
        (("--language", "auto"), ["unknown language 'auto'"]),
    ],
)  # fmt: skip
def test_bad_filter_values_are_usage_errors(api_env, args, fragments: list[str]) -> None:
    result = run("voices", "list", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr
    assert api_env.state.exchanges() == []


def test_open_ended_filters_accept_any_value(api_env) -> None:
    result = run("voices", "list", "--accent", "martian", "--age", "ancient")
    assert (result.exit_code, result.stdout) == (0, "")


# -- caching through the command --------------------------------------------------------------


def test_second_call_uses_the_cache_and_refresh_refetches(api_env) -> None:
    first = run("voices", "list")
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]
    api_env.state.clear()
    second = run("voices", "list", "--language", "hi")
    assert second.exit_code == 0 and second.stdout
    assert api_env.state.exchanges() == []
    assert run("voices", "show", "magnus").exit_code == 0
    assert api_env.state.exchanges() == []
    again = run("voices", "list", "--refresh")
    assert again.stdout == first.stdout
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]


def test_ttl_expiry_refetches(api_env, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(voice_catalog, "_now", lambda: now[0])
    run("voices", "list")
    api_env.state.clear()
    now[0] += 23 * 3600
    run("voices", "list")
    assert api_env.state.exchanges() == []
    now[0] += 2 * 3600
    run("voices", "list")
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]


def test_a_corrupt_cache_is_recovered(api_env, tmp_path) -> None:
    run("voices", "list")
    [path] = (tmp_path / "cache").iterdir()
    path.write_text('{"format": 1, "key": "truncated')
    api_env.state.clear()
    result = run("voices", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == len(VOICES)
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]
    assert json.loads(path.read_text())["format"] == 1


def test_each_base_url_has_its_own_cache(api_env, monkeypatch: pytest.MonkeyPatch) -> None:
    run("voices", "list")
    api_env.state.clear()
    # the same emulator under another spelling of its URL is another API as far as we know
    other = api_env.base_url.replace("127.0.0.1", "localhost")
    assert run("--base-url", other, "voices", "list").exit_code == 0
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]
    # a third URL that does not answer: no cache to fall back on, so an API error
    monkeypatch.setenv("SMALLEST_RETRIES", "0")
    down = run("--base-url", "http://127.0.0.1:9", "voices", "list")
    assert down.exit_code == 1
    assert "Error: cannot connect to http://127.0.0.1:9" in down.stderr


def test_a_fresh_cache_needs_no_key(api_env, monkeypatch: pytest.MonkeyPatch) -> None:
    run("voices", "list")
    monkeypatch.delenv("SMALLEST_API_KEY")
    assert run("voices", "list").exit_code == 0
    refreshed = run("voices", "list", "--refresh")
    assert refreshed.exit_code == 4
    assert "SMALLEST_API_KEY" in refreshed.stderr


def test_debug_says_where_the_voices_came_from(api_env, tmp_path) -> None:
    run("voices", "list")
    result = run("--debug", "voices", "list")
    assert f"debug: voices from the cache {tmp_path / 'cache'}" in result.stderr


def test_in_process_emulator_is_cached_under_its_own_key(tmp_path) -> None:
    result = run("--emulator", "voices", "list", "--language", "ko")
    assert (result.exit_code, result.stdout) == (0, "june\tJune\tfemale\tyoung\tkorean\tkorean\n")
    assert [v.voice_id for v in voice_catalog.cached_voices("emulator")][:2] == ["avery", "liam"]
    conflict = run("--emulator", "--base-url", "http://h:1", "voices", "list")
    assert conflict.exit_code == 2
    assert "--emulator and --base-url" in conflict.stderr


@pytest.mark.no_contract  # a 404 from Get All Voices is not in its spec
def test_get_all_voices_failing_degrades_to_get_voices(api_env) -> None:
    api_env.state.faults.replace([f"404@{GET_ALL}"], 0)
    listed = run("voices", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stderr == ""
    assert len(listed.stdout.splitlines()) == len(VOICES)
    shown = run("voices", "show", "jasper")
    assert shown.exit_code == 0
    assert "description\t-\n" in shown.stdout
    assert "pools\tlightning_v3.1_pro\n" in shown.stdout
    assert "Get All Voices failed" in shown.stderr and "HTTP 404" in shown.stderr
    data = json.loads(run("voices", "show", "jasper", "--json").stdout)
    assert data["description"] is None and data["gender"] == "male"


def test_get_voices_failing_is_an_api_error(api_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "not-a-key")
    result = run("voices", "list")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "Error: Bearer token is missing or invalid." in result.stderr


# -- show -----------------------------------------------------------------------------------


def test_show_piped_is_label_tab_value(api_env) -> None:
    result = run("voices", "show", "mishka")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    fields = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert list(fields) == [
        "id", "name", "gender", "age", "accent", "languages", "use_cases", "emotions",
        "pools", "description", "preview_url", "document_id",
    ]  # fmt: skip
    assert fields["id"] == "mishka"
    assert fields["languages"] == "english,hindi"
    assert fields["pools"] == "-"
    assert fields["description"].startswith("A youthful Indian female voice")


def test_show_on_a_terminal(api_env) -> None:
    result = run("voices", "show", "quinn", stdout_isatty=True)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "ID:          quinn"
    assert "Languages:   english" in lines
    assert "Use cases:   conversational, advertisement" in lines
    assert "Emotions:    happy, excited" in lines
    assert "Pools:       unknown (Get Voices has no pool flag)" in lines
    pro = run("voices", "show", "june", stdout_isatty=True).stdout
    assert (
        "Pools:       lightning_v3.1_pro (it speaks korean, which only lightning_v3.1_pro supports)"
        in pro.splitlines()
    )


def test_show_json(api_env) -> None:
    data = json.loads(run("voices", "show", "layla", "--json").stdout)
    listed = json.loads(run("voices", "list", "--search", "layla", "--json").stdout)
    assert data == listed[0]
    assert data["known_pools"] == ["lightning_v3.1_pro"]
    assert data["languages"] == ["arabic"]


def test_show_under_emulator_gives_no_url_that_dies_with_the_command() -> None:
    terminal = run("--emulator", "voices", "show", "meher", stdout_isatty=True)
    assert terminal.exit_code == 0, terminal.stderr
    assert (
        "Preview URL: the emulator's: smallest --emulator voices preview meher"
        in terminal.stdout.splitlines()
    )
    assert "127.0.0.1" not in terminal.stdout
    piped = run("--emulator", "voices", "show", "meher")
    assert "preview_url\t-" in piped.stdout.splitlines()
    as_json = json.loads(run("--emulator", "voices", "show", "meher", "--json").stdout)
    assert as_json["preview_url"] is None


def test_show_keeps_a_served_emulators_preview_url(api_env) -> None:
    """`emulator serve` outlives the command: its preview URLs stay usable."""
    data = json.loads(run("voices", "show", "meher", "--json").stdout)
    assert data["preview_url"].startswith(api_env.base_url)


def test_show_ignores_case(api_env) -> None:
    assert run("voices", "show", "Magnus").stdout.startswith("id\tmagnus\n")


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("jaspe", "Hint: did you mean jasper? `smallest voices list` shows every voice id"),
        ("magnos", "Hint: did you mean magnus or manon? `smallest voices list`"),
        ("ha", "Hint: did you mean hannah, hazel or hanna?"),
        ("qqqqqq", "Hint: `smallest voices list` shows every voice id"),
        ("voice_abc123", "Hint: `smallest clone list` shows the account's clones"),
    ],
)
def test_show_unknown_id_is_a_usage_error_with_suggestions(api_env, given: str, hint: str) -> None:
    result = run("voices", "show", given)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: no voice {given!r} in the catalog\n")
    assert hint in result.stderr


def test_show_unknown_id_refetches_a_cached_catalog_once(api_env) -> None:
    run("voices", "list")
    api_env.state.clear()
    assert run("voices", "show", "nobody").exit_code == 2
    assert paths(api_env) == [
        GET_VOICES,
        GET_ALL,
        CLONES,
    ]  # maybe the voice is newer than the cache
    api_env.state.clear()
    assert run("voices", "show", "nobody", "--refresh").exit_code == 2
    assert paths(api_env) == [GET_VOICES, GET_ALL, CLONES]  # fetched already: not twice


def test_help_has_examples() -> None:
    for args in (("voices", "list"), ("voices", "show")):
        result = run(*args, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.stdout and "$ smallest voices" in result.stdout


# -- preview ------------------------------------------------------------------------------


def _heard_file(path: Path) -> str:
    import soundfile as sf

    from smallest_cli.emulator.speech import listen

    samples, rate = sf.read(path, dtype="int16")
    return " ".join(h.text or "?" for h in listen(samples, rate))


def _spy_on_previews(monkeypatch: pytest.MonkeyPatch, fail_first: int = 0) -> list:
    """Record each request the client sends for a preview clip; refuse the first `fail_first`
    of them as a connection failure would."""
    import httpx

    sent: list[httpx.Request] = []
    real_send = httpx.Client.send

    def send(self, request: httpx.Request, **kwargs):
        if "/_emulator/previews/" in request.url.path:
            sent.append(request)
            if len(sent) <= fail_first:
                raise httpx.ConnectError("connection refused", request=request)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    return sent


def test_preview_plays_the_catalog_clip_without_the_key(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallest_cli.emulator.catalog import BY_ID
    from smallest_cli.emulator.speech import spoken_form

    sent = _spy_on_previews(monkeypatch)
    target = tmp_path / "meher.wav"
    result = run("voices", "preview", "meher", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert _heard_file(target) == spoken_form(BY_ID["meher"].preview_text())
    [request] = sent
    assert str(request.url) == f"{api_env.base_url}/_emulator/previews/meher.wav"
    assert "authorization" not in request.headers
    assert request.headers["user-agent"].startswith("smallest-cli/")
    assert not any(e.path == "/waves/v1/tts" for e in api_env.state.exchanges())


def test_preview_clip_fetch_is_retried_like_any_request(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallest_cli.emulator.catalog import BY_ID
    from smallest_cli.emulator.speech import spoken_form

    sent = _spy_on_previews(monkeypatch, fail_first=1)
    target = tmp_path / "meher.wav"
    result = run("voices", "preview", "meher", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert len(sent) == 2  # refused once, then fetched
    assert "retry" in result.stderr.lower()
    assert _heard_file(target) == spoken_form(BY_ID["meher"].preview_text())


def test_preview_without_a_clip_speaks_a_sample(api_env, tmp_path: Path) -> None:
    target = tmp_path / "wes.wav"
    result = run("voices", "preview", "wes", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    spoken = [e for e in api_env.state.exchanges() if e.path == "/waves/v1/tts"]
    [speech] = [e for e in spoken if e.status == 200]  # after any retry of a refused one
    body = json.loads(speech.body)
    assert (body["voice_id"], body["model"]) == (
        "wes",
        "lightning_v3.1_pro",
    )  # turkish: a Pro voice
    assert _heard_file(target) == "hello this is wes one of the voices of smallest ai"


def test_preview_with_text_and_a_failing_clip(
    api_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t.wav"
    assert (
        run("voices", "preview", "liam", "--text", "Custom words.", "-o", str(target)).exit_code
        == 0
    )
    assert _heard_file(target) == "custom words"

    _spy_on_previews(monkeypatch, fail_first=99)  # every attempt refused
    result = run("voices", "preview", "liam", "-o", str(target))
    assert result.exit_code == 0
    assert "the preview clip could not be fetched (" in result.stderr
    assert "connection refused" in result.stderr
    assert _heard_file(target) == "hello this is liam one of the voices of smallest ai"


def test_preview_refuses_a_terminal_and_unknown_voices(api_env) -> None:
    assert run("voices", "preview", "meher", "-o", "-", stdout_isatty=True).exit_code == 2
    unknown = run("voices", "preview", "mehr", "-o", "-")
    assert unknown.exit_code == 2 and "did you mean meher" in unknown.stderr
