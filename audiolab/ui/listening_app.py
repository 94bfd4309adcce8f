"""The view of a listening test: players with blind labels, answer buttons, progress.

A thin ipywidgets layer over :class:`audiolab.listening.ListeningTest`: it
shows ``test.current`` and hands clicks to ``test.answer``; everything else
(stimuli, order, recording, statistics) lives in the test. ``display(test)``
makes one.

Examples
--------
>>> from audiolab.listening import ListeningTest
>>> from audiolab.testing import programme
>>> test = ListeningTest([(programme(1, 8000), 8000)] * 2, "abx", trials=2, seed=0)
>>> app = ListeningApp(test)
>>> [b.description for b in app.buttons]
['X is A', 'X is B']
>>> app.buttons[0].click(); app.buttons[1].click()
>>> test.done, "2 of 2 answered" in app.header.value
(True, True)
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["ListeningApp"]

_INSTRUCTIONS = {
    "abx": "Listen to A, B and X. X is either A or B: which one?",
    "pairwise": "Listen to A and B. Which one do you prefer?",
    "mushra": (
        "Rate each version against the reference, from 0 (bad) to 100 (excellent). "
        "One of them is the reference itself."
    ),
}
_BUTTONS = {"abx": ("X is A", "X is B"), "pairwise": ("prefer A", "prefer B")}


class ListeningApp:
    """The ipywidgets app of one listening session.

    Parameters
    ----------
    test : audiolab.listening.ListeningTest
        The session it shows.
    show_results : bool
        At the end, show the listener the test's result line.

    Examples
    --------
    >>> from audiolab.listening import ListeningTest
    >>> from audiolab.testing import programme
    >>> takes = {"a": (programme(1, 8000), 8000), "b": (programme(1, 8000, seed=1), 8000)}
    >>> test = ListeningTest(takes, "mushra", seed=0)
    >>> app = ListeningApp(test)
    >>> len(app.sliders), app.buttons[0].description  # hidden reference, anchor, b
    (3, 'next')
    """

    def __init__(self, test: Any, *, show_results: bool = True) -> None:
        import ipywidgets as w

        self.test = test
        self.show_results = show_results
        self.header = w.HTML()
        self.players = (w.VBox if test.kind == "mushra" else w.HBox)([])
        self.sliders: list[Any] = []
        self.message = w.HTML()
        if test.kind == "mushra":
            self.buttons = [w.Button(description="next", button_style="primary", icon="forward")]
            self.buttons[0].on_click(lambda _: self._rate())
        else:
            self.buttons = [
                w.Button(description=text, button_style="primary") for text in _BUTTONS[test.kind]
            ]
            for button, choice in zip(self.buttons, ("A", "B"), strict=True):
                button.on_click(lambda _, c=choice: self._choose(c))
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{test.kind.upper()} listening test</b> · {_INSTRUCTIONS[test.kind]}"),
                self.header,
                self.players,
                w.HBox(self.buttons),
                self.message,
            ],
            layout=w.Layout(border="1px solid #ddd", padding="8px"),
        )
        self._show()

    def _show(self) -> None:
        import ipywidgets as w

        test = self.test
        total = len(test.trials)
        for old in self.players.children:
            old.close()
        trial = test.current
        if trial is None:
            self.players.children = ()
            self.sliders = []
            for button in self.buttons:
                button.disabled = True
            self.header.value = f"done: {total} of {total} answered. Thank you!"
            if self.show_results:
                self.message.value = html.escape(test.results().summary())
            return
        self.sliders = []
        if test.kind == "mushra":  # a row per version: its label, its player, its score
            rows = []
            for label in trial.labels:
                parts = [w.HTML(f"<b>{html.escape(label)}</b>", layout=w.Layout(width="90px"))]
                parts.append(self._player(trial, label))
                if label != "reference":
                    slider = w.IntSlider(value=0, min=0, max=100, layout=w.Layout(width="320px"))
                    self.sliders.append(slider)
                    parts.append(slider)
                rows.append(w.HBox(parts, layout=w.Layout(align_items="center")))
            self.players.children = tuple(rows)
        else:  # a column per label
            self.players.children = tuple(
                w.VBox(
                    [w.HTML(f"<b>{html.escape(label)}</b>"), self._player(trial, label)],
                    layout=w.Layout(align_items="center", margin="0 6px"),
                )
                for label in trial.labels
            )
        # after the players: a page that reads the new trial number finds them in place
        self.header.value = f"trial {trial.index} of {total} · {test.answered} of {total} answered"

    def _player(self, trial: Any, label: str) -> Any:
        import ipywidgets as w

        wav = self.test.wav(trial, label)
        return w.Audio(value=wav, format="wav", autoplay=False, layout=w.Layout(width="230px"))

    def _choose(self, choice: str) -> None:
        self._answer(choice)

    def _rate(self) -> None:
        self._answer([s.value for s in self.sliders])

    def _answer(self, choice: Any) -> None:
        try:
            self.test.answer(choice)
        except Exception as err:  # shown in the app, which keeps working
            self.message.value = (
                f'<span style="color:#b00020">{html.escape(f"{type(err).__name__}: {err}")}</span>'
            )
            return
        self.message.value = ""
        self._show()
