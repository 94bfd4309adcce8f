"""The true-peak envelope: the oversampled magnitude around every sample, or per block.

:func:`envelope` is the largest oversampled magnitude around each sample
(:func:`audiolab.loudness.true_peak_envelope` is its public form);
:func:`block_envelope` its largest over blocks of a few samples, which the
limiter reads its gain from (:mod:`audiolab.limiter`). Both are exact above a
floor and only interpolate the blocks :class:`~audiolab.loudness.truepeak.PeakSearch`
cannot rule out.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness.envelope import envelope
>>> envelope(np.array([[0.0, 1.0, 1.0, 0.0]]), 48000).round(2)
array([0.94, 1.27, 1.27, 0.94])
"""

from __future__ import annotations

import numpy as np

from audiolab._threads import per_channel
from audiolab.loudness.constants import TRUE_PEAK_TAPS_PER_PHASE
from audiolab.loudness.ideal import IdealSearch, Residual
from audiolab.loudness.interpolation import POINTS_PER_BLOCK, oversampling_factor, sample_rows
from audiolab.loudness.truepeak import PeakSearch, row_abs_max

__all__ = ["block_envelope", "envelope"]

_BATCH = 256  # blocks interpolated at a time


def envelope(x: np.ndarray, sr: int, floor: float = 0.0) -> np.ndarray:
    """Largest oversampled magnitude around each sample of validated audio, over channels.

    ``envelope[n]`` is the largest absolute value of the oversampled signal
    between samples ``n - 1`` and ``n + 1`` in any channel. Only values above
    ``floor`` are exact: where the oversampled signal provably stays at or
    under it, the envelope holds the sample magnitudes.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    floor : float
        Amplitude.

    Returns
    -------
    numpy.ndarray
        (samples,).

    Examples
    --------
    >>> envelope(np.array([[0.0, 1.0, 1.0, 0.0]]), 48000).round(2)  # rings between samples
    array([0.94, 1.27, 1.27, 0.94])
    """
    n = x.shape[1]

    def channel(c: int) -> np.ndarray:
        search = PeakSearch(x[c], sr, floor, above_samples=False)
        # samples -1 .. rows * 64 - 1: point p (block b = p // 64, column p % 64) lies
        # between samples p - 1 and p, so both row views see it
        rows = search.n_blocks
        padded = np.zeros(rows * POINTS_PER_BLOCK + 1)
        np.abs(x[c], out=padded[1 : n + 1])
        at_point = padded[1:].reshape(rows, POINTS_PER_BLOCK)
        before_point = padded[:-1].reshape(rows, POINTS_PER_BLOCK)
        for first in range(0, search.candidates.size, _BATCH):
            chosen = search.candidates[first : first + _BATCH]
            values = search.point_peaks(chosen)  # points past the end read 0
            at_point[chosen] = np.maximum(at_point[chosen], values)
            before_point[chosen] = np.maximum(before_point[chosen], values)
        return padded[1 : n + 1]

    envelopes = per_channel(channel, x.shape[0])
    out = envelopes[0]
    for other in envelopes[1:]:
        np.maximum(out, other, out=out)
    return out


def block_envelope(
    x: np.ndarray,
    sr: int,
    floor: float,
    step: int,
    *,
    residuals: list[Residual] | None = None,
) -> np.ndarray:
    """:func:`envelope` at its largest over every block of ``step`` samples, above a floor.

    Where the largest value of :func:`envelope` over ``[k * step, (k + 1) *
    step)`` (the last block may be shorter) is above ``floor`` the value is
    exact; elsewhere it is at most ``floor`` and at least the block's sample
    magnitudes. No per-sample array: blocks that cannot exceed the floor get
    the largest sample magnitude of the windows the search has read anyway,
    and only the candidate blocks of :class:`PeakSearch` are looked at closely,
    their interpolated points going straight to the blocks of the two samples
    beside them.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    floor : float
        Amplitude.
    step : int
        Samples per block: a power of two up to 64.
    residuals : list of Residual, optional
        Given (:func:`audiolab.loudness.ideal.residuals` of ``x``): the envelope
        of the larger of the ideal true peak
        (:class:`~audiolab.loudness.ideal.IdealSearch`) and the meter's, from
        one search, rather than of the meter's alone.

    Returns
    -------
    numpy.ndarray
        ``ceil(samples / step)`` amplitudes.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    >>> block_envelope(x, 48000, 0.0, 4).round(2)
    array([1.27, 0.09])
    """
    if POINTS_PER_BLOCK % step:
        raise ValueError(f"step must divide {POINTS_PER_BLOCK}, got {step}")
    n = x.shape[1]
    n_blocks = -(-n // step)
    per = POINTS_PER_BLOCK // step  # blocks of samples per block of points
    half = TRUE_PEAK_TAPS_PER_PHASE // 2
    first_sample = np.arange(n_blocks) * step
    # the windows of the search (from H samples before the start) that hold each block
    windows = (
        (first_sample + half) // POINTS_PER_BLOCK,
        (first_sample + step - 1 + half) // POINTS_PER_BLOCK,
    )

    def samples_only(c: int) -> np.ndarray:  # not oversampled: the sample magnitudes
        out = np.zeros(n_blocks)
        whole = n // step
        if whole:
            out[:whole] = row_abs_max(x[c, : whole * step], step)
        if n > whole * step:
            out[whole] = np.abs(x[c, whole * step :]).max()
        return out

    def channel(c: int) -> np.ndarray:
        if oversampling_factor(sr) == 1:
            return samples_only(c)
        search = (
            PeakSearch(x[c], sr, floor, above_samples=False)
            if residuals is None
            else IdealSearch(
                x[c], sr, floor, above_samples=False, residual=residuals[c], with_meter=True
            )
        )
        wm = search.window_max
        out = np.maximum(wm[windows[0]], wm[windows[1]])  # at least the samples' magnitudes
        offsets = np.arange(per)
        for first in range(0, search.candidates.size, _BATCH):  # the samples, exactly
            chosen = search.candidates[first : first + _BATCH]
            rows = np.abs(sample_rows(x[c], chosen * POINTS_PER_BLOCK, POINTS_PER_BLOCK))
            blocks = chosen[:, np.newaxis] * per + offsets
            inside = blocks < n_blocks
            out[blocks[inside]] = rows.reshape(len(chosen), per, step).max(axis=2)[inside]
        for first in range(0, search.candidates.size, _BATCH):  # and the points
            chosen = search.candidates[first : first + _BATCH]
            values = search.point_peaks(chosen)  # point 64 b + i lies between samples p - 1, p
            blocks = chosen[:, np.newaxis] * per + offsets  # the blocks of samples p
            # through sample p: points step j .. step j + step - 1 of the block of points
            groups = values.reshape(len(chosen), per, step).max(axis=2)
            inside = blocks < n_blocks
            out[blocks[inside]] = np.maximum(out[blocks[inside]], groups[inside])
            # through sample p - 1: point step j belongs to the block before
            before = blocks - 1
            inside = (before >= 0) & (before < n_blocks)
            firsts = values[:, ::step]
            out[before[inside]] = np.maximum(out[before[inside]], firsts[inside])
        return out

    found = per_channel(channel, x.shape[0])
    result = found[0]
    for other in found[1:]:
        np.maximum(result, other, out=result)
    return result
