"""What `smallest stt transcribe` does, between parsing the options and the API client.

`TranscribeJob.build` resolves every option (flag > env > config > default), refuses bad
combinations and checks every local source (exists, readable, not empty, at most 250 MB)
before anything is sent. `run` transcribes the sources, several at once but never faster
than the per-model request rate allows, and hands each result to its destination:

* `-o FILE` (one source): the file, written atomically; `-o -` or nothing: stdout;
* `--output-dir DIR`: one file per source named after it (`talk.wav` → `DIR/talk.srt`),
  each written atomically as soon as its transcript arrives;
* stdout with several sources: in the order given, a `==> name <==` header before each
  (like `head`), or one JSON document per line (NDJSON) for `--format json`.

A source that fails does not stop the others: each failure is reported on stderr as it
happens and the command exits non-zero at the end (1, or 2 when every failure was a bad
input file). A rejected key (401/403) stops the batch at once, since every other request
would be rejected too.
"""

from __future__ import annotations

import itertools
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from smallest_cli.choices import Route, redactions
from smallest_cli.config import parse_value
from smallest_cli.errors import APIStatusError, ExitCode, SmallestError, UsageError

if TYPE_CHECKING:
    from smallest_cli.api.client import SmallestClient
    from smallest_cli.api.stt import Audio, Result, TranscriptionOptions
    from smallest_cli.audio.formats import StreamFormat
    from smallest_cli.commands.stt import TranscribeOptions
    from smallest_cli.context import AppContext
    from smallest_cli.output import Progress

SUFFIXES = {"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt", "tsv": ".tsv"}
UPLOAD_BAR_BYTES = 16 * 1024 * 1024
RATE_LIMIT_ROUNDS = 2  # times a source waits out a 429 before it counts as failed  # a single upload at least this big gets a byte bar
EXTRA_PATTERN = re.compile(r"^[^:,\s]+:[^,]*$")


class BatchFailed(SmallestError):
    """Some sources of a batch failed (each was reported as it happened)."""

    def __init__(self, failed: int, total: int, exit_code: ExitCode) -> None:
        super().__init__(f"{failed} of {total} sources failed")
        self.exit_code = exit_code


@dataclass
class Source:
    """One thing to transcribe, as the user named it."""

    given: str
    audio: Audio | None = None
    problem: SmallestError | None = None
    target: Path | None = None  # where its transcript goes with --output-dir
    skip: bool = False  # --skip-existing found its transcript already there

    @property
    def name(self) -> str:
        return "stdin" if self.given == "-" else self.given

    @property
    def stem(self) -> str:
        """The base name for its transcript file."""
        if self.given == "-":
            return "stdin"
        if _is_url(self.given):
            from urllib.parse import unquote, urlsplit

            last = unquote(urlsplit(self.given).path.rstrip("/").rsplit("/", 1)[-1])
            return Path(last).stem or urlsplit(self.given).hostname or "transcript"
        return Path(self.given).stem or "transcript"


@dataclass
class Outcome:
    index: int
    result: Result | None = None
    error: BaseException | None = None


@dataclass
class TranscribeJob:
    obj: AppContext
    sources: list[Source]
    options: TranscriptionOptions
    route: Route
    format: str
    output: str | None
    output_dir: Path | None
    max_line_chars: int
    max_cue_seconds: float
    concurrency: int
    max_rpm: int
    wait: float
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    printed: int = 0  # transcripts written to stdout so far

    # -- resolving and checking the options ---------------------------------------------

    @classmethod
    def build(cls, obj: AppContext, options: TranscribeOptions) -> TranscribeJob:
        from dataclasses import replace

        from smallest_cli.transcript import TIMED_FORMATS

        asked_format = _asked_format(options)
        if not options.sources:
            raise UsageError(
                "nothing to transcribe",
                hint="give audio files, http(s) URLs, or `-` for stdin",
            )
        request = transcription_request(obj, options)
        fmt = _destination_format(options, asked_format)
        if fmt in TIMED_FORMATS:
            request = replace(request, word_timestamps=True)
        raw = _Raw.check(options.encoding, options.sample_rate)
        job = cls(
            obj=obj,
            sources=_sources(obj, options.sources, request.model, raw),
            options=request,
            route=options.route,
            format=fmt,
            output=options.output,
            output_dir=Path(options.output_dir) if options.output_dir is not None else None,
            max_line_chars=options.max_line_chars,
            max_cue_seconds=options.max_cue_seconds,
            concurrency=options.concurrency,
            max_rpm=options.max_rpm,
            wait=_wait(obj, options.wait),
        )
        job._check_destinations(force=options.force, skip_existing=options.skip_existing)
        if len(job.sources) == 1 and job.sources[0].problem is not None:
            raise job.sources[0].problem
        return job

    def _check_destinations(self, *, force: bool, skip_existing: bool) -> None:
        if force and skip_existing:
            raise UsageError("give either --force or --skip-existing, not both")
        from smallest_cli.files import check_output, check_output_dir

        if self.output not in (None, "-"):
            assert self.output is not None
            check_output(self.output)
            return
        if self.output_dir is None:
            return
        check_output_dir(self.output_dir)
        suffix = SUFFIXES[self.format]
        claimed: dict[Path, Source] = {}
        existing: list[Path] = []
        for source in self.sources:
            target = self.output_dir / (source.stem + suffix)
            if target in claimed:
                raise UsageError(
                    f"{claimed[target].name} and {source.name} would both be written to {target}",
                    hint="transcribe them into different --output-dir folders",
                )
            claimed[target] = source
            source.target = target
            if target.exists() and source.problem is None:
                if skip_existing:
                    source.skip = True
                elif not force:
                    existing.append(target)
        if existing:
            shown = ", ".join(str(p) for p in existing[:3]) + (" …" if len(existing) > 3 else "")
            raise UsageError(
                f"{len(existing)} transcript(s) already exist: {shown}",
                hint="add --force to overwrite them, or --skip-existing to keep them and do the rest",
            )

    # -- running ------------------------------------------------------------------------

    def run(self) -> None:
        output = self.obj.output
        pending = [i for i, s in enumerate(self.sources) if s.problem is None and not s.skip]
        for index, source in enumerate(self.sources):
            if source.problem is not None:
                self.outcomes[index] = Outcome(index, error=source.problem)
                if len(self.sources) > 1:
                    self.obj.report(source.problem, source=source.name)
            elif source.skip:
                output.info(f"Skipped {source.name}: {source.target} exists")
        if self.output_dir is not None and pending:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        if pending:
            self._transcribe(pending)
        self._finish()

    def _transcribe(self, pending: list[int]) -> None:
        client = self.obj.client()
        call = self._caller(client)
        results: queue.Queue[Outcome] = queue.Queue()
        work: queue.Queue[int] = queue.Queue()
        for index in pending:
            work.put(index)
        stop = threading.Event()
        upload_bar = self._upload_bar(pending)
        on_progress = None
        if upload_bar is not None:
            bar = upload_bar

            def on_progress(sent: int, _total: int | None) -> None:
                bar.update(sent)

        def worker() -> None:
            while not stop.is_set():
                try:
                    index = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcome = Outcome(index, result=call(self.sources[index], on_progress))
                except BaseException as error:  # handed to the main thread
                    outcome = Outcome(index, error=error)
                    if _fatal(error):
                        stop.set()  # start nothing more: it would fail the same way
                results.put(outcome)

        # Daemon threads: Ctrl-C returns at once instead of waiting for uploads in flight.
        # They only fetch; every file and every line of output is written here.
        threads = [
            threading.Thread(target=worker, name=f"stt-{n}", daemon=True)
            for n in range(min(self.concurrency, len(pending)))
        ]
        progress = upload_bar or self.obj.output.progress(len(pending), "Transcribing")
        with progress:
            for thread in threads:
                thread.start()
            try:
                self._collect(results, len(pending), progress, upload_bar is None)
            finally:
                stop.set()

    def _upload_bar(self, pending: list[int]) -> Progress | None:
        from smallest_cli.api.stt import AudioFile

        if len(pending) != 1:
            return None
        audio = self.sources[pending[0]].audio
        if not isinstance(audio, AudioFile) or audio.size < UPLOAD_BAR_BYTES:
            return None
        output = self.obj.output
        if output.quiet or not output.stderr_isatty:
            return None
        return output.transfer(audio.size, f"Uploading {audio.path.name}")

    def _caller(self, client: SmallestClient) -> Callable[[Source, Any], Result]:
        from smallest_cli.api import ratelimit
        from smallest_cli.api.stt import AudioStream
        from smallest_cli.errors import RateLimitError

        limiter = None
        if self.max_rpm > 0:
            limiter = ratelimit.RateLimiter(
                self.max_rpm, window=ratelimit.WINDOW_SECONDS, on_wait=self._note_wait
            )

        def call(source: Source, on_progress: Any) -> Result:
            assert source.audio is not None
            for round_ in itertools.count():
                try:
                    return client.stt.transcribe(
                        source.audio,
                        self.options,
                        route=self.route,
                        source=source.given,
                        on_progress=on_progress,
                        before_attempt=limiter.acquire if limiter is not None else None,
                        wait=self.wait,
                    )
                except RateLimitError as error:
                    # The client's quick retries did not outlast the API's per-minute window
                    # (someone else is using the key): wait a whole window, then once more.
                    if (
                        limiter is None
                        or round_ >= RATE_LIMIT_ROUNDS
                        or isinstance(source.audio, AudioStream)
                    ):
                        raise _explained(error, self) from None
                    self.obj.output.info(
                        f"{source.name}: the API's per-minute limit was reached "
                        "(another client on this key?)"
                    )
                    limiter.saturate()
                except SmallestError as error:
                    raise _explained(error, self) from None
            raise AssertionError("unreachable")  # pragma: no cover

        return call

    def _note_wait(self, seconds: float) -> None:
        self.obj.output.info(
            f"Pausing {seconds:.0f} s to stay within {self.max_rpm} requests a minute (--max-rpm)"
        )

    def _collect(
        self, results: queue.Queue[Outcome], count: int, progress: Progress, advance: bool
    ) -> None:
        next_to_print = 0
        order = [i for i, s in enumerate(self.sources) if s.problem is None and not s.skip]
        for _ in range(count):
            while True:
                try:
                    outcome = results.get(timeout=0.2)
                    break
                except queue.Empty:
                    continue
            if isinstance(outcome.error, KeyboardInterrupt | SystemExit):
                raise outcome.error
            self.outcomes[outcome.index] = outcome
            if advance:
                progress.advance()
            if outcome.error is not None and _fatal(outcome.error):
                raise outcome.error
            if self._to_stdout:
                while next_to_print < len(order) and order[next_to_print] in self.outcomes:
                    self._deliver(self.outcomes[order[next_to_print]])
                    next_to_print += 1
            else:
                self._deliver(outcome)

    @property
    def _to_stdout(self) -> bool:
        return self.output_dir is None and self.output in (None, "-")

    def _deliver(self, outcome: Outcome) -> None:
        from smallest_cli.api.stt import Accepted

        source = self.sources[outcome.index]
        output = self.obj.output
        if outcome.error is not None:
            if len(self.sources) > 1:
                self.obj.report(outcome.error, source=source.name)
            return
        result = outcome.result
        assert result is not None
        if isinstance(result, Accepted):
            self._print_accepted(source, result)
            return
        if result.content_expiry in ("not-entitled", "unavailable"):
            output.warn(
                f"{source.name}: content expiry was not applied ({result.content_expiry}); "
                "the transcript is kept as usual"
            )
        several = len(self.sources) > 1
        if self._to_stdout and self.format == "json" and several:
            import json

            output.data(json.dumps(result.to_json(), ensure_ascii=False))
            return
        text = result.render(
            self.format, max_line_chars=self.max_line_chars, max_cue_seconds=self.max_cue_seconds
        )
        if self._to_stdout:
            if several:
                output.write(("\n" if self.printed else "") + f"==> {source.name} <==\n")
            output.write(text)
            self.printed += 1
            return
        from smallest_cli.files import write_output

        target = source.target if self.output_dir is not None else Path(str(self.output))
        assert target is not None
        try:
            write_output(target, text)
        except SmallestError as error:
            if not several:
                raise error from None
            outcome.error = error  # the transcript is lost: this source failed
            self.obj.report(error, source=source.name)
            return
        if several or self.output_dir is not None:
            output.info(f"Wrote {target}")

    def _print_accepted(self, source: Source, accepted: Any) -> None:
        import json

        output = self.obj.output
        several = len(self.sources) > 1
        if self.format == "json":
            document = accepted.to_json()
            output.data(
                json.dumps(document, ensure_ascii=False)
                if several
                else json.dumps(document, indent=2, ensure_ascii=False)
            )
        else:
            output.data(
                f"{accepted.request_id}\t{source.name}" if several else str(accepted.request_id)
            )
        if not several:
            output.info("Accepted: the transcript will be delivered to the webhook.")

    def _finish(self) -> None:
        failures = [o for o in self.outcomes.values() if o.error is not None]
        if not failures:
            if len(self.sources) > 1:
                done = sum(1 for s in self.sources if not s.skip)
                verb = "Submitted" if self.options.webhook_url else "Transcribed"
                self.obj.output.info(f"{verb} {done} of {len(self.sources)} sources.")
            return
        if len(self.sources) == 1:
            error = failures[0].error
            assert error is not None
            raise error
        codes = {_exit_code(o.error) for o in failures}
        code = codes.pop() if len(codes) == 1 else ExitCode.ERROR
        raise BatchFailed(len(failures), len(self.sources), code)


# -- sources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """--encoding and --sample-rate as given: how to send headerless audio."""

    encoding: str | None
    sample_rate: int | None

    @classmethod
    def check(cls, encoding: str | None, sample_rate: int | None) -> _Raw:
        from smallest_cli.audio.formats import ENCODING_ALIASES, ENCODINGS

        if encoding is not None:
            encoding = ENCODING_ALIASES.get(encoding.lower(), encoding.lower())
            if encoding not in ENCODINGS:
                raise UsageError(
                    f"invalid --encoding {encoding!r}",
                    hint="headerless audio is linear16, linear32, mulaw or alaw",
                )
        return cls(encoding, sample_rate)

    def for_file(self, obj: AppContext, path: str) -> StreamFormat | None:
        """How to send the file at `path`: None when it has a header the API reads itself.

        The check `stt live` makes too (`probe_file`); a UsageError says what is wrong.
        Headerless audio goes up inside a WAV header, so its rate must be right before the
        upload (REFERENCE §0.5: the API reads only the container).
        """
        from smallest_cli.audio.probe import probe_file
        from smallest_cli.audio.sources import ENCODING_IGNORED

        probe = probe_file(path, encoding=self.encoding, rate=self.sample_rate)
        if probe.encoding_ignored:
            obj.output.warn(ENCODING_IGNORED.format(path=path))
        if probe.raw is not None and self.encoding is None:
            self._note(obj, path, probe.raw)
        return probe.raw

    def for_stdin(self, obj: AppContext, stream: BinaryIO) -> tuple[BinaryIO, StreamFormat | None]:
        """stdin, its first bytes judged as `stt live` judges them (`probe_head`) and put
        back, and how to send it (None: it has a header the API reads itself)."""
        from smallest_cli.audio.probe import HEAD_BYTES, probe_head
        from smallest_cli.files import replay

        head = stream.read(HEAD_BYTES if self.encoding is None else 1)
        probe = probe_head(head, encoding=self.encoding, rate=self.sample_rate)
        if probe.raw is not None and self.encoding is None:
            self._note(obj, "stdin", probe.raw)
        return replay(head, stream), probe.raw

    @staticmethod
    def _note(obj: AppContext, name: str, fmt: StreamFormat) -> None:
        obj.output.info(
            f"{name} has no header: sending it as {fmt.encoding} at {fmt.sample_rate} Hz"
        )


def _sources(obj: AppContext, given: list[str], model: str, raw: _Raw) -> list[Source]:
    from dataclasses import replace

    from smallest_cli.api.stt import AudioFile, AudioStream, AudioURL
    from smallest_cli.audio.formats import RateUnknown
    from smallest_cli.files import stdin_bytes

    if given.count("-") > 1:
        raise UsageError("stdin (`-`) can be given only once")
    sources = []
    for argument in given:
        source = Source(argument)
        if argument == "-":
            if obj.output.stdin_isatty:
                raise UsageError(
                    "`-` reads audio from stdin, but stdin is a terminal",
                    hint="pipe audio in: smallest tts say hi | smallest stt transcribe -",
                )
            reader, headerless = raw.for_stdin(obj, stdin_bytes())
            source.audio = AudioStream(reader, raw=headerless)
        elif _is_url(argument):
            if model == "pulse-pro":
                raise UsageError(
                    "pulse-pro cannot fetch audio from a URL",
                    hint="use --model pulse for URLs, or download the file and give its path",
                )
            source.audio = AudioURL(argument)
        else:
            try:
                audio = AudioFile.open(argument)  # the API's size limit first
                source.audio = replace(audio, raw=raw.for_file(obj, argument))
            except RateUnknown:
                raise  # every headerless input lacks it: stop the whole command
            except UsageError as problem:
                if "://" in argument and not argument.startswith(("http://", "https://")):
                    problem.hint = "only http:// and https:// URLs can be fetched by the API"
                source.problem = problem
        sources.append(source)
    return sources


def _wait(obj: AppContext, wait: float | None) -> float:
    """How long to wait for a transcript: --wait, else --timeout (which bounds every wait
    when given), else the API's 10-minute session limit."""
    from smallest_cli.api.stt import TRANSCRIPT_WAIT

    if wait is not None:
        return wait
    return obj.timeout if obj.timeout is not None else TRANSCRIPT_WAIT


def _is_url(argument: str) -> bool:
    return argument.startswith(("http://", "https://"))


def transcription_request(obj: AppContext, options: TranscribeOptions) -> TranscriptionOptions:
    """What to ask the API for, every setting resolved (flag > env > config > default) and
    checked against what the route and the model can do (REFERENCE §10.1–§10.4)."""
    from smallest_cli.api.stt import TranscriptionOptions

    model = obj.setting("stt_model", _checked("stt_model", options.model, "--model"))
    language = _language(obj, options.language)
    pii, pci = redactions(options.redact or ())
    _check_capabilities(obj, options, model, language)
    _check_webhook(options, model)
    return TranscriptionOptions(
        language=language,
        model=model,
        word_timestamps=options.word_timestamps or options.diarize,
        diarize=options.diarize,
        redact_pii=pii,
        redact_pci=pci,
        emotions=options.emotions,
        gender=options.gender,
        webhook_url=options.webhook,
        webhook_extra=tuple(options.webhook_extra or ()),
        expire_content=options.expire_content,
    )


def _check_capabilities(
    obj: AppContext, options: TranscribeOptions, model: str, language: str
) -> None:
    """Refuse what the chosen route or model cannot do, before anything is sent."""
    if options.route is Route.LEGACY:
        lacking = [
            ("--model pulse-pro", model == "pulse-pro"),
            ("--redact", bool(options.redact)),
            ("--expire-content", options.expire_content),
            ("--webhook", options.webhook is not None),
        ]
        for flag, given in lacking:
            if given:
                raise UsageError(
                    f"the legacy route (POST /waves/v1/pulse/get_text) has no {flag}",
                    hint="drop it, or use the current route (drop --route legacy)",
                )
    if model == "pulse-pro":
        if language != "en":
            raise UsageError(
                f"pulse-pro transcribes English only, not {language!r}",
                hint="use --language en, or --model pulse for other languages",
            )
        if options.gender:
            raise UsageError(
                "--gender works with Pulse only (pre-recorded)",
                hint="use --model pulse, or drop --gender",
            )
        if options.diarize:
            obj.output.warn("pulse-pro does not diarize (per the API); expect no speakers")


def _check_webhook(options: TranscribeOptions, model: str) -> None:
    if options.webhook is not None and model != "pulse-pro":
        raise UsageError(
            "asynchronous transcription (--webhook) is Pulse Pro only",
            hint="add --model pulse-pro (English only), or drop --webhook",
        )
    for pair in options.webhook_extra or ():
        if options.webhook is None:
            raise UsageError("--webhook-extra goes with --webhook")
        if not EXTRA_PATTERN.match(pair):
            raise UsageError(
                f"invalid --webhook-extra {pair!r}",
                hint="give key:value (no commas), e.g. --webhook-extra ticket:123",
            )


def _asked_format(options: TranscribeOptions) -> str | None:
    """--format, or json for --json (refused when they disagree)."""
    if not options.as_json:
        return options.format_
    if options.format_ not in (None, "json"):
        raise UsageError("--json and --format disagree", hint="give one of them")
    return "json"


def _destination_format(options: TranscribeOptions, asked: str | None) -> str:
    """The transcript format, once -o, --output-dir and --webhook are known to fit together."""
    from smallest_cli.transcript import transcript_format

    output, output_dir = options.output, options.output_dir
    if output is not None and output_dir is not None:
        raise UsageError("give either -o FILE or --output-dir DIR, not both")
    to_file = output not in (None, "-")
    fmt = transcript_format(asked, output if to_file and output_dir is None else None)
    if options.webhook is not None:
        if to_file or output_dir is not None:
            raise UsageError(
                "with --webhook the transcript goes to the webhook; only the request id is printed",
                hint="drop -o / --output-dir",
            )
        if fmt not in ("text", "json"):
            raise UsageError(
                f"with --webhook there is no transcript to write as {fmt}",
                hint="use --format text (the request id) or json",
            )
    if to_file and len(options.sources or ()) > 1:
        raise UsageError(
            "-o FILE takes one source",
            hint="use --output-dir DIR for a file per source, or -o - for stdout",
        )
    return fmt


def _language(obj: AppContext, flag: str | None) -> str:
    """--language, else the stt_language setting, checked against the pre-recorded list."""
    from smallest_cli.api.constants import STT_LANGUAGES, STT_STREAMING_LANGUAGES

    resolved = obj.config.resolve("stt_language", flag)
    value, where = str(resolved.value), obj.config.describe(resolved, flag="--language")
    if value in STT_LANGUAGES:
        return value
    hint = "recordings can be in " + ", ".join(STT_LANGUAGES)
    if value not in STT_STREAMING_LANGUAGES:
        raise UsageError(f"invalid {where}", hint=hint)
    if value == "north_indic":
        hint = "for recordings use multi-indic (en, hi, gu, mr, bn, or)"
    raise UsageError(f"{where} is for live transcription only (stt live)", hint=hint)


def _checked(name: str, value: str | None, flag: str) -> Any:
    return None if value is None else parse_value(name, value, f"{flag} {value!r}")


# -- failures ---------------------------------------------------------------------------


def _explained(error: SmallestError, job: TranscribeJob) -> SmallestError:
    """The error with a hint for the failures that are specific to transcription."""
    if isinstance(error, APIStatusError):
        error.explain(_transcription_hint(error, job))
    return error


def _transcription_hint(error: APIStatusError, job: TranscribeJob) -> str | None:
    from smallest_cli.api.stt import TOO_LARGE_HINT
    from smallest_cli.errors import BadRequestError, NotFoundError, PermissionDeniedError

    said = f"{error.message} {error.code or ''} {' '.join(error.details)}".lower()
    if error.status_code == 413 or "too large" in said or "exceeds maximum" in said:
        return TOO_LARGE_HINT
    if "not_enabled_in_region" in said or "not been enabled in this region" in said:
        return (
            f"--language {job.options.language} is served only in some regions (multi-indic "
            "in India, multi-asian in the US); ask support to enable it, or choose another "
            "--language"
        )
    if isinstance(error, PermissionDeniedError) and job.options.model == "pulse-pro":
        return "the key's plan may not include pulse-pro; try --model pulse"
    if isinstance(error, NotFoundError) and job.route is Route.CURRENT:
        return "this server may not have the current route yet; try --route legacy"
    if isinstance(error, BadRequestError) and ("download" in said or "'url'" in said):
        return (
            "the API fetches the URL itself: it must be public http(s); "
            "or download the file and give its path"
        )
    if isinstance(error, BadRequestError) and "format" in said:
        return "send WAV, MP3, FLAC, OGG, M4A or WebM audio (mono)"
    return None


def _fatal(error: BaseException) -> bool:
    """Errors that every other source of the batch would hit too."""
    from smallest_cli.errors import AuthenticationError, AuthError, PermissionDeniedError

    return isinstance(error, AuthError | AuthenticationError | PermissionDeniedError)


def _exit_code(error: BaseException | None) -> ExitCode:
    return error.exit_code if isinstance(error, SmallestError) else ExitCode.ERROR
