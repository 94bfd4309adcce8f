"""Trials and answers of a listening test, and where answers go.

A :class:`Trial` is what one listener gets (conditions behind blind labels);
a :class:`~audiolab.store.trials.TrialAnswer` is one row of the catalog's
``trials`` table (declared by the store, which keeps them). A
:class:`Recorder` keeps answers: :class:`MemoryRecorder`, or a
:class:`~audiolab.store.Store` (its ``trials`` table).

Examples
--------
>>> from audiolab.listening.recording import MemoryRecorder, TrialAnswer
>>> recorder = MemoryRecorder()
>>> recorder.record_trial(TrialAnswer("t", "abx", "ann", 1, ("a", "b", "b"), "B", 3.2))
>>> recorder.trials("t")[0].answer
'B'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from audiolab.store.trials import TrialAnswer

__all__ = ["MemoryRecorder", "Recorder", "Trial", "TrialAnswer"]


@dataclass(frozen=True)
class Trial:
    """One trial as one listener gets it.

    Attributes
    ----------
    index : int
        1-based position in the session.
    stimuli : tuple of str
        Condition of each label, in the order of ``labels``.
    labels : tuple of str
        What the listener sees: ``("A", "B", "X")`` (ABX), ``("A", "B")``
        (pairwise), ``("reference", "1", ..., "n")`` (MUSHRA; the rated
        conditions are ``stimuli[1:]``).
    item : str or None
        The MUSHRA item (the programme the conditions are versions of).
    """

    index: int
    stimuli: tuple[str, ...]
    labels: tuple[str, ...]
    item: str | None = None


class Recorder(Protocol):
    """Where answers go: :class:`MemoryRecorder`, or a :class:`~audiolab.store.Store`."""

    def record_trial(self, answer: TrialAnswer) -> None:
        """Keep one answer (replacing an earlier answer to the same trial)."""

    def trials(self, test_id: str) -> list[TrialAnswer]:
        """Every answer to a test, of every listener."""


class MemoryRecorder:
    """Answers kept in memory (lost with the kernel); thread-safe.

    Examples
    --------
    >>> recorder = MemoryRecorder()
    >>> recorder.record_trial(TrialAnswer("t", "abx", "ann", 1, ("a", "b", "a"), "A", 2.0))
    >>> [a.answer for a in recorder.trials("t")]
    ['A']
    """

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, int], TrialAnswer] = {}
        self._lock = threading.Lock()

    def record_trial(self, answer: TrialAnswer) -> None:
        """Keep ``answer``, replacing an earlier one to the same trial of the same listener."""
        with self._lock:
            self._answers[(answer.test_id, answer.listener, answer.trial)] = answer

    def trials(self, test_id: str) -> list[TrialAnswer]:
        """The answers to ``test_id``, by listener and trial."""
        with self._lock:
            found = [a for key, a in self._answers.items() if key[0] == test_id]
        return sorted(found, key=lambda a: (a.listener, a.trial))
