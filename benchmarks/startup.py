"""Start-up time of `smallest` next to a bare `python -c pass`, on this machine, in this run.

    python benchmarks/startup.py [--runs N]

Each command runs N times (after two warm-ups) as a real process; the table shows the
median wall time and its ratio to the bare interpreter. Targets (issue 2): `--version`
≤ 3×, `--help` ≤ 10×.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"smallest --version": 3.0, "smallest --help": 10.0}


def median_ms(argv: list[str], runs: int) -> float:
    for _ in range(2):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    runs = parser.parse_args().runs
    script = shutil.which("smallest", path=str(Path(sys.executable).parent)) or shutil.which(
        "smallest"
    )
    if script is None:
        sys.exit("the smallest console script is not installed; run `pip install -e .` first")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "smallest --version": [script, "--version"],
        "smallest --help": [script, "--help"],
        "smallest auth --help": [script, "auth", "--help"],
    }
    results = {name: median_ms(argv, runs) for name, argv in commands.items()}
    base = results["python -c pass"]
    print(f"| command | median ms ({runs} runs) | × python -c pass | target |")
    print("|---|---:|---:|---|")
    failed = False
    for name, ms in results.items():
        ratio = ms / base
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = ratio <= target
            failed |= not ok
            verdict = f"≤ {target:g}× {'met' if ok else 'MISSED'}"
        print(f"| `{name}` | {ms:.1f} | {ratio:.2f} | {verdict} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
