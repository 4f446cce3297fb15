"""A stand-in for the user's editor, for tests: `EDITOR="python tests/scripted_editor.py"`.

Each run is one step of a script kept in $SCRIPTED_EDITOR_DIR: run N saves what it was
shown in `seen-N.txt`, then replaces the file with `N.txt` when that exists (else leaves it
as it was, like quitting without a change), and exits with the number in `N.exit` if any.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> int:
    plan = Path(os.environ["SCRIPTED_EDITOR_DIR"])
    target = Path(sys.argv[-1])
    step = len(list(plan.glob("seen-*.txt"))) + 1
    (plan / f"seen-{step}.txt").write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
    replacement = plan / f"{step}.txt"
    if replacement.exists():
        target.write_text(replacement.read_text(encoding="utf-8"), encoding="utf-8")
    code = plan / f"{step}.exit"
    return int(code.read_text()) if code.exists() else 0


if __name__ == "__main__":
    sys.exit(main())
