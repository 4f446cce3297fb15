"""`smallest stt` measured against the emulator.

    python benchmarks/stt.py [--quick]

Prints markdown tables:

1. peak RSS of `smallest stt transcribe` uploading a small file, a 200 MB file, and 200 MB
   through stdin (target from issue 4: at most 100 MB for the 200 MB upload; the upload
   streams from disk, so memory should not grow with the file);
2. wall time of a batch of small files at --concurrency 1 and 4, and of 30 files, more
   than the 25 requests a minute the API allows (the client-side limiter spaces them, so
   none should be answered 429; it takes a minute);
3. the realtime measurements of `smallest stt live`, from `benchmarks/stt_live.py`, when
   that file exists (see `realtime`).

Each run talks to a `smallest emulator serve --port 0` started here, over loopback. The big
files are sparse (a WAV header, then silence the file system does not store), so preparing
them costs no disk.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import Emulator, smallest

MB = 1024 * 1024
RSS_TARGET_MB = 100
INSTANT = ("--first-audio-ms", "0", "--rtf", "0", "--stt-ms", "0", "--stt-rtf", "0")
SENTENCE = "The quick brown fox jumps over the lazy dog near the riverbank at dawn."


def silent_wav(path: Path, size: int, sample_rate: int = 16000) -> Path:
    """A mono 16-bit WAV of `size` bytes in all, silent, stored sparsely."""
    data = size - 44
    header = struct.pack("<4sI4s", b"RIFF", 36 + data, b"WAVE") + struct.pack(
        "<4sIHHIIHH4sI", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16, b"data", data
    )
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(size)
    return path


def spoken_wav(path: Path, emulator: Emulator, text: str = SENTENCE) -> Path:
    """The emulator's speech for `text` (what its STT can read back)."""
    subprocess.run(
        [smallest(), "tts", "say", text, "-o", str(path), "--sample-rate", "16000"],
        env=emulator.env,
        check=True,
    )
    return path


def measured(argv: list[str], env: dict[str, str], stdin: Path | None = None) -> dict[str, float]:
    """Peak RSS (MB), wall time (s) and exit code of `argv`, measured from a wrapper process."""
    script = (
        "import json, resource, subprocess, sys, time\n"
        "stdin = open(sys.argv[1], 'rb') if sys.argv[1] else None\n"
        "started = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL).returncode\n"
        "print(json.dumps({'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,\n"
        "                  'seconds': time.perf_counter() - started, 'code': code}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(stdin or ""), *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    return {"rss_mb": result["rss_kb"] / 1024, "seconds": result["seconds"], "code": result["code"]}


def upload_memory(work: Path, quick: bool) -> dict[str, dict[str, float]]:
    """Peak RSS uploading a small file, a big file, and the big file through stdin."""
    big = (20 if quick else 200) * MB
    with Emulator(*INSTANT) as emulator:
        small = spoken_wav(work / "small.wav", emulator)
        large = silent_wav(work / "large.wav", big)
        cli = [smallest(), "-q", "stt", "transcribe"]
        small_mb, big_mb = small.stat().st_size / MB, big / MB
        runs = [
            (f"{small_mb:.2f} MB file", small_mb, measured([*cli, str(small)], emulator.env)),
            (f"{big_mb:.0f} MB file", big_mb, measured([*cli, str(large)], emulator.env)),
            (
                f"{big_mb:.0f} MB through stdin (chunked)",
                big_mb,
                measured([*cli, "-"], emulator.env, large),
            ),
        ]
    print(f"## Peak RSS of `smallest stt transcribe` (target ≤ {RSS_TARGET_MB} MB)\n")
    print("| upload | peak RSS MB | wall s | MB/s | exit |\n|---|---:|---:|---:|---:|")
    for name, size, run in runs:
        print(
            f"| {name} | {run['rss_mb']:.1f} | {run['seconds']:.2f} | "
            f"{size / run['seconds']:.1f} | {run['code']:.0f} |"
        )
    worst = max(run["rss_mb"] for _, size, run in runs if size == big_mb)
    ok = worst <= RSS_TARGET_MB and all(run["code"] == 0 for _, _, run in runs)
    print(
        f"\ntarget ≤ {RSS_TARGET_MB} MB for the big uploads: {'met' if ok else 'MISSED'} ({worst:.1f} MB)\n"
    )
    return {name: run for name, _, run in runs}


def copies(work: Path, count: int, emulator: Emulator) -> list[Path]:
    first = spoken_wav(work / "batch-0.wav", emulator)
    files = [first]
    for n in range(1, count):
        copy = work / f"batch-{n}.wav"
        if not copy.exists():
            shutil.copyfile(first, copy)
        files.append(copy)
    return files


def run_batch(files: list[Path], out: Path, *args: str) -> tuple[float, list[int]]:
    """Wall time of one batch on a fresh emulator (realistic pacing), and the statuses it saw."""
    with Emulator() as emulator:
        argv = [smallest(), "-q", "stt", "transcribe", *map(str, files), "--output-dir",
                str(out), *args]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(argv, env=emulator.env, check=True)
        wall = time.perf_counter() - started
        statuses = [e["status"] for e in emulator.requests() if e["path"] == "/waves/v1/stt/"]
    return wall, statuses


def batch_time(work: Path, quick: bool) -> dict[str, float]:
    """Wall time of a batch at --concurrency 1 and 4, and of more files than a minute allows."""
    count = 6 if quick else 20
    with Emulator(*INSTANT) as emulator:
        files = copies(work, 30 if not quick else count, emulator)
    rows: dict[str, tuple[float, list[int]]] = {}
    for concurrency in (1, 4):
        rows[f"{count} files, --concurrency {concurrency}"] = run_batch(
            files[:count], work / f"out-{concurrency}", "--concurrency", str(concurrency)
        )
    if not quick:  # the client-side limiter: 30 requests at 25 a minute
        rows["30 files, --concurrency 4, --max-rpm 25 (default)"] = run_batch(
            files, work / "out-30", "--concurrency", "4"
        )
    size = files[0].stat().st_size / 1024
    print(f"## Batches ({size:.0f} kB files; emulator paced: 150 ms + 1/30 of the audio)\n")
    print("| run | wall s | requests | answered 429 |\n|---|---:|---:|---:|")
    for name, (wall, statuses) in rows.items():
        print(f"| {name} | {wall:.2f} | {len(statuses)} | {statuses.count(429)} |")
    print()
    return {name: wall for name, (wall, _) in rows.items()}


def realtime(quick: bool) -> None:
    """Hook for the realtime engineer: the measurements of `benchmarks/stt_live.py`.

    That module is expected to offer `run(*, quick: bool) -> None`, which prints its own
    markdown tables (it starts its own emulator). Until it exists, this says so.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import stt_live  # type: ignore[import-not-found]
    except ModuleNotFoundError:
        print(
            "## Realtime (`smallest stt live`)\n\nnot measured: benchmarks/stt_live.py is absent\n"
        )
        return
    measure: Callable[..., object] | None = getattr(stt_live, "run", None)
    if measure is None:
        print("## Realtime\n\nnot measured: benchmarks/stt_live.py has no run(quick=…)\n")
        return
    measure(quick=quick)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 20 MB upload, for a smoke run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        upload_memory(work, options.quick)
        batch_time(work, options.quick)
    realtime(options.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
