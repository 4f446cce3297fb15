"""Streamed text cut into pieces to speak while the rest is still being written."""

from __future__ import annotations

from smallest_cli.jobs.speakable import SpeakableText
from smallest_cli.text import CHUNK_LIMIT


def pieces_of(deltas: list[str], **options: int) -> list[list[str]]:
    """What each delta released, then what `flush` released."""
    cutter = SpeakableText(**options)
    return [cutter.feed(d) for d in deltas] + [cutter.flush()]


def test_a_sentence_is_released_as_soon_as_it_ends() -> None:
    released = pieces_of(["Hel", "lo there", ". How", " are", " you?"])
    assert released == [[], [], ["Hello there."], [], [], ["How are you?"]]


def test_decimal_points_and_trailing_quotes_do_not_cut_early() -> None:
    released = pieces_of(["It costs 3", '.5 euros." Then', " more"])
    assert released == [[], ['It costs 3.5 euros."'], [], ["Then more"]]


def test_several_sentences_in_one_delta_come_out_one_by_one() -> None:
    assert pieces_of(["One. Two! Three? Four"]) == [["One.", "Two!", "Three?"], ["Four"]]


def test_a_long_sentence_is_cut_at_its_last_clause_mark() -> None:
    long = "First, this clause runs on for quite a while; then another one follows it, and "
    released = pieces_of(["Yes. ", long, "it ends."], clause_after=40)[1:]
    assert released[0] == [
        "First, this clause runs on for quite a while; then another one follows it,"
    ]
    assert released[1:] == [[], ["and it ends."]]


def test_a_sentence_without_punctuation_is_cut_between_words_under_the_limit() -> None:
    words = " ".join(["word"] * 120)
    released = [p for batch in pieces_of([words]) for p in batch]
    assert all(len(p) <= CHUNK_LIMIT for p in released)
    assert " ".join(released) == words


def test_whitespace_alone_is_never_a_piece() -> None:
    assert pieces_of(["  ", "\n"]) == [[], [], []]


def test_the_first_piece_ends_at_its_first_clause_so_the_first_audio_comes_sooner() -> None:
    released = pieces_of(["You asked:", ' "What', ' time is it". The', " answer, then: three."])
    assert released == [
        [],
        ["You asked:"],
        ['"What time is it".'],
        [],
        ["The answer, then: three."],
    ]


def test_a_first_clause_too_short_to_say_alone_waits_for_the_next() -> None:
    released = pieces_of(["So, there you are, ", "my friend."])
    assert released == [[], ["So, there you are,"], ["my friend."]]
