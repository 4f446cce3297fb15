"""`chat --speak` (and `/speak on` in the interactive chat): each reply spoken while it is
written, on the speakers and/or into a file.

`ChatVoice.ask` runs one exchange of a `ChatSession` with a `SpokenReply` listening to the
reply's text as it streams; the text still goes to stdout as it arrives. Audio settings are
resolved and checked like `tts say`'s (flag > env > config > default) before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from smallest_cli.errors import UsageError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.tts import SpeechRequest
    from smallest_cli.audio.formats import AudioFormat
    from smallest_cli.audio.sinks import Sink
    from smallest_cli.context import AppContext
    from smallest_cli.jobs.chat import ChatSession
    from smallest_cli.jobs.spoken_reply import SpokenReply

SPEECH_IDLE_TIMEOUT = 120  # seconds the TTS socket may wait for the next sentence


@dataclass(frozen=True)
class VoiceOptions:
    """The audio options a chat takes, as given (the `tts say` spellings)."""

    output: str | None = None
    play: bool = False
    device: str | None = None
    voice: str | None = None
    model: str | None = None
    speed: float = 1.0
    language: str | None = None
    sample_rate: int | None = None


@dataclass
class ChatVoice:
    obj: AppContext
    request: SpeechRequest
    file_output: str | None
    file_format: AudioFormat | None
    play: bool
    device: str | int | None
    _client: SmallestClient | None = None

    def client(self) -> SmallestClient:
        """The client every reply speaks through: made once (its TLS setup takes tens of
        milliseconds), before the first reply when the caller wants it ready."""
        if self._client is None:
            self._client = self.obj.client()
        return self._client

    @classmethod
    def build(cls, obj: AppContext, options: VoiceOptions) -> ChatVoice:
        """Everything checked now: the voice settings, and the file (never over stdout,
        which has the text)."""
        from smallest_cli.audio.devices import device_of
        from smallest_cli.audio.formats import format_for_path
        from smallest_cli.commands.tts import SpeechOptions
        from smallest_cli.files import STDOUT_NAMES, check_output
        from smallest_cli.jobs.speak import speech_request

        speech = SpeechOptions(
            voice=options.voice,
            model=options.model,
            speed=options.speed,
            language=options.language,
            sample_rate=options.sample_rate,
        )
        request = speech_request(obj, speech)
        file_output, file_format = None, None
        if options.output is not None:
            import os

            if options.output == "-" or os.path.abspath(options.output) in STDOUT_NAMES:
                raise UsageError(
                    "stdout has the reply's text, so the speech cannot go there too",
                    hint="give a file (-o reply.wav), or drop -o to play it",
                )
            file_format = format_for_path(options.output, None)
            check_output(options.output)
            file_output = options.output
        play = options.play or options.device is not None or file_output is None
        return cls(obj, request, file_output, file_format, play, device_of(options.device))

    def open_sink(self) -> Sink:
        from smallest_cli.audio.sinks import Aligned, open_sinks

        sink = open_sinks(
            self.file_output,
            self.file_format,
            None,
            self.play,
            self.device,
            self.request.sample_rate,
        )
        return Aligned(sink)

    def reply(self, sink: Sink | None = None) -> SpokenReply:
        """A reply ready to be fed (its socket connecting already)."""
        from smallest_cli.jobs.spoken_reply import SpokenReply

        tts = self.client().tts
        return SpokenReply(
            lambda: tts.live(self.request, idle_timeout=SPEECH_IDLE_TIMEOUT),
            sink if sink is not None else self.open_sink(),
            sample_rate=self.request.sample_rate,
        ).start()

    def ask(self, session: ChatSession, prompt: str) -> None:
        """One exchange, spoken. Ctrl-C or a failed reply stops the speech at once; a file
        is written only when the whole reply was spoken."""
        spoken = self.reply()
        session.listeners.append(spoken.feed)
        try:
            session.ask(prompt)
        except BaseException:
            spoken.stop()
            spoken.wait(2.0)
            raise
        finally:
            session.listeners.remove(spoken.feed)
        spoken.finish()
        try:
            while not spoken.wait(0.1):
                pass
        except KeyboardInterrupt:
            spoken.stop()
            raise
        if self.file_output is not None and spoken.spoken:
            from smallest_cli.destinations import note_headerless

            note_headerless(self.obj, self.file_output, self.file_format, self.request.sample_rate)
