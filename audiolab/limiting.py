"""Limiting to a loudness target: the gain into the limiter, predicted, measured, trimmed.

When a plain gain to the target would push the true peak over the ceiling,
the gain into the true-peak limiter (:mod:`audiolab.limiter`) is found on a
prediction of the limited loudness (the input's 1 ms energies times the mean
square of the limiter's gain over each: no filtering); the limited signal is
K-weighted once and, louder than the target as it is aimed, trimmed down
onto it exactly (a gain scales the energies). What the prediction missed
corrects the next try when one is needed. For each release in turn (the
program-dependent default, then 10 ms and 1 ms, which limit harder) until one
reaches the target.

The floor of what is reachable: more gain into the limiter never makes the
result quieter, and at :data:`MAX_REDUCTION_DB` off the loudest peak every
passage is held against the ceiling, its dynamics flattened (0 LU of
loudness range): the loudest this signal gets under this ceiling with this
limiter. A target above that is out of reach.

Examples
--------
>>> from audiolab.limiting import limit_to_target
>>> from audiolab.normalize import analyse_input
>>> from audiolab.testing import programme
>>> source, _ = analyse_input(programme(4.0, 32000), 32000)
>>> found, passes, why = limit_to_target(source, source.gain_for(-9.0), -9.0, -1.02)
>>> round(found.signal.integrated(), 3), passes, why
(-9.0, 1, '')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audiolab.limiter import Limiter, Release
from audiolab.loudness import Analysis, analyse, ideal, tails
from audiolab.loudness.gating import gated_loudness, gating_powers, to_db
from audiolab.loudness.ideal import Residual

__all__ = [
    "IDEAL_STEP_DB",
    "IDEAL_TRIES",
    "KNEE_LU",
    "LIMITER_HEADROOM_DB",
    "MAX_REDUCTION_DB",
    "RELEASES",
    "Limited",
    "limit_holding_ideal",
    "limit_to_target",
]

#: The limiter aims this far under the ceiling: its smooth gain lets inter-sample peaks
#: through by a little, and band-limited references of the true peak (other windows,
#: other lengths) read up to about 0.06 dB higher than this meter's on material with
#: strong content near the Nyquist frequency.
LIMITER_HEADROOM_DB = 0.1
#: The most the limiter may take off the loudest peak: there every passage is held
#: against the ceiling, and a target still louder is out of reach.
MAX_REDUCTION_DB = 100.0
#: Out of reach, the result returned is the least gain within this of the loudest.
KNEE_LU = 0.1
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


@dataclass
class Limited:
    """A limited and measured result.

    Attributes
    ----------
    signal : Analysis
        The limited signal (trimmed onto the target when it reached it).
    gain_db : float
        The gain into the limiter.
    reduction_db : float
        The most the limiter took off.
    release : Release
        The release it used.
    """

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
) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float], np.ndarray]:
    """The samples after the gain and the limiter, the block gains, the reduction, the
    peaks and the bound of every block of points (``in_place``: written over the
    limiter's samples).

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
        peaks, cover = limiter.true_peak(out, block)
        if peaks[1] <= ceiling:
            break
        aim_db -= to_db(peaks[1]) - ceiling_db + 0.001
        if in_place:
            limiter.remove(out, block)  # the samples again, for another try
    return out, block, -to_db(float(block.min()) / gain), peaks, cover


def limit_to_target(
    source: Analysis,
    gain_db: float,
    target_lufs: float,
    ceiling_db: float,
    *,
    consume: bool = False,
    residuals: list[Residual] | None = None,
) -> tuple[Limited | None, int, str]:
    """The limited result on the target, or the loudest one reached and why it stopped.

    For each release in turn: the gain is solved on the predicted loudness
    between the plain gain and the gain at which the limiter would take
    MAX_REDUCTION_DB off the loudest peak; the limited signal is measured, and
    what the prediction missed (a straight line in the gain through the last
    two passes) corrects the next solve. A result at or over the target is
    trimmed down onto it exactly.

    Parameters
    ----------
    source : Analysis
        The input, analysed (DC removed: :func:`audiolab.normalize.analyse_input`).
    gain_db : float
        The plain gain that gives the target (``source.gain_for(target_lufs)``).
    target_lufs : float
        Integrated loudness to reach.
    ceiling_db : float
        True peak (dBTP) to stay under.
    residuals : list of Residual, optional
        Given (:func:`audiolab.loudness.ideal.residuals` of the source), the
        limiter reads the ideal true peak too.
    consume : bool
        Make the first pass in the source's samples (they are brought back into
        a new array should another pass be needed).

    Returns
    -------
    result : Limited or None
        On the target, or else the least gain within KNEE_LU of the loudest
        result (None only if no pass was made).
    passes : int
        Limited and measured passes made.
    why : str
        Why the loudest stayed short ("" when the target was reached).

    Examples
    --------
    >>> from audiolab.normalize import analyse_input
    >>> from audiolab.testing import programme
    >>> source, _ = analyse_input(programme(4.0, 32000), 32000)
    >>> found, passes, why = limit_to_target(source, source.gain_for(-9.0), -9.0, -1.02)
    >>> round(found.signal.integrated(), 3), passes, why
    (-9.0, 1, '')
    """
    rate = source.sample_rate
    aim_db = ceiling_db - LIMITER_HEADROOM_DB
    aim = 10.0 ** (aim_db / 20.0)

    def exact_limiter(gain: float) -> Limiter:
        floor = aim / 10.0 ** ((gain + _FLOOR_DB) / 20.0)
        return Limiter(source.samples, rate, floor=floor, residuals=residuals)

    limiter = exact_limiter(gain_db)
    predict = _Prediction(source, limiter)
    # the limiter takes MAX_REDUCTION_DB off the true peak (the envelope's largest value)
    most_db = max(gain_db, MAX_REDUCTION_DB + aim_db - to_db(float(limiter.block_peak.max())))
    aim_lufs = target_lufs + _AIM_ABOVE_LU
    made: list[Limited] = []
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
            samples, block, reduction, peaks, cover = _limited_pass(
                limiter, gain, ceiling_db, release, in_place=in_place
            )
            measured = analyse(samples, rate)
            measured.known_peaks(peaks, cover)
            lufs = measured.integrated()
            made.append(Limited(measured, gain, reduction, release))
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


def limit_holding_ideal(
    source: Analysis,
    gain_db: float,
    target_lufs: float,
    ceiling_db: float,
    *,
    consume: bool = False,
    ideal_peak: bool = True,
    residuals: list[Residual] | None = None,
) -> tuple[Limited, int, str, bool]:
    """:func:`limit_to_target` whose result's ideal true peak holds the ceiling too.

    The limiter first reads the meter's true peak only (or the ideal one too,
    given the source's ``residuals``), and the ideal true peak of its result
    is checked: on recorded music it holds (the ideal reads within 0.05 dB of
    the meter there, inside the limiter's headroom), for the cost of one
    residual, the result's. Where the source's loudest blocks already read
    the ideal more than the headroom over the meter
    (:func:`audiolab.loudness.tails.estimated_excess_db`, milliseconds), the
    meter's run would be over and is skipped: the limiter reads the ideal
    from the first run. Where it is over all the same (content near the Nyquist
    frequency: noise, clicks; the limiter's gain moves the residual, which
    reads the whole signal), the limiter runs again reading the ideal true
    peak of the source as well, and while its result is still over, aiming
    lower by what it was over, or by what the ideal reads over the meter,
    whichever is more (at most :data:`IDEAL_TRIES` tries in all). A first
    result that holds but stays short of the target is tried the same way
    (the ideal's envelope can reach further), and the louder is kept. Aiming
    lower without the ideal's reading would take more off every peak than
    the ideal asks (measured: up to 0.8 dB on full-band takes). With
    ``ideal_peak=False``: the meter's ceiling only, one run.

    Parameters
    ----------
    source, gain_db, target_lufs, ceiling_db, consume
        As :func:`limit_to_target` takes them.
    ideal_peak : bool
        Hold the ceiling by the ideal true peak too.
    residuals : list of Residual, optional
        The source's (:func:`audiolab.loudness.ideal.residuals`), when known:
        the limiter reads the ideal true peak from the first run.

    Returns
    -------
    result : Limited
    passes : int
        Limited and measured passes made, over the tries.
    why : str
        Why the result stayed short ("" when the target was reached).
    held : bool
        Whether its ideal true peak is at or under the ceiling (True with
        ``ideal_peak=False``).

    Examples
    --------
    >>> from audiolab.normalize import analyse_input
    >>> from audiolab.testing import programme
    >>> source, _ = analyse_input(programme(4.0, 32000), 32000)
    >>> found, passes, why, held = limit_holding_ideal(source, source.gain_for(-9.0), -9.0, -1.02)
    >>> round(found.signal.integrated(), 3), held
    (-9.0, True)
    """
    level = 10.0 ** (ceiling_db / 20.0)
    rate = source.sample_rate
    kept = source.samples.copy() if consume and ideal_peak else None  # for another try
    aim_db, passes, held, over_db = ceiling_db, 0, False, 0.0
    result: Limited | None = None
    short: tuple[Limited, str] | None = None  # the meter's limiter's, held but short
    if (
        ideal_peak
        and residuals is None
        and tails.estimated_excess_db(source.samples, rate) > LIMITER_HEADROOM_DB
    ):  # the meter's limiter would leave the ideal over: read the ideal from the first run
        residuals = ideal.residuals(source.samples, rate)
    for _ in range(IDEAL_TRIES):
        result, made, why = limit_to_target(
            source, gain_db, target_lufs, aim_db, consume=consume, residuals=residuals
        )
        if result is None:  # pragma: no cover - every release measures at least one pass
            raise AssertionError("the limiter made no pass")
        passes += made
        samples = result.signal.samples
        if not ideal_peak:  # the ceiling by the meter only
            held = True
            break
        of_result = ideal.residuals(samples, rate)
        holds = not ideal.exceeds(samples, rate, level, of_result)
        if holds and not (why and residuals is None):
            held = True
            break
        if kept is not None:
            source.samples = kept.copy()
        if residuals is None:  # the limiter reads the ideal true peak too from now on
            # (also when the meter's stayed short: the ideal's envelope may reach further)
            short = (result, why) if holds else None
            residuals = ideal.residuals(source.samples, rate)
            continue
        over_db = to_db(ideal.ideal_peak(samples, rate, of_result) / level)  # over the ceiling
        excess_db = over_db + ceiling_db - to_db(result.signal.peaks()[1])  # over the meter
        aim_db = min(aim_db - over_db, ceiling_db - excess_db) - IDEAL_STEP_DB
    assert result is not None
    if short is not None and (
        not held or short[0].signal.integrated() > result.signal.integrated()
    ):  # the louder of the two that hold
        (result, why), held = short, True
    if not held:  # pragma: no cover - each try lowers the aim by at least the excess
        why = f"its ideal true peak stayed {over_db:.2f} dB over the ceiling"
    return result, passes, why, held


#: Runs of the limiter in all: the meter's, then reading the ideal true peak, then aiming lower.
IDEAL_TRIES = 5
#: And how much further under the excess each try aims, dB.
IDEAL_STEP_DB = 0.005
