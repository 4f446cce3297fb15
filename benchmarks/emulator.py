"""What `--emulator` costs a command, on this machine, in this run (targets from issue 7).

    python benchmarks/emulator.py [--runs N]

1. `smallest --emulator tts say "Hello" -o x.wav` next to the same command against an
   already-running `smallest emulator serve` (target: at most 0.25 s more, median). The
   running emulator is started with pacing off (`--first-audio-ms 0 --rtf 0`), which is what
   `--emulator` has by default, so the difference is only the in-process start and stop.
2. A 2,000-character text next to a 20-character one, both under `--emulator` (target: at
   most 2×, median).

Commands run as real processes, taking turns, so both sides of a comparison share the
machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import KEY, Emulator, smallest

SHORT = "Hello from the tests"  # 20 characters
SENTENCE = "The quick brown fox jumps over the lazy dog near the riverbank at dawn. "


def long_text(length: int = 2000) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length].rstrip() + "."


def seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - started


def measure(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Median wall seconds of each command, run in turns after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, (argv, env) in commands.items():
            elapsed = seconds(argv, env)
            if round_:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    script = smallest()
    # No SMALLEST_* setting of the caller's may change what is measured.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMALLEST_")}
    with (
        tempfile.TemporaryDirectory() as scratch,
        Emulator("--first-audio-ms", "0", "--rtf", "0") as served,
    ):
        out = str(Path(scratch) / "x.wav")
        served_env = {**clean, "SMALLEST_BASE_URL": served.url, "SMALLEST_API_KEY": KEY}
        say = [script, "tts", "say"]
        in_process = [script, "--emulator", "tts", "say"]
        results = measure(
            {
                "served": ([*say, "Hello", "-o", out], served_env),
                "in-process": ([*in_process, "Hello", "-o", out], clean),
                "20 chars": ([*in_process, SHORT, "-o", out], clean),
                "2,000 chars": ([*in_process, long_text(), "-o", out], clean),
            },
            runs,
        )
    extra = results["in-process"] - results["served"]
    ratio = results["2,000 chars"] / results["20 chars"]
    rows = [
        (
            '`--emulator tts say "Hello"` vs against a running `emulator serve` (pacing 0)',
            f"{results['in-process']:.3f} s vs {results['served']:.3f} s",
            f"+{extra:.3f} s",
            "≤ +0.25 s",
            extra <= 0.25,
        ),
        (
            "`--emulator tts say`: 2,000 characters vs 20",
            f"{results['2,000 chars']:.3f} s vs {results['20 chars']:.3f} s",
            f"{ratio:.2f}×",
            "≤ 2×",
            ratio <= 2.0,
        ),
    ]
    print(f"| comparison | median ({runs} runs each) | difference | target | |")
    print("|---|---:|---:|---|---|")
    for name, medians, difference, target, ok in rows:
        print(f"| {name} | {medians} | {difference} | {target} | {'ok' if ok else 'MISSED'} |")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
