"""`--help` of every command, compared with its snapshot in tests/help/, so that a changed
help text is a reviewed diff.

After changing help on purpose, regenerate the snapshots and review `git diff tests/help`:

    SMALLEST_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_help.py

Help is rendered by the installed `smallest` script, 80 columns wide, without colour.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import typer.main

from smallest_cli.app import app
from tests.shell import deterministic_env, smallest_script

SNAPSHOTS = Path(__file__).parent / "help"
UPDATE = os.environ.get("SMALLEST_UPDATE_SNAPSHOTS") == "1"


def command_paths() -> list[tuple[str, ...]]:
    """Every command's words after `smallest`: the root, each group, each subcommand."""
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        paths.append(path)
        if hasattr(command, "list_commands"):  # a group (Typer vendors its own click)
            context = command.context_class(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def snapshot_file(path: tuple[str, ...]) -> Path:
    return SNAPSHOTS / ("_".join(("smallest", *path)) + ".txt")


PATHS = command_paths()


def render_help(path: tuple[str, ...], home: Path) -> str:
    completed = subprocess.run(
        [str(smallest_script()), *path, "--help"],
        env=deterministic_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, ""), completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[tuple[str, ...], Future[str]]]:
    """Every command's help, rendered by processes started at once."""
    home = tmp_path_factory.mktemp("home")
    with ThreadPoolExecutor(max_workers=8) as pool:
        yield {path: pool.submit(render_help, path, home) for path in PATHS}


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(("smallest", *path)))
def test_help_matches_its_snapshot(
    path: tuple[str, ...], rendered: dict[tuple[str, ...], Future[str]]
) -> None:
    actual = rendered[path].result()
    snapshot = snapshot_file(path)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(actual, encoding="utf-8")
    assert snapshot.exists(), (
        f"no snapshot for `smallest {' '.join(path)} --help`: "
        "run SMALLEST_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_help.py"
    )
    assert actual == snapshot.read_text(encoding="utf-8"), (
        f"`smallest {' '.join(path)} --help` changed: if on purpose, run "
        "SMALLEST_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_help.py and review the diff"
    )


def test_every_snapshot_belongs_to_a_command() -> None:
    expected = {snapshot_file(path).name for path in PATHS}
    stale = sorted(file.name for file in SNAPSHOTS.glob("*.txt") if file.name not in expected)
    if UPDATE:
        for name in stale:
            (SNAPSHOTS / name).unlink()
        stale = []
    assert stale == [], "snapshots of commands that no longer exist"


def test_every_command_has_help_and_groups_are_walked() -> None:
    assert {("tts", "say"), ("stt", "transcribe"), ("stt", "live"), ("auth", "status")} <= set(
        PATHS
    )


FORBIDDEN_IN_HELP = (
    ("a Python type as a metavar", re.compile(r"<(str|int|float|path|list\[\w+\])( range)?>")),
    ("a parameter name in braces", re.compile(r"\{[a-z_]+\}")),
    ("a float default in full", re.compile(r"\d\.\d{6,}")),
    ("pydantic's wording", re.compile(r"Value error,")),
    ("a full stop after a closing bracket", re.compile(r"\]\.(\s|$)")),
    ("a command cut mid-way", re.compile(r"\$ curl [^\n]*\)\"\n")),
)


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(("smallest", *p)))
def test_help_names_values_by_meaning(path: tuple[str, ...]) -> None:
    """Checked on the snapshots, which test_help_matches_snapshot keeps equal to the help."""
    text = snapshot_file(path).read_text()
    found = [why for why, pattern in FORBIDDEN_IN_HELP if pattern.search(text)]
    assert found == []
