"""matplotlib figures of what audiolab measures.

Object-oriented matplotlib throughout: every function takes ``ax=None`` (a
new figure of notebook width when None) and returns the Axes it drew on, with
labelled axes in units and a legend. matplotlib is imported inside the
functions, so ``import audiolab`` does not load it.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from audiolab import plot
>>> from audiolab.testing import programme
>>> ax = plot.loudness(programme(6.0, 16000), 16000)
>>> ax.get_ylabel()
'loudness (LUFS)'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from audiolab.errors import AudioError
from audiolab.ui.axes import FIGSIZE, axes_or_new
from audiolab.ui.plot_evaluation import drift, listening
from audiolab.ui.plot_music import chroma_key, mark_seams, tempo, waveform

__all__ = [
    "FIGSIZE",
    "chroma_key",
    "compare_loudness",
    "drift",
    "listening",
    "loudness",
    "mark_seams",
    "tempo",
    "waveform",
]

_MOMENTARY = {"color": "#8fb3d9", "linewidth": 0.9}
_SHORT_TERM = {"color": "#1f4e8c", "linewidth": 1.8}


def _report_of(report_or_audio: Any, sr: int | None) -> Any:
    from audiolab.loudness import LoudnessReport, report

    if isinstance(report_or_audio, LoudnessReport):
        return report_or_audio
    if sr is None:
        raise AudioError("sr is needed when audio is passed instead of a LoudnessReport")
    return report(report_or_audio, sr)


def _finite(values: np.ndarray) -> np.ndarray:
    """-inf (silence) drawn as a gap rather than a plunge."""
    out = np.asarray(values, dtype=float).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def _draw_curves(ax: Any, r: Any, label: str = "", alpha: float = 1.0, **style: Any) -> None:
    prefix = f"{label} " if label else ""
    ax.plot(
        r.momentary_times_s,
        _finite(r.momentary_lufs),
        label=f"{prefix}momentary (400 ms)",
        alpha=alpha,
        **{**_MOMENTARY, **style.get("momentary", {})},
    )
    if len(r.short_term_times_s):
        ax.plot(
            r.short_term_times_s,
            _finite(r.short_term_lufs),
            label=f"{prefix}short-term (3 s)",
            alpha=alpha,
            **{**_SHORT_TERM, **style.get("short_term", {})},
        )


def _draw_target(ax: Any, target_lufs: float | None, tolerance_lu: float) -> None:
    if target_lufs is None:
        return
    ax.axhspan(
        target_lufs - tolerance_lu,
        target_lufs + tolerance_lu,
        color="#2ca02c",
        alpha=0.15,
        label=f"target ±{tolerance_lu:g} LU",
    )
    ax.axhline(target_lufs, color="#2ca02c", linewidth=1.0, label=f"target {target_lufs:g} LUFS")


def _limits(ax: Any, *reports: Any, target_lufs: float | None) -> None:
    values = [
        v
        for r in reports
        for v in np.concatenate([r.momentary_lufs, r.short_term_lufs, [r.integrated_lufs]])
        if np.isfinite(v)
    ]
    if target_lufs is not None:
        values.append(target_lufs)
    if values:
        top = max(values)
        bottom = max(min(values), top - 40.0)  # quiet tails should not flatten the music
        ax.set_ylim(bottom - 2.0, top + 3.0)


def _finish_loudness(
    ax: Any, reports: list[Any], target_lufs: float | None, title: str | None
) -> Any:
    """Axes labels, limits, grid, legend and title of a loudness plot."""
    ax.set_xlabel("time (s)")
    ax.set_ylabel("loudness (LUFS)")
    ax.set_xlim(0.0, max(*(r.duration_seconds for r in reports), 1e-3))
    _limits(ax, *reports, target_lufs=target_lufs)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small", ncols=2)
    if title:
        ax.set_title(title)
    return ax


def loudness(
    report_or_audio: Any,
    sr: int | None = None,
    target_lufs: float | None = -16.0,
    tolerance_lu: float = 0.5,
    ax: Any = None,
    *,
    true_peak_db: float | None = -1.0,
    title: str | None = None,
) -> Any:
    """Momentary and short-term loudness over time, the integrated value and the target.

    Parameters
    ----------
    report_or_audio : LoudnessReport or audio
        A :func:`audiolab.loudness.report`, or audio to measure (then ``sr``).
    sr : int, optional
        Sample rate, when audio is passed.
    target_lufs : float or None
        Target line with the ±``tolerance_lu`` band (None: no target).
    tolerance_lu : float
        Half-width of the band.
    ax : matplotlib Axes, optional
    true_peak_db : float or None
        Ceiling the true peak is compared with in the legend.
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from audiolab.testing import programme
    >>> ax = loudness(programme(6.0, 16000), 16000, target_lufs=-16)
    >>> [t.get_text().split(" ")[0] for t in ax.get_legend().get_texts()][:3]
    ['momentary', 'short-term', 'integrated']
    """
    r = _report_of(report_or_audio, sr)
    ax = axes_or_new(ax)
    _draw_curves(ax, r)
    if np.isfinite(r.integrated_lufs):
        ax.axhline(
            r.integrated_lufs,
            color="#d62728",
            linestyle="--",
            linewidth=1.2,
            label=f"integrated {r.integrated_lufs:.1f} LUFS",
        )
    _draw_target(ax, target_lufs, tolerance_lu)
    peak = f"true peak {r.true_peak_dbtp:.1f} dBTP"
    if true_peak_db is not None:
        peak += " ≤" if r.true_peak_dbtp <= true_peak_db else " >"
        peak += f" ceiling {true_peak_db:g}"
    ax.plot([], [], linestyle="none", marker="v", color="#9467bd", label=peak)
    if np.isfinite(r.true_peak_dbtp):
        ax.annotate(
            f"TP {r.true_peak_dbtp:.1f} dBTP",
            xy=(1.0, 1.0),
            xycoords="axes fraction",
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            color="#9467bd",
            fontsize="small",
        )
    return _finish_loudness(ax, [r], target_lufs, title)


def compare_loudness(
    before: Any,
    after: Any,
    sr: int | None = None,
    target_lufs: float | None = -16.0,
    tolerance_lu: float = 0.5,
    ax: Any = None,
    *,
    labels: Sequence[str] = ("raw", "normalized"),
    title: str | None = None,
) -> Any:
    """Loudness curves of two versions of a clip (raw and normalized) on one axes.

    Parameters
    ----------
    before, after : LoudnessReport or audio
        The two versions (audio needs ``sr``).
    sr : int, optional
    target_lufs, tolerance_lu : float
        Target line and band, as in :func:`loudness`.
    ax : matplotlib Axes, optional
    labels : pair of str
        Legend names of the two versions.
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from audiolab.testing import programme
    >>> clip = programme(4.0, 16000)
    >>> ax = compare_loudness(0.1 * clip, clip, 16000)
    >>> len(ax.get_lines()) >= 4
    True
    """
    first, second = _report_of(before, sr), _report_of(after, sr)
    ax = axes_or_new(ax)
    _draw_curves(
        ax,
        first,
        labels[0],
        alpha=0.8,
        momentary={"color": "#f4b183"},
        short_term={"color": "#c55a11"},
    )
    _draw_curves(ax, second, labels[1])
    for r, label, color in ((first, labels[0], "#c55a11"), (second, labels[1], "#1f4e8c")):
        if np.isfinite(r.integrated_lufs):
            ax.axhline(
                r.integrated_lufs,
                color=color,
                linestyle="--",
                linewidth=1.0,
                label=f"{label} integrated {r.integrated_lufs:.1f} LUFS",
            )
    _draw_target(ax, target_lufs, tolerance_lu)
    return _finish_loudness(ax, [first, second], target_lufs, title)
