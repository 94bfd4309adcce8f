"""Running windows over 1-D arrays, in numpy: minimum, mean, maximum, and drawing lines.

The limiter's gain is shaped with these on blocks of a few samples
(:mod:`audiolab.limiter`); each equals its scipy / numpy counterpart (tested).

Examples
--------
>>> import numpy as np
>>> from audiolab._windows import sliding_minimum
>>> sliding_minimum(np.array([3.0, 1.0, 4.0]), 1)
array([3., 1., 4.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["between_centres", "moving_average", "sliding_minimum", "window_reduce"]


def sliding_minimum(values: np.ndarray, size: int) -> np.ndarray:
    """Minimum over a centred window of odd ``size``, edges repeated (scipy's ``mode="nearest"``).

    By doubling: minima over windows of 1, 2, 4, ... values, then the two
    overlapping power-of-two windows that cover each window of ``size``.

    Parameters
    ----------
    values : numpy.ndarray
        1-D.
    size : int
        Odd window length.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> sliding_minimum(np.array([3.0, 1.0, 4.0, 1.0, 5.0]), 3)
    array([1., 1., 1., 1., 1.])
    """
    half = size // 2
    padded = np.concatenate((np.full(half, values[0]), values, np.full(half, values[-1])))
    width, minima = 1, padded
    while 2 * width <= size:
        minima = np.minimum(minima[:-width], minima[width:])
        width *= 2
    # minima[i] covers padded[i : i + width]; window i is padded[i : i + size]
    return np.minimum(minima[: len(values)], minima[size - width : size - width + len(values)])


def moving_average(values: np.ndarray, size: int) -> np.ndarray:
    """Mean over a centred window of odd ``size``, edges repeated (``mode="nearest"``).

    Parameters
    ----------
    values : numpy.ndarray
        1-D.
    size : int
        Odd window length.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> moving_average(np.array([0.0, 3.0, 0.0]), 3)
    array([1., 1., 1.])
    """
    half = size // 2
    padded = np.concatenate((np.full(half + 1, values[0]), values, np.full(half, values[-1])))
    padded[0] = 0.0
    total = np.cumsum(padded)
    return (total[size:] - total[:-size]) / size


def between_centres(values: np.ndarray, step: int) -> np.ndarray:
    """Linear interpolation of one value per block of ``step`` samples, known at the block
    centres, at every sample (constant before the first centre and after the last).

    ``numpy.interp`` on a regular grid: the stretch from centre ``k`` to
    centre ``k + 1`` spans ``step`` samples, the same fractions of the way for
    every ``k``, so it is one (blocks, step) product.

    Parameters
    ----------
    values : numpy.ndarray
        One value per block.
    step : int
        Samples per block.

    Returns
    -------
    numpy.ndarray
        ``len(values) * step`` samples.

    Examples
    --------
    >>> between_centres(np.array([0.0, 1.0]), 2)  # centres at samples 1 and 3
    array([0. , 0. , 0.5, 1. ])
    """
    n_blocks = len(values)
    head = (step + 1) // 2  # samples before the first centre, (step - 1) / 2 away from it
    out = np.empty(n_blocks * step)
    out[:head] = values[0]
    out[head + (n_blocks - 1) * step :] = values[-1]
    if n_blocks > 1:
        fraction = (np.arange(step) + head - step / 2) / step  # of the way to the next centre
        stretches = out[head : head + (n_blocks - 1) * step].reshape(n_blocks - 1, step)
        np.multiply(np.diff(values)[:, None], fraction, out=stretches)
        stretches += values[:-1, None]
    return out


def window_reduce(reduce: Any, values: np.ndarray, half: int) -> np.ndarray:
    """``reduce`` (np.maximum or np.minimum) over ``values[b - half : b + half + 1]``, edges
    repeated.

    Parameters
    ----------
    reduce : numpy.ufunc
        ``np.maximum`` or ``np.minimum``.
    values : numpy.ndarray
        1-D.
    half : int
        Values either side.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> window_reduce(np.maximum, np.array([0.0, 3.0, 1.0, 0.0]), 1)
    array([3., 3., 3., 1.])
    """
    padded = np.concatenate((np.full(half, values[0]), values, np.full(half, values[-1])))
    out = padded[: len(values)].copy()
    for shift in range(1, 2 * half + 1):
        reduce(out, padded[shift : shift + len(values)], out=out)
    return out
