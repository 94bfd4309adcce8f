"""Long complex FFTs for convolutions, as two passes of short ones (the four-step method).

A transform of ``S = N1 * N2`` points is ``N1`` transforms of ``N2`` points,
a twiddle, and ``N2`` transforms of ``N1`` points (Bailey, "FFTs in external
or hierarchical memory", 1990). The short transforms fit in the cache and come
in batches, which pocketfft vectorises; one transform of a million points
does neither. (Over two threads the batches measured no faster: the passes are
bound by memory.) The spectrum comes out in a scrambled order
(``forward(z)[k2, k1]`` is ``Z[k2 + N2 * k1]``), which a convolution never
needs undone: a kernel's spectrum made by the same transform has the same
order, and :meth:`Transform.inverse` unscrambles.

The ideal true peak's residual (:mod:`audiolab.loudness.ideal`) is its one
user: two real channels ride in one complex signal (real and imaginary parts),
or one channel's two correlations in one inverse. ``python benchmarks/truepeak.py``
measures it against the per-channel real FFTs it replaced.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness.fourstep import transform
>>> z = np.arange(1 << 14, dtype=np.complex64)
>>> t = transform(z.size)
>>> bool(np.allclose(t.inverse(t.forward(z.copy())), z, atol=1e-2))
True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["SPLIT_POINTS", "Transform", "transform"]

#: The least size split in two passes: under it one transform fits the cache.
SPLIT_POINTS = 1 << 14


def _divisor(size: int) -> int:
    """The largest divisor of ``size`` of the form ``2^a``, ``3 * 2^a`` or ``5 * 2^a``
    not over its square root."""
    best = 1
    for odd in (1, 3, 5):
        d = odd
        while d * d <= size:
            if size % d == 0:
                best = max(best, d)
            d *= 2
    return best


class Transform:
    """The single-precision complex FFT of ``size`` points, in two passes where it pays.

    The twiddle ``exp(-2 pi i n1 k2 / S)`` is applied as two small tables'
    product, rows ``k2 = u + U v`` taking ``A[u] * B[v]``: about ``2 S^(3/4)``
    points (0.5 MB at 2^20 points, 12.6 MB at 2^26), where
    the whole table would be ``S`` (8 MB and 512 MB).

    Parameters
    ----------
    size : int
        Points.

    Examples
    --------
    >>> t = Transform(1 << 16)
    >>> t.rows, t.columns
    (256, 256)
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.columns = _divisor(size) if size >= SPLIT_POINTS else 1
        self.rows = size // self.columns
        self.block = _divisor(self.rows)  # U
        n1 = np.arange(self.columns)

        def table(k2: np.ndarray) -> np.ndarray:
            product = np.outer(k2, n1) % size  # exactly, in integers
            return np.exp((-2j * np.pi / size) * product).astype(np.complex64)

        self.near = table(np.arange(self.block))  # A: (U, N1)
        self.far = table(self.block * np.arange(self.rows // self.block))  # B: (N2 / U, N1)

    def _twiddle(self, a: np.ndarray, inverse: bool) -> None:
        """Multiply ``a`` (rows, columns) by the twiddle (or its conjugate), in place."""
        near, far = (self.near.conj(), self.far.conj()) if inverse else (self.near, self.far)
        factor = np.empty_like(near)  # one block's twiddle at a time
        for v, block in enumerate(a.reshape(-1, self.block, self.columns)):
            block *= np.multiply(near, far[v], out=factor)

    def forward(self, z: np.ndarray) -> np.ndarray:
        """The spectrum of ``z`` (``size`` complex64 points, overwritten), scrambled.

        Parameters
        ----------
        z : numpy.ndarray
            complex64, 1-D, ``size`` points.

        Returns
        -------
        numpy.ndarray
            complex64, (rows, columns): ``[k2, k1]`` is the DFT at ``k2 + rows * k1``.

        Examples
        --------
        >>> t = Transform(1 << 14)
        >>> spectrum = t.forward(np.ones(1 << 14, dtype=np.complex64))
        >>> spectrum.shape, float(abs(spectrum[0, 0]))  # all in the DFT's first point
        ((128, 128), 16384.0)
        """
        from scipy import fft

        a = fft.fft(z.reshape(self.rows, self.columns), axis=0, overwrite_x=True)
        if self.columns == 1:
            return a
        self._twiddle(a, inverse=False)
        return fft.fft(a, axis=1, overwrite_x=True)

    def inverse(self, spectrum: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`forward` (``spectrum`` overwritten), in natural order.

        Parameters
        ----------
        spectrum : numpy.ndarray
            complex64, (rows, columns), as :meth:`forward` gives it.

        Returns
        -------
        numpy.ndarray
            complex64, 1-D, ``size`` points.

        Examples
        --------
        >>> t = Transform(1 << 14)
        >>> z = np.exp(1j * np.arange(1 << 14)).astype(np.complex64)
        >>> bool(np.allclose(t.inverse(t.forward(z.copy())), z, atol=1e-4))
        True
        """
        from scipy import fft

        a = spectrum
        if self.columns > 1:
            a = fft.ifft(a, axis=1, overwrite_x=True)
            self._twiddle(a, inverse=True)
        return fft.ifft(a, axis=0, overwrite_x=True).reshape(-1)


@lru_cache(maxsize=8)
def transform(size: int) -> Transform:
    """The :class:`Transform` of ``size`` points, kept for the next signal of that size.

    Parameters
    ----------
    size : int
        Points.

    Returns
    -------
    Transform

    Examples
    --------
    >>> transform(1 << 16) is transform(1 << 16)
    True
    """
    return Transform(size)
