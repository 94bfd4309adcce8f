"""matplotlib figures of the music analysis: tempo and beats, waveforms, chroma and key, seams.

Part of :mod:`audiolab.ui.plot` (reach them there); the same conventions:
``ax=None`` makes a new figure, every function returns its Axes.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from audiolab.testing import programme
>>> waveform(programme(2.0, 16000), 16000).get_xlabel()
'time (s)'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab.ui.axes import axes_or_new

__all__ = ["chroma_key", "mark_seams", "tempo", "waveform"]


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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
    ax = axes_or_new(ax)
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
