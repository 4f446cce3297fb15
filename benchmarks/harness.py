"""What the benchmark scripts share: the installed `smallest`, and an emulator to measure against."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

KEY = "sk_benchmark_0000000000"


def smallest() -> str:
    """The `smallest` console script next to this Python (or on PATH)."""
    found = shutil.which("smallest", path=str(Path(sys.executable).parent)) or shutil.which(
        "smallest"
    )
    if found is None:
        sys.exit("the smallest console script is not installed; run `pip install -e .` first")
    return found


class Emulator:
    """`smallest emulator serve --port 0 ARGS` in a subprocess, for the length of a `with` block."""

    def __init__(self, *args: str) -> None:
        self.args = args

    def __enter__(self) -> Emulator:
        self.proc = subprocess.Popen(
            [smallest(), "emulator", "serve", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            sys.exit("the emulator did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    @property
    def env(self) -> dict[str, str]:
        """This process's environment pointed at the emulator, with a key.

        Without PYTHONDONTWRITEBYTECODE: a user's runs after the first load .pyc files, and
        recompiling every module on every run is not what the benchmarks are about.
        """
        env = {**os.environ, "SMALLEST_BASE_URL": self.url, "SMALLEST_API_KEY": KEY}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def requests(self) -> list[dict[str, Any]]:
        """The traffic the emulator has seen (GET /_emulator/requests)."""
        with urllib.request.urlopen(f"{self.url}/_emulator/requests") as response:
            entries: list[dict[str, Any]] = json.load(response)
            return entries
