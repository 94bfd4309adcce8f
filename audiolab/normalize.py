"""Gain to a loudness target under a true-peak ceiling, with a look-ahead limiter.

:func:`normalize` removes the DC offset of each channel (it is inaudible and
only wastes headroom) and solves for the gain that brings the integrated
loudness *of the gained signal* to the target. The gates do not commute with
a gain (blocks under -70 LUFS before it may pass after it), so the gain is
solved on the gating blocks' energies, exactly, not taken as ``target -
input``. When that gain would push the true peak over the ceiling, the
true-peak limiter (:mod:`audiolab.limiter`) runs at a gain found on a
prediction of its loudness, the limited signal is measured, and a last trim
down, solved the same exact way, lands it on the target. The loudness target
holds: the signal is never peak-normalized instead. When the target cannot
be reached under the ceiling (or the audio is silent), :class:`NormalizeInfo`
says why, with the numbers.

What is out of reach (the documented floor): more gain into the limiter
never makes the result quieter, and at the most it may take off the loudest
peak, :data:`MAX_REDUCTION_DB`, every passage is held against the ceiling:
the dynamics are flattened, the loudness range is 0 LU, and the loudness is
as high as this signal gets under this ceiling with this limiter (1 ms
release at the hardest, close to a clipper that follows the true peak). A
target above that is out of reach; the result is then the least gain within
:data:`KNEE_LU` of that loudest result, and the message gives both numbers.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError
from audiolab.limiter import Limiter, Release, limit
from audiolab.loudness import Analysis, analyse, truepeak
from audiolab.loudness.analysis import gated_loudness, gating_powers, to_db
from audiolab.loudness.constants import ABSOLUTE_GATE_LUFS, MOMENTARY_S

__all__ = [
    "CEILING_MARGIN_DB",
    "KNEE_LU",
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
#: The limiter aims this far under the ceiling: its smooth gain lets inter-sample peaks
#: through by a little, and band-limited references of the true peak (other windows,
#: other lengths) read up to about 0.06 dB higher than this meter's on material with
#: strong content near the Nyquist frequency.
LIMITER_HEADROOM_DB = 0.1
#: The limiter may take at most this much off the loudest peak before the target is
#: declared out of reach (past it the result would be a square wave, not music).
MAX_REDUCTION_DB = 100.0
#: Out of reach, the result returned is the least gain within this of the loudest.
KNEE_LU = 0.1
#: Within this of the target counts as reached.
REACHED_LU = 0.1
#: The releases tried, in turn, until one reaches the target: the program-dependent
#: default, then single releases that limit harder.
RELEASES = (Release(), Release(0.010, None), Release(0.001, None))
#: The limiter aims this much louder than the target, so that the trim goes down, and
#: takes a prediction this close to the aim.
_AIM_ABOVE_LU = 0.05
_AIM_WITHIN_LU = 0.04
#: Where the limiter takes less than this off the loudness, the gain is raised by as much
#: without predicting again: it adds nearly a dB per dB, and the measured pass corrects.
_LIGHT_LU = 0.25
_MEASURED_PASSES = 4  # limited and measured results per release before the next one
_FLOOR_DB = 0.75  # the envelope is exact for gains up to this much above the one it is for
_NEAR_DB = 6.0  # passes this close in gain correct the prediction along a line
_PREDICTIONS = 40  # predictions of the limited loudness per measured pass


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


@dataclass
class _Pass:
    """A limited and measured result."""

    signal: Analysis
    gain_db: float
    reduction_db: float
    release: Release


class _Prediction:
    """The loudness of the limited signal without filtering it: the input's sub-block
    energies times the mean square of the limiter's gain over each sub-block. The
    K-weighting of a signal whose gain moves slowly is nearly that gain times its
    K-weighting; each measured pass corrects what is left (``offset``)."""

    def __init__(self, source: Analysis, limiter: Limiter) -> None:
        self.source = source
        self.limiter = limiter
        step, n_sub = limiter.step, source.n_subblocks
        centres = np.arange(len(limiter.block_peak)) * step + step // 2
        rate = source.sample_rate
        if rate % 1000 == 0:  # grid lines every rate / 1000 samples
            index = centres // (rate // 1000)
        else:
            index = np.searchsorted(source.bounds, centres, side="right") - 1
        self.inside = index < n_sub
        self.index = index[self.inside]
        self.count = np.maximum(np.bincount(self.index, minlength=n_sub), 1)

    def loudness(self, gain_db: float, aim: float, release: Release) -> tuple[float, float]:
        """(predicted LUFS, reduction dB) after ``gain_db`` and the limiter."""
        gain = 10.0 ** (gain_db / 20.0)
        block = self.limiter.block_gain(gain, aim, release)
        squares = np.bincount(self.index, block[self.inside] ** 2, len(self.count)) / self.count
        energy = self.source.energy * (gain * gain) * squares
        lufs = gated_loudness(gating_powers(energy, self.source.bounds))
        return lufs, -to_db(float(block.min()))


class _Corrected:
    """The predicted loudness after the limiter at a gain, corrected by what the
    prediction missed at the measured passes: a straight line in the gain through
    the last two when they are near each other, else what the last one missed."""

    def __init__(self, predict: _Prediction, aim: float, release: Release) -> None:
        self.predict, self.aim, self.release = predict, aim, release
        self.history: list[tuple[float, float]] = []  # (gain, measured minus predicted)

    def predicted(self, gain: float) -> float:
        return self.predict.loudness(gain, self.aim, self.release)[0]

    def learn(self, gain: float, measured_lufs: float) -> None:
        self.history.append((gain, measured_lufs - self.predicted(gain)))

    def __call__(self, gain: float) -> float:
        if not self.history:
            return self.predicted(gain)
        (g1, o1), (g2, o2) = self.history[-2:] if len(self.history) > 1 else self.history * 2
        slope = (o2 - o1) / (g2 - g1) if 0 < abs(g2 - g1) <= _NEAR_DB else 0.0
        return self.predicted(gain) + o2 + slope * (gain - g2)


def _solve_gain(
    at: Callable[[float], float], low_db: float, high_db: float, aim_lufs: float
) -> tuple[float, float | None]:
    """The gain in ``[low_db, high_db]`` whose predicted loudness ``at(gain)`` is the aim.

    The loudness after the limiter does not fall as the gain grows (where the
    limiter holds a peak at the ceiling, more gain changes nothing there;
    elsewhere it adds loudness). Secant steps up from ``low_db`` (a limiter
    that only touches the peaks adds nearly a dB per dB), growing while the
    loudness grows slowly, until the aim is passed; then regula falsi with
    the Illinois correction. When even ``high_db`` falls short, returns the
    knee instead, the least gain within KNEE_LU of that loudest result, and
    the loudest predicted loudness.
    """
    low = (low_db, at(low_db))
    if low[1] >= aim_lufs:
        return low_db, None
    step = aim_lufs - low[1]
    if step <= _LIGHT_LU:  # the limiter only touches the peaks: a dB of gain adds a dB
        return low_db + step, None
    high: tuple[float, float] | None = None
    for _ in range(_PREDICTIONS):  # up, until the aim is passed
        gain = min(low[0] + max(step, 0.01), high_db)
        lufs = at(gain)
        if abs(lufs - aim_lufs) <= _AIM_WITHIN_LU:
            return gain, None
        if lufs > aim_lufs:
            high = (gain, lufs)
            break
        slope = (lufs - low[1]) / (gain - low[0])
        if gain >= high_db:
            break
        step = 4.0 * (gain - low[0]) if slope < 0.25 else 1.1 * (aim_lufs - lufs) / slope
        low = (gain, lufs)
    if high is None:  # out of reach: the knee of the loudest result
        top = at(high_db)
        short, enough = low_db, high_db
        while enough - short > 0.01:
            middle = 0.5 * (short + enough)
            short, enough = (short, middle) if at(middle) >= top - KNEE_LU else (middle, enough)
        return enough, top
    side, gain = 0, high[0]
    for _ in range(_PREDICTIONS):
        weight_low, weight_high = aim_lufs - low[1], high[1] - aim_lufs
        if side == -1:
            weight_high /= 2.0
        elif side == 1:
            weight_low /= 2.0
        gain = (low[0] * weight_high + high[0] * weight_low) / (weight_low + weight_high)
        lufs = at(gain)
        if abs(lufs - aim_lufs) <= _AIM_WITHIN_LU or high[0] - low[0] < 1e-6:
            break
        if lufs < aim_lufs:
            low, side = (gain, lufs), -1
        else:
            high, side = (gain, lufs), 1
    return gain, None


def _limited_pass(
    limiter: Limiter, gain_db: float, ceiling_db: float, release: Release, *, in_place: bool
) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float]]:
    """The samples after the gain and the limiter, the block gains, the reduction and the
    peaks (``in_place``: written over the limiter's samples).

    The peaks are measured exactly (:meth:`audiolab.limiter.Limiter.true_peak`).
    The smooth gain can let an inter-sample peak through by a little: then the
    limiter's aim is lowered by that much and it runs again.
    """
    gain = 10.0 ** (gain_db / 20.0)
    ceiling = 10.0 ** (ceiling_db / 20.0)
    aim_db = ceiling_db - LIMITER_HEADROOM_DB
    out = limiter.samples if in_place else np.empty_like(limiter.samples)
    for _ in range(4):
        out, block = limiter.apply(gain, 10.0 ** (aim_db / 20.0), release, out=out)
        peaks = limiter.true_peak(out, block)
        if peaks[1] <= ceiling:
            break
        aim_db -= to_db(peaks[1]) - ceiling_db + 0.001
        if in_place:
            limiter.remove(out, block)  # the samples again, for another try
    return out, block, -to_db(float(block.min()) / gain), peaks


def _limit_to_target(
    source: Analysis, gain_db: float, target_lufs: float, ceiling_db: float, *, consume: bool
) -> tuple[_Pass | None, int, str]:
    """The limited result on the target, or the loudest one reached and why it stopped.

    For each release in turn: the gain is solved on the predicted loudness
    between the plain gain and the gain at which the limiter would take
    MAX_REDUCTION_DB off the loudest peak; the limited signal is measured, and
    what the prediction missed (a straight line in the gain through the last
    two passes) corrects the next solve. A result at or over the target is
    trimmed down onto it exactly. Returns the pass (None if none was made),
    the passes made, and the reason the loudest stayed short. With ``consume``
    the first pass is made in the source's samples, which are brought back
    into a new array should another pass be needed.
    """
    rate = source.sample_rate
    aim_db = ceiling_db - LIMITER_HEADROOM_DB
    aim = 10.0 ** (aim_db / 20.0)

    def exact_limiter(gain: float) -> Limiter:
        return Limiter(source.samples, rate, floor=aim / 10.0 ** ((gain + _FLOOR_DB) / 20.0))

    limiter = exact_limiter(gain_db)
    predict = _Prediction(source, limiter)
    # the limiter takes MAX_REDUCTION_DB off the true peak (the envelope's largest value)
    most_db = max(gain_db, MAX_REDUCTION_DB + aim_db - to_db(float(limiter.block_peak.max())))
    aim_lufs = target_lufs + _AIM_ABOVE_LU
    made: list[_Pass] = []
    why = ""
    for release in RELEASES:
        at = _Corrected(predict, aim, release)
        for _ in range(_MEASURED_PASSES):
            gain, loudest = _solve_gain(at, gain_db, most_db, aim_lufs)
            if not limiter.exact_for(10.0 ** (gain / 20.0), aim):  # a lower floor is needed
                limiter = exact_limiter(gain)
                predict = at.predict = _Prediction(source, limiter)
                gain, loudest = _solve_gain(at, gain_db, most_db, aim_lufs)
            if at.history and abs(gain - at.history[-1][0]) < 0.005:
                break  # no nearer than the last pass
            in_place = consume and not made
            samples, block, reduction, peaks = _limited_pass(
                limiter, gain, ceiling_db, release, in_place=in_place
            )
            measured = analyse(samples, rate)
            measured.known_peaks(peaks)
            lufs = measured.integrated()
            made.append(_Pass(measured, gain, reduction, release))
            if lufs >= target_lufs:  # the trim goes down: the ceiling holds
                trim = min(measured.gain_for(target_lufs) or 0.0, 0.0)
                samples *= 10.0 ** (trim / 20.0)
                made[-1].signal = measured.scaled(trim, samples)
                return made[-1], len(made), ""
            if in_place:  # the source's samples hold this pass: bring them back apart
                source.samples = limiter.remove(samples.copy(), block)
                limiter.samples = source.samples
            at.learn(gain, lufs)
            if len(at.history) > 1:  # what two measured passes say, whatever the prediction
                (g1, m1), (g2, m2) = ((g, at.predicted(g) + o) for g, o in at.history[-2:])
                if m2 <= m1 or g2 + (aim_lufs - m2) * (g2 - g1) / (m2 - m1) > most_db:
                    why = f"louder takes more than {MAX_REDUCTION_DB:g} dB off the peaks"
                    break
            if loudest is not None:
                loudest = at(most_db)  # corrected by this pass
                if loudest < target_lufs:
                    why = (
                        f"with its dynamics flattened against the ceiling it would reach "
                        f"about {loudest:.1f} LUFS"
                    )
                    break
    if not made:  # pragma: no cover - every release measures at least one pass
        return None, 0, why
    # the least gain within KNEE_LU of the loudest result
    loudest_lufs = max(p.signal.integrated() for p in made)
    near = [p for p in made if p.signal.integrated() >= loudest_lufs - KNEE_LU]
    return min(near, key=lambda p: p.gain_db), len(made), why


def normalize_analysis(
    source: Analysis,
    target_lufs: float,
    true_peak_db: float,
    *,
    dc_offset: tuple[float, ...] = (),
    gain_db: float | None = None,
    consume: bool = False,
    peak: str = "measure",
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
    peak : {'measure', 'check'}
        Measure the result's true peak (and report it), or only check that it
        is under the ceiling (and report the ceiling) where a plain gain is
        enough; when the limiter acts, its result is measured either way.

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
        source.known_peaks(truepeak.peaks(x, rate))
        fits = source.peaks()[1] <= level
    elif fits:
        fits = not truepeak.exceeds(x, rate, level)
    if fits:
        out = source.scaled(gain_db, np.multiply(x, gain, out=x if consume else None))
    else:
        found, passes, why = _limit_to_target(
            source, gain_db, target_lufs, ceiling_db, consume=consume
        )
        if found is None:  # pragma: no cover - every release measures at least one pass
            raise AssertionError("the limiter made no pass")
        out, gain_db, reduction = found.signal, found.gain_db, found.reduction_db
    output_lufs = out.integrated()
    peak_db = to_db(out.peaks()[1]) if peak == "measure" or not fits else ceiling_db
    reached = abs(target_lufs - output_lufs) <= REACHED_LU and peak_db <= true_peak_db
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
    source, dc = analyse_input(_validated(audio, rate), rate)
    out, info = normalize_analysis(
        source,
        target_lufs,
        true_peak_db,
        dc_offset=dc,
        consume=True,
        peak="measure" if measure_output else "check",
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
