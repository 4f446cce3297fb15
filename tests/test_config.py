"""Settings: precedence, validation, the file on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import tomllib

from smallest_cli.config import Config, check_profile, config_dir, dump_toml
from smallest_cli.errors import UsageError


def test_precedence_flag_env_config_default(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config()
    assert config.resolve("voice").value == "magnus" and config.resolve("voice").source == "default"
    config.set("voice", "meher")
    assert (config.resolve("voice").value, config.resolve("voice").source) == ("meher", "config")
    monkeypatch.setenv("SMALLEST_VOICE", "liam")
    assert (config.resolve("voice").value, config.resolve("voice").source) == ("liam", "env")
    assert (config.resolve("voice", "avery").value, config.resolve("voice", "avery").source) == (
        "avery",
        "flag",
    )


def test_profiles_are_separate_tables() -> None:
    Config("work").set("base_url", "http://127.0.0.1:9000/")
    Config("default").set("sample_rate", "24000")
    document = tomllib.loads(Config().path.read_text())
    assert document == {
        "work": {"base_url": "http://127.0.0.1:9000"},
        "default": {"sample_rate": 24000},
    }
    assert Config("work").get("sample_rate") == 44100
    assert Config().get("sample_rate") == 24000


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("model", "lightning-v3.1-pro", "lightning_v3.1_pro"),
        ("model", "lightning_v3.1", "lightning_v3.1"),
        ("sample_rate", "8000", 8000),
        ("language", "hi", "hi"),
        ("format", "flac", "flac"),
        ("stt_model", "pulse_pro", "pulse-pro"),
        ("stt_language", "multi-eu", "multi-eu"),  # recordings only
        ("stt_language", "north_indic", "north_indic"),  # streaming only
    ],
)
def test_values_are_normalised(name: str, raw: str, expected: object) -> None:
    assert Config().set(name, raw) == expected


@pytest.mark.parametrize(
    ("name", "raw", "fragment"),
    [
        ("sample_rate", "22050", "choose one of 8000, 16000, 24000, 44100"),
        ("model", "lightning-v2", "choose one of lightning_v3.1, lightning_v3.1_pro"),
        ("base_url", "api.smallest.ai", "http:// or https://"),
        ("voice", "two words", "no spaces"),
        ("stt_model", "whisper", "choose one of pulse, pulse-pro"),
        ("stt_language", "xx", "choose one of en, hi"),
        ("colour", "red", "unknown setting"),
        ("api_key", "sk_x", "never stored in config.toml"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(name: str, raw: str, fragment: str) -> None:
    config = Config()
    with pytest.raises(UsageError) as caught:
        config.set(name, raw)
    assert fragment in f"{caught.value.message} {caught.value.hint}"
    assert not config.path.exists()


def test_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_SAMPLE_RATE", "123")
    with pytest.raises(UsageError, match="SMALLEST_SAMPLE_RATE='123'"):
        Config().get("sample_rate")


def test_hand_edited_bad_value_names_the_file(tmp_path: Path) -> None:
    config = Config()
    config.path.parent.mkdir(parents=True)
    config.path.write_text("[default]\nsample_rate = 1\n")
    with pytest.raises(UsageError, match=r"sample_rate = 1 in .*config.toml \[default\]"):
        config.get("sample_rate")


def test_broken_toml_is_a_usage_error() -> None:
    config = Config()
    config.path.parent.mkdir(parents=True)
    config.path.write_text("[default\n")
    with pytest.raises(UsageError, match="not valid TOML") as caught:
        config.get("voice")
    assert "delete it" in (caught.value.hint or "")


def test_unset_and_write_round_trip() -> None:
    config = Config()
    config.set("voice", 'odd"voice\\name')
    assert tomllib.loads(config.path.read_text())["default"]["voice"] == 'odd"voice\\name'
    assert config.unset("voice") is True
    assert config.unset("voice") is False
    assert tomllib.loads(config.path.read_text()) == {}


def test_dump_toml_escapes_control_characters() -> None:
    text = dump_toml({"default": {"voice": "a\tb\x01"}})
    assert tomllib.loads(text) == {"default": {"voice": "a\tb\x01"}}


def test_config_dir_override_and_platform_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert config_dir() == Path(os.environ["SMALLEST_CONFIG_DIR"])
    monkeypatch.delenv("SMALLEST_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "smallest"


def test_written_file_follows_the_umask() -> None:
    previous = os.umask(0o027)
    try:
        config = Config()
        config.set("voice", "meher")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(config.path.stat().st_mode) == 0o640
    assert [p.name for p in config.path.parent.iterdir()] == ["config.toml"]  # no temp files left


@pytest.mark.parametrize("name", ["", "a b", "../etc", "x" * 65])
def test_bad_profile_names(name: str) -> None:
    with pytest.raises(UsageError, match="invalid profile name"):
        check_profile(name)
