"""One listener's session of a listening test: its trials in order, and the answers.

See :mod:`audiolab.listening` for what makes the test fair.

Examples
--------
>>> from audiolab.listening import ListeningTest
>>> from audiolab.testing import programme
>>> test = ListeningTest([(programme(1, 8000), 8000), (programme(1, 8000, seed=1), 8000)],
...                      kind="abx", trials=2, seed=0, listener="ann")
>>> test.current.labels, len(test.trials)
(('A', 'B', 'X'), 2)
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
import zlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np

from audiolab._takes import Clip, as_clips
from audiolab.errors import AudioError
from audiolab.listening.recording import MemoryRecorder, Recorder, Trial, TrialAnswer
from audiolab.listening.stimuli import low_pass, match_loudness, wav_bytes

__all__ = ["ANCHOR", "HIDDEN_REFERENCE", "KINDS", "MID_ANCHOR", "ListeningTest"]

KINDS = ("abx", "pairwise", "mushra")
#: Condition names of what MUSHRA adds (BS.1534-3 sections 4.1 and 5.1).
HIDDEN_REFERENCE = "hidden reference"
ANCHOR = "anchor 3.5 kHz"
MID_ANCHOR = "anchor 7 kHz"
ANCHOR_HZ = 3500.0
MID_ANCHOR_HZ = 7000.0
_DEFAULT_TRIALS = {"abx": 16, "pairwise": 2}


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise AudioError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return str(kind)


class ListeningTest:
    """One listener's session of a blind, loudness-matched listening test.

    Parameters
    ----------
    takes : mapping or sequence of takes
        Paths, catalog Records, Generations, ``(audio, sample_rate)`` pairs
        (see :mod:`audiolab._takes`); a mapping's keys name them. ABX takes
        two. Pairwise takes two or more. MUSHRA takes the conditions of one
        item as a mapping, or a list of such mappings for several items (the
        same condition names in each).
    kind : {'abx', 'pairwise', 'mushra'}
    seed : int, optional
        With the listener, fixes the order (default: a random seed, kept in
        ``test.seed``).
    store : Store or Recorder, optional
        Where answers go (default: a new :class:`MemoryRecorder`).
    listener : str, optional
        Who listens (default: a random ``listener-xxxxxx``). A listener who
        comes back with the same seed resumes where they stopped.
    trials : int, optional
        ABX: trials (default 16; 14 of 16 right is p = 0.002). Pairwise: how
        often each pair is heard (default 2, once on each side).
    reference : str, optional
        MUSHRA: the condition that is the reference (default the first).
    mid_anchor : bool
        MUSHRA: add the 7 kHz mid anchor too (the post-screening then uses it).
    target_lufs, true_peak_db : float
        The matched level (default: see :func:`match_loudness`) and ceiling.
    test_id : str, optional
        Default: from the kind, the options and the audio, so that listeners
        of the same takes share one id.

    Examples
    --------
    >>> import numpy as np
    >>> from audiolab.testing import programme
    >>> takes = [(programme(1.0, 16000, seed=s), 16000) for s in (1, 2, 3)]
    >>> test = ListeningTest(takes, kind="pairwise", seed=0, listener="ann")
    >>> len(test.trials), test.current.labels
    (6, ('A', 'B'))
    """

    def __init__(
        self,
        takes: Any,
        kind: str = "abx",
        *,
        seed: int | None = None,
        store: Any = None,
        listener: str | None = None,
        trials: int | None = None,
        reference: str | None = None,
        mid_anchor: bool = False,
        target_lufs: float | None = None,
        true_peak_db: float = -1.0,
        test_id: str | None = None,
    ) -> None:
        self.kind = _check_kind(kind)
        self.seed = int(seed) if seed is not None else secrets.randbelow(2**31)
        self.listener = str(listener) if listener else f"listener-{secrets.token_hex(3)}"
        self.recorder: Recorder = store if store is not None else MemoryRecorder()
        count = _DEFAULT_TRIALS.get(self.kind, 1) if trials is None else trials
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise AudioError(f"trials must be a positive integer, got {trials!r}")
        self.items: list[str | None] = [None]
        self.anchors: tuple[str, ...] = ()
        self.reference: str | None = None
        clips = self._conditions(takes, reference, mid_anchor)
        self.stimuli = {
            s.name: s
            for s in match_loudness(clips, target_lufs=target_lufs, true_peak_db=true_peak_db)
        }
        self.test_id = test_id or self._default_id(count, reference, mid_anchor)
        rng = np.random.default_rng([self.seed, zlib.crc32(self.listener.encode())])
        self.trials = self._design(rng, count)
        self._answers: dict[int, TrialAnswer] = {}
        self._shown: dict[int, float] = {}
        self._wav: dict[str, bytes] = {}
        self._resume()

    # ------------------------------------------------------------ setup
    def _conditions(self, takes: Any, reference: str | None, mid_anchor: bool) -> list[Clip]:
        if self.kind != "mushra":
            clips = as_clips(takes)
            if self.kind == "abx" and len(clips) != 2:
                raise AudioError(f"an ABX test compares two takes, got {len(clips)}")
            if len(clips) < 2:
                raise AudioError(f"a pairwise test needs at least two takes, got {len(clips)}")
            self.conditions = [c.name for c in clips]
            return clips
        groups = [takes] if isinstance(takes, Mapping) else list(takes)
        if not groups or not all(isinstance(g, Mapping) for g in groups):
            raise AudioError(
                "MUSHRA takes are a mapping {condition: take}, or a list of them (one per item)"
            )
        item_clips = [as_clips(g) for g in groups]
        names = [c.name for c in item_clips[0]]
        for clips in item_clips[1:]:
            if sorted(c.name for c in clips) != sorted(names):
                raise AudioError(f"every MUSHRA item needs the conditions {names}")
        reference = names[0] if reference is None else reference
        if reference not in names:
            raise AudioError(f"reference {reference!r} is not one of the conditions {names}")
        for reserved in (HIDDEN_REFERENCE, ANCHOR, MID_ANCHOR):
            if reserved in names:
                raise AudioError(f"{reserved!r} is the name MUSHRA gives its own condition")
        anchors = [(ANCHOR, ANCHOR_HZ)] + ([(MID_ANCHOR, MID_ANCHOR_HZ)] if mid_anchor else [])
        self.anchors = tuple(name for name, _ in anchors)
        self.reference = reference
        self.conditions = [HIDDEN_REFERENCE, *self.anchors, *(n for n in names if n != reference)]
        self.items = [f"item {i}" for i in range(1, len(groups) + 1)]
        out = []
        for item, clips in zip(self.items, item_clips, strict=True):
            ref = next(c for c in clips if c.name == reference)
            extra = [Clip(HIDDEN_REFERENCE, ref.audio, ref.sample_rate)]
            extra += [
                Clip(name, low_pass(ref.audio, ref.sample_rate, hz), ref.sample_rate)
                for name, hz in anchors
            ]
            for clip in [*clips, *extra]:
                out.append(
                    Clip(self._key(item, clip.name), clip.audio, clip.sample_rate, clip.job_id)
                )
        return out

    def _key(self, item: str | None, condition: str) -> str:
        return condition if item is None or len(self.items) == 1 else f"{item}/{condition}"

    def _default_id(self, count: int, reference: str | None, mid_anchor: bool) -> str:
        digest = hashlib.sha256(f"{self.kind}|{count}|{reference}|{mid_anchor}".encode())
        for stimulus in self.stimuli.values():
            digest.update(stimulus.name.encode())
            digest.update(np.ascontiguousarray(stimulus.audio, dtype=np.float32).tobytes())
        return f"{self.kind}-{digest.hexdigest()[:12]}"

    def _design(self, rng: np.random.Generator, count: int) -> list[Trial]:
        rows: list[tuple[tuple[str, ...], tuple[str, ...], str | None]] = []
        if self.kind == "abx":
            a, b = self.conditions
            for _ in range(count):
                first, second = (a, b) if rng.random() < 0.5 else (b, a)
                x = first if rng.random() < 0.5 else second
                rows.append(((first, second, x), ("A", "B", "X"), None))
        elif self.kind == "pairwise":
            for i, j in itertools.combinations(self.conditions, 2):
                sides = [(i, j), (j, i)] * (count // 2)
                if count % 2:
                    sides.append((i, j) if rng.random() < 0.5 else (j, i))
                rows += [(pair, ("A", "B"), None) for pair in sides]
        else:
            for item in self.items:
                order = [self.conditions[k] for k in rng.permutation(len(self.conditions))]
                stimuli = tuple(self._key(item, c) for c in [self.reference, *order])
                labels = ("reference", *(str(k) for k in range(1, len(order) + 1)))
                rows.append((stimuli, labels, item))
        shuffled = rng.permutation(len(rows))
        return [Trial(n, *rows[k]) for n, k in enumerate(shuffled, 1)]

    def _resume(self) -> None:
        for answer in self.recorder.trials(self.test_id):
            if answer.listener != self.listener:
                continue
            trial = self.trials[answer.trial - 1] if answer.trial <= len(self.trials) else None
            if trial is None or tuple(answer.stimuli) != trial.stimuli:
                raise AudioError(
                    f"listener {self.listener!r} answered test {self.test_id} in another order: "
                    "pass the seed of that session, or another listener"
                )
            self._answers[answer.trial] = answer

    # ------------------------------------------------------------ the session
    @property
    def current(self) -> Trial | None:
        """The first unanswered trial (its clock starts now), or None when all are answered."""
        for trial in self.trials:
            if trial.index not in self._answers:
                self._shown.setdefault(trial.index, time.monotonic())
                return trial
        return None

    @property
    def done(self) -> bool:
        """Whether every trial is answered.

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=1).done
        False
        """
        return len(self._answers) == len(self.trials)

    @property
    def answered(self) -> int:
        """How many trials are answered."""
        return len(self._answers)

    def audio(self, trial: Trial, label: str) -> np.ndarray:
        """The matched audio that ``label`` plays in ``trial`` (``(channels, samples)``).

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=1)
        >>> test.audio(test.current, "X").shape
        (2, 8000)
        """
        return self.stimuli[self._stimulus_of(trial, label)].audio

    def wav(self, trial: Trial, label: str) -> bytes:
        """The 16-bit WAV file a player gets for ``label`` in ``trial``.

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=1)
        >>> test.wav(test.current, "A")[:4]
        b'RIFF'
        """
        name = self._stimulus_of(trial, label)
        if name not in self._wav:
            stimulus = self.stimuli[name]
            self._wav[name] = wav_bytes(stimulus.audio, stimulus.sample_rate)
        return self._wav[name]

    def _stimulus_of(self, trial: Trial, label: str) -> str:
        if label not in trial.labels:
            raise AudioError(f"trial {trial.index} has the labels {trial.labels}, not {label!r}")
        return trial.stimuli[trial.labels.index(label)]

    def answer(self, choice: Any, *, seconds: float | None = None) -> TrialAnswer:
        """Answer the current trial.

        Parameters
        ----------
        choice : str or sequence of float or mapping
            ABX: ``"A"`` or ``"B"``, the one X is. Pairwise: the preferred one.
            MUSHRA: the scores (0 to 100) of the labels ``"1"`` .. ``"n"``, as a
            sequence in that order or a mapping label -> score.
        seconds : float, optional
            Time the listener took (default: since the trial was first shown).

        Returns
        -------
        TrialAnswer
            What was recorded.

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=1)
        >>> test.answer("A", seconds=1.5).seconds, test.done
        (1.5, True)
        """
        trial = self.current
        if trial is None:
            raise AudioError(f"every trial of test {self.test_id} is answered")
        value = self._check_choice(trial, choice)
        if seconds is None:
            seconds = time.monotonic() - self._shown.get(trial.index, time.monotonic())
        record = TrialAnswer(
            self.test_id,
            self.kind,
            self.listener,
            trial.index,
            trial.stimuli,
            value,
            float(seconds),
            datetime.now(timezone.utc),
        )
        self.recorder.record_trial(record)
        self._answers[trial.index] = record
        return record

    def _check_choice(self, trial: Trial, choice: Any) -> str | tuple[float, ...]:
        if self.kind != "mushra":
            if choice not in ("A", "B"):
                raise AudioError(f"answer 'A' or 'B', got {choice!r}")
            return str(choice)
        rated = trial.labels[1:]
        if isinstance(choice, Mapping):
            if sorted(choice) != sorted(rated):
                raise AudioError(f"rate each of {list(rated)}, got {sorted(choice)}")
            choice = [choice[label] for label in rated]
        scores = tuple(float(v) for v in choice)
        if len(scores) != len(rated) or not all(0.0 <= v <= 100.0 for v in scores):
            raise AudioError(f"give {len(rated)} scores from 0 to 100, got {choice!r}")
        return scores

    def results(self) -> Any:
        """Every listener's answers to this test and their statistics.

        Returns
        -------
        audiolab.listening.results.ListeningResults

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=2)
        >>> _ = test.answer("A"); _ = test.answer("B")
        >>> test.results().total
        2
        """
        from audiolab.listening.results import summarize

        return summarize(
            self.test_id,
            self.kind,
            self.recorder.trials(self.test_id),
            conditions=self.conditions,
            anchor=(self.anchors[-1] if self.anchors else None),
            hidden_reference=HIDDEN_REFERENCE,
        )

    # ------------------------------------------------------------ display
    @property
    def widget(self) -> Any:
        """The ipywidgets app of this session (made on first use).

        Examples
        --------
        >>> from audiolab.testing import programme
        >>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=1)
        >>> type(test.widget).__name__
        'VBox'
        """
        if getattr(self, "_app", None) is None:
            from audiolab.ui.listening_app import ListeningApp

            self._app = ListeningApp(self)
        return self._app.widget

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return (
            f"ListeningTest({self.kind!r}, test_id={self.test_id!r}, listener={self.listener!r}, "
            f"{self.answered}/{len(self.trials)} answered)"
        )
