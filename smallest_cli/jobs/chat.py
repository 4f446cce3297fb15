"""`smallest chat`: one exchange with Electron, or a conversation continued from the history.

A `ChatSession` holds what a conversation is (its system prompt, its messages, where it is
stored) and `ask` runs one exchange: the request fitted into Electron's window, the reply
streamed to stdout as it arrives (or printed whole), the exchange stored. The one-shot
command and the REPL (jobs/chat_repl.py) both use it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from smallest_cli.errors import APIError, PermissionDeniedError, SmallestError, UsageError
from smallest_cli.history import History, Message

if TYPE_CHECKING:
    from smallest_cli.api.chat import ChatAPI
    from smallest_cli.context import AppContext
    from smallest_cli.jobs.chat_voice import ChatVoice, VoiceOptions

CONTEXT_TOKENS = 32_768  # Electron's window, prompt and reply together (REFERENCE §11)
MAX_MESSAGES = 200
REPLY_RESERVE = 1_024  # tokens kept free for the reply when --max-tokens does not say
MAX_STOPS = 4
PLAN_HINT = (
    "this key's plan does not include Electron (the LLM); check the plan at "
    "https://app.smallest.ai, or use a key whose plan has it"
)
OVERFLOW_HINT = (
    "the conversation no longer fits Electron's 32,768-token window: start a new one "
    "(leave out -c/--cid), shorten the input, or lower --max-tokens"
)


@dataclass(frozen=True)
class Sampling:
    """The request fields besides the messages, as the user set them."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_object: bool = False
    usage: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens", "seed"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.stop:
            body["stop"] = list(self.stop)
        if self.json_object:
            body["response_format"] = {"type": "json_object"}
        return body


@dataclass
class Reply:
    content: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None


def estimate_tokens(message: dict[str, str]) -> int:
    """A generous guess of a message's tokens (about 3 bytes a token, and the framing):
    no tokenizer ships with the CLI, and guessing high keeps a request inside the window."""
    return len(message["content"].encode("utf-8")) // 3 + 4


def fit(messages: list[dict[str, str]], reply_tokens: int) -> tuple[list[dict[str, str]], int]:
    """`messages` with the oldest turns left out until they fit Electron's limits, and how
    many were left out. System messages and the last message always stay."""
    budget = CONTEXT_TOKENS - reply_tokens
    kept = list(messages)
    dropped = 0

    def too_big() -> bool:
        return len(kept) > MAX_MESSAGES or sum(map(estimate_tokens, kept)) > budget

    while too_big():
        oldest = next(
            (i for i, m in enumerate(kept[:-1]) if m["role"] != "system"),
            None,
        )
        if oldest is None:
            break
        del kept[oldest]
        dropped += 1
        # a conversation resumes at a user's turn, not at a reply to a question left out
        while oldest < len(kept) - 1 and kept[oldest]["role"] not in ("user", "system"):
            del kept[oldest]
            dropped += 1
    return kept, dropped


@dataclass
class ChatSession:
    """One conversation: its system prompt, its messages, and where they are stored."""

    obj: AppContext
    sampling: Sampling
    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    history: History | None = None  # None: nothing is stored (--no-log)
    conversation_id: str | None = None
    as_json: bool = False
    stream: bool = True
    title: str | None = None  # names the conversation when it is first stored
    _api: ChatAPI | None = None
    listeners: list[Callable[[str], None]] = field(default_factory=list)  # reply text as it comes

    @property
    def api(self) -> ChatAPI:
        if self._api is None:
            self._api = self.obj.client().chat
        return self._api

    def wire_messages(self, prompt: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages += [m.wire() for m in self.messages if m.role != "system"]
        messages.append({"role": "user", "content": prompt})
        reply_tokens = self.sampling.max_tokens or REPLY_RESERVE
        fitted, dropped = fit(messages, reply_tokens)
        if dropped:
            self.obj.output.warn(
                f"the conversation is longer than Electron's window ({CONTEXT_TOKENS:,} tokens, "
                f"{MAX_MESSAGES} messages): its {dropped} oldest messages are left out of this "
                "request (they stay in the history)"
            )
        return fitted

    def ask(self, prompt: str) -> Reply:
        """Send `prompt` with the conversation so far; show and store the reply.

        A reply cut short (the stream broke, Ctrl-C) is shown and stored as far as it
        arrived, then the error (or the interruption) goes on up."""
        body: dict[str, Any] = {
            "model": "electron",
            "messages": self.wire_messages(prompt),
            **self.sampling.body(),
        }
        reply = Reply()
        try:
            with chat_hints():
                if self.stream:
                    self._stream(body, reply)
                else:
                    self._complete(body, reply)
        except (SmallestError, KeyboardInterrupt):
            if reply.content:
                self._end_line(reply)
                self._remember(prompt, reply)
            raise
        self._end_line(reply)
        self._remember(prompt, reply)
        self._report(reply)
        return reply

    def _complete(self, body: dict[str, Any], reply: Reply) -> None:
        answer = self.api.complete(body)
        choice = answer["choices"][0] if answer["choices"] else {}
        reply.content = (choice.get("message") or {}).get("content") or ""
        self._heard(reply.content)
        reply.finish_reason = choice.get("finish_reason")
        reply.usage = answer.get("usage")
        if self.as_json:
            self.obj.output.json(answer)
        else:
            self._write(reply.content)

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        if self.sampling.usage:
            body["stream_options"] = {"include_usage": True}
        for chunk in self.api.stream(body):
            if chunk.get("usage"):
                reply.usage = chunk["usage"]
            for choice in chunk.get("choices") or ():
                piece = (choice.get("delta") or {}).get("content") or ""
                reply.content += piece
                self._heard(piece)
                reply.finish_reason = choice.get("finish_reason") or reply.finish_reason
                if piece and not self.as_json:
                    self._write(piece)
            if self.as_json:
                self.obj.output.data(json.dumps(chunk, ensure_ascii=False, separators=(",", ":")))

    def _heard(self, piece: str) -> None:
        for listener in self.listeners:
            listener(piece)

    def _write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk behind `>`
            from smallest_cli.files import cannot_write

            raise cannot_write("stdout", exc) from None

    def _end_line(self, reply: Reply) -> None:
        if not self.as_json and not reply.content.endswith("\n"):
            self._write("\n")

    def _remember(self, prompt: str, reply: Reply) -> None:
        usage = reply.usage or {}
        self.messages += [
            Message("user", prompt),
            Message(
                "assistant",
                reply.content,
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
            ),
        ]
        if self.history is None:
            return
        if self.conversation_id is None:
            self.conversation_id = self.history.new_conversation(self.title or prompt)
            self.title = None  # a REPL's next conversation is named by its own first prompt
            if self.system:
                self.history.add(self.conversation_id, Message("system", self.system))
        self.history.add(self.conversation_id, *self.messages[-2:])

    def set_system(self, system: str | None) -> None:
        """A new system prompt, stored with the conversation from here on (an empty one
        is stored too: it clears the prompt for -c and --cid as well)."""
        self.system = system or None
        if self.history is not None and self.conversation_id is not None:
            self.history.add(self.conversation_id, Message("system", system or ""))

    def reset(self) -> None:
        """Start a new conversation (the old one stays in the history)."""
        self.messages = []
        self.conversation_id = None

    def _report(self, reply: Reply) -> None:
        output = self.obj.output
        if reply.finish_reason == "length":
            output.warn("the reply stopped at the token limit (--max-tokens, or the window)")
        if self.sampling.json_object and reply.content.strip():
            try:
                json.loads(reply.content)
            except ValueError:
                raise APIError(
                    "the reply asked for with --json-object is not valid JSON",
                    hint="ask again, or say in the prompt which JSON object to return",
                ) from None
        if self.sampling.usage and not self.as_json:
            output.stderr.write(usage_line(reply.usage or {}) + "\n")


def usage_line(usage: dict[str, Any]) -> str:
    """`Tokens: 20 prompt, 9 completion, 29 total (4 cached)`, for --usage."""
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    return (
        f"Tokens: {usage.get('prompt_tokens', '?')} prompt, "
        f"{usage.get('completion_tokens', '?')} completion, "
        f"{usage.get('total_tokens', '?')} total" + (f" ({cached} cached)" if cached else "")
    )


@contextmanager
def chat_hints() -> Iterator[None]:
    """Errors raised in the block given the hints only a chat knows."""
    try:
        yield
    except PermissionDeniedError as error:
        raise error.explain(PLAN_HINT) from None
    except APIError as error:
        if getattr(error, "status_code", None) == 400 and _is_overflow(error):
            raise error.explain(OVERFLOW_HINT) from None
        raise


def _is_overflow(error: APIError) -> bool:
    return "context" in str(error).lower()


# -- building a session from the command's options --------------------------------------


@dataclass(frozen=True)
class Request:
    """What `smallest chat` was given, checked."""

    prompt: str | None  # None: the REPL
    system: str | None  # -s/--system
    default_system: str | None  # chat_system in the config, for a new conversation
    continue_latest: bool
    conversation: str | None
    log: bool
    title: str | None = None  # what names a new conversation in `history list`

    @classmethod
    def given(
        cls, obj: AppContext, options: Any, prompt: str | None, title: str | None = None
    ) -> Request:
        """The conversation options of `chat` or `talk` (-s, -c, --cid, --no-log), with the
        profile's defaults."""
        return cls(
            prompt=prompt,
            system=options.system,
            default_system=obj.setting("chat_system"),
            continue_latest=options.continue_,
            conversation=options.cid,
            log=not options.no_log and bool(obj.setting("chat_log")),
            title=title,
        )


def compose_prompt(argument: str | None, stdin_isatty: bool) -> str | None:
    """The prompt: the argument, piped stdin (`-` reads it too), or the material on stdin
    followed by the argument as the instruction. None when there is neither: the REPL."""
    from smallest_cli.text import read_stdin

    material: str | None = None
    if argument == "-":
        argument, material = None, read_stdin()
    elif not stdin_isatty:
        material = read_stdin()
    if argument is None and material is None:
        return None
    parts = [part for part in (material, argument) if part is not None and part.strip()]
    if not parts:
        raise UsageError(
            "nothing to say: the prompt is empty",
            hint='give a prompt (smallest chat "Hello") or pipe text in',
        )
    return "\n\n".join([*(p.rstrip() for p in parts[:-1]), parts[-1]])


def check_stops(stops: Sequence[str]) -> tuple[str, ...]:
    if len(stops) > MAX_STOPS:
        raise UsageError(f"--stop was given {len(stops)} times; Electron takes at most {MAX_STOPS}")
    if any(not s for s in stops):
        raise UsageError("--stop needs a non-empty sequence")
    return tuple(stops)


def open_session(
    obj: AppContext,
    sampling: Sampling,
    request: Request,
    *,
    as_json: bool = False,
    stream: bool = True,
) -> ChatSession:
    """A session for a new conversation, or for the one -c/--cid names (read from the
    history even with --no-log; stored only when logging). Its system prompt is
    -s/--system's, else the continued conversation's, else the config's."""
    history = History() if request.log else None
    session = ChatSession(obj, sampling, history=history, as_json=as_json, stream=stream)
    session.title = request.title
    if request.continue_latest or request.conversation:
        reading = history or History()
        try:
            session.conversation_id = _conversation(reading, request)
            session.messages = reading.messages(session.conversation_id)
        finally:
            if reading is not history:
                reading.close()
        session.system = next(
            (m.content for m in reversed(session.messages) if m.role == "system"), None
        )
    else:
        session.system = request.default_system or None
    if request.system is not None and request.system != session.system:
        session.set_system(request.system)
    return session


def _conversation(history: History, request: Request) -> str:
    """The id of the conversation to continue."""
    if request.conversation:
        return history.find(request.conversation)
    latest = history.latest()
    if latest is None:
        raise UsageError(
            "-c/--continue: the chat history has no conversation yet",
            hint='start one with smallest chat "…"',
        )
    return latest


def run_chat(obj: AppContext, options: Any) -> None:
    """`smallest chat` with its options (commands/chat.py `ChatOptions`): everything is
    checked before the first request; no prompt on a terminal starts the REPL."""
    stops = check_stops(options.stop or ())
    if options.continue_ and options.cid:
        raise UsageError("-c/--continue and --cid both say which conversation", hint="drop one")
    sampling = Sampling(
        temperature=obj.setting("chat_temperature", options.temperature),
        top_p=obj.setting("chat_top_p", options.top_p),
        max_tokens=obj.setting("chat_max_tokens", options.max_tokens),
        stop=stops,
        seed=options.seed,
        json_object=options.json_object,
        usage=options.usage,
    )
    prompt = compose_prompt(options.prompt, obj.output.stdin_isatty)
    if prompt is None and options.as_json:
        raise UsageError("--json needs a prompt", hint='give one: smallest chat --json "Hello"')
    title = options.prompt if options.prompt not in (None, "-") else prompt
    request = Request.given(obj, options, prompt, title)
    voice = _voice(obj, options)
    session = open_session(
        obj, sampling, request, as_json=options.as_json, stream=not options.no_stream
    )
    try:
        obj.api_key()  # a missing key is said before anything else, the REPL's prompt too
        if prompt is None:
            from smallest_cli.jobs.chat_repl import Repl

            repl = Repl(session)
            repl.voice = voice
            repl.voice_options = _speaking(options)
            repl.run()
        else:
            if voice is not None:
                voice.ask(session, prompt)
            else:
                session.ask(prompt)
    finally:
        if session.history is not None:
            session.history.close()


def _voice(obj: AppContext, options: Any) -> ChatVoice | None:
    """With --speak, how replies are spoken (checked now); else None."""
    from smallest_cli.jobs.chat_voice import ChatVoice

    if not (options.speak or options.output is not None or options.play):
        return None
    if options.as_json:
        raise UsageError("--speak speaks the reply's text; --json prints objects", hint="drop one")
    return ChatVoice.build(
        obj, replace(_speaking(options), output=options.output, play=options.play)
    )


def _speaking(options: Any) -> VoiceOptions:
    """How the flags say to speak (`/speak on` in the REPL too): voice, model, speed,
    language and the device to play on."""
    from smallest_cli.jobs.chat_voice import VoiceOptions

    return VoiceOptions(
        device=options.device,
        voice=options.voice,
        model=options.model,
        speed=options.speed,
        language=options.language,
    )
