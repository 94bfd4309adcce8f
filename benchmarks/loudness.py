"""Integrated loudness of 10 minutes of stereo 48 kHz audio, side by side.

Runs audiolab, pyloudnorm and (when installed) pyebur128 / libebur128 on the
same signal in one process and prints seconds, ratios and the readings.

    python benchmarks/loudness.py            # 10 minutes, best of 3
    python benchmarks/loudness.py --minutes 2 --repeat 5

Not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from audiolab import loudness
from audiolab.testing import programme


def best_of(repeat: int, func: Callable[[], float]) -> tuple[float, float]:
    value = func()  # warm-up: imports, caches, first touch of memory
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sr = 48000
    audio = programme(args.minutes * 60, sr)  # kick, snare, hats, bass, chords at -1 dBFS
    interleaved = np.ascontiguousarray(audio.T)
    print(f"signal: {args.minutes:g} min stereo {sr} Hz float64, best of {args.repeat}")

    rows: list[tuple[str, float, float]] = []
    rows.append(
        ("audiolab integrated", *best_of(args.repeat, lambda: loudness.integrated(audio, sr)))
    )
    report_time, report = best_of(args.repeat, lambda: loudness.report(audio, sr))  # type: ignore[arg-type,return-value]
    rows.append(("audiolab report (I, M, S, LRA, TP)", report_time, report.integrated_lufs))  # type: ignore[attr-defined]

    import pyloudnorm

    meter = pyloudnorm.Meter(sr)
    rows.append(
        (
            "pyloudnorm Meter.integrated_loudness",
            *best_of(args.repeat, lambda: meter.integrated_loudness(interleaved)),
        )
    )
    try:
        import pyebur128
    except ImportError:
        print("pyebur128 not installed: libebur128 column skipped")
    else:

        def ebur128() -> float:
            state = pyebur128.R128State(2, sr, pyebur128.MeasurementMode.MODE_I)
            flat = interleaved.ravel()
            state.add_frames(flat, len(interleaved))
            return float(pyebur128.get_loudness_global(state))

        rows.append(("pyebur128 (libebur128) MODE_I", *best_of(args.repeat, ebur128)))

    ours = rows[0][1]
    print(f"{'':40s} {'seconds':>8s} {'x audiolab':>11s} {'LUFS':>9s}")
    for name, seconds, value in rows:
        print(f"{name:40s} {seconds:8.3f} {seconds / ours:11.2f} {value:9.3f}")
    print(f"report / integrated: {report_time / ours:.2f} (goal < 1.5)")
    print(f"true peak {report.true_peak_dbtp:.2f} dBTP, LRA {report.loudness_range_lu:.2f} LU")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
