"""The interactive chat: `smallest chat` on a terminal with no prompt.

Lines are edited with readline (arrow keys, Ctrl-R, a history kept between sessions); a
block of several lines (pasted code) goes between two lines of `\"\"\"`. Replies stream as
in one-shot mode and are stored the same way. Ctrl-C during a reply stops that reply and
keeps the session; Ctrl-C at the prompt clears the line; Ctrl-D (or /exit) leaves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from smallest_cli.errors import (
    AuthError,
    PermissionDeniedError,
    SmallestError,
    Terminated,
    UsageError,
)

if TYPE_CHECKING:
    from smallest_cli.jobs.chat import ChatSession
    from smallest_cli.jobs.chat_voice import ChatVoice

PROMPT = "> "
MORE = "... "
BLOCK = '"""'
READLINE_HISTORY = "chat_inputs.txt"
READLINE_LENGTH = 1000
HELP = f"""Commands:
  /help          this list
  /reset         start a new conversation (the old one stays in the history)
  /system TEXT   set the system prompt (/system alone clears it)
  /save FILE     write the conversation to FILE (.json: JSON, else Markdown; - prints it)
  /speak on|off  speak the replies (as --speak)
  /exit          leave (Ctrl-D too)
Multi-line input: a line with {BLOCK}, the lines, then {BLOCK} again.
Ctrl-C stops a reply; the conversation goes on."""


class Repl:
    def __init__(self, session: ChatSession) -> None:
        self.session = session
        self.output = session.obj.output
        self.voice: ChatVoice | None = None  # replies are spoken while set
        self.commands: dict[str, Callable[[str], bool]] = {
            "/help": self._help,
            "/reset": self._reset,
            "/system": self._system,
            "/save": self._save,
            "/speak": self._speak,
            "/exit": self._exit,
            "/quit": self._exit,
        }

    def run(self) -> None:
        readline = _readline()
        self.output.info(
            f"Chatting with Electron. /help for commands, {BLOCK} for multi-line input, "
            "Ctrl-D to leave."
        )
        try:
            while True:
                try:
                    text = self._read()
                except Terminated:
                    raise
                except KeyboardInterrupt:
                    self.output.stderr.write("\n")
                    continue
                except EOFError:
                    self.output.stderr.write("\n")
                    return
                if text is None or not text.strip():
                    continue
                if text.startswith("/"):
                    if not self._command(text.strip()):
                        return
                    continue
                self._ask(text)
        finally:
            _save_readline(readline)

    def _read(self) -> str | None:
        line = input(PROMPT)
        if line.strip() != BLOCK:
            return line
        lines: list[str] = []
        while True:
            try:
                more = input(MORE)
            except EOFError:
                self.output.stderr.write("\n")
                self.output.info("(block dropped: Ctrl-D before the closing " + BLOCK + ")")
                return None
            if more.strip() == BLOCK:
                return "\n".join(lines)
            lines.append(more)

    def _ask(self, text: str) -> None:
        try:
            if self.voice is not None:
                self.voice.ask(self.session, text)
            else:
                self.session.ask(text)
        except Terminated:
            raise  # SIGTERM or SIGHUP (the terminal closed) ends the chat
        except KeyboardInterrupt:
            self.output.info("(reply stopped; the conversation goes on)")
        except (AuthError, PermissionDeniedError):
            raise
        except SmallestError as error:
            if getattr(error, "exit_code", 1) == 4:
                raise
            self.session.obj.report(error)

    def _command(self, line: str) -> bool:
        """Run a /command; False to leave."""
        name, _, argument = line.partition(" ")
        command = self.commands.get(name)
        if command is None:
            self.output.warn(f"unknown command {name}; /help lists them")
            return True
        return command(argument.strip())

    def _help(self, argument: str) -> bool:
        self.output.stderr.write(HELP + "\n")
        return True

    def _reset(self, argument: str) -> bool:
        self.session.reset()
        self.output.info("New conversation.")
        return True

    def _system(self, argument: str) -> bool:
        self.session.set_system(argument or None)
        self.output.info(f"System prompt: {argument}" if argument else "System prompt cleared.")
        return True

    def _save(self, argument: str) -> bool:
        from smallest_cli.files import check_output, is_special, write_output

        if not argument:
            self.output.warn("/save needs a file name: /save chat.md")
            return True
        if argument == "-":
            sys.stdout.write(self._transcript(as_json=False))
            sys.stdout.flush()
            return True
        path = Path(argument).expanduser()
        try:
            check_output(path, flag="/save")
            if path.exists() and not is_special(path):
                raise UsageError(f"{path} exists; not overwritten", hint="choose another name")
            write_output(path, self._transcript(path.suffix.lower() == ".json"))
        except SmallestError as error:
            self.session.obj.report(error)
            return True
        self.output.info(f"Saved to {path}")
        return True

    def _transcript(self, as_json: bool) -> str:
        session = self.session
        messages = [m.wire() for m in session.messages if m.role != "system"]
        if session.system:
            messages.insert(0, {"role": "system", "content": session.system})
        if as_json:
            return (
                json.dumps(
                    {"id": session.conversation_id, "messages": messages},
                    indent=2,
                    ensure_ascii=False,
                )
                + "\n"
            )
        titles = {"system": "System", "user": "You", "assistant": "Electron"}
        return "".join(
            f"**{titles.get(m['role'], m['role'])}:** {m['content']}\n\n" for m in messages
        )

    def _speak(self, argument: str) -> bool:
        if argument not in ("on", "off"):
            self.output.warn("/speak on or /speak off")
        elif argument == "off":
            self.voice = None
            self.output.info("Replies are no longer spoken.")
        else:
            from smallest_cli.jobs.chat_voice import ChatVoice, VoiceOptions

            try:
                self.voice = ChatVoice.build(self.session.obj, VoiceOptions())
            except SmallestError as error:
                self.session.obj.report(error)
                return True
            self.output.info("Replies are spoken.")
        return True

    def _exit(self, argument: str) -> bool:
        return False


def _readline() -> object | None:
    """readline with the saved input history loaded, or None where it does not exist."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    from smallest_cli.history import data_dir

    try:
        readline.read_history_file(data_dir() / READLINE_HISTORY)
    except OSError:
        pass
    readline.set_history_length(READLINE_LENGTH)
    return readline


def _save_readline(readline: object | None) -> None:
    if readline is None:
        return
    from smallest_cli.history import data_dir

    try:
        data_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
        readline.write_history_file(data_dir() / READLINE_HISTORY)  # type: ignore[attr-defined]
    except OSError:
        pass
