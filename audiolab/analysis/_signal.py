"""Shared by the music analysis modules: the mono mix, at the onset rate and the analysis rate."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from audiolab._audio import AudioError, as_audio, check_sample_rate

__all__ = ["ANALYSIS_RATE_HZ", "ONSET_RATE_HZ", "analysis_signal", "check_backend", "onset_signal"]

#: The key looks at the mono mix decimated to about this rate (by a whole factor).
ANALYSIS_RATE_HZ = 8000
#: Tempo and beats look at the full band, up to this rate (higher rates are decimated).
ONSET_RATE_HZ = 48000


def onset_signal(audio: Any, sr: Any) -> tuple[np.ndarray, int]:
    """The mono mix of ``audio`` at its own rate, or decimated to at most 48 kHz, and its rate.

    Onsets live in the whole band (hi-hats and cymbals above 4 kHz often mark
    the beat), so tempo and beats keep it. Rates above 48 kHz are brought
    down by the smallest whole factor up to 8 that reaches 48 kHz or less
    (96 kHz by 2, 192 kHz by 4, 88.2 kHz by 2), with the low pass of
    :func:`analysis_signal`; passing the result again changes nothing.

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
    >>> y, rate = onset_signal(np.zeros((2, 96000)), 96000)
    >>> y.shape, rate
    ((48000,), 48000)
    """
    # (a rate without such a factor up to 8, say a prime, is kept as it is)
    return _mono_decimated(
        audio,
        sr,
        lambda rate: next(
            (d for d in range(1, 9) if rate % d == 0 and rate // d <= ONSET_RATE_HZ), 1
        ),
    )


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
    # A short linear-phase low pass (8 taps per output sample) at 0.45 of the
    # new rate: what lies above (hi-hat noise, high partials) is not needed.
    return _mono_decimated(
        audio,
        sr,
        lambda rate: max(
            d for d in range(1, max(1, rate // ANALYSIS_RATE_HZ) + 1) if rate % d == 0
        ),
    )


def _mono_decimated(audio: Any, sr: Any, factor_of: Callable[[int], int]) -> tuple[np.ndarray, int]:
    """The mono mix of ``audio``, decimated by ``factor_of(rate)``, and its new rate."""
    rate = check_sample_rate(sr)
    x = as_audio(audio)
    mono = x[0] if x.shape[0] == 1 else _mix(x)
    factor = factor_of(rate)
    if factor == 1:
        return mono, rate
    return _decimate(mono, factor), rate // factor


def _lowpass_taps(factor: int) -> np.ndarray:
    """Kaiser-windowed sinc (beta 6) of ``8 * factor + 1`` taps, cut-off 0.9 / factor of
    Nyquist, unit gain at DC: ``scipy.signal.firwin(8 * factor + 1, 0.9 / factor,
    window=("kaiser", 6.0))``."""
    n_taps = 8 * factor + 1
    cutoff = 0.9 / factor
    m = np.arange(n_taps) - (n_taps - 1) / 2
    taps = cutoff * np.sinc(cutoff * m) * np.kaiser(n_taps, 6.0)
    return taps / taps.sum()


def _mix(x: np.ndarray) -> np.ndarray:
    """The mean of the channels, row by row (contiguous adds, not a strided reduction)."""
    mono = x[0] + x[1]
    for row in x[2:]:
        mono += row
    mono /= len(x)
    return mono


@lru_cache(maxsize=8)
def _taps_by_phase(factor: int) -> np.ndarray:
    """The low pass in 9 groups of ``factor`` taps (the last holds one), zero-padded."""
    padded = np.zeros(9 * factor)
    taps = _lowpass_taps(factor)
    padded[: len(taps)] = taps
    grouped = padded.reshape(9, factor)
    grouped.setflags(write=False)
    return grouped


def _decimate(x: np.ndarray, factor: int) -> np.ndarray:
    """Low-pass filter ``x`` and keep every ``factor``-th sample, centred (no delay).

    Output ``i`` is ``sum_j taps[j] * x[i * factor - 4 * factor + j]`` (zeros
    outside the signal), computed as one matrix product over the polyphase
    rows: with ``z`` the signal delayed by ``4 * factor`` and cut into rows of
    ``factor`` samples, output ``i`` sums row ``q``, column ``i + q`` of
    ``taps_by_phase @ rows.T`` over ``q = 0 .. 8``.
    """
    by_phase = _taps_by_phase(factor)  # (9, factor): [q, r] = taps[q * factor + r]
    groups = len(by_phase)
    n_out = -(-len(x) // factor)
    z = np.zeros((n_out + groups) * factor)
    z[4 * factor : 4 * factor + len(x)] = x
    partial = by_phase @ z.reshape(-1, factor).T  # (9, rows): contiguous along the rows
    y = partial[0, :n_out].copy()
    for q in range(1, groups):
        y += partial[q, q : q + n_out]
    return y


def check_backend(backend: str) -> str:
    """``"builtin"`` or ``"madmom"``: the backend asked for, ``"auto"`` resolved.

    Parameters
    ----------
    backend : str
        ``"builtin"``, ``"madmom"`` or ``"auto"`` (madmom when installed).

    Returns
    -------
    str

    Raises
    ------
    AudioError
        Any other name.

    Examples
    --------
    >>> check_backend("builtin")
    'builtin'
    """
    if backend not in ("builtin", "madmom", "auto"):
        raise AudioError(f"unknown backend {backend!r}: expected 'builtin', 'madmom' or 'auto'")
    if backend == "auto":
        import importlib.util

        return "madmom" if importlib.util.find_spec("madmom") is not None else "builtin"
    return backend
