"""The installed `smallest` script and a deterministic environment to run it in.

The README recipes and the `--help` snapshots run the console script the way a user does
(in a shell, by name on PATH), so what they compare is what a user sees. Nothing from the
developer's shell leaks in: no SMALLEST_* settings, no colour, a fixed terminal width, a
home directory of the test's own and no keyring.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

SCRIPTS_DIR = Path(sysconfig.get_path("scripts"))
"""Where this environment's console scripts are installed (the venv's bin/)."""


def smallest_script() -> Path:
    """This environment's `smallest` script; skips the test when it is not installed."""
    script = SCRIPTS_DIR / "smallest"
    if not script.exists():
        pytest.skip(f"no `smallest` script in {SCRIPTS_DIR}: run `pip install -e .` first")
    return script


def deterministic_env(home: Path) -> dict[str, str]:
    """The environment for a run whose output is compared with text in the repository."""
    dropped = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "LINES")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SMALLEST_", "XDG_")) and name not in dropped
    }
    env.update(
        PATH=f"{SCRIPTS_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        COLUMNS="80",
        TERM="dumb",
        NO_COLOR="1",
        LC_ALL="C.UTF-8",
        # A terminal interleaves stdout and stderr line by line; so does an unbuffered pipe.
        PYTHONUNBUFFERED="1",
        # "A machine without a keyring": the file fallback is the one a test can inspect.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env
