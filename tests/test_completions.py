"""Shell completion: the committed scripts are current, and they complete in real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_committed_scripts_are_current(shell: str) -> None:
    generated = subprocess.run(
        ["smallest"],
        env={**ENV, "_SMALLEST_COMPLETE": f"source_{shell}"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (REPO / "completions" / f"smallest.{shell}").read_text()
    assert generated == committed, "stale completions: run completions/generate.sh"


def test_bash_completes_commands_and_options() -> None:
    script = REPO / "completions" / "smallest.bash"

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        program = f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _smallest_completion smallest; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        return subprocess.run(
            ["bash", "-c", program], env=ENV, capture_output=True, text=True, check=True
        ).stdout.split()

    assert complete("smallest", "au") == ["auth"]
    assert set(complete("smallest", "auth", "")) >= {"login", "status", "logout", "token"}
    assert "--with-key" in complete("smallest", "auth", "login", "--")


@pytest.mark.integration
@pytest.mark.skipif(
    shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it)"
)
def test_fish_completes_commands() -> None:
    program = f"source {REPO / 'completions' / 'smallest.fish'}; complete -C'smallest con'"
    out = subprocess.run(
        ["fish", "-c", program], env=ENV, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("config\t")


@pytest.mark.parametrize(
    ("shell", "installed"),
    [("zsh", ".zfunc/_smallest"), ("fish", ".config/fish/completions/smallest.fish")],
)
@pytest.mark.parametrize("form", ["{option} {shell}", "{option}={shell}"])
def test_install_completion_installs_the_named_shells(
    tmp_path: Path, shell: str, installed: str, form: str
) -> None:
    args = form.format(option="--install-completion", shell=shell).split()
    result = subprocess.run(
        ["smallest", *args], env={**ENV, "HOME": str(tmp_path)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"{shell} completion installed in {tmp_path / installed}" in result.stdout
    assert f"_SMALLEST_COMPLETE=complete_{shell}" in (tmp_path / installed).read_text()
    assert not (tmp_path / ".bash_completions").exists()
    assert not (tmp_path / ".bashrc").exists()


def test_show_completion_shows_the_named_shells_script() -> None:
    result = subprocess.run(
        ["smallest", "--show-completion", "fish"], env=ENV, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("complete --command smallest")


def test_install_completion_refuses_an_unknown_shell(tmp_path: Path) -> None:
    result = subprocess.run(
        ["smallest", "--install-completion", "tcsh"],
        env={**ENV, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Error: --install-completion tcsh: choose one of bash, zsh, fish" in result.stderr
    assert list(tmp_path.iterdir()) == []
