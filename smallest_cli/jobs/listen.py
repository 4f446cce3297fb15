"""What `smallest stt live` does, between parsing the options and the API client.

`LiveJob.build` checks the command's options before anything is opened or sent. `run` opens the
audio source (its rate and encoding go into the URL), picks the region's host for the
language, connects, and then two things happen at once:

* a sender thread reads the source and sends it in frames (as fast as the server takes
  them, or at real time with --realtime; a microphone is real time by nature), then sends
  `close_stream`;
* the main thread receives events and prints them as they come: each final on its own
  line on stdout, partials as one updating line on a terminal's stderr (--interim), or
  every event as a JSON line with --json.

The session ends when the last final (`is_last`) arrives. Ctrl-C does not throw away what
was heard: it stops the audio, sends `close_stream`, waits up to 5 s for the last final,
writes every final received (stdout already has them; -o FILE gets the whole transcript),
and only then exits 130. A second Ctrl-C stops waiting. SIGINT is caught as a flag while
the session runs, so an event is never lost half-received; SIGTERM and SIGHUP are treated
the same way and exit 143 and 129.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from smallest_cli.choices import redactions
from smallest_cli.errors import UsageError

if TYPE_CHECKING:
    from smallest_cli.api.stt_live import Event, LiveOptions, LiveTranscription
    from smallest_cli.audio.sources import AudioSource
    from smallest_cli.choices import Route
    from smallest_cli.commands.stt_live import ListenOptions
    from smallest_cli.context import AppContext
    from smallest_cli.errors import APIError
    from smallest_cli.output import Output

DRAIN_SECONDS = 5.0  # after Ctrl-C: how long to wait for the last final
POLL_SECONDS = 0.1  # how often the receiver looks up from the socket (Ctrl-C, the sender)
SENDER_GRACE_SECONDS = 2.0  # after a failed send, how long the receiver may take to say why
VAD_TAIL_SECONDS = 1.0  # silence after the audio, so the last `speech_ended` comes (§10.7)
KEYWORD_FORBIDDEN = re.compile(r"[\[\]{}\"'`]")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class SourceSpec:
    """Where the audio comes from, as the user said it."""

    path: str | None = None  # a file, or "-" for stdin
    mic: bool = False
    device: str | int | None = None
    encoding: str | None = None
    sample_rate: int | None = None
    realtime: bool = False
    duration: float | None = None


@dataclass
class LiveJob:
    obj: AppContext
    source: SourceSpec
    options: LiveOptions
    route: Route
    interim: bool = False
    json_events: bool = False
    output_path: str | None = None
    output_format: str | None = None
    finals: list[Event] = field(default_factory=list)
    last_final_at: float | None = None  # time.monotonic() when the last final arrived
    _host: str = field(default="", init=False, repr=False)  # where the session went
    _shown: Printer | None = field(default=None, init=False, repr=False)

    @property
    def _printer(self) -> Printer:
        if self._shown is None:
            self._shown = Printer(
                self.obj.output,
                json_events=self.json_events,
                interim=self.interim,
                vad=self.options.vad_events,
                lines=self.output_path != "-",
            )
        return self._shown

    # -- resolving and checking the options ---------------------------------------------

    @classmethod
    def build(cls, obj: AppContext, options: ListenOptions) -> LiveJob:
        from smallest_cli.choices import Route
        from smallest_cli.transcript import TIMED_FORMATS

        spec = _source_spec(obj, options)
        request = live_request(obj, options)
        path, fmt = _output(options.output, options.format_, options.as_json)
        if fmt in TIMED_FORMATS:
            request = replace(request, word_timestamps=True)  # subtitles and tables need words
        if options.no_endpointing and options.route is Route.LEGACY:
            obj.output.warn(
                "the legacy route does not document endpointing; --no-endpointing is not sent"
            )
        return cls(
            obj=obj,
            source=spec,
            options=request,
            route=options.route,
            interim=options.interim,
            json_events=options.as_json,
            output_path=path,
            output_format=fmt,
        )

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        from smallest_cli.api.stt_live import US_ONLY

        output = self.obj.output
        source = open_source(self.obj, self.source)
        try:
            fmt = source.format
            self.options = replace(self.options, sample_rate=fmt.sample_rate, encoding=fmt.encoding)
            if self.options.language in US_ONLY:
                base_url = self.obj.us_base_url()
            else:
                base_url = self.obj.resolved_base_url()
            client = self.obj.client(base_url=base_url)
            self._host = base_url
            if output.stderr_isatty:
                stop_hint = " (Ctrl-C to stop)" if source.live or self.source.realtime else ""
                output.info(
                    f"Transcribing {source.description} in {self.options.language}…{stop_hint}"
                )
            elif self.obj.debug:
                output.debug(f"transcribing {source.description} in {self.options.language}")
            session = client.stt_live.open(self.options, self.route)
            stopped_by = self._stream(session, source)
        finally:
            source.close()
        self._write_file()
        if stopped_by is not None:
            raise stopped_by

    def _stream(self, session: LiveTranscription, source: AudioSource) -> KeyboardInterrupt | None:
        """Send and receive until the last final; what to raise if the user stopped it."""
        stop = threading.Event()
        sender = Sender(session, source, stop, self._pacing(source), self._tail(source))
        started = time.monotonic()
        stopped_by: KeyboardInterrupt | None = None
        with session:  # connecting: a Ctrl-C here simply stops the command
            interrupts = Interrupts()
            try:
                with interrupts:
                    sender.start()
                    if self._receive(session, sender, interrupts):
                        stopped_by = interrupts.stop
            except KeyboardInterrupt as stop_now:  # a second signal: stop waiting, keep
                stopped_by = stop_now  # what arrived
            finally:
                stop.set()
                self._printer.clear()
        if sender.is_alive():
            sender.join(timeout=2.0)
        if self.obj.debug:
            self._report_timing(session, sender, started)
        if not any(_text(e) for e in self.finals) and stopped_by is None:
            if self.obj.output.stderr_isatty:
                self.obj.output.info("No speech was recognised.")
        return stopped_by

    def _receive(self, session: LiveTranscription, sender: Sender, interrupts: Interrupts) -> bool:
        """Show events until the last final (or the end of the wait after Ctrl-C)."""
        from smallest_cli.errors import APIError, APITimeoutError

        output = self.obj.output
        deadline: float | None = None  # after Ctrl-C: when to stop waiting
        last_frame = time.monotonic()
        failed_at: float | None = None  # when the sender failed to send
        while True:
            now = time.monotonic()
            if interrupts.requested and deadline is None:
                deadline = now + DRAIN_SECONDS
                sender.stop.set()
                self._printer.clear()
                if output.stderr_isatty:
                    output.info("Stopping: waiting for the last transcript…")
                session.close_stream()
            wait = POLL_SECONDS
            if deadline is not None:
                if now >= deadline:
                    output.warn(f"no last transcript within {DRAIN_SECONDS:g} s of stopping")
                    return True
                wait = min(wait, deadline - now)
            error = sender.error
            if error is not None:
                # A failure to send is usually the socket closing; the receiver then
                # learns why. Anything else (the audio source failed) ends the session now.
                failed_at = failed_at or now
                if not isinstance(error, APIError) or now - failed_at > SENDER_GRACE_SECONDS:
                    raise error
            if deadline is None and session.closing:
                waited = now - max(last_frame, session.close_sent_at or now)
                if waited > self._timeout:
                    raise APITimeoutError(
                        f"no transcript for {self._timeout:g} s after the end of the audio",
                        hint="raise --timeout, or try again",
                    )
            try:
                event = session.receive(timeout=wait)
            except APIError as failure:
                if deadline is not None and _ended_normally(failure):
                    return True  # closed after close_stream: nothing more is coming
                raise self._explained(failure) from failure
            if event is not None:
                last_frame = time.monotonic()
                self._printer.show(event)
                if _is_final(event):
                    self.finals.append(event)
                    self.last_final_at = last_frame
            if session.finished:
                return deadline is not None

    @property
    def _timeout(self) -> float:
        from smallest_cli.api.client import DEFAULT_TIMEOUT

        return self.obj.timeout if self.obj.timeout is not None else DEFAULT_TIMEOUT

    def _pacing(self, source: AudioSource) -> Pacing:
        limit = None
        if self.source.duration is not None:
            fmt = source.format
            limit = int(self.source.duration * fmt.sample_rate) * fmt.sample_width
        return Pacing(realtime=self.source.realtime, limit_bytes=limit)

    def _tail(self, source: AudioSource) -> bytes:
        return source.format.silence(VAD_TAIL_SECONDS) if self.options.vad_events else b""

    def _explained(self, error: APIError) -> APIError:
        """The error with a hint when the language is not served where the stream went."""
        from smallest_cli.api.stt_live import INDIA_ONLY, REGION_ERROR, US_ONLY
        from smallest_cli.errors import APIConnectionError

        language = self.options.language
        if error.code == REGION_ERROR:
            where = (
                "the India host (api.smallest.ai)" if language in INDIA_ONLY else "another region"
            )
            error.hint = (
                f"{language} streams only from {where}, not from {self._host}; "
                "drop --base-url (smallest picks the region's host) or point it there"
            )
        elif isinstance(error, APIConnectionError) and language in US_ONLY:
            error.hint = (
                f"{language} streams only from the US host (api.us.smallest.ai), not from "
                f"{self._host}; set SMALLEST_US_BASE_URL if your deployment has another"
            )
        return error

    def _report_timing(self, session: LiveTranscription, sender: Sender, started: float) -> None:
        seconds = session.bytes_sent / max(1, self.options.sample_rate * _width(self.options))
        end = sender.audio_done_at or time.monotonic()
        line = (
            f"sent {seconds:.2f} s of audio ({session.bytes_sent} bytes) in {end - started:.2f} s"
        )
        if session.last_audio_at is not None and self.last_final_at is not None:
            after = 1000 * (self.last_final_at - session.last_audio_at)
            line += f"; the last transcript came {after:.0f} ms after the last audio"
        self.obj.output.debug(line)

    def _write_file(self) -> None:
        if self.output_path is None or self.output_format is None:
            return
        from smallest_cli.transcript import Transcript

        transcript = Transcript.from_finals(_raw(e) for e in self.finals)
        text = transcript.render(self.output_format)
        if self.output_path == "-":
            self.obj.output.write(text)
            return
        from smallest_cli.files import write_output

        write_output(self.output_path, text)


def _width(options: LiveOptions) -> int:
    from smallest_cli.audio.formats import SAMPLE_WIDTH

    return SAMPLE_WIDTH.get(options.encoding, 2)


def _is_final(event: Event) -> bool:
    from smallest_cli.api.stt_live import Transcription

    return isinstance(event, Transcription) and event.is_final


def _text(event: Event) -> str:
    from smallest_cli.api.stt_live import Transcription

    return event.text if isinstance(event, Transcription) else ""


def _raw(event: Event) -> dict[str, Any]:
    from smallest_cli.api.stt_live import Transcription

    return dict(event.raw) if isinstance(event, Transcription) else {}


def _ended_normally(error: Exception) -> bool:
    from smallest_cli.api.stt_live import SessionEndedEarly

    return isinstance(error, SessionEndedEarly)


# -- option helpers ---------------------------------------------------------------------


def _source_spec(obj: AppContext, options: ListenOptions) -> SourceSpec:
    """Where the audio comes from, refused when the flags contradict each other."""
    from smallest_cli.audio.devices import device_of
    from smallest_cli.audio.formats import check_encoding, check_rate

    source, mic = options.source, options.mic
    device = device_of(options.device)
    encoding = check_encoding(options.encoding)
    sample_rate = check_rate(options.sample_rate)
    if mic and source is not None:
        raise UsageError(
            "give an audio SOURCE or --mic, not both",
            hint="drop SOURCE to use the microphone, or --mic to transcribe the file",
        )
    if device is not None and not mic:
        raise UsageError("--device picks the microphone", hint="add --mic")
    if mic and encoding is not None:
        raise UsageError("--encoding describes raw input; the microphone is recorded as linear16")
    if mic and options.realtime:
        raise UsageError("--realtime paces a file or stdin; the microphone is real time already")
    if not mic and source is None:
        if obj.output.stdin_isatty:
            raise UsageError(
                "nothing to transcribe",
                hint="give an audio file, `-` for stdin, or --mic for the microphone",
            )
        source = "-"
    if source == "-" and obj.output.stdin_isatty:
        raise UsageError(
            "stdin is a terminal, not audio",
            hint="pipe audio in (smallest tts say … | smallest stt live -) or use --mic",
        )
    return SourceSpec(
        path=source,
        mic=mic,
        device=device,
        encoding=encoding,
        sample_rate=sample_rate,
        realtime=options.realtime,
        duration=options.duration,
    )


def live_request(obj: AppContext, options: ListenOptions) -> LiveOptions:
    """What to ask the realtime API for (the audio's rate and encoding come with the source)."""
    from smallest_cli.api.stt_live import REDACTING_LANGUAGES, LiveOptions

    language = resolve_language(obj, options.language)
    pii, pci = redactions(options.redact or ())
    if (pii or pci) and language not in REDACTING_LANGUAGES:
        obj.output.warn(
            f"redaction is effective only for en and hi; {language} may not be redacted"
        )
    return LiveOptions(
        language=language,
        word_timestamps=options.word_timestamps or options.diarize,  # speaker labels need words
        diarize=options.diarize,
        redact_pii=pii,
        redact_pci=pci,
        itn_normalize=options.itn,
        vad_events=options.vad_events,
        keywords=parse_keywords(options.keywords or (), obj.output.warn),
        eou_timeout_ms=options.eou_timeout_ms,
        max_words=options.max_words,
        endpointing=not options.no_endpointing,
        expire_content=options.expire_content,
    )


def open_source(obj: AppContext, spec: SourceSpec) -> AudioSource:
    """Open the audio the spec names (reading a pipe's first bytes to learn its format)."""
    from smallest_cli.audio import sources
    from smallest_cli.files import stdin_bytes

    if spec.mic:
        from smallest_cli.audio.capture import MicSource

        return MicSource(device=spec.device, rate=spec.sample_rate, note=obj.output.warn)
    assert spec.path is not None
    if spec.path == "-":
        return sources.open_stdin(
            stdin_bytes(),
            encoding=spec.encoding,
            rate=spec.sample_rate,
            note=obj.output.info,
        )
    return sources.open_file(
        spec.path, encoding=spec.encoding, rate=spec.sample_rate, note=obj.output.warn
    )


def resolve_language(obj: AppContext, flag: str | None) -> str:
    """--language, else the stt_language setting, checked against the streaming list."""
    from smallest_cli.api.stt_live import LANGUAGES

    resolved = obj.config.resolve("stt_language", flag)
    value, where = str(resolved.value), obj.config.describe(resolved, flag="--language")
    if value in LANGUAGES:
        return value
    hint = "streaming languages: " + ", ".join(LANGUAGES)
    if value == "multi-eu":
        hint = "multi-eu is for recordings only (stt transcribe); live, give the language, e.g. de"
    elif value == "multi-indic":
        hint = "live, use north_indic (en, hi, gu, mr, bn, or)"
    raise UsageError(f"{where} cannot be transcribed live", hint=hint)


def parse_keywords(values: Sequence[str], warn: Callable[[str], None]) -> str | None:
    """The `keywords` query value from --keywords WORD[:BOOST],… (checked, normalised)."""
    from smallest_cli.api.stt_live import LOUD_BOOST, MAX_KEYWORDS

    entries: list[str] = []
    loud: list[str] = []
    for value in values:
        for raw in value.split(","):
            entry = raw.strip()
            if not entry:
                continue
            if KEYWORD_FORBIDDEN.search(entry):
                raise UsageError(
                    f"--keywords entry {entry!r} has brackets or quotes",
                    hint="give plain words: --keywords 'Blackwell:2,Jensen Huang' (the API "
                    "would take brackets and quotes literally and garble the transcript)",
                )
            word, colon, boost = entry.rpartition(":")
            if not colon:
                word, boost = entry, ""
            word = word.strip()
            boost = boost.strip()
            if not word:
                raise UsageError(f"--keywords entry {entry!r} has no word before the colon")
            if colon:
                if not NUMBER.match(boost):
                    raise UsageError(
                        f"--keywords entry {entry!r}: the boost {boost!r} is not a number",
                        hint="write WORD:BOOST with a number, e.g. Blackwell:2 or Jensen:1.5",
                    )
                if float(boost) > LOUD_BOOST:
                    loud.append(word)
                entries.append(f"{word}:{boost}")
            else:
                entries.append(word)
    if len(entries) > MAX_KEYWORDS:
        raise UsageError(f"{len(entries)} keywords; the API takes at most {MAX_KEYWORDS:,}")
    if loud:
        warn(
            f"boosts above {LOUD_BOOST:g} ({', '.join(loud)}) make the API insert words "
            "that were never said; 1 to 3 is the recommended range"
        )
    return ",".join(entries) or None


def _output(
    output: str | None, format_: str | None, json_events: bool
) -> tuple[str | None, str | None]:
    from smallest_cli.transcript import transcript_format

    if output is None:
        if format_ is not None:
            raise UsageError("--format is the format of -o FILE", hint="add -o FILE (or -o -)")
        return None, None
    fmt = transcript_format(format_, output)
    if output == "-":
        if json_events:
            raise UsageError(
                "--json writes events to stdout, and so does -o -", hint="drop one of them"
            )
        return output, fmt
    from smallest_cli.files import check_output

    check_output(output)
    return output, fmt


# -- sending ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pacing:
    realtime: bool = False  # send no faster than the audio plays
    limit_bytes: int | None = None  # --duration


class Sender(threading.Thread):
    """Sends the source's audio, then `close_stream`; any failure is kept for the receiver."""

    def __init__(
        self,
        session: LiveTranscription,
        source: AudioSource,
        stop: threading.Event,
        pacing: Pacing,
        tail: bytes = b"",
    ) -> None:
        super().__init__(name="stt-sender", daemon=True)
        self.session = session
        self.source = source
        self.stop = stop
        self.pacing = pacing
        self.tail = tail
        self.error: BaseException | None = None
        self.audio_done_at: float | None = None

    def run(self) -> None:
        try:
            self._send_all()
            self.audio_done_at = time.monotonic()
            self.session.close_stream()
        except BaseException as exc:  # handed to the receiver
            self.error = exc

    def _send_all(self) -> None:
        fmt = self.source.format
        started = time.monotonic()
        sent = 0
        limit = self.pacing.limit_bytes
        for chunk in self._frames():
            if self.stop.is_set():
                return
            if limit is not None and sent + len(chunk) >= limit:
                chunk = chunk[: max(0, limit - sent)]
            if self.pacing.realtime:
                delay = started + fmt.seconds(sent) - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    return
            if chunk and not self.session.send_audio(chunk):
                return
            sent += len(chunk)
            if limit is not None and sent >= limit:
                break
        if self.tail and not self.stop.is_set():
            self.session.send_audio(self.tail)

    def _frames(self) -> Iterator[bytes]:
        """The source's frames; paced, at most 100 ms each, as a live call sends them."""
        chunks = self.source.chunks(self.stop)
        if not self.pacing.realtime:
            yield from chunks
            return
        from smallest_cli.audio.codecs import Rechunker

        frames = Rechunker(self.source.format.chunk_bytes(paced=True))
        for chunk in chunks:
            yield from frames.feed(chunk)
        yield from frames.flush()


# -- Ctrl-C -----------------------------------------------------------------------------


class Interrupts:
    """While active (in the main thread), the first SIGINT, SIGTERM or SIGHUP sets
    `requested` instead of raising; a second one raises as usual (`errors.interruption`)."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._signum = signal.SIGINT
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def stop(self) -> KeyboardInterrupt:
        """What to raise once the session has ended: the first signal's interruption."""
        from smallest_cli.errors import interruption

        return interruption(self._signum)

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                if signum == signal.SIGINT or signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        from smallest_cli.errors import interruption

        if self._requested.is_set():
            raise interruption(signum)
        self._signum = signal.Signals(signum)
        self._requested.set()


# -- printing ---------------------------------------------------------------------------


class Printer:
    """Events as they arrive: finals on stdout (a line each, or NDJSON with --json),
    partials as one updating line on a terminal's stderr."""

    def __init__(
        self, output: Output, *, json_events: bool, interim: bool, vad: bool, lines: bool
    ) -> None:
        self.output = output
        self.json_events = json_events
        self.interim = interim
        self.vad = vad
        self.lines = lines  # False with -o -: the transcript is written at the end instead
        self._status = False
        self._live_status = interim and output.stderr_isatty and not json_events

    def show(self, event: Event) -> None:
        from smallest_cli.api.stt_live import SpeechEvent

        if isinstance(event, SpeechEvent):
            if self.json_events and self.vad:
                self._json(event.to_json())
            elif self.vad and self.output.stderr_isatty and not self.output.quiet:
                self.clear()
                when = f" at {event.timestamp:.2f} s" if event.timestamp is not None else ""
                self.output.info(f"[{event.kind.replace('_', ' ')}{when}]")
            return
        if not event.is_final:
            if self.json_events and self.interim:
                self._json(event.to_json())
            elif self._live_status and event.text:
                self._show_status(event.text)
            return
        if self.json_events:
            self._json(event.to_json())
            return
        self.clear()
        line = _line(event)
        if line and self.lines:
            self.output.data(line)

    def _json(self, value: dict[str, Any]) -> None:
        self.output.data(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def _show_status(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        shown = text if len(text) <= width else "…" + text[-(width - 1) :]
        self.output.stderr.write("\r\x1b[K" + shown)
        self.output.stderr.flush()
        self._status = True

    def clear(self) -> None:
        if self._status:
            self.output.stderr.write("\r\x1b[K")
            self.output.stderr.flush()
            self._status = False


def _line(event: Event) -> str:
    """A final as people read it: its text, with speaker labels when diarized."""
    from smallest_cli.transcript import Transcript

    transcript = Transcript.from_finals([_raw(event)])
    if transcript.speakers:
        return transcript.render("text").strip()
    return _text(event).strip()
