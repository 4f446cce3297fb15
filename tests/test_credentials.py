"""Key lookup order, storage and the failures of the OS keyring."""

from __future__ import annotations

import json
import stat
import time

import keyring
import pytest
from keyring.backends import fail

from smallest_cli import credentials
from smallest_cli.errors import KeyringUnavailable, NotLoggedIn, UsageError

KEY = "sk_live_0123456789abcdef"


def test_env_then_keyring_then_file(monkeypatch: pytest.MonkeyPatch, memory_keyring) -> None:
    with pytest.raises(NotLoggedIn) as caught:
        credentials.resolve("default")
    assert "smallest auth login" in (caught.value.hint or "")
    credentials.store("default", "sk_file_key_000000", insecure=True)
    assert credentials.resolve("default") == credentials.ApiKey("sk_file_key_000000", "file")
    memory_keyring.set_password("smallest-cli", "default", KEY)
    assert credentials.resolve("default") == credentials.ApiKey(KEY, "keyring")
    monkeypatch.setenv("SMALLEST_API_KEY", " sk_env_key_00000000\n")
    assert credentials.resolve("default") == credentials.ApiKey("sk_env_key_00000000", "env")


def test_keyring_store_is_per_profile_and_clears_the_file(memory_keyring) -> None:
    credentials.store("work", "sk_plain_0000000000", insecure=True)
    assert credentials.store("work", KEY, insecure=False) == "the OS keyring"
    assert memory_keyring.passwords == {("smallest-cli", "work"): KEY}
    assert not credentials.credentials_file().exists()
    with pytest.raises(NotLoggedIn, match="profile 'default'|not logged in"):
        credentials.resolve("default")


def test_insecure_store_is_0600_and_clears_the_keyring(memory_keyring) -> None:
    memory_keyring.set_password("smallest-cli", "default", "sk_old_key_00000000")
    credentials.store("default", KEY, insecure=True)
    path = credentials.credentials_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"default": KEY}
    assert memory_keyring.passwords == {}


def test_delete_reports_where_it_removed_from(memory_keyring) -> None:
    assert credentials.delete("default") == []
    credentials.store("default", KEY, insecure=False)
    assert credentials.delete("default") == ["the OS keyring"]
    credentials.store("default", KEY, insecure=True)
    assert credentials.delete("default") == [str(credentials.credentials_file())]


def test_no_backend_is_reported_not_papered_over() -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as caught:
        credentials.resolve("default")
    assert "no OS keyring backend" in caught.value.message
    assert "SMALLEST_API_KEY" in (caught.value.hint or "") and "--insecure-storage" in (
        caught.value.hint or ""
    )
    with pytest.raises(KeyringUnavailable):
        credentials.store("default", KEY, insecure=False)
    assert not credentials.credentials_file().exists()  # no silent plain-text fallback


def test_file_key_still_works_without_a_keyring() -> None:
    keyring.set_keyring(fail.Keyring())
    credentials.store("default", KEY, insecure=True)
    assert credentials.resolve("default").source == "file"
    assert credentials.delete("default") == [str(credentials.credentials_file())]


def test_a_backend_that_forgets_is_caught() -> None:
    from keyring.backends import null

    keyring.set_keyring(null.Keyring())
    with pytest.raises(KeyringUnavailable, match="did not keep it"):
        credentials.store("default", KEY, insecure=False)


def test_a_hanging_keyring_times_out(monkeypatch: pytest.MonkeyPatch, memory_keyring) -> None:
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    monkeypatch.setattr(memory_keyring, "get_password", lambda *a: time.sleep(2))
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="did not answer within 0.2 s"):
        credentials.resolve("default")
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("key", "masked"),
    [(KEY, "sk_…cdef"), ("sk_short", "…"), ("abcdefghijklmnop", "…mnop")],
)
def test_mask(key: str, masked: str) -> None:
    assert credentials.mask(key) == masked
    assert KEY not in repr(credentials.ApiKey(KEY, "env"))


@pytest.mark.parametrize("raw", ["", "  \n", "sk_abc def", "sk_abc\x00"])
def test_key_shape_refuses_garbage(raw: str) -> None:
    with pytest.raises(UsageError):
        credentials.check_key_shape(raw)


def test_key_shape_strips_the_newline_of_echo() -> None:
    assert credentials.check_key_shape(KEY + "\n") == KEY
