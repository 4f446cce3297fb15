"""Fast start: what `--version` and `--help` load, and that the console script works."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {
    "pydantic",  # Typer converts values with it; smallest_cli.plain_values spares it
    "click",  # Typer vendors its own; httpx's CLI would import the real one, and rich
    "httpx",
    "rich",
    "keyring",
    "sounddevice",
    "soundfile",
    "numpy",
    "websockets",
    "starlette",
    "uvicorn",
}

PROBE = """
import json, sys
sys.argv = ["smallest", *json.loads(sys.argv[1])]
from smallest_cli.__main__ import main
try:
    main()
except SystemExit:
    pass
loaded = sorted(name for name, module in sys.modules.items() if module is not None)
sys.stderr.write("MODULES " + json.dumps(loaded) + "\\n")
"""


def loaded_modules(*args: str) -> set[str]:
    """Every module name (`smallest_cli.app`, `httpx._client`, …) loaded by `smallest ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(l for l in proc.stderr.splitlines() if l.startswith("MODULES "))  # noqa: E741
    return set(json.loads(line.removeprefix("MODULES ")))


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_version_imports_nothing_heavy_not_even_typer() -> None:
    loaded = loaded_modules("--version")
    assert packages(loaded) & (HEAVY | {"typer"}) == set()
    assert "smallest_cli.app" not in loaded


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("auth", "--help"),
        ("config", "path"),
        ("emulator", "--help"),
        ("voices", "--help"),
        ("stt", "--help"),
        ("stt", "transcribe", "--help"),
        ("stt", "live", "--help"),
        ("tts", "--help"),
        ("tts", "say", "--help"),
        ("voices", "list", "--help"),
        ("auth", "login", "--help"),
        ("config", "--help"),
        ("emulator", "serve", "--help"),
    ],
)
def test_help_and_light_commands_import_nothing_heavy(args: tuple[str, ...]) -> None:
    assert packages(loaded_modules(*args)) & HEAVY == set()


@pytest.mark.parametrize("group", ["tts", "voices", "stt", "auth", "config", "emulator"])
def test_a_groups_help_loads_that_group_alone(group: str) -> None:
    loaded = loaded_modules(group, "--help")
    commands = {m for m in loaded if m.startswith("smallest_cli.commands.")}
    commands -= {"smallest_cli.commands.options"}
    assert f"smallest_cli.commands.{group}" in commands
    assert {m for m in commands if not m.startswith(f"smallest_cli.commands.{group}")} == set()


def test_speaking_loads_neither_pydantic_nor_rich_nor_click(
    api_env: object, tmp_path: Path
) -> None:
    target = tmp_path / "hello.wav"
    loaded = packages(loaded_modules("tts", "say", "Hello there.", "-o", str(target)))
    assert target.read_bytes()[:4] == b"RIFF"
    assert "httpx" in loaded
    assert loaded & {"pydantic", "rich", "click", "pygments"} == set()


def test_console_script_runs() -> None:
    script = shutil.which("smallest", path=str(Path(sys.executable).parent))
    assert script is not None, "the smallest console script is not installed next to python"
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("Usage: smallest")
    assert proc.stderr == ""


def test_root_help_lists_every_group_without_loading_them() -> None:
    from smallest_cli.commands import LISTED

    loaded = loaded_modules("--help")
    assert not any(m.startswith("smallest_cli.commands.") for m in loaded)
    proc = subprocess.run(
        [sys.executable, "-m", "smallest_cli", "--help"], capture_output=True, text=True, check=True
    )
    listed = proc.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in listed.splitlines()] == list(LISTED)
