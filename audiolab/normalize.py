"""Gain to a loudness target under a true-peak ceiling, with a look-ahead limiter.

:func:`normalize` removes the DC offset of each channel (it is inaudible and
only wastes headroom) and solves for the gain that brings the integrated
loudness *of the gained signal* to the target. The gates do not commute with
a gain (blocks under -70 LUFS before it may pass after it), so the gain is
solved on the gating blocks' energies, exactly, not taken as ``target -
input``. When that gain would push the true peak over the ceiling, the
true-peak limiter (:mod:`audiolab.limiter`) runs at a gain found on a
prediction of its loudness, the limited signal is measured, and a last trim
down, solved the same exact way, lands it on the target
(:mod:`audiolab.limiting`). The ceiling holds by
the meter's true peak and by ideal (sinc) interpolation
(:mod:`audiolab.loudness.ideal`: the limiter reads both, and its result is
checked and made again, aiming lower, should the ideal one be over; a plain
gain whose peaks leave room is shown to hold by a bound of the sinc's tails,
:mod:`audiolab.loudness.tails`, without the ideal's FFTs). The
loudness target holds: the signal is never peak-normalized instead. When the target cannot
be reached under the ceiling (or the audio is silent), :class:`NormalizeInfo`
says why, with the numbers.

What is out of reach is documented in :mod:`audiolab.limiting`: a target
louder than the input gets with its dynamics flattened against the ceiling
(:data:`MAX_REDUCTION_DB` off its loudest peak). The result is then the least
gain within :data:`KNEE_LU` of the loudest one reached, and the message
gives both numbers.

The signal is validated once and K-weighted once for a plain gain, twice
when the limiter acts (the input, and the limited result). The writer uses
the same path without validating again: :func:`analyse_input` and
:func:`normalize_analysis` (package-internal).

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_flag, check_sample_rate
from audiolab.errors import AudioError
from audiolab.limiter import limit
from audiolab.limiting import (
    KNEE_LU,
    LIMITER_HEADROOM_DB,
    MAX_REDUCTION_DB,
    limit_holding_ideal,
)
from audiolab.loudness import Analysis, analyse, ideal, tails, truepeak
from audiolab.loudness.constants import ABSOLUTE_GATE_LUFS, MOMENTARY_S
from audiolab.loudness.gating import gated_loudness, to_db

__all__ = [
    "CEILING_MARGIN_DB",
    "KNEE_LU",
    "LIMITER_HEADROOM_DB",
    "MAX_REDUCTION_DB",
    "NormalizeInfo",
    "analyse_input",
    "limit",
    "normalize",
    "normalize_analysis",
    "normalize_group",
    "shared_gain_db",
]

#: The result stays this far under the ceiling, room for PCM quantization and dither.
CEILING_MARGIN_DB = 0.02
#: Within this of the target counts as reached.
REACHED_LU = 0.1


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
        Gain applied before the limiter (and its trim).
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
        Passes over the samples that applied a gain (1 for a plain gain, one
        per limiter run otherwise).
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


def analyse_input(samples: np.ndarray, sample_rate: int) -> tuple[Analysis, tuple[float, ...]]:
    """The input as :func:`normalize_analysis` takes it: without its DC offset, analysed.

    Parameters
    ----------
    samples : numpy.ndarray
        Validated float64 (channels, samples) (:func:`audiolab._audio.as_audio`).
    sample_rate : int
        Hz.

    Returns
    -------
    analysis : Analysis
        Of a new array, the samples minus the mean of each channel.
    dc_offset : tuple of float
        The means removed.

    Examples
    --------
    >>> signal, dc = analyse_input(np.full((1, 8000), 0.25), 8000)
    >>> dc, float(np.abs(signal.samples).max())
    ((0.25,), 0.0)
    """
    dc = samples.mean(axis=1)
    return analyse(samples - dc[:, np.newaxis], sample_rate), tuple(float(v) for v in dc)


def normalize_analysis(
    source: Analysis,
    target_lufs: float,
    true_peak_db: float,
    *,
    dc_offset: tuple[float, ...] = (),
    gain_db: float | None = None,
    consume: bool = False,
    peak: str = "measure",
    ideal_peak: bool = True,
) -> tuple[Analysis, NormalizeInfo]:
    """:func:`normalize` of an analysed signal: no validation, no filtering of the input.

    Parameters
    ----------
    source : Analysis
        The input, from :func:`analyse_input` (DC removed), at least 400 ms.
    target_lufs, true_peak_db : float
        As :func:`normalize` takes them (checked by the caller).
    dc_offset : tuple of float
        What :func:`analyse_input` removed, for the info.
    gain_db : float, optional
        Apply this gain rather than solving for the target; the target is
        then the loudness this gain gives (:func:`normalize_group`).
    consume : bool
        The source's samples may be overwritten (the caller is done with it).
    peak : {'measure', 'check', 'unchecked'}
        Measure the result's true peak (and report it), or only check that it
        is under the ceiling (and report the ceiling) where a plain gain is
        enough; when the limiter acts, its result is measured either way
        (exactly, from the few blocks where its gain moves). A measured result
        carries a bound of every block of its points (``point_bounds``): the
        writer measures the file's true peak, exactly, from the few blocks
        those leave. ``'unchecked'`` (the writer's, which measures the file it
        writes) is ``'check'``: on a plain gain the file's own search costs
        less than two (measured: material whose peaks were flattened before
        reads many blocks either way).

    ideal_peak : bool
        Hold the ceiling by the ideal true peak too (:mod:`audiolab.loudness.ideal`):
        off for audio an encoder takes next (the decoded file is checked instead).

    Returns
    -------
    result : Analysis
        The normalized signal and its energies (exact: a gain scales them).
    info : NormalizeInfo

    Examples
    --------
    >>> from audiolab.testing import programme
    >>> signal, dc = analyse_input(programme(2.0, 16000), 16000)
    >>> out, info = normalize_analysis(signal, -20.0, -1.0, dc_offset=dc)
    >>> round(out.integrated(), 6), info.limited
    (-20.0, False)
    """
    rate = source.sample_rate
    input_lufs = source.integrated()
    if gain_db is not None:  # the target is what the gain gives
        target_lufs = gated_loudness(source.gating_powers() * 10.0 ** (gain_db / 10.0))
    common: dict[str, Any] = {
        "input_lufs": input_lufs,
        "target_lufs": float(target_lufs),
        "true_peak_ceiling_db": float(true_peak_db),
        "dc_offset": dc_offset,
    }
    if not math.isfinite(input_lufs):
        return source, NormalizeInfo(
            output_lufs=input_lufs,
            gain_db=0.0,
            true_peak_dbtp=to_db(source.peaks()[1]),
            limited=False,
            max_reduction_db=0.0,
            reached_target=False,
            message="the audio is silent (no 400 ms block above -70 LUFS): nothing to normalize",
            **common,
        )
    if gain_db is None:
        gain_db = source.gain_for(target_lufs)
        if gain_db is None:  # a target at or under the absolute gate
            return source, NormalizeInfo(
                output_lufs=input_lufs,
                gain_db=0.0,
                true_peak_dbtp=to_db(source.peaks()[1]),
                limited=False,
                max_reduction_db=0.0,
                reached_target=False,
                message=(
                    f"cannot reach {target_lufs:g} LUFS: a loudness at or under the "
                    f"{ABSOLUTE_GATE_LUFS:g} LUFS absolute gate does not measure"
                ),
                **common,
            )
    ceiling_db = true_peak_db - CEILING_MARGIN_DB
    gain = 10.0 ** (gain_db / 20.0)
    level = 10.0 ** (ceiling_db / 20.0) / gain  # the ceiling before the gain
    passes, reduction, why = 1, 0.0, ""
    x = source.samples
    fits = max(float(x.max()), -float(x.min())) <= level  # else a sample is over: limit
    if fits and peak == "measure":
        source.known_peaks(*truepeak.covered_peaks(x, rate))
        fits = source.peaks()[1] <= level
    elif fits:
        fits = not truepeak.exceeds(x, rate, level)
    found = None  # the ideal true peak's residuals: a gain scales them
    if fits and ideal_peak and not tails.holds(x, rate, level):  # and between the meter's
        found = ideal.residuals(x, rate)  # points, exactly where a bound does not show it
        fits = not ideal.exceeds(x, rate, level, found)
    held = True  # by the ideal true peak
    if fits:
        out = source.scaled(gain_db, np.multiply(x, gain, out=x if consume else None))
    else:
        found_limited, passes, why, held = limit_holding_ideal(
            source,
            gain_db,
            target_lufs,
            ceiling_db,
            consume=consume,
            ideal_peak=ideal_peak,
            residuals=found,
        )
        out = found_limited.signal
        gain_db, reduction = found_limited.gain_db, found_limited.reduction_db
    output_lufs = out.integrated()
    known = peak == "measure" or not fits
    peak_db = to_db(out.peaks()[1]) if known else ceiling_db
    reached = abs(target_lufs - output_lufs) <= REACHED_LU and peak_db <= true_peak_db and held
    message = None
    if not reached:
        message = (
            f"cannot reach {target_lufs:g} LUFS under {true_peak_db:g} dBTP: the limiter "
            f"reached {output_lufs:.2f} LUFS taking {reduction:.1f} dB off the peaks"
            + (f" ({why})" if why else "")
        )
    return out, NormalizeInfo(
        output_lufs=output_lufs,
        gain_db=gain_db,
        true_peak_dbtp=peak_db,
        limited=reduction > 0.0,
        max_reduction_db=reduction,
        reached_target=reached,
        message=message,
        iterations=passes,
        **common,
    )


def _check_levels(target_lufs: Any, true_peak_db: Any) -> None:
    for name, value in (("target_lufs", target_lufs), ("true_peak_db", true_peak_db)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise AudioError(f"{name} must be a finite number, got {value!r}")


def _validated(audio: Any, rate: int) -> np.ndarray:
    x = as_audio(audio)
    if x.shape[1] < round(MOMENTARY_S * rate):
        raise AudioError(
            f"audio is {x.shape[1] / rate:.3f} s long; normalizing needs at least 0.4 s "
            "(one loudness block)"
        )
    return x


def normalize(
    audio: Any,
    sr: int,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.0,
    *,
    measure_output: bool = True,
    ideal_peak: bool = True,
) -> tuple[np.ndarray, NormalizeInfo]:
    """Bring audio to a loudness target with its true peak under a ceiling.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples) with 1 to 5 channels, at least 400 ms.
    sr : int
        Sample rate in Hz.
    target_lufs : float
        Integrated loudness to reach (BS.1770-4), measured on the result.
    true_peak_db : float
        Ceiling for the true peak, in dBTP. The result stays 0.02 dB under it.
    measure_output : bool
        Measure the true peak of the result. False skips it: the info reports
        the ceiling the result was checked to stay under instead. (The
        loudness of the result is always exact: a gain scales the energies.)
    ideal_peak : bool
        Hold the ceiling by the ideal (sinc) true peak too, not only by the
        BS.1770 meter's (see :func:`audiolab.export.export`).

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
    normalize_group : one gain for several clips.
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
    _check_levels(target_lufs, true_peak_db)
    ideal_peak = check_flag("ideal_peak", ideal_peak)
    source, dc = analyse_input(_validated(audio, rate), rate)
    out, info = normalize_analysis(
        source,
        target_lufs,
        true_peak_db,
        dc_offset=dc,
        consume=True,
        peak="measure" if measure_output else "check",
        ideal_peak=ideal_peak,
    )
    return out.samples, info


def shared_gain_db(sources: Sequence[Analysis], target_lufs: float) -> float | None:
    """The one gain that brings the loudest of several signals to a target.

    The loudest is the one with the highest integrated loudness; the gain is
    solved on its gated loudness after the gain (as :func:`normalize` does).

    Parameters
    ----------
    sources : sequence of Analysis
        From :func:`analyse_input`.
    target_lufs : float

    Returns
    -------
    float or None
        dB; None when every signal is silent (or the target is under the gate).

    Examples
    --------
    >>> from audiolab.testing import programme
    >>> clip = programme(2.0, 16000)
    >>> quiet, _ = analyse_input(0.1 * clip, 16000)
    >>> loud, _ = analyse_input(clip, 16000)
    >>> round(shared_gain_db([quiet, loud], -20.0) - loud.gain_for(-20.0), 9)
    0.0
    """
    loudest = max(sources, key=lambda s: s.integrated(), default=None)
    if loudest is None or not math.isfinite(loudest.integrated()):
        return None
    return loudest.gain_for(target_lufs)


def normalize_group(
    items: Sequence[Any],
    sr: int,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.0,
) -> list[tuple[np.ndarray, NormalizeInfo]]:
    """One gain for several clips (album-style): the loudest meets the target.

    Every clip gets the same gain, the one that brings the loudest clip (by
    integrated loudness) to the target, so their relative loudness stays as
    it was: the sections of one piece, the stems of one mix, the takes of one
    prompt. A clip whose true peak that gain would push over the ceiling is
    limited, and measures as loud as the plain gain would have made it.

    Parameters
    ----------
    items : sequence of audio
        Each as :func:`normalize` takes it, at one sample rate.
    sr : int
        Sample rate in Hz.
    target_lufs : float
        Loudness of the loudest clip.
    true_peak_db : float
        Ceiling for every clip, dBTP.

    Returns
    -------
    list of (numpy.ndarray, NormalizeInfo)
        One per clip, in order; each info's ``target_lufs`` is what that clip
        was brought to.

    Raises
    ------
    AudioError
        Any invalid clip (nothing is normalized then), or no clip at all.

    Examples
    --------
    >>> from audiolab.testing import programme
    >>> clip = programme(3.0, 16000)
    >>> (loud, a), (quiet, b) = normalize_group([clip, 0.5 * clip], 16000, target_lufs=-18.0)
    >>> round(a.output_lufs, 2), round(a.output_lufs - b.output_lufs, 2)
    (-18.0, 6.02)
    """
    rate = check_sample_rate(sr)
    _check_levels(target_lufs, true_peak_db)
    if len(items) == 0:
        raise AudioError("normalize_group needs at least one clip, got none")
    prepared = [analyse_input(_validated(item, rate), rate) for item in items]
    gain_db = shared_gain_db([source for source, _ in prepared], target_lufs)
    results = []
    for source, dc in prepared:
        if gain_db is None or not math.isfinite(source.integrated()):
            out, info = normalize_analysis(source, target_lufs, true_peak_db, dc_offset=dc)
        else:
            out, info = normalize_analysis(
                source, target_lufs, true_peak_db, dc_offset=dc, gain_db=gain_db, consume=True
            )
        results.append((out.samples, info))
    return results
