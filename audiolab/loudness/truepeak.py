"""True peak (BS.1770-4 Annex 2): the oversampled peak, found exactly without brute force.

The signal is oversampled with a 32-tap-per-phase Kaiser-windowed sinc by at
least the factor Annex 2 asks for (4 below 96 kHz, 2 below 192 kHz), and by
more (:func:`oversampling_factor`: 16 times up to 192 kHz, and to at least
192 kHz below 12 kHz), so that a limiter reading it holds its ceiling
against a band-limited reference oversampled 16 times. The value is exactly that of
interpolating every point, but only the blocks of points that two cheap
bounds cannot rule out are interpolated (:class:`PeakSearch`).

Three questions are answered on validated ``(channels, samples)`` float64
arrays (the public, validating forms are in :mod:`audiolab.loudness.meter`):
:func:`peaks` (sample and true peak), :func:`exceeds` (is the true peak
above a level? what a limiter asks) and, given a bound of every block of
points, :func:`bounded_peaks` (the exact value from the few blocks the bounds
leave). The envelope a limiter reads is in :mod:`audiolab.loudness.envelope`.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness import truepeak
>>> sr = 48000
>>> x = np.hanning(sr) * np.sin(2 * np.pi * 12000 * np.arange(sr) / sr + np.pi / 4)
>>> sample, true = truepeak.peaks(x[np.newaxis], sr)  # samples 45 degrees off the crests
>>> round(float(20 * np.log10(sample)), 2), round(float(20 * np.log10(true)), 2)
(-3.01, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from audiolab._threads import per_channel
from audiolab.loudness.constants import TRUE_PEAK_TAPS_PER_PHASE
from audiolab.loudness.interpolation import (
    POINTS_PER_BLOCK,
    block_points,
    interpolation_gain,
    interpolator,
    oversampling_factor,
    sample_rows,
)

__all__ = [
    "POINTS_PER_BLOCK",
    "PeakSearch",
    "block_points",
    "bounded_peaks",
    "channel_peaks",
    "covered_peaks",
    "exceeds",
    "interpolation_gain",
    "interpolator",
    "oversampling_factor",
    "peaks",
    "row_abs_max",
]

_PEAK_BLOCK = POINTS_PER_BLOCK  # points per block in the search
_PEAK_BATCH = 256  # blocks interpolated at a time
_MAGNITUDE_CHUNK = 1 << 15  # samples whose magnitudes are taken at a time


def _window_abs_max(x: np.ndarray, width: int, count: int) -> np.ndarray:
    """max |x| over ``count`` windows ``x[w * width - H : (w + 1) * width - H]``.

    ``H`` is half the interpolator's taps: the windows of the signal padded by
    ``H`` zeros in front, without the copy. Outside the signal reads 0.
    """
    half = TRUE_PEAK_TAPS_PER_PHASE // 2
    n = len(x)
    out = np.zeros(count)
    head = min(width - half, n)
    if head > 0:
        out[0] = np.abs(x[:head]).max()
    whole = min((n - head) // width, count - 1)
    if whole > 0:
        out[1 : 1 + whole] = row_abs_max(x[head : head + whole * width], width)
    rest = x[head + max(whole, 0) * width :]
    if len(rest) and 1 + whole < count:
        out[1 + whole] = np.abs(rest).max()
    return out


def row_abs_max(values: np.ndarray, width: int) -> np.ndarray:
    """max |values| over consecutive rows of ``width`` (``values.size`` a multiple).

    ``reduceat`` over the magnitudes, a piece of the signal at a time.

    Parameters
    ----------
    values : numpy.ndarray
    width : int

    Returns
    -------
    numpy.ndarray
        ``values.size // width`` maxima.

    Examples
    --------
    >>> row_abs_max(np.array([1.0, -3.0, 2.0, 0.5]), 2)
    array([3., 2.])
    """
    flat = values.reshape(-1)
    rows = flat.size // width
    out = np.empty(rows)
    per = max(1, _MAGNITUDE_CHUNK // width)
    buffer = np.empty(min(per, rows) * width)
    starts = np.arange(0, per * width, width)
    for first in range(0, rows, per):
        count = min(per, rows - first)
        magnitude = np.abs(
            flat[first * width : (first + count) * width], out=buffer[: count * width]
        )
        out[first : first + count] = np.maximum.reduceat(magnitude, starts[:count])
    return out


class PeakSearch:
    """The blocks of points of one channel whose oversampled value could exceed a threshold.

    Point ``p`` (0 to ``len(x)``) is the interpolated stretch between
    ``x[p - 1]`` and ``x[p]`` (zero outside the signal); block ``b`` holds
    points ``64 b .. 64 b + 63`` and reads samples ``64 b - H .. 64 b + 62 + H``
    (``H`` half the taps, 16): windows ``b`` and ``b + 1`` of the signal cut
    into windows of 64 from ``H`` samples before its start. Two bounds rule blocks out without
    interpolating them: no point exceeds ``sum |taps|`` times the largest
    sample it reads, nor the larger of its two neighbouring samples plus the
    second-difference bound of :func:`interpolator` times the largest
    ``|second difference|`` it reads. The first, from the sample maxima of
    the windows, picks the blocks worth the second; the second is computed on
    those only. What is left are the candidate blocks, with their bounds.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz.
    floor : float
        Amplitude: blocks that provably stay at or under it are not candidates.
    above_samples : bool
        Raise the threshold to the sample peak (what the true peak needs).
    extra : numpy.ndarray or callable, optional
        A bound added to every block's (one per block): what a subclass adds to
        the interpolated values (:mod:`audiolab.loudness.ideal`); or a function
        of the largest ``|sample|`` each block reads, giving that bound.
    """

    def __init__(
        self,
        x: np.ndarray,
        sr: int,
        floor: float,
        *,
        above_samples: bool,
        extra: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        n, block = len(x), _PEAK_BLOCK
        factor = oversampling_factor(sr)
        self.x = x
        self.sr = sr
        self.n = n
        self.n_blocks = -(-(n + 1) // block)  # points 0 .. n
        window_max = _window_abs_max(x, block, self.n_blocks + 2)
        #: max |x| over the windows ``x[64 w - H : 64 w + 64 - H]`` (zero outside the signal)
        self.window_max = window_max
        self.sample_peak = float(window_max.max())
        threshold = max(floor, self.sample_peak) if above_samples else floor
        self.threshold = threshold
        self.cover: np.ndarray | None = None
        self.bound = np.zeros(0)
        self.candidates = np.zeros(0, dtype=np.int64)
        if factor == 1:
            return
        taps, d2_gain = interpolator(factor)
        gain = float(np.abs(taps).sum(axis=0).max())
        near = np.maximum(window_max[: self.n_blocks], window_max[1 : self.n_blocks + 1])
        if callable(extra):
            extra = extra(near)
        added = np.zeros(self.n_blocks) if extra is None else extra
        promising = np.flatnonzero(gain * near + added > threshold)
        if promising.size == 0:
            return
        # The second differences centred on the samples of every window w that a
        # promising block reads (x[64 w - H .. 64 w + 63 - H]), from the samples either side.
        read = np.zeros(self.n_blocks + 2, dtype=bool)
        read[promising] = True
        read[promising + 1] = True
        windows = np.flatnonzero(read)
        d2_max = np.zeros(self.n_blocks + 2)
        for first in range(0, windows.size, _PEAK_BATCH * 2):  # a batch at a time
            batch = windows[first : first + _PEAK_BATCH * 2]
            rows = sample_rows(x, batch * block - TRUE_PEAK_TAPS_PER_PHASE // 2 - 1, block + 2)
            d2 = rows[:, :-2] + rows[:, 2:]
            d2 -= rows[:, 1:-1]
            d2 -= rows[:, 1:-1]
            d2_max[batch] = row_abs_max(d2, block)
        bound = near[promising] + d2_gain * np.maximum(d2_max[promising], d2_max[promising + 1])
        bound += added[promising]
        keep = bound > threshold
        self.candidates = promising[keep]
        self.bound = bound[keep]

    def interpolate(self, chosen: np.ndarray) -> np.ndarray:
        """The interpolated values of every point of the blocks ``chosen``.

        Parameters
        ----------
        chosen : numpy.ndarray
            Block indices.

        Returns
        -------
        numpy.ndarray
            Shape (len(chosen), phases, 64); points after ``len(x)`` read 0.
        """
        return block_points(self.x, self.sr, chosen)

    def largest(self, stop_above: float = math.inf, batch: int = _PEAK_BATCH) -> float:
        """The largest |value| over the samples and every point, as an amplitude.

        The candidates are interpolated, most promising first, ``batch`` blocks
        at a time, until no block left can beat the peak found so far, or
        once the peak is over ``stop_above`` (the answer to "does it exceed?").

        Parameters
        ----------
        stop_above : float
            Stop as soon as the peak found is above this amplitude.
        batch : int
            Blocks interpolated at a time.

        Returns
        -------
        float
        """
        peak = self.sample_peak
        order = np.argsort(-self.bound, kind="stable")
        for first in range(0, order.size, batch):
            chosen = order[first : first + batch]
            if self.bound[chosen[0]] <= peak or peak > stop_above:
                break
            values = self.interpolate(self.candidates[chosen])
            peak = max(peak, float(values.max()), -float(values.min()))
            if self.cover is not None:  # these blocks' points, exactly
                self.cover[self.candidates[chosen]] = np.abs(values).max(axis=(1, 2))
        return peak

    def covering(self) -> np.ndarray:
        """Start recording a bound of every block's points: the threshold, a candidate's
        bound, and, once :meth:`largest` has interpolated it, the block's exact largest.

        Returns
        -------
        numpy.ndarray
            One value per block, filled in by :meth:`largest`.
        """
        self.cover = np.full(self.n_blocks, self.threshold)
        self.cover[self.candidates] = self.bound
        return self.cover

    def point_peaks(self, chosen: np.ndarray) -> np.ndarray:
        """The largest |interpolated value| of every point of the blocks ``chosen``.

        Parameters
        ----------
        chosen : numpy.ndarray
            Block indices.

        Returns
        -------
        numpy.ndarray
            Shape (len(chosen), 64).
        """
        return np.abs(self.interpolate(chosen)).max(axis=1)


def channel_peaks(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Sample peak and true peak of one channel, as amplitudes.

    Exact (the value of interpolating every point): the candidate blocks of
    :class:`PeakSearch` are interpolated, most promising first, until no
    block left can beat the peak found so far. Music costs a few passes over
    the samples; a full-scale steady tone, where every block could hold the
    peak, costs the full interpolation.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    sample_peak, true_peak : float

    Examples
    --------
    >>> channel_peaks(np.array([0.0, 1.0, 1.0, 0.0]), 48000)[1] > 1.0
    True
    """
    search = PeakSearch(x, sr, 0.0, above_samples=True)
    return search.sample_peak, search.largest()


def peaks(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Sample peak and true peak over every channel of validated audio, as amplitudes.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples), as :func:`audiolab._audio.as_audio` returns it.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    sample_peak, true_peak : float

    Examples
    --------
    >>> peaks(np.array([[0.0, -0.5, 0.0]]), 192000)
    (0.5, 0.5)
    """
    found = per_channel(lambda c: channel_peaks(x[c], sr), x.shape[0])
    return max(s for s, _ in found), max(t for _, t in found)


def covered_peaks(x: np.ndarray, sr: int) -> tuple[tuple[float, float], np.ndarray]:
    """:func:`peaks`, and a bound of every block of 64 points that :func:`bounded_peaks` takes.

    The exact largest of the blocks the search interpolated, the search's bound
    of the others; over the channels.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    peaks : tuple of float
        Sample and true peak, amplitudes.
    cover : numpy.ndarray
        One bound per block of points.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> (sample, true), cover = covered_peaks(x, 48000)
    >>> bool(cover.max() == true), bounded_peaks(x, 48000, cover)[1] == true
    (True, True)
    """

    def channel(c: int) -> tuple[float, float, np.ndarray]:
        search = PeakSearch(x[c], sr, 0.0, above_samples=True)
        cover = search.covering()
        return search.sample_peak, search.largest(), cover

    found = per_channel(channel, x.shape[0])
    cover = found[0][2]
    for _, _, other in found[1:]:
        np.maximum(cover, other, out=cover)
    return (max(s for s, _, _ in found), max(t for _, t, _ in found)), cover


def bounded_peaks(
    x: np.ndarray, sr: int, cover: np.ndarray, at_least: float = 0.0
) -> tuple[float, float]:
    """Sample and true peak of validated audio, given a bound on every block of its points.

    ``cover[b]`` is at least the magnitude of every point of block ``b``
    (points ``64 b .. 64 b + 63``) in every channel: the blocks are
    interpolated highest bound first until no bound left beats the peak
    found, so the value is exact and, with tight bounds, few blocks are read.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    cover : numpy.ndarray
        One upper bound per block of 64 points (``ceil((samples + 1) / 64)``).
    at_least : float
        A value the true peak is known to reach: blocks bounded by it are not
        read (should the true peak not reach it after all, every block is).

    Returns
    -------
    sample_peak, true_peak : float
        Amplitudes.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> round(bounded_peaks(x, 48000, np.array([2.0]))[1], 2)
    1.27
    """
    sample = max(float(x.max()), -float(x.min()))
    true = sample
    if oversampling_factor(sr) == 1:
        return sample, true
    order = np.argsort(-cover, kind="stable")
    for first in range(0, len(order), _PEAK_BATCH // 4):
        chosen = order[first : first + _PEAK_BATCH // 4]
        if cover[chosen[0]] <= max(true, at_least):
            break
        for channel in x:
            values = block_points(channel, sr, chosen)
            true = max(true, float(values.max()), -float(values.min()))
    if true < at_least:  # not reached after all: what the pruning relied on is wrong
        return bounded_peaks(x, sr, cover)
    return sample, true


def exceeds(x: np.ndarray, sr: int, level: float) -> bool:
    """Whether the true peak of validated audio is above an amplitude.

    Cheaper than measuring it: blocks that provably stay at or under the
    level are never interpolated, and the search stops at the first point
    found above it.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    level : float
        Amplitude (full scale 1.0).

    Returns
    -------
    bool

    Examples
    --------
    >>> exceeds(np.array([[0.0, 1.0, 1.0, 0.0]]), 48000, 1.0)
    True
    """

    def channel(c: int) -> bool:
        search = PeakSearch(x[c], sr, level, above_samples=False)
        return search.largest(stop_above=level, batch=_PEAK_BATCH // 4) > level

    return any(per_channel(channel, x.shape[0]))
