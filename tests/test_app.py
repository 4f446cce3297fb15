"""The one error translator: exit codes, messages, --debug, interrupts, pipes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from smallest_cli import __version__
from smallest_cli.commands import config as config_commands
from tests.conftest import TEST_KEY, run, run_process

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_version_both_paths() -> None:
    assert run("--version").stdout == f"smallest {__version__}\n"
    fast = run_process("--version")
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, f"smallest {__version__}\n", "")
    slow = run_process("--debug", "--version")
    assert (slow.returncode, slow.stdout) == (0, f"smallest {__version__}\n")


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "Usage: smallest" in result.stdout + result.stderr
    assert "auth" in result.stdout + result.stderr


def test_unknown_command_and_bad_option_are_usage_errors() -> None:
    assert run("nope").exit_code == 2
    bad = run("--retries", "x", "auth", "status")
    assert bad.exit_code == 2 and "--retries" in bad.stderr
    assert run("--base-url", "ftp://x", "config", "path").exit_code == 2


def test_global_options_may_follow_the_command(tmp_path) -> None:
    target = tmp_path / "hi.wav"
    result = run("tts", "say", "--emulator", "hi", "-o", str(target), "--timeout=9", "-q")
    assert result.exit_code == 0, result.stderr
    assert target.stat().st_size > 44
    between = run("tts", "--emulator", "say", "hi", "-o", "-", "--format", "wav")
    assert between.exit_code == 0, between.stderr
    assert between.stdout_bytes.startswith(b"RIFF")


def test_global_options_after_the_command_override_those_before_it(api_env) -> None:
    result = run("--retries", "1", "voices", "list", "--json", "--retries", "x")
    assert result.exit_code == 2
    assert "Invalid value for '--retries'" in result.stderr
    missing = run("voices", "list", "--timeout")
    assert missing.exit_code == 2
    assert "Option '--timeout' requires an argument." in missing.stderr


def test_a_double_dash_ends_the_global_options(tmp_path) -> None:
    result = run("--emulator", "tts", "say", "-o", str(tmp_path / "x.wav"), "--", "--debug")
    assert result.exit_code == 0, result.stderr
    assert "debug:" not in result.stderr  # "--debug" was the text to speak


def test_no_command_declares_a_global_option_name() -> None:
    """What lets a global option after the command mean the global option."""
    from typer import Context
    from typer.main import get_command

    from smallest_cli.app import app
    from smallest_cli.commands import GROUPS

    root = get_command(app)
    context = Context(root)
    global_names = {name for param in root.get_params(context) for name in param.opts}
    global_names -= {"-h", "--help"}

    def clashes(command, path: str) -> list[str]:
        context = Context(command)
        found = [
            f"{path} {name}"
            for param in command.get_params(context)
            for name in param.opts
            if name in global_names
        ]
        for name in getattr(command, "list_commands", lambda _: [])(context):
            found += clashes(command.get_command(context, name), f"{path} {name}")
        return found

    assert [c for name in GROUPS for c in clashes(root.get_command(context, name), name)] == []


@pytest.mark.parametrize(
    ("flags", "env", "terminal", "coloured"),
    [
        ((), {}, True, True),
        ((), {}, False, False),  # a pipe gets plain text
        (("--no-color",), {}, True, False),
        ((), {"NO_COLOR": "1"}, True, False),
        ((), {"FORCE_COLOR": "1"}, False, True),  # even on a pipe
        (("--no-color",), {"FORCE_COLOR": "1"}, False, False),  # the flag wins
        ((), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),  # NO_COLOR wins
    ],
)
def test_colour_follows_no_color_then_force_color_then_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    env: dict[str, str],
    terminal: bool,
    coloured: bool,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(*flags, "config", "get", "nope", stderr_isatty=terminal)
    assert result.exit_code == 2
    assert ("\x1b[" in result.stderr) is coloured
    assert ANSI.sub("", result.stderr).startswith("Error: unknown setting 'nope'\nHint: ")


def test_retry_notes_go_to_stderr_and_quiet_silences_them(api_env) -> None:
    api_env.state.faults.replace(["503:0*1"], 0)
    result = run("auth", "status", "--json")
    assert result.exit_code == 0
    assert result.stderr == "the API answered 503; retrying in 0.0 s (1/2)\n"
    api_env.state.faults.replace(["503:0*1"], 0)
    quiet = run("-q", "auth", "status", "--json")
    assert (quiet.exit_code, quiet.stderr) == (0, "")


@pytest.mark.no_contract
def test_retries_exhausted_report_status_and_request_id(api_env) -> None:
    api_env.state.faults.replace(["503:0"], 0)
    result = run("--retries", "1", "auth", "status")
    assert result.exit_code == 1
    assert "unreachable (Service Unavailable (fault injected by the emulator))" in result.stdout
    assert [e.status for e in api_env.state.exchanges()] == [503, 503]


def test_api_error_message_hint_and_request_id(api_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", "wrong-key-123456")
    monkeypatch.delenv("SMALLEST_BASE_URL")
    result = run(
        "--base-url", api_env.base_url, "auth", "login", "--with-key", input="also-wrong-0000"
    )
    assert result.exit_code == 2  # the env var wins, login refuses before any request
    monkeypatch.delenv("SMALLEST_API_KEY")
    result = run(
        "--base-url", api_env.base_url, "auth", "login", "--with-key", input="also-wrong-0000"
    )
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: the API rejected this key")
    assert lines[1].startswith("Hint: ")
    assert lines[2].startswith("Request id: ")


def test_debug_logs_requests_and_masks_the_key(api_env) -> None:
    result = run("--debug", "auth", "status")
    assert result.exit_code == 0
    assert f"debug: → GET {api_env.base_url}/waves/v1/lightning-v3.1/get_voices" in result.stderr
    assert "debug: ← 200 OK after" in result.stderr
    assert TEST_KEY not in result.stdout + result.stderr


def test_unexpected_errors_are_reported_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError(f"kaboom with {TEST_KEY}")

    monkeypatch.setattr(config_commands.AppContext, "config", property(boom))
    result = run("config", "path")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "Error: unexpected RuntimeError: kaboom with sk_…cdef"
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run("--debug", "config", "path")
    assert "Traceback (most recent call last)" in debug.stderr
    assert TEST_KEY not in debug.stderr and "sk_…cdef" in debug.stderr


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(config_commands.AppContext, "config", property(interrupted))
    result = run("config", "path")
    assert result.exit_code == 130
    assert result.stderr == "\nInterrupted.\n"


@pytest.mark.parametrize("args", [("config", "list"), ("config", "list", "--json")])
def test_broken_pipe_exits_quietly(args: tuple[str, ...]) -> None:
    """The reader is gone before we write (as with `| head` finishing early)."""
    with subprocess.Popen(
        [sys.executable, "-m", "smallest_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        assert proc.wait(timeout=30) == 0
        assert proc.stderr.read() == b""


def test_no_color_and_quiet_affect_only_people_output(api_env) -> None:
    result = run("--no-color", "-q", "config", "set", "voice", "meher")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_a_bad_choice_is_reported_without_pydantic_wording() -> None:
    result = run("--emulator", "stt", "transcribe", "x.wav", "--route", "x")
    assert result.exit_code == 2
    assert "Error: Invalid value for '--route': 'x' is not one of 'current', 'legacy'." in (
        result.stderr
    )
    assert "Value error" not in result.stderr


@pytest.mark.parametrize(("env", "coloured"), [({"FORCE_COLOR": "1"}, True), ({}, False)])
def test_force_color_colours_a_real_pipe(env: dict[str, str], coloured: bool) -> None:
    result = run_process("config", "get", "nope", env=env)
    assert result.returncode == 2
    assert ("\x1b[" in result.stderr) is coloured
    assert ANSI.sub("", result.stderr).startswith("Error: unknown setting 'nope'\n")
