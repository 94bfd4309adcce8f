"""The BS.1770-4 / EBU R128 loudness meter: the public functions.

Read it with the standard beside it: the K-weighting filter (BS.1770-4 Annex 1,
:mod:`~audiolab.loudness.kweighting`), the mean square per channel (eq. 1),
the weighted channel sum (eq. 2, Table 3), the gated integration (eq. 3-7)
and the loudness range of EBU Tech 3342 (:mod:`~audiolab.loudness.analysis`),
and the true peak of BS.1770-4 Annex 2 (:mod:`~audiolab.loudness.truepeak`).
Each function here validates its input once (:func:`audiolab._audio.as_audio`)
and K-weights it once; :func:`audiolab.loudness.report` answers every
question from that one pass.

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

from typing import Any

import numpy as np

from audiolab._audio import as_audio
from audiolab.loudness import truepeak
from audiolab.loudness.analysis import Analysis, analyse
from audiolab.loudness.constants import MOMENTARY_SUBBLOCKS, SHORT_TERM_SUBBLOCKS
from audiolab.loudness.envelope import envelope
from audiolab.loudness.gating import to_db
from audiolab.loudness.kweighting import meter_rate

__all__ = [
    "analysed",
    "integrated",
    "loudness_range",
    "max_momentary",
    "max_short_term",
    "momentary",
    "sample_peak",
    "short_term",
    "true_peak",
    "true_peak_envelope",
    "true_peak_exceeds",
]


def analysed(audio: Any, sr: Any, *, peaks: bool = False) -> Analysis:
    """The input gate, then the one K-weighting pass: the analysis of public input.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples), 1 to 5 channels.
    sr : int
        Sample rate in Hz.
    peaks : bool
        Measure the sample and true peaks too.

    Returns
    -------
    Analysis

    Examples
    --------
    >>> analysed(np.full(8000, 0.1), 8000).n_subblocks
    1000
    """
    rate = meter_rate(sr)
    # NaN and Inf show up in the energies, which saves a pass over the input.
    return analyse(as_audio(audio, check_finite=False), rate, peaks=peaks)


def _validated(audio: Any, sr: Any) -> tuple[np.ndarray, int]:
    return as_audio(audio), meter_rate(sr)


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
    audiolab.loudness.report : every measurement from one pass over the audio.

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
    return analysed(audio, sr).integrated()


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
    return analysed(audio, sr).curve(MOMENTARY_SUBBLOCKS, hop_s, "momentary loudness")


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
    return analysed(audio, sr).curve(SHORT_TERM_SUBBLOCKS, hop_s, "short-term loudness")


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
    return analysed(audio, sr).maximum(MOMENTARY_SUBBLOCKS, "momentary loudness")


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
    return analysed(audio, sr).maximum(SHORT_TERM_SUBBLOCKS, "short-term loudness")


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
    return analysed(audio, sr).loudness_range()


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
    x, _ = _validated(audio, sr)
    return to_db(float(np.max(np.abs(x))))


def true_peak(audio: Any, sr: int) -> float:
    """True peak of BS.1770-4 Annex 2, in dBTP.

    The signal is oversampled by at least the factor of Annex 2 (4 below
    96 kHz, 2 below 192 kHz) and to at least 192 kHz (12x at 16 kHz, 6x at
    32 kHz, 5x at 44.1 kHz; none from 192 kHz on), with a 16-tap-per-phase
    Kaiser-windowed sinc interpolator, and the largest absolute value of
    every channel is taken. No headroom attenuation is needed: the
    arithmetic is floating point.

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
    x, rate = _validated(audio, sr)
    return to_db(truepeak.peaks(x, rate)[1])


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
    x, rate = _validated(audio, sr)
    return truepeak.exceeds(x, rate, 10.0 ** (level_db / 20.0))


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
    x, rate = _validated(audio, sr)
    return envelope(x, rate, floor)
