"""Regression baselines: every value checked, drift named, the baseline changed only on purpose."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from audiolab.errors import AudioError
from audiolab.regress import RegressionError, compare, load_baseline, update_baseline

RUN = {
    "techno / seed 1": {"integrated_lufs": -16.01, "bpm": 128.0, "key": "A minor", "fd": 2.0e-6},
    "ambient / seed 1": {"integrated_lufs": -15.98, "bpm": None, "key": "C major", "fd": 1.0e-6},
}
TOLERANCES = {"integrated_lufs": 0.05, "bpm": 0.5, "fd": "1%"}


@pytest.fixture
def baseline(tmp_path) -> Path:
    return update_baseline(RUN, tmp_path / "baseline.json", tolerances=TOLERANCES, meta={"m": 1})


def _moved(case, name, value):
    run = json.loads(json.dumps(RUN))
    run[case][name] = value
    return run


def test_a_run_equal_to_its_baseline_passes(baseline) -> None:
    comparison = compare(RUN, baseline)  # the baseline's own tolerances
    assert comparison.ok and len(comparison.drifts) == 8
    comparison.assert_ok()
    assert "all 8 values within tolerance" in comparison.summary()


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [("integrated_lufs", -16.05, -16.07), ("bpm", 128.49, 128.6), ("fd", 2.019e-6, 2.03e-6)],
)
def test_numbers_drift_past_their_tolerance_and_not_before(baseline, name, inside, outside) -> None:
    case = "techno / seed 1"
    assert compare(_moved(case, name, inside), baseline).ok
    comparison = compare(_moved(case, name, outside), baseline)
    (failure,) = comparison.failures
    assert (failure.case, failure.name, failure.reason) == (case, name, "over tolerance")
    assert math.isclose(failure.drift, outside - RUN[case][name])
    with pytest.raises(RegressionError, match=f"{case} {name}"):
        comparison.assert_ok()


def test_a_percentage_tolerance_scales_with_the_baseline(baseline) -> None:
    comparison = compare(_moved("techno / seed 1", "fd", 2.03e-6), baseline)
    assert math.isclose(comparison.failures[0].tolerance, 0.01 * 2.0e-6)


def test_text_missing_and_new_values_are_drift(baseline) -> None:
    run = _moved("techno / seed 1", "key", "A major")
    del run["ambient / seed 1"]["fd"]
    run["new case"] = {"bpm": 90.0}
    reasons = {(d.case, d.name): d.reason for d in compare(run, baseline).failures}
    assert reasons == {
        ("techno / seed 1", "key"): "changed",
        ("ambient / seed 1", "fd"): "missing in the run",
        ("new case", "bpm"): "not in the baseline",
    }
    assert (
        compare(_moved("ambient / seed 1", "bpm", 80.0), baseline).failures[0].reason == "changed"
    )


def test_nan_matches_nan_and_nothing_else(tmp_path) -> None:
    path = update_baseline({"a": {"x": float("nan")}}, tmp_path / "b.json")
    assert compare({"a": {"x": float("nan")}}, path).ok
    assert not compare({"a": {"x": 1.0}}, path).ok


def test_explicit_tolerances_replace_the_baseline_ones(baseline) -> None:
    moved = _moved("techno / seed 1", "integrated_lufs", -16.2)
    assert not compare(moved, baseline).ok
    assert compare(moved, baseline, {**TOLERANCES, "integrated_lufs": 0.5}).ok
    assert compare(moved, baseline, {"*": 1.0, "fd": "1%"}).ok
    with pytest.raises(AudioError, match="tolerance of 'bpm'"):
        compare(RUN, baseline, {"bpm": "a lot"})


def test_a_dataframe_of_results_compares_like_a_mapping(baseline) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([{"case": case, **values} for case, values in RUN.items()])
    assert compare(frame, baseline).ok
    with pytest.raises(AudioError, match="results must map each case"):
        compare([1, 2], baseline)


def test_what_changed_since_the_baseline_is_said_with_the_drift(baseline) -> None:
    comparison = compare(_moved("techno / seed 1", "bpm", 140.0), baseline, meta={"m": 2})
    assert comparison.meta_changes == {"m": (1, 2)}
    assert "since the baseline: m 1 -> 2" in comparison.summary()


def test_updating_is_explicit_atomic_and_keeps_the_tolerances(baseline) -> None:
    update_baseline(_moved("techno / seed 1", "bpm", 130.0), baseline)
    document = load_baseline(baseline)
    assert document["cases"]["techno / seed 1"]["bpm"] == 130.0
    assert document["tolerances"] == TOLERANCES and document["audiolab_baseline"] == 1
    assert [p.name for p in baseline.parent.iterdir()] == ["baseline.json"]  # no temporary left


def test_a_missing_or_broken_baseline_says_what_to_do(tmp_path) -> None:
    with pytest.raises(AudioError, match="update_baseline"):
        compare(RUN, tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(AudioError, match="not JSON"):
        compare(RUN, tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[]")
    with pytest.raises(AudioError, match="not an audiolab baseline"):
        load_baseline(tmp_path / "other.json")


# ------------------------------------------------------------------ the command line
def _notebook(path: Path, source: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


CHECK = """
import os
from audiolab.regress import compare, update_baseline
run = {"a": {"bpm": float(os.environ.get("BPM", "120"))}}
if os.environ.get("AUDIOLAB_UPDATE_BASELINE") == "1":
    update_baseline(run, os.environ["AUDIOLAB_BASELINE"], tolerances={"bpm": 0.5})
comparison = compare(run, os.environ["AUDIOLAB_BASELINE"])
comparison.write_report(os.environ["AUDIOLAB_REGRESS_REPORT"])
comparison.assert_ok()
"""


def _regress(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "audiolab", "regress", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_audiolab_regress_updates_checks_and_names_the_drift(tmp_path) -> None:
    notebook = _notebook(tmp_path / "check.ipynb", CHECK)
    baseline = tmp_path / "baselines" / "b.json"
    done = _regress("--update", "--baseline", str(baseline), str(notebook))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updated" in done.stdout and load_baseline(baseline)["cases"] == {"a": {"bpm": 120.0}}
    same = _regress("--baseline", str(baseline), str(notebook), "--executed", str(tmp_path / "ran"))
    assert same.returncode == 0 and "all 1 values within tolerance" in same.stdout
    assert (tmp_path / "ran" / "check.ipynb").is_file()
    moved = _regress("--baseline", str(baseline), str(notebook), env={"BPM": "121"})
    assert moved.returncode == 1
    assert "drift: a bpm: 121.0, baseline 120.0, drift 1 over tolerance 0.5" in moved.stdout


def test_audiolab_regress_fails_a_notebook_that_breaks_or_reports_nothing(tmp_path) -> None:
    baseline = update_baseline({"a": {"bpm": 120.0}}, tmp_path / "b.json")
    broken = _notebook(tmp_path / "broken.ipynb", "raise ValueError('no weights here')")
    silent = _notebook(tmp_path / "silent.ipynb", "x = 1")
    done = _regress("--baseline", str(baseline), str(broken), str(silent))
    assert done.returncode == 1
    assert "broken.ipynb: failed: ValueError: no weights here" in done.stdout
    assert "silent.ipynb: ran, but wrote no comparison" in done.stdout
    usage = _regress("--baseline", str(tmp_path / "none.json"), str(silent))
    assert usage.returncode == 2 and "make one with --update" in usage.stderr
    assert _regress("--baseline", str(baseline), str(tmp_path / "b.json")).returncode == 2
