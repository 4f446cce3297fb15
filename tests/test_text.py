"""Reading text and cutting long text for synthesis."""

from __future__ import annotations

import pytest

from smallest_cli.errors import UsageError
from smallest_cli.text import CHUNK_LIMIT, chunks, read_text, require_words, sentence_complete


def test_short_sentences_are_packed_together() -> None:
    assert list(chunks("One. Two!  Three?\n\nFour.")) == ["One. Two! Three? Four."]


def test_long_text_is_cut_at_sentence_ends_under_the_limit() -> None:
    sentence = "This sentence has exactly sixty characters in it, right now. "
    text = sentence * 20
    pieces = list(chunks(text))
    assert all(len(p) <= CHUNK_LIMIT for p in pieces)
    assert all(p.endswith("now.") for p in pieces)
    assert " ".join(pieces) == " ".join(text.split())


def test_a_long_sentence_is_cut_at_clauses_then_words() -> None:
    clauses = ", ".join(["a clause of several words that goes on"] * 12) + "."
    pieces = list(chunks(clauses))
    assert all(len(p) <= CHUNK_LIMIT for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)
    words = " ".join(["word"] * 200)
    assert all(len(p) <= CHUNK_LIMIT for p in chunks(words))
    giant = "x" * 600
    assert list(chunks(giant)) == ["x" * 250, "x" * 250, "x" * 100]


def test_nothing_is_lost_or_reordered() -> None:
    text = " ".join(f"Sentence number {i}, with a clause; and more words here." for i in range(300))
    assert " ".join(chunks(text)) == text


def test_devanagari_danda_ends_sentences() -> None:
    text = "नमस्ते दुनिया। " * 30
    assert all(p.endswith("।") for p in chunks(text))


def test_read_text_sources(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    assert read_text("hi", None, stdin_isatty=True) == "hi"
    (tmp_path / "t.txt").write_text("from file ✓", encoding="utf-8")
    assert read_text(None, str(tmp_path / "t.txt"), stdin_isatty=True) == "from file ✓"
    monkeypatch.setattr("sys.stdin", io.StringIO("piped"))
    assert read_text(None, None, stdin_isatty=False) == "piped"
    monkeypatch.setattr("sys.stdin", io.StringIO("dash"))
    assert read_text("-", None, stdin_isatty=True) == "dash"
    with pytest.raises(UsageError, match="no text to speak"):
        read_text(None, None, stdin_isatty=True)
    with pytest.raises(UsageError, match="not both"):
        read_text("a", "b", stdin_isatty=True)
    with pytest.raises(UsageError, match="no such file"):
        read_text(None, str(tmp_path / "missing.txt"), stdin_isatty=True)
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not UTF-8"):
        read_text(None, str(tmp_path / "bin"), stdin_isatty=True)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        require_words(text)


@pytest.mark.parametrize(
    ("buffer", "done"),
    [
        ("Hello there.", True),
        ("Hello there", False),
        ("Really?\n", True),
        ('He said "go!" ', True),
        ("3.5", False),
    ],
)
def test_sentence_complete(buffer: str, done: bool) -> None:
    assert sentence_complete(buffer) is done
