"""Twenty `smallest tts say -o` (and `--live`) processes on one key with one TTS slot (issue 9 point 8).

    python benchmarks/parallel.py [--processes N] [--transport sync|sse|ws|live ...]

Starts `smallest emulator serve` with its default `--tts-concurrency 1` and runs N
processes at once, then the same N one after another, with default settings. Prints how
many succeeded and the total wall time of each, plus `--concurrency 4` against 1 for a
long text on the same one-slot account. `--transport` (repeatable) times only the rows of
those transports (`live` is `tts say --live`), without the `--concurrency` rows.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from harness import Emulator, smallest

TEXT = "Waiting for a slot is normal work, not an error."
LONG = " ".join(
    f"Sentence {i} goes on for a while, with a clause; and then it ends." for i in range(20)
)


def run_all(
    argvs: list[list[str]], env: dict[str, str], parallel: bool, stdin: str | None = None
) -> tuple[float, int, int]:
    """Seconds for all, how many exited 0, and the most stderr lines one of them printed.
    `stdin` is written to each process (at once when parallel)."""
    started = time.perf_counter()
    if parallel:
        procs = [
            subprocess.Popen(
                a,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for a in argvs
        ]
        for p in procs:
            if p.stdin is not None:
                p.stdin.write(stdin or "")
                p.stdin.close()
        outcomes = [(p.wait(), p.stderr.read() if p.stderr else "") for p in procs]
    else:
        outcomes = []
        for argv in argvs:
            done = subprocess.run(
                argv,
                input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                check=False,
            )
            outcomes.append((done.returncode, done.stderr))
    elapsed = time.perf_counter() - started
    return (
        elapsed,
        sum(code == 0 for code, _ in outcomes),
        max(len(e.splitlines()) for _, e in outcomes),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--transport", action="append", choices=("sync", "sse", "ws", "live"))
    args = parser.parse_args()
    n = args.processes
    chosen = args.transport or ["sync", "ws", "live"]
    rows = []
    with Emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        for transport in [t for t in chosen if t != "live"]:
            argvs = [
                [
                    smallest(),
                    "tts",
                    "say",
                    TEXT,
                    "--transport",
                    transport,
                    "-o",
                    str(Path(tmp) / f"{i}.wav"),
                ]
                for i in range(n)
            ]
            for parallel in (True, False):
                seconds, ok, lines = run_all(argvs, emulator.env, parallel)
                how = f"{n} at once" if parallel else f"{n} one after another"
                rows.append((f"`tts say -o` ({transport}), {how}", seconds, f"{ok}/{n}", lines))
        live = [
            [smallest(), "tts", "say", "--live", "-o", str(Path(tmp) / f"{i}.wav")]
            for i in range(n)
        ]
        for parallel in (True, False) if "live" in chosen else ():
            seconds, ok, lines = run_all(live, emulator.env, parallel, stdin=TEXT)
            how = f"{n} at once" if parallel else f"{n} one after another"
            rows.append((f"`tts say --live -o`, {how}", seconds, f"{ok}/{n}", lines))
        for workers in () if args.transport else (1, 4):
            argv = [
                smallest(),
                "tts",
                "say",
                LONG,
                "--concurrency",
                str(workers),
                "-o",
                str(Path(tmp) / "long.wav"),
            ]
            seconds, ok, lines = run_all([argv], emulator.env, False)
            rows.append((f"20-chunk text, `--concurrency {workers}`", seconds, f"{ok}/1", lines))
    print(f"## {n} processes on one key, one TTS slot (emulator defaults)\n")
    print("| what | total s | succeeded | most stderr lines |\n|---|---:|---:|---:|")
    for what, seconds, ok, lines in rows:
        print(f"| {what} | {seconds:.1f} | {ok} | {lines} |")


if __name__ == "__main__":
    main()
