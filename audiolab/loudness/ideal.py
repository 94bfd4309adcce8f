"""The ideal band-limited true peak: what interpolation by the sinc itself reads, exactly.

The meter's true peak (:mod:`audiolab.loudness.truepeak`) interpolates with a
32-tap Kaiser sinc, as BS.1770 asks (Annex 2's example has 12 taps): it rolls
off from about 82 % of the Nyquist frequency, so material with content up to
the Nyquist frequency (noise, clicks, bursts, hard limiting) can peak between
its samples higher than it reads: up to 1.3 dB on the export sweep's files
written with the meter's ceiling only (``benchmarks/export.py --judges``),
against interpolation by the sinc (``sum_n x[n] sinc(t - n)``, silence either
side, what a zero-padded FFT computes). A longer filter closes that only like
1 / taps, and no fixed margin bounds it (the sinc's tails add up like a
harmonic series), so the writer holds its ceiling by this value too.

It is the meter's value plus a residual, exactly. At the point a fraction
``f`` from ``x[m]`` to ``x[m + 1]`` the sinc's terms beyond the meter's 32
taps are ``sin(pi f) / pi * (-1)^o / (f - o)``; the meter's taps differ from
the sinc's within them by a function of ``f`` as smooth. Expanded in powers of
``f - 1/2`` both give, for every phase,
``residual(m, f) = sin(pi f) / pi * sum_k (-(f - 1/2))^k W_k[m]``: two
correlations ``W_k`` of the signal with fixed kernels (one complex FFT of
twice its length and two inverse ones for two channels, by
:mod:`~audiolab.loudness.fourstep`: the cost of this value), leaving under
:data:`RESIDUAL_ERROR` of the largest sample. The search is the meter's
(:class:`~audiolab.loudness.truepeak.PeakSearch`), each block's bound raised by
the residual's largest there: only the blocks it cannot rule out are
interpolated. ``benchmarks/truepeak.py`` compares it with a zero-padded FFT
interpolation (within 0.004 dB on the sweep's files) and longer Kaiser sincs.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness import ideal
>>> x = np.zeros((1, 64)); x[0, 20:] = 0.5  # a step and a drop: the sinc rings over them
>>> round(ideal.ideal_peak(x, 48000) / 0.5, 2)
1.14
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from audiolab.loudness import fourstep
from audiolab.loudness.constants import TRUE_PEAK_TAPS_PER_PHASE
from audiolab.loudness.interpolation import POINTS_PER_BLOCK, interpolator, oversampling_factor
from audiolab.loudness.truepeak import PeakSearch, row_abs_max

__all__ = [
    "RESIDUAL_ERROR",
    "TAIL_ERROR",
    "IdealSearch",
    "Residual",
    "exceeds",
    "ideal_peak",
    "residual_kernels",
    "residuals",
]

_TERMS = 2  # of the expansion in f - 1/2 (a channel alone takes both in one inverse)
_HALF = TRUE_PEAK_TAPS_PER_PHASE // 2
#: What the residual's two terms leave, as a fraction of the largest sample (0.004 dB):
#: the sinc's tails beyond them (:data:`TAIL_ERROR`) and the fit of the meter's taps
#: (under 2.8e-4 at every factor, checked in :func:`residual_kernels`). A third term
#: would take it to 2e-5 for one more inverse FFT of twice the signal.
RESIDUAL_ERROR = 5e-4
#: What the two terms miss of the sinc's tails beyond the meter's taps, summed over the
#: offsets, at most (6.9e-5 at every factor: a property of the expansion, which
#: ``tests/unit/test_ideal_peak.py`` sums term by term).
TAIL_ERROR = 7e-5


@lru_cache(maxsize=8)
def residual_kernels(factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The near kernels of the residual, the phases' coefficients, and their largest.

    Parameters
    ----------
    factor : int
        The meter's oversampling factor.

    Returns
    -------
    near : numpy.ndarray
        (terms, 32): the residual's kernels over the meter's taps (offsets
        -15 .. 16); beyond them the kernels are the sinc's tails.
    coefficients : numpy.ndarray
        (phases, terms): ``sin(pi f) / pi * (-(f - 1/2))^k``.
    largest : numpy.ndarray
        (terms,): the largest ``|coefficient|`` of each term.

    Examples
    --------
    >>> near, coefficients, largest = residual_kernels(16)
    >>> near.shape, coefficients.shape
    ((2, 32), (15, 2))
    """
    offsets = np.arange(-_HALF + 1, _HALF + 1)
    fractions = np.arange(1, factor) / factor
    taps = interpolator(factor)[0].T  # (phases, 32)
    difference = np.sinc(fractions[:, np.newaxis] - offsets) - taps
    coefficients = (np.sin(np.pi * fractions) / np.pi)[:, np.newaxis] * (
        -(fractions[:, np.newaxis] - 0.5)
    ) ** np.arange(_TERMS)
    near = np.linalg.lstsq(coefficients, difference, rcond=None)[0]
    left = np.abs(difference - coefficients @ near).sum(axis=1) + TAIL_ERROR
    if left.max() > RESIDUAL_ERROR:  # pragma: no cover - a property of the taps, checked
        raise AssertionError(f"the residual leaves {left.max():.2g} of the samples")
    for array in (near, coefficients):
        array.setflags(write=False)
    return near, coefficients, np.abs(coefficients).max(axis=0)


def _transform_size(points: int) -> int:
    """The FFT length for ``points`` points: the least of ``2^j``, ``5 * 2^j / 4`` and
    ``3 * 2^j / 2`` not under it. Few lengths, so that the kernels' spectra serve takes
    of many lengths (a new length costs them about 1.5 transforms), at most 4/3 over."""
    size = 16
    while size < points:
        size *= 2
    for smaller in (size * 5 // 8, size * 3 // 4):  # 1.25 and 1.5 times the power below
        if smaller >= points:
            return smaller
    return size


#: The kernels' spectra kept for later signals of the same transform length, in bytes
#: in all: 16 s at 48 kHz needs 16 MB, 10 minutes 0.46 GB (shared by the file's channels,
#: then let go).
SPECTRA_KEPT_BYTES = 256 << 20
_kept: OrderedDict[tuple[int, int], tuple[np.ndarray, float]] = OrderedDict()
_kept_lock = threading.Lock()


def _kernel_spectra(size: int, factor: int) -> _Kernels:
    """:func:`_made_spectra`, kept while all that is kept stays within
    :data:`SPECTRA_KEPT_BYTES` (the least recently used let go first)."""
    key = (size, factor)
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    made = _made_spectra(size, factor)
    with _kept_lock:
        if made[0].nbytes <= SPECTRA_KEPT_BYTES:
            _kept[key] = made
            while sum(spectra.nbytes for spectra, _ in _kept.values()) > SPECTRA_KEPT_BYTES:
                _kept.popitem(last=False)
    return made


#: The kernels' spectra (terms + 1, rows, columns) in the transform's order, the last
#: ``W_0``'s plus ``i`` times ``W_1``'s, and the 2-norm of the two kernels together.
_Kernels = tuple[np.ndarray, float]


def _made_spectra(size: int, factor: int) -> _Kernels:
    """Spectra of the kernels ``W_k`` correlates the signal with, single precision, by
    the :func:`~audiolab.loudness.fourstep.transform` of ``size`` points. Over every
    circular offset: a signal and its points within ``size / 2 - 1`` of each other
    never wrap round."""
    plan = fourstep.transform(size)
    spectra = np.empty((_TERMS + 1, plan.rows, plan.columns), dtype=np.complex64)
    squares = 0.0
    for k in range(_TERMS):
        kernel = _kernel(size, factor, k)
        squares += float(np.sum(kernel**2))
        spectra[k] = plan.forward(kernel.astype(np.complex64))
    np.add(spectra[0], 1j * spectra[1], out=spectra[_TERMS])
    spectra.setflags(write=False)
    return spectra, math.sqrt(squares)


def _kernel(size: int, factor: int, k: int) -> np.ndarray:
    """Kernel ``k`` of the residual over ``size`` circular offsets, reversed for a
    convolution (``W[p] = sum_o x[p + o] kernel(o)``: x convolved with ``kernel(-o)``):
    the near fit over the meter's taps, the sinc's tails beyond."""
    o = np.arange(size)
    o = np.where(o < size // 2, o, o - size)  # the offset of each circular index
    far = (o <= -_HALF) | (o > _HALF)
    kernel = np.zeros(size)
    kernel[far] = np.where(o[far] % 2, -1.0, 1.0) / (0.5 - o[far]) ** (k + 1)
    kernel[np.arange(-_HALF + 1, _HALF + 1) % size] = residual_kernels(factor)[0][k]
    return np.roll(kernel[::-1], 1)


def _residual_size(n: int) -> int:
    """The FFT length of the residual of ``n`` samples: its points and the kernels' reach
    (point ``p`` lies between ``x[p - 1]`` and ``x[p]``: ``W_k[p]`` reads ``x[p - 1 + o]``)
    never wrap round."""
    return _transform_size(2 * (n + 1 + _HALF))


def _correlations(x: np.ndarray, sr: int) -> list[tuple[np.ndarray, float]]:
    """Every channel's ``W_k`` rows (terms, blocks * 64) and its rounding bound.

    Two channels ride in one complex signal, real and imaginary, through one
    forward transform and one inverse per term; a channel alone takes its two
    terms in one inverse (``W_0 + i W_1``, both real). The rounding of the
    single-precision transforms is bounded, generously, by
    ``10 * eps * log2(size)`` times the 2-norms of what was transformed
    together and of the kernels.
    """
    channels, n = x.shape
    size = _residual_size(n)
    spectra, norm = _kernel_spectra(size, oversampling_factor(sr))
    plan = fourstep.transform(size)
    width = -(-(n + 1) // POINTS_PER_BLOCK) * POINTS_PER_BLOCK
    scale = 10.0 * float(np.finfo(np.float32).eps) * math.log2(size) * norm
    found: list[tuple[np.ndarray, float]] = []
    for start in range(0, channels, 2):
        pair = x[start : start + 2]
        z = np.zeros(size, dtype=np.complex64)
        z.real[1 : n + 1] = pair[0]
        if len(pair) == 2:
            z.imag[1 : n + 1] = pair[1]
        rounding = scale * math.sqrt(float(np.vdot(pair, pair).real))
        spectrum = plan.forward(z)
        rows = np.zeros((len(pair), _TERMS, width), dtype=np.float32)
        if len(pair) == 1:  # the terms in one inverse
            w = plan.inverse(np.multiply(spectrum, spectra[_TERMS], out=spectrum))[: n + 1]
            rows[0, 0, : n + 1], rows[0, 1, : n + 1] = w.real, w.imag
        for k in range(_TERMS if len(pair) == 2 else 0):  # the last takes the spectrum over
            product = np.multiply(spectrum, spectra[k], out=spectrum if k == _TERMS - 1 else None)
            w = plan.inverse(product)[: n + 1]
            rows[0, k, : n + 1], rows[1, k, : n + 1] = w.real, w.imag
        found += [(channel_rows, rounding) for channel_rows in rows]
    return found


class Residual:
    """The residual of one channel, ideal minus the meter, as its two sequences and a slack.

    ``rows[k, p]`` is ``W_k`` at point ``p`` (0 past the last point); every
    point's residual is ``sum_k coefficients[phase, k] * rows[k, p]`` within
    ``slack``: the expansion's :data:`RESIDUAL_ERROR` of the largest sample,
    and the single-precision FFTs' rounding.

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz.
    found : tuple, optional
        Its rows and rounding bound, when computed with other channels
        (:func:`residuals`).

    Examples
    --------
    >>> r = Residual(np.zeros(100), 48000)
    >>> r.rows.shape, r.slack
    ((2, 128), 0.0)
    """

    def __init__(
        self, x: np.ndarray, sr: int, found: tuple[np.ndarray, float] | None = None
    ) -> None:
        self.rows, rounding = found or _correlations(x[np.newaxis], sr)[0]
        peak = max(float(x.max()), -float(x.min())) if len(x) else 0.0
        self.slack = RESIDUAL_ERROR * peak + rounding

    def block_bound(self, sr: int) -> np.ndarray:
        """The largest |residual| over every block of 64 points, at most.

        Parameters
        ----------
        sr : int
            Sample rate in Hz.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> Residual(np.ones(10), 48000).block_bound(48000).shape
        (1,)
        """
        largest = residual_kernels(oversampling_factor(sr))[2]
        bound = np.full(self.rows.shape[1] // POINTS_PER_BLOCK, self.slack)
        for k in range(_TERMS):
            bound += largest[k] * row_abs_max(self.rows[k], POINTS_PER_BLOCK)
        return bound


def residuals(x: np.ndarray, sr: int) -> list[Residual]:
    """The :class:`Residual` of every channel of validated audio (what the searches share).

    Linear in the signal: a gain scales it, so one serves the input at every gain.
    Channels two by two in one complex transform (:func:`_correlations`).

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    list of Residual

    Examples
    --------
    >>> len(residuals(np.zeros((2, 100)), 48000))
    2
    """
    return [
        Residual(channel, sr, found) for channel, found in zip(x, _correlations(x, sr), strict=True)
    ]


class IdealSearch(PeakSearch):
    """The meter's search of one channel for the ideal true peak (its value plus the residual).

    Parameters
    ----------
    x : numpy.ndarray
        One channel, 1-D float64.
    sr : int
        Sample rate in Hz.
    floor : float
        Amplitude: blocks that provably stay at or under it are not candidates.
    above_samples : bool
        Raise the threshold to the sample peak.
    residual : Residual, optional
        This channel's (computed when not given).
    with_meter : bool
        :meth:`point_peaks` reads the larger of the ideal and the meter's
        values at every point (what a limiter holding both ceilings reads):
        one search for both, its candidates the ideal's (a superset).

    Examples
    --------
    >>> x = np.zeros(64); x[20:] = 0.5
    >>> round(IdealSearch(x, 48000, 0.0, above_samples=True).largest() / 0.5, 2)
    1.14
    """

    def __init__(
        self,
        x: np.ndarray,
        sr: int,
        floor: float,
        *,
        above_samples: bool,
        residual: Residual | None = None,
        with_meter: bool = False,
    ) -> None:
        self.with_meter = with_meter
        self.residual = Residual(x, sr) if residual is None else residual
        self.coefficients = residual_kernels(oversampling_factor(sr))[1]
        extra = self.residual.block_bound(sr)
        super().__init__(x, sr, floor, above_samples=above_samples, extra=extra)

    def interpolate(self, chosen: np.ndarray) -> np.ndarray:
        """The ideal values of every point of the blocks ``chosen``: the meter's plus the residual.

        Parameters
        ----------
        chosen : numpy.ndarray
            Block indices.

        Returns
        -------
        numpy.ndarray
            Shape (len(chosen), phases, 64); points after ``len(x)`` read 0.
        """
        return self._ideal(super().interpolate(chosen), chosen)

    def _ideal(self, meter: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """The meter's values of the blocks ``chosen`` plus the residual (in ``meter``)."""
        rows = self.residual.rows.reshape(_TERMS, -1, POINTS_PER_BLOCK)[:, chosen]
        meter += np.einsum("pk,kbi->bpi", self.coefficients, rows)
        return meter

    def point_peaks(self, chosen: np.ndarray) -> np.ndarray:
        """The largest |ideal value| of every point of the blocks ``chosen`` (or of the
        meter's, when larger, ``with_meter``).

        Parameters
        ----------
        chosen : numpy.ndarray
            Block indices.

        Returns
        -------
        numpy.ndarray
            Shape (len(chosen), 64).
        """
        if not self.with_meter:
            return super().point_peaks(chosen)
        meter = PeakSearch.interpolate(self, chosen)
        peaks = np.abs(meter).max(axis=1)
        return np.maximum(peaks, np.abs(self._ideal(meter, chosen)).max(axis=1), out=peaks)


def ideal_peak(x: np.ndarray, sr: int, found: list[Residual] | None = None) -> float:
    """The true peak of validated audio by ideal (sinc) interpolation, as an amplitude.

    At the meter's points (:func:`~audiolab.loudness.interpolation.oversampling_factor`
    of them between two samples, every 16th of a sample among them), exact to
    the residual's slack (:class:`Residual`: about 5e-4 of the largest sample).

    Parameters
    ----------
    x : numpy.ndarray
        float64 (channels, samples).
    sr : int
        Sample rate in Hz.
    found : list of Residual, optional
        The channels' :func:`residuals`, when known.

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
    peak = 0.0
    found = residuals(x, sr) if found is None else found
    for channel, residual in zip(x, found, strict=True):
        search = IdealSearch(channel, sr, 0.0, above_samples=True, residual=residual)
        peak = max(peak, search.largest())
    return peak


def exceeds(x: np.ndarray, sr: int, level: float, found: list[Residual] | None = None) -> bool:
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
    found : list of Residual, optional
        The channels' :func:`residuals`, when known.

    Returns
    -------
    bool

    Examples
    --------
    >>> x = np.zeros((1, 64)); x[0, 20:] = 0.5
    >>> exceeds(x, 48000, 0.56), exceeds(x, 48000, 0.58)
    (True, False)
    """
    found = residuals(x, sr) if found is None else found
    for channel, residual in zip(x, found, strict=True):
        search = IdealSearch(channel, sr, level, above_samples=False, residual=residual)
        if search.largest(stop_above=level) > level:
            return True
    return False
