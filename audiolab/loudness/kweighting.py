"""The K-weighting of BS.1770-4 Annex 1, reduced to the energy of every 1 ms sub-block.

At 48 kHz the coefficients are the reference values of BS.1770-4 Tables 1
and 2. At other rates they are derived from the same analog prototype (a
high shelf and a high pass) through the bilinear transform, the design
libebur128 uses; at 48 kHz that design reproduces the tables.

Each channel is filtered once, a few seconds at a time, by the two biquads
run as block matrix products (:mod:`audiolab._blockfilter`: the exact
recursion in BLAS, and no ``import scipy.signal``; ``benchmarks/loudness.py
--machinery`` measures it against chunked ``sosfilt``), and reduced to the
sum of squares of every sub-block of the 1 ms grid, whose boundaries are
``round(k * sr / 1000)`` samples: exact at every rate that is a multiple of
1 kHz and within half a sample at 44.1 kHz.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness.kweighting import grid_boundaries, subblock_energies
>>> bounds = grid_boundaries(48000, 48000)
>>> energy = subblock_energies(np.ones(48000), 48000, bounds)  # DC: the high pass removes it
>>> len(energy), bool(energy[-100:].max() < 1e-12)
(1000, True)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from audiolab._audio import check_sample_rate
from audiolab.errors import AudioError
from audiolab.loudness.constants import (
    GRID_PER_S,
    HIGHPASS_48K,
    HIGHPASS_F0_HZ,
    HIGHPASS_Q,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    SHELF_48K,
    SHELF_F0_HZ,
    SHELF_GAIN_DB,
    SHELF_MID_EXPONENT,
    SHELF_Q,
)

__all__ = ["grid_boundaries", "k_weighting_sos", "meter_rate", "subblock_energies"]

_CHUNK_SECONDS = 4  # K-weight about 4 s at a time: the output stays in cache


def meter_rate(sample_rate: Any) -> int:
    """The sample rate as an int, or :class:`AudioError` outside the meter's 8-768 kHz.

    Parameters
    ----------
    sample_rate : int
        Hz.

    Returns
    -------
    int

    Raises
    ------
    AudioError
        Not a positive whole number, or outside the range.

    Examples
    --------
    >>> meter_rate(44100.0)
    44100
    """
    rate = check_sample_rate(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"the loudness meter works from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz, "
            f"got a sample rate of {sample_rate!r}"
        )
    return rate


def _biquad_bilinear_shelf(sr: int) -> np.ndarray:
    k = math.tan(math.pi * SHELF_F0_HZ / sr)
    vh = 10.0 ** (SHELF_GAIN_DB / 20.0)
    vb = vh**SHELF_MID_EXPONENT
    a0 = 1.0 + k / SHELF_Q + k * k
    b = ((vh + vb * k / SHELF_Q + k * k) / a0, 2.0 * (k * k - vh) / a0,
         (vh - vb * k / SHELF_Q + k * k) / a0)  # fmt: skip
    a = (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0)
    return np.array([*b, *a])


def _biquad_bilinear_highpass(sr: int) -> np.ndarray:
    k = math.tan(math.pi * HIGHPASS_F0_HZ / sr)
    a0 = 1.0 + k / HIGHPASS_Q + k * k
    a = (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / HIGHPASS_Q + k * k) / a0)
    return np.array([1.0, -2.0, 1.0, *a])


@lru_cache(maxsize=32)
def _sos(sr: int) -> np.ndarray:
    if sr == 48000:
        sos = np.array([[*SHELF_48K[0], *SHELF_48K[1]], [*HIGHPASS_48K[0], *HIGHPASS_48K[1]]])
    else:
        sos = np.stack([_biquad_bilinear_shelf(sr), _biquad_bilinear_highpass(sr)])
    sos.setflags(write=False)
    return sos


def k_weighting_sos(sample_rate: int, *, reference: bool = True) -> np.ndarray:
    """K-weighting filter of BS.1770-4 as second-order sections.

    Parameters
    ----------
    sample_rate : int
        Sample rate in Hz.
    reference : bool
        At 48 kHz, return the reference coefficients of BS.1770-4 Tables 1 and 2
        (default) rather than the analog-prototype design.

    Returns
    -------
    numpy.ndarray
        Shape (2, 6): the high shelf, then the high pass, in scipy's ``sos``
        layout ``[b0, b1, b2, a0, a1, a2]``.

    Examples
    --------
    >>> k_weighting_sos(48000)[1, 3:]
    array([ 1.        , -1.99004745,  0.99007225])
    >>> k_weighting_sos(44100).shape
    (2, 6)
    """
    sr = meter_rate(sample_rate)
    if sr == 48000 and not reference:
        return np.stack([_biquad_bilinear_shelf(sr), _biquad_bilinear_highpass(sr)])
    return _sos(sr).copy()


@lru_cache(maxsize=8)
def _k_filter(sr: int) -> Any:
    """The K-weighting of ``sr`` as a :class:`~audiolab._blockfilter.BlockFilter`."""
    from audiolab._blockfilter import BlockFilter

    return BlockFilter(_sos(sr), 32 if sr <= 96000 else 64)


def grid_boundaries(n_samples: int, sr: int) -> np.ndarray:
    """Sample index ``round(k * sr / 1000)`` of every 1 ms grid line inside the signal.

    Parameters
    ----------
    n_samples : int
        Length of the signal.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    numpy.ndarray
        int64, from 0 to the last grid line at or before ``n_samples``.

    Examples
    --------
    >>> grid_boundaries(100, 44100)
    array([ 0, 44, 88])
    """
    # b_k = (k * sr + 500) // 1000 <= n_samples  <=>  k <= (1000 * n_samples + 499) // sr
    last = (GRID_PER_S * n_samples + GRID_PER_S // 2 - 1) // sr
    k = np.arange(last + 1, dtype=np.int64)
    return (k * sr + GRID_PER_S // 2) // GRID_PER_S


def _sum_of_squares(y: np.ndarray, bounds: np.ndarray, sr: int) -> np.ndarray:
    """Sum of y**2 over every grid sub-block [bounds[k], bounds[k+1])."""
    n_sub = len(bounds) - 1
    if n_sub == 0:
        return np.zeros(0)
    if sr % GRID_PER_S == 0:
        g = sr // GRID_PER_S
        blocks = y[: n_sub * g].reshape(n_sub, g)
        return np.einsum("ij,ij->i", blocks, blocks)
    return np.add.reduceat(np.square(y[: bounds[-1]]), bounds[:-1])


def subblock_energies(x: np.ndarray, sr: int, bounds: np.ndarray) -> np.ndarray:
    """One channel K-weighted from rest (BS.1770-4 Annex 1), as the energy of each sub-block.

    The sum of squares of eq. (1) before the division by the length, over
    every sub-block ``[bounds[k], bounds[k + 1])``; samples after the last
    grid line do not reach it. This is the one pass over the samples that the
    meter makes.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz (8 to 768 kHz).
    bounds : numpy.ndarray
        :func:`grid_boundaries` of the signal.

    Returns
    -------
    numpy.ndarray
        ``len(bounds) - 1`` energies.

    Examples
    --------
    >>> sr = 48000
    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)
    >>> energy = subblock_energies(tone, sr, grid_boundaries(sr, sr))
    >>> round(float(energy[500:].mean() / 48), 3)  # mean square: 1/2, +0.7 dB at 1 kHz
    0.587
    """
    k_filter = _k_filter(sr)
    n_sub = len(bounds) - 1
    energy = np.empty(n_sub)
    # Chunks are whole numbers of 1 ms sub-blocks and of filter blocks: 4 s, or a
    # multiple of a second whose samples are.
    seconds = k_filter.block // math.gcd(sr, k_filter.block)
    chunk = seconds * -(-_CHUNK_SECONDS // seconds) * sr
    for start, y in k_filter.chunks(x[: bounds[-1]], chunk):
        first = start * GRID_PER_S // sr  # chunks start on whole seconds
        last = n_sub if start + len(y) == bounds[-1] else first + len(y) * GRID_PER_S // sr
        energy[first:last] = _sum_of_squares(y, bounds[first : last + 1] - start, sr)
    return energy
