"""The regression notebook's check really checks: a baseline number moved makes it fail."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "08_regression_baseline.ipynb"
BASELINE = REPO / "baselines" / "criterion.json"


def test_the_committed_baseline_covers_the_notebook_grid() -> None:
    baseline = json.loads(BASELINE.read_text())
    cases = baseline["cases"]
    assert len(cases) == 2 * 2 * 3 + 3  # prompts x seeds x targets, and a distance per target
    assert {"integrated_lufs", "true_peak_dbtp", "bpm", "key", "chroma_similarity"} <= set(
        cases["house / seed 1 / -16 LUFS"]
    )
    assert baseline["meta"]["embedding"] == "encodec" and baseline["tolerances"]


@pytest.mark.slow
def test_the_regression_notebook_fails_when_a_baseline_number_is_moved(tmp_path) -> None:
    baseline = json.loads(BASELINE.read_text())
    case = "hip hop / seed 2 / -16 LUFS"
    baseline["cases"][case]["integrated_lufs"] -= 0.2  # four times its tolerance
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(baseline))
    report = tmp_path / "report.json"
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    environment = {"AUDIOLAB_BASELINE": str(moved), "AUDIOLAB_REGRESS_REPORT": str(report)}
    import os

    with pytest.raises(CellExecutionError, match="1 of 63 values drifted") as failure:
        client.execute(env={**os.environ, **environment})
    assert f"{case} integrated_lufs" in str(failure.value)
    found = json.loads(report.read_text())
    (drift,) = [d for d in found["drifts"] if not d["ok"]]
    assert (drift["case"], drift["name"]) == (case, "integrated_lufs")
    assert drift["drift"] == pytest.approx(0.2, abs=0.05)
