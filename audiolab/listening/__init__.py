"""Blind, loudness-matched listening tests in a notebook: ABX, pairwise preference, MUSHRA.

``ListeningTest(takes, kind=...)`` holds the state of one listener's session:
the stimuli, the trials in the order this listener hears them, and the
answers. It runs headless (``test.current``, ``test.answer(...)``), and
``display(test)`` shows it as an ipywidgets app (:mod:`audiolab.ui.listening_app`)
that does nothing but call those two.

What makes the comparison fair:

* **Loudness-matched.** Every stimulus goes through :func:`audiolab.normalize`
  to one integrated loudness under a true-peak ceiling (by default the
  loudest level every stimulus reaches by gain alone, at most -16 LUFS, so no
  limiter alters what is judged), and is measured afterwards: the stimuli of
  a test measure within 0.1 LU of each other, or the test refuses to start.
  The louder take cannot win by being louder.
* **Blind.** The listener sees labels only (A, B, X; 1, 2, 3...); which
  take a label plays is recorded with the answer, never shown.
* **Randomized from the seed.** The order of the trials, the side each take
  is on and which of A and B is X come from ``(seed, listener)``: the same
  seed and listener give the same session again; two listeners hear
  different orders.
* **MUSHRA as ITU-R BS.1534-3 asks**: the reference, a hidden copy of it,
  and an anchor low-passed at 3.5 kHz (optionally a mid anchor at 7 kHz)
  among the conditions, and the post-screening of listeners in the results.

Answers go to a recorder: the catalog when ``store=`` is a
:class:`~audiolab.store.Store` (its ``trials`` table), otherwise a
:class:`MemoryRecorder` (pass one recorder to several tests to collect
several listeners). :meth:`ListeningTest.results` gives the statistics
(:mod:`audiolab.listening.stats`).

Examples
--------
>>> from audiolab import synth
>>> from audiolab.listening import ListeningTest
>>> takes = {
...     "house": synth.reference(124, "A minor", duration=2.0, sr=16000),
...     "techno": synth.reference(132, "A minor", duration=2.0, sr=16000, pattern="breakbeat"),
... }
>>> test = ListeningTest(takes, kind="abx", trials=4, seed=1, listener="ann")
>>> while test.current is not None:
...     trial = test.current
...     x_is_a = trial.stimuli[2] == trial.stimuli[0]  # a listener who hears it
...     _ = test.answer("A" if x_is_a else "B", seconds=3.0)
>>> results = test.results()
>>> results.correct, results.total, round(results.p_value, 4)
(4, 4, 0.0625)
"""

from audiolab.listening.recording import MemoryRecorder, Recorder, Trial, TrialAnswer
from audiolab.listening.session import (
    ANCHOR,
    HIDDEN_REFERENCE,
    KINDS,
    MID_ANCHOR,
    ListeningTest,
)
from audiolab.listening.stimuli import MATCH_LU, Stimulus, low_pass, match_loudness

__all__ = [
    "ANCHOR",
    "HIDDEN_REFERENCE",
    "KINDS",
    "MATCH_LU",
    "MID_ANCHOR",
    "ListeningTest",
    "MemoryRecorder",
    "Recorder",
    "Stimulus",
    "Trial",
    "TrialAnswer",
    "low_pass",
    "match_loudness",
]
