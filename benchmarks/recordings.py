"""What known recordings (`emulator serve --transcripts DIR`) cost the emulator, in process.

    python benchmarks/recordings.py [AUDIO_DIR] [--runs N]

AUDIO_DIR (default ../shared/audio) holds .wav files; each is used as a known recording
(with a placeholder transcript) and as an upload. The table shows, per file, the median of N
runs: loading it as a known recording, hearing an upload of it without recordings (what
every upload costs), with the fingerprint taken alongside, and matching that fingerprint
against all the recordings.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from smallest_cli.emulator.recordings import Recordings, tapped
from smallest_cli.emulator.stt_audio import decode_file, hear_all


def hear(body: bytes, recordings: Recordings | None) -> None:
    """What an upload costs to hear (and to fingerprint, with `recordings`)."""
    decoded = decode_file(io.BytesIO(body), None, None)
    if recordings is not None:
        decoded = tapped(decoded, recordings.fingerprinter(decoded.sample_rate))
    hear_all(decoded)


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "audio"
    parser.add_argument("audio_dir", nargs="?", type=Path, default=default)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = sorted(args.audio_dir.glob("*.wav"))
    if not files:
        parser.error(f"no .wav files in {args.audio_dir}")
    with tempfile.TemporaryDirectory() as folder:
        for path in files:
            shutil.copyfile(path, Path(folder) / path.name)
            (Path(folder) / f"{path.stem}.txt").write_text("A placeholder transcript.")
        load_ms = median_ms(lambda: Recordings.load(Path(folder)), args.runs)
        recordings = Recordings.load(Path(folder))
    print(f"loading {len(files)} recordings: {load_ms:.0f} ms\n")
    print(f"{'file':<28}{'seconds':>8}{'hear ms':>9}{'+print ms':>11}{'match ms':>10}")
    for path in files:
        body = path.read_bytes()
        decoded = decode_file(io.BytesIO(body), None, None)
        printer = recordings.fingerprinter(decoded.sample_rate)
        _, duration = hear_all(tapped(decoded, printer))
        plain = median_ms(partial(hear, body, None), args.runs)
        printed = median_ms(partial(hear, body, recordings), args.runs)
        match = median_ms(partial(recordings.identify, printer.power(), duration), args.runs)
        print(f"{path.name:<28}{duration:>8.1f}{plain:>9.0f}{printed:>11.0f}{match:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
