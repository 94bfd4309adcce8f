"""A look-ahead true-peak limiter, offline: no latency, the gain shaped from the whole signal.

The gain comes from the true-peak envelope (the oversampled magnitude around
every sample, :func:`audiolab.loudness.envelope.envelope`) in four steps:

1. the gain each sample needs, ``ceiling / envelope`` where that is under 1;
2. the smallest of those within the look-ahead on either side (3 ms);
3. a release of the gain reduction, in closed form (a running maximum in the
   log domain, no loop over samples). Two releases run side by side and the
   larger reduction wins: a fast one (5 ms) that follows each peak, and a
   slow one (80 ms) that follows the reduction averaged over 20 ms. A sparse
   spike gets the fast release and costs a few milliseconds of gain; a
   sustained passage (a bass note peaking every cycle) gets the slow one, so
   its gain does not follow the waveform (which would distort like a clipper);
4. smoothing with a triangular window spanning the look-ahead, so that the
   gain falls smoothly before a peak and stays under the gain each sample needs.

The gain is shaped on blocks of a few samples (a sixth of the look-ahead)
and drawn as straight lines between their centres. The result is
time-aligned with the input and as long. A gain ``g`` scales the envelope by
``g``, so one envelope serves every gain tried (:class:`Limiter`).
:func:`limit` is the public, validating form.

Examples
--------
>>> import numpy as np
>>> from audiolab.limiter import limit
>>> t = np.arange(48000) / 48000
>>> loud = np.sin(2 * np.pi * 100 * t) * np.where(t > 0.5, 1.0, 0.25)
>>> out, reduction = limit(loud, 48000, -6.0)
>>> round(float(np.abs(out).max()), 2), round(reduction, 1)
(0.5, 6.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab._windows import between_centres, moving_average, sliding_minimum, window_reduce
from audiolab.loudness import truepeak
from audiolab.loudness.envelope import block_envelope
from audiolab.loudness.ideal import Residual

__all__ = [
    "FAST_RELEASE_S",
    "LOOKAHEAD_S",
    "RELEASE_S",
    "Limiter",
    "Release",
    "limit",
]

#: Look-ahead (and attack) of the limiter.
LOOKAHEAD_S = 0.003
#: Time constant of the slow release, which sustained limiting follows.
RELEASE_S = 0.080
#: Time constant of the fast release, which a lone peak gets.
FAST_RELEASE_S = 0.005
#: The slow release follows the reduction averaged over this long.
SUSTAIN_S = 0.020


@dataclass(frozen=True)
class Release:
    """How the limiter lets go: a slow release and, optionally, a fast one beside it.

    Attributes
    ----------
    slow_s : float
        Time constant of the release of sustained reduction.
    fast_s : float or None
        Time constant of the release of each peak; None: one release only
        (``slow_s``), following every peak.
    """

    slow_s: float = RELEASE_S
    fast_s: float | None = FAST_RELEASE_S

    def describe(self) -> str:
        """A few words for a message.

        Returns
        -------
        str

        Examples
        --------
        >>> Release().describe(), Release(0.01, None).describe()
        ('5 ms / 80 ms release', '10 ms release')
        """
        slow = f"{1000 * self.slow_s:g} ms release"
        return slow if self.fast_s is None else f"{1000 * self.fast_s:g} ms / {slow}"


def _released(reduction: np.ndarray, per_block: float, index: np.ndarray) -> np.ndarray:
    """``max_k reduction[k] * a ** (b - k)`` over ``k <= b``, with ``log a = -per_block``.

    A running maximum in the log domain: exponential release without a loop.
    ``index`` is ``0, 1, 2, ...`` as floats.
    """
    log_reduction = np.full(len(reduction), -np.inf)  # log(0): no reduction at all
    np.log(reduction, out=log_reduction, where=reduction > 0)
    steps = index * -per_block  # b * log(a)
    log_reduction -= steps
    np.maximum.accumulate(log_reduction, out=log_reduction)
    log_reduction += steps
    return np.exp(log_reduction, out=log_reduction)


class Limiter:
    """The limiter of one signal, for any gain before it: the envelope is measured once.

    Parameters
    ----------
    samples : numpy.ndarray
        Validated float64 (channels, samples).
    sample_rate : int
        Hz.
    floor : float
        The true-peak envelope (:func:`audiolab.loudness.envelope.block_envelope`)
        is exact above this amplitude: the limiter is exact for
        every gain ``g`` and ceiling ``c`` with ``c / g >= floor``.

    Examples
    --------
    >>> x = np.sin(2 * np.pi * 100 * np.arange(48000) / 48000)[np.newaxis]
    >>> limiter = Limiter(x, 48000, floor=0.25)
    >>> gain = limiter.sample_gain(2.0, 0.5)  # +6 dB into a -6 dBTP ceiling
    >>> round(float((x * gain).max()), 2), limiter.exact_for(2.0, 0.5)
    (0.5, True)
    """

    def __init__(
        self,
        samples: np.ndarray,
        sample_rate: int,
        floor: float,
        *,
        residuals: list[Residual] | None = None,
    ) -> None:
        self.samples = samples
        self.sample_rate = sample_rate
        self.floor = floor
        self.n_samples = samples.shape[1]
        ahead = max(1, round(LOOKAHEAD_S * sample_rate))
        # The gain is shaped on blocks of `step` samples, a power of two (so that the
        # envelope's blocks of 64 points fall into whole blocks) about a sixth of the
        # look-ahead: 16 samples at 32 to 48 kHz.
        self.step = min(64, 1 << max(0, (ahead // 6).bit_length() - 1))
        self.reach = -(-ahead // self.step)  # the look-ahead in blocks
        #: The largest true-peak envelope value of every block of ``step`` samples.
        #: Given the residuals, the larger of the meter's value and the ideal one.
        self.block_peak = block_envelope(
            samples, sample_rate, floor, self.step, residuals=residuals
        )
        self._inverse_peak = 1.0 / np.maximum(self.block_peak, 1e-300)
        self._index = np.arange(len(self.block_peak), dtype=np.float64)
        self._last: tuple[tuple[float, float, Release], np.ndarray] | None = None

    def exact_for(self, gain: float, ceiling: float) -> bool:
        """Whether the envelope is exact wherever ``gain`` takes it over ``ceiling``.

        Parameters
        ----------
        gain, ceiling : float
            Linear.

        Returns
        -------
        bool
        """
        return ceiling / gain >= self.floor

    def block_gain(self, gain: float, ceiling: float, release: Release = Release()) -> np.ndarray:
        """The limiter's gain on blocks of ``step`` samples (at their centres).

        Parameters
        ----------
        gain : float
            Linear gain before the limiter.
        ceiling : float
            Amplitude the oversampled peaks are brought down to.
        release : Release
            How the reduction is released.

        Returns
        -------
        numpy.ndarray
            One gain (0 to 1) per block.
        """
        key = (gain, ceiling, release)
        if self._last is not None and self._last[0] == key:  # asked again (predict, then apply)
            return self._last[1].copy()
        needed = np.multiply(self._inverse_peak, ceiling / gain)
        np.minimum(needed, 1.0, out=needed)
        # the smallest need within the look-ahead on either side (and one block more) ...
        reduction = 1.0 - sliding_minimum(needed, 2 * self.reach + 3)
        # ... released exponentially ...
        per_second = self.step / self.sample_rate
        if release.fast_s is None:
            released = _released(reduction, per_second / release.slow_s, self._index)
        else:  # ... fast after each peak, slow after sustained reduction
            released = _released(reduction, per_second / release.fast_s, self._index)
            size = 2 * max(1, round(SUSTAIN_S / per_second / 2)) + 1
            sustained = moving_average(reduction, size)
            sustained = _released(sustained, per_second / release.slow_s, self._index)
            np.maximum(released, sustained, out=released)
        block = 1.0 - np.minimum(released, 1.0)
        # ... and smoothed by a triangle spanning the look-ahead. Every value averaged into
        # block b comes from within `reach` of it, so it is at most the need of blocks
        # b - 1 to b + 1, and so is a straight line between two neighbouring blocks' values.
        size = self.reach if self.reach % 2 else self.reach + 1
        if size > 1:
            block = moving_average(moving_average(block, size), size)
        self._last = (key, block.copy())
        return block

    def sample_gain(self, gain: float, ceiling: float, release: Release = Release()) -> np.ndarray:
        """The gain and the limiter's gain at every sample, ``gain`` times :meth:`block_gain`
        between the block centres.

        Never above what a sample needs: each block's value is at most the need
        of its neighbours on either side (see :meth:`block_gain`), and between two
        centres the line stays under the smaller of their needs.

        Parameters
        ----------
        gain, ceiling : float
            Linear.
        release : Release

        Returns
        -------
        numpy.ndarray
            (samples,), from 0 to ``gain``.
        """
        block = self.block_gain(gain, ceiling, release)
        block *= gain
        return between_centres(block, self.step)[: self.n_samples]

    def apply(
        self,
        gain: float,
        ceiling: float,
        release: Release = Release(),
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The samples times :meth:`sample_gain`, a piece at a time (no per-sample gain array).

        Parameters
        ----------
        gain, ceiling : float
            Linear.
        release : Release
        out : numpy.ndarray, optional
            Where to write the result (may be the samples themselves, which
            :meth:`remove` can bring back).

        Returns
        -------
        limited : numpy.ndarray
            (channels, samples).
        block : numpy.ndarray
            The gain at every block centre, ``gain`` included (the gain of a
            sample is the line between the two centres either side of it).
        """
        block = self.block_gain(gain, ceiling, release)
        block *= gain
        return self._times_curve(self.samples, block, np.multiply, out), block

    def remove(self, limited: np.ndarray, block: np.ndarray) -> np.ndarray:
        """The samples back from what :meth:`apply` made (in place): divided by the curve.

        Equal to the samples to within a rounding (one part in 1e16).

        Parameters
        ----------
        limited : numpy.ndarray
            (channels, samples), overwritten.
        block : numpy.ndarray
            The block gains :meth:`apply` returned.

        Returns
        -------
        numpy.ndarray
            ``limited``, now the samples again.
        """
        return self._times_curve(limited, block, np.divide, limited)

    def _times_curve(
        self, x: np.ndarray, block: np.ndarray, operation: Any, out: np.ndarray | None
    ) -> np.ndarray:
        """``operation(x, curve, out=out)`` a piece at a time, the curve drawn between the
        block centres for each piece."""
        step, n_blocks = self.step, len(block)
        if out is None:
            out = np.empty_like(x)
        per = max(1, _APPLY_SAMPLES // step)
        for first in range(0, n_blocks, per):
            last = min(first + per, n_blocks)
            # the centres either side of the piece: the lines between them cover it
            lo, hi = max(first - 1, 0), min(last + 1, n_blocks)
            curve = between_centres(block[lo:hi], step)
            begin, end = first * step, min(last * step, self.n_samples)
            offset = (first - lo) * step
            operation(x[:, begin:end], curve[offset : offset + end - begin], out=out[:, begin:end])
        return out

    def true_peak(
        self, limited: np.ndarray, block: np.ndarray
    ) -> tuple[tuple[float, float], np.ndarray]:
        """Sample and true peak of what :meth:`apply` made, exact, from few of its blocks.

        The value of a point of the limited signal is the taps times the gain
        times the samples they read: at most the gain at the point times the
        input's envelope there, plus how far the gain moves under the taps
        times ``sum |taps|`` times the largest input sample they read. Per block
        of ``step`` samples that is at most ``c E + (c_max - c_min) L M``: the
        largest gain ``c`` in the block (on the lines from the centres either
        side), its envelope ``E`` (exact above the floor, else the floor), the
        spread of the gain over the blocks around, and their largest envelope
        ``M``. Only the blocks of 64 points whose bound beats the peak found so
        far are interpolated, highest first: the same value as interpolating
        every point of the limited signal (and, since the limiter holds ``c E``
        at its aim, few blocks: those where the gain moves fast).

        Parameters
        ----------
        limited : numpy.ndarray
            (channels, samples), :meth:`apply` of these samples.
        block : numpy.ndarray
            The block gains :meth:`apply` returned.

        Returns
        -------
        peaks : tuple of float
            Sample and true peak, amplitudes.
        cover : numpy.ndarray
            The bound of every block of 64 points (for
            :func:`audiolab.loudness.truepeak.bounded_peaks` of a signal close to
            this one: the file it is quantized into).
        """
        n, step, size = self.n_samples, self.step, truepeak.POINTS_PER_BLOCK
        envelope = np.maximum(self.block_peak, self.floor)
        # the gain within block b lies between the centres either side of it
        padded = np.concatenate((block[:1], block, block[-1:]))
        bound = np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:]) * envelope
        # the taps of a point read 16 samples either side: blocks b - 2 .. b + 2 at most
        spread = window_reduce(np.maximum, block, 2) - window_reduce(np.minimum, block, 2)
        spread *= truepeak.interpolation_gain(self.sample_rate)
        bound += spread * window_reduce(np.maximum, envelope, 2)
        # points 64 B .. 64 B + 63 lie beside samples 64 B - 1 .. 64 B + 63; reach[i]
        # bounds the samples of block i - 1 of `step` (reach[0]: before the signal)
        per = size // step
        n_points = -(-(n + 1) // size)
        reach = np.zeros(n_points * per + 1)
        reach[1 : 1 + len(bound)] = bound[: n_points * per]
        cover = reach[: n_points * per].reshape(n_points, per).max(axis=1)  # 64 B - 1 ..
        np.maximum(cover, reach[per::per], out=cover)  # .. 64 B + 63
        return truepeak.bounded_peaks(limited, self.sample_rate, cover), cover


_TRUE_PEAK_BATCH = 64  # blocks of points interpolated at a time
#: Samples the limiter's gain is drawn for at a time.
_APPLY_SAMPLES = 1 << 15


def limit(
    audio: Any,
    sr: int,
    ceiling_db: float,
    *,
    release_s: float = RELEASE_S,
    fast_release_s: float | None = FAST_RELEASE_S,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """True-peak limit audio to a ceiling (the limiter of :func:`audiolab.normalize.normalize`).

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    ceiling_db : float
        dBTP the oversampled peaks are brought down to.
    release_s : float
        Time constant of the release of sustained reduction. Short releases
        limit harder: the gain follows each cycle of a low note, adding
        harmonics, as a clipper would.
    fast_release_s : float or None
        Time constant of the release after a lone peak; None releases every
        peak with ``release_s``.
    out : numpy.ndarray, optional
        A float64 (channels, samples) array to write the result into, as numpy's
        ``out=``; it may be the input itself (when the caller owns it).

    Returns
    -------
    limited : numpy.ndarray
        (channels, samples), the same length and timing as the input.
    max_reduction_db : float
        The most gain taken off (0.0 when nothing exceeded the ceiling).

    Examples
    --------
    >>> import numpy as np
    >>> from audiolab import loudness
    >>> t = np.arange(48000) / 48000
    >>> loud = np.sin(2 * np.pi * 100 * t) * np.where(t > 0.5, 1.0, 0.25)
    >>> out, reduction = limit(loud, 48000, -6.0)
    >>> round(loudness.true_peak(out, 48000), 1), round(reduction, 1), out.shape
    (-6.0, 6.0, (1, 48000))
    """
    rate = check_sample_rate(sr)
    x = as_audio(audio)
    ceiling = 10.0 ** (ceiling_db / 20.0)
    limiter = Limiter(x, rate, floor=ceiling)
    if limiter.block_peak.max() <= ceiling:
        if out is None:
            return x.copy(), 0.0
        if out is not x:
            out[...] = x
        return out, 0.0
    limited, block = limiter.apply(1.0, ceiling, Release(release_s, fast_release_s), out=out)
    return limited, -20.0 * math.log10(float(block.min()))
