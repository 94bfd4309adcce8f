"""audiolab's export beside the naive recipe (pyloudnorm + soundfile), in every format.

Part 1, the criterion: the export sweep (``tests/integration/sweep.py``): every
material x input level (-80 to 0 LUFS) x target (-30 to -9 LUFS) x format
(WAV PCM_16/24/FLOAT, FLAC 16/24, Ogg Vorbis, Opus, MP3), the sample rate
(8 to 192 kHz) and channels going round; each file read back (decoded) and
judged by libebur128 (loudness) and a 16x band-limited true peak: per format,
how many land within ±0.5 LU under -1 dBTP, the worst deviation, the highest
true peak, and why the others missed. The naive recipe goes through the WAV
PCM_16 cases of the same grid.

Part 2, the time: exporting a 16 s stereo 32 kHz clip to -16 LUFS with
normalization, the true-peak check, tags and verification, against the naive
recipe, the two run in turn N times (so that both see the same machine; the
median of the per-round ratios, in wall and in CPU time): WAV PCM_16 on a clip
whose peaks allow a plain gain and on one that needs the limiter, then each
other format on the limiter clip.

Part 3, a folder: eight takes of 9-16 s (each its own length), each through the
limiter, against the naive recipe on the same takes.

Part 4, shared gain: four stems of one mix exported with ``gain="shared"``
and with ``gain="each"``: the time of each, the loudest stem's loudness and
how far the stems' loudness differences moved from the originals'.

Part 5 (``--judges``), what the ideal check buys: the full sweep exported with
``ideal_peak=True`` (the default) and with ``ideal_peak=False`` (the ceiling
held by the meter's 32-tap interpolation only), each file's true peak read by
two 16x judges: the sweep's ideal one (a zero-padded FFT) and
``scipy.signal.resample_poly`` (a Kaiser-windowed FIR, what a delivery check
may use): how many files each reads over the ceiling, and the highest.

    python benchmarks/export.py                  # the full grid (1280 cases, minutes)
    python benchmarks/export.py --grid ci        # the grid CI runs
    python benchmarks/export.py --repeat 15 --skip-sweep
    python benchmarks/export.py --skip-sweep --judges  # about 12 minutes

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
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
from audiolab.export import export, export_batch
from audiolab.normalize import limit
from audiolab.testing import programme

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import sweep

SR = 32000
CONTAINERS = {"wav": ("WAV", None), "flac": ("FLAC", None), "ogg": ("OGG", "VORBIS"),
              "opus": ("OGG", "OPUS"), "mp3": ("MP3", "MPEG_LAYER_III")}  # fmt: skip


def naive(audio: np.ndarray, path: Path, sr: int, target: float, depth: str | None = None,
          **_: object) -> None:  # fmt: skip
    """What a notebook does without audiolab: pyloudnorm, then soundfile (no resampling)."""
    meter = pyloudnorm.Meter(sr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns when it clips; the file clips anyway
        measured = meter.integrated_loudness(audio.T)
        normalized = pyloudnorm.normalize.loudness(audio.T, measured, target)
    container, codec = CONTAINERS[path.suffix[1:]]
    if container == "OGG" and codec == "OPUS" and sr != 48000:
        raise ValueError("Opus takes 48 kHz (the naive recipe does not resample)")
    sf.write(path, normalized, sr, subtype=depth or codec, format=container)


def _naive_export(audio: np.ndarray, path: Path, rate: int, **options: object) -> None:
    depth = options["bit_depth"]
    target = float(options["target_lufs"])  # type: ignore[arg-type]
    naive(audio, Path(path), rate, target, str(depth) if depth else None)


def run_sweep(folder: Path, grid: str) -> None:
    cases = sweep.full_grid() if grid == "full" else sweep.ci_grid()
    started = time.perf_counter()
    outcomes = [sweep.run_case(case, folder, export) for case in cases]
    seconds = time.perf_counter() - started
    print(f"sweep ({grid} grid): {len(cases)} cases in {seconds:.0f} s, judged by libebur128")
    print("and a 16x band-limited true peak; within: ±0.5 LU of the target, true peak <= -1 dBTP")
    print(sweep.table(outcomes))
    near = [o for o in outcomes if o.passes]
    goal = sum(o.deviation <= 0.1 for o in near)
    print(f"of the {len(near)} within ±0.5 LU, {goal} are within the 0.1 LU goal")
    wav16 = [c for c in cases if c.format == "wav" and c.bit_depth == "PCM_16"]
    naive_outcomes = [sweep.run_case(case, folder, _naive_export) for case in wav16]
    for outcome in naive_outcomes:  # the naive recipe says nothing: judge it by the file alone
        outcome.within = outcome.passes
    print("\nthe naive recipe (pyloudnorm + soundfile) on the WAV PCM_16 cases:")
    print(sweep.table(naive_outcomes))
    clipped = sum(o.true_peak is not None and o.true_peak > 0 for o in naive_outcomes)
    print(f"naive files with a true peak over 0 dBTP (clipped on playback): {clipped}")


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


#: A recording (a stereo mix of the real-music set) beside the programme: its content
#: near the Nyquist frequency is a recording's, where the programme's hi-hats and
#: snares are white noise up to it (its ideal true peak reads 0.16 dB over the meter's).
RECORDING = Path(__file__).resolve().parents[2] / "shared/real-music/mdbdrums_Hendrix_mix.wav"


def timing(folder: Path, repeat: int) -> None:
    music = programme(16.0, SR)
    plain, _ = limit(music, SR, -6.0)  # peaks low enough for a plain gain to -16 LUFS
    print(f"\nexport of a 16 s stereo {SR} Hz clip to -16 LUFS, {repeat} rounds, in turn")
    print(
        f"{'clip, format':38s} {'audiolab ms':>16s} {'naive ms':>16s} {'audiolab speed':>15s}"
        f" {'(CPU time)':>11s}\n{'':38s} {'median / best':>16s} {'median / best':>16s}"
        f" {'median ratio':>15s} {'median ratio':>11s}"
    )
    rows = [
        ("plain gain, wav PCM_16", plain, SR, -16.0, "wav", True),
        ("needs the limiter, wav PCM_16", music, SR, -16.0, "wav", True),
        # the same take 1 LU lower: a plain gain, its white-noise hi-hats up to the Nyquist
        # frequency, 0.6 dB under the ceiling (the tails bound, summed within its reach)
        ("plain gain, full band, 0.6 dB of room", music, SR, -17.0, "wav", True),
    ]
    rows += [(f"needs the limiter, {f}", music, SR, -16.0, f, True) for f in ("flac", "ogg", "mp3")]
    # the ceiling held by the BS.1770 meter only (ideal_peak=False), as delivery checks hold it
    rows += [
        ("plain gain, wav, meter only", plain, SR, -16.0, "wav", False),
        ("needs the limiter, wav, meter only", music, SR, -16.0, "wav", False),
    ]
    if RECORDING.exists():
        recorded, rate = sf.read(RECORDING, frames=16 * 44100, always_2d=True)
        recorded = np.ascontiguousarray(recorded.T)
        rows += [
            ("recording 44.1 kHz, plain gain, wav", recorded, rate, -16.0, "wav", True),
            ("recording, to -9 LUFS: limiter, wav", recorded, rate, -9.0, "wav", True),
        ]
    for name, clip, rate, target, suffix, ideal_peak in rows:

        def ours(clip: np.ndarray = clip, rate: int = rate, target: float = target,
                 suffix: str = suffix, ideal: bool = ideal_peak) -> None:  # fmt: skip
            export(clip, folder / f"ours.{suffix}", rate, target_lufs=target, ideal_peak=ideal)

        def theirs(clip: np.ndarray = clip, rate: int = rate, target: float = target,
                   suffix: str = suffix) -> None:  # fmt: skip
            naive(clip, folder / f"naive.{suffix}", rate, target, "PCM_16" if suffix in
                  ("wav", "flac") else None)  # fmt: skip

        r = paired(ours, theirs, repeat)
        print(
            f"{name:38s} {1000 * r['ours_wall']:7.1f} / {1000 * r['ours_best']:5.1f}"
            f" {1000 * r['theirs_wall']:7.1f} / {1000 * r['theirs_best']:5.1f}"
            f" {r['wall_ratio']:14.2f}x {r['cpu_ratio']:10.2f}x"
        )
    opus = [time.perf_counter()]
    export(music, folder / "ours.opus", SR)
    took = 1000 * (time.perf_counter() - opus[0])
    print(f"{'needs the limiter, opus (resampled)':38s} {took:8.1f}"
          "      (the naive recipe cannot write 32 kHz Opus)")  # fmt: skip
    print(
        "audiolab also checks the true peak, limits when needed, tags the file (bext for WAV), "
        "and re-reads or decodes and measures it; the naive recipe does none of it."
    )


def takes(folder: Path, repeat: int) -> None:
    """A folder of takes of eight lengths, each to -16 LUFS through the limiter: the ideal
    check's transforms come in a few lengths, so its kernels serve them all."""
    seconds = (9.0, 10.3, 11.1, 12.2, 13.7, 14.4, 15.6, 16.0)
    clips = [programme(s, SR, seed=i) for i, s in enumerate(seconds)]

    def ours() -> None:
        for i, clip in enumerate(clips):
            export(clip, folder / f"take{i}.wav", SR, target_lufs=-16.0)

    def theirs() -> None:
        for i, clip in enumerate(clips):
            naive(clip, folder / f"naive{i}.wav", SR, -16.0, "PCM_16")

    r = paired(ours, theirs, repeat)
    per = 1000 / len(clips)
    print(
        f"\n8 takes of 9-16 s, limited, a take: audiolab {per * r['ours_wall']:.1f} ms,"
        f" naive {per * r['theirs_wall']:.1f} ms, {r['wall_ratio']:.2f}x"
        f" (CPU {r['cpu_ratio']:.2f}x)"
    )


def shared(folder: Path, repeat: int) -> None:
    mix = [programme(8.0, SR, seed=s) * g for s, g in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.1))]
    before = [loudness.integrated(stem, SR) for stem in mix]
    print(f"\nshared gain: 4 stems of 8 s at {', '.join(f'{b:.1f}' for b in before)} LUFS, to -16")
    for gain in ("shared", "each"):
        paths = [folder / f"{gain}{i}.wav" for i in range(len(mix))]
        seconds = []
        for _ in range(max(1, repeat // 5)):
            started = time.perf_counter()
            results = export_batch(mix, paths, SR, gain=gain, jobs=1)
            seconds.append(time.perf_counter() - started)
        after = [loudness.integrated(sf.read(p, always_2d=True)[0].T, SR) for p in paths]
        moved = max(
            abs((a - after[0]) - (b - before[0])) for a, b in zip(after, before, strict=True)
        )
        print(f"  gain={gain:6s} {1000 * statistics.median(seconds):7.0f} ms; loudest "
              f"{after[0]:.2f} LUFS; stems' differences moved by up to {moved:.2f} LU; "
              f"all within: {all(r.within_tolerance for r in results)}")  # fmt: skip


def polyphase_true_peak(audio: np.ndarray, factor: int = 16) -> float:
    """dBTP by ``scipy.signal.resample_poly`` ``factor`` times (its default Kaiser
    FIR), silence either side, the largest magnitude."""
    from scipy import signal

    peak = 0.0
    for channel in np.atleast_2d(audio):
        padded = np.concatenate([np.zeros(256), channel, np.zeros(256)])
        peak = max(peak, float(np.abs(signal.resample_poly(padded, factor, 1)).max()))
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def judges(folder: Path) -> None:
    """The full sweep with and without the ideal check, each file read by both judges."""
    print("\nthe ceiling by two 16x judges, full sweep (files the export wrote; -1 dBTP)")
    print(f"{'export':22s} {'files':>5s} {'over, FFT':>9s} {'highest':>8s} "
          f"{'over, FIR':>9s} {'highest':>8s} {'seconds':>7s}")  # fmt: skip
    for ideal_peak in (True, False):
        started = time.perf_counter()
        ours = functools.partial(export, ideal_peak=ideal_peak)
        outcomes = [
            sweep.run_case(case, folder, ours, {"fir": polyphase_true_peak})
            for case in sweep.full_grid()
        ]
        written = [o for o in outcomes if o.error is None]  # the others: silent inputs
        ideal_peaks = [o.true_peak for o in written if o.true_peak is not None]
        fir_peaks = [o.extra["fir"] for o in written]
        print(f"{f'ideal_peak={ideal_peak}':22s} {len(written):5d} "
              f"{sum(p > sweep.CEILING for p in ideal_peaks):9d} {max(ideal_peaks):8.3f} "
              f"{sum(p > sweep.CEILING for p in fir_peaks):9d} {max(fir_peaks):8.3f} "
              f"{time.perf_counter() - started:7.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--grid", choices=["full", "ci"], default="full")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--judges", action="store_true", help="part 5 (about 12 minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_sweep:
            run_sweep(Path(folder), args.grid)
        timing(Path(folder), args.repeat)
        takes(Path(folder), max(3, args.repeat // 3))
        shared(Path(folder), args.repeat)
        if args.judges:
            judges(Path(folder))


if __name__ == "__main__":
    main()
