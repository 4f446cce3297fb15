"""Files written whole: permissions follow the umask, private files are 0600 whatever it is."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from smallest_cli.files import write_atomically


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "sub" / "transcript.txt"
    write_atomically(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["transcript.txt"]  # no temp file left


def test_a_private_file_is_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        target = tmp_path / "credentials.json"
        write_atomically(target, "{}", private=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_existing_file_is_replaced_whole(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "out.srt"
    target.write_text("old")
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
