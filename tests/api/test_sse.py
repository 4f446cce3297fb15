"""Server-sent event framing."""

from __future__ import annotations

from smallest_cli.api.sse import ServerSentEvent, iter_events


def test_current_tts_framing_with_a_terminator_without_event_line() -> None:
    lines = [
        "event: audio",
        'data: {"audio": "AAA=", "done": false, "status": "206"}',
        "",
        ": keep-alive comment",
        'data: {"status": "200", "done": true}',
        "",
    ]
    events = list(iter_events(lines))
    assert [e.event for e in events] == ["audio", "message"]
    assert events[0].json() == {"audio": "AAA=", "done": False, "status": "206"}
    assert events[1].json()["done"] is True


def test_multiline_data_id_retry_and_missing_final_blank_line() -> None:
    events = list(iter_events(["id: 7", "retry: 1500", "data: a", "data:b", "", "data: tail"]))
    assert events == [
        ServerSentEvent("message", "a\nb", "7", 1500),
        ServerSentEvent("message", "tail", "7", 1500),
    ]


def test_unknown_fields_and_empty_events_are_ignored() -> None:
    assert list(iter_events(["foo: bar", "", "event: x", ""])) == []
