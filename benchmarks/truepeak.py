"""Why the true peak reads under the export sweep's ideal reference, and what exactness costs.

The export sweep (``tests/integration/sweep.py``) judges a file's true peak by
*ideal* band-limited interpolation: a zero-padded FFT, a brick wall at the
Nyquist frequency. audiolab's meter interpolates with a 32-tap-per-phase
Kaiser sinc (beta 9) cut off at the Nyquist frequency, 16 times up to 192 kHz:
exact for what that filter passes, it rolls off from about 82 % of the Nyquist
frequency. Material with content up to the Nyquist frequency (noise, clipped
noise, hard-limited clicks and bursts) reads up to about 1.3 dB higher through
the brick wall: this script measures, on every lossless file of the CI grid,

* the reference, audiolab's meter, and Kaiser sincs of 32 to 128 taps a phase
  (the gap closes only like 1 / taps: 128 taps still read 0.26 dB low, so no
  affordable filter closes it, and no fixed margin bounds it: the sinc's tails
  add up like a harmonic series, so the under-read of a finite filter is
  unbounded in general);
* an exact form of the ideal interpolation, independent of the FFT reference:
  for the value a fraction ``f`` from ``x[m]`` to ``x[m + 1]``,
  ``sum_n x[n] sinc(m + f - n)`` is the 32 nearest terms plus the tails, and the
  tails are ``sin(pi f) / pi * sum_k (-1)^k (f - 1/2)^k T_k[m]`` with
  ``T_k[m] = sum_{|o| far} (-1)^o x[m + o] / (1/2 - o)^(k + 1)``; three terms leave
  under 1e-5 of the largest sample, and the ``T_k`` are three correlations
  over the whole signal (one FFT of twice its length and three inverse ones);
* what that costs per channel, against the export of the same clip.

    python benchmarks/truepeak.py            # the CI grid's lossless files
    python benchmarks/truepeak.py --quick    # the six files the sweep pins as misses

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import fft, signal

from audiolab.export import export
from audiolab.loudness import truepeak
from audiolab.testing import programme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration import sweep
from tests.integration.test_export_sweep import METER_MISSES_TRUE_PEAK

HALF = 16  # the exact form's near terms: offsets -15 .. 16
TERMS = 3  # of the tails' expansion in f - 1/2
PAD = 256  # zeros either side, as the reference pads


def kaiser_peak(x: np.ndarray, taps: int, factor: int = 16, beta: float = 9.0) -> float:
    """Largest |value| of x interpolated by a Kaiser sinc of ``taps`` a phase (brute force)."""
    half = taps // 2
    t = (np.arange(taps * factor) - half * factor) / factor
    h = np.sinc(t) * np.i0(beta * np.sqrt(np.clip(1 - (t / half) ** 2, 0, None))) / np.i0(beta)
    up = np.zeros(len(x) * factor)
    up[::factor] = x
    return float(np.abs(signal.oaconvolve(up, h)).max())


@lru_cache(maxsize=8)
def _tail_spectra(n: int, size: int) -> np.ndarray:
    """Spectra of the kernels of the tails, T_k = x correlated with g_k (far offsets only)."""
    o = np.arange(size)
    o = np.where(o < size // 2, o, o - size)
    far = ((o <= -HALF) | (o >= HALF + 1)) & (np.abs(o) < n)
    kernels = [np.where(far, (-1.0) ** (o % 2) / (0.5 - o) ** (k + 1), 0.0) for k in range(TERMS)]
    # correlation: x[m + o] g(o) summed is x convolved with g(-o)
    return np.array([fft.rfft(np.roll(g[::-1], 1)) for g in kernels])


def tails(x: np.ndarray) -> np.ndarray:
    """T_0 .. T_2 of one channel (padded), by FFT: (TERMS, len(x))."""
    n = len(x)
    size = fft.next_fast_len(2 * n, real=True)
    spectrum = fft.rfft(x, size)
    return np.array([fft.irfft(spectrum * g, size)[:n] for g in _tail_spectra(n, size)])


def exact_peak(x: np.ndarray, factor: int = 16) -> float:
    """Largest |value| of ideal (sinc) interpolation of one channel at ``factor`` phases."""
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.zeros(PAD), x, np.zeros(PAD)])
    far = tails(padded)
    offsets = np.arange(-HALF + 1, HALF + 1)
    windows = sliding_window_view(np.concatenate([padded, np.zeros(2 * HALF)]), 2 * HALF)
    windows = windows[: len(padded) - 2 * HALF]  # m = HALF - 1 .. : x[m - 15 .. m + 16]
    best = float(np.abs(x).max())
    for phase in range(1, factor):
        f = phase / factor
        c = math.sin(math.pi * f) / math.pi
        near = windows @ np.sinc(f - offsets)
        rest = sum(c * (-(f - 0.5)) ** k * far[k, HALF - 1 : HALF - 1 + len(near)]
                   for k in range(TERMS))  # fmt: skip
        best = max(best, float(np.abs(near + rest).max()))
    return best


def to_db(a: float) -> float:
    return 20 * math.log10(a) if a > 0 else -math.inf


def compare(ids: set[str] | None) -> None:
    taps = (32, 64, 128)
    print(f"{'file':50s} {'ref':>7s} {'meter':>7s} " + " ".join(f"{t:>6d}t" for t in taps)
          + f" {'exact':>7s}")  # fmt: skip
    under = {name: 0.0 for name in ("meter", *map(str, taps), "exact")}
    with tempfile.TemporaryDirectory() as folder:
        for case in sweep.ci_grid():
            if case.format not in ("wav", "flac") or (ids is not None and case.id not in ids):
                continue
            if case.level < -70:
                continue
            path = Path(folder) / f"x{sweep.EXTENSIONS[case.format]}"
            export(sweep.make_input(case), path, case.rate, format=case.format,
                   bit_depth=case.bit_depth, target_lufs=case.target,
                   true_peak_db=sweep.CEILING)  # fmt: skip
            written, rate = sf.read(path, always_2d=True)
            written = np.ascontiguousarray(written.T)
            ref = sweep.reference_true_peak(written)
            row = {"meter": to_db(truepeak.peaks(written, rate)[1])}
            for t in taps:
                row[str(t)] = to_db(max(kaiser_peak(c, t) for c in written))
            row["exact"] = to_db(max(exact_peak(c) for c in written))
            for name, value in row.items():
                under[name] = max(under[name], abs(ref - value) if name == "exact" else ref - value)
            print(f"{case.id:50s} {ref:7.3f} " + " ".join(f"{v:7.3f}" for v in row.values()))
    print("largest under-read by the reference, dB (exact: largest |difference|):")
    print("  " + ", ".join(f"{name} {value:.3f}" for name, value in under.items()))


def cost(rounds: int = 5) -> None:
    rate, seconds = 32000, 16.0
    clip = programme(seconds, rate, channels=2, seed=1)
    n = clip.shape[1]
    tail_ms, export_ms = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            started = time.perf_counter()
            export(clip, Path(folder) / "a.wav", rate, target_lufs=-9.0)
            export_ms.append(1e3 * (time.perf_counter() - started))
            started = time.perf_counter()
            for channel in clip:
                tails(channel)
            tail_ms.append(1e3 * (time.perf_counter() - started))
    print(f"\n{seconds:g} s stereo {rate} Hz ({n} samples a channel), medians of {rounds}:")
    print(f"  export to -9 LUFS (limited):          {statistics.median(export_ms):7.1f} ms")
    print(f"  the exact form's tails, both channels: {statistics.median(tail_ms):7.1f} ms"
          " (the FFTs alone, kernels cached)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the pinned misses")
    args = parser.parse_args()
    compare(set(METER_MISSES_TRUE_PEAK) if args.quick else None)
    cost()


if __name__ == "__main__":
    main()
