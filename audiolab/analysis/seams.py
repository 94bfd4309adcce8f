"""Seams of a windowed take: what changes where one window of generation joins the next.

A take longer than the model's window, or a continuation of a take, is made
of pieces joined at known times (``Generation.seams_s``). Users report that
quality "deteriorates" past 30 s; this measures it, at each seam:

* the jump in short-term loudness (EBU R128, 3 s windows): the 3 s after the
  seam against the 3 s before it, in LU;
* the tempo-curve break: the median of the tempo curve
  (:func:`audiolab.analysis.tempo.estimate`) over the span after the seam
  against the span before, in BPM;
* the key on each side (:func:`audiolab.analysis.key.estimate` of each span),
  and whether it changed.

Each side's span is ``window_s`` seconds (10 by default), cut short by the
neighbouring seams and the ends of the clip. A value that cannot be told (a
side shorter than one 3 s window, no tempo, no key) is None.

Examples
--------
>>> import numpy as np
>>> from audiolab import synth
>>> a = synth.reference(120, "C major", duration=12.0, sr=16000).audio
>>> b = 0.5 * synth.reference(120, "A minor", duration=12.0, sr=16000).audio
>>> (seam,) = seams(np.concatenate([a, b], axis=1), 16000, [12.0])
>>> round(seam.loudness_jump_lu), seam.key_before, seam.key_after, seam.key_changed
(-7, 'C major', 'A minor', True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab._json import json_safe
from audiolab.errors import AudioError

__all__ = ["Seam", "check_seams", "seams"]

#: Seconds of music on each side of a seam that its tempo and key are read from.
WINDOW_S = 10.0
_SHORT_TERM_S = 3.0  # EBU R128 short-term window


@dataclass(frozen=True)
class Seam:
    """What changes across one seam.

    Attributes
    ----------
    time_s : float
    loudness_before_lufs, loudness_after_lufs : float or None
        Short-term loudness of the 3 s before and the 3 s after the seam.
    loudness_jump_lu : float or None
        After minus before.
    tempo_before_bpm, tempo_after_bpm : float or None
        Median of the tempo curve over each side's span.
    tempo_break_bpm : float or None
        After minus before.
    key_before, key_after : str or None
    key_changed : bool or None
        None when either side has no key.
    before_s, after_s : float
        The spans read on each side.

    Examples
    --------
    >>> Seam(30.0, -14.0, -12.5, 1.5, 120.0, 121.0, 1.0, "A minor", "A minor", False,
    ...      10.0, 10.0).to_dict()["loudness_jump_lu"]
    1.5
    """

    time_s: float
    loudness_before_lufs: float | None
    loudness_after_lufs: float | None
    loudness_jump_lu: float | None
    tempo_before_bpm: float | None
    tempo_after_bpm: float | None
    tempo_break_bpm: float | None
    key_before: str | None
    key_after: str | None
    key_changed: bool | None
    before_s: float
    after_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (NaN and infinities as None)."""
        return {name: json_safe(value) for name, value in asdict(self).items()}


def check_seams(seams_s: Any, duration_s: float) -> list[float]:
    """Seam times as sorted floats strictly inside the clip, or :class:`AudioError`.

    Examples
    --------
    >>> check_seams((20.0, 10), 30.0)
    [10.0, 20.0]
    """
    try:
        times = sorted(float(t) for t in seams_s)
    except (TypeError, ValueError):
        message = f"seams_s must be a sequence of times in seconds, got {seams_s!r}"
        raise AudioError(message) from None
    for t in times:
        if not (math.isfinite(t) and 0 < t < duration_s):
            raise AudioError(
                f"seam at {t!r} s is not inside the clip (0 to {duration_s:g} s): "
                f"seams_s={seams_s!r}"
            )
    return times


def _difference(after: float | None, before: float | None) -> float | None:
    if after is None or before is None:
        return None
    return float(after - before)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def seams(
    audio: Any,
    sr: int,
    seams_s: Sequence[float],
    *,
    window_s: float = WINDOW_S,
    short_term: tuple[np.ndarray, np.ndarray] | None = None,
    tempo_curve: tuple[np.ndarray, np.ndarray] | None = None,
    mono: tuple[np.ndarray, int] | None = None,
) -> tuple[Seam, ...]:
    """Loudness jump, tempo break and key change at each seam of a clip.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    seams_s : sequence of float
        The seam times (``Generation.seams_s``).
    window_s : float
        Seconds read on each side for tempo and key (cut at neighbouring seams).
    short_term, tempo_curve, mono : optional
        Already computed ``(times_s, lufs)`` short-term loudness (at 0.1 s or
        finer), ``(times_s, bpm)`` tempo curve and ``(mono, rate)`` analysis
        signal, so that :func:`audiolab.measure.measure` does not compute them
        twice.

    Returns
    -------
    tuple of Seam

    Raises
    ------
    AudioError
        Bad audio or sample rate; a seam outside the clip.

    Examples
    --------
    >>> import numpy as np
    >>> seams(np.zeros((1, 8000 * 10)), 8000, [5.0])[0].loudness_jump_lu is None  # silence
    True
    """
    rate = check_sample_rate(sr)
    x = as_audio(audio)
    duration = x.shape[1] / rate
    times = check_seams(seams_s, duration)
    if not times:
        return ()
    from audiolab import loudness
    from audiolab.analysis import key, tempo
    from audiolab.analysis._signal import analysis_signal

    st_times, st_lufs = short_term if short_term is not None else loudness.short_term(x, rate)
    signal, signal_rate = mono if mono is not None else analysis_signal(x, rate)
    if tempo_curve is None:
        found = tempo.estimate(x, rate)  # the whole band (the key reads the analysis signal)
        tempo_curve = (found.curve_times_s, found.curve_bpm) if found.bpm is not None else None
    curve_t, curve_bpm = tempo_curve if tempo_curve is not None else (np.zeros(0), np.zeros(0))

    def short_term_at(end: float) -> float | None:
        """Short-term loudness of the window ending at ``end`` (None off the curve)."""
        if end < _SHORT_TERM_S - 1e-9 or end > duration + 1e-9 or not len(st_times):
            return None
        i = int(np.argmin(np.abs(st_times - end)))
        return _finite(st_lufs[i]) if abs(st_times[i] - end) <= 0.051 else None

    def tempo_between(start: float, stop: float) -> float | None:
        inside = (curve_t >= start) & (curve_t < stop) & np.isfinite(curve_bpm)
        return float(np.median(curve_bpm[inside])) if inside.any() else None

    def key_between(start: float, stop: float) -> str | None:
        piece = signal[round(start * signal_rate) : round(stop * signal_rate)]
        return key.estimate(piece, signal_rate).key if len(piece) >= signal_rate else None

    found_seams = []
    bounds = [0.0, *times, duration]
    for i, t in enumerate(times):
        start, stop = max(bounds[i], t - window_s), min(bounds[i + 2], t + window_s)
        before, after = short_term_at(t), short_term_at(t + _SHORT_TERM_S)
        tempo_before, tempo_after = tempo_between(start, t), tempo_between(t, stop)
        key_before, key_after = key_between(start, t), key_between(t, stop)
        changed = None if key_before is None or key_after is None else key_before != key_after
        found_seams.append(
            Seam(
                time_s=t,
                loudness_before_lufs=before,
                loudness_after_lufs=after,
                loudness_jump_lu=_difference(after, before),
                tempo_before_bpm=tempo_before,
                tempo_after_bpm=tempo_after,
                tempo_break_bpm=_difference(tempo_after, tempo_before),
                key_before=key_before,
                key_after=key_after,
                key_changed=changed,
                before_s=t - start,
                after_s=stop - t,
            )
        )
    return tuple(found_seams)
