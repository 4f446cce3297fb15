"""Options several commands share, declared once so they read and behave the same."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DiarizeFlag = Annotated[
    bool, typer.Option("--diarize", help="Label speakers (Speaker 0, Speaker 1, …).")
]
RedactOption = Annotated[
    list[str] | None,
    typer.Option(
        "--redact",
        metavar="pii,pci",
        help="Redact pii, pci or pii,pci (effective for en and hi; repeatable).",
        show_default=False,
    ),
]
ExpireContentFlag = Annotated[
    bool,
    typer.Option(
        "--expire-content",
        help="Ask the API to delete this request's content after 7 days (enterprise plans).",
    ),
]
