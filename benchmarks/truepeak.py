"""Why the meter's true peak reads under the sweep's ideal reference, and what exactness costs.

The export sweep (``tests/integration/sweep.py``) judges a file's true peak by
*ideal* band-limited interpolation: a zero-padded FFT, a brick wall at the
Nyquist frequency. audiolab's meter interpolates with a 32-tap-per-phase
Kaiser sinc (beta 9) cut off at the Nyquist frequency, 16 times up to 192 kHz:
exact for what that filter passes, it rolls off from about 82 % of the Nyquist
frequency. Material with content up to the Nyquist frequency (noise, clipped
noise, hard-limited clicks and bursts) reads up to about 1.3 dB higher through
the brick wall. On every lossless file of the CI grid (as the writer makes it)
this script prints

* the reference, the meter, Kaiser sincs of 32 to 128 taps a phase (the gap
  closes only like 1 / taps: 128 taps still read 0.25 dB low; no fixed margin
  bounds it, the sinc's tails adding up like a harmonic series), and
  :func:`audiolab.loudness.ideal.ideal_peak` (the meter's value plus the exact
  residual, which the writer now holds the ceiling by);
* what the ideal check costs against the meter's, and an export; and the
  residual's transforms (:mod:`audiolab.loudness.fourstep`, two channels in one
  complex signal) against per-channel real FFTs of twice the signal, which they
  replaced, the two in turn.

    python benchmarks/truepeak.py            # the CI grid's lossless files
    python benchmarks/truepeak.py --quick    # the six files the sweep pinned as misses

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from audiolab.export import export
from audiolab.loudness import ideal, truepeak
from audiolab.loudness.interpolation import oversampling_factor
from audiolab.testing import programme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration import sweep

#: The files the sweep pinned as the meter's misses before the ideal check.
QUICK = {
    "music@-67.7->-9-32k-stereo-wav-PCM_16",
    "transient@-23->-9-48k-stereo-wav-PCM_16",
    "music@-23->-9-16k-stereo-wav-PCM_16",
    "bursty@-45->-16-16k-mono-flac-PCM_24",
    "dc@-23->-16-192k-stereo-flac-PCM_24",
    "bursty@-23->-9-48k-stereo-wav-PCM_16",
}


def kaiser_peak(x: np.ndarray, taps: int, factor: int = 16, beta: float = 9.0) -> float:
    """Largest |value| of x interpolated by a Kaiser sinc of ``taps`` a phase (brute force)."""
    half = taps // 2
    t = (np.arange(taps * factor) - half * factor) / factor
    h = np.sinc(t) * np.i0(beta * np.sqrt(np.clip(1 - (t / half) ** 2, 0, None))) / np.i0(beta)
    for phase in range(factor):  # each phase passes a constant at unit gain
        h[phase::factor] /= h[phase::factor].sum()
    up = np.zeros(len(x) * factor)
    up[::factor] = x
    return float(np.abs(signal.oaconvolve(up, h)).max())


def to_db(a: float) -> float:
    return 20 * math.log10(a) if a > 0 else -math.inf


def compare(ids: set[str] | None) -> None:
    taps = (32, 64, 128)
    print(f"{'file':50s} {'ref':>7s} {'meter':>7s} " + " ".join(f"{t:>6d}t" for t in taps)
          + f" {'ideal':>7s}")  # fmt: skip
    under = {name: 0.0 for name in ("meter", *map(str, taps), "ideal")}
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
            row["ideal"] = to_db(ideal.ideal_peak(written, rate))
            for name, value in row.items():
                under[name] = max(under[name], abs(ref - value) if name == "ideal" else ref - value)
            print(f"{case.id:50s} {ref:7.3f} " + " ".join(f"{v:7.3f}" for v in row.values()))
    print("largest under-read by the reference, dB (ideal: largest |difference|):")
    print("  " + ", ".join(f"{name} {value:.3f}" for name, value in under.items()))


def cost(rounds: int = 5) -> None:
    rate, seconds = 32000, 16.0
    clip = programme(seconds, rate, channels=2, seed=1)
    level = 10 ** (-1.02 / 20)
    times: dict[str, list[float]] = {"meter": [], "ideal": [], "export": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for name, run in (
                ("meter", lambda: truepeak.exceeds(clip, rate, level)),
                ("ideal", lambda: ideal.exceeds(clip, rate, level)),
                ("export", lambda: export(clip, Path(folder) / "a.wav", rate, target_lufs=-9.0)),
            ):
                started = time.perf_counter()
                run()
                times[name].append(1e3 * (time.perf_counter() - started))
    print(f"\n{seconds:g} s stereo {rate} Hz ({clip.shape[1]} samples a channel), medians of "
          f"{rounds}:")  # fmt: skip
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"  is the true peak over -1.02 dBTP? the meter:  {median['meter']:7.1f} ms")
    print(f"  the same by ideal interpolation:              {median['ideal']:7.1f} ms")
    print(f"  export to -9 LUFS (limited, both checks):     {median['export']:7.1f} ms")
    transforms(clip, rate, 3 * rounds)


def real_ffts(clip: np.ndarray, rate: int) -> list[np.ndarray]:
    """The residual rows as before the four-step transform: per channel, one real FFT
    of twice its length and an inverse one per term (the kernels' spectra made once)."""
    from scipy import fft

    n = clip.shape[1]
    size = ideal._residual_size(n)
    if (size, rate) not in _REAL_SPECTRA:  # the kernels, as the residual defines them
        factor = oversampling_factor(rate)
        _REAL_SPECTRA[size, rate] = [
            fft.rfft(ideal._kernel(size, factor, k)).astype(np.complex64) for k in range(2)
        ]
    spectra = _REAL_SPECTRA[size, rate]
    found = []
    for channel in clip:
        padded = np.zeros(size, dtype=np.float32)
        padded[1 : n + 1] = channel
        spectrum = fft.rfft(padded)
        found.append(np.stack([fft.irfft(spectrum * spectra[k], size)[: n + 1] for k in range(2)]))
    return found


_REAL_SPECTRA: dict[tuple[int, int], list[np.ndarray]] = {}


def transforms(clip: np.ndarray, rate: int, rounds: int) -> None:
    """The residuals of both channels by the four-step transform against per-channel real
    FFTs (what it replaced), in turn; and that the two agree."""
    n = clip.shape[1]
    old, new = real_ffts(clip, rate), ideal.residuals(clip, rate)
    apart = max(float(np.abs(o - r.rows[:, : n + 1]).max()) for o, r in zip(old, new, strict=True))
    walls: dict[str, list[float]] = {"real": [], "four-step": []}
    ratios = []
    runs = (("real", real_ffts), ("four-step", ideal.residuals))
    for i in range(rounds):
        spent = {}
        for name, run in runs[:: 1 if i % 2 else -1]:
            wall = time.perf_counter()
            run(clip, rate)
            spent[name] = time.perf_counter() - wall
            walls[name].append(1e3 * spent[name])
        ratios.append(spent["real"] / spent["four-step"])
    real, four = (statistics.median(walls[name]) for name in ("real", "four-step"))
    print(f"  both channels' residuals, real FFTs a channel: {real:7.1f} ms")
    print(f"  the two in one four-step complex transform:   {four:7.1f} ms,"
          f" {statistics.median(ratios):.2f}x faster (median of {rounds} paired rounds;"
          f" the rows agree within {apart:.1e})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the pinned misses")
    args = parser.parse_args()
    compare(QUICK if args.quick else None)
    cost()


if __name__ == "__main__":
    main()
