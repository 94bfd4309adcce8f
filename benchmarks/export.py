"""audiolab's export beside the naive recipe (pyloudnorm normalize + soundfile write).

Part 1, the criterion: the sweep of tests/integration/test_export_sweep.py (ten
kinds of signal x five targets x PCM_16/PCM_24/FLOAT) through both, each file
read back and measured by audiolab's meter: how many land within ±0.5 LU of
the target with the true peak under -1 dBTP, the worst deviation, and how many
files clipped.

Part 2, the time: exporting a 16 s stereo 32 kHz clip with normalization, the
true-peak check and verification, against the naive recipe (pyloudnorm measure
+ normalize + soundfile write), the two run in turn N times (so that both see
the same machine; the median of the per-round ratios is reported, in wall and
in CPU time), on two clips: one whose peaks allow a plain gain, and one that
needs the limiter.

    python benchmarks/export.py
    python benchmarks/export.py --repeat 40 --skip-sweep

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf

from audiolab import loudness
from audiolab.export import export_wav
from audiolab.normalize import limit
from audiolab.testing import programme

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from test_export_sweep import SIGNALS, SR, TARGETS

DEPTHS = ("PCM_16", "PCM_24", "FLOAT")


def naive(audio: np.ndarray, path: Path, sr: int, target: float, depth: str) -> None:
    """What a notebook does without audiolab: pyloudnorm, then soundfile."""
    meter = pyloudnorm.Meter(sr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns when it clips; the file clips anyway
        measured = meter.integrated_loudness(audio.T)
        normalized = pyloudnorm.normalize.loudness(audio.T, measured, target)
    sf.write(path, normalized, sr, subtype=depth)


def sweep(folder: Path) -> None:
    rows = {"audiolab": [], "pyloudnorm + soundfile": []}
    for kind, make in SIGNALS.items():
        audio = make()
        for target in TARGETS:
            for depth in DEPTHS:
                path = folder / f"{kind}.wav"
                try:
                    export_wav(audio, path, SR, target_lufs=target, bit_depth=depth)
                    rows["audiolab"].append(_judge(path, target))
                except Exception as err:
                    rows["audiolab"].append((False, np.inf, False, str(err)))
                try:
                    naive(audio, path, SR, target, depth)
                    rows["pyloudnorm + soundfile"].append(_judge(path, target))
                except Exception as err:
                    rows["pyloudnorm + soundfile"].append((False, np.inf, False, str(err)))
    total = len(SIGNALS) * len(TARGETS) * len(DEPTHS)
    print(f"sweep: {total} files, within ±0.5 LU of target with true peak <= -1 dBTP")
    print(f"{'':26s} {'pass':>6s} {'worst |dev| LU':>15s} {'true peak > -1':>15s} {'clipped':>8s}")
    for name, results in rows.items():
        ok = sum(r[0] for r in results)
        worst = max(r[1] for r in results)
        over = sum(r[2] for r in results)
        clipped = sum(r[3] is True for r in results)
        print(f"{name:26s} {ok:>3d}/{total:<3d} {worst:15.2f} {over:15d} {clipped:8d}")


def _judge(path: Path, target: float) -> tuple[bool, float, bool, bool]:
    audio, sr = sf.read(path, always_2d=True)
    audio = audio.T
    measured = loudness.integrated(audio, sr)
    peak = loudness.true_peak(audio, sr)
    deviation = abs(measured - target) if np.isfinite(measured) else np.inf
    clipped = bool(np.mean(np.abs(audio) >= 0.9999) > 1e-4)
    return deviation <= 0.5 and peak <= -1.0, deviation, peak > -1.0, clipped


def paired(first: Callable[[], None], second: Callable[[], None], repeat: int) -> dict:
    """Wall and CPU seconds of each, run in turn ``repeat`` times after a warm-up.

    CPU time (``time.process_time``: every thread of this process) is what the work
    costs; wall time is what a user waits, and on a shared machine it swings with
    the other processes. Each round runs both, so the ratio of a round compares the
    two on the same machine state; the median of those ratios is reported.
    """
    first(), second()  # warm-up: imports, caches
    rounds = []
    for i in range(repeat):
        order = (first, second) if i % 2 == 0 else (second, first)  # neither always first
        times = {}
        for run in order:
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times[run] = (time.perf_counter() - wall, time.process_time() - cpu)
        rounds.append((times[first], times[second]))
    return {
        "ours_wall": statistics.median(r[0][0] for r in rounds),
        "theirs_wall": statistics.median(r[1][0] for r in rounds),
        "wall_ratio": statistics.median(r[1][0] / r[0][0] for r in rounds),
        "cpu_ratio": statistics.median(r[1][1] / max(r[0][1], 1e-9) for r in rounds),
        "ours_best": min(r[0][0] for r in rounds),
        "theirs_best": min(r[1][0] for r in rounds),
    }


def timing(folder: Path, repeat: int) -> None:
    music = programme(16.0, SR)
    plain, _ = limit(music, SR, -6.0)  # peaks low enough for a plain gain to -16 LUFS
    print(f"\nexport of a 16 s stereo {SR} Hz clip to -16 LUFS PCM_16, {repeat} rounds, in turn")
    print(
        f"{'clip':30s} {'audiolab ms':>16s} {'naive ms':>16s} {'audiolab speed':>15s}"
        f" {'(CPU time)':>11s}\n{'':30s} {'median / best':>16s} {'median / best':>16s}"
        f" {'median ratio':>15s} {'median ratio':>11s}"
    )
    for name, clip in (("peaks allow a plain gain", plain), ("needs the true-peak limiter", music)):

        def ours(clip: np.ndarray = clip) -> None:
            export_wav(clip, folder / "ours.wav", SR)

        def theirs(clip: np.ndarray = clip) -> None:
            naive(clip, folder / "naive.wav", SR, -16.0, "PCM_16")

        r = paired(ours, theirs, repeat)
        print(
            f"{name:30s} {1000 * r['ours_wall']:7.1f} / {1000 * r['ours_best']:5.1f}"
            f" {1000 * r['theirs_wall']:7.1f} / {1000 * r['theirs_best']:5.1f}"
            f" {r['wall_ratio']:14.2f}x {r['cpu_ratio']:10.2f}x"
        )
    print(
        "audiolab also checks the true peak, limits when needed and re-reads and verifies "
        "the file; the naive recipe does neither."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_sweep:
            sweep(Path(folder))
        timing(Path(folder), args.repeat)


if __name__ == "__main__":
    main()
