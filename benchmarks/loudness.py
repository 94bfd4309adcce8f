"""The meter side by side with its peers, and its speed machinery against the simple option.

Default: integrated loudness of 10 minutes of stereo 48 kHz audio by audiolab,
pyloudnorm and (when installed) pyebur128 / libebur128, run in turn in one
process; the medians and the median of the per-round ratios are printed.

``--machinery``: each piece of speed machinery the meter keeps, measured
against the simple option on the default workloads (8-30 s takes and 10 min
files):

* the block-matrix K-weighting (``audiolab._blockfilter``) against chunked
  ``scipy.signal.sosfilt`` (4 s at a time, the state carried), both reduced to
  the same 1 ms energies; warm, and in a fresh process, where sosfilt first
  pays ``import scipy.signal``;
* threads against none: the channels measured side by side in a thread pool
  (K-weighting and true peak per channel, as ``report`` needs them) against
  one after another.

    python benchmarks/loudness.py                  # 10 minutes, 5 rounds
    python benchmarks/loudness.py --minutes 2 --rounds 9
    python benchmarks/loudness.py --machinery

Not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from audiolab import loudness
from audiolab.loudness import truepeak
from audiolab.loudness.kweighting import grid_boundaries, k_weighting_sos, subblock_energies
from audiolab.testing import programme


def rounds(sides: dict[str, Callable[[], object]], count: int) -> dict[str, list[float]]:
    """Seconds of every side in every round; the sides take turns going first."""
    for run in sides.values():
        run()  # warm-up: imports, caches, first touch of memory
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for i in range(count):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - started)
    return times


def ratio(times: dict[str, list[float]], slow: str, fast: str) -> float:
    """Median over the rounds of slow / fast: how many times faster ``fast`` is."""
    return statistics.median(s / f for s, f in zip(times[slow], times[fast], strict=True))


def peers(minutes: float, count: int) -> None:
    import pyloudnorm

    sr = 48000
    audio = programme(minutes * 60, sr)  # kick, snare, hats, bass, chords at -1 dBFS
    interleaved = np.ascontiguousarray(audio.T)
    meter = pyloudnorm.Meter(sr)
    sides: dict[str, Callable[[], object]] = {
        "audiolab integrated": lambda: loudness.integrated(audio, sr),
        "pyloudnorm Meter.integrated_loudness": lambda: meter.integrated_loudness(interleaved),
    }
    try:
        import pyebur128
    except ImportError:
        print("pyebur128 not installed: libebur128 skipped")
    else:

        def ebur128() -> float:
            state = pyebur128.R128State(2, sr, pyebur128.MeasurementMode.MODE_I)
            state.add_frames(interleaved.ravel(), len(interleaved))
            return float(pyebur128.get_loudness_global(state))

        sides["pyebur128 (libebur128) MODE_I"] = ebur128
    sides["audiolab report (I, M, S, LRA, TP)"] = lambda: loudness.report(audio, sr)
    readings = {name: run() for name, run in sides.items()}
    times = rounds(sides, count)
    print(f"{minutes:g} min stereo {sr} Hz float64, {count} rounds in turn")
    print(f"{'':38s} {'median s':>9s} {'audiolab is':>12s} {'LUFS':>9s}")
    for name, kept in times.items():
        value = readings[name]
        lufs = value.integrated_lufs if hasattr(value, "integrated_lufs") else value
        faster = (
            ""
            if name.startswith("audiolab")
            else f"{ratio(times, name, 'audiolab integrated'):.2f}x faster"
        )
        print(f"{name:38s} {statistics.median(kept):9.3f} {faster:>12s} {lufs:9.3f}")
    print(
        "report / integrated: "
        f"{ratio(times, 'audiolab report (I, M, S, LRA, TP)', 'audiolab integrated'):.2f}"
    )


# ------------------------------------------------------------- machinery
def sosfilt_energies(x: np.ndarray, sr: int) -> np.ndarray:
    """The simple option: chunked scipy.signal.sosfilt, reduced to the meter's 1 ms energies."""
    from scipy.signal import sosfilt

    sos = k_weighting_sos(sr)
    bounds = grid_boundaries(len(x), sr)
    squares = np.empty(bounds[-1])
    state = np.zeros((2, 2))
    chunk = 4 * sr
    for start in range(0, bounds[-1], chunk):
        y, state = sosfilt(sos, x[start : min(start + chunk, bounds[-1])], zi=state)
        np.square(y, out=squares[start : start + len(y)])
    return np.add.reduceat(squares, bounds[:-1]) if len(bounds) > 1 else np.zeros(0)


def block_energies(x: np.ndarray, sr: int) -> np.ndarray:
    """audiolab's K-weighting (the block filter) to the same energies, BLAS on one thread
    as the meter runs it."""
    from audiolab._threads import single_blas

    with single_blas():
        return subblock_energies(x, sr, grid_boundaries(len(x), sr))


FRESH = """
import sys, time
started = time.perf_counter()
import numpy as np
{imports}
x = np.random.default_rng(0).standard_normal(8 * 32000)
{work}
print(time.perf_counter() - started)
"""


def fresh_process(imports: str, work: str, count: int) -> float:
    """Median seconds of a fresh interpreter importing and measuring one 8 s channel."""
    code = FRESH.format(imports=imports, work=work)
    seconds = []
    for _ in range(count):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        seconds.append(float(done.stdout.strip()))
    return statistics.median(seconds)


def block_filter_against_sosfilt(count: int) -> None:
    print("K-weighting to 1 ms energies: the block filter against chunked sosfilt (one channel)")
    print(f"{'workload':28s} {'block filter':>13s} {'sosfilt':>9s} {'block filter is':>16s}")
    for label, seconds, sr in (
        ("8 s take, 32 kHz", 8, 32000),
        ("30 s take, 48 kHz", 30, 48000),
        ("10 min file, 48 kHz", 600, 48000),
    ):
        x = programme(seconds, sr, channels=1)[0]
        assert np.allclose(block_energies(x, sr), sosfilt_energies(x, sr), rtol=1e-9)
        times = rounds(
            {
                "block": lambda x=x, sr=sr: block_energies(x, sr),
                "sosfilt": lambda x=x, sr=sr: sosfilt_energies(x, sr),
            },
            count if seconds < 60 else max(3, count // 4),
        )
        print(
            f"{label:28s} {1000 * statistics.median(times['block']):10.1f} ms"
            f" {1000 * statistics.median(times['sosfilt']):6.1f} ms"
            f" {ratio(times, 'sosfilt', 'block'):14.2f}x"
        )
    fresh = max(3, count // 3)
    ours = fresh_process(
        "from audiolab.loudness.kweighting import grid_boundaries, subblock_energies\n"
        "from audiolab._threads import single_blas",
        "with single_blas():\n    subblock_energies(x, 32000, grid_boundaries(len(x), 32000))",
        fresh,
    )
    theirs = fresh_process(
        "from scipy.signal import sosfilt\nfrom audiolab.loudness import k_weighting_sos",
        "sosfilt(k_weighting_sos(32000), x)",
        fresh,
    )
    scipy_import = fresh_process("import scipy.signal", "", fresh)
    numpy_only = fresh_process("", "", fresh)
    print(
        f"a fresh process measuring an 8 s channel: block filter {ours:.2f} s, sosfilt "
        f"{theirs:.2f} s (import scipy.signal alone {scipy_import - numpy_only:.2f} s "
        f"over numpy's {numpy_only:.2f} s)"
    )


def threads_against_none(count: int) -> None:
    print(
        "\nthreads against none: the K-weighting and true peak of each channel (what report needs)"
    )
    print(f"{'workload':28s} {'one thread':>11s} {'a thread/channel':>17s} {'threads are':>12s}")

    def measure(x: np.ndarray, sr: int, channel: int) -> tuple[np.ndarray, tuple[float, float]]:
        energies = subblock_energies(x[channel], sr, grid_boundaries(x.shape[1], sr))
        return energies, truepeak.channel_peaks(x[channel], sr)

    pool = ThreadPoolExecutor(2)
    for label, seconds, sr in (
        ("16 s take, 32 kHz", 16, 32000),
        ("30 s take, 48 kHz", 30, 48000),
        ("60 s, 48 kHz", 60, 48000),
        ("10 min file, 48 kHz", 600, 48000),
    ):
        x = programme(seconds, sr)

        def serial(x: np.ndarray = x, sr: int = sr) -> object:
            return [measure(x, sr, c) for c in range(2)]

        def threaded(x: np.ndarray = x, sr: int = sr) -> object:
            return list(pool.map(lambda c: measure(x, sr, c), range(2)))

        from audiolab._threads import single_blas

        with single_blas():
            times = rounds(
                {"serial": serial, "threads": threaded},
                count if seconds < 60 else max(3, count // 4),
            )
        print(
            f"{label:28s} {1000 * statistics.median(times['serial']):8.1f} ms"
            f" {1000 * statistics.median(times['threads']):14.1f} ms"
            f" {ratio(times, 'serial', 'threads'):11.2f}x"
        )
    pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--machinery", action="store_true")
    args = parser.parse_args()
    if args.machinery:
        block_filter_against_sosfilt(max(args.rounds, 12))
        threads_against_none(max(args.rounds, 12))
    else:
        peers(args.minutes, args.rounds)


if __name__ == "__main__":
    main()
