"""A reply spoken while it is still being written (REFERENCE §6.4, continue/flush).

`SpokenReply` takes the reply's text deltas (`feed`, from the thread that reads the chat
stream), cuts them into speakable pieces (jobs/speakable.py) and sends each to one TTS
WebSocket with `continue` and `flush`, so the server speaks the first sentence while the
rest is still being written. A background thread connects at once (while the LLM is
still thinking), sends the pieces as they come and writes the audio to the sink as it
arrives. `stop` (barge-in) drops the rest within one short block of audio.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from smallest_cli.jobs.speakable import SpeakableText

if TYPE_CHECKING:
    from smallest_cli.api.tts import LiveSession
    from smallest_cli.audio.sinks import Sink

BLOCK_SECONDS = 0.05  # audio handed to the sink at a time, so a stop is heard at once
_END = None


class SpokenReply:
    """One reply: `start`, `feed` deltas, `finish`, then `wait` until it has been spoken."""

    def __init__(
        self,
        open_session: Callable[[], LiveSession],
        sink: Sink,
        *,
        sample_rate: int,
        cutter: SpeakableText | None = None,
    ) -> None:
        self._open_session = open_session
        self._sink = sink
        self._block = max(2, int(sample_rate * BLOCK_SECONDS) * 2)
        self._cutter = cutter or SpeakableText()
        self._pieces: queue.Queue[str | None] = queue.Queue()
        self._stopped = threading.Event()
        self._ended = threading.Event()  # spoken, failed, or silenced after a stop
        self._silenced = False
        self._thread = threading.Thread(target=self._run, name="spoken-reply", daemon=True)
        self._session: LiveSession | None = None
        self.error: BaseException | None = None
        self.spoken: list[str] = []  # the pieces sent to be spoken
        self.audio_bytes = 0
        self.first_audio_at: float | None = None  # time.monotonic() of the first audio

    # -- the chat side ------------------------------------------------------------------

    def start(self) -> SpokenReply:
        self._thread.start()
        return self

    def feed(self, delta: str) -> None:
        for piece in self._cutter.feed(delta):
            self._pieces.put(piece)

    def finish(self) -> None:
        """The reply is complete: speak what is left."""
        for piece in self._cutter.flush():
            self._pieces.put(piece)
        self._pieces.put(_END)

    def wait(self, timeout: float | None = None) -> bool:
        """Until everything was spoken (or stopped); True when it has ended. Raises what
        failed in the background. After a stop, the socket's closing handshake goes on in
        the background: it is not waited for."""
        if not self._ended.wait(timeout):
            return False
        if self.error is not None:
            raise self.error
        return True

    @property
    def speaking(self) -> bool:
        return self._thread.is_alive() and not self._ended.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """Stop speaking now (barge-in, Ctrl-C): the rest of the reply is dropped."""
        self._stopped.set()
        self._pieces.put(_END)
        session = self._session
        if session is not None:  # wakes the reader; the closing handshake is not waited for
            threading.Thread(target=_close, args=(session,), daemon=True).start()

    # -- the speaking side --------------------------------------------------------------

    def _run(self) -> None:
        try:
            spoke = self._speak()
            if self._stopped.is_set() or not spoke:
                self._silence()
            else:
                self._sink.close()
        except BaseException as error:  # handed to `wait`
            if not self._stopped.is_set():
                self.error = error
            self._silence()
        finally:
            self._ended.set()

    def _silence(self) -> None:
        """Drop what is playing (once), and let `wait` return."""
        if not self._silenced:
            self._silenced = True
            self._sink.abort()
        self._ended.set()

    def _speak(self) -> bool:
        """Whether any text was spoken."""
        with self._open_session() as session:
            self._session = session
            first = self._pieces.get()
            if first is _END or self._stopped.is_set():
                return False
            self._send(session, first)
            sender = threading.Thread(
                target=self._send_rest, args=(session,), name="reply-sender", daemon=True
            )
            sender.start()
            for event in session.events():
                if self._stopped.is_set():
                    self._silence()
                    return True
                if event.audio:
                    self._play(event.audio)
                if event.complete:
                    break
        return True

    def _send(self, session: LiveSession, piece: str) -> None:
        self.spoken.append(piece)
        session.send(piece + " ", flush=True)

    def _send_rest(self, session: LiveSession) -> None:
        try:
            while (piece := self._pieces.get()) is not _END:
                if self._stopped.is_set():
                    return
                self._send(session, piece)
            if not self._stopped.is_set():
                session.finish()
        except Exception:  # the socket closed: the reader says why
            pass

    def _play(self, audio: bytes) -> None:
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()
        for start in range(0, len(audio), self._block):
            if self._stopped.is_set():
                self._silence()
                return
            block = audio[start : start + self._block]
            self._sink.write(block)
            self.audio_bytes += len(block)


def _close(session: LiveSession) -> None:
    try:
        session.close()
    except Exception:  # already closed: the reader stops either way
        pass
