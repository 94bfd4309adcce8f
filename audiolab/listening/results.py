"""The results of a listening test: its answers as a table, and the statistics of its kind.

:func:`summarize` turns the answers of every listener
(:class:`~audiolab.listening.TrialAnswer`) into a :class:`ListeningResults`:

* ABX: right answers and the one-sided binomial p-value, per listener and
  over all listeners together;
* pairwise: Bradley–Terry strengths of the conditions with 95 % intervals;
* MUSHRA: the listeners excluded by BS.1534-3's post-screening, and the mean
  score of each condition with its 95 % Student-t interval over the others.

pandas builds the tables (``pip install audiolab[eval]``).

Examples
--------
>>> from audiolab.listening import TrialAnswer
>>> from audiolab.listening.results import summarize
>>> answers = [TrialAnswer("t", "abx", "ann", k, ("a", "b", "a"), "A", 2.0) for k in (1, 2, 3)]
>>> summarize("t", "abx", answers, conditions=["a", "b"]).summary()
'ABX: 3 of 3 right, p = 0.125 (one-sided binomial test)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from audiolab.errors import AudioError
from audiolab.listening.stats import (
    binomial_p_value,
    bradley_terry,
    mean_interval,
    mushra_post_screening,
)

__all__ = ["ListeningResults", "summarize"]

TRIAL_COLUMNS = ("test_id", "kind", "listener", "trial", "stimuli", "answer", "seconds")


@dataclass(frozen=True, eq=False)
class ListeningResults:
    """Answers and statistics of one listening test.

    Attributes
    ----------
    test_id, kind : str
    trials : pandas.DataFrame
        One row per answer: test id, kind, listener, trial, stimuli (the
        conditions in the order their labels were shown), answer, seconds,
        and ``correct`` (ABX) or ``preferred`` (pairwise).
    table : pandas.DataFrame
        ABX: ``listener, trials, correct, p_value`` (the last row, ``all``,
        pools every listener). Pairwise: ``condition, strength, ci_low,
        ci_high, standard_error, wins, comparisons``, strongest first.
        MUSHRA: ``condition, mean, ci_low, ci_high, ratings``, best first.
    correct, total : int or None
        ABX, over all listeners.
    p_value : float or None
        ABX: the chance of at least ``correct`` right answers by guessing.
    excluded : dict
        MUSHRA: listener -> why the post-screening left them out.
    confidence : float
        Of the intervals.
    """

    test_id: str
    kind: str
    trials: Any = field(repr=False)
    table: Any = field(repr=False)
    correct: int | None = None
    total: int | None = None
    p_value: float | None = None
    excluded: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.95

    def summary(self) -> str:
        """One line that says what the test found.

        Examples
        --------
        >>> from audiolab.listening import TrialAnswer
        >>> a = [TrialAnswer("t", "pairwise", "ann", 1, ("x", "y"), "A", 1.0)]
        >>> summarize("t", "pairwise", a, conditions=["x", "y"]).summary()
        'pairwise: x > y (Bradley–Terry, 1 comparison)'
        """
        if self.kind == "abx":
            return (
                f"ABX: {self.correct} of {self.total} right, p = {self.p_value:.3g} "
                "(one-sided binomial test)"
            )
        if self.kind == "pairwise":
            order = " > ".join(self.table["condition"])
            n = len(self.trials)
            return f"pairwise: {order} (Bradley–Terry, {n} comparison{'s' * (n != 1)})"
        best = self.table.iloc[0] if len(self.table) else None
        kept = self.trials["listener"].nunique() - len(self.excluded)
        head = "" if best is None else f"best {best['condition']} at {best['mean']:.1f}; "
        return (
            f"MUSHRA: {head}{kept} listeners kept, {len(self.excluded)} excluded by post-screening"
        )


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the eval and dev extras
        raise ImportError("listening results need pandas: pip install audiolab[eval]") from None
    return pd


def _condition(key: str, conditions: Sequence[str]) -> tuple[str | None, str]:
    """(item, condition) of a stimulus key: a condition, or ``item k/condition``."""
    if key in conditions:
        return None, key
    for condition in conditions:
        if key.endswith("/" + condition):
            return key[: -len(condition) - 1], condition
    return None, key


def summarize(
    test_id: str,
    kind: str,
    answers: Sequence[Any],
    *,
    conditions: Sequence[str],
    anchor: str | None = None,
    hidden_reference: str = "hidden reference",
    confidence: float = 0.95,
) -> ListeningResults:
    """The statistics of a test's answers (see the module docstring).

    Parameters
    ----------
    test_id, kind : str
        The test.
    answers : sequence of TrialAnswer
        Every listener's answers.
    conditions : sequence of str
        The conditions (for MUSHRA with the hidden reference and anchors).
    anchor : str, optional
        MUSHRA: the anchor of the post-screening.
    hidden_reference : str
        MUSHRA: the hidden reference's condition name.
    confidence : float
        Of the intervals.

    Returns
    -------
    ListeningResults

    Examples
    --------
    >>> from audiolab.listening import TrialAnswer
    >>> a = [TrialAnswer("t", "mushra", "ann", 1, ("ref", "hidden reference", "lp"), (100, 20), 9)]
    >>> summarize("t", "mushra", a, conditions=["hidden reference", "lp"]).table["mean"].tolist()
    [100.0, 20.0]
    """
    pd = _pandas()
    rows = [
        {
            "test_id": a.test_id,
            "kind": a.kind,
            "listener": a.listener,
            "trial": a.trial,
            "stimuli": list(a.stimuli),
            "answer": a.answer if isinstance(a.answer, str) else list(a.answer),
            "seconds": a.seconds,
        }
        for a in answers
    ]
    trials = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
    if kind == "abx":
        return _abx(test_id, trials, confidence)
    if kind == "pairwise":
        return _pairwise(test_id, trials, conditions, confidence)
    if kind == "mushra":
        return _mushra(test_id, trials, conditions, anchor, hidden_reference, confidence)
    raise AudioError(f"kind must be abx, pairwise or mushra, got {kind!r}")


def _abx(test_id: str, trials: Any, confidence: float) -> ListeningResults:
    pd = _pandas()
    trials["correct"] = [
        s["AB".index(a)] == s[2] for s, a in zip(trials["stimuli"], trials["answer"], strict=True)
    ]
    rows = []
    for listener, group in trials.groupby("listener", sort=True):
        right = int(group["correct"].sum())
        rows.append((listener, len(group), right, binomial_p_value(right, len(group))))
    correct, total = int(trials["correct"].sum()), len(trials)
    p_value = binomial_p_value(correct, total)
    rows.append(("all", total, correct, p_value))
    table = pd.DataFrame(rows, columns=["listener", "trials", "correct", "p_value"])
    return ListeningResults(
        test_id, "abx", trials, table, correct, total, p_value, confidence=confidence
    )


def _pairwise(
    test_id: str, trials: Any, conditions: Sequence[str], confidence: float
) -> ListeningResults:
    pd = _pandas()
    trials["preferred"] = [
        s["AB".index(a)] for s, a in zip(trials["stimuli"], trials["answer"], strict=True)
    ]
    index = {name: k for k, name in enumerate(conditions)}
    winners = [index[p] for p in trials["preferred"]]
    losers = [
        index[s[1 - "AB".index(a)]]
        for s, a in zip(trials["stimuli"], trials["answer"], strict=True)
    ]
    bt = bradley_terry(winners, losers, len(conditions), confidence=confidence)
    table = pd.DataFrame(
        {
            "condition": list(conditions),
            "strength": bt.strengths,
            "ci_low": bt.ci_low,
            "ci_high": bt.ci_high,
            "standard_error": bt.standard_errors,
            "wins": bt.wins.astype(int),
            "comparisons": bt.comparisons.astype(int),
        }
    )
    table = table.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)
    return ListeningResults(test_id, "pairwise", trials, table, confidence=confidence)


def _mushra(
    test_id: str,
    trials: Any,
    conditions: Sequence[str],
    anchor: str | None,
    hidden_reference: str,
    confidence: float,
) -> ListeningResults:
    pd = _pandas()
    ratings: dict[str, dict[str, dict[str, float]]] = {}
    for listener, stimuli, answer in zip(
        trials["listener"], trials["stimuli"], trials["answer"], strict=True
    ):
        for key, score in zip(stimuli[1:], answer, strict=True):
            item, condition = _condition(key, conditions)
            ratings.setdefault(listener, {}).setdefault(item or "item 1", {})[condition] = score
    excluded = mushra_post_screening(ratings, hidden_reference, anchor)
    rows = []
    for condition in conditions:
        scores = [
            item[condition]
            for listener, items in ratings.items()
            if listener not in excluded
            for item in items.values()
            if condition in item
        ]
        mean, low, high = mean_interval(scores, confidence)
        rows.append((condition, mean, low, high, len(scores)))
    table = pd.DataFrame(rows, columns=["condition", "mean", "ci_low", "ci_high", "ratings"])
    table = table.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)
    return ListeningResults(
        test_id, "mushra", trials, table, excluded=excluded, confidence=confidence
    )
