"""A bound of the ideal true peak without its transforms: the sinc's tails by Abel summation.

The ideal true peak (:mod:`audiolab.loudness.ideal`) is the meter's value plus
a residual ``sum_k c_k(f) W_k[p]``. Each ``W_k`` has a near part, 32 taps
around the point, and a far part that reads the whole signal: the sinc's
tails, ``(-1)^o x[p - 1 + o] / (1/2 - o)^(k + 1)`` summed over the offsets
``o`` beyond the taps. That far part is what costs the residual its FFTs of
twice the signal.

The tails alternate in sign. With ``z[m] = (-1)^m x[m]`` and ``Z`` its running
sum, summation by parts bounds each side of them by its first (largest)
weight times the range of ``Z`` (:func:`far_bounds`): one running sum, a few
milliseconds. Music has little content near the Nyquist frequency, where
``z`` would carry it to 0 Hz and ``Z`` would grow, so ``Z`` stays within about
the music's peak and the far part within about 4 % of it (0.3 dB). Noise up to
the Nyquist frequency makes ``Z`` a random walk, and the bound shows nothing.

:func:`holds` adds the bound to the meter's value and the residual's near
part, computed exactly on the blocks the cheap bounds leave. Where that is
still over the level, the tails within :data:`REACH` offsets are summed too
and only the rest is bounded: its first stretch is most of the bound, so
full-band material half a dB under the level is shown too. When that sum
stays at or under a level, so does the ideal true peak, and its transforms
are not needed. An export whose plain gain leaves its peaks a fraction of a
dB or more under the ceiling is in that case. When it does not, the answer
is "not shown", never "over", and the exact check
(:func:`audiolab.loudness.ideal.exceeds`) decides.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness import tails
>>> sr = 32000
>>> t = np.arange(sr) / sr
>>> x = 0.5 * np.sin(2 * np.pi * 440 * t)[np.newaxis]  # far from the Nyquist frequency
>>> tails.holds(x, sr, 0.56), tails.holds(x, sr, 0.49)
(True, False)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from audiolab.loudness.constants import TRUE_PEAK_TAPS_PER_PHASE
from audiolab.loudness.ideal import RESIDUAL_ERROR, residual_kernels
from audiolab.loudness.interpolation import (
    POINTS_PER_BLOCK,
    block_points,
    interpolator,
    oversampling_factor,
    point_windows,
    sample_rows,
)
from audiolab.loudness.truepeak import PeakSearch, row_abs_max

__all__ = [
    "LOUDEST_BLOCKS",
    "MOST_WIDE",
    "REACH",
    "STRETCH_ENDS",
    "TailSearch",
    "estimated_excess_db",
    "far_bounds",
    "holds",
]

_HALF = TRUE_PEAK_TAPS_PER_PHASE // 2
#: The offsets, either side, over which :class:`TailSearch` sums the tails exactly at
#: the points it looks at closely; the bound takes over beyond them. Near the point the
#: weights are largest and the bound loosest (its first stretch is about nine tenths
#: of it on music), and 127 offsets cost a block 16k products per term.
REACH = 127


#: At most this share of a channel's blocks have their tails within :data:`REACH`
#: summed (about 18 us a block, against about 6 us a block for the exact check of the
#: whole channel): past it, the answer is "not shown".
MOST_WIDE = 0.125

#: The blocks of each channel, the loudest by their samples, on which
#: :func:`estimated_excess_db` compares the ideal true peak with the meter's.
LOUDEST_BLOCKS = 128

#: The stretches of offsets whose ranges of ``Z`` are taken (the last reaches the ends).
STRETCH_ENDS = (128, 1024, 8192, 65536)


def _block_extremes(x: np.ndarray, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Sparse tables of the max and min of ``Z[i] = sum_(m < i) (-1)^m x[m]``, i = 0 ..
    len(x) (constant after), over runs of 2^L groups of 64 indices.

    Group ``g`` holds 32 even indices ``2 j`` and 32 odd ones ``2 j + 1``: ``Z[2 j + 2]``
    is the running sum of the pairs ``x[2 j] - x[2 j + 1]``, ``Z[2 j + 1]`` is
    ``Z[2 j] + x[2 j]``; the two halves are never interleaved.
    """
    half = POINTS_PER_BLOCK // 2
    heads = x[0::2]
    pairs = heads[: len(x) // 2] - x[1::2]
    even = np.zeros(blocks * half)
    np.cumsum(pairs, out=even[1 : len(pairs) + 1])
    odd = np.empty(blocks * half)
    np.add(even[: len(heads)], heads, out=odd[: len(heads)])
    final = odd[len(heads) - 1] if len(x) % 2 else even[len(pairs)]  # Z[len(x)]
    even[len(pairs) + 1 :] = final
    odd[len(heads) :] = final
    levels = max(1, blocks.bit_length())
    highs, lows = np.empty((levels, blocks)), np.empty((levels, blocks))
    for out, pick in ((highs, np.maximum), (lows, np.minimum)):
        pick(pick.reduce(even.reshape(blocks, half), axis=1),
             pick.reduce(odd.reshape(blocks, half), axis=1), out=out[0])  # fmt: skip
        for level in range(1, levels):
            w = 1 << (level - 1)
            pick(out[level - 1, :-w], out[level - 1, w:], out=out[level, :-w])
            out[level, -w:] = out[level - 1, -w:]
    return highs, lows


def far_bounds(
    x: np.ndarray,
    n_blocks: int,
    terms: int = 2,
    reach: int = _HALF,
    tables: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The largest ``|far part of W_k|`` over the points of every block, at most.

    By parts from the first offset beyond ``reach`` on either side (by default
    the taps': 17 after, 16 before; else ``reach + 1`` either side),
    ``sum_o z_o w_o = sum_o (Z_o - Z_first) (w_o - w_(o+1))``: a
    stretch of offsets ``[s, e)`` adds at most the range of ``Z`` from the
    first offset to ``e`` times ``w(s) - w(e)``, the last stretch (to the
    signal's ends, where ``Z`` stays put) the range times ``w(s)``. The
    stretches end at :data:`STRETCH_ENDS`: near the point, where the weights
    are largest, the ranges are local (noise's ``Z`` wanders like a random
    walk, as far as the square root of the stretch); far away, they are wide.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    n_blocks : int
        Blocks of 64 points (point ``p`` lies between ``x[p - 1]`` and ``x[p]``).
    terms : int
        How many ``k`` (the weights go as ``1 / |o|^(k + 1)``).
    reach : int
        The offsets either side not bounded (summed exactly elsewhere).
    tables : tuple of numpy.ndarray, optional
        ``x``'s sparse tables of the running sum's extremes, when known (they
        serve every ``reach``).

    Returns
    -------
    numpy.ndarray
        (terms, n_blocks).

    Examples
    --------
    >>> x = np.zeros(1000); x[500] = 1.0  # one sample: the tails read it once
    >>> bound = far_bounds(x, 16)
    >>> bound.shape, bool(bound[0].max() <= 2 / 16.5)
    ((2, 16), True)
    """
    blocks = max(1, -(-(len(x) + 1) // POINTS_PER_BLOCK))  # of the indices of Z
    highs, lows = _block_extremes(x, blocks) if tables is None else tables
    first = np.arange(n_blocks)  # block b: points 64 b .. 64 b + 63
    powers = np.arange(1.0, terms + 1)
    out = np.zeros((terms, n_blocks))
    starts = ((_HALF + 1, 1), (_HALF, -1)) if reach == _HALF else ((reach + 1, 1), (reach + 1, -1))
    for s0, side in starts:
        ends = [s0, *(e for e in STRETCH_ENDS if e > s0)]
        for s, e in zip(ends, [*ends[1:], 0], strict=True):
            last = e == 0 or e > len(x) + POINTS_PER_BLOCK
            e = len(x) + POINTS_PER_BLOCK if last else e
            # the indices of Z the stretch's partial sums read, over the block's points
            if side > 0:  # Z[p - 1 + s0] .. Z[p - 1 + e]
                lo = first * POINTS_PER_BLOCK + s0 - 1
                hi = lo + POINTS_PER_BLOCK + e - s0
            else:  # Z[p - e] .. Z[p - s0]
                lo = first * POINTS_PER_BLOCK - e
                hi = lo + POINTS_PER_BLOCK + e - s0
            g_lo = np.clip(lo, 0, len(x)) // POINTS_PER_BLOCK
            g_hi = np.clip(hi, 0, len(x)) // POINTS_PER_BLOCK
            level = min(int(np.log2(max(1, (hi[0] - lo[0]) // POINTS_PER_BLOCK))), len(highs) - 1)
            a = np.minimum(g_lo, blocks - 1)
            b = np.clip(g_hi - (1 << level) + 1, 0, blocks - 1)
            spread = np.maximum(highs[level, a], highs[level, b])
            spread -= np.minimum(lows[level, a], lows[level, b])
            offset = 0.5 if side > 0 else -0.5
            w_s = (s - offset) ** -powers
            w_e = 0.0 if last else (e - offset) ** -powers
            out += np.multiply.outer(w_s - w_e, spread)
            if last:
                break
    return out


class TailSearch(PeakSearch):
    """The meter's search of one channel for a bound of its ideal true peak, without FFTs.

    Every point's value is the meter's, plus the residual's near part
    (exact), plus, outward, the far part's bound (:func:`far_bounds`) and the
    expansion's :data:`~audiolab.loudness.ideal.RESIDUAL_ERROR`. On a block
    still over the level the tails within :data:`REACH` are summed exactly and
    only those beyond it are bounded. Its :meth:`largest` is therefore at
    least the ideal true peak.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz.
    level : float
        Amplitude: blocks that provably stay at or under it are not candidates.

    Examples
    --------
    >>> x = np.zeros(64); x[20:] = 0.5
    >>> from audiolab.loudness.ideal import ideal_peak
    >>> TailSearch(x, 48000, 0.0).largest() >= ideal_peak(x[np.newaxis], 48000)
    True
    """

    def __init__(self, x: np.ndarray, sr: int, level: float) -> None:
        factor = oversampling_factor(sr)
        self.near, self.coefficients, largest = residual_kernels(factor)
        self.wide = _wide_kernels(factor)
        self.narrow = _narrow_taps(factor)
        n_blocks = -(-(len(x) + 1) // POINTS_PER_BLOCK)
        peak = max(float(x.max()), -float(x.min())) if len(x) else 0.0
        tables = _block_extremes(x, max(1, n_blocks))
        slack = RESIDUAL_ERROR * peak
        #: per block: what the tails beyond the taps and the expansion may add, at most
        self.spread = largest @ far_bounds(x, n_blocks, len(largest), _HALF, tables) + slack
        self._beyond_reach = lambda: (
            largest @ far_bounds(x, n_blocks, len(largest), REACH, tables) + slack
        )
        self._wide_spread: np.ndarray | None = None  # the same beyond REACH, once asked
        #: blocks left that may have their tails within REACH summed
        self.wide_left = int(MOST_WIDE * n_blocks)
        near_gain = float(largest @ np.abs(self.near).sum(axis=1))
        # the blocks' first bound: the near part at most its kernels' gain times the
        # largest sample each block reads (x[64 b - 16 .. 64 b + 78])
        super().__init__(
            x, sr, level, above_samples=False, extra=lambda read: self.spread + near_gain * read
        )

    def interpolate(self, chosen: np.ndarray) -> np.ndarray:
        """|meter + near part| + the block's spread, signed as the value, at every point.

        Where that is over the level, the tails within :data:`REACH` are summed
        too, and the spread is what lies beyond them.

        Parameters
        ----------
        chosen : numpy.ndarray
            Block indices.

        Returns
        -------
        numpy.ndarray
            Shape (len(chosen), phases, 64); points after ``len(x)`` read 0.
        """
        # the meter's taps and the near part together: the sinc over the 32 offsets
        narrow = np.matmul(self.narrow, point_windows(self.x, chosen))
        values = self._outward(narrow, chosen)
        hard = np.flatnonzero(np.abs(values).max(axis=(1, 2)) > self.threshold)
        if 0 < hard.size <= self.wide_left:  # else "not shown": the exact check costs less
            self.wide_left -= hard.size
            values[hard] = self._wide(chosen[hard], narrow[hard])
        return values

    def _wide(self, chosen: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The blocks ``chosen``, given their narrow values, with the tails within REACH
        summed (in ``values``)."""
        values += _within_reach(self.x, chosen, self.wide, self.coefficients)
        if self._wide_spread is None:
            self._wide_spread = self._beyond_reach()
        return self._outward(values, chosen, self._wide_spread)

    def _outward(
        self, values: np.ndarray, chosen: np.ndarray, spread: np.ndarray | None = None
    ) -> np.ndarray:
        """``values`` moved outward by the blocks' spread, as a new array (the points
        past the signal set to 0 in ``values`` first)."""
        block = POINTS_PER_BLOCK
        if chosen.size and (int(chosen.max()) + 1) * block > self.n + 1:
            beyond = chosen[:, np.newaxis] * block + np.arange(block) > self.n  # no such point
            values[np.broadcast_to(beyond[:, np.newaxis, :], values.shape)] = 0.0
        by = (self.spread if spread is None else spread)[chosen][:, np.newaxis, np.newaxis]
        return values + np.copysign(by, values)  # outward, also from 0


def _within_reach(
    x: np.ndarray, chosen: np.ndarray, wide: np.ndarray, coefficients: np.ndarray
) -> np.ndarray:
    """(blocks, phases, 64): the residual's tails within REACH at the points of ``chosen``."""
    from numpy.lib.stride_tricks import sliding_window_view

    # point 64 b + i reads x[64 b + i - 1 + o], o = -REACH .. REACH
    width = 2 * REACH + 1
    block = POINTS_PER_BLOCK
    rows = sample_rows(x, chosen * block - 1 - REACH, block + width - 1)
    exact = sliding_window_view(rows, width, axis=1) @ wide.T  # (b, 64, terms)
    return (exact @ coefficients.T).transpose(0, 2, 1)


@lru_cache(maxsize=8)
def _narrow_taps(factor: int) -> np.ndarray:
    """(phases, 32): the meter's taps plus the residual's near part, at every phase."""
    near, coefficients, _ = residual_kernels(factor)
    narrow = np.ascontiguousarray(interpolator(factor)[0].T + coefficients @ near)
    narrow.setflags(write=False)
    return narrow


@lru_cache(maxsize=8)
def _wide_kernels(factor: int) -> np.ndarray:
    """(terms, 2 REACH + 1): the residual's kernels over offsets -REACH .. REACH beyond
    the meter's taps (the sinc's tails; 0 over the taps, which :func:`_narrow_taps` has)."""
    terms = len(residual_kernels(factor)[0])
    offsets = np.arange(-REACH, REACH + 1)
    sign = np.where(offsets % 2, -1.0, 1.0)
    powers = np.arange(1, terms + 1)[:, np.newaxis]
    wide = sign / (0.5 - offsets) ** powers
    wide[:, (offsets > -_HALF) & (offsets <= _HALF)] = 0.0
    wide.setflags(write=False)
    return wide


def holds(x: np.ndarray, sr: int, level: float) -> bool:
    """Whether the ideal true peak of validated audio is shown to stay at or under a level.

    True only when it does: the meter's value, the residual's near part and a
    bound of its far part, summed, stay under ``level``. False when that is
    not shown (the ideal true peak may still be under): the exact check
    (:func:`audiolab.loudness.ideal.exceeds`) answers then.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    level : float
        Amplitude.

    Returns
    -------
    bool

    Examples
    --------
    >>> x = np.zeros((1, 4800)); x[0, 2000:2400] = 0.5  # a step up and down: it rings
    >>> holds(x, 48000, 0.7), holds(x, 48000, 0.5)
    (True, False)
    """
    if oversampling_factor(sr) == 1:  # no points between the samples: the samples decide
        return bool(np.abs(x).max() <= level) if x.size else True
    for channel in x:
        if TailSearch(channel, sr, level).largest(stop_above=level) > level:
            return False
    return True


def estimated_excess_db(x: np.ndarray, sr: int, blocks: int = LOUDEST_BLOCKS) -> float:
    """How far the ideal true peak reads over the meter's on the loudest blocks, estimated.

    On the ``blocks`` blocks of 64 points of each channel with the largest
    samples, each block's largest value of the sinc summed within
    :data:`REACH` offsets (no bound beyond: an estimate, not a proof) over
    its largest of the meter's values and its samples; the largest ratio, in
    dB. It tells in milliseconds whether a limiter holding the meter's true
    peak a little under a ceiling leaves the ideal one under it too:
    recordings read 0.00 to 0.07 dB, full-band synthesis (white-noise
    hi-hats up to the Nyquist frequency) 0.4 dB.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    blocks : int
        Blocks per channel looked at.

    Returns
    -------
    float
        dB, 0.0 for silence and where the meter does not interpolate.

    Examples
    --------
    >>> t = np.arange(32000) / 32000
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * t)[np.newaxis]
    >>> round(estimated_excess_db(tone, 32000), 2)
    0.0
    >>> noise = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 32000))
    >>> estimated_excess_db(noise, 32000) > 0.1
    True
    """
    factor = oversampling_factor(sr)
    if factor == 1 or not x.size:
        return 0.0
    _, coefficients, _ = residual_kernels(factor)
    most = 1.0
    for channel in x:
        n_blocks = -(-(len(channel) + 1) // POINTS_PER_BLOCK)
        padded = np.zeros(n_blocks * POINTS_PER_BLOCK)
        padded[: len(channel)] = channel
        sample_peaks = row_abs_max(padded, POINTS_PER_BLOCK)
        count = min(blocks, n_blocks)
        chosen = np.sort(np.argpartition(sample_peaks, n_blocks - count)[n_blocks - count :])
        windows = point_windows(channel, chosen)
        meter = np.abs(block_points(channel, sr, chosen, windows)).max(axis=(1, 2))
        values = np.matmul(_narrow_taps(factor), windows)
        values += _within_reach(channel, chosen, _wide_kernels(factor), coefficients)
        below = np.maximum(meter, sample_peaks[chosen])
        loud = below > 0
        if loud.any():
            ratio = np.abs(values[loud]).max(axis=(1, 2)) / below[loud]
            most = max(most, float(ratio.max()))
    return 20.0 * float(np.log10(most))
