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

from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError

__all__ = ["chroma_key", "compare_loudness", "loudness", "mark_seams", "tempo", "waveform"]

#: Figure size of a new figure: fits a notebook column without overlapping text.
FIGSIZE = (9.0, 3.4)
_MOMENTARY = {"color": "#8fb3d9", "linewidth": 0.9}
_SHORT_TERM = {"color": "#1f4e8c", "linewidth": 1.8}


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


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
    ax = _axes(ax)
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
    ax = _axes(ax)
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


def tempo(
    curve: Any,
    beats: Any = None,
    truth: Any = None,
    ax: Any = None,
    *,
    title: str | None = None,
) -> Any:
    """A tempo curve over time, with beat marks and the true tempo when known.

    Parameters
    ----------
    curve : (times_s, bpm) pair
        Or an object with ``times_s`` and ``bpm`` attributes.
    beats : array of beat times in seconds, optional
        Drawn as ticks along the bottom.
    truth : float or (times_s, bpm) pair, optional
        The known tempo (a line) or tempo curve (dashed).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = tempo(([1.0, 2.0, 3.0], [119.0, 120.0, 121.0]), beats=[0.5, 1.0, 1.5], truth=120)
    >>> ax.get_ylabel()
    'tempo (BPM)'
    """
    times, bpm = _pair(curve)
    ax = _axes(ax)
    ax.plot(times, bpm, color="#1f4e8c", linewidth=1.8, label="estimated tempo")
    if truth is not None:
        if np.ndim(truth) == 0:
            ax.axhline(
                float(truth),
                color="#2ca02c",
                linestyle="--",
                label=f"true tempo {float(truth):g} BPM",
            )
        else:
            true_times, true_bpm = _pair(truth)
            ax.plot(true_times, true_bpm, color="#2ca02c", linestyle="--", label="true tempo")
    if beats is not None and len(beats):
        ax.plot(
            np.asarray(beats, dtype=float),
            np.zeros(len(beats)),
            linestyle="none",
            marker="|",
            markersize=10,
            color="#555555",
            transform=ax.get_xaxis_transform(),
            label=f"beats ({len(beats)})",
            clip_on=False,
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("tempo (BPM)")
    values = [
        v
        for v in np.concatenate([np.asarray(bpm, dtype=float), _truth_values(truth)])
        if np.isfinite(v)
    ]
    if values:
        ax.set_ylim(min(values) * 0.9, max(values) * 1.1)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _pair(curve: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(curve, "times_s") and hasattr(curve, "bpm"):
        return np.asarray(curve.times_s, dtype=float), np.asarray(curve.bpm, dtype=float)
    times, values = curve
    return np.asarray(times, dtype=float), np.asarray(values, dtype=float)


def _truth_values(truth: Any) -> np.ndarray:
    if truth is None:
        return np.zeros(0)
    if np.ndim(truth) == 0:
        return np.array([float(truth)])
    return _pair(truth)[1]


def waveform(audio: Any, sr: int, ax: Any = None, *, title: str | None = None) -> Any:
    """The waveform of each channel (min/max envelope when long), in full-scale units.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from audiolab.testing import programme
    >>> ax = waveform(programme(2.0, 16000), 16000)
    >>> ax.get_xlabel(), [float(v) for v in ax.get_ylim()]
    ('time (s)', [-1.05, 1.05])
    """
    x = as_audio(audio)
    rate = check_sample_rate(sr)
    ax = _axes(ax)
    names = (
        ["left", "right", "centre", "left surround", "right surround"] if len(x) > 1 else ["mono"]
    )
    colors = ["#1f4e8c", "#c55a11", "#2ca02c", "#9467bd", "#8c564b"]
    bins = 2000  # enough for any notebook width
    for channel, name, color in zip(x, names, colors, strict=False):
        if len(channel) > 2 * bins:
            step = len(channel) // bins
            blocks = channel[: step * bins].reshape(bins, step)
            times = (np.arange(bins) + 0.5) * step / rate
            ax.fill_between(
                times,
                blocks.min(axis=1),
                blocks.max(axis=1),
                color=color,
                alpha=0.6,
                label=name,
                linewidth=0,
            )
        else:
            ax.plot(
                np.arange(len(channel)) / rate,
                channel,
                color=color,
                alpha=0.8,
                linewidth=0.8,
                label=name,
            )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude (full scale)")
    ax.set_xlim(0.0, x.shape[1] / rate)
    ax.set_ylim(-1.05, 1.05)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def chroma_key(audio: Any, sr: int, ax: Any = None, *, title: str | None = None) -> Any:
    """The chromagram (treble pitch classes over time) with the detected key in the title.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    ax : matplotlib Axes, optional
    title : str, optional
        Put before the key in the title.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from audiolab.synth import reference
    >>> ax = chroma_key(reference(120, "A minor", duration=8.0, sr=16000).audio, 16000)
    >>> ax.get_title().startswith("key: A minor")
    True
    """
    from audiolab.analysis import key as keys

    x = as_audio(audio)
    rate = check_sample_rate(sr)
    chroma = keys.chromagram(x, rate)
    found = keys.estimate(x, rate)
    ax = _axes(ax)
    treble = chroma.treble
    peak = treble.max(axis=0, keepdims=True)
    shown = np.divide(treble, peak, out=np.zeros_like(treble), where=peak > 0)  # per frame
    step = chroma.times_s[1] - chroma.times_s[0] if len(chroma.times_s) > 1 else 1.0
    image = ax.imshow(
        shown,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(
            chroma.times_s[0] - step / 2,
            chroma.times_s[-1] + step / 2 if len(chroma.times_s) else 1.0,
            -0.5,
            11.5,
        ),
        vmin=0.0,
        vmax=1.0,
    )
    ax.set_yticks(range(12), keys.PITCH_CLASSES)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pitch class")
    ax.figure.colorbar(image, ax=ax, label="relative strength", pad=0.01)
    if found.key is None:
        summary = "key: none (no pitch content)"
    else:
        summary = f"key: {found.key} (confidence {found.confidence:.2f})"
    ax.set_title(f"{title} — {summary}" if title else summary)
    return ax


def mark_seams(seams: Any, ax: Any = None, *, annotate: bool = True) -> Any:
    """Mark the seams of a windowed take on any plot over time (loudness, tempo, waveform).

    Parameters
    ----------
    seams : Measurement, sequence of Seam, or sequence of float
        ``measure(..., seams_s=...)`` (its ``seams``), its seams, or seam times in seconds.
    ax : matplotlib Axes, optional
    annotate : bool
        Write at each seam its loudness jump, tempo break and key change.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = mark_seams([30.0, 50.0])
    >>> [round(line.get_xdata()[0]) for line in ax.get_lines()]
    [30, 50]
    """
    found = getattr(seams, "seams", seams) or ()
    ax = _axes(ax)
    for i, seam in enumerate(found):
        t = float(getattr(seam, "time_s", seam))
        name = "seam" if i == 0 else None
        ax.axvline(t, color="#ff7f0e", linestyle=":", linewidth=1.4, label=name)
        if not annotate or not hasattr(seam, "time_s"):
            continue
        parts = [] if seam.loudness_jump_lu is None else [f"{seam.loudness_jump_lu:+.1f} LU"]
        if seam.tempo_break_bpm is not None:
            parts.append(f"{seam.tempo_break_bpm:+.1f} BPM")
        if seam.key_changed:
            parts.append(f"{seam.key_before} → {seam.key_after}")
        ax.annotate("\n".join(parts), xy=(t, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", va="top", fontsize="x-small",
                    color="#ff7f0e")  # fmt: skip
    if found:
        ax.legend(loc="best", fontsize="small")
    return ax
