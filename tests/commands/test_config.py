"""`smallest config`."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import run


def test_set_get_unset_round_trip() -> None:
    assert run("config", "set", "voice", "meher").stderr.startswith(
        "voice = 'meher' for profile 'default'"
    )
    assert run("config", "get", "voice").stdout == "meher\n"
    assert json.loads(run("config", "get", "voice", "--json").stdout) == {
        "name": "voice",
        "value": "meher",
        "source": "config",
    }
    assert run("config", "unset", "voice").exit_code == 0
    assert run("config", "get", "voice").stdout == "magnus\n"


def test_list_piped_is_tab_separated_without_header(monkeypatch: pytest.MonkeyPatch) -> None:
    run("config", "set", "sample_rate", "24000")
    monkeypatch.setenv("SMALLEST_VOICE", "liam")
    result = run("config", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "base_url\thttps://api.smallest.ai\tdefault",
        "voice\tliam\tenv",
        "model\tlightning_v3.1\tdefault",
        "language\ten\tdefault",
        "sample_rate\t24000\tconfig",
        "format\twav\tdefault",
        "stt_model\tpulse\tdefault",
        "stt_language\ten\tdefault",
        "chat_system\t-\tdefault",
        "chat_temperature\t-\tdefault",
        "chat_top_p\t-\tdefault",
        "chat_max_tokens\t-\tdefault",
        "chat_log\tyes\tdefault",
    ]


def test_list_on_a_terminal_is_a_table() -> None:
    result = run("config", "list", stdout_isatty=True)
    assert "\x1b[1m" in result.stdout  # a bold header
    lines = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "SOURCE"]
    assert lines[2].split() == ["voice", "magnus", "default"]


def test_list_json_and_profiles() -> None:
    run("--profile", "work", "config", "set", "base_url", "http://127.0.0.1:8089")
    data = json.loads(run("--profile", "work", "config", "list", "--json").stdout)
    assert data["profile"] == "work"
    assert data["path"].endswith("config.toml")
    assert data["settings"]["base_url"] == {"value": "http://127.0.0.1:8089", "source": "config"}
    assert (
        json.loads(run("config", "list", "--json").stdout)["settings"]["base_url"]["source"]
        == "default"
    )
    flag = json.loads(run("--base-url", "http://h:1", "config", "get", "base_url", "--json").stdout)
    assert flag == {"name": "base_url", "value": "http://h:1", "source": "flag"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("set", "sample_rate", "22050"), "choose one of 8000, 16000, 24000, 44100"),
        (("set", "api_key", "sk_x"), "never stored in config.toml"),
        (("get", "colour"), "unknown setting 'colour'"),
        (("unset", "colour"), "unknown setting 'colour'"),
    ],
)
def test_bad_input_exits_2_with_a_named_fix(args: tuple[str, ...], fragment: str) -> None:
    result = run("config", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert fragment in result.stderr


def test_path_follows_the_override(tmp_path) -> None:
    assert run("config", "path").stdout == f"{tmp_path / 'config' / 'config.toml'}\n"
