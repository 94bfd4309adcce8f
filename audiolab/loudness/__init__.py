"""ITU-R BS.1770-4 / EBU R128 loudness: integrated, momentary, short-term, LRA, true peak.

The public functions all take ``(audio, sr)``, validate the audio once and
K-weight it once (:mod:`~audiolab.loudness.meter`); :func:`report` answers
every question from that one pass.

The package, a room of its own:

* :mod:`~audiolab.loudness.constants`: the numbers of BS.1770-4 and EBU Tech
  3341/3342, each with its source;
* :mod:`~audiolab.loudness.kweighting`: the K-weighting filter and the energy
  of every 1 ms sub-block (the one pass over the samples);
* :mod:`~audiolab.loudness.gating`: the gates of BS.1770-4 on 400 ms block
  energies, and the gain that gives a loudness after them;
* :mod:`~audiolab.loudness.analysis`: :class:`~audiolab.loudness.analysis.Analysis`,
  the validated signal with those energies, what is asked of it;
* :mod:`~audiolab.loudness.interpolation`: the true-peak interpolator and
  how many times it oversamples at each rate;
* :mod:`~audiolab.loudness.truepeak`: the oversampled peak and its "does it
  exceed?" question;
* :mod:`~audiolab.loudness.ideal`: the ideal (sinc) true peak, the meter's
  value plus a residual of FFTs of twice the signal, by
  :mod:`~audiolab.loudness.fourstep` (long transforms as two passes of short ones);
* :mod:`~audiolab.loudness.tails`: a bound of it without those FFTs (the
  sinc's tails by summation by parts), enough where the peaks leave room;
* :mod:`~audiolab.loudness.envelope`: the envelope a limiter reads;
* :mod:`~audiolab.loudness.meter`: the public functions, one question each;
* :mod:`~audiolab.loudness.reporting`: :func:`report`, every answer from one pass.

For the normalizer and the writer (package-internal, on arrays that have
passed the input gate): ``analyse(samples, sr)`` gives an ``Analysis``;
``Analysis.integrated()``, ``.gain_for(target)``, ``.scaled(gain_db)`` and
``.peaks()`` answer from it without filtering again; ``report_of(analysis)``
is its :class:`LoudnessReport`; ``truepeak.exceeds`` and ``envelope.block_envelope``
serve the limiter.

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

# Package-internal (not in __all__): the analysed signal and the true-peak engine.
from audiolab.loudness import truepeak as truepeak
from audiolab.loudness.analysis import Analysis as Analysis
from audiolab.loudness.analysis import analyse as analyse

# The standard's numbers, reachable as before (``loudness.MOMENTARY_S``).
from audiolab.loudness.constants import ABSOLUTE_GATE_LUFS as ABSOLUTE_GATE_LUFS
from audiolab.loudness.constants import CHANNEL_WEIGHTS as CHANNEL_WEIGHTS
from audiolab.loudness.constants import GATING_STEP_S as GATING_STEP_S
from audiolab.loudness.constants import GRID_S as GRID_S
from audiolab.loudness.constants import LOUDNESS_OFFSET as LOUDNESS_OFFSET
from audiolab.loudness.constants import LRA_PERCENTILES as LRA_PERCENTILES
from audiolab.loudness.constants import LRA_RELATIVE_GATE_LU as LRA_RELATIVE_GATE_LU
from audiolab.loudness.constants import MAX_SAMPLE_RATE as MAX_SAMPLE_RATE
from audiolab.loudness.constants import MIN_SAMPLE_RATE as MIN_SAMPLE_RATE
from audiolab.loudness.constants import MOMENTARY_S as MOMENTARY_S
from audiolab.loudness.constants import RELATIVE_GATE_LU as RELATIVE_GATE_LU
from audiolab.loudness.constants import SHORT_TERM_S as SHORT_TERM_S
from audiolab.loudness.kweighting import k_weighting_sos
from audiolab.loudness.meter import (
    integrated,
    loudness_range,
    max_momentary,
    max_short_term,
    momentary,
    sample_peak,
    short_term,
    true_peak,
    true_peak_envelope,
    true_peak_exceeds,
)
from audiolab.loudness.reporting import LoudnessReport, report
from audiolab.loudness.reporting import report_of as report_of

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
