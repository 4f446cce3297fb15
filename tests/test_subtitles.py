"""Word timings into SRT, WebVTT and JSON."""

from __future__ import annotations

import json
import re

import pytest

from smallest_cli.errors import UsageError
from smallest_cli.subtitles import cues, render, subtitle_format
from smallest_cli.words import Word

WORDS = [
    Word(w, i * 0.5, i * 0.5 + 0.4)
    for i, w in enumerate("Hello there, friend. How are you doing on this fine day? Good.".split())
]


def test_srt_is_well_formed_and_monotonic() -> None:
    text = render(WORDS, "srt")
    blocks = text.strip().split("\n\n")
    times = []
    for number, block in enumerate(blocks, 1):
        lines = block.splitlines()
        assert lines[0] == str(number)
        match = re.fullmatch(
            r"(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})", lines[1]
        )
        assert match, lines[1]
        start = int(match[3]) + int(match[4]) / 1000
        end = int(match[7]) + int(match[8]) / 1000
        assert start < end
        times.append((start, end))
        assert len(lines[2]) <= 42
    assert all(a[1] <= b[0] for a, b in zip(times, times[1:], strict=False))
    assert blocks[0].endswith("Hello there, friend.")


def test_vtt_header_and_dot_separator() -> None:
    text = render(WORDS, "vtt")
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert ",0" not in text.split("\n")[2]


def test_json_lists_words() -> None:
    data = json.loads(render(WORDS[:2], "json"))
    assert data == [
        {"word": "Hello", "start": 0.0, "end": 0.4},
        {"word": "there,", "start": 0.5, "end": 0.9},
    ]


def test_limits_and_speakers() -> None:
    words = [
        Word("word", i, i + 0.9, speaker="speaker_0" if i < 4 else "speaker_1") for i in range(8)
    ]
    result = cues(words, max_chars=200, max_seconds=2.5)
    assert all(c.end - c.start <= 2.5 for c in result)
    assert [c.speaker for c in result] == ["Speaker 0", "Speaker 0", "Speaker 1", "Speaker 1"]
    assert "[Speaker 0] word word" in render(words, "srt", max_chars=200, max_seconds=2.5)
    assert "<v Speaker 1>word" in render(words, "vtt", max_chars=200, max_seconds=2.5)


def test_overlapping_word_times_give_non_overlapping_cues() -> None:
    words = [
        Word("a.", 0, 1.2),
        Word("b", 0.1, 0.2),
        Word("c", 0.2, 0.3),
        Word("d.", 1.0, 2.0),
    ]
    result = cues(words, max_chars=3)
    assert all(a.end <= b.start for a, b in zip(result, result[1:], strict=False))


@pytest.mark.parametrize(("path", "fmt"), [("a.srt", "srt"), ("b.VTT", "vtt"), ("c.json", "json")])
def test_format_from_extension(path: str, fmt: str) -> None:
    assert subtitle_format(path) == fmt


def test_unknown_extension() -> None:
    with pytest.raises(UsageError, match="cannot tell the timestamp format") as caught:
        subtitle_format("words.txt")
    assert caught.value.hint == "name the file .srt, .vtt or .json"
