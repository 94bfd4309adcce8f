"""The ideal band-limited true peak: interpolation by the sinc itself, exactly.

The meter's true peak (:mod:`audiolab.loudness.truepeak`) interpolates with a
32-tap Kaiser sinc, as BS.1770 asks (Annex 2's example has 12 taps): it rolls
off from about 82 % of the Nyquist frequency, so material with content up to
the Nyquist frequency (noise, clicks, bursts, hard limiting) can peak higher
between its samples than it reads, by up to about 1 dB. A longer filter closes
that only like 1 / taps and no fixed margin bounds it (the sinc's tails add up
like a harmonic series), so the writer's ceiling is also held against the
ideal reconstruction, ``sum_n x[n] sinc(t - n)`` with silence either side:

for the point a fraction ``f`` from ``x[m]`` to ``x[m + 1]`` that is the 32
nearest terms plus the tails, and the tails are exactly
``sin(pi f) / pi * sum_k (-(f - 1/2))^k T_k[m]`` with
``T_k[m] = sum_{o far} (-1)^o x[m + o] / (1/2 - o)^(k + 1)``: three terms
leave less than :data:`TAIL_ERROR` of the largest sample, and the ``T_k`` are
three correlations over the whole signal (one FFT of twice its length and
three inverse ones, the cost of this check). Only the blocks of points that a
bound cannot rule out are interpolated. ``benchmarks/truepeak.py`` measures
it against a zero-padded FFT interpolation (within 0.003 dB on the export
sweep's files) and the Kaiser sincs.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness import ideal
>>> x = np.zeros((1, 64)); x[0, 20:] = 0.5  # a step: the sinc rings 14 % over it
>>> round(ideal.ideal_peak(x, 48000) / 0.5, 2)
1.14
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from audiolab.loudness.interpolation import oversampling_factor, sample_rows

__all__ = ["TAIL_ERROR", "block_envelope", "exceeds", "ideal_peak", "phases"]

_HALF = 16  # near terms: offsets -15 .. 16
_TERMS = 3  # of the tails' expansion in f - 1/2
_PAD = 32  # points looked at past either end (the ringing after a last sample)
_BLOCK = 64  # points a block
_BATCH = 64  # blocks interpolated at a time
#: What the tails' expansion leaves, as a fraction of the largest sample:
#: ``(1 / pi) sum_{k >= 3} 2^-k 2 sum_{u >= 15.5} u^-(k+1)`` is under 1e-5.
TAIL_ERROR = 1e-5


def phases(sample_rate: int) -> int:
    """Points between two samples the ideal check looks at: a multiple of 16.

    At least the meter's :func:`~audiolab.loudness.interpolation.oversampling_factor`,
    and every 16th of a sample among them (what a 16x reference reads).

    Parameters
    ----------
    sample_rate : int
        Hz.

    Returns
    -------
    int

    Examples
    --------
    >>> [phases(sr) for sr in (8000, 48000, 384000)]
    [32, 16, 16]
    """
    return 16 * -(-oversampling_factor(sample_rate) // 16)


@lru_cache(maxsize=8)
def _coefficients(factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Near taps (phases 1 .. factor-1, 2H) and the tails' coefficients (phases, terms)."""
    offsets = np.arange(-_HALF + 1, _HALF + 1)
    fractions = np.arange(1, factor) / factor
    near = np.sinc(fractions[:, np.newaxis] - offsets)
    scale = np.sin(np.pi * fractions) / np.pi
    tails = scale[:, np.newaxis] * (-(fractions[:, np.newaxis] - 0.5)) ** np.arange(_TERMS)
    return near, tails


@lru_cache(maxsize=4)
def _kernel_spectra(n: int, size: int) -> np.ndarray:
    from scipy import fft

    o = np.arange(size)
    o = np.where(o < size // 2, o, o - size)
    far = ((o <= -_HALF) | (o >= _HALF + 1)) & (np.abs(o) < n)
    sign = np.where(o % 2, -1.0, 1.0)
    spectra = []
    for k in range(_TERMS):
        g = np.zeros(size)
        g[far] = sign[far] / (0.5 - o[far]) ** (k + 1)
        # T[m] = sum_o x[m + o] g(o): x convolved with g(-o)
        spectra.append(fft.rfft(np.roll(g[::-1], 1)))
    return np.array(spectra)


def _tails(x: np.ndarray) -> np.ndarray:
    """``T_0 .. T_2`` of one (padded) channel: (terms, len(x))."""
    from scipy import fft

    n = len(x)
    size = fft.next_fast_len(2 * n, real=True)
    spectrum = fft.rfft(x, size)
    return np.array([fft.irfft(spectrum * g, size)[:n] for g in _kernel_spectra(n, size)])


class _Channel:
    """One channel, padded, its tails and a bound of every block of points."""

    def __init__(self, x: np.ndarray, factor: int) -> None:
        from audiolab.loudness.truepeak import row_abs_max

        self.padded = np.concatenate((np.zeros(_PAD + _HALF), x, np.zeros(_PAD + _HALF)))
        self.tails = _tails(self.padded)
        self.near, self.tail_coefficients = _coefficients(factor)
        self.sample_peak = float(np.abs(x).max()) if x.size else 0.0
        # points m = H - 1 + _PAD' .. : the value between padded[m] and padded[m + 1]
        self.first = _HALF - 1
        count = len(self.padded) - 2 * _HALF + 1
        self.n_blocks = -(-count // _BLOCK)
        # the samples a block reads: m - 15 .. m + 16 for its 64 points
        width = _BLOCK + 2 * _HALF - 1
        starts = self.first + np.arange(self.n_blocks) * _BLOCK - _HALF + 1
        reads = np.abs(sample_rows(self.padded, starts, width)).max(axis=1)
        gain = float(np.abs(self.near).sum(axis=1).max())
        tail_sizes = np.abs(self.tail_coefficients).max(axis=0)
        tail = np.zeros(self.n_blocks * _BLOCK)
        for k in range(_TERMS):
            part = np.abs(self.tails[k, self.first : self.first + count])
            tail[:count] += tail_sizes[k] * part
        self.bound = gain * reads + row_abs_max(tail, _BLOCK)
        self.bound += TAIL_ERROR * self.sample_peak

    def values(self, chosen: np.ndarray) -> np.ndarray:
        """The interpolated values of the blocks ``chosen``: (blocks, phases, 64)."""
        from numpy.lib.stride_tricks import sliding_window_view

        starts = self.first + chosen * _BLOCK
        rows = sample_rows(self.padded, starts - _HALF + 1, _BLOCK + 2 * _HALF - 1)
        windows = sliding_window_view(rows, 2 * _HALF, axis=1).transpose(0, 2, 1)
        values = np.matmul(self.near, windows)
        for k in range(_TERMS):
            tail = sample_rows(self.tails[k], starts, _BLOCK)
            values += self.tail_coefficients[np.newaxis, :, k, np.newaxis] * tail[:, np.newaxis]
        return values

    def largest(self, stop_above: float = math.inf) -> float:
        peak = self.sample_peak
        order = np.argsort(-self.bound, kind="stable")
        for first in range(0, order.size, _BATCH):
            chosen = order[first : first + _BATCH]
            if self.bound[chosen[0]] <= peak or peak > stop_above:
                break
            values = self.values(chosen)
            peak = max(peak, float(values.max()), -float(values.min()))
        return peak


def ideal_peak(x: np.ndarray, sr: int) -> float:
    """The true peak of validated audio by ideal (sinc) interpolation, as an amplitude.

    Every :func:`phases`-th of a sample between and around the samples (with
    silence either side), exact to :data:`TAIL_ERROR` of the largest sample.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float

    Examples
    --------
    >>> sr = 48000
    >>> t = np.arange(sr // 10) / sr
    >>> x = np.hanning(t.size) * np.sin(2 * np.pi * 12000 * t + np.pi / 4)  # crests between
    >>> round(float(20 * np.log10(ideal_peak(x[np.newaxis], sr))), 2)
    -0.0
    """
    factor = phases(sr)
    return max((_Channel(channel, factor).largest() for channel in x), default=0.0)


def exceeds(x: np.ndarray, sr: int, level: float) -> bool:
    """Whether the ideal true peak of validated audio is above an amplitude.

    Stops at the first point found above it; blocks whose bound stays at or
    under it are never interpolated.

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
    >>> x = np.zeros((1, 64)); x[0, 20:] = 0.5
    >>> exceeds(x, 48000, 0.56), exceeds(x, 48000, 0.58)
    (True, False)
    """
    factor = phases(sr)
    for channel in x:
        if _Channel(channel, factor).largest(stop_above=level) > level:
            return True
    return False


def block_envelope(x: np.ndarray, sr: int, floor: float, step: int) -> np.ndarray:
    """The ideal true peak around the samples of every block of ``step``, above a floor.

    As :func:`audiolab.loudness.envelope.block_envelope` (the largest value
    between samples ``n - 1`` and ``n + 1`` for the samples ``n`` of each block,
    over channels) for ideal interpolation, points past either end counted in
    the first or last block. Exact where above ``floor``; elsewhere at most
    ``floor`` (0 where nothing was interpolated): the limiter takes the larger
    of this and the meter's envelope.

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    floor : float
        Amplitude.
    step : int
        Samples per block.

    Returns
    -------
    numpy.ndarray
        ``ceil(samples / step)`` amplitudes.

    Examples
    --------
    >>> x = np.zeros((1, 64)); x[0, 20:] = 0.5
    >>> (block_envelope(x, 48000, 0.5, 16) / 0.5).round(2)
    array([0.04, 1.14, 1.02, 1.14])
    """
    n = x.shape[1]
    n_blocks = -(-n // step)
    out = np.zeros(n_blocks)
    factor = phases(sr)
    for channel in x:
        search = _Channel(channel, factor)
        candidates = np.flatnonzero(search.bound > floor)
        for first in range(0, candidates.size, _BATCH):
            chosen = candidates[first : first + _BATCH]
            points = np.abs(search.values(chosen)).max(axis=1).ravel()
            # point i of the padded signal lies between samples i - _PAD - 1 and i - _PAD
            index = (chosen[:, np.newaxis] * _BLOCK + np.arange(_BLOCK)).ravel() - _PAD
            for beside in (index - 1, index):
                blocks = np.clip(beside, 0, n - 1) // step
                np.maximum.at(out, blocks, points)
    return out
