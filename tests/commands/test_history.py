"""The chat history: its database (migrations, two writers at once), trimming, and the
`smallest history` commands."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from smallest_cli.history import MIGRATIONS, History, Message, data_dir
from smallest_cli.jobs.chat import CONTEXT_TOKENS, MAX_MESSAGES, estimate_tokens, fit
from tests.conftest import run


def stored(conversation_count: int = 1, messages: int = 2) -> list[str]:
    ids = []
    with History() as history:
        for number in range(conversation_count):
            cid = history.new_conversation(f"question {number}")
            for turn in range(messages // 2):
                history.add(
                    cid, Message("user", f"q{number}.{turn}"), Message("assistant", f"a{turn}")
                )
            ids.append(cid)
    return ids


def test_a_new_database_has_the_latest_schema_in_wal_mode() -> None:
    stored()
    db = sqlite3.connect(data_dir() / "history.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_from_a_newer_release_is_refused_not_damaged(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(Exception, match="newer smallest-cli") as raised:
        History(path).latest()
    assert getattr(raised.value, "exit_code", None) == 2
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


def _write_many(path: str, label: str, count: int) -> None:
    with History(Path(path)) as history:
        cid = history.new_conversation(label)
        for number in range(count):
            history.add(cid, Message("user", f"{label} {number}"), Message("assistant", "ok"))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(path, n, 60)) for n in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    with History(Path(path)) as history:
        conversations = history.conversations()
        assert sorted(c.title for c in conversations) == ["a", "b"]
        for conversation in conversations:
            contents = [m.content for m in history.messages(conversation.id) if m.role == "user"]
            assert contents == [f"{conversation.title} {n}" for n in range(60)]


def test_trimming_drops_the_oldest_turns_and_never_the_system_prompt() -> None:
    big = "x" * 30_000  # about 10,000 tokens by the estimate
    messages = [{"role": "system", "content": "be brief"}]
    for turn in range(5):
        messages += [
            {"role": "user", "content": f"{turn} {big}"},
            {"role": "assistant", "content": "ok"},
        ]
    messages.append({"role": "user", "content": "last"})
    kept, dropped = fit(messages, 1024)
    assert kept[0] == {"role": "system", "content": "be brief"}
    assert kept[-1] == {"role": "user", "content": "last"}
    assert kept[1]["role"] == "user"  # resumes at a question, not at an orphan reply
    assert sum(map(estimate_tokens, kept)) <= CONTEXT_TOKENS - 1024
    assert dropped == len(messages) - len(kept) > 0
    assert [m["content"][:1] for m in kept[1:-1:2]] == ["2", "3", "4"]  # the newest turns stay


def test_trimming_keeps_at_most_200_messages() -> None:
    messages = [{"role": "system", "content": "s"}]
    for turn in range(150):
        messages += [{"role": "user", "content": f"q{turn}"}, {"role": "assistant", "content": "a"}]
    kept, dropped = fit(messages, 1024)
    assert len(kept) <= MAX_MESSAGES
    assert kept[0]["role"] == "system"
    assert kept[1]["role"] == "user"
    assert kept[-1] == {"role": "assistant", "content": "a"}
    assert dropped == len(messages) - len(kept)


def test_a_short_conversation_is_sent_whole() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert fit(messages, 1024) == (messages, 0)


def test_history_list_shows_the_newest_first_tab_separated_when_piped() -> None:
    first, second = stored(2)
    result = run("history", "list")
    assert result.exit_code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == [second, first]
    assert rows[0][2:] == ["2", "question 1"]


def test_history_list_json() -> None:
    (cid,) = stored()
    result = run("history", "list", "--json")
    assert json.loads(result.stdout)[0]["id"] == cid


def test_history_show_prints_the_messages_in_order() -> None:
    (cid,) = stored(messages=4)
    result = run("history", "show", cid[:6])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "You: q0.0\n\nElectron: a0\n\nYou: q0.1\n\nElectron: a1\n"


def test_history_export_json_has_the_messages() -> None:
    (cid,) = stored()
    result = run("history", "export", cid, "--json")
    exported = json.loads(result.stdout)
    assert exported["id"] == cid
    assert [(m["role"], m["content"]) for m in exported["messages"]] == [
        ("user", "q0.0"),
        ("assistant", "a0"),
    ]


def test_history_delete_removes_the_conversation() -> None:
    first, second = stored(2)
    result = run("history", "delete", first)
    assert result.exit_code == 0
    assert f"Deleted conversation {first}" in result.stderr
    with History() as history:
        assert [c.id for c in history.conversations()] == [second]
        assert history.messages(first) == []


def test_an_unknown_conversation_exits_2() -> None:
    stored()
    result = run("history", "show", "nosuchid")
    assert result.exit_code == 2
    assert "no conversation 'nosuchid'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", ""])
def test_an_id_is_matched_by_its_start_not_as_a_pattern(wildcard: str) -> None:
    (only,) = stored()
    result = run("history", "delete", wildcard)
    assert result.exit_code == 2
    assert result.stdout == ""
    with History() as history:
        assert [c.id for c in history.conversations()] == [only]  # nothing deleted


def test_a_unique_start_of_an_id_names_its_conversation() -> None:
    first, second = stored(2)
    common = next(n for n in range(12) if first[n] != second[n])
    result = run("history", "delete", first[: common + 1])
    assert result.exit_code == 0, result.stderr
    with History() as history:
        assert [c.id for c in history.conversations()] == [second]
