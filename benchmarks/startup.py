"""Start-up time of `smallest` next to a bare `python -c pass`, on this machine, in this run.

    python benchmarks/startup.py [--runs N]

Times `--version`, the root `--help`, and the `--help` of every command group and every
subcommand, each as a real process. The commands take turns, round after round (after
one warm-up round), so that a busy machine slows all of them alike; the table shows each
one's median wall time and CPU time (user + system) and their ratios to the bare
interpreter. Targets: `--version` ≤ 3× (issue 2), every `--help` ≤ 10× (issue 9).

Then `tts say`'s time to its first audio byte against `curl -N` on the same emulator route
(benchmarks/tts.py measures it), with `python -c pass` timed in the same rounds: the
difference in ms (target ≤ 150, issue 9) and as a multiple of starting Python, the figure
that compares across machines; and the floor under it, what a process that only starts
Python and imports Typer and httpx takes more than curl takes to start. `--no-tts` skips it
(it needs curl).
The runs may write .pyc files, as a user's first run does, even where
PYTHONDONTWRITEBYTECODE is set: recompiling every module on every run is not what users
wait for.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"--version": 3.0, "--help": 10.0}
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def every_help(script: str) -> dict[str, list[str]]:
    """`smallest … --help` for the root, each command, each group and its subcommands."""
    import typer.main

    from smallest_cli.commands import COMMANDS, GROUPS

    commands = {"smallest --help": [script, "--help"]}
    for command in COMMANDS:
        commands[f"smallest {command} --help"] = [script, command, "--help"]
    for group in GROUPS:
        commands[f"smallest {group} --help"] = [script, group, "--help"]
        module = importlib.import_module(f"smallest_cli.commands.{group}")
        for name in typer.main.get_group(module.app).commands:
            commands[f"smallest {group} {name} --help"] = [script, group, name, "--help"]
    return commands


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run of `argv`."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) ms of each command, the commands taking turns in shuffled rounds."""
    names = list(commands)
    for name in names:  # warm-up: the file cache, .pyc files
        run_once(commands[name])
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for _ in range(runs):
        random.shuffle(names)
        for name in names:
            samples[name].append(run_once(commands[name]))
    return {
        name: (
            statistics.median(wall for wall, _ in times),
            statistics.median(cpu for _, cpu in times),
        )
        for name, times in samples.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--no-tts", action="store_true", help="skip the first-audio comparison")
    options = parser.parse_args()
    runs = options.runs
    script = shutil.which("smallest", path=str(Path(sys.executable).parent)) or shutil.which(
        "smallest"
    )
    if script is None:
        sys.exit("the smallest console script is not installed; run `pip install -e .` first")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "smallest --version": [script, "--version"],
        **every_help(script),
    }
    results = medians(commands, runs)
    base_wall, base_cpu = results["python -c pass"]
    print(f"| command | wall ms (median of {runs}) | × pass | CPU ms | × pass | target |")
    print("|---|---:|---:|---:|---:|---|")
    missed = 0
    for name, (wall, cpu) in results.items():
        ratio = wall / base_wall
        target = next((t for suffix, t in TARGETS.items() if name.endswith(suffix)), None)
        verdict = ""
        if target is not None:
            ok = ratio <= target
            missed += not ok
            verdict = f"≤ {target:g}× {'met' if ok else 'MISSED'}"
        print(
            f"| `{name}` | {wall:.0f} | {ratio:.1f} | {cpu:.0f} | {cpu / base_cpu:.1f} | {verdict} |"
        )
    if not options.no_tts:
        missed += first_audio(runs)
    print(f"\n{missed} target(s) missed" if missed else "\nall targets met")
    return 1 if missed else 0


def first_audio(runs: int) -> int:
    """Print `tts say`'s first audio byte against curl's; 1 if the target is missed."""
    from harness import Emulator
    from tts import FIRST_AUDIO_TARGET_MS, first_audio_medians, floor

    with Emulator() as emulator:
        median = first_audio_medians(emulator, runs)
    gap, python = median["smallest"] - median["curl"], median["python"]
    met = gap <= FIRST_AUDIO_TARGET_MS
    print(f"\n| first audio byte (median of {runs}) | ms | × pass | target |")
    print("|---|---:|---:|---|")
    print(f"| `python -c pass` | {python:.0f} | 1.0 | |")
    print(f"| `curl -N` on POST /waves/v1/tts/live | {median['curl']:.0f} | | |")
    print(f"| `smallest tts say … -o -` | {median['smallest']:.0f} | | |")
    verdict = f"≤ +{FIRST_AUDIO_TARGET_MS} ms {'met' if met else 'MISSED'}"
    print(f"| difference | +{gap:.0f} | {gap / python:.1f} | {verdict} |")
    lowest = floor(median)
    print(
        f"| floor: Python + Typer + httpx imports − curl's start | +{lowest:.0f} |"
        f" {lowest / python:.1f} | |"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
