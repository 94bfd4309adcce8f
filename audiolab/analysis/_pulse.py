"""Periodicity and pulse evidence of an onset novelty curve.

The pieces of :mod:`audiolab.analysis.tempo` that look at a novelty curve
(100 frames per second) rather than at audio: autocorrelation and comb
periods, the off-beat accent ratio and the metrical levels it scores with the
tempo prior, the tempo families checked against a steady beat grid, the
pulse salience and how much a smoothed novelty inflates it. The beat tracker
is in :mod:`audiolab.analysis._beats`; the tempo module's docstring describes
the method in order.
"""

from __future__ import annotations

import math

import numpy as np

MIN_BPM, MAX_BPM = 40.0, 250.0  # periodicities searched
# The beat (tactus) is sought from 40 to 200 BPM: inter-beat intervals of 0.3 to 1.5 s,
# the range of tapped tempi in Moelants & McKinney (2004) and London (2004, "Hearing
# in Time"); a pulse faster than 200 BPM is read at half its rate.
MAX_TACTUS_BPM = 200.0
# A log-Gaussian tempo prior (Ellis 2007, "Beat tracking by dynamic programming": centre
# 120 BPM, 1.4 octaves wide) tilts the choice between metrical levels when the accent
# evidence is weak.
PRIOR_CENTRE_BPM = 120.0
PRIOR_OCTAVES = 1.4
NULL_TEMPO_FACTORS = (0.81, 0.87, 0.93, 1.07, 1.14, 1.21)
REFINE_RANGE = 1.06  # a window's period is refined within this factor of its lag
AGREE_OCTAVES = 0.06  # windows within this (about 4 %) agree on the tempo
OFFBEAT_RATIO = 0.36  # the off-beats' share of the accent at which doubling is neutral
STEADY = 0.02  # a curve within 2 % is refined as one tempo
MAX_ALTERNATIVES = 2
MAX_FAMILIES = 3  # tempo families (an octave apart) checked against the beat grid


# ------------------------------------------------------------ periodicity
def _autocorrelation(n: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation (r[0] = 1) of n with its mean removed."""
    x = n - n.mean()
    size = 1 << (2 * len(x) - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    r = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: len(x)]
    return r / r[0] if r[0] > 0 else np.zeros(len(x))


def _at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of values at fractional positions inside [0, len - 1]."""
    i = np.clip(positions.astype(np.int64), 0, len(values) - 2)
    f = positions - i
    return values[i] * (1.0 - f) + values[i + 1] * f


def _phase_means(n: np.ndarray, period: float) -> np.ndarray:
    """Mean of n over the pulses phase + k * period, for every whole-frame phase."""
    return _comb_scores(n, np.array([period]))[0, : max(1, math.ceil(period))]


def _comb_scores(n: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """(len(periods), phases) mean of n over the pulses phase + k * period.

    Pulse positions are rounded to whole frames. Row i holds the phases
    0 .. ceil(periods[i]) - 1 (the rest is -inf).
    """
    last = len(n) - 1
    phases = np.arange(max(1, math.ceil(periods.max())))
    pulses = np.arange(max(1, int(last // periods.min()) + 1))
    offsets = np.rint(periods[:, None] * pulses[None, :]).astype(np.int64)  # (periods, pulses)
    positions = phases[None, :, None] + offsets[:, None, :]
    inside = positions <= last
    values = np.where(inside, n[np.minimum(positions, last)], 0.0)
    means = values.sum(axis=2) / np.maximum(inside.sum(axis=2), 1)
    means[phases[None, :] >= np.ceil(periods)[:, None]] = -np.inf
    return means


def comb_period(n: np.ndarray, lo: float, hi: float, steps: int = 32) -> float:
    """The period in [lo, hi] whose pulses (at their best phase) meet the most novelty."""
    periods = np.geomspace(lo, hi, steps)
    scores = _comb_scores(n, periods).max(axis=1)
    i = int(np.argmax(scores))
    if 0 < i < steps - 1:
        a, b, c = scores[i - 1], scores[i], scores[i + 1]
        curvature = a - 2.0 * b + c
        if curvature < 0:  # parabolic vertex on the log-period grid
            shift = 0.5 * (a - c) / curvature
            return float(periods[i] * (periods[1] / periods[0]) ** shift)
    return float(periods[i])


def local_max(values: np.ndarray, reach: int) -> np.ndarray:
    """The largest of ``values`` within ``reach`` frames of each frame (timing jitter).

    Examples
    --------
    >>> local_max(np.array([0.0, 1.0, 0.0, 0.0, 0.0]), 1)
    array([1., 1., 1., 0., 0.])
    """
    padded = np.pad(values, reach)
    return np.max([padded[k : k + len(values)] for k in range(2 * reach + 1)], axis=0)


def _offbeat_ratio(accent: np.ndarray, period: float) -> float:
    """How strong the off-beats of pulses at ``period`` are, relative to the pulses.

    The pulses and their off-beats (half a period later) together form the
    pulses of the doubled tempo; of the phase at which they meet the most
    accent, this is the weaker half's mean accent over the stronger half's.
    """
    if len(accent) < 2 * period:  # pragma: no cover - windows hold two periods of 40 BPM
        return 0.0
    # the largest accent within 3 % of a period of each frame (timing jitter)
    spread = local_max(accent, max(1, round(0.03 * period)))
    profile = _phase_means(spread, period)
    half = np.round(np.arange(len(profile)) + period / 2).astype(np.int64) % len(profile)
    pair = profile + profile[half]
    best = int(np.argmax(pair))
    strong, weak = max(profile[best], profile[half[best]]), min(profile[best], profile[half[best]])
    return float(weak / strong) if strong > 0 else 0.0


def _log_prior(bpm: np.ndarray) -> np.ndarray:
    """The log-Gaussian tempo prior (up to a constant), see PRIOR_CENTRE_BPM."""
    return -0.5 * (np.log2(bpm / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2


def _levels(accent: np.ndarray, bpm: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The metrical levels bpm * 2**k in the tactus range, and the log-score of each.

    From the slowest level at or above 40 BPM, each doubling adds the evidence
    ``log(ratio / OFFBEAT_RATIO)``, ``ratio`` being how strong the level's
    off-beats are (:func:`_offbeat_ratio`): kick and snare alternating on the
    beats (backbeat, four on the floor, the drum-and-bass two-step) favour the
    doubled level, hi-hat eighths under them do not. The tempo prior is added
    to each level's score.
    """
    level = bpm
    while level / 2 >= MIN_BPM:
        level /= 2
    levels = [level]
    evidence = [0.0]
    while 2 * levels[-1] <= MAX_TACTUS_BPM:
        ratio = _offbeat_ratio(accent, 60.0 * fps / levels[-1])
        evidence.append(evidence[-1] + math.log(max(ratio, 1e-3) / OFFBEAT_RATIO))
        levels.append(2 * levels[-1])
    out = np.array(levels)
    return out, np.array(evidence) + _log_prior(out)


# ------------------------------------------------------------- the clip's tempo
def tempo_families(
    pulse: np.ndarray, fps: float, bpms: np.ndarray, weights: np.ndarray
) -> list[tuple[float, np.ndarray]]:
    """The tempo families (tempi an octave apart) the windows propose, best first.

    Windows may disagree on the family (say 73 or 110 BPM, a 2:3 ratio). Each
    family (at most ``MAX_FAMILIES``, taken in the order of their support from
    the windows) is scored by that support times how well a steady pulse at
    its strongest tempo fits the whole clip (its salience,
    :func:`pulse_salience`). Returns ``(score, mask over the candidates)``
    pairs, highest score first; the octave inside a family stays the
    windows' (accent evidence and prior).
    """
    if len(bpms) == 0:  # pragma: no cover - every window gives at least one level
        return []
    chroma = np.mod(np.log2(bpms), 1.0)
    distance = np.abs(chroma[:, None] - chroma[None, :])
    same = np.minimum(distance, 1.0 - distance) < AGREE_OCTAVES
    support = same.astype(float) @ weights
    taken = np.zeros(len(bpms), dtype=bool)
    families: list[tuple[float, np.ndarray]] = []
    for _ in range(MAX_FAMILIES):
        free = np.where(taken, -np.inf, support)
        i = int(np.argmax(free))
        if not np.isfinite(free[i]) or free[i] <= 0:
            break
        family = same[i] & ~taken
        taken |= family
        period = 60.0 * fps / float(bpms[family][np.argmax(weights[family])])
        # the period refined on the whole clip: a steady pulse drifts off otherwise
        period = comb_period(pulse, period / (1 + 2 * STEADY), period * (1 + 2 * STEADY))
        salience = pulse_salience(pulse, np.full(len(pulse), 1.0 / period))
        families.append((float(weights[family].sum()) * max(salience, 0.0), family))
    if not families:  # pragma: no cover - the best window level has a positive weight
        return [(0.0, np.ones(len(bpms), dtype=bool))]
    return sorted(families, key=lambda f: -f[0])


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def metrical_alternatives(
    bpms: np.ndarray,
    weights: np.ndarray,
    support: np.ndarray,
    agree: np.ndarray,
    best: int,
    total: float,
) -> tuple[tuple[float, float], ...]:
    """The next best tempi (not agreeing with the chosen one, nor with each other)."""
    taken = agree[best].copy()
    out: list[tuple[float, float]] = []
    for i in np.argsort(-support):
        if len(out) == MAX_ALTERNATIVES or total <= 0:
            break
        if taken[i] or support[i] <= 0:
            continue
        group = agree[i] & ~taken
        out.append((weighted_median(bpms[group], weights[group]), float(support[i] / total)))
        taken |= agree[i]
    return tuple(out)


def _phase_contrast(pulse: np.ndarray, beats_per_frame: np.ndarray) -> float:
    """How far the novelty at the best beat phase stands out, following a tempo curve.

    Frames are binned by their phase in the beat (the integral of the tempo
    curve): the best bin's mean over the mean of all bins, in standard errors
    of a mean over as many frames.
    """
    beats = np.cumsum(beats_per_frame)
    n_bins = max(4, round(1.0 / float(np.median(beats_per_frame))))
    bins = np.minimum((np.mod(beats, 1.0) * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    profile = np.bincount(bins, weights=pulse, minlength=n_bins) / np.maximum(counts, 1)
    spread = float(pulse.std()) / math.sqrt(max(1.0, len(pulse) / n_bins))
    return float((profile.max() - profile.mean()) / spread) if spread > 0 else 0.0


def pulse_salience(pulse: np.ndarray, beats_per_frame: np.ndarray) -> float:
    """The phase contrast at the tempo curve minus its mean at tempi off by 7 to 21 %.

    Those tempi are no metrical level of the music, so their contrast is what
    chance and the novelty's own correlation give: noise, even strongly
    correlated noise, scores about the same at all tempi (0 to 3), music
    far more at its own (5 to 30).
    """
    off = [_phase_contrast(pulse, beats_per_frame * f) for f in NULL_TEMPO_FACTORS]
    return _phase_contrast(pulse, beats_per_frame) - float(np.mean(off))


def error_inflation(n: np.ndarray, fps: float) -> float:
    """How much wider the standard error of a mean of ``n`` is than over independent frames.

    The salience counts standard errors as if frames were independent; a
    novelty smoothed over neighbouring frames (the harmonic feature looks
    50 ms each way) has fewer independent frames and a salience inflated by
    this factor: ``sqrt(1 + 2 * sum(r[k]))`` over the autocorrelation's
    first positive run (Geyer 1992, the initial positive sequence), at lags
    shorter than a period of the fastest tempo searched.
    """
    r = _autocorrelation(n)[1 : max(2, int(60.0 * fps / MAX_BPM))]
    run = r[: int(np.argmax(r <= 0))] if (r <= 0).any() else r
    return math.sqrt(1.0 + 2.0 * float(run.sum()))


def window_tempo(
    pulse: np.ndarray, accent: np.ndarray, fps: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """(pulse clarity, metrical levels in BPM, their log-scores) of one analysis window."""
    r = _autocorrelation(pulse)
    lags = np.arange(int(60.0 * fps / MAX_BPM), min(int(60.0 * fps / MIN_BPM), len(r) // 2))
    if len(lags) < 3:
        # too short for two periods of the slowest tempo: no periodicity to read
        return 0.0, np.array([MIN_BPM]), np.zeros(1)
    # the family: the lag (any metrical level) where the pulse repeats best,
    # supported by twice and half the lag
    enhanced = (
        r[lags] + 0.5 * _at(r, np.minimum(2.0 * lags, len(r) - 1.0)) + 0.5 * _at(r, lags / 2.0)
    )
    lag = float(lags[int(np.argmax(enhanced))])
    period = comb_period(pulse, lag / REFINE_RANGE, lag * REFINE_RANGE)
    levels, scores = _levels(accent, 60.0 * fps / period, fps)
    return float(r[int(lag)]), levels, scores
