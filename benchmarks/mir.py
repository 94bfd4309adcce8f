"""Tempo, beats and key on real annotated recordings, audiolab beside librosa, madmom, essentia.

Reads ``../shared/real-music/manifest.json`` (public recordings with
third-party annotations; see its README) and runs, on every clip, each system
that is installed:

* ``audiolab``: :func:`audiolab.measure` with the built-in backend (numpy only);
* ``audiolab[madmom]``: the same call with ``backend="madmom"``;
* ``librosa``: ``feature.tempo`` for the tempo, ``beat.beat_track`` for the
  beats, Krumhansl-Kessler profiles on the mean ``feature.chroma_cqt``;
* ``madmom``: RNN beat activations, DBN beat tracking, the comb-filter tempo
  estimator on the same activations, the CNN key recognizer;
* ``essentia``: ``RhythmExtractor2013(method="multifeature")`` and ``KeyExtractor()``.

Scores (higher is better):

* tempo Acc1 (within 4 % of the annotation) and Acc2 (also at 2, 1/2, 3 or
  1/3 of it), over the clips with a tempo, less those whose notes call the
  global tempo ill-defined (a mazurka whose annotated beat changes metrical
  level midway: 85-100 against 170-190 BPM);
* beat F-measure (``mir_eval.beat.f_measure``, 70 ms) and P-score
  (``mir_eval.beat.p_score``), over the clips with beats; the beats are not
  trimmed (a DAW grid needs the first ones too);
* key, MIREX weighted score (``mir_eval.key.weighted_score``), over the clips
  with a key; no answer scores 0.

Seconds: *warm* is the mean time per clip in this process after a first call
(the audio already decoded; audiolab's includes its loudness report and
statistics, the others only tempo, beats and key); *cold* is a fresh
process's imports and first call on one clip, timed inside the process.

    python benchmarks/mir.py                     # all systems, table only
    python benchmarks/mir.py --per-clip          # and every clip's answers
    python benchmarks/mir.py --systems audiolab,librosa --no-cold

Not a test: the floors are asserted by tests/integration/test_real_music.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL_MUSIC = REPO.parent / "shared" / "real-music"

KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

Result = dict[str, Any]  # bpm (float | None), beats (array), key (str | None)


# ----------------------------------------------------------------- systems
def run_audiolab(audio: np.ndarray, sr: int, backend: str = "builtin") -> Result:
    from audiolab import measure

    m = measure(audio, sr, backend=backend)
    return {"bpm": m.bpm, "beats": m.beat_times_s, "key": m.key}


def run_audiolab_madmom(audio: np.ndarray, sr: int) -> Result:
    return run_audiolab(audio, sr, backend="madmom")


def run_librosa(audio: np.ndarray, sr: int) -> Result:
    import librosa

    y = audio.mean(axis=0).astype(np.float32)
    onset = librosa.onset.onset_strength(y=y, sr=sr)
    bpm = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr))[0])
    _, frames = librosa.beat.beat_track(onset_envelope=onset, sr=sr)
    beats = librosa.frames_to_time(frames, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
    best, name = -2.0, None
    for mode, profile in (("major", KRUMHANSL_MAJOR), ("minor", KRUMHANSL_MINOR)):
        for k in range(12):
            r = float(np.corrcoef(chroma, np.roll(profile, k))[0, 1])
            if r > best:
                best, name = r, f"{NAMES[k]} {mode}"
    return {"bpm": bpm, "beats": beats, "key": name}


_MADMOM: dict[str, Any] = {}


def run_madmom(audio: np.ndarray, sr: int) -> Result:
    from audiolab.analysis import _madmom

    madmom = _madmom.import_madmom()
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    from madmom.features.key import CNNKeyRecognitionProcessor, key_prediction_to_label
    from madmom.features.tempo import TempoEstimationProcessor

    if not _MADMOM:
        _MADMOM.update(
            rnn=RNNBeatProcessor(),
            dbn=DBNBeatTrackingProcessor(fps=100),
            tempo=TempoEstimationProcessor(fps=100),
            key=CNNKeyRecognitionProcessor(),
        )
    signal = madmom.audio.signal.Signal(_madmom.resampled_mono(audio, sr), sample_rate=44100)
    act = _MADMOM["rnn"](signal)
    beats = _MADMOM["dbn"](act)
    tempi = _MADMOM["tempo"](act)
    bpm = float(tempi[0, 0]) if len(tempi) else None
    key = key_prediction_to_label(_MADMOM["key"](signal))
    tonic, mode = key.split()
    return {"bpm": bpm, "beats": np.asarray(beats), "key": f"{tonic} {mode}"}


def run_essentia(audio: np.ndarray, sr: int) -> Result:
    import essentia.standard as es

    y = audio.mean(axis=0).astype(np.float32)
    if sr != 44100:
        y = es.Resample(inputSampleRate=sr, outputSampleRate=44100)(y)
    bpm, beats, _, _, _ = es.RhythmExtractor2013(method="multifeature")(y)
    tonic, scale, _ = es.KeyExtractor()(y)
    names = {"Ab": "G#", "Bb": "A#", "Db": "C#", "Eb": "D#", "Gb": "F#"}
    return {
        "bpm": float(bpm),
        "beats": np.asarray(beats),
        "key": f"{names.get(tonic, tonic)} {scale}",
    }


SYSTEMS: dict[str, tuple[Callable[[np.ndarray, int], Result], str]] = {
    # name: (function, the module that must import)
    "audiolab": (run_audiolab, "audiolab"),
    "audiolab[madmom]": (run_audiolab_madmom, "madmom"),
    "librosa": (run_librosa, "librosa"),
    "madmom": (run_madmom, "madmom"),
    "essentia": (run_essentia, "essentia"),
}


def available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(SYSTEMS[name][1]) is not None


# ----------------------------------------------------------------- scoring
def tempo_accuracy(estimate: float | None, truth: float) -> tuple[float, float]:
    """(Acc1, Acc2): within 4 %; within 4 % of 1, 2, 1/2, 3 or 1/3 times the truth."""
    if estimate is None or not estimate > 0:
        return 0.0, 0.0
    acc1 = abs(estimate / truth - 1.0) <= 0.04
    acc2 = any(abs(estimate / (truth * f) - 1.0) <= 0.04 for f in (1.0, 2.0, 0.5, 3.0, 1 / 3))
    return float(acc1), float(acc2)


def beat_scores(estimate: np.ndarray, truth: list[float]) -> tuple[float, float]:
    """(F-measure, P-score) of mir_eval, beats untrimmed."""
    import mir_eval

    ref, est = np.asarray(truth, dtype=float), np.asarray(estimate, dtype=float)
    if len(est) == 0:
        return 0.0, 0.0
    return float(mir_eval.beat.f_measure(ref, est)), float(mir_eval.beat.p_score(ref, est))


def key_score(estimate: str | None, truth: str) -> float:
    import mir_eval

    if estimate is None:
        return 0.0
    return float(mir_eval.key.weighted_score(truth, estimate))


def tempo_is_defined(clip: dict[str, Any]) -> bool:
    """A global tempo to score: annotated, and not called ill-defined in the clip's notes."""
    return bool(clip.get("tempo")) and "ill-defined" not in (clip.get("notes") or "")


def score(clip: dict[str, Any], result: Result) -> dict[str, float]:
    out: dict[str, float] = {}
    if tempo_is_defined(clip):
        out["acc1"], out["acc2"] = tempo_accuracy(result["bpm"], float(clip["tempo"]))
    if clip.get("beats"):
        out["beat_f"], out["p_score"] = beat_scores(result["beats"], clip["beats"])
    if clip.get("key"):
        out["key"] = key_score(result["key"], clip["key"])
    return out


# ----------------------------------------------------------------- running
def load_set(folder: Path = REAL_MUSIC) -> list[dict[str, Any]]:
    return json.loads((folder / "manifest.json").read_text())


def decode(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    data, sr = soundfile.read(str(path), always_2d=True, dtype="float64")
    return np.ascontiguousarray(data.T), int(sr)


COLD = """
import time, sys
start = time.perf_counter()
sys.path.insert(0, {bench!r})
import numpy as np, soundfile
import mir as bench
audio, sr = bench.decode(bench.Path({path!r}))
begin = time.perf_counter()
bench.SYSTEMS[{name!r}][0](audio, sr)
print(time.perf_counter() - begin)
"""


def cold_seconds(name: str, path: Path) -> float | None:
    """A fresh process's imports and first call on one (decoded) clip."""
    code = COLD.format(bench=str(Path(__file__).parent), path=str(path), name=name)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    if done.returncode != 0:
        print(f"cold run of {name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip().splitlines()[-1])


def run(
    systems: list[str], clips: list[dict[str, Any]], folder: Path, per_clip: bool
) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {name: {"scores": [], "seconds": []} for name in systems}
    decoded = [decode(folder / c["file"]) for c in clips]
    for name in systems:
        func = SYSTEMS[name][0]
        func(*decoded[0])  # warm-up: imports, models, caches
        for clip, (audio, sr) in zip(clips, decoded, strict=True):
            start = time.perf_counter()
            result = func(audio, sr)
            table[name]["seconds"].append(time.perf_counter() - start)
            s = score(clip, result)
            table[name]["scores"].append(s)
            if per_clip:
                bpm = "  none" if result["bpm"] is None else f"{result['bpm']:6.1f}"
                truth = f"{clip['tempo']:6.1f}" if clip.get("tempo") else "     -"
                marks = " ".join(f"{k} {v:.2f}" for k, v in s.items())
                print(
                    f"{name:17s} {clip['id'][:32]:32s} bpm {bpm} (truth {truth}) "
                    f"key {result['key']!s:9s} (truth {clip.get('key')!s:9s}) {marks}"
                )
    return table


def mean_of(scores: list[dict[str, float]], field: str) -> float:
    values = [s[field] for s in scores if field in s]
    return float(np.mean(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=REAL_MUSIC)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--clips", default="", help="comma-separated ids (default: all)")
    parser.add_argument("--per-clip", action="store_true")
    parser.add_argument("--no-cold", action="store_true")
    args = parser.parse_args(argv)
    if not (args.folder / "manifest.json").is_file():
        print(f"no real-music set at {args.folder}", file=sys.stderr)
        return 2
    clips = load_set(args.folder)
    if args.clips:
        wanted = set(args.clips.split(","))
        clips = [c for c in clips if c["id"] in wanted]
    systems = [s for s in args.systems.split(",") if s]
    missing = [s for s in systems if s not in SYSTEMS or not available(s)]
    for s in missing:
        print(f"skipping {s}: not installed", file=sys.stderr)
    systems = [s for s in systems if s not in missing]
    table = run(systems, clips, args.folder, args.per_clip)
    n_tempo = sum(1 for c in clips if tempo_is_defined(c))
    n_beats = sum(1 for c in clips if c.get("beats"))
    n_key = sum(1 for c in clips if c.get("key"))
    print(
        f"\n{len(clips)} clips from {args.folder}: {n_tempo} with a tempo, "
        f"{n_beats} with beats, {n_key} with a key"
    )
    header = (
        f"| {'system':16s} | Acc1 | Acc2 | beat F | P-score | key MIREX | warm s/clip | cold s |"
    )
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for name in systems:
        rows = table[name]["scores"]
        cold = None if args.no_cold else cold_seconds(name, args.folder / clips[0]["file"])
        cold_text = "   -  " if cold is None else f"{cold:6.2f}"
        print(
            f"| {name:16s} | {mean_of(rows, 'acc1'):.2f} | {mean_of(rows, 'acc2'):.2f} "
            f"|  {mean_of(rows, 'beat_f'):.3f} |   {mean_of(rows, 'p_score'):.3f} "
            f"|      {mean_of(rows, 'key'):.2f} |       {np.mean(table[name]['seconds']):5.2f} "
            f"| {cold_text} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
