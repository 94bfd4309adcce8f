"""Figures of evaluations: what they draw follows the results they are given."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from audiolab import plot
from audiolab.errors import AudioError
from audiolab.listening import TrialAnswer
from audiolab.listening.results import summarize
from audiolab.regress import Comparison, Drift

matplotlib.use("Agg")


def test_pairwise_strengths_are_drawn_strongest_on_top_with_their_intervals() -> None:
    answers = [
        TrialAnswer("t", "pairwise", "ann", k, pair, "A", 1.0)
        for k, pair in enumerate([("x", "y"), ("x", "z"), ("y", "z"), ("x", "y"), ("z", "y")], 1)
    ]
    results = summarize("t", "pairwise", answers, conditions=["x", "y", "z"])
    ax = plot.listening(results)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == results.table["condition"][0]  # the strongest at the top
    (points,) = [line for line in ax.lines if line.get_marker() == "o"]
    assert np.allclose(sorted(points.get_xdata()), sorted(results.table["strength"]))


def test_mushra_means_are_drawn_on_the_100_point_scale() -> None:
    answers = [
        TrialAnswer("t", "mushra", name, 1, ("ref", "hidden reference", "lp"), scores, 9.0)
        for name, scores in [("ann", (100, 20)), ("bob", (95, 40)), ("cat", (50, 30))]
    ]
    results = summarize("t", "mushra", answers, conditions=["hidden reference", "lp"], anchor="lp")
    ax = plot.listening(results)
    assert ax.get_ylim() == (0.0, 100.0) and "1 excluded" in ax.get_title()
    (points,) = [line for line in ax.lines if line.get_marker() == "o"]
    assert list(points.get_ydata()) == [97.5, 30.0]  # cat is excluded


def test_drift_places_each_value_in_tolerances_and_marks_failures() -> None:
    drifts = (
        Drift("a", "bpm", 120.0, 120.25, 0.5, 0.25, True),
        Drift("a", "lufs", -16.0, -17.0, 0.1, -1.0, False, "over tolerance"),
        Drift("a", "key", "C major", "A minor", None, None, False, "changed"),
    )
    ax = plot.drift(Comparison(Path("b.json"), drifts))
    offsets = ax.collections[-1].get_offsets()
    assert np.allclose(offsets[:, 0], [0.5, -3.0, 3.0])  # 0.25 / 0.5; clipped; text at the edge
    assert ax.get_title() == "2 of 3 values drifted from b.json"


def test_an_unknown_kind_is_refused() -> None:
    results = summarize("t", "abx", [], conditions=["a", "b"])
    object.__setattr__(results, "kind", "triangle")
    with pytest.raises(AudioError, match="unknown kind"):
        plot.listening(results)
