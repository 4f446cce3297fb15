"""One module per command group, each defining `app`; `GROUPS` says what is where.

The root command (app.py) loads a group's module only when that group is used, so
`smallest --help` lists the groups from this table without importing them. `COMMANDS` does
the same for single commands (`smallest chat`): their module's `app` holds one command.
"""

from __future__ import annotations

LISTED: dict[str, str] = {  # in the order of `smallest --help`
    "auth": "Log in with an API key, check it, log out.",
    "tts": "Speech from text with the Lightning models.",
    "voices": "Browse the voices for text to speech (the catalog is cached for 24 hours).",
    "clone": "Clone voices from a sample or the microphone; list and inspect your clones.",
    "dict": "Pronunciation dictionaries: how brand names and jargon are said.",
    "stt": "Transcripts from speech with the Pulse models.",
    "chat": "Chat with Electron, the LLM: prompts, pipes, conversations.",
    "talk": "A spoken conversation with Electron: listen, answer out loud, listen again.",
    "history": "The chat history: list, show, delete and export conversations.",
    "config": "Show and change settings (per profile). Flags and SMALLEST_* variables win over them.",
    "emulator": "Run a local emulator of the Waves API (synthetic, deterministic audio and transcripts).",
}
SINGLE = ("chat", "talk")

GROUPS = {name: text for name, text in LISTED.items() if name not in SINGLE}
COMMANDS = {name: text for name, text in LISTED.items() if name in SINGLE}
