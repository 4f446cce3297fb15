"""`smallest tts say` measured against the emulator, next to curl on the same endpoint.

    python benchmarks/tts.py [--runs N] [--quick]

Prints four tables (targets from issue 3):

1. time to the first audio byte on stdout, `tts say … -o -` vs `curl -N` on the SSE route
   (target: at most 150 ms more, median; issue 9), and what the difference is made of;
2. peak RSS writing 20k vs 200k characters to a WAV file (target: ≤ 120 MB, within 10%);
3. wall time for a 30-chunk text at --concurrency 1 vs the emulator's own synthesis time
   (target ≤ 1.15×);
4. the same text at --concurrency 4 on an emulator that allows 4 (target ≥ 3× faster).

Each run talks to a `smallest emulator serve` started here, over loopback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import KEY, Emulator, smallest

# What `tts say` imports before its request (tests/test_startup.py pins that pydantic, rich
# and click are not among them).
IMPORTS = (
    "import smallest_cli.app, smallest_cli.jobs.speak, smallest_cli.api.client, smallest_cli.api.tts,"
    " smallest_cli.jobs.voice_catalog, smallest_cli.credentials, httpcore"
)
# The floor under the difference: Python starting and importing the two libraries `tts say`
# cannot do without before its request, less curl's own start.
DEPENDENCIES = "import sys; sys.modules['httpx._main'] = None; import typer.main, httpx, httpcore"
FIRST_AUDIO_TARGET_MS = 150
SENTENCE = "The quick brown fox jumps over the lazy dog near the riverbank at dawn."


def first_byte_ms(argv: list[str], env: dict[str, str], skip: int = 0) -> float:
    """Milliseconds from spawning `argv` until byte `skip + 1` of its stdout arrives."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    seen = 0
    while seen <= skip:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        seen += len(chunk)
    elapsed = (time.perf_counter() - started) * 1000
    proc.stdout.read()
    proc.wait()
    return elapsed


def time_to_first_audio(runs: int) -> None:
    with Emulator() as emulator:
        median = first_audio_medians(emulator, runs)
    gap = median["smallest"] - median["curl"]
    print(f"## Time to first audio byte ({runs} runs, median; emulator first audio 150 ms)\n")
    print("| what | ms |\n|---|---:|")
    print(f"| `curl -N` on POST /waves/v1/tts/live | {median['curl']:.0f} |")
    print(
        f"| `smallest tts say … -o -` (first byte after the WAV header) | {median['smallest']:.0f} |"
    )
    met = "met" if gap <= FIRST_AUDIO_TARGET_MS else "MISSED"
    print(f"| difference (target ≤ {FIRST_AUDIO_TARGET_MS}) | {gap:.0f} {met} |")
    imports = median["imports"] - median["python"]
    print(f"| of which: starting Python (`python -c pass`) | {median['python']:.0f} |")
    print(f"| of which: importing what `tts say` imports (typer, httpx, …) | {imports:.0f} |")
    print(
        f"| of which: the rest (options, voice cache, connecting) | {gap - imports - median['python']:.0f} |"
    )
    print(f"| floor: Python + Typer + httpx imports − curl's start | {floor(median):.0f} |")
    print()


def floor(median: dict[str, float]) -> float:
    """What no `tts say` built on Typer and httpx can be under: its difference to curl."""
    return median["dependencies"] - median["curl start"]


def first_audio_medians(emulator: Emulator, runs: int) -> dict[str, float]:
    env = emulator.env
    body = json.dumps(
        {"text": SENTENCE, "voice_id": "magnus", "sample_rate": 24000, "output_format": "pcm"}
    )
    curl = [
        "curl", "-N", "-s", "-X", "POST", f"{emulator.url}/waves/v1/tts/live",
        "-H", f"Authorization: Bearer {KEY}", "-H", "Content-Type: application/json",
        "-H", "Accept: text/event-stream", "-d", body,
    ]  # fmt: skip
    cli = [smallest(), "tts", "say", SENTENCE, "-o", "-", "--sample-rate", "24000"]
    python = [sys.executable, "-c", "pass"]
    startup = [sys.executable, "-c", IMPORTS]
    dependencies = [sys.executable, "-c", DEPENDENCIES]
    curl_start = ["curl", "-s", "-o", "/dev/null", "file:///dev/null"]
    processes = {
        "python": python,
        "imports": startup,
        "dependencies": dependencies,
        "curl start": curl_start,
    }
    results: dict[str, list[float]] = {"curl": [], "smallest": [], **{k: [] for k in processes}}
    for _ in range(runs):
        results["curl"].append(first_byte_ms(curl, env))
        results["smallest"].append(first_byte_ms(cli, env, skip=44))  # past the WAV header
        for name, argv in processes.items():
            started = time.perf_counter()
            subprocess.run(argv, check=True, env=env)
            results[name].append((time.perf_counter() - started) * 1000)
    return {k: statistics.median(v) for k, v in results.items()}


def peak_rss(characters: int, work: Path, emulator: Emulator) -> tuple[float, float]:
    text = work / f"text-{characters}.txt"
    sentences = (SENTENCE + " ") * (characters // (len(SENTENCE) + 1) + 1)
    text.write_text(sentences[:characters], encoding="utf-8")
    target = work / f"out-{characters}.wav"
    script = (
        "import resource, subprocess, sys, json;"
        "started=__import__('time').perf_counter();"
        "subprocess.run(sys.argv[1:], check=True);"
        "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        "__import__('time').perf_counter()-started]))"
    )
    argv = [smallest(), "tts", "say", "-f", str(text), "-o", str(target), "--sample-rate", "8000"]
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        env=emulator.env,
        capture_output=True,
        text=True,
        check=True,
    )
    rss_kb, seconds = json.loads(done.stdout)
    target.unlink()
    return rss_kb / 1024, seconds


def memory(work: Path, quick: bool) -> None:
    sizes = (20_000, 200_000) if not quick else (2_000, 20_000)
    with Emulator("--first-audio-ms", "0", "--rtf", "0") as emulator:
        results = {n: peak_rss(n, work, emulator) for n in sizes}
    small, large = (results[n][0] for n in sizes)
    within = abs(large - small) / small <= 0.10
    print("## Peak RSS writing a WAV file (8 kHz, sync per chunk)\n")
    print("| characters | peak RSS MB | wall s |\n|---:|---:|---:|")
    for n, (mb, seconds) in results.items():
        print(f"| {n:,} | {mb:.1f} | {seconds:.1f} |")
    verdict = "met" if max(small, large) <= 120 and within else "MISSED"
    print(
        f"\ntarget ≤ 120 MB and within 10% of each other: {verdict} ({(large - small) / small:+.1%})\n"
    )


def wall_time(work: Path, concurrency: int, allowed: int) -> tuple[float, float, int]:
    text = work / "thirty.txt"
    text.write_text(" ".join([SENTENCE * 3] * 30), encoding="utf-8")
    argv = [smallest(), "-q", "tts", "say", "-f", str(text), "-o", str(work / "thirty.wav"),
            "--sample-rate", "16000", "--concurrency", str(concurrency)]  # fmt: skip
    pacing = ("--first-audio-ms", "150", "--rtf", "0.05", "--tts-concurrency", str(allowed))
    with Emulator(*pacing) as emulator:
        started = time.perf_counter()
        subprocess.run(argv, env=emulator.env, check=True)
        wall = time.perf_counter() - started
        exchanges = [
            e for e in emulator.requests() if e["path"] == "/waves/v1/tts" and e["status"] == 200
        ]
    synthesis = sum(e.get("synthesis_ms") or 0 for e in exchanges) / 1000
    return wall, synthesis, len(exchanges)


def throughput(work: Path) -> None:
    wall1, synthesis1, chunks = wall_time(work, 1, 1)
    wall4, _, _ = wall_time(work, 4, 4)
    print(f"## {chunks} chunks (emulator: first audio 150 ms, real-time factor 0.05)\n")
    print("| run | wall s | emulator synthesis s | ratio |\n|---|---:|---:|---:|")
    print(
        f"| --concurrency 1 | {wall1:.2f} | {synthesis1:.2f} | {wall1 / synthesis1:.2f}× (target ≤ 1.15) |"
    )
    print(
        f"| --concurrency 4 (emulator allows 4) | {wall4:.2f} | | {wall1 / wall4:.2f}× faster (target ≥ 3) |"
    )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="smaller texts, for a smoke run")
    parser.add_argument(
        "--parts",
        default="ttfa,memory,throughput",
        help="comma-separated: ttfa, memory, throughput",
    )
    options = parser.parse_args()
    parts = set(options.parts.split(","))
    if shutil.which("curl") is None:
        sys.exit("curl is needed for the comparison (apt-get install curl)")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if "ttfa" in parts:
            time_to_first_audio(options.runs)
        if "memory" in parts:
            memory(work, options.quick)
        if "throughput" in parts:
            throughput(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
