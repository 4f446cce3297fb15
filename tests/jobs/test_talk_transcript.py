"""`talk --transcript`: both sides with their times, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from smallest_cli.jobs.talk_transcript import TalkTranscript, Turn


def sample() -> TalkTranscript:
    transcript = TalkTranscript(conversation_id="c1")
    transcript.add(Turn("user", "What is the capital of France?", 1.2, 3.05))
    transcript.add(Turn("assistant", "Paris.", 3.4, 65.9, interrupted=True))
    transcript.add(Turn("user", "  ", 70.0, 70.5))  # nothing heard: left out
    return transcript


def test_text_has_a_line_a_turn_with_times_and_who(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    sample().write(str(path))
    assert path.read_text() == (
        "[0:01.20–0:03.05] You: What is the capital of France?\n"
        "[0:03.40–1:05.90] Assistant: Paris. [interrupted]\n"
    )


def test_json_has_every_turn(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    sample().write(str(path))
    value = json.loads(path.read_text())
    assert value["conversation_id"] == "c1"
    assert [t["role"] for t in value["turns"]] == ["user", "assistant"]
    assert value["turns"][1] == {
        "role": "assistant",
        "text": "Paris.",
        "start": 3.4,
        "end": 65.9,
        "interrupted": True,
    }


def test_json_has_each_exchanges_latency_and_the_text_does_not(tmp_path: Path) -> None:
    transcript = TalkTranscript()
    transcript.add(Turn("user", "Hi?", 1.0, 2.1, final=2.0904))
    transcript.add(Turn("assistant", "Hello.", 2.1, 3.0, first_token=2.3, first_audio=2.5))
    transcript.write(str(tmp_path / "t.json"))
    user, answer = json.loads((tmp_path / "t.json").read_text())["turns"]
    assert user == {"role": "user", "text": "Hi?", "start": 1.0, "end": 2.1, "interrupted": False,
                    "final": 2.09}  # fmt: skip
    assert (answer["first_token"], answer["first_audio"]) == (2.3, 2.5)
    assert "final" not in answer
    transcript.write(str(tmp_path / "t.txt"))
    assert "2.5" not in (tmp_path / "t.txt").read_text()
