"""`smallest talk`: a spoken conversation with Electron.

Each turn: the user's speech becomes text through realtime STT (jobs/turns.py says when
the turn has ended), the text goes to the chat (jobs/chat.py `ChatSession`, so the
conversation is stored in the history like any chat), and the streamed answer is spoken
while it is written (jobs/spoken_reply.py). What was heard goes to stderr, the answer's
text to stdout. The main thread asks and waits for each answer; helper threads send the
microphone and receive the STT events meanwhile.

From the microphone the loop listens all the time: while an answer plays, speech that is
not the answer's own echo (jobs/double_talk.py) stops it and starts the next turn, and
until then the STT hears silence instead of the echo; `--half-duplex` does not listen
for a barge-in at all. From
`--input FILE|-` the recording is cut into turns at its silences and each is answered
in order. Ctrl-C (or SIGTERM/SIGHUP) ends the conversation after writing the transcript
and the audio so far; the exchanges already made are in the history.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallest_cli.errors import UsageError
from smallest_cli.jobs.talk_transcript import TalkTranscript, Turn

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.stt_live import Event, LiveTranscription
    from smallest_cli.audio.capture import MicSource
    from smallest_cli.audio.sinks import Sink
    from smallest_cli.commands.talk import TalkOptions
    from smallest_cli.context import AppContext
    from smallest_cli.jobs.chat import ChatSession
    from smallest_cli.jobs.chat_voice import ChatVoice
    from smallest_cli.jobs.double_talk import BargeIn, EchoReference
    from smallest_cli.jobs.listen import Interrupts
    from smallest_cli.jobs.spoken_reply import SpokenReply
    from smallest_cli.jobs.turns import TurnDetector

TALK_RATE = (
    16000  # the microphone, STT and TTS share one rate: the echo reference needs no resampling
)
STT_FRAME_BYTES = 4096  # REFERENCE §10.7
ANSWER_GAP_SECONDS = 0.4  # silence between two answers in --output
POLL_SECONDS = 0.05
ECHO_TAIL_SECONDS = 0.5  # after an answer, what is heard may still be its echo
PLAYBACK_BUFFER_SECONDS = 0.2  # rides out a busy moment; a barge-in drops it at once
HELD_CHUNKS = 4  # microphone chunks (100 ms) kept for the STT while a barge-in is decided


@dataclass(frozen=True)
class TalkSettings:
    """How to listen, checked."""

    language: str
    input: str | None = None
    output: str | None = None
    transcript: str | None = None
    pause: float = 0.5
    half_duplex: bool = False
    mic_device: str | int | None = None


@dataclass
class TalkJob:
    obj: AppContext
    settings: TalkSettings
    session: ChatSession
    voice: ChatVoice
    transcript: TalkTranscript = field(default_factory=TalkTranscript)
    _started: float = field(default_factory=time.monotonic)
    _file: Sink | None = None  # --output, open for the whole conversation
    _answers: int = 0
    _final_at: float | None = None  # when the turn being answered got its last final

    # -- the conversation -----------------------------------------------------------------

    def run(self) -> None:
        from smallest_cli.jobs.listen import Interrupts as Signals

        self._started = time.monotonic()
        self._file = self._open_output()
        self.voice.client()  # both clients ready before the first answer (TLS setup)
        self.session.api  # noqa: B018
        interrupts = Signals()
        failed = False
        try:
            with interrupts:
                if self.settings.input is not None:
                    self._from_recording(interrupts)
                else:
                    self._from_microphone(interrupts)
        except BaseException:
            failed = True
            raise
        finally:
            self._finish(failed and not interrupts.requested)
        if interrupts.requested:
            raise interrupts.stop

    def _finish(self, failed: bool) -> None:
        """The transcript and the audio so far are kept however the conversation ended."""
        self.transcript.conversation_id = self.session.conversation_id
        if self.settings.transcript is not None:
            self.transcript.write(self.settings.transcript)
        if self._file is not None:
            if self._answers or not failed:
                self._file.close()
            else:
                self._file.abort()

    def _now(self) -> float:
        return time.monotonic() - self._started

    def _client(self) -> SmallestClient:
        from smallest_cli.api.stt_live import US_ONLY

        language = self.settings.language
        base = self.obj.us_base_url() if language in US_ONLY else self.obj.resolved_base_url()
        return self.obj.client(base_url=base)

    # -- from a recording -----------------------------------------------------------------

    def _from_recording(self, interrupts: Interrupts | None) -> None:
        from smallest_cli.jobs.turns import split_at_silences

        pcm = self._read_input()
        segments = split_at_silences(pcm, TALK_RATE, self.settings.pause)
        if not segments:
            raise UsageError(
                f"no speech in {self.settings.input}",
                hint="give a recording of someone speaking",
            )
        client = self._client()
        for segment in segments:
            if interrupts is not None and interrupts.requested:
                return
            heard = self._transcribe(client, segment.pcm)
            self._heard(heard, segment.start, segment.end)
            if heard:
                self._answer(heard, interrupts, answered_at=segment.end)

    def _read_input(self) -> bytes:
        from smallest_cli.jobs.listen import SourceSpec, open_source

        assert self.settings.input is not None
        spec = SourceSpec(path=self.settings.input, sample_rate=TALK_RATE)
        source = open_source(self.obj, spec)
        try:
            if source.format.encoding != "linear16":
                raise UsageError(
                    f"{self.settings.input} is {source.format.encoding}; talk reads linear PCM",
                    hint="give a WAV, FLAC or OGG recording",
                )
            return b"".join(source.chunks(threading.Event()))
        finally:
            source.close()

    def _transcribe(self, client: SmallestClient, pcm: bytes) -> str:
        """One turn's audio through one realtime session: its finals, joined."""
        from smallest_cli.api.stt_live import LiveOptions, Transcription
        from smallest_cli.errors import APITimeoutError

        options = LiveOptions(language=self.settings.language, sample_rate=TALK_RATE)
        texts: list[str] = []
        with client.stt_live.open(options) as stt:
            for start in range(0, len(pcm), STT_FRAME_BYTES):
                stt.send_audio(pcm[start : start + STT_FRAME_BYTES])
            stt.close_stream()
            while not stt.finished:
                event = stt.receive(timeout=self._timeout)
                if event is None:
                    raise APITimeoutError(
                        f"no transcript for {self._timeout:g} s", hint="raise --timeout"
                    )
                if isinstance(event, Transcription) and event.is_final and event.text:
                    texts.append(event.text)
                    self._final_at = self._now()
        return " ".join(texts)

    @property
    def _timeout(self) -> float:
        from smallest_cli.api.client import DEFAULT_TIMEOUT

        return self.obj.timeout if self.obj.timeout is not None else DEFAULT_TIMEOUT

    # -- from the microphone --------------------------------------------------------------

    def _from_microphone(self, interrupts: Interrupts | None) -> None:
        from smallest_cli.api.stt_live import LiveOptions
        from smallest_cli.audio.capture import MicSource
        from smallest_cli.jobs.double_talk import BargeIn, EchoReference
        from smallest_cli.jobs.turns import TurnDetector

        mic = MicSource(device=self.settings.mic_device, rate=TALK_RATE, note=self.obj.output.warn)
        reference = EchoReference(TALK_RATE)
        listening = _Listening(BargeIn(reference), reference, self.settings.half_duplex)
        # the pause is the API's end-of-utterance timer, and a turn's sentences are one final:
        # the final that ends the turn comes as the pause ends, and the answer starts at once
        options = LiveOptions(
            language=self.settings.language,
            sample_rate=TALK_RATE,
            vad_events=True,
            word_timestamps=True,
            eou_timeout_ms=round(self.settings.pause * 1000),
            finalize_on_words=False,
        )
        turns = TurnDetector(pause=self.settings.pause)
        try:
            client = self._client()
            with client.stt_live.open(options) as stt:
                sender = threading.Thread(
                    target=listening.send, args=(stt, mic), name="talk-mic", daemon=True
                )
                sender.start()
                if self.obj.output.stderr_isatty:
                    self.obj.output.info("Listening… speak; Ctrl-C ends the conversation.")
                self._listen(stt, turns, listening, interrupts)
                listening.stop.set()
        finally:
            listening.stop.set()
            if listening.reply is not None:
                listening.reply.stop()
            mic.close()

    def _listen(
        self,
        stt: LiveTranscription,
        turns: TurnDetector,
        listening: _Listening,
        interrupts: Interrupts | None,
    ) -> None:
        """Turns as they end, each answered here (the main thread: the history's database
        and Ctrl-C live here); the events heard meanwhile wait in a queue, and those from
        before the user barged in (the answer's own echo) are dropped."""
        from smallest_cli.api.stt_live import Transcription

        events: queue.Queue[tuple[float, Event]] = queue.Queue()
        receiver = threading.Thread(
            target=listening.receive, args=(stt, events), name="talk-stt", daemon=True
        )
        receiver.start()
        turn_started: float | None = None
        heard_from = 0.0  # events that arrived earlier were the answer's echo
        while not (interrupts is not None and interrupts.requested):
            if listening.error is not None:
                raise listening.error
            left = turns.left(time.monotonic(), stt.bytes_sent / (2 * TALK_RATE))
            wait = POLL_SECONDS if left is None else max(0.0, min(POLL_SECONDS, left))
            try:
                at, event = events.get(timeout=wait)
            except queue.Empty:
                if turns.stalled(time.monotonic()):
                    stt.finalize()
            else:
                if at >= heard_from:
                    turns.hear(event, at)
                    if isinstance(event, Transcription) and event.is_final and event.text:
                        self._final_at = at - self._started
                    if turn_started is None and turns.speaking:
                        turn_started = at - self._started
            text = turns.turn(time.monotonic(), stt.bytes_sent / (2 * TALK_RATE))
            if text is None:
                continue
            self._heard(text, turn_started if turn_started is not None else self._now())
            turn_started = None
            listening.barged_in_at = None
            self._answer(text, interrupts, listening)
            heard_from = listening.barged_in_at or time.monotonic() + ECHO_TAIL_SECONDS
            if listening.barged_in_at is not None:
                self.obj.output.info("(interrupted)")

    # -- one answer -----------------------------------------------------------------------

    def _heard(self, text: str, started: float, ended: float | None = None) -> None:
        output = self.obj.output
        if text:
            output.info(f"You: {text}")
        else:
            output.info("(nothing was recognised)")
        # from a recording, the times are where the turn sits in it: no clock times then
        final = self._final_at if ended is None else None
        ended = self._now() if ended is None else ended
        self.transcript.add(Turn("user", text, started, ended, final=final))
        self._final_at = None

    def _answer(
        self,
        text: str,
        interrupts: Interrupts | None,
        listening: _Listening | None = None,
        answered_at: float | None = None,
    ) -> None:
        """Ask, speak the answer while it streams, and wait until it has been spoken.
        From a recording the answer's times are where it would sit in it: from the end of
        the question, for as long as it is spoken (`answered_at`)."""
        reply = self.voice.reply(self._reply_sink(listening))
        if listening is not None:
            listening.reply = reply
        started = self._now()
        first_token: list[float] = []

        def heard(piece: str) -> None:
            if piece and not first_token:
                first_token.append(self._now())

        self.session.listeners += [heard, reply.feed]
        try:
            answer = self.session.ask(text)
        except BaseException:
            reply.stop()
            reply.wait(2.0)
            self.transcript.add(Turn("assistant", "", started, self._now(), interrupted=True))
            raise
        finally:
            self.session.listeners.remove(heard)
            self.session.listeners.remove(reply.feed)
        reply.finish()
        while not reply.wait(POLL_SECONDS):
            if interrupts is not None and interrupts.requested:
                reply.stop()
        if listening is not None and listening.barged_in_at and self.obj.debug:
            self.obj.output.debug("barge-in: the user spoke over the answer")
        if listening is not None:
            listening.reply = None
            listening.reference.quiet()
        if self.obj.debug:
            self._report_timing(reply, listening)
        if reply.audio_bytes:
            self._answers += 1
        ended = self._now()
        first_audio = reply.first_audio_at
        if answered_at is not None:  # the answer's place in the recording, no clock times
            started = answered_at
            ended = answered_at + reply.audio_bytes / 2 / TALK_RATE
            first_token.clear()
            first_audio = None
        self.transcript.add(
            Turn(
                "assistant",
                answer.content,
                started,
                ended,
                interrupted=reply.stopped,
                first_token=first_token[0] if first_token else None,
                first_audio=None if first_audio is None else first_audio - self._started,
            )
        )

    def _report_timing(self, reply: SpokenReply, listening: _Listening | None) -> None:
        def at(moment: float | None) -> str:
            return "-" if moment is None else f"{moment - self._started:.2f} s"

        barged = listening.barged_in_at if listening is not None else None
        self.obj.output.debug(
            f"answer: first audio at {at(reply.first_audio_at)}, barge-in at {at(barged)}, "
            f"ended at {self._now():.2f} s"
        )

    def _reply_sink(self, listening: _Listening | None) -> Sink:
        from smallest_cli.audio.sinks import Aligned, PlayerSink, Tee

        sinks: list[Sink] = []
        if self._file is not None:
            if self._answers:
                self._file.write(b"\0\0" * int(TALK_RATE * ANSWER_GAP_SECONDS))
            sinks.append(_Kept(self._file))
        if self.voice.play:
            sinks.append(PlayerSink(TALK_RATE, self.voice.device, latency=PLAYBACK_BUFFER_SECONDS))
        if listening is not None:
            sinks.append(_Played(listening.reference))
        return Aligned(sinks[0] if len(sinks) == 1 else Tee(*sinks))

    def _open_output(self) -> Sink | None:
        if self.voice.file_output is None or self.voice.file_format is None:
            return None
        from smallest_cli.audio.sinks import open_sinks

        return open_sinks(
            self.voice.file_output, self.voice.file_format, None, False, None, TALK_RATE
        )


@dataclass
class _Listening:
    """What the microphone thread and the conversation share."""

    barge_in: BargeIn
    reference: EchoReference
    half_duplex: bool
    reply: SpokenReply | None = None
    barged_in_at: float | None = None  # time.monotonic() when the user cut the answer off
    error: BaseException | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def send(self, stt: LiveTranscription, mic: MicSource) -> None:
        """The microphone to the STT socket. While the answer plays (and for a moment
        after, its echo's tail) the STT hears silence unless the user barges in: then the
        answer stops and the STT gets the user's speech, the first words included (they
        were held back while the barge-in was being decided). With --half-duplex the
        microphone is not listened to at all meanwhile."""
        held: list[bytes] = []  # the last moments heard while the answer played
        echo_until = 0.0  # time.monotonic() until which the microphone may hear the echo
        try:
            for chunk in mic.chunks(self.stop):
                reply = self.reply
                now = time.monotonic()
                if reply is not None and reply.speaking and not reply.stopped:
                    echo_until = now + ECHO_TAIL_SECONDS
                    if not self.half_duplex and self.barge_in.hear(chunk):
                        self.barged_in_at = now
                        reply.stop()
                        echo_until = 0.0
                        chunk = b"".join([*held, chunk])
                    else:
                        held = [*held, chunk][-HELD_CHUNKS:]
                        chunk = b"\0" * len(chunk)
                elif now < echo_until:
                    chunk = b"\0" * len(chunk)
                else:
                    held = []
                if not stt.send_audio(chunk):
                    return
        except BaseException as error:  # handed to the listening loop
            self.error = error

    def receive(self, stt: LiveTranscription, events: queue.Queue[tuple[float, Event]]) -> None:
        """STT events, stamped with when they arrived, into `events`."""
        try:
            while not self.stop.is_set() and not stt.finished:
                event = stt.receive(timeout=POLL_SECONDS)
                if event is not None:
                    events.put((time.monotonic(), event))
        except BaseException as error:  # handed to the listening loop
            if not self.stop.is_set():
                self.error = error


class _Kept:
    """The conversation's output file seen as one answer's sink: the answer's end (or its
    interruption) leaves the file open for the next one."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def write(self, pcm: bytes) -> None:
        self.sink.write(pcm)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _Played:
    """The echo reference as a sink: what goes to the speakers."""

    def __init__(self, reference: EchoReference) -> None:
        self.reference = reference

    def write(self, pcm: bytes) -> None:
        self.reference.played(pcm)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.reference.quiet()


# -- building the job from the command's options ----------------------------------------


def run_talk(obj: AppContext, options: TalkOptions) -> None:
    """Check everything, then talk until the recording ends or the user stops."""
    from smallest_cli.audio.devices import device_of
    from smallest_cli.files import check_output
    from smallest_cli.jobs.chat import Request, Sampling, open_session
    from smallest_cli.jobs.chat_voice import ChatVoice, VoiceOptions
    from smallest_cli.jobs.listen import resolve_language

    if options.continue_ and options.cid:
        raise UsageError("-c/--continue and --cid both say which conversation", hint="drop one")
    if options.input == "-" and obj.output.stdin_isatty:
        raise UsageError("stdin is a terminal, not audio", hint="pipe a recording in")
    if options.input is not None and options.mic_device is not None:
        raise UsageError("--mic-device picks the microphone; --input replaces it", hint="drop one")
    if options.transcript is not None:
        check_output(options.transcript, flag="--transcript")
    language = resolve_language(obj, options.language)
    voice = ChatVoice.build(
        obj,
        VoiceOptions(
            output=options.output,
            play=options.play,
            device=options.device,
            voice=options.voice,
            model=options.model,
            speed=options.speed,
            language=_speaking_language(language),
            sample_rate=TALK_RATE,
        ),
    )
    obj.api_key()  # a missing key is said before the microphone opens
    request = Request.given(obj, options, prompt=None)
    sampling = Sampling(
        temperature=obj.setting("chat_temperature", options.temperature),
        max_tokens=obj.setting("chat_max_tokens", options.max_tokens),
    )
    session = open_session(obj, sampling, request)
    settings = TalkSettings(
        language=language,
        input=options.input,
        output=options.output,
        transcript=options.transcript,
        pause=options.pause,
        half_duplex=options.half_duplex,
        mic_device=device_of(options.mic_device),
    )
    try:
        TalkJob(obj, settings, session, voice).run()
    finally:
        if session.history is not None:
            session.history.close()


def _speaking_language(stt_language: str) -> str | None:
    """The answer is spoken in the language listened to, when the TTS models speak it;
    else the language setting decides."""
    from smallest_cli.api.constants import TTS_MODEL_LANGUAGES

    everywhere = set.intersection(*(set(codes) for codes in TTS_MODEL_LANGUAGES.values()))
    return stt_language if stt_language in everywhere else None
