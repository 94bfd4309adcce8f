"""matplotlib figures of evaluations: listening-test results and a run's drift from its baseline.

Reached as ``audiolab.plot.listening`` and ``audiolab.plot.drift``. As in
:mod:`audiolab.ui.plot`, each takes ``ax=None`` (a new figure when None)
and returns the Axes, with labelled axes.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from pathlib import Path
>>> from audiolab.regress import Comparison, Drift
>>> from audiolab.ui.plot_evaluation import drift
>>> ax = drift(Comparison(Path("b.json"), (Drift("techno", "bpm", 120.0, 120.2, 0.5, 0.2, True),)))
>>> ax.get_xlabel()
'drift / tolerance'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audiolab.errors import AudioError
from audiolab.ui.axes import axes_or_new

__all__ = ["drift", "listening"]

_OK, _BAD, _NEUTRAL = "#2a7d2e", "#b00020", "#1f4e8c"
#: BS.1534-3's continuous quality scale.
_MUSHRA_GRADES = ("bad", "poor", "fair", "good", "excellent")


def listening(results: Any, ax: Any = None) -> Any:
    """The statistics of a listening test, drawn as its kind asks.

    ABX: each listener's share of right answers (and all listeners'), with
    chance at one half and the p-value on each bar. Pairwise: Bradley–Terry
    strengths with their 95 % intervals. MUSHRA: mean scores with their 95 %
    intervals on the 0–100 scale and its grades, post-screened listeners out.

    Parameters
    ----------
    results : audiolab.listening.results.ListeningResults
        What :meth:`audiolab.listening.ListeningTest.results` returns.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from audiolab.listening import TrialAnswer
    >>> from audiolab.listening.results import summarize
    >>> a = [TrialAnswer("t", "abx", "ann", k, ("a", "b", "a"), "A", 2.0) for k in (1, 2)]
    >>> listening(summarize("t", "abx", a, conditions=["a", "b"])).get_ylabel()
    'right answers'
    """
    table = results.table
    if results.kind == "abx":
        ax = axes_or_new(ax)
        share = table["correct"] / table["trials"].clip(lower=1)
        colors = [_OK if p < 0.05 else _NEUTRAL for p in table["p_value"]]
        positions = np.arange(len(table))
        ax.bar(positions, share, color=colors)
        for x, (p, right, total) in enumerate(
            zip(table["p_value"], table["correct"], table["trials"], strict=True)
        ):
            inside = share.iloc[x] > 0.3  # in the bar, white; over a short one, dark
            ax.text(
                x,
                share.iloc[x] - 0.12 if inside else share.iloc[x] + 0.02,
                f"{right}/{total}\np = {p:.2g}",
                ha="center",
                fontsize=8,
                color="white" if inside else "#333333",
            )
        ax.axhline(0.5, color="#555555", linestyle="--", linewidth=1, label="chance")
        ax.set_xticks(positions, list(table["listener"]))
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("right answers")
        ax.set_xlabel("listener")
        ax.set_title(f"ABX: {results.correct} of {results.total} right, p = {results.p_value:.2g}")
        ax.legend(loc="lower right")
        return ax
    if results.kind == "pairwise":
        ax = axes_or_new(ax, height=0.5 * len(table) + 1.6)
        order = table.iloc[::-1]
        y = np.arange(len(order))
        ax.errorbar(
            order["strength"],
            y,
            xerr=[order["strength"] - order["ci_low"], order["ci_high"] - order["strength"]],
            fmt="o",
            color=_NEUTRAL,
            capsize=4,
        )
        ax.axvline(0.0, color="#555555", linewidth=0.8)
        ax.set_yticks(y, list(order["condition"]))
        ax.set_xlabel("Bradley–Terry strength (log-odds, 95 % interval)")
        ax.set_title(f"pairwise preference: {len(results.trials)} comparisons")
        return ax
    if results.kind == "mushra":
        ax = axes_or_new(ax)
        places = np.arange(len(table))
        means = table["mean"].to_numpy(dtype=float)
        low = np.nan_to_num(means - table["ci_low"].to_numpy(dtype=float))
        high = np.nan_to_num(table["ci_high"].to_numpy(dtype=float) - means)
        for k, grade in enumerate(_MUSHRA_GRADES):
            ax.axhspan(20 * k, 20 * (k + 1), color="#000000", alpha=0.03 * (k % 2 + 1), linewidth=0)
            ax.text(len(table) - 0.4, 20 * k + 10, grade, va="center", fontsize=8, color="#777777")
        ax.errorbar(places, means, yerr=[low, high], fmt="o", color=_NEUTRAL, capsize=5)
        ax.set_xticks(places, list(table["condition"]), rotation=15)
        ax.set_ylim(0, 100)
        ax.set_xlim(-0.5, len(table))
        ax.set_ylabel("score (mean, 95 % interval)")
        excluded = (
            f", {len(results.excluded)} excluded by post-screening" if results.excluded else ""
        )
        ax.set_title(f"MUSHRA: {results.trials['listener'].nunique()} listeners{excluded}")
        return ax
    raise AudioError(f"unknown kind of listening test {results.kind!r}")


def drift(comparison: Any, ax: Any = None) -> Any:
    """Each value of a run against its baseline: drift over tolerance, with the ±1 band.

    Numbers sit at ``(value - baseline) / tolerance`` (clipped to ±3);
    values that changed text, or are missing or new, stand at ±3 in red.

    Parameters
    ----------
    comparison : audiolab.regress.Comparison
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from pathlib import Path
    >>> from audiolab.regress import Comparison, Drift
    >>> changed = Drift("c", "key", "C major", "A minor", None, None, False, "changed")
    >>> ax = drift(Comparison(Path("b.json"), (changed,)))
    >>> ax.get_title()
    '1 of 1 values drifted from b.json'
    """
    drifts = list(comparison.drifts)
    ax = axes_or_new(ax, height=min(12.0, 0.22 * len(drifts) + 1.6))
    positions, colors = [], []
    for d in drifts:
        if d.drift is not None:
            scale = d.tolerance if d.tolerance else max(abs(d.baseline), 1.0) * 1e-9
            positions.append(float(np.clip(d.drift / scale, -3, 3)))
        else:
            positions.append(0.0 if d.ok else 3.0)
        colors.append(_OK if d.ok else _BAD)
    y = np.arange(len(drifts))
    ax.axvspan(-1, 1, color=_OK, alpha=0.1, label="within tolerance")
    ax.scatter(positions, y, c=colors, s=18, zorder=3)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(y, [f"{d.case} · {d.name}" for d in drifts], fontsize=7)
    ax.set_xlim(-3.3, 3.3)
    ax.set_ylim(-0.7, len(drifts) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("drift / tolerance")
    failures = len(comparison.failures)
    where = comparison.baseline_path.name
    ax.set_title(
        f"{failures} of {len(drifts)} values drifted from {where}"
        if failures
        else f"all {len(drifts)} values within tolerance of {where}"
    )
    ax.legend(loc="lower right", fontsize=8)
    return ax
