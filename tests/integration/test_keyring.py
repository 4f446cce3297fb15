"""The real OS keyring: a Secret Service daemon on an isolated D-Bus session (.ci/run starts it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import run_process

pytestmark = pytest.mark.integration

KEY = "sk_integration_" + uuid.uuid4().hex[:16]

READ_BACK = """
import sys, keyring
backend = keyring.get_keyring()
print(type(backend).__module__ + "." + type(backend).__name__)
print(keyring.get_password("smallest-cli", sys.argv[1]))
"""


@pytest.fixture
def real_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.skip("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset); .ci/run starts one")
    backend, _ = read_back("probe")
    if "SecretService" not in backend:
        pytest.skip(f"no Secret Service keyring on the session bus (keyring picked {backend})")


def read_back(profile: str) -> tuple[str, str]:
    """Ask the keyring from a separate process, as another program would."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    proc = subprocess.run(
        [sys.executable, "-c", READ_BACK, profile],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    backend, value = proc.stdout.splitlines()
    return backend, value


def test_login_status_logout_through_the_secret_service(real_keyring, emulator) -> None:
    profile = "it-" + uuid.uuid4().hex[:8]
    env = {"SMALLEST_BASE_URL": emulator.base_url}
    login = run_process(
        "--profile", profile, "auth", "login", "--with-key", input=KEY + "\n", env=env
    )
    assert login.returncode == 0, login.stderr
    assert "is in the OS keyring" in login.stderr

    backend, stored = read_back(profile)
    assert backend == "keyring.backends.SecretService.Keyring"
    assert stored == KEY

    status = run_process("--profile", profile, "auth", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert (report["source"], report["api"], report["key"]) == (
        "keyring",
        "accepted",
        f"sk_…{KEY[-4:]}",
    )
    assert KEY not in status.stdout + status.stderr

    logout = run_process("--profile", profile, "auth", "logout", env=env)
    assert logout.returncode == 0 and "removed the key from the OS keyring" in logout.stderr
    assert read_back(profile) == (backend, "None")
    after = run_process("--profile", profile, "auth", "status", env=env)
    assert after.returncode == 4 and "not logged in" in after.stderr
