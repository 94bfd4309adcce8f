"""Tempo, beats and key on real recordings with third-party annotations (../shared/real-music).

Each clip is measured once per session (built-in backend) and scored the
way benchmarks/mir.py scores it: tempo Acc1/Acc2 (4 %), beat F-measure
(mir_eval, 70 ms, untrimmed), key MIREX weighted score. Clips whose manifest
notes call the global tempo ill-defined (a mazurka whose annotated beat
changes metrical level midway) are left out of the tempo scores, not of the
beats.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REAL_MUSIC = Path(__file__).resolve().parents[2].parent / "shared" / "real-music"

# The floors this backend holds today on the set: a regression fails CI.
FLOORS = {"acc1": 0.94, "acc2": 0.95, "beat_f": 0.86, "key": 0.90}
# What issue 13 asks of the built-in backend, all held. Acc1 is the narrowest: 17 of 17,
# the two slow chamber pieces (Borodin 66, Fauré 74) whose pulse is no steadier than
# chance at their eighths read at the slower level (tempo.WEAK_SALIENCE); their beats
# are the eighths' stronger half, which misses the Fauré's syncopated quarters.
ISSUE_FLOORS = {"acc1": 0.75, "acc2": 0.95, "beat_f": 0.85, "key": 0.65}


@pytest.fixture(scope="session")
def real_set() -> list[dict[str, Any]]:
    if not (REAL_MUSIC / "manifest.json").is_file():
        pytest.skip(f"real-music set not found at {REAL_MUSIC} (a clone outside CI's layout)")
    return json.loads((REAL_MUSIC / "manifest.json").read_text())


def _decode(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    data, sr = soundfile.read(str(path), always_2d=True, dtype="float64")
    return np.ascontiguousarray(data.T), int(sr)


def _tempo_is_defined(clip: dict[str, Any]) -> bool:
    return bool(clip.get("tempo")) and "ill-defined" not in (clip.get("notes") or "")


def _scores(clip: dict[str, Any], bpm: float | None, beats: np.ndarray, key: str | None) -> dict:
    import mir_eval

    out: dict[str, float] = {}
    if _tempo_is_defined(clip):
        truth = float(clip["tempo"])
        near = [
            bpm is not None and abs(bpm / (truth * f) - 1) <= 0.04 for f in (1, 2, 0.5, 3, 1 / 3)
        ]
        out["acc1"], out["acc2"] = float(near[0]), float(any(near))
    if clip.get("beats"):
        ref = np.asarray(clip["beats"], dtype=float)
        out["beat_f"] = float(mir_eval.beat.f_measure(ref, beats)) if len(beats) else 0.0
    if clip.get("key"):
        out["key"] = float(mir_eval.key.weighted_score(clip["key"], key)) if key else 0.0
    return out


def _mean(rows: list[dict[str, float]], name: str) -> float:
    return float(np.mean([r[name] for r in rows if name in r]))


@pytest.fixture(scope="session")
def builtin_results(real_set: list[dict[str, Any]]) -> dict[str, Any]:
    pytest.importorskip("mir_eval")
    from audiolab import measure

    rows, answers, seconds = [], {}, []
    for clip in real_set:
        audio, sr = _decode(REAL_MUSIC / clip["file"])
        start = time.perf_counter()
        m = measure(audio, sr, loudness=False, stats=False)
        seconds.append(time.perf_counter() - start)
        answers[clip["id"]] = m
        rows.append(_scores(clip, m.bpm, m.beat_times_s, m.key))
    return {"rows": rows, "answers": answers, "seconds": seconds}


def _summary(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: _mean(rows, name) for name in ("acc1", "acc2", "beat_f", "key")}


def test_the_set_has_what_the_issue_describes(real_set: list[dict[str, Any]]) -> None:
    assert sum(1 for c in real_set if c.get("tempo")) >= 18
    assert sum(1 for c in real_set if c.get("beats")) >= 17
    assert sum(1 for c in real_set if c.get("key")) >= 8
    for clip in real_set:
        assert (REAL_MUSIC / clip["file"]).is_file(), clip["file"]


def test_builtin_backend_holds_its_floors_on_real_music(builtin_results: dict[str, Any]) -> None:
    summary = _summary(builtin_results["rows"])
    print(f"\nbuilt-in on real music: {summary}")
    for name, floor in FLOORS.items():
        assert summary[name] >= floor, (name, summary)


def test_builtin_backend_meets_the_issue_floors(builtin_results: dict[str, Any]) -> None:
    summary = _summary(builtin_results["rows"])
    for name in ("acc1", "acc2", "beat_f", "key"):
        assert summary[name] >= ISSUE_FLOORS[name], (name, summary)


def test_builtin_backend_is_ahead_of_librosa_on_tempo_and_key(
    real_set: list[dict[str, Any]], builtin_results: dict[str, Any]
) -> None:
    librosa = pytest.importorskip("librosa")
    krumhansl = (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    )
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    rows = []
    for clip in real_set:
        if not (_tempo_is_defined(clip) or clip.get("key")):
            continue
        audio, sr = _decode(REAL_MUSIC / clip["file"])
        y = audio.mean(axis=0).astype(np.float32)
        bpm = None
        if _tempo_is_defined(clip):
            bpm = float(np.atleast_1d(librosa.feature.tempo(y=y, sr=sr))[0])
        key = None
        if clip.get("key"):
            chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
            scores = [
                (float(np.corrcoef(chroma, np.roll(p, k))[0, 1]), f"{names[k]} {mode}")
                for mode, p in zip(("major", "minor"), krumhansl, strict=True)
                for k in range(12)
            ]
            key = max(scores)[1]
        rows.append(_scores(clip, bpm, np.zeros(0), key))
    ours = _summary(builtin_results["rows"])
    theirs = {name: _mean(rows, name) for name in ("acc1", "acc2", "key")}
    print(f"\nbuilt-in {ours} | librosa {theirs}")
    assert ours["acc1"] >= theirs["acc1"]
    assert ours["key"] >= theirs["key"]


def test_every_clip_of_music_gets_a_key_and_the_tempo_clips_alternatives(
    real_set: list[dict[str, Any]], builtin_results: dict[str, Any]
) -> None:
    answers = builtin_results["answers"]
    for clip in real_set:
        m = answers[clip["id"]]
        if clip.get("key"):
            assert m.key is not None and 0.0 < m.key_confidence <= 1.0, clip["id"]
        if m.bpm is not None:
            assert 0.0 <= m.tempo_confidence <= 1.0  # 0: onsets, but no steady pulse
            assert all(b > 0 and 0 <= w < 1 for b, w in m.bpm_alternatives)


def test_measuring_a_clip_takes_well_under_a_second(builtin_results: dict[str, Any]) -> None:
    # a loose bound against accidental blow-ups, not a benchmark (see benchmarks/mir.py)
    assert float(np.median(builtin_results["seconds"])) < 2.0


@pytest.mark.parametrize(
    ("clip_id", "eighths"),
    [("fmp_borodin_sq2_mvt3_sec39_rwc", 128.0), ("fmp_faure_op15_sec0-12_smd", 150.0)],
)
def test_a_pulse_no_steadier_than_chance_reads_the_slower_level(
    real_set: list[dict[str, Any]], builtin_results: dict[str, Any], clip_id: str, eighths: float
) -> None:
    from audiolab.analysis.tempo import WEAK_SALIENCE

    clip = next(c for c in real_set if c["id"] == clip_id)
    estimate = builtin_results["answers"][clip_id].tempo_estimate
    assert estimate.pulse_salience < WEAK_SALIENCE
    assert abs(estimate.bpm / clip["tempo"] - 1.0) <= 0.04, estimate.bpm
    # the eighths stay the first alternative, and the confidence says how unsure it is
    faster, _ = estimate.alternatives[0]
    assert abs(faster / eighths - 1.0) <= 0.04, estimate.alternatives
    assert estimate.confidence < 0.1
    period = 60.0 / estimate.bpm
    assert np.median(np.diff(estimate.beat_times_s)) == pytest.approx(period, rel=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("clip_id", ["mdbdrums_Rock_mix", "fmp_faure_op15_sec0-12_smd"])
def test_madmom_backend_reads_real_clips_through_the_same_api(
    real_set: list[dict[str, Any]], clip_id: str
) -> None:
    from audiolab.analysis import _madmom

    try:
        _madmom.import_madmom()
    except ImportError as err:
        pytest.skip(f"madmom is not installed ({err}): pip install 'audiolab[mir]'")
    from audiolab import measure

    clip = next(c for c in real_set if c["id"] == clip_id)
    audio, sr = _decode(REAL_MUSIC / clip["file"])
    m = measure(audio, sr, backend="madmom", loudness=False, stats=False)
    assert m.tempo_estimate.backend == "madmom" and m.key_estimate.backend == "madmom"
    row = _scores(clip, m.bpm, m.beat_times_s, m.key)
    assert row["acc2"] == 1.0
    if "key" in row:
        assert row["key"] >= 0.5
    if clip_id == "mdbdrums_Rock_mix":
        assert row["acc1"] == 1.0 and row["beat_f"] >= 0.9
