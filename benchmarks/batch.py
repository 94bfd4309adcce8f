"""measure_many and export_wav_batch: serial against a process pool, side by side.

Each configuration runs in a fresh process on the same files:

* serial, one thread: ``jobs=1`` with ``AUDIOLAB_THREADS=1`` and single-threaded
  BLAS, one item after another on one core;
* serial, default: ``jobs=1`` as a notebook calls it (BLAS free to use its
  threads outside the meter);
* pool: ``jobs=N`` worker processes, one thread each, the caller measuring
  too while they start.

    python benchmarks/batch.py              # 200 files of 10 s, 2 processes, 3 rounds
    python benchmarks/batch.py --files 50 --jobs 4 --only measure

Not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SINGLE = {"AUDIOLAB_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def run_one(folder: str, what: str, jobs: int) -> float:
    """Time one batch in this process (called in a fresh process)."""
    from audiolab.export import export_wav_batch
    from audiolab.measure import measure_many

    paths = sorted(Path(folder).glob("clip*.wav"))
    if what == "measure":
        measure_many(paths[:2], jobs=1)  # imports and caches, outside the timing
        started = time.perf_counter()
        results = measure_many(paths, jobs=jobs)
    else:
        import soundfile as sf

        audio = [sf.read(p, always_2d=True)[0].T for p in paths]
        out = [Path(folder) / f"out-{jobs}-{i}.wav" for i in range(len(paths))]
        export_wav_batch(audio[:2], out[:2], 32000, jobs=1)
        started = time.perf_counter()
        results = export_wav_batch(audio, out, 32000, jobs=jobs)
    seconds = time.perf_counter() - started
    assert not any(isinstance(r, Exception) for r in results), "an item failed"
    return seconds


def fresh(folder: str, what: str, jobs: int, environment: dict[str, str]) -> float:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import batch; "
        "print(batch.run_one(sys.argv[2], sys.argv[3], int(sys.argv[4])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), folder, what, str(jobs)],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("measure", "export"))
    args = parser.parse_args()
    import soundfile as sf

    from audiolab.synth import reference

    with tempfile.TemporaryDirectory() as folder:
        clips = [
            reference(90 + 10 * i, "A minor", args.seconds, sr=32000, seed=i).audio
            for i in range(8)
        ]
        for i in range(args.files):
            sf.write(Path(folder) / f"clip{i:03d}.wav", clips[i % len(clips)].T, 32000)
        print(
            f"{args.files} files of {args.seconds:g} s stereo 32 kHz, {os.cpu_count()} cores; "
            f"each configuration in a fresh process, {args.rounds} rounds in turn, medians"
        )
        columns = ("serial 1 thread", "serial default", f"{args.jobs} processes", "x (median)")
        print(f"{'':28s} " + " ".join(f"{c:>15s}" for c in columns))
        figures = {}
        jobs = (("measure", "measure_many (full)"), ("export", "export_wav_batch (-16)"))
        for what, label in jobs:
            if args.only and what != args.only:
                continue
            times: dict[str, list[float]] = {"one": [], "default": [], "pool": []}
            for _ in range(args.rounds):
                times["one"].append(fresh(folder, what, 1, SINGLE))
                times["default"].append(fresh(folder, what, 1, {}))
                times["pool"].append(fresh(folder, what, args.jobs, {}))
            one, default, pool = (statistics.median(times[k]) for k in ("one", "default", "pool"))
            ratios = [d / p for d, p in zip(times["default"], times["pool"], strict=True)]
            figures[what] = {**times, "ratios_default_over_pool": ratios}
            row = (one, default, pool, statistics.median(ratios))  # rounds are paired
            print(f"{label:28s} " + " ".join(f"{v:15.2f}" for v in row))
            print(f"{'':28s} per round: " + ", ".join(f"{r:.2f}x" for r in ratios))
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
