"""The catalog's ``trials`` table: every answer of every listening test.

One row per test, listener and trial (:class:`TrialAnswer`): the conditions
in the order their blind labels were shown, the answer, and the seconds it
took. :class:`~audiolab.listening.ListeningTest` writes here when given a
store, and reads a returning listener's answers back to resume.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> from audiolab.store.trials import TrialAnswer
>>> store = Store(tempfile.mkdtemp())
>>> store.record_trial(TrialAnswer("abx-1", "abx", "ann", 1, ("gen_a", "gen_b", "gen_a"), "A", 4.5))
>>> [(a.listener, a.answer) for a in store.trials("abx-1")]
[('ann', 'A')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from audiolab.errors import AudioError
from audiolab.store.catalog import Catalog
from audiolab.store.schema import iso

__all__ = ["TrialAnswer", "Trials"]


@dataclass(frozen=True)
class TrialAnswer:
    """One answer: a row of the catalog's ``trials`` table.

    Attributes
    ----------
    test_id, kind, listener : str
    trial : int
        1-based position in the listener's session.
    stimuli : tuple of str
        The condition behind each label, in the order the labels were shown
        (ABX: A, B, X; pairwise: A, B; MUSHRA: the reference, then 1..n).
    answer : str or tuple of float
        ``"A"`` or ``"B"`` (ABX: which one X is; pairwise: the preferred
        one), or the MUSHRA scores (0 to 100) of ``stimuli[1:]``.
    seconds : float or None
        Time the listener took.
    answered_at : datetime or None
        When (UTC).
    """

    test_id: str
    kind: str
    listener: str
    trial: int
    stimuli: tuple[str, ...]
    answer: str | tuple[float, ...]
    seconds: float | None
    answered_at: datetime | None = None


class Trials(Catalog):
    """Answers of listening tests in the catalog (a mixin over :class:`Catalog`)."""

    def record_trial(self, answer: TrialAnswer) -> None:
        """Keep ``answer``, replacing an earlier answer of the same listener to the same trial.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> store = Store(tempfile.mkdtemp())
        >>> for choice in ("A", "B"):  # a listener who changes their mind
        ...     store.record_trial(TrialAnswer("t", "abx", "ann", 1, ("a", "b", "b"), choice, 2.0))
        >>> [a.answer for a in store.trials("t")]
        ['B']
        """
        if not isinstance(answer, TrialAnswer):
            raise AudioError(f"expected a TrialAnswer, got {type(answer).__name__}")
        value = answer.answer if isinstance(answer.answer, str) else list(answer.answer)
        moment = answer.answered_at or datetime.now(timezone.utc)
        with self._write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO trials (test_id, kind, listener, trial, stimuli, answer,"
                " seconds, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer.test_id,
                    answer.kind,
                    answer.listener,
                    int(answer.trial),
                    json.dumps(list(answer.stimuli)),
                    json.dumps(value),
                    answer.seconds,
                    iso(moment),
                ),
            )

    def trials(self, test_id: str | None = None) -> list[TrialAnswer]:
        """The answers to ``test_id`` (default: of every test), by test, listener and trial.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> Store(tempfile.mkdtemp()).trials("nothing-yet")
        []
        """
        sql = "SELECT * FROM trials"
        args: tuple[str, ...] = ()
        if test_id is not None:
            sql, args = sql + " WHERE test_id = ?", (test_id,)
        rows = self._connection().execute(sql + " ORDER BY test_id, listener, trial", args)
        out = []
        for row in rows:
            answer = json.loads(row["answer"])
            out.append(
                TrialAnswer(
                    row["test_id"],
                    row["kind"],
                    row["listener"],
                    int(row["trial"]),
                    tuple(json.loads(row["stimuli"])),
                    answer if isinstance(answer, str) else tuple(float(v) for v in answer),
                    row["seconds"],
                    None
                    if row["answered_at"] is None
                    else datetime.fromisoformat(row["answered_at"]),
                )
            )
        return out
