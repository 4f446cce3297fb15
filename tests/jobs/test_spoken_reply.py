"""A streamed reply spoken piece by piece over one TTS socket (a fake one here; the real
socket is exercised through the emulator in tests/commands/test_talk.py)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from smallest_cli.api.tts import LiveEvent
from smallest_cli.errors import APIConnectionError
from smallest_cli.jobs.spoken_reply import SpokenReply


class FakeSession:
    """Speaks each flushed piece as one audio chunk: 100 bytes a character."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.finished = False
        self._audio: queue.Queue[LiveEvent | None] = queue.Queue()

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def send(self, text: str, *, flush: bool = False) -> None:
        self.sent.append((text, flush))
        self._audio.put(LiveEvent(audio=b"\x01\x00" * 50 * len(text.strip())))

    def finish(self) -> None:
        self.finished = True
        self._audio.put(LiveEvent(complete=True))

    def close(self) -> None:
        self._audio.put(None)

    def events(self) -> Iterator[LiveEvent]:
        while (event := self._audio.get(timeout=5)) is not None:
            yield event
            if event.complete:
                return
        raise APIConnectionError("closed")


class RecordingSink:
    def __init__(self) -> None:
        self.audio = b""
        self.closed = self.aborted = False
        self.first_write = threading.Event()

    def write(self, pcm: bytes) -> None:
        self.audio += pcm
        self.first_write.set()

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def test_the_first_sentence_is_spoken_before_the_reply_is_complete() -> None:
    session, sink = FakeSession(), RecordingSink()
    reply = SpokenReply(lambda: session, sink, sample_rate=16000).start()  # type: ignore[arg-type,return-value]
    for delta in ["Hello", " there. How", " are you"]:
        reply.feed(delta)
    assert sink.first_write.wait(5)  # spoken while the reply is still being written
    assert session.sent == [("Hello there. ", True)]
    reply.feed("?")
    reply.finish()
    assert reply.wait(5)
    assert session.sent == [("Hello there. ", True), ("How are you? ", True)]
    assert session.finished
    assert len(sink.audio) == 100 * len("Hello there.How are you?")
    assert sink.closed and not sink.aborted
    assert reply.spoken == ["Hello there.", "How are you?"]


def test_stop_drops_the_rest_and_discards_the_output() -> None:
    session, sink = FakeSession(), RecordingSink()
    reply = SpokenReply(lambda: session, sink, sample_rate=16000).start()  # type: ignore[arg-type,return-value]
    reply.feed("One sentence. ")
    assert sink.first_write.wait(5)
    reply.stop()
    reply.feed("Another one. ")
    reply.finish()
    assert reply.wait(5)  # no error: stopping is not a failure
    assert reply.stopped and sink.aborted and not sink.closed
    assert session.sent == [("One sentence. ", True)]


def test_an_empty_reply_sends_nothing() -> None:
    session, sink = FakeSession(), RecordingSink()
    reply = SpokenReply(lambda: session, sink, sample_rate=16000).start()  # type: ignore[arg-type,return-value]
    reply.feed("  ")
    reply.finish()
    assert reply.wait(5)
    assert session.sent == [] and sink.audio == b"" and sink.aborted
