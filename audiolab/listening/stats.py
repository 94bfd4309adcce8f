"""The statistics of listening tests: ABX binomial test, Bradley–Terry strengths, MUSHRA.

numpy and the standard library (scipy only for Student's t quantile).

* :func:`binomial_p_value`: the exact one-sided binomial test of an ABX run,
  the chance of at least that many correct answers by guessing.
* :func:`bradley_terry`: strengths of conditions from paired preferences,
  by Newton's method on the log-likelihood of the Bradley–Terry model
  ``P(i preferred to j) = 1 / (1 + exp(s_j - s_i))``, with Wald intervals.
* :func:`mean_interval`: a mean and its Student-t confidence interval, as
  ITU-R BS.1534-3 (section 9.2) asks for MUSHRA scores.
* :func:`mushra_post_screening`: BS.1534-3's exclusion of assessors who
  cannot tell the hidden reference or the anchor (section 4.1.2).

Examples
--------
>>> from audiolab.listening.stats import binomial_p_value
>>> round(binomial_p_value(14, 16), 4)  # 14 of 16 ABX trials right
0.0021
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from audiolab.errors import AudioError

__all__ = [
    "BradleyTerry",
    "binomial_p_value",
    "bradley_terry",
    "mean_interval",
    "mushra_post_screening",
]

#: BS.1534-3 section 4.1.2: an assessor who rates the hidden reference under this
#: score (or the anchor over it) in more than the share of items below is excluded.
SCREENING_SCORE = 90.0
SCREENING_SHARE = 0.15


def binomial_p_value(correct: int, total: int, chance: float = 0.5) -> float:
    """The chance of ``correct`` or more right answers out of ``total`` by guessing.

    The exact one-sided binomial test: ``sum(C(n, k) p^k (1-p)^(n-k))`` for
    ``k >= correct``. An ABX listener who hears no difference is right with
    probability one half on each trial.

    Parameters
    ----------
    correct : int
        Right answers.
    total : int
        Trials.
    chance : float
        Probability of a right answer by guessing.

    Returns
    -------
    float
        1.0 when ``correct`` is 0 (or no trial was answered).

    Examples
    --------
    >>> binomial_p_value(16, 16) == 0.5**16
    True
    >>> binomial_p_value(8, 16) > 0.5
    True
    """
    if not (0 <= correct <= total) or isinstance(correct, bool):
        raise AudioError(f"correct must be between 0 and total ({total}), got {correct!r}")
    if not 0.0 < chance < 1.0:
        raise AudioError(f"chance must be between 0 and 1, got {chance!r}")
    if total == 0 or correct == 0:
        return 1.0
    if chance == 0.5:  # exact in integers
        return sum(math.comb(total, k) for k in range(correct, total + 1)) / 2**total
    tail = sum(
        math.comb(total, k) * chance**k * (1.0 - chance) ** (total - k)
        for k in range(correct, total + 1)
    )
    return min(1.0, tail)


@dataclass(frozen=True)
class BradleyTerry:
    """Bradley–Terry strengths of conditions, on the log-odds scale, centred on 0.

    ``exp(strengths[i] - strengths[j])`` is the odds that ``i`` is preferred
    to ``j``.

    Attributes
    ----------
    strengths, standard_errors, ci_low, ci_high : numpy.ndarray
        One per condition; the interval is ``strength ± z * standard error``
        (Wald) at the ``confidence`` asked for.
    wins, comparisons : numpy.ndarray
        Times each condition was preferred, and took part in a comparison.
    confidence : float
    """

    strengths: np.ndarray
    standard_errors: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    wins: np.ndarray
    comparisons: np.ndarray
    confidence: float


def _normal_quantile(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def bradley_terry(
    winners: Sequence[int],
    losers: Sequence[int],
    n_conditions: int,
    *,
    confidence: float = 0.95,
    prior_sd: float = 10.0,
) -> BradleyTerry:
    """Bradley–Terry strengths from paired preferences.

    The maximum of the log-likelihood with a weak normal prior on the
    strengths (sd ``prior_sd`` on the log-odds scale): without it the
    strength of a condition that won every comparison would be infinite; with
    it, such a strength is large and its interval very wide, as it should be.
    The prior also centres the strengths on 0. Intervals come from the
    curvature of the log-likelihood (the inverse of the observed information,
    projected on strengths that sum to 0).

    Parameters
    ----------
    winners, losers : sequence of int
        For each comparison, the index of the preferred and of the other condition.
    n_conditions : int
        How many conditions there are (some may never have been compared).
    confidence : float
        Of the intervals.
    prior_sd : float
        Standard deviation of the prior on each strength.

    Returns
    -------
    BradleyTerry

    Examples
    --------
    >>> bt = bradley_terry([0, 0, 0, 1], [1, 1, 1, 0], 2)  # 0 preferred 3 times of 4
    >>> round(float(bt.strengths[0] - bt.strengths[1]), 2)  # log(3): the odds are 3 to 1
    1.09
    """
    w = np.asarray(winners, dtype=np.int64)
    lo = np.asarray(losers, dtype=np.int64)
    n = int(n_conditions)
    if w.shape != lo.shape or w.ndim != 1:
        raise AudioError(
            f"winners and losers must be two lists of one length, got {w.shape}, {lo.shape}"
        )
    if n < 2 or (w.size and (min(w.min(), lo.min()) < 0 or max(w.max(), lo.max()) >= n)):
        raise AudioError(f"condition indices must be in 0..{n - 1} (at least 2 conditions)")
    if np.any(w == lo):
        raise AudioError("a condition was compared with itself")
    if not 0.0 < confidence < 1.0:
        raise AudioError(f"confidence must be between 0 and 1, got {confidence!r}")
    counts = np.zeros((n, n))  # counts[i, j]: times i was preferred to j
    np.add.at(counts, (w, lo), 1.0)
    pairs = counts + counts.T
    wins = counts.sum(axis=1)
    penalty = 1.0 / prior_sd**2
    # The likelihood does not change when every strength moves by the same amount:
    # adding ones(n, n) / n to the information fixes that direction (the strengths
    # stay centred) without touching the others, and keeps the solves well conditioned.
    flat = np.full((n, n), 1.0 / n)
    s = np.zeros(n)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(s[None, :] - s[:, None]))  # p[i, j] = P(i over j)
        gradient = wins - (pairs * p).sum(axis=1) - penalty * s
        weight = pairs * p * (1.0 - p)
        information = np.diag(weight.sum(axis=1) + penalty) - weight
        step = np.linalg.solve(information + flat, gradient)
        s += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = 1.0 / (1.0 + np.exp(s[None, :] - s[:, None]))
    weight = pairs * p * (1.0 - p)
    information = np.diag(weight.sum(axis=1) + penalty) - weight
    centre = np.eye(n) - flat
    covariance = centre @ np.linalg.inv(information + flat) @ centre
    se = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    z = _normal_quantile(confidence)
    return BradleyTerry(s, se, s - z * se, s + z * se, wins, pairs.sum(axis=1), confidence)


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` and its Student-t confidence interval.

    ``mean ± t(1 - (1 - confidence) / 2, n - 1) * s / sqrt(n)``, with ``s``
    the sample standard deviation: BS.1534-3 section 9.2.

    Parameters
    ----------
    values : sequence of float
        Scores.
    confidence : float
        Of the interval.

    Returns
    -------
    (mean, low, high) : tuple of float
        NaN bounds for fewer than two values; NaN everything for none.

    Examples
    --------
    >>> mean, low, high = mean_interval([60, 70, 80])
    >>> mean, round(low, 1), round(high, 1)  # t(0.975, 2) = 4.303, s = 10
    (70.0, 45.2, 94.8)
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t

    half = (
        float(t.ppf(0.5 + confidence / 2.0, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    )
    return mean, mean - half, mean + half


def mushra_post_screening(
    ratings: Mapping[str, Mapping[str, Mapping[str, float]]],
    hidden_reference: str,
    anchor: str | None,
) -> dict[str, str]:
    """Assessors to exclude from a MUSHRA test, and why (BS.1534-3 section 4.1.2).

    An assessor is excluded who rates the hidden reference lower than 90 for
    more than 15 % of the items, or the (mid-range) anchor higher than 90 for
    more than 15 % of the items.

    Parameters
    ----------
    ratings : mapping
        ``ratings[listener][item][condition]`` = score from 0 to 100.
    hidden_reference : str
        The hidden reference's condition name.
    anchor : str or None
        The anchor whose rule applies (BS.1534-3 names the mid-range anchor;
        with only the low anchor, the rule is applied to it), or None.

    Returns
    -------
    dict
        Listener -> the reason (listeners to keep are absent).

    Examples
    --------
    >>> ratings = {
    ...     "ann": {"i1": {"ref": 100, "lp": 20}, "i2": {"ref": 95, "lp": 30}},
    ...     "bob": {"i1": {"ref": 40, "lp": 20}, "i2": {"ref": 100, "lp": 30}},
    ... }
    >>> mushra_post_screening(ratings, "ref", "lp")
    {'bob': 'rated the hidden reference under 90 in 1 of 2 items'}
    """
    excluded: dict[str, str] = {}
    for listener, items in ratings.items():
        rated = [scores for scores in items.values() if hidden_reference in scores]
        if not rated:
            continue
        low = sum(scores[hidden_reference] < SCREENING_SCORE for scores in rated)
        if low > SCREENING_SHARE * len(rated):
            excluded[listener] = (
                f"rated the hidden reference under {SCREENING_SCORE:g} "
                f"in {low} of {len(rated)} items"
            )
            continue
        if anchor is None:
            continue
        anchored = [scores for scores in items.values() if anchor in scores]
        high = sum(scores[anchor] > SCREENING_SCORE for scores in anchored)
        if anchored and high > SCREENING_SHARE * len(anchored):
            excluded[listener] = (
                f"rated the anchor over {SCREENING_SCORE:g} in {high} of {len(anchored)} items"
            )
    return excluded
