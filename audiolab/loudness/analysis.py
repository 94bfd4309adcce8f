"""The analysed signal: validated samples and their K-weighted 1 ms energies.

:class:`Analysis` is what the meter knows of a signal after its one
K-weighting pass, and the currency the normalizer and the writer pass
between them, so that a signal is validated once and K-weighted once
however many questions are asked of it. Every window the standards ask
for (400 ms momentary and gating blocks, 3 s short-term) is a whole number
of 1 ms sub-blocks, so every window position on the 1 ms grid costs one
subtraction of cumulative sums.

The K-weighting is linear, so a gain ``g`` multiplies every energy by
``g**2`` exactly: :meth:`Analysis.scaled` is the analysis of the gained
signal without filtering it again, and :func:`gain_for_loudness` solves
for the gain that gives a loudness *after* the gates (gating does not
commute with a gain: blocks under the -70 LUFS gate before it may be over
it after).

This module is package-internal: it takes arrays that have passed the
input gate (:func:`audiolab._audio.as_audio`).

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness.analysis import analyse
>>> sr = 48000
>>> tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * np.arange(20 * sr) / sr)
>>> signal = analyse(np.stack([tone, tone]), sr)
>>> round(signal.integrated(), 3), round(signal.scaled(6.0).integrated(), 3)
(-22.993, -16.993)
"""

from __future__ import annotations

import numpy as np

from audiolab._audio import require_finite
from audiolab._threads import per_channel
from audiolab.errors import AudioError
from audiolab.loudness import truepeak
from audiolab.loudness.constants import (
    ABSOLUTE_GATE_LUFS,
    CHANNEL_WEIGHTS,
    GATING_STEP_SUBBLOCKS,
    GRID_PER_S,
    LRA_PERCENTILES,
    LRA_RELATIVE_GATE_LU,
    MOMENTARY_SUBBLOCKS,
    SHORT_TERM_SUBBLOCKS,
)
from audiolab.loudness.gating import (
    gain_for_loudness,
    gated_loudness,
    hop_subblocks,
    power_to_lufs,
    to_lufs,
)
from audiolab.loudness.kweighting import grid_boundaries, subblock_energies

__all__ = ["Analysis", "analyse"]


class Analysis:
    """A validated signal and the channel-weighted K-weighted energy of its 1 ms sub-blocks.

    Made by :func:`analyse` (one K-weighting pass) or :meth:`scaled` (none).

    Attributes
    ----------
    samples : numpy.ndarray
        float64 (channels, samples). The writer may quantize them in place once
        it is done with the analysis; the energies still describe the signal
        before quantization then.
    sample_rate : int
    bounds : numpy.ndarray
        Sample index of every 1 ms grid line.
    energy : numpy.ndarray
        Channel-weighted (BS.1770-4 eq. 2) sum of squares of each sub-block.
    """

    def __init__(
        self,
        samples: np.ndarray,
        sample_rate: int,
        bounds: np.ndarray,
        energy: np.ndarray,
        peaks: tuple[float, float] | None = None,
        point_bounds: np.ndarray | None = None,
    ) -> None:
        self.samples = samples
        self.sample_rate = sample_rate
        self.bounds = bounds
        self.energy = energy
        self._peaks = peaks
        #: An upper bound of every block of 64 interpolated points, when the limiter
        #: made this signal (:func:`audiolab.loudness.truepeak.bounded_peaks`).
        self.point_bounds = point_bounds
        self._cumulative: np.ndarray | None = None

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return int(self.samples.shape[1])

    @property
    def n_subblocks(self) -> int:
        """Complete 1 ms sub-blocks."""
        return len(self.bounds) - 1

    def scaled(self, gain_db: float, samples: np.ndarray | None = None) -> Analysis:
        """The analysis of the signal times a gain, without filtering it again.

        Parameters
        ----------
        gain_db : float
            The gain.
        samples : numpy.ndarray, optional
            The gained samples, when the caller has made them already (the
            analysis takes them as they are); else they are computed.

        Returns
        -------
        Analysis
        """
        gain = 10.0 ** (gain_db / 20.0)
        if samples is None:
            samples = self.samples * gain
        peaks = None if self._peaks is None else (self._peaks[0] * gain, self._peaks[1] * gain)
        bounds = None if self.point_bounds is None else self.point_bounds * gain
        return Analysis(
            samples, self.sample_rate, self.bounds, self.energy * gain**2, peaks, bounds
        )

    def known_peaks(
        self, peaks: tuple[float, float] | None, point_bounds: np.ndarray | None = None
    ) -> None:
        """Record the sample and true peak of the samples, measured elsewhere (None: not known).

        Parameters
        ----------
        peaks : tuple of float or None
            Amplitudes.
        point_bounds : numpy.ndarray, optional
            An upper bound of every block of 64 interpolated points.
        """
        if peaks is not None:
            self._peaks = peaks
        if point_bounds is not None:
            self.point_bounds = point_bounds

    def peaks_if_known(self) -> tuple[float, float] | None:
        """The sample and true peak if they were measured (or recorded), else None.

        Returns
        -------
        tuple of float or None
        """
        return self._peaks

    def peaks(self) -> tuple[float, float]:
        """Sample peak and true peak of the samples, as amplitudes (measured once).

        Returns
        -------
        sample_peak, true_peak : float
        """
        if self._peaks is None:
            self._peaks = truepeak.peaks(self.samples, self.sample_rate)
        return self._peaks

    def windows(self, n_sub: int, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(end sample index, mean square) of every complete window of ``n_sub`` sub-blocks.

        Parameters
        ----------
        n_sub : int
            Window length in sub-blocks.
        step : int
            Sub-blocks between window ends.

        Returns
        -------
        ends, mean_square : numpy.ndarray
        """
        if self._cumulative is None:
            self._cumulative = np.concatenate(([0.0], np.cumsum(self.energy)))
        cumulative = self._cumulative
        ends = np.arange(n_sub, len(self.bounds), step)
        energy = cumulative[ends] - cumulative[ends - n_sub]
        lengths = self.bounds[ends] - self.bounds[ends - n_sub]
        # Cumulative sums of non-negative terms can differ by rounding only.
        return self.bounds[ends], np.maximum(energy, 0.0) / lengths

    def require_seconds(self, n_sub: int, what: str) -> None:
        """:class:`AudioError` when the signal is shorter than ``n_sub`` sub-blocks.

        Parameters
        ----------
        n_sub : int
            Sub-blocks needed.
        what : str
            What needs them, for the message.
        """
        if self.n_subblocks < n_sub:
            seconds = self.n_samples / self.sample_rate
            raise AudioError(
                f"audio is {seconds:.3f} s long; {what} needs at least {n_sub / GRID_PER_S:g} s"
            )

    def gating_powers(self) -> np.ndarray:
        """Mean square of every 400 ms gating block, one every 100 ms (BS.1770-4 eq. 3-4).

        Returns
        -------
        numpy.ndarray
        """
        self.require_seconds(MOMENTARY_SUBBLOCKS, "integrated loudness (one 400 ms block)")
        return self.windows(MOMENTARY_SUBBLOCKS, GATING_STEP_SUBBLOCKS)[1]

    def integrated(self) -> float:
        """Integrated loudness, LUFS (``-inf`` under the absolute gate).

        Returns
        -------
        float
        """
        return gated_loudness(self.gating_powers())

    def gain_for(self, target_lufs: float) -> float | None:
        """The least gain (dB) after which the integrated loudness is the target.

        Parameters
        ----------
        target_lufs : float

        Returns
        -------
        float or None
            None for silence, or a target at or under the absolute gate.
        """
        return gain_for_loudness(self.gating_powers(), target_lufs)

    def loudness_range(self) -> float:
        """Loudness range of EBU Tech 3342, LU (0 for silence).

        Returns
        -------
        float
        """
        self.require_seconds(SHORT_TERM_SUBBLOCKS, "loudness range (one 3 s window)")
        # EBU Tech 3342: short-term values at 10 Hz
        _, power = self.windows(SHORT_TERM_SUBBLOCKS, GATING_STEP_SUBBLOCKS)
        lufs = to_lufs(power)
        above_absolute = lufs > ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return 0.0
        relative_gate = power_to_lufs(float(power[above_absolute].mean())) + LRA_RELATIVE_GATE_LU
        gated = lufs[above_absolute & (lufs > relative_gate)]
        low, high = np.percentile(gated, LRA_PERCENTILES)
        return float(high - low)

    def curve(self, n_sub: int, hop_s: float, what: str) -> tuple[np.ndarray, np.ndarray]:
        """(window end times in s, LUFS) of windows of ``n_sub`` sub-blocks every ``hop_s``.

        Parameters
        ----------
        n_sub : int
        hop_s : float
        what : str
            For the message when the signal is too short.

        Returns
        -------
        times_s, lufs : numpy.ndarray
        """
        step = hop_subblocks(hop_s)
        self.require_seconds(n_sub, what)
        ends, power = self.windows(n_sub, step)
        return ends / self.sample_rate, to_lufs(power)

    def maximum(self, n_sub: int, what: str) -> float:
        """Largest loudness of a window of ``n_sub`` sub-blocks at any 1 ms position.

        Parameters
        ----------
        n_sub : int
        what : str

        Returns
        -------
        float
        """
        self.require_seconds(n_sub, what)
        _, power = self.windows(n_sub, 1)
        return power_to_lufs(float(power.max()))


def analyse(samples: np.ndarray, sample_rate: int, *, peaks: bool = False) -> Analysis:
    """K-weight validated samples once and keep their 1 ms energies.

    Parameters
    ----------
    samples : numpy.ndarray
        float64 (channels, samples) from the input gate, 1 to 5 channels in
        BS.1770 order L, R, C, Ls, Rs. NaN and Inf are found from the energies.
    sample_rate : int
        Hz, checked by :func:`audiolab.loudness.kweighting.meter_rate`.
    peaks : bool
        Measure the sample and true peaks in the same pass (side by side with
        the filter for long signals).

    Returns
    -------
    Analysis

    Raises
    ------
    AudioError
        NaN or Inf samples, or samples too large for their squares.

    Examples
    --------
    >>> signal = analyse(np.full((1, 8000), 0.5), 8000, peaks=True)
    >>> signal.n_subblocks, signal.peaks()[0]
    (1000, 0.5)
    """
    channels, n_samples = samples.shape
    bounds = grid_boundaries(n_samples, sample_rate)

    def channel(c: int) -> tuple[np.ndarray, tuple[float, float]]:
        energy = subblock_energies(samples[c], sample_rate, bounds)
        return energy, truepeak.channel_peaks(samples[c], sample_rate) if peaks else (0.0, 0.0)

    results = per_channel(channel, channels)
    energy = np.zeros(len(bounds) - 1)
    for weight, (channel_energy, _) in zip(CHANNEL_WEIGHTS, results, strict=False):
        energy += weight * channel_energy  # eq. (2): sum over channels of G_i z_i
    # The samples after the last grid line do not reach the energies.
    if not (np.isfinite(energy.sum()) and np.isfinite(samples[:, bounds[-1] :]).all()):
        require_finite(samples)
        peak = float(np.max(np.abs(samples)))
        raise AudioError(f"audio is too large to measure: peak {peak:.3g}")
    found = None
    if peaks:
        found = (max(s for _, (s, _) in results), max(t for _, (_, t) in results))
    return Analysis(samples, sample_rate, bounds, energy, found)
