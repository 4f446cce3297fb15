"""`smallest auth` against the emulator over loopback."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail

from smallest_cli import credentials
from tests.conftest import TEST_KEY, run

KEY = "sk_live_0123456789abcdef"


@pytest.fixture
def base(emulator, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMALLEST_BASE_URL", emulator.base_url)
    return emulator


def test_login_with_key_validates_then_stores_in_keyring(base, memory_keyring) -> None:
    result = run("auth", "login", "--with-key", input=KEY + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "Logged in: key sk_…cdef for profile 'default' is in the OS keyring.\n"
    assert memory_keyring.passwords == {("smallest-cli", "default"): KEY}
    [exchange] = base.state.exchanges()
    assert (exchange.method, exchange.path) == ("GET", "/waves/v1/lightning-v3.1/get_voices")
    assert exchange.headers["authorization"] == "Bearer sk_…cdef"
    assert exchange.headers["user-agent"].startswith("smallest-cli/")


def test_rejected_key_stores_nothing_and_exits_4(base, memory_keyring) -> None:
    result = run("auth", "login", "--with-key", input="not-a-key\n")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert (
        "Error: the API rejected this key, so nothing was stored: Bearer token is missing or invalid. (HTTP 401)\n"
        in result.stderr
    )
    assert "starts with sk_" in result.stderr
    assert memory_keyring.passwords == {}
    assert "Traceback" not in result.stderr


def test_env_var_wins_and_login_stores_nothing(
    base, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", TEST_KEY)
    result = run("auth", "login", "--with-key", input=KEY)
    assert result.exit_code == 2
    assert (
        "SMALLEST_API_KEY is set, and it wins over any stored key; nothing was stored"
        in result.stderr
    )
    assert memory_keyring.passwords == {}
    assert base.state.exchanges() == []


def test_login_without_a_terminal_or_key_is_a_usage_error(base) -> None:
    no_tty = run("auth", "login", input="")
    assert no_tty.exit_code == 2
    assert "no terminal to prompt" in no_tty.stderr and "--with-key" in no_tty.stderr
    empty = run("auth", "login", "--with-key", input="  \n")
    assert empty.exit_code == 2 and "no API key given" in empty.stderr
    tty = run("auth", "login", "--with-key", stdin_isatty=True)
    assert tty.exit_code == 2 and "stdin is a terminal" in tty.stderr


def test_login_when_keyring_missing_offers_alternatives(base) -> None:
    keyring.set_keyring(fail.Keyring())
    result = run("auth", "login", "--with-key", input=KEY)
    assert result.exit_code == 4
    assert "Error: no OS keyring backend is available" in result.stderr
    assert "SMALLEST_API_KEY" in result.stderr and "--insecure-storage" in result.stderr
    assert not credentials.credentials_file().exists()
    insecure = run("auth", "login", "--with-key", "--insecure-storage", input=KEY)
    assert insecure.exit_code == 0
    assert "plain text, mode 0600" in insecure.stderr
    assert json.loads(credentials.credentials_file().read_text()) == {"default": KEY}


def test_login_network_failure_stores_nothing(memory_keyring) -> None:
    result = run(
        "--base-url",
        "http://127.0.0.1:9",
        "--retries",
        "0",
        "auth",
        "login",
        "--with-key",
        input=KEY,
    )
    assert result.exit_code == 1
    assert "Error: cannot connect to http://127.0.0.1:9" in result.stderr
    assert memory_keyring.passwords == {}


def test_status_human_and_json(base, memory_keyring) -> None:
    memory_keyring.set_password("smallest-cli", "default", KEY)
    human = run("auth", "status", stdout_isatty=True)
    assert human.exit_code == 0
    assert human.stdout == (
        "Profile:  default\n"
        "Source:   OS keyring\n"
        "Key:      sk_…cdef\n"
        f"Base URL: {base.base_url}\n"
        "API:      key accepted\n"
    )
    data = json.loads(run("auth", "status", "--json").stdout)
    assert data == {
        "profile": "default",
        "logged_in": True,
        "source": "keyring",
        "key": "sk_…cdef",
        "base_url": base.base_url,
        "api": "accepted",
        "error": None,
    }
    piped = run("auth", "status")
    assert piped.stdout.splitlines()[1] == "source\tOS keyring"
    assert KEY not in human.stdout + human.stderr + piped.stdout


def test_status_rejected_key_exits_4(base, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "bad-key-0000000000")
    result = run("auth", "status", "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert (data["source"], data["api"]) == ("env", "rejected")
    assert data["error"] == "Bearer token is missing or invalid. (HTTP 401)"
    assert "Hint: check the key: run `smallest auth login`" in result.stderr  # the one reporter


def test_status_unreachable_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", KEY)
    result = run("--base-url", "http://127.0.0.1:9", "--retries", "0", "auth", "status")
    assert result.exit_code == 1
    assert "unreachable (cannot connect to http://127.0.0.1:9" in result.stdout


def test_status_offline_and_not_logged_in(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = run("auth", "status")
    assert missing.exit_code == 4
    assert missing.stdout == ""
    assert "Error: not logged in" in missing.stderr and "smallest auth login" in missing.stderr
    as_json = run("--profile", "work", "auth", "status", "--json")
    assert as_json.exit_code == 4
    assert json.loads(as_json.stdout) == {
        "profile": "work",
        "logged_in": False,
        "error": "not logged in (profile 'work')",
    }
    assert "Error: not logged in (profile 'work')" in as_json.stderr
    monkeypatch.setenv("SMALLEST_API_KEY", KEY)
    offline = run("auth", "status", "--offline", "--json")
    assert offline.exit_code == 0 and json.loads(offline.stdout)["api"] == "not_checked"


def test_logout_and_token(base, memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    memory_keyring.set_password("smallest-cli", "default", KEY)
    token = run("auth", "token")
    assert (token.exit_code, token.stdout, token.stderr) == (0, KEY + "\n", "")
    out = run("auth", "logout")
    assert out.exit_code == 0 and "removed the key from the OS keyring" in out.stderr
    assert memory_keyring.passwords == {}
    again = run("auth", "logout")
    assert again.exit_code == 0 and "had no stored key" in again.stderr
    assert run("auth", "token").exit_code == 4
    monkeypatch.setenv("SMALLEST_API_KEY", KEY)
    assert "SMALLEST_API_KEY is still set" in run("auth", "logout").stderr


def test_logout_without_a_keyring_succeeds_when_already_logged_out(base) -> None:
    keyring.set_keyring(fail.Keyring())
    stored = run("auth", "login", "--with-key", "--insecure-storage", input=KEY)
    assert stored.exit_code == 0, stored.stderr
    first = run("auth", "logout")
    assert first.exit_code == 0, first.stderr
    assert first.stderr == (
        f"Logged out of profile 'default': removed the key from {credentials.credentials_file()}.\n"
    )
    for _ in range(2):
        again = run("auth", "logout")
        assert (again.exit_code, again.stdout) == (0, "")
        assert again.stderr == "Profile 'default' had no stored key; nothing to remove.\n"


def test_logout_with_a_locked_keyring_is_still_an_error(base, memory_keyring, monkeypatch) -> None:
    """A locked keyring may hold the key: saying "nothing to remove" would be a lie."""
    from keyring.errors import KeyringLocked

    def locked(*_: object) -> None:
        raise KeyringLocked("locked")

    monkeypatch.setattr(memory_keyring, "delete_password", locked)
    result = run("auth", "logout")
    assert result.exit_code == 4
    assert "Error: the OS keyring is locked" in result.stderr


def test_emulator_supplies_a_key_when_none_is_stored() -> None:
    result = run("--emulator", "auth", "status", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["source"], data["api"]) == ("emulator", "accepted")
    assert data["base_url"].startswith("http://127.0.0.1:")


def test_emulator_and_base_url_conflict() -> None:
    result = run("--emulator", "--base-url", "http://127.0.0.1:1", "auth", "status")
    assert result.exit_code == 2
    assert "--emulator and --base-url" in result.stderr


def test_profiles_keep_separate_keys(base, memory_keyring) -> None:
    assert run("--profile", "work", "auth", "login", "--with-key", input=KEY).exit_code == 0
    assert memory_keyring.passwords == {("smallest-cli", "work"): KEY}
    assert run("auth", "token").exit_code == 4
    assert run("--profile", "work", "auth", "token").stdout == KEY + "\n"
