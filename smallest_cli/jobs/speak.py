"""What `smallest tts say` does, between parsing the options and the API client.

`SpeechJob.build` resolves every option (flag > env > config > default) and rejects bad
input before anything is sent. `run` cuts the text, fetches audio chunk by chunk over the
chosen transport (in order, optionally several at once), and feeds the sinks as audio
arrives; on any failure the sinks are aborted, so no partial file is left behind.
"""

from __future__ import annotations

import codecs
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from smallest_cli.audio.devices import device_of
from smallest_cli.audio.sinks import open_sinks
from smallest_cli.choices import Transport
from smallest_cli.config import parse_value
from smallest_cli.destinations import Destination, destinations, note_headerless
from smallest_cli.errors import UsageError

if TYPE_CHECKING:
    from concurrent.futures import Future
    from io import BufferedReader

    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.ratelimit import AdaptiveSlots
    from smallest_cli.api.tts import LiveSession, SpeechRequest
    from smallest_cli.api.voices import Voice
    from smallest_cli.audio.formats import AudioFormat
    from smallest_cli.audio.sinks import Sink
    from smallest_cli.commands.tts import SpeechOptions
    from smallest_cli.context import AppContext
    from smallest_cli.words import Word

RETIRED_MODELS = ("lightning", "lightning-large", "lightning-v2")  # 410 (REFERENCE §0.1, §6.5)
WORD_TIMESTAMP_VOICES = ("meher", "devansh", "kartik", "maithili", "liam", "avery")
LIVE_IDLE_TIMEOUT = 600  # seconds the TTS socket may wait for more text (REFERENCE §5)
NOT_READY = ("pending", "processing")  # a clone's statuses before it can speak (§8.2)


@dataclass
class SpeechJob:
    obj: AppContext
    text: str | None
    request: SpeechRequest
    file_output: str | None
    file_format: AudioFormat | None
    stdout_format: AudioFormat | None
    play: bool
    device: str | int | None
    transport: Transport
    concurrency: int
    live: bool
    timestamps: str | None
    timestamps_format: str | None
    words: list[Word] = field(default_factory=list)
    model_flag: bool = False  # --model was given

    # -- resolving and checking the options ---------------------------------------------

    @classmethod
    def build(cls, obj: AppContext, options: SpeechOptions) -> SpeechJob:
        from dataclasses import replace

        request = speech_request(obj, options)
        spoken = _spoken(obj, options)
        timestamps_format = _timestamps_format(options)
        destination = Destination(options.output, options.format_, options.play, options.device)
        file_output, file_format, stdout_format, play = destinations(obj, destination)
        transport = options.transport
        if transport is Transport.AUTO:
            if options.live or options.timestamps:
                transport = Transport.WS
            elif play or stdout_format is not None:
                transport = Transport.SSE
            else:
                transport = Transport.SYNC
        if options.dicts and transport is Transport.WS:
            obj.output.warn(
                "pronunciation dictionaries are not part of the WebSocket protocol; the server may ignore --dict"
            )
        job = cls(
            obj=obj,
            text=spoken,
            request=replace(request, text=spoken or ""),
            file_output=file_output,
            file_format=file_format,
            stdout_format=stdout_format,
            play=play,
            device=device_of(options.device),
            transport=transport,
            concurrency=options.concurrency,
            live=options.live,
            timestamps=options.timestamps,
            timestamps_format=timestamps_format,
            model_flag=options.model is not None,
        )
        job._check_pairing()
        return job

    def _check_pairing(self) -> None:
        """Refuse a voice the catalog puts in the other pool (the API would garble it), and
        --timestamps with a catalog voice that sends none (only the base-queue voices do).

        The catalog is the cached one (fetched once a day); when it cannot be had, the
        check is skipped rather than standing in the way of the speech itself.
        """
        from smallest_cli.errors import APIError
        from smallest_cli.jobs.voice_catalog import known_pools, load_for, refreshed_clone

        try:
            voice_id = self.request.voice_id
            catalog = load_for(self.obj, voice=voice_id)
            voice = catalog.find(voice_id)
            if voice is None and catalog.from_cache and voice_id.startswith("voice_"):
                voice = load_for(self.obj, refresh=True, voice=voice_id).find(
                    voice_id
                )  # a new clone
        except APIError as error:
            if self.obj.debug:
                self.obj.output.debug(f"voice pairing not checked: {error.message}")
            return
        if voice is None:
            return
        if voice.cloned and voice.clone_status in NOT_READY and catalog.from_cache:
            try:  # the cache knew it unfinished; it may be done by now
                voice = refreshed_clone(self.obj, voice.voice_id) or voice
            except APIError:
                pass
        _check_clone_ready(voice)
        if self.timestamps is not None and voice.voice_id not in WORD_TIMESTAMP_VOICES:
            raise UsageError(
                f"the voice {voice.voice_id!r} sends no word timestamps, so --timestamps "
                "would get nothing",
                hint=f"use a voice that has them ({', '.join(WORD_TIMESTAMP_VOICES)}), "
                "or drop --timestamps",
            )
        pools = known_pools(voice)
        if voice.cloned and pools == frozenset():
            raise UsageError(
                f"the clone {voice.voice_id!r} was made for {', '.join(voice.models)}, which "
                "current models cannot speak (the API would send empty audio)",
                hint="clone the voice again: smallest clone create NAME FILE",
            )
        if voice.cloned and pools and self.request.model not in pools and not self._model_given():
            from dataclasses import replace

            self.request = replace(self.request, model=sorted(pools)[0])
            return
        if pools is not None and self.request.model not in pools:
            other = sorted(pools)[0] if pools else "lightning_v3.1"
            raise UsageError(
                f"the voice {self.request.voice_id!r} is not in the {self.request.model} pool; "
                "the API would answer with garbled audio rather than an error",
                hint=f"use --model {other}, or pick another voice (smallest voices list)",
            )

    def _model_given(self) -> bool:
        """Whether --model, SMALLEST_MODEL or the config chose the model (not the default)."""
        return self.model_flag or self.obj.config.resolve("model", None).source != "default"

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        from smallest_cli.audio.sinks import Aligned

        client = self._client()
        sink = Aligned(self._open_sinks())
        try:
            if self.live:
                self._run_live(client, sink)
            else:
                self._run_text(client, sink)
            sink.close()
        except BaseException as error:
            sink.abort()
            _explain_voice(error)
            _explain_dictionaries(error, self.request.pronunciation_dicts)
            raise
        self._write_timestamps()
        note_headerless(self.obj, self.file_output, self.file_format, self.request.sample_rate)

    def _client(self) -> SmallestClient:
        client = self.obj.client()
        if self.concurrency > 1:
            from smallest_cli.api.ratelimit import AdaptiveSlots

            # Above the account's limit the extra requests are answered 429: the workers
            # shrink to the slots there are (and wait for them) rather than fail the text.
            client.slots = AdaptiveSlots(self.concurrency)
        return client

    def _open_sinks(self) -> Sink:
        return open_sinks(
            self.file_output,
            self.file_format,
            self.stdout_format,
            self.play,
            self.device,
            self.request.sample_rate,
        )

    def _run_text(self, client: SmallestClient, sink: Sink) -> None:
        from dataclasses import replace

        from smallest_cli.text import chunks

        assert self.text is not None
        pieces = list(chunks(self.text))
        requests = [replace(self.request, text=piece) for piece in pieces]
        fetch = self._fetcher(client)
        written = 0
        with self.obj.output.progress(len(requests), "Synthesizing") as progress:
            for audio in _in_order(requests, fetch, self.concurrency, client.slots):
                offset = written / 2 / self.request.sample_rate
                for block in audio.pcm:
                    sink.write(block)
                    written += len(block)
                self._keep_words(audio.words, offset)
                progress.advance()
        if written == 0:
            from smallest_cli.errors import APIError

            raise APIError("the API returned no audio", hint="try another voice or --transport")

    def _fetcher(self, client: SmallestClient) -> Callable[[SpeechRequest], Fetched]:
        tts = client.tts
        if self.transport is Transport.SYNC:
            return lambda r: Fetched(iter([tts.synthesize(r)]))
        if self.transport is Transport.SSE:
            return lambda r: Fetched(tts.stream(r))
        return lambda r: _over_websocket(tts.live, r, self.timestamps is not None)

    def _run_live(self, client: SmallestClient, sink: Sink) -> None:
        from smallest_cli.errors import APIError

        session = client.tts.live(
            self.request,
            word_timestamps=self.timestamps is not None,
            idle_timeout=LIVE_IDLE_TIMEOUT,
        )
        with session:
            reader = _StdinFeeder(session)
            reader.start()
            try:
                for event in session.events():
                    if event.audio:
                        sink.write(event.audio)
                    if event.word is not None:
                        self._keep_words([event.word], 0.0)
            except APIError:
                reader.raise_error()  # the reader's failure is why the session ended
                raise
            reader.raise_error()

    def _keep_words(self, words: list[Word], offset: float) -> None:
        self.words.extend(w.shifted(offset) for w in words)

    def _write_timestamps(self) -> None:
        if self.timestamps is None or self.timestamps_format is None:
            return
        if not self.words:
            supported = ", ".join(WORD_TIMESTAMP_VOICES)
            self.obj.output.warn(
                f"the voice {self.request.voice_id!r} sent no word timestamps, so {self.timestamps} was not "
                f"written (voices with timestamps: {supported})"
            )
            return
        from smallest_cli.files import write_output
        from smallest_cli.subtitles import render

        write_output(self.timestamps, render(self.words, self.timestamps_format))


# -- fetching audio ---------------------------------------------------------------------


@dataclass
class Fetched:
    """One chunk's audio (PCM blocks, possibly still arriving) and its word timings."""

    pcm: Iterator[bytes]
    words: list[Any] = field(default_factory=list)


def _in_order(
    requests: list[SpeechRequest],
    fetch: Callable[[SpeechRequest], Fetched],
    concurrency: int,
    slots: AdaptiveSlots | None = None,
) -> Iterator[Fetched]:
    """Each request's audio in order; with concurrency > 1, later ones are fetched meanwhile,
    as many at once as `slots` allows."""
    if concurrency <= 1:
        for request in requests:
            yield fetch(request)
        return

    def complete(request: SpeechRequest) -> Fetched:
        if slots is not None:
            slots.acquire()
        succeeded = False
        try:
            fetched = fetch(request)
            result = Fetched(iter(list(fetched.pcm)), fetched.words)
            succeeded = True
            return result
        finally:
            if slots is not None:
                slots.release(succeeded)

    pending: list[Future[Fetched]] = []
    try:
        for request in requests:
            pending.append(_in_background(complete, request))
            if len(pending) >= concurrency:
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
    finally:
        for future in pending:
            future.cancel()


def _in_background(
    work: Callable[[SpeechRequest], Fetched], request: SpeechRequest
) -> Future[Fetched]:
    """`work(request)` in a daemon thread: on Ctrl-C the command ends at once, abandoning the
    chunks still in flight instead of waiting for them (as a thread pool would)."""
    from concurrent.futures import Future

    future: Future[Fetched] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work(request))
        except BaseException as error:  # handed to the thread that waits on the future
            future.set_exception(error)

    threading.Thread(target=run, name="tts", daemon=True).start()
    return future


def _check_clone_ready(voice: Voice) -> None:
    """Refuse a clone that cannot speak yet (or ever): the API would only say "Invalid
    Voice ID" (REFERENCE §8.2)."""
    from smallest_cli.errors import APIError

    if not voice.cloned or voice.clone_status is None:
        return
    if voice.clone_status in NOT_READY:
        raise APIError(
            f"the clone {voice.voice_id!r} is still {voice.clone_status}; it speaks once completed",
            hint=f"`smallest clone show {voice.voice_id}` says when it is ready",
        )
    if voice.clone_status == "failed":
        raise UsageError(
            f"the clone {voice.voice_id!r} failed, so it cannot speak",
            hint="clone it again from 5–15 s of one person speaking clearly: "
            "smallest clone create NAME FILE",
        )


def _explain_voice(error: BaseException) -> None:
    """Point to the voice ids when the API refused the voice (over any transport)."""
    from smallest_cli.errors import APIError

    if isinstance(error, APIError) and "voice_id" in str(error):
        error.explain("see `smallest voices list` for the voice ids")


def _explain_dictionaries(error: BaseException, dictionaries: tuple[str, ...]) -> None:
    """An unknown dictionary id answers 400 `Invalid input data` (REFERENCE §0.4)."""
    from smallest_cli.errors import BadRequestError

    if dictionaries and isinstance(error, BadRequestError):
        error.explain("is every --dict id still there? `smallest dict list` shows them")


def _over_websocket(
    open_session: Callable[..., LiveSession], request: SpeechRequest, word_timestamps: bool
) -> Fetched:
    fetched = Fetched(iter(()))

    def audio() -> Iterator[bytes]:
        with open_session(request, word_timestamps=word_timestamps) as session:
            session.say(request.text)
            for event in session.events():
                if event.audio:
                    yield event.audio
                if event.word is not None:
                    fetched.words.append(event.word)

    fetched.pcm = audio()
    return fetched


def _arrived_reader() -> Callable[[], bytes]:
    """A function reading what has arrived on stdin, without waiting for more. On a real
    file descriptor it is os.read, which holds no lock of the interpreter's, so a failing
    command can exit while the reader thread still waits for input."""
    try:
        descriptor = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # a stand-in stream (io.UnsupportedOperation)
        return cast("BufferedReader", sys.stdin.buffer).read1
    return lambda: os.read(descriptor, 4096)


class _StdinFeeder(threading.Thread):
    """Reads stdin as it arrives and sends it to the TTS socket, flushing at sentence ends."""

    def __init__(self, session: LiveSession) -> None:
        super().__init__(name="stdin-feeder", daemon=True)
        self.session = session
        self.error: BaseException | None = None

    def run(self) -> None:
        from smallest_cli.text import sentence_complete

        decoder = codecs.getincrementaldecoder("utf-8")()
        pending = ""
        try:
            read = _arrived_reader()
            while True:
                data = read()
                try:
                    pending += decoder.decode(data, final=not data)
                except UnicodeDecodeError:
                    raise UsageError("stdin is not UTF-8 text") from None
                if pending.strip():
                    flush = sentence_complete(pending)
                    self.session.send(pending, flush=flush)
                    pending = ""
                if not data:
                    break
            self.session.finish()
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            self.session.close()

    def raise_error(self) -> None:
        self.join(timeout=1)
        if self.error is not None:
            raise self.error


# -- option helpers ---------------------------------------------------------------------


def speech_request(obj: AppContext, options: SpeechOptions) -> SpeechRequest:
    """The request (without its text), every setting resolved (flag > env > config >
    default) and checked before anything is sent."""
    from smallest_cli.api.tts import SpeechRequest
    from smallest_cli.jobs.dicts import resolve_ids

    voice = obj.setting("voice", _checked("voice", options.voice, "--voice"))
    model = options.model
    if model is not None and model.lower().replace("_", "-") in RETIRED_MODELS:
        raise UsageError(
            f"{model} is retired: the API answers 410 Gone for it",
            hint="use --model lightning_v3.1 (or lightning_v3.1_pro)",
        )
    model_name = obj.setting("model", _checked("model", model, "--model"))
    rate = None if options.sample_rate is None else str(options.sample_rate)
    return SpeechRequest(
        text="",
        voice_id=voice,
        model=model_name,
        sample_rate=obj.setting("sample_rate", _checked("sample_rate", rate, "--sample-rate")),
        speed=options.speed,
        language=_language(obj, _checked("language", options.language, "--language"), model_name),
        number_language=_checked("language", options.number_language, "--number-language"),
        math_notation=options.math,
        pronunciation_dicts=resolve_ids(obj, options.dicts),
        session_id=options.session_id,
        request_id=options.request_id,
        expire_content=options.expire_content,
    )


def _over_http(options: SpeechOptions) -> bool:
    return options.transport in (Transport.SYNC, Transport.SSE)


def _spoken(obj: AppContext, options: SpeechOptions) -> str | None:
    """The text to speak (None with --live: it comes from stdin as it arrives)."""
    if not options.live:
        from smallest_cli.text import read_text, require_words

        return require_words(read_text(options.text, options.file, obj.output.stdin_isatty))
    if options.text is not None or options.file is not None:
        raise UsageError(
            "--live reads the text from stdin as it arrives",
            hint="drop the TEXT argument and --file",
        )
    if _over_http(options):
        raise UsageError(
            "--live needs the WebSocket transport", hint="drop --transport or use --transport ws"
        )
    return None


def _timestamps_format(options: SpeechOptions) -> str | None:
    """The subtitle format of --timestamps FILE (which needs the WebSocket)."""
    if options.timestamps is None:
        return None
    from smallest_cli.subtitles import subtitle_format

    fmt = subtitle_format(options.timestamps)
    if _over_http(options):
        raise UsageError(
            "word timestamps only come over the WebSocket",
            hint="drop --transport or use --transport ws",
        )
    from smallest_cli.files import check_output

    check_output(options.timestamps, flag="--timestamps")
    return fmt


def _checked(name: str, value: str | None, flag: str) -> Any:
    return None if value is None else parse_value(name, value, f"{flag} {value!r}")


def _language(obj: AppContext, flag: str | None, model: str) -> str:
    """The language setting, refused before any request when the model does not speak it
    (the API would answer 400, REFERENCE §0.3)."""
    from smallest_cli.api.constants import TTS_MODEL_LANGUAGES

    resolved = obj.config.resolve("language", flag)
    language = str(resolved.value)
    if language == "auto" or language in TTS_MODEL_LANGUAGES[model]:
        return language
    where = f"--language {language}" if resolved.source == "flag" else obj.config.describe(resolved)
    others = [m for m, codes in TTS_MODEL_LANGUAGES.items() if language in codes]
    raise UsageError(
        f"{where}: {model} does not speak {language!r}",
        hint=f"use --model {others[0]}" if others else None,
    )
