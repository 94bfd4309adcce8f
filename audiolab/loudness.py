"""ITU-R BS.1770-4 / EBU R128 loudness meter.

Read it with the standard beside it: the K-weighting filter (BS.1770-4 Annex 1,
Tables 1 and 2), the mean square per channel (eq. 1), the weighted channel sum
(eq. 2, Table 3), the gated integration (eq. 3-7), the loudness range of
EBU Tech 3342 and the true peak of BS.1770-4 Annex 2.

How it is computed. Each channel is K-weighted once, a few seconds at a time
(the two biquads run as block matrix products, :mod:`audiolab._blockfilter`:
the exact recursion, in BLAS instead of a loop over samples), and reduced to
the energy of every 1 ms sub-block. Every window the standards ask for
(400 ms momentary and gating blocks, 3 s short-term) is a whole number of
sub-blocks, so every window position on the 1 ms grid costs one subtraction
of cumulative sums: the maxima of EBU Tech 3341 cases 10 and 13 are searched
at a 1 ms step, not read off a 100 ms grid. The 1 ms grid boundaries are
``round(k * sr / 1000)`` samples, exact at every rate that is a multiple of
1 kHz and within half a sample at 44.1 kHz.

Filters. At 48 kHz the coefficients are the reference values of BS.1770-4
Tables 1 and 2. At other rates they are derived from the same analog
prototype (a high shelf and a high pass) through the bilinear transform, the
design libebur128 uses; at 48 kHz that design reproduces the tables.

Examples
--------
>>> import numpy as np
>>> from audiolab import loudness
>>> sr = 48000
>>> t = np.arange(20 * sr) / sr
>>> tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
>>> round(loudness.integrated(np.stack([tone, tone]), sr), 3)  # EBU Tech 3341 case 1
-22.993
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from audiolab._audio import as_audio, check_sample_rate, require_finite
from audiolab._json import json_safe
from audiolab._threads import THREADED_SAMPLES, side_by_side
from audiolab.errors import AudioError

__all__ = [
    "LoudnessReport",
    "integrated",
    "k_weighting_sos",
    "loudness_range",
    "max_momentary",
    "max_short_term",
    "momentary",
    "report",
    "sample_peak",
    "short_term",
    "true_peak",
    "true_peak_envelope",
    "true_peak_exceeds",
]

_T = TypeVar("_T")

# ---------------------------------------------------------------- constants
# BS.1770-4 eq. (2): L_K = -0.691 + 10 log10(sum_i G_i z_i)
LOUDNESS_OFFSET = -0.691
# BS.1770-4 Table 3: channel weights G_i in the order L, R, C, Ls, Rs
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)

# BS.1770-4 Table 1: stage 1 of the K-weighting (high shelf) at 48 kHz
SHELF_48K = ((1.53512485958697, -2.69169618940638, 1.19839281085285),
             (1.0, -1.69065929318241, 0.73248077421585))  # fmt: skip
# BS.1770-4 Table 2: stage 2 of the K-weighting (RLB high pass) at 48 kHz
HIGHPASS_48K = ((1.0, -2.0, 1.0),
                (1.0, -1.99004745483398, 0.99007225036621))  # fmt: skip
# The analog prototype behind Tables 1 and 2 (the values libebur128 derives its
# filters from; through the bilinear transform at 48 kHz they give the tables).
SHELF_F0_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
SHELF_MID_EXPONENT = 0.4996667741545416
HIGHPASS_F0_HZ = 38.13547087602444
HIGHPASS_Q = 0.5003270373238773

# BS.1770-4 sec. 2.8: 400 ms gating blocks overlapping by 75 %, gates
MOMENTARY_S = 0.4
SHORT_TERM_S = 3.0
GATING_STEP_S = 0.1
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
# EBU Tech 3342: loudness range from short-term values, relative gate -20 LU,
# the spread between the 10th and the 95th percentile
LRA_RELATIVE_GATE_LU = -20.0
LRA_PERCENTILES = (10.0, 95.0)

# The sub-block grid every window is built from.
GRID_S = 0.001
_GRID_PER_S = 1000  # sub-blocks per second
_MOMENTARY_SUBBLOCKS = 400
_SHORT_TERM_SUBBLOCKS = 3000
_GATING_STEP_SUBBLOCKS = 100
_CHUNK_SECONDS = 4  # K-weight about 4 s at a time: the output stays in cache

# BS.1770-4 Annex 2: oversample by 4 below 96 kHz, by 2 below 192 kHz.
TRUE_PEAK_TAPS_PER_PHASE = 16
_TRUE_PEAK_KAISER_BETA = 7.0
_PEAK_BLOCK = 64  # points per block in the true-peak search
_PEAK_BATCH = 256  # blocks interpolated at a time
_MAGNITUDE_CHUNK = 1 << 15  # samples whose magnitudes are taken at a time


# ------------------------------------------------------------------ filters
#: Rates the meter works at: the K-weighting shelf (1.7 kHz) must lie well below Nyquist.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 768000


def _meter_rate(sample_rate: Any) -> int:
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
def _k_weighting_sos_cached(sr: int) -> np.ndarray:
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
    sr = _meter_rate(sample_rate)
    if sr == 48000 and not reference:
        return np.stack([_biquad_bilinear_shelf(sr), _biquad_bilinear_highpass(sr)])
    return _k_weighting_sos_cached(sr).copy()


# ------------------------------------------------------------ the analysis
def _grid_boundaries(n_samples: int, sr: int) -> np.ndarray:
    """Sample index ``round(k * sr / 1000)`` of every 1 ms grid line inside the signal."""
    # b_k = (k * sr + 500) // 1000 <= n_samples  <=>  k <= (1000 * n_samples + 499) // sr
    last = (_GRID_PER_S * n_samples + _GRID_PER_S // 2 - 1) // sr
    k = np.arange(last + 1, dtype=np.int64)
    return (k * sr + _GRID_PER_S // 2) // _GRID_PER_S


def _subblock_energy(y: np.ndarray, bounds: np.ndarray, sr: int) -> np.ndarray:
    """Sum of y**2 over every grid sub-block [bounds[k], bounds[k+1])."""
    n_sub = len(bounds) - 1
    if n_sub == 0:
        return np.zeros(0)
    if sr % _GRID_PER_S == 0:
        g = sr // _GRID_PER_S
        blocks = y[: n_sub * g].reshape(n_sub, g)
        return np.einsum("ij,ij->i", blocks, blocks)
    return np.add.reduceat(np.square(y[: bounds[-1]]), bounds[:-1])


@lru_cache(maxsize=4)
def _interpolator(factor: int) -> tuple[np.ndarray, float]:
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
        h = np.sinc(t) * np.i0(_TRUE_PEAK_KAISER_BETA * np.sqrt(1.0 - (t / half) ** 2))
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


@lru_cache(maxsize=4)
def _block_interpolator(factor: int) -> np.ndarray:
    """The interpolator of a block of points as one banded (Toeplitz) matrix.

    Point ``i`` of a block reads samples ``i .. i + N - 1`` of the block's
    padded row (N taps); column ``phase * block + i`` of the
    ``(block + N - 1, (factor - 1) * block)`` matrix holds the taps of that
    phase at rows ``i .. i + N - 1``, so ``rows @ matrix`` interpolates every
    point of many blocks in one BLAS call, phase after phase.
    """
    taps, _ = _interpolator(factor)
    n_taps, phases = taps.shape
    block = _PEAK_BLOCK
    matrix = np.zeros((block + n_taps - 1, phases, block))
    for i in range(block):
        matrix[i : i + n_taps, :, i] = taps
    matrix = matrix.reshape(block + n_taps - 1, phases * block)
    matrix.setflags(write=False)
    return matrix


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
        out[1 : 1 + whole] = _row_abs_max(x[head : head + whole * width], width)
    rest = x[head + max(whole, 0) * width :]
    if len(rest) and 1 + whole < count:
        out[1 + whole] = np.abs(rest).max()
    return out


def _row_abs_max(values: np.ndarray, width: int) -> np.ndarray:
    """max |values| over consecutive rows of ``width`` (``values.size`` a multiple).

    ``reduceat`` over the magnitudes (a reduction per short row costs numpy
    more than the row itself), a cache-sized piece at a time: a whole-signal
    array of magnitudes would cost more in page faults than in arithmetic.
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


def _rows(x: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``x[s : s + width]`` for every start, zeros outside the signal."""
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


class _PeakSearch:
    """The blocks of points of ``x`` whose oversampled value could exceed a threshold.

    Point ``p`` (0 to ``len(x)``) is the interpolated stretch between
    ``x[p - 1]`` and ``x[p]`` (zero outside the signal); block ``b`` holds
    points ``64 b .. 64 b + 63`` and reads samples ``64 b - 8 .. 64 b + 70``:
    windows ``b`` and ``b + 1`` of the signal cut into windows of 64 from 8
    samples before its start. Two bounds rule blocks out without
    interpolating them: no point exceeds ``sum |taps|`` times the largest
    sample it reads, nor the larger of its two neighbouring samples plus the
    second-difference bound of :func:`_interpolator` times the largest
    ``|second difference|`` it reads. The first, from the sample maxima of
    the windows, picks the blocks worth the second; the second is computed on
    those only. What is left are the candidate blocks, with their bounds, for
    :meth:`interpolate`. The threshold is ``floor`` and, with
    ``above_samples``, the sample peak too.
    """

    def __init__(self, x: np.ndarray, sr: int, floor: float, *, above_samples: bool) -> None:
        n, block = len(x), _PEAK_BLOCK
        factor = _oversampling_factor(sr)
        self.x = x
        self.n = n
        self.n_blocks = -(-(n + 1) // block)  # points 0 .. n
        window_max = _window_abs_max(x, block, self.n_blocks + 2)
        self.sample_peak = float(window_max.max())
        threshold = max(floor, self.sample_peak) if above_samples else floor
        self.bound = np.zeros(0)
        self.candidates = np.zeros(0, dtype=np.int64)
        if factor == 1:
            return
        taps, d2_gain = _interpolator(factor)
        gain = float(np.abs(taps).sum(axis=0).max())
        self.matrix = _block_interpolator(factor)
        self.phases = factor - 1
        near = np.maximum(window_max[: self.n_blocks], window_max[1 : self.n_blocks + 1])
        promising = np.flatnonzero(gain * near > threshold)
        if promising.size == 0:
            return
        # The second differences centred on the samples of every window w that a
        # promising block reads (x[64 w - 8 .. 64 w + 55]), from the samples either side.
        read = np.zeros(self.n_blocks + 2, dtype=bool)
        read[promising] = True
        read[promising + 1] = True
        windows = np.flatnonzero(read)
        d2_max = np.zeros(self.n_blocks + 2)
        for first in range(0, windows.size, _PEAK_BATCH * 2):  # a cache-sized batch at a time
            batch = windows[first : first + _PEAK_BATCH * 2]
            rows = _rows(x, batch * block - TRUE_PEAK_TAPS_PER_PHASE // 2 - 1, block + 2)
            d2 = rows[:, :-2] + rows[:, 2:]
            d2 -= rows[:, 1:-1]
            d2 -= rows[:, 1:-1]
            d2_max[batch] = _row_abs_max(d2, block)
        bound = near[promising] + d2_gain * np.maximum(d2_max[promising], d2_max[promising + 1])
        keep = bound > threshold
        self.candidates = promising[keep]
        self.bound = bound[keep]

    def interpolate(self, chosen: np.ndarray) -> np.ndarray:
        """The interpolated values of every point of the blocks ``chosen``.

        Shape (len(chosen), phases, 64); points after ``len(x)`` read 0.
        """
        block = _PEAK_BLOCK
        width = self.matrix.shape[0]
        rows = _rows(self.x, chosen * block - TRUE_PEAK_TAPS_PER_PHASE // 2, width)
        values = (rows @ self.matrix).reshape(len(chosen), self.phases, block)
        last = self.n_blocks - 1  # points beyond len(x) belong to no one
        if chosen.size and chosen.max() == last:
            values[chosen == last, :, self.n - last * block + 1 :] = 0.0
        return values

    def largest(self, stop_above: float = math.inf, batch: int = _PEAK_BATCH) -> float:
        """The largest |value| over the samples and every point, as an amplitude.

        The candidates are interpolated, most promising first, ``batch`` blocks
        at a time, until no block left can beat the peak found so far, or
        once the peak is over ``stop_above`` (the answer to "does it exceed?").
        """
        peak = self.sample_peak
        order = np.argsort(-self.bound, kind="stable")
        for first in range(0, order.size, batch):
            chosen = order[first : first + batch]
            if self.bound[chosen[0]] <= peak or peak > stop_above:
                break
            values = self.interpolate(self.candidates[chosen])
            peak = max(peak, float(values.max()), -float(values.min()))
        return peak

    def point_peaks(self, chosen: np.ndarray) -> np.ndarray:
        """The largest |interpolated value| of every point of the blocks ``chosen``: (k, 64)."""
        return np.abs(self.interpolate(chosen)).max(axis=1)


def _channel_peaks(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Sample peak and true peak (BS.1770-4 Annex 2) of one channel, as amplitudes.

    Exact (the value of interpolating every point), but not brute force: the
    candidate blocks of :class:`_PeakSearch` are interpolated, most promising
    first, until no block left can beat the peak found so far. Music costs a
    few passes over the samples and a little more; a full-scale steady tone,
    where every block could hold the peak, costs the full interpolation.
    """
    search = _PeakSearch(x, sr, 0.0, above_samples=True)
    return search.sample_peak, search.largest()


def _oversampling_factor(sr: int) -> int:
    return 4 if sr < 96000 else 2 if sr < 192000 else 1


@dataclass
class _Analysis:
    """Per-channel 1 ms sub-block energies of the K-weighted signal (and peaks)."""

    sample_rate: int
    channels: int
    n_samples: int
    bounds: np.ndarray  # (K + 1,) sample index of each grid line
    energy: np.ndarray  # (K,) channel-weighted K-weighted energy per sub-block
    sample_peak: float = 0.0  # largest |sample| (when asked for)
    true_peak: float = 0.0  # largest |oversampled sample| (when asked for)
    cumulative: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.cumulative = np.concatenate(([0.0], np.cumsum(self.energy)))

    def windows(self, n_sub: int, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(end sample index, mean square) of every complete window of n_sub sub-blocks."""
        ends = np.arange(n_sub, len(self.bounds), step)
        energy = self.cumulative[ends] - self.cumulative[ends - n_sub]
        lengths = self.bounds[ends] - self.bounds[ends - n_sub]
        # Cumulative sums of non-negative terms can differ by rounding only.
        return self.bounds[ends], np.maximum(energy, 0.0) / lengths


@lru_cache(maxsize=8)
def _k_filter(sr: int) -> Any:
    """The K-weighting of ``sr`` as a :class:`~audiolab._blockfilter.BlockFilter`."""
    from audiolab._blockfilter import BlockFilter

    return BlockFilter(_k_weighting_sos_cached(sr), 32 if sr <= 96000 else 64)


def _analyse(audio: Any, sample_rate: Any, *, peaks: bool = False) -> _Analysis:
    sr = _meter_rate(sample_rate)
    # NaN and Inf show up in the energies, which saves a pass over the input.
    x = as_audio(audio, check_finite=False)
    channels, n_samples = x.shape
    k_filter = _k_filter(sr)
    bounds = _grid_boundaries(n_samples, sr)

    n_sub = len(bounds) - 1

    # A few seconds at a time: the filter output stays in cache and is never a
    # whole-signal array. Chunks are whole numbers of 1 ms sub-blocks and of
    # filter blocks: 4 s, or a multiple of a second whose samples are.
    seconds = k_filter.block // math.gcd(sr, k_filter.block)
    chunk = seconds * -(-_CHUNK_SECONDS // seconds) * sr

    def k_weighted_energy(c: int) -> np.ndarray:
        energy = np.empty(n_sub)
        # BS.1770-4 Annex 1: K-weighting, from rest
        for start, y in k_filter.chunks(x[c, : bounds[-1]], chunk):
            first = start * _GRID_PER_S // sr  # chunks start on whole seconds
            last = n_sub if start + len(y) == bounds[-1] else first + len(y) * _GRID_PER_S // sr
            # eq. (1) before the division by the length
            energy[first:last] = _subblock_energy(y, bounds[first : last + 1] - start, sr)
        return energy

    def channel(c: int) -> tuple[np.ndarray, tuple[float, float]]:
        return k_weighted_energy(c), _channel_peaks(x[c], sr) if peaks else (0.0, 0.0)

    results = _per_channel(channel, channels, n_samples)
    energies = [energy for energy, _ in results]
    found = [peak for _, peak in results]
    energy = np.zeros(n_sub)
    for weight, channel_energy in zip(CHANNEL_WEIGHTS, energies, strict=False):
        energy += weight * channel_energy  # eq. (2): sum over channels of G_i z_i
    # The samples after the last grid line do not reach the energies.
    if not (np.isfinite(energy.sum()) and np.isfinite(x[:, bounds[-1] :]).all()):
        require_finite(x)
        raise AudioError(f"audio is too large to measure: peak {float(np.max(np.abs(x))):.3g}")
    analysis = _Analysis(sr, channels, n_samples, bounds, energy)
    analysis.sample_peak = max(sample for sample, _ in found)
    analysis.true_peak = max(true for _, true in found)
    return analysis


def _per_channel(task: Callable[[int], _T], channels: int, n_samples: int) -> list[_T]:
    """``[task(c) for c in range(channels)]``, a thread per channel for long signals."""
    return side_by_side(task, range(channels), threaded=n_samples >= THREADED_SAMPLES)


def _to_lufs(mean_square: np.ndarray) -> np.ndarray:
    """BS.1770-4 eq. (2) on weighted mean squares; -inf where they are zero."""
    out = np.full(np.shape(mean_square), -np.inf)
    positive = mean_square > 0
    out[positive] = LOUDNESS_OFFSET + 10.0 * np.log10(mean_square[positive])
    return out


def _power_to_lufs(power: float) -> float:
    return float(_to_lufs(np.array([power]))[0])


def _to_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def _require_seconds(analysis: _Analysis, n_sub: int, what: str) -> None:
    if len(analysis.bounds) - 1 < n_sub:
        seconds = analysis.n_samples / analysis.sample_rate
        raise AudioError(
            f"audio is {seconds:.3f} s long; {what} needs at least {n_sub / _GRID_PER_S:g} s"
        )


def _hop_subblocks(hop_s: float) -> int:
    steps = hop_s * _GRID_PER_S
    if not (isinstance(hop_s, (int, float)) and math.isfinite(steps)) or steps < 1:
        raise AudioError(f"hop_s must be at least {GRID_S} s, got {hop_s!r}")
    if abs(steps - round(steps)) > 1e-6:
        raise AudioError(f"hop_s must be a multiple of {GRID_S} s, got {hop_s!r}")
    return round(steps)


# ---------------------------------------------------------- measurements
def _integrated(analysis: _Analysis) -> float:
    _require_seconds(analysis, _MOMENTARY_SUBBLOCKS, "integrated loudness (one 400 ms block)")
    # BS.1770-4 eq. (3)-(4): 400 ms gating blocks every 100 ms (75 % overlap)
    _, power = analysis.windows(_MOMENTARY_SUBBLOCKS, _GATING_STEP_SUBBLOCKS)
    block_lufs = _to_lufs(power)
    # eq. (5): absolute gate
    above_absolute = power[block_lufs > ABSOLUTE_GATE_LUFS]
    if above_absolute.size == 0:
        return -math.inf
    # eq. (6): relative gate, 10 LU below the absolute-gated loudness
    relative_gate = _power_to_lufs(float(above_absolute.mean())) + RELATIVE_GATE_LU
    # eq. (7): mean over the blocks above both gates
    gated = power[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
    return _power_to_lufs(float(gated.mean()))


def _loudness_range(analysis: _Analysis) -> float:
    _require_seconds(analysis, _SHORT_TERM_SUBBLOCKS, "loudness range (one 3 s window)")
    # EBU Tech 3342: short-term values at 10 Hz
    _, power = analysis.windows(_SHORT_TERM_SUBBLOCKS, _GATING_STEP_SUBBLOCKS)
    lufs = _to_lufs(power)
    above_absolute = lufs > ABSOLUTE_GATE_LUFS
    if not above_absolute.any():
        return 0.0
    relative_gate = _power_to_lufs(float(power[above_absolute].mean())) + LRA_RELATIVE_GATE_LU
    gated = lufs[above_absolute & (lufs > relative_gate)]
    low, high = np.percentile(gated, LRA_PERCENTILES)
    return float(high - low)


def _curve(
    analysis: _Analysis, n_sub: int, hop_s: float, what: str
) -> tuple[np.ndarray, np.ndarray]:
    step = _hop_subblocks(hop_s)
    _require_seconds(analysis, n_sub, what)
    ends, power = analysis.windows(n_sub, step)
    return ends / analysis.sample_rate, _to_lufs(power)


def _maximum(analysis: _Analysis, n_sub: int, what: str) -> float:
    _require_seconds(analysis, n_sub, what)
    _, power = analysis.windows(n_sub, 1)
    return _power_to_lufs(float(power.max()))


def integrated(audio: Any, sr: int) -> float:
    """Integrated (programme) loudness of BS.1770-4 with its two gates.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        1-D mono or (channels, samples) with 1 to 5 channels in BS.1770 order
        L, R, C, Ls, Rs.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` when no 400 ms block is above the -70 LUFS
        absolute gate (silence).

    Raises
    ------
    AudioError
        Invalid audio or sample rate, or audio shorter than one 400 ms block.

    See Also
    --------
    report : every measurement of this module from one pass over the audio.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> t = np.arange(10 * sr) / sr
    >>> tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
    >>> round(integrated(np.stack([tone, tone]), sr), 2)
    -22.99
    >>> integrated(np.zeros(sr), sr)
    -inf
    """
    return _integrated(_analyse(audio, sr))


def momentary(audio: Any, sr: int, *, hop_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Momentary loudness: 400 ms rectangular windows, ungated.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    hop_s : float
        Seconds between values, a multiple of 1 ms (default 0.1 s).

    Returns
    -------
    times_s : numpy.ndarray
        Time of the end of each window, from 0.4 s on.
    lufs : numpy.ndarray
        Loudness of each window (``-inf`` for digital silence).

    Raises
    ------
    AudioError
        Invalid input, a hop that is not a positive multiple of 1 ms, or audio
        shorter than 400 ms.

    Examples
    --------
    >>> import numpy as np
    >>> times, lufs = momentary(np.full(48000, 0.1), 48000)
    >>> times[:3]
    array([0.4, 0.5, 0.6])
    """
    return _curve(_analyse(audio, sr), _MOMENTARY_SUBBLOCKS, hop_s, "momentary loudness")


def short_term(audio: Any, sr: int, *, hop_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Short-term loudness: 3 s rectangular windows, ungated.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    hop_s : float
        Seconds between values, a multiple of 1 ms (default 0.1 s).

    Returns
    -------
    times_s : numpy.ndarray
        Time of the end of each window, from 3 s on.
    lufs : numpy.ndarray
        Loudness of each window.

    Raises
    ------
    AudioError
        Invalid input, a bad hop, or audio shorter than 3 s.

    Examples
    --------
    >>> import numpy as np
    >>> times, lufs = short_term(np.full(4 * 8000, 0.1), 8000, hop_s=0.5)
    >>> times
    array([3. , 3.5, 4. ])
    """
    return _curve(_analyse(audio, sr), _SHORT_TERM_SUBBLOCKS, hop_s, "short-term loudness")


def max_momentary(audio: Any, sr: int) -> float:
    """Largest momentary loudness over every window position on a 1 ms grid.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        LUFS.

    Raises
    ------
    AudioError
        Invalid input or audio shorter than 400 ms.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> burst = np.zeros(2 * sr)
    >>> burst[7013 : 7013 + 19200] = 0.1  # off the 100 ms grid
    >>> abs(max_momentary(burst, sr) - max_momentary(burst[7013:], sr)) < 0.001
    True
    """
    return _maximum(_analyse(audio, sr), _MOMENTARY_SUBBLOCKS, "momentary loudness")


def max_short_term(audio: Any, sr: int) -> float:
    """Largest short-term loudness over every window position on a 1 ms grid.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        LUFS.

    Raises
    ------
    AudioError
        Invalid input or audio shorter than 3 s.

    Examples
    --------
    >>> import numpy as np
    >>> tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(4 * 16000) / 16000)
    >>> round(max_short_term(tone, 16000), 1)
    -23.0
    """
    return _maximum(_analyse(audio, sr), _SHORT_TERM_SUBBLOCKS, "short-term loudness")


def loudness_range(audio: Any, sr: int) -> float:
    """Loudness range (LRA) of EBU Tech 3342.

    Short-term values every 100 ms (Tech 3342 asks for at least 10 Hz),
    an absolute gate at -70 LUFS and a relative gate 20 LU below their
    energy mean; the LRA is the distance between the 10th and 95th
    percentiles (linear interpolation). libebur128 samples short-term
    values once a second and reads differently on short material.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        LU; 0.0 when no short-term value passes the absolute gate (silence).

    Raises
    ------
    AudioError
        Invalid input or audio shorter than 3 s.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 8000
    >>> t = np.arange(20 * sr) / sr
    >>> tone = np.sin(2 * np.pi * 1000 * t)
    >>> quiet_then_loud = np.concatenate([0.01 * tone, 0.1 * tone])  # 20 dB step
    >>> round(loudness_range(quiet_then_loud, sr))
    20
    """
    return _loudness_range(_analyse(audio, sr))


def sample_peak(audio: Any, sr: int) -> float:
    """Largest absolute sample value, in dBFS.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz (validated; the peak does not depend on it).

    Returns
    -------
    float
        dBFS (``-inf`` for digital silence).

    Examples
    --------
    >>> import numpy as np
    >>> sample_peak(np.array([0.0, -0.5, 0.25]), 48000)
    -6.020599913279624
    """
    _meter_rate(sr)
    x = as_audio(audio)
    return _to_db(float(np.max(np.abs(x))))


def true_peak(audio: Any, sr: int) -> float:
    """True peak of BS.1770-4 Annex 2, in dBTP.

    The signal is oversampled by 4 below 96 kHz, by 2 below 192 kHz and not at
    all from 192 kHz on, with a 16-tap-per-phase Kaiser-windowed sinc
    interpolator, and the largest absolute value of every channel is taken.
    No headroom attenuation is needed: the arithmetic is floating point.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        dBTP (``-inf`` for digital silence).

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> n = np.arange(sr)
    >>> # a 12 kHz sine sampled 45 degrees off its crests: samples at -3 dB
    >>> x = np.hanning(sr) * np.sin(2 * np.pi * 12000 * n / sr + np.pi / 4)
    >>> round(sample_peak(x, sr), 2), round(true_peak(x, sr), 2)
    (-3.01, 0.0)
    """
    rate = _meter_rate(sr)
    x = as_audio(audio)
    peaks = _per_channel(lambda c: _channel_peaks(x[c], rate)[1], x.shape[0], x.shape[1])
    return _to_db(max(peaks))


def true_peak_exceeds(audio: Any, sr: int, level_db: float) -> bool:
    """Whether the true peak (as :func:`true_peak` measures it) is above ``level_db``.

    Cheaper than measuring it: blocks that provably stay at or under the
    level are never interpolated, and the search stops at the first point
    found above it. A limiter asks this before it decides to act.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    level_db : float
        dBTP.

    Returns
    -------
    bool
        ``true_peak(audio, sr) > level_db``.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> x = np.hanning(sr) * np.sin(2 * np.pi * 12000 * np.arange(sr) / sr + np.pi / 4)
    >>> true_peak_exceeds(x, sr, -1.0), true_peak_exceeds(x, sr, 0.5)  # samples peak at -3 dB
    (True, False)
    """
    rate = _meter_rate(sr)
    x = as_audio(audio)
    level = 10.0 ** (level_db / 20.0)

    def channel(c: int) -> bool:
        search = _PeakSearch(x[c], rate, level, above_samples=False)
        return search.largest(stop_above=level, batch=_PEAK_BATCH // 4) > level

    return any(_per_channel(channel, x.shape[0], x.shape[1]))


def true_peak_envelope(audio: Any, sr: int, *, floor: float = 0.0) -> np.ndarray:
    """Largest oversampled magnitude around each sample, over all channels.

    ``envelope[n]`` is the largest absolute value of the signal oversampled as
    in :func:`true_peak` between samples ``n - 1`` and ``n + 1`` (the sample
    itself and the interpolated points on both sides), in any channel, so
    ``envelope.max()`` is the true peak as an amplitude. A true-peak limiter
    reads the gain each sample needs from it (:func:`audiolab.normalize.limit`).

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    floor : float
        Only values above this amplitude need to be exact: where the
        oversampled signal provably stays at or below it, the envelope holds the
        sample magnitudes instead, which saves interpolating quiet passages.

    Returns
    -------
    numpy.ndarray
        Shape (samples,), amplitudes (full scale 1.0).

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> x = np.hanning(sr) * np.sin(2 * np.pi * 12000 * np.arange(sr) / sr + np.pi / 4)
    >>> envelope = true_peak_envelope(x, sr)
    >>> bool(round(20 * np.log10(envelope.max()), 2) == round(true_peak(x, sr), 2))
    True
    """
    rate = _meter_rate(sr)
    x = as_audio(audio)
    n = x.shape[1]

    def channel(c: int) -> np.ndarray:
        search = _PeakSearch(x[c], rate, floor, above_samples=False)
        # samples -1 .. rows * 64 - 1: point p (block b = p // 64, column p % 64) lies
        # between samples p - 1 and p, so both row views see it
        rows = search.n_blocks
        padded = np.zeros(rows * _PEAK_BLOCK + 1)
        np.abs(x[c], out=padded[1 : n + 1])
        at_point = padded[1:].reshape(rows, _PEAK_BLOCK)
        before_point = padded[:-1].reshape(rows, _PEAK_BLOCK)
        for first in range(0, search.candidates.size, _PEAK_BATCH):
            chosen = search.candidates[first : first + _PEAK_BATCH]
            values = search.point_peaks(chosen)  # points past the end read 0
            at_point[chosen] = np.maximum(at_point[chosen], values)
            before_point[chosen] = np.maximum(before_point[chosen], values)
        return padded[1 : n + 1]

    envelopes = _per_channel(channel, x.shape[0], n)
    envelope = envelopes[0]
    for other in envelopes[1:]:
        np.maximum(envelope, other, out=envelope)
    return envelope


# ------------------------------------------------------------------ report
@dataclass(frozen=True, eq=False)
class LoudnessReport:
    """Everything the meter measures, from one pass over the audio.

    ``max_short_term_lufs`` and ``loudness_range_lu`` are ``None`` (and the
    short-term curve empty) for audio shorter than 3 s. Loudness is ``-inf``
    for silence; :meth:`to_dict` turns non-finite values into ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(4 * 48000) / 48000)
    >>> r = report(np.stack([tone, tone]), 48000)
    >>> round(r.integrated_lufs, 1), r.channels, round(r.loudness_range_lu, 3)
    (-20.0, 2, 0.0)
    """

    sample_rate: int
    channels: int
    duration_seconds: float
    integrated_lufs: float
    max_momentary_lufs: float
    max_short_term_lufs: float | None
    loudness_range_lu: float | None
    sample_peak_dbfs: float
    true_peak_dbtp: float
    momentary_times_s: np.ndarray = field(repr=False)
    momentary_lufs: np.ndarray = field(repr=False)
    short_term_times_s: np.ndarray = field(repr=False)
    short_term_lufs: np.ndarray = field(repr=False)

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """Plain JSON-safe dict (non-finite numbers become ``None``).

        Parameters
        ----------
        curves : bool
            Include the momentary and short-term curves as lists.

        Returns
        -------
        dict

        Examples
        --------
        >>> import numpy as np
        >>> report(np.zeros(48000), 48000).to_dict()["integrated_lufs"] is None
        True
        """
        out: dict[str, Any] = {}
        for name in (
            "sample_rate",
            "channels",
            "duration_seconds",
            "integrated_lufs",
            "max_momentary_lufs",
            "max_short_term_lufs",
            "loudness_range_lu",
            "sample_peak_dbfs",
            "true_peak_dbtp",
        ):
            out[name] = json_safe(getattr(self, name))
        if curves:
            for name in (
                "momentary_times_s",
                "momentary_lufs",
                "short_term_times_s",
                "short_term_lufs",
            ):
                out[name] = json_safe(getattr(self, name))
        return out


def report(audio: Any, sr: int, *, hop_s: float = 0.1) -> LoudnessReport:
    """Every measurement of this module from one K-weighting pass.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    hop_s : float
        Step of the momentary and short-term curves (a multiple of 1 ms).

    Returns
    -------
    LoudnessReport

    Raises
    ------
    AudioError
        Invalid input or audio shorter than 400 ms.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 48000
    >>> t = np.arange(20 * sr) / sr
    >>> tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
    >>> r = report(np.stack([tone, tone]), sr)
    >>> round(r.integrated_lufs, 1), round(r.true_peak_dbtp, 1), round(r.loudness_range_lu, 3)
    (-23.0, -23.0, 0.0)
    """
    analysis = _analyse(audio, sr, peaks=True)
    integrated_lufs = _integrated(analysis)
    m_times, m_lufs = _curve(analysis, _MOMENTARY_SUBBLOCKS, hop_s, "momentary loudness")
    long_enough = len(analysis.bounds) - 1 >= _SHORT_TERM_SUBBLOCKS
    if long_enough:
        s_times, s_lufs = _curve(analysis, _SHORT_TERM_SUBBLOCKS, hop_s, "short-term loudness")
        max_s: float | None = _maximum(analysis, _SHORT_TERM_SUBBLOCKS, "short-term loudness")
        lra: float | None = _loudness_range(analysis)
    else:
        s_times, s_lufs = np.zeros(0), np.zeros(0)
        max_s = lra = None
    return LoudnessReport(
        sample_rate=analysis.sample_rate,
        channels=analysis.channels,
        duration_seconds=analysis.n_samples / analysis.sample_rate,
        integrated_lufs=integrated_lufs,
        max_momentary_lufs=_maximum(analysis, _MOMENTARY_SUBBLOCKS, "momentary loudness"),
        max_short_term_lufs=max_s,
        loudness_range_lu=lra,
        sample_peak_dbfs=_to_db(analysis.sample_peak),
        true_peak_dbtp=_to_db(analysis.true_peak),
        momentary_times_s=m_times,
        momentary_lufs=m_lufs,
        short_term_times_s=s_times,
        short_term_lufs=s_lufs,
    )
