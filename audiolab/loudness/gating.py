"""Gating of BS.1770-4 (eq. 3-7) on the energies of 400 ms blocks, and the gain it implies.

Examples
--------
>>> import numpy as np
>>> from audiolab.loudness.gating import gated_loudness
>>> p = 10 ** ((np.array([-20.0, -20.0, -80.0]) + 0.691) / 10)
>>> round(gated_loudness(p), 6)
-20.0
"""

from __future__ import annotations

import math

import numpy as np

from audiolab.errors import AudioError
from audiolab.loudness.constants import (
    ABSOLUTE_GATE_LUFS,
    GATING_STEP_SUBBLOCKS,
    GRID_PER_S,
    LOUDNESS_OFFSET,
    MOMENTARY_SUBBLOCKS,
    RELATIVE_GATE_LU,
)

__all__ = [
    "gain_for_loudness",
    "gated_loudness",
    "gating_powers",
    "hop_subblocks",
    "power_to_lufs",
    "to_db",
    "to_lufs",
]

#: eq. (5) as a mean square: a block passes when ``power > ABSOLUTE_GATE_POWER``
_ABSOLUTE_GATE_POWER = 10.0 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10.0)


def to_lufs(mean_square: np.ndarray) -> np.ndarray:
    """BS.1770-4 eq. (2) on weighted mean squares; ``-inf`` where they are zero.

    Parameters
    ----------
    mean_square : numpy.ndarray
        Channel-weighted mean squares of the K-weighted signal.

    Returns
    -------
    numpy.ndarray
        LUFS.

    Examples
    --------
    >>> to_lufs(np.array([1.0, 0.0]))
    array([-0.691,   -inf])
    """
    out = np.full(np.shape(mean_square), -np.inf)
    positive = mean_square > 0
    out[positive] = LOUDNESS_OFFSET + 10.0 * np.log10(mean_square[positive])
    return out


def power_to_lufs(power: float) -> float:
    """BS.1770-4 eq. (2) on one weighted mean square; ``-inf`` for zero.

    Parameters
    ----------
    power : float

    Returns
    -------
    float

    Examples
    --------
    >>> power_to_lufs(1.0)
    -0.691
    """
    return LOUDNESS_OFFSET + 10.0 * math.log10(power) if power > 0 else -math.inf


def to_db(amplitude: float) -> float:
    """20 log10 of an amplitude; ``-inf`` for 0.

    Parameters
    ----------
    amplitude : float

    Returns
    -------
    float

    Examples
    --------
    >>> to_db(0.5), to_db(0.0)
    (-6.020599913279624, -inf)
    """
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def gated_loudness(powers: np.ndarray) -> float:
    """Integrated loudness of gating-block mean squares: BS.1770-4 eq. (5)-(7).

    Parameters
    ----------
    powers : numpy.ndarray
        Channel-weighted mean square of every 400 ms gating block.

    Returns
    -------
    float
        LUFS; ``-inf`` when no block passes the absolute gate.

    Examples
    --------
    >>> p = 10 ** ((np.array([-20.0, -20.0, -40.0, -80.0]) + 0.691) / 10)
    >>> round(gated_loudness(p), 6)  # -80 fails the absolute gate, -40 the relative one
    -20.0
    """
    block_lufs = to_lufs(powers)
    # eq. (5): absolute gate
    above_absolute = block_lufs > ABSOLUTE_GATE_LUFS
    if not above_absolute.any():
        return -math.inf
    # eq. (6): relative gate, 10 LU below the absolute-gated loudness
    relative_gate = power_to_lufs(float(powers[above_absolute].mean())) + RELATIVE_GATE_LU
    # eq. (7): mean over the blocks above both gates
    gated = powers[above_absolute & (block_lufs > relative_gate)]
    return power_to_lufs(float(gated.mean()))


def gain_for_loudness(powers: np.ndarray, target_lufs: float) -> float | None:
    """The least gain (dB) after which the gated loudness of blocks is the target.

    Gating does not commute with a gain: a block under the absolute gate
    enters the mean once the gain lifts it over -70 LUFS, and lowers the
    relative gate with it, so the loudness after a gain ``G`` is ``G`` plus
    the loudness of the blocks that pass at ``G``. Sorted from loudest, the
    k loudest blocks pass over a range of gains; for each k the loudness is
    ``G + F_k`` there, ``F_k`` from prefix sums, so every range is solved at
    once. ``F_k`` falls with k, so the loudness rises with the gain but for
    small drops where a block enters: every target above -70 LUFS is met,
    at one gain or several; the least is returned.

    Parameters
    ----------
    powers : numpy.ndarray
        Channel-weighted mean square of every 400 ms gating block.
    target_lufs : float
        The loudness wanted.

    Returns
    -------
    float or None
        dB; None when no gain can give the target (silence, or a target at
        or under the absolute gate).

    Examples
    --------
    >>> p = 10 ** ((np.array([-65.0, -75.0, -75.0, -75.0]) + 0.691) / 10)
    >>> round(gated_loudness(p), 2)  # the -75 LUFS blocks are under the gate
    -65.0
    >>> round(gated_loudness(p * 10 ** (40.0 / 10)), 2)  # +40 dB lifts them over it
    -29.88
    >>> round(gain_for_loudness(p, -25.0), 2)  # so -25 LUFS takes more than 40 dB
    44.88
    """
    if target_lufs <= ABSOLUTE_GATE_LUFS:
        return None
    p = np.sort(powers[powers > 0])[::-1]
    if p.size == 0:
        return None
    k = np.arange(1, p.size + 1)
    sums = np.cumsum(p)
    # eq. (6) inside the k loudest blocks: those over a tenth of their mean pass
    ascending = p[::-1]
    over = p.size - np.searchsorted(ascending, sums / k * 10.0**(RELATIVE_GATE_LU / 10.0),
                                    side="right")  # fmt: skip
    passing = np.minimum(over, k)
    loudness = LOUDNESS_OFFSET + 10.0 * np.log10(sums[passing - 1] / passing)  # F_k
    gain_db = target_lufs - loudness
    gain = 10.0 ** (gain_db / 10.0)
    # the k loudest pass exactly when p_k G > gate >= p_(k+1) G
    lowest_in = p * gain > _ABSOLUTE_GATE_POWER
    next_out = np.append(p[1:], 0.0) * gain <= _ABSOLUTE_GATE_POWER
    valid = np.flatnonzero(lowest_in & next_out)
    if valid.size:
        return float(gain_db[valid[0]])
    # rounding at a range's edge: the range whose edge is closest
    miss = np.maximum(np.log(_ABSOLUTE_GATE_POWER / (p * gain)), 0.0)
    miss += np.maximum(np.log(np.append(p[1:], 0.0) * gain / _ABSOLUTE_GATE_POWER), 0.0)
    return float(gain_db[int(np.argmin(miss))])


def gating_powers(energy: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean square of every 400 ms gating block, one every 100 ms (BS.1770-4 eq. 3-4).

    Parameters
    ----------
    energy : numpy.ndarray
        Channel-weighted energy of every 1 ms sub-block.
    bounds : numpy.ndarray
        The sample index of every grid line (one more than the energies).

    Returns
    -------
    numpy.ndarray
        Empty under 400 ms.

    Examples
    --------
    >>> bounds = np.arange(0, 8001, 8)  # 1 s at 8 kHz
    >>> gating_powers(np.full(1000, 8.0), bounds)
    array([1., 1., 1., 1., 1., 1., 1.])
    """
    cumulative = np.concatenate(([0.0], np.cumsum(energy)))
    ends = np.arange(MOMENTARY_SUBBLOCKS, len(bounds), GATING_STEP_SUBBLOCKS)
    total = cumulative[ends] - cumulative[ends - MOMENTARY_SUBBLOCKS]
    return np.maximum(total, 0.0) / (bounds[ends] - bounds[ends - MOMENTARY_SUBBLOCKS])


def hop_subblocks(hop_s: float) -> int:
    """A hop in seconds as a whole number of 1 ms sub-blocks, or :class:`AudioError`.

    Parameters
    ----------
    hop_s : float

    Returns
    -------
    int

    Examples
    --------
    >>> hop_subblocks(0.1)
    100
    """
    steps = hop_s * GRID_PER_S
    if not (isinstance(hop_s, (int, float)) and math.isfinite(steps)) or steps < 1:
        raise AudioError(f"hop_s must be at least {1 / GRID_PER_S} s, got {hop_s!r}")
    if abs(steps - round(steps)) > 1e-6:
        raise AudioError(f"hop_s must be a multiple of {1 / GRID_PER_S} s, got {hop_s!r}")
    return round(steps)
