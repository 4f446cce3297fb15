"""Shared test setup.

Every test runs isolated: a temporary config dir, an in-memory keyring, no SMALLEST_*
variables from the developer's shell. Command tests talk to one emulator per session over
real loopback HTTP; after each test, every exchange it caused is checked against the
vendor's OpenAPI files (tests/contract.py), unless the test is marked `no_contract`.
Under CI=true an integration test may not skip: a skip is reported as a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from typer.testing import CliRunner

from smallest_cli.app import app
from smallest_cli.context import AppContext
from smallest_cli.emulator.limits import Limits
from smallest_cli.emulator.server import InProcessEmulator
from smallest_cli.emulator.state import Pacing
from tests import contract

TEST_KEY = "sk_test_0123456789abcdef"
REPO = Path(__file__).resolve().parents[1]


class MemoryKeyring(KeyringBackend):
    """A keyring backend that forgets everything when the test ends."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture(autouse=True, scope="session")
def ctrl_c_handled() -> Iterator[None]:
    """Ctrl-C tests need SIGINT handled the way Python does by default, in this process and
    in the CLIs it starts: run in the background (some CI runners), pytest starts with
    SIGINT ignored, and every child would inherit that."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def isolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    for name in list(os.environ):
        if name == "SMALLEST_SHARED_DIR":  # where the vendor's specs and audio are (tests only)
            continue
        if name.startswith("SMALLEST_") or name in ("NO_COLOR", "FORCE_COLOR"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMALLEST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SMALLEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SMALLEST_DATA_DIR", str(tmp_path / "data"))
    # Subprocesses get no keyring at all; integration tests opt back in to the real one.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    memory = MemoryKeyring()
    previous = keyring.core._keyring_backend
    keyring.set_keyring(memory)
    yield memory
    keyring.core._keyring_backend = previous


@pytest.fixture
def memory_keyring(isolation: MemoryKeyring) -> MemoryKeyring:
    return isolation


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[InProcessEmulator]:
    with InProcessEmulator() as server:
        yield server


@pytest.fixture
def emulator(
    emulator_server: InProcessEmulator, request: pytest.FixtureRequest
) -> Iterator[InProcessEmulator]:
    """The session's emulator, reset; its traffic is contract-checked after the test."""
    state = emulator_server.state
    state.faults.replace([], 0.0)
    # fresh limits: no test inherits another's counts, nor the slots its leftovers hold
    state.limits = Limits()
    state.clones.clear()
    # tests that time audio or transcription set their own pacing
    state.pacing = Pacing(**{f.name: 0 for f in fields(Pacing)})
    state.clear()
    state.dictionaries.clear()
    yield emulator_server
    if request.node.get_closest_marker("no_contract") is None:
        check_contract(state.exchanges())


def check_contract(exchanges: Sequence[Any]) -> None:
    if not contract.specs_available():
        return
    for exchange in exchanges:
        contract.validate_exchange(exchange)


@pytest.fixture
def api_env(emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch) -> InProcessEmulator:
    """SMALLEST_BASE_URL pointing at the emulator and a test key in SMALLEST_API_KEY."""
    monkeypatch.setenv("SMALLEST_BASE_URL", emulator.base_url)
    monkeypatch.setenv("SMALLEST_API_KEY", TEST_KEY)
    return emulator


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""


def run(
    *args: str, input: str | None = None, obj: AppContext | None = None, **context: Any
) -> Result:
    """Run the CLI in-process. `context` fields (stdout_isatty=…) pre-seed the AppContext."""
    if obj is None and context:
        obj = AppContext(**context)
    result = CliRunner().invoke(app, list(args), input=input, obj=obj)
    return Result(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


def run_process(
    *args: str,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m smallest_cli` in a real subprocess with this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "smallest_cli", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (
        report.skipped
        and os.environ.get("CI", "").lower() == "true"
        and item.get_closest_marker("integration") is not None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"integration test skipped under CI=true (not allowed): {reason}"
