"""The true-peak interpolator: how many times to oversample, the taps, and the points.

A Kaiser-windowed sinc of 32 taps per phase (beta 9), cut off at the Nyquist
frequency, oversampling 16 times up to 192 kHz (:func:`oversampling_factor`).
:func:`block_points` interpolates every point of blocks of 64 points, the unit
the true-peak search (:mod:`audiolab.loudness.truepeak`) and the limiter work in.

Examples
--------
>>> from audiolab.loudness.interpolation import oversampling_factor, interpolator
>>> taps, bound = interpolator(oversampling_factor(32000))
>>> taps.shape
(32, 15)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from audiolab.loudness.constants import (
    BS1770_OVERSAMPLING,
    TRUE_PEAK_ENOUGH_RATE_HZ,
    TRUE_PEAK_KAISER_BETA,
    TRUE_PEAK_MIN_RATE_HZ,
    TRUE_PEAK_TAPS_PER_PHASE,
    TRUE_PEAK_TIMES,
)

__all__ = [
    "POINTS_PER_BLOCK",
    "block_points",
    "interpolation_gain",
    "interpolator",
    "oversampling_factor",
    "point_windows",
    "sample_rows",
]

#: Points per block (point ``p`` lies between samples ``p - 1`` and ``p``).
POINTS_PER_BLOCK = 64


def oversampling_factor(sample_rate: int) -> int:
    """How many times the true peak oversamples at a rate.

    16 times, and more below 12 kHz so that the oversampled rate reaches
    192 kHz (32 times at 8 kHz: past 16, a multiple of 16, so that every 16th
    of a sample is among the points); above 192 kHz fewer times, the oversampled
    rate staying at least 3.072 MHz. Annex 2 of BS.1770-4 asks for at least 4
    times below 96 kHz and 2 below 192 kHz; more, so that a limiter reading
    this true peak holds its ceiling against a band-limited reference
    oversampled 16 times (a band-limited signal sampled at ``R`` can peak
    above its largest sample by up to ``1 / cos(pi B / R)`` for a bandwidth
    ``B``: for content at the Nyquist frequency 0.7 dB at 4x, 0.04 dB at 16x).

    Parameters
    ----------
    sample_rate : int
        Hz.

    Returns
    -------
    int

    Examples
    --------
    >>> [oversampling_factor(sr) for sr in (8000, 16000, 48000, 96000, 192000, 384000)]
    [32, 16, 16, 16, 16, 8]
    """
    standard = next((f for below, f in BS1770_OVERSAMPLING if sample_rate < below), 1)
    enough = min(TRUE_PEAK_TIMES, -(-TRUE_PEAK_ENOUGH_RATE_HZ // sample_rate))
    factor = max(standard, -(-TRUE_PEAK_MIN_RATE_HZ // sample_rate), enough)
    # past 16 times, a multiple of 16: every 16th of a sample is among the points
    return factor if factor <= TRUE_PEAK_TIMES else -(-factor // TRUE_PEAK_TIMES) * TRUE_PEAK_TIMES


@lru_cache(maxsize=16)
def interpolator(factor: int) -> tuple[np.ndarray, float]:
    """Taps of the phases 1 .. factor-1 of the true-peak interpolator, and their bound.

    A Kaiser-windowed sinc with its cut-off at the original Nyquist frequency;
    phase 0 is the signal itself. Row ``i`` of the (N, factor-1) taps multiplies
    ``x[m - N/2 + 1 + i]`` in the value a fraction ``phase / factor`` of the way
    from ``x[m]`` to ``x[m + 1]``. Each phase is corrected (by less than 1e-4)
    to reproduce constants and straight lines exactly, so it splits into the
    linear interpolation plus ``sum_j q_j * d2x[m + j]`` with the second
    difference ``d2x[k] = x[k-1] - 2 x[k] + x[k+1]``. The returned bound is the
    largest ``sum |q_j|`` over the phases: no interpolated value exceeds the
    larger neighbouring sample by more than that times the largest nearby
    ``|d2x|``.

    Parameters
    ----------
    factor : int
        The oversampling factor (at least 2).

    Returns
    -------
    taps : numpy.ndarray
        (N, factor - 1), read-only.
    bound : float
        The second-difference bound.

    Examples
    --------
    >>> taps, bound = interpolator(4)
    >>> taps.shape, bool(np.allclose(taps.sum(axis=0), 1.0))
    ((32, 3), True)
    """
    n = TRUE_PEAK_TAPS_PER_PHASE
    half = n // 2
    offsets = np.arange(-half + 1, half + 1)
    constraints = np.stack([np.ones(n), offsets])
    # r = q (*) [1, -2, 1]: the matrix that convolves q (n - 2 taps) with it
    second_difference = np.zeros((n, n - 2))
    for j in range(n - 2):
        second_difference[j : j + 3, j] = (1.0, -2.0, 1.0)
    taps = np.empty((n, factor - 1))
    bound = 0.0
    for phase in range(1, factor):
        fraction = phase / factor
        t = fraction - offsets  # distance of each tap from the point, in samples
        h = np.sinc(t) * np.i0(TRUE_PEAK_KAISER_BETA * np.sqrt(1.0 - (t / half) ** 2))
        h /= h.sum()
        # least change that makes sum(h) = 1 and sum(h * offsets) = fraction
        residual = constraints @ h - np.array([1.0, fraction])
        h = h - constraints.T @ np.linalg.solve(constraints @ constraints.T, residual)
        linear = np.where(offsets == 0, 1.0 - fraction, 0.0) + np.where(offsets == 1, fraction, 0.0)
        q = np.linalg.lstsq(second_difference, h - linear, rcond=None)[0]
        bound = max(bound, float(np.abs(q).sum()))
        taps[:, phase - 1] = h
    taps.setflags(write=False)
    return taps, bound * (1.0 + 1e-9)


def sample_rows(x: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``x[s : s + width]`` for every start, zeros outside the signal.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D.
    starts : numpy.ndarray
        First sample of each row (may be negative or past the end).
    width : int
        Samples per row.

    Returns
    -------
    numpy.ndarray
        (len(starts), width); a view where every row lies inside the signal.

    Examples
    --------
    >>> sample_rows(np.arange(5.0), np.array([-1, 3]), 3)
    array([[0., 0., 1.],
           [3., 4., 0.]])
    """
    from numpy.lib.stride_tricks import sliding_window_view

    n = len(x)
    inside = (starts >= 0) & (starts + width <= n)
    if n >= width and inside.all():
        return sliding_window_view(x, width)[starts]
    rows = np.zeros((len(starts), width))
    if n >= width and inside.any():
        rows[inside] = sliding_window_view(x, width)[starts[inside]]
    for i in np.flatnonzero(~inside):  # the first and last rows, at most a few
        lo, hi = max(starts[i], 0), min(starts[i] + width, n)
        if hi > lo:
            rows[i, lo - starts[i] : hi - starts[i]] = x[lo:hi]
    return rows


def interpolation_gain(sr: int) -> float:
    """The largest ``sum |taps|`` over the phases at a rate: no interpolated point exceeds
    that times the largest sample it reads.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float

    Examples
    --------
    >>> round(interpolation_gain(48000), 2)  # the half-sample phase of a 32-tap sinc
    2.35
    """
    factor = oversampling_factor(sr)
    return 1.0 if factor == 1 else float(np.abs(interpolator(factor)[0]).sum(axis=0).max())


def point_windows(x: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The samples every point of the blocks ``chosen`` reads, as a view.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    chosen : numpy.ndarray
        Block indices.

    Returns
    -------
    numpy.ndarray
        (len(chosen), 32, 64): ``[b, t, i]`` is tap ``t``'s sample of point
        ``64 b + i`` (``x[64 b + i - 16 + t]``, zero outside the signal).

    Examples
    --------
    >>> point_windows(np.arange(100.0), np.array([1]))[0, :, 0][[0, 16, 31]]
    array([48., 64., 79.])
    """
    from numpy.lib.stride_tricks import sliding_window_view

    block, n_taps = POINTS_PER_BLOCK, TRUE_PEAK_TAPS_PER_PHASE
    rows = sample_rows(x, chosen * block - n_taps // 2, block + n_taps - 1)
    return sliding_window_view(rows, n_taps, axis=1).transpose(0, 2, 1)


def block_points(
    x: np.ndarray, sr: int, chosen: np.ndarray, windows: np.ndarray | None = None
) -> np.ndarray:
    """The interpolated values of every point of the blocks ``chosen`` of one channel.

    Block ``b`` holds points ``64 b .. 64 b + 63``; point ``p`` is the
    stretch between ``x[p - 1]`` and ``x[p]`` (zero outside the signal).

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz (oversampled more than once).
    chosen : numpy.ndarray
        Block indices.
    windows : numpy.ndarray, optional
        Their :func:`point_windows`, when already taken.

    Returns
    -------
    numpy.ndarray
        Shape (len(chosen), phases, 64); points after ``len(x)`` read 0.

    Examples
    --------
    >>> block_points(np.array([0.0, 1.0, 1.0, 0.0]), 48000, np.array([0])).shape
    (1, 15, 64)
    """
    if windows is None:
        windows = point_windows(x, chosen)
    values = np.matmul(_taps_by_phase(oversampling_factor(sr)), windows)
    block = POINTS_PER_BLOCK
    last = len(x) // block  # the block of point len(x): points beyond it belong to no one
    if chosen.size and chosen.max() >= last:
        beyond = chosen == last
        values[beyond, :, len(x) - last * block + 1 :] = 0.0
        values[chosen > last] = 0.0
    return values


@lru_cache(maxsize=16)
def _taps_by_phase(factor: int) -> np.ndarray:
    return np.ascontiguousarray(interpolator(factor)[0].T)
