"""The $EDITOR loop, driven by a scripted editor (tests/scripted_editor.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smallest_cli.dictionary_file import Entry, has_content, parse
from smallest_cli.editor import edit_until_valid, editor_command
from smallest_cli.errors import SmallestError

SCRIPT = Path(__file__).with_name("scripted_editor.py")
START = "# header\nnginx\tengine x\n"


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "plan"
    directory.mkdir()
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {SCRIPT}")
    monkeypatch.setenv("SCRIPTED_EDITOR_DIR", str(directory))
    return directory


def check(saved: str, offset: int) -> tuple[list[Entry] | None, list[str]]:
    entries, problems = parse(saved)
    return entries, [p.text(offset) for p in problems]


def edit() -> list[Entry] | None:
    return edit_until_valid(START, check, has_content=has_content)


def test_a_valid_edit_returns_the_entries(plan: Path) -> None:
    (plan / "1.txt").write_text("nginx\tengine x\nSQL\tsequel\n")
    assert edit() == [Entry("nginx", "engine x"), Entry("SQL", "sequel")]
    assert (plan / "seen-1.txt").read_text() == START


def test_an_invalid_edit_reopens_with_the_error_on_top_until_fixed(plan: Path) -> None:
    (plan / "1.txt").write_text("# header\nnginx\tengine x\nSQL\n")
    (plan / "3.txt").write_text("nginx\tengine x\nSQL\tsequel\n")  # step 2 changes nothing
    assert edit() == [Entry("nginx", "engine x"), Entry("SQL", "sequel")]
    reopened = (plan / "seen-2.txt").read_text()
    assert reopened == (
        "# ERROR: line 5: no tab between the word and its pronunciation\n"
        "#\n# header\nnginx\tengine x\nSQL\n"
    )
    assert reopened.splitlines()[4] == "SQL"  # the line the error names
    assert (plan / "seen-3.txt").read_text() == reopened  # one error block, not two


def test_an_emptied_file_cancels(plan: Path) -> None:
    (plan / "1.txt").write_text("# all gone\n\n")
    assert edit() is None


def test_no_change_gives_back_the_same_entries(plan: Path) -> None:
    assert edit() == [Entry("nginx", "engine x")]


def test_an_editor_that_fails_changes_nothing(plan: Path) -> None:
    (plan / "1.exit").write_text("3")
    with pytest.raises(SmallestError, match="exited with status 3; nothing was changed"):
        edit()


def test_visual_wins_over_editor_and_vi_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setenv("EDITOR", "nano")
    assert editor_command() == ["code", "--wait"]
    monkeypatch.delenv("VISUAL")
    assert editor_command() == ["nano"]
    monkeypatch.delenv("EDITOR")
    assert editor_command() == ["vi"]
