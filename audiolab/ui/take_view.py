"""The view of one take in the audition app: its players, loudness plot, facts and buttons.

A :class:`Take` is what :class:`audiolab.ui.widgets.Audition` keeps of each
take (its audio, normalized audio, measurements and lineage);
:func:`take_widgets` builds the card that shows it: a player of the raw and
one of the normalized audio, the loudness plot, the facts line, and the
rating, note, Keep, Extend and Download controls, whose clicks call back
into the app.

Examples
--------
>>> from audiolab.ui.widgets import Audition, synth_generator
>>> audition = Audition(generator=synth_generator(), threaded=False)
>>> audition.duration.value, audition.count.value = 2.0, 1
>>> audition.generate()
>>> take = audition.takes[0]
>>> type(take).__name__, take.widget.children[0].value.startswith("<b>take 1</b>")
('Take', True)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Take", "note_html", "take_widgets", "wav_bytes"]


def wav_bytes(audio: np.ndarray, sr: int, subtype: str) -> bytes:
    """A WAV file in memory, for an ``ipywidgets.Audio`` player.

    Parameters
    ----------
    audio : numpy.ndarray
        (channels, samples).
    sr : int
        Sample rate in Hz.
    subtype : str
        soundfile subtype (``"FLOAT"``, ``"PCM_16"``, ...).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import numpy as np
    >>> wav_bytes(np.zeros((1, 800)), 8000, "PCM_16")[:4]
    b'RIFF'
    """
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio.T, sr, format="WAV", subtype=subtype)
    return buffer.getvalue()


def note_html(text: str, error: bool = False) -> str:
    """A message as HTML for the app: grey, or red when it is an error.

    Parameters
    ----------
    text : str
        Shown as it is (escaped), line breaks kept.
    error : bool
        Red instead of grey.

    Returns
    -------
    str

    Examples
    --------
    >>> note_html("a < b", error=True)
    '<div style="color:#b00020;white-space:pre-wrap">a &lt; b</div>'
    """
    import html

    color = "#b00020" if error else "#555555"
    return f'<div style="color:{color};white-space:pre-wrap">{html.escape(text)}</div>'


@dataclass(eq=False)
class Take:
    """One generated take: its audio, normalized version, measurements and widgets."""

    index: int
    prompt: str
    seed: int
    sample_rate: int
    audio: np.ndarray = field(repr=False)
    normalized: np.ndarray = field(repr=False)
    info: Any = field(repr=False)
    measurement: Any = field(repr=False)
    seconds: float = 0.0
    widget: Any = field(default=None, repr=False)
    raw_player: Any = field(default=None, repr=False)
    player: Any = field(default=None, repr=False)
    rating: Any = field(default=None, repr=False)
    note: Any = field(default=None, repr=False)
    keep_button: Any = field(default=None, repr=False)
    status: Any = field(default=None, repr=False)
    record: Any = field(default=None, repr=False)
    parent: int | None = None  # the take this one extends
    parameters: dict[str, Any] | None = field(default=None, repr=False)  # its provenance
    seams_s: tuple[float, ...] = ()
    extend_button: Any = field(default=None, repr=False)


def take_widgets(
    take: Take,
    target_lufs: float,
    ceiling_db: float,
    *,
    on_keep: Callable[[int], Any],
    on_extend: Callable[[int], Any],
    on_download: Callable[[int], Any],
) -> None:
    """Build the card of ``take`` into its widget fields (``take.widget`` the whole card).

    Parameters
    ----------
    take : Take
        Its audio, normalized audio, ``info`` and ``measurement`` are shown.
    target_lufs, ceiling_db : float
        The loudness target and true-peak ceiling, drawn on the loudness plot.
    on_keep, on_extend, on_download : callable
        Called with ``take.index`` when Keep, Extend this take or Download is
        clicked.

    Examples
    --------
    >>> from audiolab.ui.widgets import Audition, synth_generator
    >>> audition = Audition(generator=synth_generator(), threaded=False)
    >>> audition.duration.value, audition.count.value = 2.0, 1
    >>> audition.generate()
    >>> take, clicked = audition.takes[0], []
    >>> take_widgets(take, -16.0, -1.0, on_keep=clicked.append, on_extend=print,
    ...              on_download=print)
    >>> take.keep_button.click()
    >>> clicked
    [1]
    """
    import ipywidgets as w
    from matplotlib.figure import Figure

    from audiolab.ui import plot

    take.raw_player = w.Audio(
        value=wav_bytes(take.audio, take.sample_rate, "FLOAT"), format="wav", autoplay=False
    )
    take.player = w.Audio(
        value=wav_bytes(take.normalized, take.sample_rate, "PCM_16"),
        format="wav",
        autoplay=False,
    )
    figure = Figure(figsize=(8, 2.6), layout="constrained")
    plot.loudness(
        take.normalized,
        take.sample_rate,
        target_lufs,
        ax=figure.add_subplot(),
        true_peak_db=ceiling_db,
    )
    picture = io.BytesIO()
    figure.savefig(picture, format="png", dpi=80)
    m, info = take.measurement, take.info
    bpm = "-" if m.bpm is None else f"{m.bpm:.1f}"
    extends = "" if take.parent is None else f" (extends take {take.parent})"
    facts = (
        f"<b>take {take.index}</b>{extends} · seed {take.seed} · "
        f"{take.seconds:.1f} s to generate<br>"
        f"raw {info.input_lufs:.1f} LUFS → {info.output_lufs:.1f} LUFS, true peak "
        f"{info.true_peak_dbtp:.1f} dBTP{' (limited)' if info.limited else ''} · "
        f"{bpm} BPM · key {m.key or '-'}"
    )
    if info.message:
        facts += f"<br>{note_html(info.message, error=True)}"
    take.rating = w.IntSlider(value=3, min=1, max=5, description="rating")
    take.note = w.Text(placeholder="a note", description="note")
    take.keep_button = w.Button(description="Keep", icon="check")
    take.status = w.HTML()
    take.keep_button.on_click(lambda _: on_keep(take.index))
    take.extend_button = w.Button(description="Extend this take", icon="forward")
    take.extend_button.on_click(lambda _: on_extend(take.index))
    download = w.Button(description="Download", icon="download")
    download.on_click(lambda _: on_download(take.index))
    take.widget = w.VBox(
        [
            w.HTML(facts),
            w.HBox(
                [
                    w.VBox([w.HTML("raw"), take.raw_player]),
                    w.VBox([w.HTML("normalized"), take.player]),
                ]
            ),
            w.Image(value=picture.getvalue(), format="png"),
            w.HBox([take.rating, take.note, take.keep_button, take.extend_button, download]),
            take.status,
        ],
        layout=w.Layout(border="1px solid #ddd", padding="6px", margin="4px 0"),
    )
