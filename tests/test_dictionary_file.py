"""Dictionary files: parsing with line numbers, the checks, the listing, the difference."""

from __future__ import annotations

import pytest

from smallest_cli.dictionary_file import (
    DictionaryFileError,
    Entry,
    difference,
    file_format,
    from_pairs,
    has_content,
    listing,
    load,
    parse,
    sniff_format,
)
from smallest_cli.errors import UsageError

TSV = "# product words\n\nnginx\tengine x\n  # indented comment\nSQL\tsequel\n"


def test_tsv_skips_comments_and_blank_lines_and_keeps_line_numbers() -> None:
    entries = load(TSV, "words.tsv")
    assert entries == [Entry("nginx", "engine x"), Entry("SQL", "sequel")]
    assert [e.line for e in entries] == [3, 5]


def test_tsv_accepts_two_spaces_for_a_tab_but_not_one() -> None:
    assert load("Kubernetes  koo ber net ees\n", "w.tsv") == [
        Entry("Kubernetes", "koo ber net ees")
    ]
    with pytest.raises(DictionaryFileError) as caught:
        load("ok\tfine\nnginx engine-x\n", "w.tsv")
    assert str(caught.value) == "w.tsv: line 2: no tab between the word and its pronunciation"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nginx\t\n", "w.tsv: line 1: empty pronunciation"),
        ("\tengine x\n", "w.tsv: line 1: empty word"),
        ("a\tb\tc\n", "w.tsv: line 1: more than one tab (a tab inside a field?)"),
        (
            "nginx\tengine x\n# c\nnginx\tn g\n",
            "w.tsv: line 3: the word 'nginx' is given twice (first on line 1)",
        ),
    ],
)
def test_bad_lines_are_named(text: str, message: str) -> None:
    with pytest.raises(DictionaryFileError) as caught:
        load(text, "w.tsv")
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_every_problem_is_found_and_counted() -> None:
    entries, problems = parse("a\t\nb\t\nc\td\n")
    assert entries[-1] == Entry("c", "d")
    assert [p.text() for p in problems] == [
        "line 1: empty pronunciation",
        "line 2: empty pronunciation",
    ]
    with pytest.raises(DictionaryFileError, match=r"\(and 1 more\)"):
        load("a\t\nb\t\n", "w.tsv")


def test_case_differs_so_words_are_distinct() -> None:
    assert len(load("API\tay pee eye\napi\tappy\n", "w.tsv")) == 2


def test_csv_with_header_and_quotes() -> None:
    text = 'word,pronunciation\nnginx,engine x\n"Smallest, Inc",smallest ink\n'
    entries = load(text, "w.csv", file_format("w.csv"))
    assert entries == [Entry("nginx", "engine x"), Entry("Smallest, Inc", "smallest ink")]
    assert [e.line for e in entries] == [2, 3]
    with pytest.raises(DictionaryFileError, match=r"w.csv: line 2: 3 columns"):
        load("a,b\nc,d,e\n", "w.csv", "csv")


def test_json_item_list_and_show_json_and_its_checks() -> None:
    text = '[\n  {"word": "nginx", "pronunciation": "engine x"},\n  {"word": "SQL", "pronunciation": "se\\tquel"}\n]'
    assert sniff_format(text) == "json" and file_format("x.JSON") == "json"
    with pytest.raises(DictionaryFileError) as caught:
        load(text, "w.json", "json")
    assert str(caught.value) == "w.json: line 3: a tab or newline inside the pronunciation"
    shown = '{"id": "x", "items": [{"word": "a", "pronunciation": "b"}]}'
    assert load(shown, "show.json", "json") == [Entry("a", "b")]
    with pytest.raises(DictionaryFileError, match="not valid JSON"):
        load("[{", "w.json", "json")


def test_pairs_must_match_and_pass_the_checks() -> None:
    assert from_pairs(["nginx"], ["engine x"]) == [Entry("nginx", "engine x")]
    with pytest.raises(UsageError, match="1 --word but 0 --say"):
        from_pairs(["nginx"], [])
    with pytest.raises(UsageError, match="given twice"):
        from_pairs(["a", "a"], ["b", "c"])


def test_listing_is_sorted_stable_and_ends_with_a_newline() -> None:
    entries = [Entry("nginx", "engine x"), Entry("API", "ay pee eye"), Entry("api", "appy")]
    text = listing(entries, ["header"])
    assert text == "# header\nAPI\tay pee eye\napi\tappy\nnginx\tengine x\n"
    assert listing(reversed(entries), ["header"]) == text
    assert load(text, "again.tsv") == sorted(entries, key=lambda e: (e.word.casefold(), e.word))


def test_has_content() -> None:
    assert not has_content("# only\n\n   \n#more\n")
    assert has_content("# c\nx\ty\n")


def test_difference_and_its_summary() -> None:
    before = [Entry("a", "1"), Entry("b", "2"), Entry("c", "3")]
    after = [Entry("c", "3"), Entry("b", "two"), Entry("d", "4"), Entry("e", "5")]
    change = difference(before, after)
    assert change.summary() == "+2 added, -1 removed, ~1 changed"
    assert change.lines() == ["- a\t1", "~ b\t2 -> two", "+ d\t4", "+ e\t5"]
    assert not difference(before, list(reversed(before)))
