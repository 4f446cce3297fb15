"""What `--help` shows for an option's value: its meaning (FILE, VOICE, SECONDS), not its
Python type (`<str>`, `<list[str]>`, `<float range>`), which Typer shows by default.

Each parameter is named here by its Python name; any other gets its name in capitals.
Choices keep showing their values (`<auto|sync|sse|ws>`), and a declared metavar wins.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument

METAVARS = {
    "file": "FILE",
    "output": "FILE",
    "timestamps": "FILE",
    "output_dir": "DIR",
    "transcripts": "DIR",
    "voice_id": "VOICE",
    "fault": "SPEC",
    "base_url": "URL",
    "webhook": "URL",
    "webhook_extra": "KEY:VALUE",
    "dicts": "DICT",
    "request_id": "ID",
    "session_id": "ID",
    "number_language": "LANGUAGE",
    "us_port": "PORT",
    "profile": "NAME",
    "search": "TEXT",
    "speed": "RATE",
    "sample_rate": "HZ",
    "timeout": "SECONDS",
    "wait": "SECONDS",
    "max_wait": "SECONDS",
    "duration": "SECONDS",
    "max_cue_seconds": "SECONDS",
    "latency_ms": "MS",
    "first_audio_ms": "MS",
    "stt_ms": "MS",
    "eou_timeout_ms": "MS",
    "rtf": "FACTOR",
    "stt_rtf": "FACTOR",
    "retries": "N",
    "concurrency": "N",
    "tts_concurrency": "N",
    "stt_per_minute": "N",
    "stt_sessions": "N",
    "clone_limit": "N",
    "clone_ms": "MS",
    "max_rpm": "N",
    "max_words": "N",
    "max_line_chars": "N",
}


class NamedArgument(TyperArgument):
    """An argument shown by its name alone: `VOICE`, `[TEXT]`, `[SOURCE]...`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


def name_values(params: list[Any]) -> list[Any]:
    """`params`, each value-taking one given a metavar that says what the value is."""
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = NamedArgument
        if param.metavar is None and not getattr(param, "is_flag", False) and param.name:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is None or not descriptor.is_choice:
                param.metavar = METAVARS.get(param.name, param.name.strip("_").upper())
    return params
