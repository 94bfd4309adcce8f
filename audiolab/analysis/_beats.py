"""Beats: Ellis's dynamic programming on each onset function, and a committee that picks one.

The pieces of :mod:`audiolab.analysis.tempo` that place beats once the tempo
curve is known:

* :func:`track_beats`: the beat tracker of Ellis (2007, "Beat tracking by
  dynamic programming") on one onset function, with a per-frame period.
* :func:`committee`: multi-feature beat tracking (Zapata, Davies & Gómez
  2014): the tracker runs on each of several onset functions, and the beat
  sequence that agrees best with the others wins (the *maximum mean mutual
  agreement*). Trackers that lock onto the beat agree; a tracker led astray
  by its function (the off-beat hi-hats of one, the syncopated chords of
  another) stands alone. The winner is the sequence whose beats the others
  share (F-measure); the mean mutual agreement in information gain (Davies,
  Degara & Plumbley 2011) says how sure the beats are: near 4 bits when
  every tracker finds the same grid, under 1.5 when they scatter (Zapata et
  al.; Holzapfel et al. 2012).
* :func:`phase_from_the_start`: for even eighths, where no onset function
  can tell the beat from the off-beat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from audiolab.analysis._pulse import local_max

__all__ = [
    "committee",
    "f_measure",
    "information_gain",
    "phase_from_the_start",
    "stronger_half",
    "track_beats",
    "track_many",
]

TIGHTNESS = 100.0  # beat tracker: penalty on log(interval / period) ** 2
AMBIGUOUS_PHASE = 0.9  # off-beats this strong (of the beats' onsets): the clip's start decides
GAIN_BINS = 40  # information gain: bins of the beat error histogram (Davies et al. 2011)


def track_beats(strength: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Beat frames by dynamic programming, with a per-frame period (frames).

    A frame's score is its onset strength plus the best predecessor's score
    less ``TIGHTNESS * log(interval / period) ** 2``, predecessors lying half
    a period to two periods back. Frames closer than half the shortest period
    cannot depend on each other, so the recursion runs over blocks of frames
    at once. The last beat is the best score within the last period; leading
    and trailing beats weaker than half the beats' RMS strength are dropped.
    """
    return track_many(strength[None, :], period)[0]


def track_many(strengths: np.ndarray, period: np.ndarray) -> list[np.ndarray]:
    """:func:`track_beats` on each row of ``strengths`` (functions, frames), all at once."""
    k, n = strengths.shape
    score = strengths.astype(float)  # a copy
    backlink = np.full((k, n), -1)
    block = max(1, int(period.min() // 2))
    # predecessors from half the shortest period to twice the longest
    gap = np.arange(max(1, int(period.min() // 2)), math.ceil(2 * period.max()) + 1)
    log_gap = np.log(gap)
    log_period = np.log(period)
    for start in range(1, n, block):
        t = np.arange(start, min(start + block, n))
        previous = t[:, None] - gap[None, :]  # (frames, gaps)
        p = period[t][:, None]
        allowed = (gap[None, :] >= p / 2) & (gap[None, :] <= 2 * p) & (previous >= 0)
        penalty = np.where(
            allowed, -TIGHTNESS * (log_gap[None, :] - log_period[t][:, None]) ** 2, -np.inf
        )
        candidates = score[:, np.maximum(previous, 0)] + penalty[None]  # (k, frames, gaps)
        best = np.argmax(candidates, axis=2)
        value = np.take_along_axis(candidates, best[:, :, None], axis=2)[:, :, 0]
        chain = np.isfinite(value) & (value > 0)
        score[:, t] = strengths[:, t] + np.where(chain, value, 0.0)
        backlink[:, t] = np.where(chain, previous[np.arange(len(t))[None, :], best], -1)
    tail = max(1, int(period[-1]))
    out = []
    for row in range(k):
        frame = n - tail + int(np.argmax(score[row, n - tail :]))
        beats = []
        while frame >= 0:
            beats.append(frame)
            frame = int(backlink[row, frame])
        chosen = np.array(beats[::-1], dtype=np.int64)
        # leading and trailing beats in silence are not beats (librosa's trim)
        strength = strengths[row]
        strong = strength[chosen] >= 0.5 * math.sqrt(float(np.mean(strength[chosen] ** 2)))
        if strong.any():
            first, last = np.flatnonzero(strong)[[0, -1]]
            chosen = chosen[first : last + 1]
        out.append(chosen.astype(float))
    return out


def _gain_one_way(beats: np.ndarray, reference: np.ndarray) -> float:
    """Information gain of ``beats`` measured against ``reference`` (both sorted, >= 2)."""
    i = np.clip(np.searchsorted(reference, beats), 1, len(reference) - 1)
    nearest = np.where(beats - reference[i - 1] < reference[i] - beats, i - 1, i)
    error = beats - reference[nearest]
    intervals = np.diff(reference)
    # each error over the reference interval it falls in (after or before its nearest beat)
    after = intervals[np.minimum(nearest, len(intervals) - 1)]
    before = intervals[np.maximum(nearest - 1, 0)]
    relative = error / np.where(error >= 0, after, before)
    relative = np.mod(relative + 0.5, 1.0) - 0.5
    counts = np.histogram(relative, bins=GAIN_BINS, range=(-0.5, 0.5))[0].astype(float)
    share = counts[counts > 0] / counts.sum()
    return float(math.log2(GAIN_BINS) + np.sum(share * np.log2(share)))


def _hits(x: np.ndarray, y: np.ndarray, tolerance: float) -> int:
    """How many of the beats ``x`` have a beat of ``y`` within ``tolerance`` (both sorted)."""
    i = np.clip(np.searchsorted(y, x), 1, max(1, len(y) - 1))
    near = np.minimum(np.abs(x - y[i - 1]), np.abs(x - y[np.minimum(i, len(y) - 1)]))
    return int(np.sum(near <= tolerance))


def f_measure(a: np.ndarray, b: np.ndarray, tolerance: float = 7.0) -> float:
    """The F-measure of two beat sequences (frames), beats within ``tolerance`` matching.

    Each side's beats that have one of the other's within the tolerance (7
    frames: the usual 70 ms) count as hits; precision and recall are those
    shares of ``a`` and of ``b``. Either sequence empty: 0.
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    precision = _hits(a, b, tolerance) / len(a)
    recall = _hits(b, a, tolerance) / len(b)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def information_gain(a: np.ndarray, b: np.ndarray) -> float:
    """How well one beat sequence predicts the other, in bits (0 to log2(40) = 5.3).

    The beat error histogram (Davies, Degara & Plumbley 2011): each beat's
    distance to the nearest beat of the other sequence, over the local
    inter-beat interval, in 40 bins from -1/2 to 1/2; the information gain is
    log2(40) less its entropy. The smaller of the two directions is returned,
    so the measure is symmetric. Fewer than two beats on either side: 0.
    """
    if len(a) < 2 or len(b) < 2:
        return 0.0
    return min(_gain_one_way(a, b), _gain_one_way(b, a))


def committee(functions: Sequence[np.ndarray], period: np.ndarray) -> tuple[np.ndarray, float, int]:
    """(beat frames, mean mutual agreement in bits, index of the winning function).

    One tracker per onset function, all at the same tempo curve. The winner
    is the sequence whose beats the others share most (the highest mean
    F-measure against them, 70 ms): the information gain forgives a steady
    offset, so a tracker on the off-beats would agree with one on the beats
    as much as that one with itself. The mean mutual agreement is the mean
    information gain over all pairs (the confidence of Zapata et al.): it
    says whether the trackers lock onto one grid, whatever its phase.
    """
    sequences = track_many(np.asarray(functions, dtype=float), period)
    k = len(sequences)
    if k == 1:
        return sequences[0], 0.0, 0
    gain = np.zeros((k, k))
    shared = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            gain[i, j] = gain[j, i] = information_gain(sequences[i], sequences[j])
            shared[i, j] = shared[j, i] = f_measure(sequences[i], sequences[j])
    best = int(np.argmax(shared.sum(axis=1)))
    return sequences[best], float(gain.sum() / (k * (k - 1))), best


def stronger_half(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Every other beat frame: the half whose onsets (the largest within 30 ms) are stronger.

    The beats of the level an octave slower: of two grids a beat apart, the
    beat is the one the onsets stress (as :func:`phase_from_the_start` decides
    between a grid and its off-beats).

    Examples
    --------
    >>> strength = np.zeros(100); strength[[10, 30, 50, 70]] = [1.0, 0.5, 1.0, 0.5]
    >>> stronger_half(np.array([10.0, 30.0, 50.0, 70.0]), strength)
    array([10., 50.])
    """
    spread = local_max(strength, 3)
    halves = beats[0::2], beats[1::2]
    means = [float(spread[h.astype(np.int64)].mean()) if len(h) else -1.0 for h in halves]
    return halves[int(means[1] > means[0])]


def phase_from_the_start(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """The beat frames, or the grid half a beat later when that one starts the clip.

    Where eighth notes are as strong as the beats (a drummer's even eighths),
    the onsets cannot tell the beat from the off-beat: when the midpoints
    between the beats carry at least ``AMBIGUOUS_PHASE`` of the beats' onset
    strength (the largest within 30 ms of each), the grid that puts a beat on
    the clip's first onset is taken (music starts on a beat far more often
    than half a beat after one). Otherwise the tracked beats stand.
    """
    if len(beats) < 4:
        return beats
    reach = 3  # frames: 30 ms
    spread = local_max(strength, reach)
    frames = beats.astype(np.int64)
    middles = np.rint((beats[:-1] + beats[1:]) / 2).astype(np.int64)
    on, off = float(spread[frames].mean()), float(spread[middles].mean())
    if not off >= AMBIGUOUS_PHASE * on > 0:
        return beats
    first = int(np.flatnonzero(strength >= 0.5 * on)[0])
    period = float(np.median(np.diff(beats)))
    offset = np.mod((beats[0] - first) / period, 1.0)  # the first onset's phase in the grid
    if min(offset, 1.0 - offset) <= abs(offset - 0.5):
        return beats
    grid = np.concatenate([[middles[0] - period], middles, [middles[-1] + period]])
    grid = grid[(grid >= first - reach) & (grid <= len(strength) - 1)]
    # each beat onto the strongest onset within 30 ms
    around = np.clip(
        np.rint(grid).astype(np.int64)[:, None] + np.arange(-reach, reach + 1), 0, len(strength) - 1
    )
    return around[np.arange(len(grid)), np.argmax(strength[around], axis=1)].astype(float)
