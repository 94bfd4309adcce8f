"""measure() against the seed's recipe on a 16 s stereo 32 kHz clip, warm and fresh.

The seed measured a clip with librosa (``beat.beat_track`` for the tempo,
``feature.chroma_cqt`` averaged and correlated with the Krumhansl-Kessler
profiles for the key) and pyloudnorm (integrated loudness). This script
times that recipe and :func:`audiolab.measure.measure` (loudness report,
tempo, tempo curve and beats, key, statistics) on the same WAV file:

* warm: in this process, after a first call, best of ``--repeat`` rounds in
  which the variants take turns;
* fresh: ``python -c "..."`` in a new process, imports included, timed from
  outside (process start to exit) and inside (first import to result);
* header only: ``measure(path, bpm=False, key=False, stats=False,
  loudness=False)``, warm.

    python benchmarks/measure.py                 # best of 10, 3 fresh processes
    python benchmarks/measure.py --repeat 10 --fresh 5

Not a test: timings are printed, never asserted. Goals: warm at least 3x
faster than the recipe, a fresh process under 3 s, header facts under 5 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

RECIPE = """
import numpy as np, soundfile, librosa, pyloudnorm
def recipe(path):
    data, sr = soundfile.read(path, always_2d=True)
    y = data.mean(axis=1).astype(np.float32)
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
    best, name = -2.0, None
    for mode, profile in (("major", MAJOR), ("minor", MINOR)):
        for k in range(12):
            r = float(np.corrcoef(chroma, np.roll(profile, k))[0, 1])
            if r > best:
                best, name = r, NAMES[k] + " " + mode
    lufs = pyloudnorm.Meter(sr).integrated_loudness(data)
    peak = float(np.max(np.abs(data)))
    rms = float(np.sqrt(np.mean(data ** 2)))
    return float(np.atleast_1d(tempo)[0]), name, lufs, peak, rms
"""


def best_of(repeat: int, funcs: dict[str, Callable[[], Any]]) -> dict[str, tuple[float, Any]]:
    """Best time and result of each function, the functions taking turns.

    Taking turns, a moment when the machine is busy slows all of them alike,
    and the best of several rounds is each one's time on a quiet machine.
    """
    values = {name: func() for name, func in funcs.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            values[name] = func()
            times[name].append(time.perf_counter() - start)
    return {name: (min(times[name]), values[name]) for name in funcs}


def fresh(code: str, runs: int) -> tuple[float, float]:
    """Median (outside wall time, inside time) of ``python -c code`` over runs."""
    outside, inside = [], []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        outside.append(time.perf_counter() - start)
        inside.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(outside), statistics.median(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--fresh", type=int, default=3, help="fresh processes per variant")
    args = parser.parse_args()

    import soundfile

    from audiolab import synth
    from audiolab.measure import measure

    ref = synth.reference(120, "A minor", duration=16.0, sr=32000, channels=2, seed=1)
    folder = tempfile.mkdtemp(prefix="audiolab-bench-")
    path = os.path.join(folder, "clip.wav")
    soundfile.write(path, ref.audio.T, ref.sample_rate, subtype="PCM_16")
    print(f"clip: 16 s stereo 32 kHz PCM_16 WAV, {ref.bpm:g} BPM, {ref.key} (synth.reference)")

    namespace: dict[str, Any] = {
        "MAJOR": np.array(KRUMHANSL_MAJOR),
        "MINOR": np.array(KRUMHANSL_MINOR),
        "NAMES": NAMES,
    }
    exec(RECIPE, namespace)  # the recipe, defined once for both timings
    recipe = namespace["recipe"]

    warm = best_of(
        args.repeat,
        {
            "audiolab measure(path), warm": lambda: measure(path),
            "audiolab measure(array), warm": lambda: measure(ref.audio, ref.sample_rate),
            "audiolab header only, warm": lambda: measure(
                path, bpm=False, key=False, stats=False, loudness=False
            ),
            "seed recipe (librosa + pyloudnorm), warm": lambda: recipe(path),
        },
    )
    rows = [(name, seconds) for name, (seconds, _) in warm.items()]
    ours_time, ours = warm["audiolab measure(path), warm"]
    header_time, header = warm["audiolab header only, warm"]
    recipe_time, theirs = warm["seed recipe (librosa + pyloudnorm), warm"]

    ours_code = (
        "import time; t = time.perf_counter(); from audiolab.measure import measure; "
        f"measure({path!r}); print(time.perf_counter() - t)"
    )
    out_ours, in_ours = fresh(ours_code, args.fresh)
    rows.append(("audiolab measure, fresh process (wall)", out_ours))
    rows.append(("audiolab measure, fresh process (import+call)", in_ours))
    recipe_code = (
        "import time; t = time.perf_counter()\n"
        + f"import numpy as np\nMAJOR = np.array({KRUMHANSL_MAJOR!r})\n"
        + f"MINOR = np.array({KRUMHANSL_MINOR!r})\nNAMES = {NAMES!r}\n"
        + RECIPE
        + f"\nrecipe({path!r}); print(time.perf_counter() - t)"
    )
    out_recipe, in_recipe = fresh(recipe_code, args.fresh)
    rows.append(("seed recipe, fresh process (wall)", out_recipe))
    rows.append(("seed recipe, fresh process (import+call)", in_recipe))

    print(f"{'':48s} {'seconds':>9s} {'x audiolab warm':>16s}")
    for name, seconds in rows:
        print(f"{name:48s} {seconds:9.4f} {seconds / ours_time:16.2f}")
    print()
    print(f"warm: recipe / audiolab = {recipe_time / ours_time:.1f}x (goal >= 3)")
    print(f"fresh process: audiolab {out_ours:.2f} s wall (goal < 3 s), recipe {out_recipe:.2f} s")
    print(f"header only: {header_time * 1000:.2f} ms (goal < 5 ms)")
    print()
    print(f"{'':10s} {'BPM':>8s} {'key':>10s} {'LUFS':>8s} {'peak':>7s} {'RMS':>7s}")
    print(
        f"{'audiolab':10s} {ours.bpm:8.2f} {ours.key:>10s} {ours.integrated_lufs:8.2f} "
        f"{ours.peak_amplitude:7.3f} {ours.rms_energy:7.4f}"
    )
    print(
        f"{'recipe':10s} {theirs[0]:8.2f} {theirs[1]:>10s} {theirs[2]:8.2f} "
        f"{theirs[3]:7.3f} {theirs[4]:7.4f}"
    )
    print(f"{'truth':10s} {ref.bpm:8.2f} {ref.key:>10s}")
    print(
        f"header: {header.duration_seconds} s, {header.bit_depth}, {header.file_size_bytes} bytes"
    )


if __name__ == "__main__":
    main()
