"""Gain to a loudness target under a true-peak ceiling, with a look-ahead limiter.

:func:`normalize` removes the DC offset of each channel (it is inaudible and
only wastes headroom), applies the gain that brings the integrated loudness to
the target, and when that gain would push the true peak over the ceiling runs
a true-peak limiter and raises the gain again until the result measures within
0.02 LU of the target with its true peak under the ceiling. The loudness
target holds: the signal is never peak-normalized instead. When the target
cannot be reached under the ceiling (or the audio is silent), the result says
so in :class:`NormalizeInfo`.

The limiter (offline, so its look-ahead costs no latency: the output is
time-aligned with the input and as long):

1. the gain each sample needs, from the oversampled peak envelope
   (:func:`audiolab.loudness.true_peak_envelope`) and the ceiling;
2. the smallest of those within the look-ahead on either side (3 ms);
3. an exponential release (80 ms) of the gain reduction, computed in closed
   form with a running maximum (no per-sample loop);
4. smoothing with a triangular window that spans the look-ahead, so that the
   gain falls smoothly before a peak and the curve stays below the gain every
   sample needs.

Examples
--------
>>> import numpy as np
>>> from audiolab.normalize import normalize
>>> from audiolab.testing import programme
>>> out, info = normalize(0.1 * programme(4.0, 32000), 32000, target_lufs=-14.0)
>>> round(info.output_lufs, 1), info.true_peak_dbtp <= -1.0, info.reached_target
(-14.0, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiolab import loudness
from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError

__all__ = ["NormalizeInfo", "limit", "normalize"]

#: Look-ahead (and attack) of the limiter.
LOOKAHEAD_S = 0.003
#: Time constant of the limiter's release.
RELEASE_S = 0.080
#: How close to the target the iteration gets before it stops.
CONVERGED_LU = 0.02
#: The result stays this far under the ceiling, room for PCM quantization and dither.
CEILING_MARGIN_DB = 0.02
#: The limiter aims this far under the ceiling: its smooth gain lets inter-sample peaks
#: through by about as much, and a second pass to correct that costs time.
LIMITER_HEADROOM_DB = 0.03
#: The limiter may take at most this much off the loudest peaks before the target is
#: declared out of reach (past it the result would be a square wave, not music).
MAX_REDUCTION_DB = 60.0
_MAX_ITERATIONS = 16


@dataclass(frozen=True)
class NormalizeInfo:
    """What :func:`normalize` did.

    Attributes
    ----------
    input_lufs : float
        Integrated loudness of the input (``-inf`` when silent).
    output_lufs : float
        Integrated loudness of the result.
    gain_db : float
        Gain applied before the limiter.
    true_peak_dbtp : float
        True peak of the result (with ``measure_output=False``, the ceiling
        the result was checked to stay under: it is not measured then).
    limited : bool
        Whether the limiter acted.
    max_reduction_db : float
        The most the limiter took off (0 when it did not act).
    target_lufs, true_peak_ceiling_db : float
        What was asked for.
    dc_offset : tuple of float
        The mean removed from each channel.
    reached_target : bool
        The result is within 0.1 LU of the target and under the ceiling.
    message : str or None
        Why the target was not reached.
    iterations : int
        Gain and limiter passes it took.
    """

    input_lufs: float
    output_lufs: float
    gain_db: float
    true_peak_dbtp: float
    limited: bool
    max_reduction_db: float
    target_lufs: float
    true_peak_ceiling_db: float
    dc_offset: tuple[float, ...]
    reached_target: bool
    message: str | None = None
    iterations: int = 0


def _db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def limit(
    audio: Any,
    sr: int,
    ceiling_db: float,
    *,
    release_s: float = RELEASE_S,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """True-peak limit audio to a ceiling (the limiter of :func:`normalize`).

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    ceiling_db : float
        dBTP the oversampled peaks are brought down to.
    release_s : float
        Time constant of the release. Short releases limit harder: the gain
        follows each cycle of a low note, adding harmonics, as a clipper would.
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
    envelope = loudness.true_peak_envelope(x, rate, floor=ceiling)  # exact above the ceiling
    if envelope.max() <= ceiling:
        return (x.copy() if out is None else _copy_into(x, out)), 0.0
    # the gain each sample needs: ceiling / envelope where that is over the ceiling, else 1
    needed = np.maximum(envelope, ceiling, out=envelope)
    np.divide(ceiling, needed, out=needed)
    # The gain curve is smooth over the look-ahead, so it is shaped on blocks of
    # `step` samples (each holding its smallest need) and interpolated back.
    ahead = max(1, round(LOOKAHEAD_S * rate))
    step = max(1, ahead // 8)
    n = len(needed)
    n_blocks = -(-n // step)
    blocks = np.minimum.reduceat(needed, np.arange(0, n, step))
    reach = -(-ahead // step)  # the look-ahead in blocks
    # The smallest need within the look-ahead on either side (and one block more) ...
    gain = _sliding_minimum(blocks, 2 * reach + 3)
    # ... released exponentially: reduction[b] = max_k reduction0[k] * a ** (b - k), k <= b,
    # a running maximum in the log domain ...
    reduction = np.subtract(1.0, gain, out=gain)
    log_reduction = np.full(n_blocks, -np.inf)  # log(0): no reduction at all
    np.log(reduction, out=log_reduction, where=reduction > 0)
    steps = np.arange(n_blocks) * (-step / (release_s * rate))  # b * log(a)
    log_reduction -= steps
    np.maximum.accumulate(log_reduction, out=log_reduction)
    log_reduction += steps
    gain = np.subtract(1.0, np.minimum(np.exp(log_reduction, out=log_reduction), 1.0))
    # ... and smoothed by a triangle spanning the look-ahead. Every value averaged into
    # block b comes from within `reach` of it, so it is at most the need of blocks b - 1
    # to b + 1, and so is a straight line between two neighbouring blocks' values.
    size = reach if reach % 2 else reach + 1
    if size > 1:
        gain = _moving_average(_moving_average(gain, size), size)
    gain = _between_centres(gain, step)[:n]
    np.minimum(gain, needed, out=gain)  # exact at the edges, where the windows are cut
    return np.multiply(x, gain, out=out), -_db(float(gain.min()))


def _copy_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    if out is not x:
        out[...] = x
    return out


def _sliding_minimum(values: np.ndarray, size: int) -> np.ndarray:
    """Minimum over a centred window of odd ``size``, edges repeated (scipy's ``mode="nearest"``).

    By doubling: minima over windows of 1, 2, 4, ... values, then the two
    overlapping power-of-two windows that cover each window of ``size``.
    """
    half = size // 2
    padded = np.concatenate((np.full(half, values[0]), values, np.full(half, values[-1])))
    width, minima = 1, padded
    while 2 * width <= size:
        minima = np.minimum(minima[:-width], minima[width:])
        width *= 2
    # minima[i] covers padded[i : i + width]; window i is padded[i : i + size]
    return np.minimum(minima[: len(values)], minima[size - width : size - width + len(values)])


def _moving_average(values: np.ndarray, size: int) -> np.ndarray:
    """Mean over a centred window of odd ``size``, edges repeated (``mode="nearest"``)."""
    half = size // 2
    padded = np.concatenate((np.full(half + 1, values[0]), values, np.full(half, values[-1])))
    padded[0] = 0.0
    total = np.cumsum(padded)
    return (total[size:] - total[:-size]) / size


def _between_centres(values: np.ndarray, step: int) -> np.ndarray:
    """Linear interpolation of one value per block of ``step`` samples, known at the block
    centres, at every sample (constant before the first centre and after the last):
    ``numpy.interp`` on a regular grid.

    The stretch from centre ``k`` to centre ``k + 1`` spans ``step`` samples,
    the same fractions of the way for every ``k``: one (blocks, step) product.
    """
    n_blocks = len(values)
    head = (step + 1) // 2  # samples before the first centre, (step - 1) / 2 away from it
    out = np.empty(n_blocks * step)
    out[:head] = values[0]
    out[head + (n_blocks - 1) * step :] = values[-1]
    if n_blocks > 1:
        fraction = (np.arange(step) + head - step / 2) / step  # of the way to the next centre
        stretches = out[head : head + (n_blocks - 1) * step].reshape(n_blocks - 1, step)
        np.multiply(np.diff(values)[:, None], fraction, out=stretches)
        stretches += values[:-1, None]
    return out


@dataclass
class _Pass:
    """One gain-and-limiter pass: its gain, result and measurements."""

    gain_db: float
    audio: np.ndarray
    lufs: float
    over: bool  # the true peak is above the ceiling
    reduction_db: float


def _limit_to_target(
    x: np.ndarray, rate: int, gain_db: float, target_lufs: float, ceiling: float
) -> tuple[_Pass, int]:
    """Gain and limiter passes until the loudness is within CONVERGED_LU of the target.

    The loudness after limiting grows with the gain, so the gain is found by a
    bracketing search (steps up until the target is passed, then regula falsi
    with the Illinois correction). When the limiter saturates (it would take
    more than MAX_REDUCTION_DB off the peaks)
    the search is repeated with shorter releases, which limit harder. Returns
    the pass closest to the target (below it, when none reaches it) and the
    number of passes.
    """
    passes = 0
    best: _Pass | None = None

    def run(gain: float, release_s: float) -> _Pass:
        nonlocal passes, best
        limiter_ceiling = ceiling - LIMITER_HEADROOM_DB
        for _ in range(4):  # lower the limiter's aim if an inter-sample peak slips through
            passes += 1
            scaled = x * 10.0 ** (gain / 20.0)  # this pass's own: limited in place
            out, reduction = limit(scaled, rate, limiter_ceiling, release_s=release_s, out=scaled)
            over = loudness.true_peak_exceeds(out, rate, ceiling)
            if not over:
                break
            limiter_ceiling -= loudness.true_peak(out, rate) - ceiling + 0.001
        result = _Pass(gain, out, loudness.integrated(out, rate), over, reduction)
        if not result.over and (
            best is None or abs(result.lufs - target_lufs) < abs(best.lufs - target_lufs)
        ):
            best = result
        return result

    for release_s in (RELEASE_S, 0.010, 0.001):
        low: _Pass | None = None  # louder than target: high; quieter: low
        high: _Pass | None = None
        gain, step, side = gain_db, 1.0, 0
        for _ in range(_MAX_ITERATIONS):
            result = run(gain, release_s)
            error = target_lufs - result.lufs
            if abs(error) <= CONVERGED_LU and not result.over:
                return result, passes
            if error > 0:
                low = result
                if result.reduction_db > MAX_REDUCTION_DB:
                    break
            else:
                high = result
            if high is None:  # not yet past the target: step up, faster and faster
                gain += max(error, 0.1) * step
                step *= 2.0
                continue
            if low is None:  # a plain gain overshoots only when limiting quietens
                gain -= max(-error, 0.1)
                continue
            # regula falsi between the bracket, Illinois: halve the weight of a stale end
            weight_low, weight_high = target_lufs - low.lufs, high.lufs - target_lufs
            if side == -1:
                weight_high /= 2.0
            elif side == 1:
                weight_low /= 2.0
            side = -1 if error > 0 else 1
            gain = (low.gain_db * weight_high + high.gain_db * weight_low) / (
                weight_low + weight_high
            )
        if best is not None and abs(best.lufs - target_lufs) <= 0.1:
            break
    assert best is not None
    return best, passes


def normalize(
    audio: Any,
    sr: int,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.0,
    *,
    measure_output: bool = True,
) -> tuple[np.ndarray, NormalizeInfo]:
    """Bring audio to a loudness target with its true peak under a ceiling.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples) with 1 to 5 channels, at least 400 ms.
    sr : int
        Sample rate in Hz.
    target_lufs : float
        Integrated loudness to reach (BS.1770-4).
    true_peak_db : float
        Ceiling for the true peak, in dBTP. The result stays 0.02 dB under it.
    measure_output : bool
        Measure the true peak of the result, and its loudness when a plain
        gain was enough (the -70 LUFS gate does not scale with the gain, so
        the loudness can move by a little more than the gain). False skips
        both: the loudness is reported as ``input_lufs + gain_db`` (after a
        plain gain) and the true peak as the ceiling the result was checked
        to stay under; :func:`audiolab.export.export_wav` measures the file
        instead.

    Returns
    -------
    audio : numpy.ndarray
        float64 (channels, samples), time-aligned with the input.
    info : NormalizeInfo
        Loudness in and out, gain, true peak, what the limiter did, and whether
        the target was reached (with the reason when not).

    Raises
    ------
    AudioError
        Invalid audio or rate, or audio shorter than 400 ms (one gating block).

    See Also
    --------
    audiolab.export.export_wav : normalize, write and verify a WAV file.

    Examples
    --------
    >>> import numpy as np
    >>> from audiolab.testing import programme
    >>> out, info = normalize(programme(4.0, 32000), 32000, target_lufs=-9.0)
    >>> info.limited, abs(info.output_lufs + 9.0) < 0.1, info.true_peak_dbtp <= -1.0
    (True, True, True)
    >>> out, info = normalize(np.zeros(32000), 32000)
    >>> info.reached_target, info.message
    (False, 'the audio is silent (no 400 ms block above -70 LUFS): nothing to normalize')
    """
    rate = check_sample_rate(sr)
    for name, value in (("target_lufs", target_lufs), ("true_peak_db", true_peak_db)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise AudioError(f"{name} must be a finite number, got {value!r}")
    x = as_audio(audio)
    if x.shape[1] < round(loudness.MOMENTARY_S * rate):
        raise AudioError(
            f"audio is {x.shape[1] / rate:.3f} s long; normalizing needs at least 0.4 s "
            "(one loudness block)"
        )
    dc = x.mean(axis=1)
    x = x - dc[:, np.newaxis]
    input_lufs = loudness.integrated(x, rate)
    common: dict[str, Any] = {
        "input_lufs": input_lufs,
        "target_lufs": float(target_lufs),
        "true_peak_ceiling_db": float(true_peak_db),
        "dc_offset": tuple(float(v) for v in dc),
    }
    if not math.isfinite(input_lufs):
        return x, NormalizeInfo(
            output_lufs=input_lufs,
            gain_db=0.0,
            true_peak_dbtp=loudness.true_peak(x, rate),
            limited=False,
            max_reduction_db=0.0,
            reached_target=False,
            message="the audio is silent (no 400 ms block above -70 LUFS): nothing to normalize",
            **common,
        )
    ceiling = true_peak_db - CEILING_MARGIN_DB
    gain_db = target_lufs - input_lufs
    iterations = 1
    if not loudness.true_peak_exceeds(x, rate, ceiling - gain_db):  # a gain is enough
        out = x  # the DC-free copy is this function's own: the gain goes in place
        out *= 10.0 ** (gain_db / 20.0)
        reduction = 0.0
        if measure_output:  # measured, not assumed: the -70 LUFS gate does not scale
            measured = loudness.report(out, rate)
            output_lufs, peak_db = measured.integrated_lufs, measured.true_peak_dbtp
        else:
            output_lufs, peak_db = target_lufs, ceiling
    else:
        closest, iterations = _limit_to_target(x, rate, gain_db, target_lufs, ceiling)
        out, output_lufs, reduction, gain_db = (
            closest.audio,
            closest.lufs,
            closest.reduction_db,
            closest.gain_db,
        )
        peak_db = loudness.true_peak(out, rate) if measure_output else ceiling
    reached = abs(target_lufs - output_lufs) <= 0.1 and peak_db <= true_peak_db
    message = None
    if not reached:
        message = (
            f"cannot reach {target_lufs:g} LUFS under {true_peak_db:g} dBTP: the limiter "
            f"reached {output_lufs:.2f} LUFS taking {reduction:.1f} dB off the peaks"
        )
    return out, NormalizeInfo(
        output_lufs=output_lufs,
        gain_db=gain_db,
        true_peak_dbtp=peak_db,
        limited=reduction > 0.0,
        max_reduction_db=reduction,
        reached_target=reached,
        message=message,
        iterations=iterations,
        **common,
    )
