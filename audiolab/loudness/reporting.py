"""What the meter reports: every measurement of a signal from its one K-weighting pass.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness import report
>>> tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(4 * 48000) / 48000)
>>> round(report(np.stack([tone, tone]), 48000).integrated_lufs, 1)
-20.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab._json import json_safe
from audiolab.loudness.analysis import Analysis
from audiolab.loudness.constants import MOMENTARY_SUBBLOCKS, SHORT_TERM_SUBBLOCKS
from audiolab.loudness.gating import to_db
from audiolab.loudness.meter import analysed

__all__ = ["LoudnessReport", "report", "report_of"]


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
    return report_of(analysed(audio, sr, peaks=True), hop_s=hop_s)


def report_of(signal: Analysis, *, hop_s: float = 0.1) -> LoudnessReport:
    """The :class:`LoudnessReport` of a signal already analysed (no filtering).

    Parameters
    ----------
    signal : Analysis
        From :func:`audiolab.loudness.analysis.analyse`, at least 400 ms.
    hop_s : float
        Step of the momentary and short-term curves (a multiple of 1 ms).

    Returns
    -------
    LoudnessReport

    Examples
    --------
    >>> from audiolab.loudness.analysis import analyse
    >>> report_of(analyse(np.full((1, 8000), 0.1), 8000)).duration_seconds
    1.0
    """
    integrated_lufs = signal.integrated()
    m_times, m_lufs = signal.curve(MOMENTARY_SUBBLOCKS, hop_s, "momentary loudness")
    if signal.n_subblocks >= SHORT_TERM_SUBBLOCKS:
        s_times, s_lufs = signal.curve(SHORT_TERM_SUBBLOCKS, hop_s, "short-term loudness")
        max_s: float | None = signal.maximum(SHORT_TERM_SUBBLOCKS, "short-term loudness")
        lra: float | None = signal.loudness_range()
    else:
        s_times, s_lufs = np.zeros(0), np.zeros(0)
        max_s = lra = None
    sample, true = signal.peaks()
    return LoudnessReport(
        sample_rate=signal.sample_rate,
        channels=signal.channels,
        duration_seconds=signal.n_samples / signal.sample_rate,
        integrated_lufs=integrated_lufs,
        max_momentary_lufs=signal.maximum(MOMENTARY_SUBBLOCKS, "momentary loudness"),
        max_short_term_lufs=max_s,
        loudness_range_lu=lra,
        sample_peak_dbfs=to_db(sample),
        true_peak_dbtp=to_db(true),
        momentary_times_s=m_times,
        momentary_lufs=m_lufs,
        short_term_times_s=s_times,
        short_term_lufs=s_lufs,
    )
