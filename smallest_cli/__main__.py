"""Entry point for the `smallest` console script and `python -m smallest_cli`.

`smallest --version` is answered here, before Typer or anything heavy is imported, so
that scripts probing for the tool pay almost nothing.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from smallest_cli import __version__

        try:
            sys.stdout.write(f"smallest {__version__}\n")
            sys.stdout.flush()
            return
        except OSError:
            pass  # a full device or a closed pipe: the whole command below says so
    from smallest_cli.app import main as app_main

    app_main()


if __name__ == "__main__":
    main()
