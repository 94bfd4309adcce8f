"""What the catalog adds to exporting and measuring: N saves of 2 s clips, then queries.

Side by side in one run, on the same clips and options:

* the work itself: ``export_wav`` + ``measure`` to files in a date tree;
* ``Store.save``: the same work plus the pending row, the completed row and
  its measurement JSON in SQLite.

The difference is the catalog's cost (goal: under 5 % of the work).

    python benchmarks/store.py              # 1000 saves
    python benchmarks/store.py --n 200

Not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from audiolab.export import export_wav
from audiolab.measure import measure
from audiolab.store import Store
from audiolab.testing import programme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of saves")
    parser.add_argument("--sr", type=int, default=32000)
    args = parser.parse_args()
    clips = [programme(2.0, args.sr, seed=i) for i in range(8)]

    with tempfile.TemporaryDirectory() as folder:
        plain_root = Path(folder) / "plain"
        store = Store(Path(folder) / "store")
        store.schema_version()  # create the catalog outside the timing

        # Interleave the two so that both see the same machine state.
        plain_seconds = store_seconds = 0.0
        for i in range(args.n):
            clip = clips[i % len(clips)]
            path = plain_root / "2026" / "01" / "01" / f"gen_{i:08x}.wav"
            start = time.perf_counter()
            export_wav(clip, path, args.sr)
            measure(path).to_dict()
            plain_seconds += time.perf_counter() - start

            start = time.perf_counter()
            store.save(clip, args.sr, prompt=f"clip {i} drums and bass", model="bench", seed=i)
            store_seconds += time.perf_counter() - start

        start = time.perf_counter()
        everything = store.records()
        query_all = time.perf_counter() - start
        start = time.perf_counter()
        some = store.records(prompt_contains="7 drums", status="complete", limit=50)
        query_some = time.perf_counter() - start
        start = time.perf_counter()
        stats = store.stats()
        stats_seconds = time.perf_counter() - start

    overhead = store_seconds - plain_seconds
    per_clip = 1000 / args.n
    print(f"{args.n} clips of 2 s stereo {args.sr} Hz, PCM_16 at -16 LUFS, full measure()")
    print(f"{'':38s} {'seconds':>8s} {'per clip ms':>12s}")
    for name, seconds in (
        ("export_wav + measure (the work)", plain_seconds),
        ("Store.save (work + catalog)", store_seconds),
    ):
        print(f"{name:38s} {seconds:8.2f} {seconds * per_clip:12.2f}")
    print(
        f"catalog adds {overhead * per_clip:.2f} ms per clip = "
        f"{100 * overhead / plain_seconds:.1f} % of the work (goal < 5 %)"
    )
    print(f"records() of all {len(everything)} rows: {1000 * query_all:.1f} ms")
    print(f"records(filtered, limit=50) -> {len(some)} rows: {1000 * query_some:.1f} ms")
    print(f"get_storage_stats() over {stats['files']} files: {1000 * stats_seconds:.1f} ms")


if __name__ == "__main__":
    main()
