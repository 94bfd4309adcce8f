"""Shared by the music analysis modules: the mono mix at the analysis rate."""

from __future__ import annotations

from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate

__all__ = ["ANALYSIS_RATE_HZ", "analysis_signal"]

#: Tempo and key look at the mono mix decimated to about this rate (by a whole factor).
ANALYSIS_RATE_HZ = 8000


def analysis_signal(audio: Any, sr: Any) -> tuple[np.ndarray, int]:
    """The mono mix of ``audio`` decimated to about 8 kHz, and its rate.

    Channels are averaged; then a linear-phase low pass keeps every
    ``factor``-th sample, ``factor`` being the largest whole divisor of the
    rate up to ``sr // 8000``: 32 kHz becomes 8 kHz, 44.1 kHz 8.82 kHz,
    96 kHz 8 kHz, and rates below 16 kHz are kept. The result's rate is
    always a whole number of Hz, and analysing the result again passes it
    through unchanged (same numbers).

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    (numpy.ndarray, int)
        The mono signal and its sample rate.

    Raises
    ------
    AudioError
        Invalid audio or sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> y, rate = analysis_signal(np.zeros((2, 44100)), 44100)
    >>> y.shape, rate
    ((8820,), 8820)
    """
    rate = check_sample_rate(sr)
    x = as_audio(audio)
    mono = x[0] if x.shape[0] == 1 else x.mean(axis=0)
    factor = max(d for d in range(1, max(1, rate // ANALYSIS_RATE_HZ) + 1) if rate % d == 0)
    if factor == 1:
        return mono, rate
    from scipy.signal import firwin, upfirdn

    # A short linear-phase low pass (8 taps per output sample) at 0.45 of the
    # new rate: what lies above (hi-hat noise, high partials) is not needed.
    taps = firwin(8 * factor + 1, 0.9 / factor, window=("kaiser", 6.0))
    delay = 4 * factor
    y = upfirdn(taps, mono, up=1, down=factor)
    first = -(-delay // factor)  # output sample i is input sample i * factor - delay
    return y[first : first + -(-len(mono) // factor)], rate // factor
