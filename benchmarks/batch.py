"""measure_many and export_wav_batch: one process, audiolab's pool and a plain pool, side by side.

Each configuration runs in a fresh process on the same files, in turn, for
several rounds (medians, and the ratio of each round's pair):

* ``serial``: ``jobs=1``, as a notebook calls it;
* ``audiolab``: ``jobs=N`` worker processes (audiolab's pool: one thread each);
* ``plain pool``: what a user writes without audiolab's pool,
  ``ProcessPoolExecutor(N).map(measure, paths)``, workers with their default threads;
* ``baseline``: with ``--baseline-tree DIR``, ``jobs=N`` with the audiolab found in
  DIR (another checkout, e.g. ``git worktree add /tmp/old <commit>``): how a change of
  the pool's machinery compares, in the same run.

    python benchmarks/batch.py                      # 200 files of 10 s, 2 processes, 3 rounds
    python benchmarks/batch.py --files 100 --only measure --baseline-tree /tmp/old

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


def run_one(folder: str, what: str, how: str, jobs: int) -> float:
    """Time one batch in this process (called in a fresh process)."""
    from audiolab.export import export_wav_batch
    from audiolab.measure import measure, measure_many

    paths = sorted(Path(folder).glob("clip*.wav"))
    if what == "measure":
        measure(paths[0])  # imports and caches, outside the timing
        started = time.perf_counter()
        if how == "plain":
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(jobs, mp_context=context) as pool:
                results = list(pool.map(measure, paths, chunksize=4))
        else:
            results = measure_many(paths, jobs=jobs)
    else:
        import soundfile as sf

        audio = [sf.read(p, always_2d=True)[0].T for p in paths]
        out = [Path(folder) / f"out-{how}-{i}.wav" for i in range(len(paths))]
        export_wav_batch(audio[:1], out[:1], 32000, jobs=1)
        started = time.perf_counter()
        if how == "plain":
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from audiolab.export import export_wav

            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(jobs, mp_context=context) as pool:
                rate = [32000] * len(out)
                results = list(pool.map(export_wav, audio, out, rate, chunksize=4))
        else:
            results = export_wav_batch(audio, out, 32000, jobs=jobs)
    seconds = time.perf_counter() - started
    assert not any(isinstance(r, Exception) for r in results), "an item failed"
    return seconds


def fresh(folder: str, what: str, how: str, jobs: int, tree: str | None) -> float:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import batch; "
        "print(batch.run_one(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))"
    )
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = tree
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), folder, what, how, str(jobs)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=tree or os.getcwd(),
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("measure", "export"))
    parser.add_argument("--baseline-tree", help="a checkout whose audiolab runs as 'baseline'")
    args = parser.parse_args()
    import soundfile as sf

    from audiolab.synth import reference

    here = str(Path(__file__).resolve().parents[1])
    configurations = [
        ("serial", "audiolab", 1, here),
        ("audiolab", "audiolab", args.jobs, here),
        ("plain pool", "plain", args.jobs, here),
    ]
    if args.baseline_tree:
        configurations.append(("baseline", "audiolab", args.jobs, args.baseline_tree))
    with tempfile.TemporaryDirectory() as folder:
        clips = [
            reference(90 + 10 * i, "A minor", args.seconds, sr=32000, seed=i).audio
            for i in range(8)
        ]
        for i in range(args.files):
            sf.write(Path(folder) / f"clip{i:03d}.wav", clips[i % len(clips)].T, 32000)
        print(
            f"{args.files} files of {args.seconds:g} s stereo 32 kHz, {os.cpu_count()} cores, "
            f"{args.jobs} processes; each configuration in a fresh process, "
            f"{args.rounds} rounds in turn; medians in seconds, x = audiolab's speed-up"
        )
        names = [name for name, *_ in configurations]
        print(f"{'':24s} " + " ".join(f"{c:>11s}" for c in names))
        figures = {}
        for what in ("measure", "export"):
            if args.only and what != args.only:
                continue
            times: dict[str, list[float]] = {name: [] for name in names}
            for _ in range(args.rounds):
                for name, how, jobs, tree in configurations:
                    times[name].append(fresh(folder, what, how, jobs, tree))
            figures[what] = times
            label = {"measure": "measure_many", "export": "export_wav_batch"}[what]
            print(f"{label:24s} " + " ".join(f"{statistics.median(times[n]):11.2f}" for n in names))
            for name in names:
                if name != "audiolab":
                    pairs = zip(times[name], times["audiolab"], strict=True)
                    ratios = [other / ours for other, ours in pairs]
                    print(
                        f"{'':24s} x over {name}: {statistics.median(ratios):.2f} "
                        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})"
                    )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
