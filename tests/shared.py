"""The vendor's reference folder, `../shared` next to the repository, as tests find it.

The one place that says where it is: `$SMALLEST_SHARED_DIR` when set, else the folder
next to the checkout. A fresh clone has no such folder, so every test that reads it asks
through `shared_path` (or the `shared` fixture), which skips the test with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _shared_dir() -> Path:
    override = os.environ.get("SMALLEST_SHARED_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "shared"


SHARED_DIR: Path = _shared_dir()
"""`$SMALLEST_SHARED_DIR`, else `../shared` next to the repository (read at import)."""


def shared_path(*parts: str) -> Path:
    """`SHARED_DIR/parts…`; skips the calling test, saying why, when it is not there."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: the vendor's reference lives in ../shared next to the "
            "repository (or set SMALLEST_SHARED_DIR to where it is)"
        )
    return path
