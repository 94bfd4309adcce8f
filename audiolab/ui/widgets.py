"""Audition takes in a notebook: generate, A/B at matched loudness, keep and rate.

``display(Audition())`` shows a prompt, the generation settings and a Generate
button. Each take gets a player of the raw audio and one of the normalized
audio, its loudness curves and measurement, and a Keep row that saves it
through :meth:`audiolab.store.Store.save` with a 1-5 rating and a note. The
A/B player plays any take normalized to the same target, so that the louder
take does not win by being louder.

"Extend this take" continues a take by the seconds on the slider into a new
take (kept with its parent as lineage); the melody picker gives a
MusicGen-Melody model a melody to follow.

A generator is anything callable as ``generator(prompt, duration, seed) ->
(audio, sample_rate)``: :func:`musicgen_generator` (MusicGen),
:func:`synth_generator` (the offline reference music), or your own (see
:mod:`audiolab.ui.generators`). Errors (missing weights, a bad prompt, a
generator that raises) show in the widget, which keeps working.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> audition = Audition(Store(tempfile.mkdtemp()), generator=synth_generator(), threaded=False)
>>> audition.prompt.value = "house at 124 bpm in A minor"
>>> audition.duration.value, audition.count.value = 4.0, 2
>>> audition.generate_button.click()
>>> len(audition.takes), audition.takes[0].measurement.key
(2, 'A minor')
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from audiolab._audio import as_audio
from audiolab.errors import AudioError
from audiolab.policy import BIT_DEPTHS, DEFAULT_BIT_DEPTH
from audiolab.ui.generators import (
    Generator,
    default_generator,
    musicgen_generator,
    synth_generator,
)
from audiolab.ui.take_view import Take, note_html, take_widgets

__all__ = [
    "Audition",
    "Generator",
    "Take",
    "default_generator",
    "musicgen_generator",
    "synth_generator",
]


class Audition:
    """An ipywidgets app to generate, compare and keep takes.

    Parameters
    ----------
    store : audiolab.store.Store, optional
        Where kept takes go (default ``Store("data/outputs")``).
    model : str, optional
        MusicGen hub id or folder (when no ``generator`` is given). Without
        either: MusicGen small when its weights are here, else the synth.
    generator : callable, optional
        ``(prompt, duration, seed) -> (audio, sample_rate)``.
    threaded : bool
        Generate in a background thread so the notebook stays responsive
        (the default); False generates inside the click (tests, scripts).

    Examples
    --------
    >>> audition = Audition(generator=synth_generator(), threaded=False)
    >>> audition.prompt.description, audition.target.min, audition.target.max
    ('prompt', -30.0, -8.0)
    """

    def __init__(
        self,
        store: Any = None,
        model: str | None = None,
        generator: Callable[..., Any] | None = None,
        *,
        threaded: bool = True,
    ) -> None:
        import ipywidgets as w

        from audiolab.store import Store

        self.store = store if store is not None else Store()
        notice = None
        if generator is None:
            if model is not None:
                generator = musicgen_generator(model)
            else:
                generator, notice = default_generator()
        self.generator = generator
        self.model_name = str(getattr(generator, "model", getattr(generator, "__name__", "custom")))
        self.threaded = threaded
        self.takes: list[Take] = []
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

        style = {"description_width": "90px"}
        wide = w.Layout(width="95%")
        self.prompt = w.Text(
            value="lofi hip hop at 90 bpm", description="prompt", style=style, layout=wide
        )
        self.duration = w.FloatSlider(
            value=8.0, min=1.0, max=30.0, step=0.5, description="seconds", style=style
        )
        self.count = w.IntSlider(value=2, min=1, max=8, description="takes", style=style)
        self.random_seed = w.Checkbox(value=True, description="random seed", indent=False)
        self.seed = w.IntText(value=0, description="seed", style=style, disabled=True)
        self.target = w.FloatSlider(
            value=-16.0, min=-30.0, max=-8.0, step=0.5, description="target LUFS", style=style
        )
        self.ceiling = w.FloatSlider(
            value=-1.0, min=-6.0, max=0.0, step=0.1, description="ceiling dBTP", style=style
        )
        self.melody = w.FileUpload(accept="audio/*", multiple=False, description="melody")
        self.bit_depth = w.Dropdown(
            options=list(BIT_DEPTHS),
            value=DEFAULT_BIT_DEPTH,
            description="bit depth",
            style=style,
        )
        self.download_format = w.Dropdown(
            options=["wav", "flac", "ogg", "opus", "mp3"], value="wav", description="download",
            style=style,
        )  # fmt: skip
        self.generate_button = w.Button(description="Generate", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", disabled=True, icon="stop")
        self.progress = w.IntProgress(
            value=0, min=0, max=1, description="", layout=w.Layout(width="40%")
        )
        self.message = w.HTML(value="" if notice is None else note_html(notice))
        self.ab = w.ToggleButtons(options=[], description="A/B", style=style)
        self.ab_player = w.Audio(value=b"", format="wav", autoplay=False, controls=True)
        self.ab_label = w.HTML()
        self.takes_box = w.VBox([])
        self.random_seed.observe(
            lambda change: setattr(self.seed, "disabled", change["new"]), "value"
        )
        self.generate_button.on_click(lambda _: self.generate())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.ab.observe(self._on_ab, "value")
        self.controls = w.VBox(
            [self.prompt, self.duration, self.count, w.HBox([self.random_seed, self.seed]),
             self.melody, self.target, self.ceiling, self.bit_depth, self.download_format]
        )  # fmt: skip
        ab_row = w.VBox(
            [w.HTML("<b>A/B at matched loudness</b>"), self.ab, self.ab_player, self.ab_label]
        )
        self.widget = w.VBox(
            [self.controls, w.HBox([self.generate_button, self.cancel_button, self.progress]),
             self.message, ab_row, self.takes_box]
        )  # fmt: skip

    # ------------------------------------------------------------------ display
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def show_error(self, text: str) -> None:
        """Show a message in the widget's error box.

        Examples
        --------
        >>> audition = Audition(generator=synth_generator(), threaded=False)
        >>> audition.show_error("no weights")
        >>> "no weights" in audition.message.value
        True
        """
        self.message.value = note_html(text, error=True)

    # ------------------------------------------------------------------ generation
    def generate(self) -> None:
        """Generate the takes the controls ask for (what the Generate button does).

        Examples
        --------
        >>> audition = Audition(generator=synth_generator(), threaded=False)
        >>> audition.duration.value, audition.count.value = 2.0, 1
        >>> audition.generate()
        >>> len(audition.takes)
        1
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._cancel.clear()
        self.generate_button.disabled = True
        self.cancel_button.disabled = False
        self.message.value = ""
        if self.threaded:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        else:
            self._run()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until a threaded generation is done.

        Examples
        --------
        >>> Audition(generator=synth_generator()).wait()
        """
        if self._thread is not None:
            self._thread.join(timeout)

    def cancel(self) -> None:
        """Stop after the take being generated (what the Cancel button does).

        Examples
        --------
        >>> Audition(generator=synth_generator(), threaded=False).cancel()
        """
        self._cancel.set()

    def _run(self) -> None:
        count, prompt = int(self.count.value), str(self.prompt.value)
        self.progress.max, self.progress.value = count, 0
        first = secrets.randbelow(2**31) if self.random_seed.value else int(self.seed.value)
        try:
            if not prompt.strip():
                raise AudioError("the prompt is empty: describe the music to generate")
            melody = self.melody_audio()
            for i in range(count):
                if self._cancel.is_set():
                    self.message.value = note_html(f"cancelled after {i} of {count} takes")
                    break
                self._add(self._make_take(prompt, first + i, melody=melody))
                self.progress.value = i + 1
        except Exception as err:  # shown in the widget, which keeps working
            self.show_error(f"{type(err).__name__}: {err}")
        finally:
            self.generate_button.disabled = False
            self.cancel_button.disabled = True

    def _add(self, take: Take) -> None:
        self.takes.append(take)
        self.takes_box.children = (*self.takes_box.children, take.widget)
        self.ab.options = [f"take {t.index}" for t in self.takes]

    def melody_audio(self) -> tuple[np.ndarray, int] | None:
        """The picked melody file as ``(audio, sample_rate)``, or None.

        Examples
        --------
        >>> Audition(generator=synth_generator(), threaded=False).melody_audio() is None
        True
        """
        if not self.melody.value:
            return None
        import soundfile as sf

        picked = self.melody.value[0]
        try:
            audio, sr = sf.read(io.BytesIO(bytes(picked["content"])), always_2d=True)
        except (RuntimeError, TypeError, ValueError) as err:
            reason = str(err).rsplit(": ", 1)[-1]  # not soundfile's name of the buffer
            message = f"melody {picked.get('name')!r}: not a readable audio file ({reason})"
            raise AudioError(message) from None
        return audio.T, int(sr)

    def _make_take(
        self, prompt: str, seed: int, *, parent: int | None = None, **conditioning: Any
    ) -> Take:
        from audiolab.measure import measure
        from audiolab.normalize import normalize

        conditioning = {k: v for k, v in conditioning.items() if v is not None}
        started = time.perf_counter()
        made: Any = self.generator(prompt, float(self.duration.value), seed, **conditioning)
        seconds = time.perf_counter() - started
        audio, sr = (made.audio, made.sample_rate) if hasattr(made, "audio") else made
        raw = as_audio(audio, max_channels=2)
        seams = getattr(made, "seams_s", None)
        if seams is None and parent is not None:  # a generator that does not say: the joint
            before = self.takes[parent - 1]
            seams = (*before.seams_s, before.audio.shape[-1] / before.sample_rate)
        normalized, info = normalize(raw, sr, float(self.target.value), float(self.ceiling.value))
        measurement = measure(raw, sr, seams_s=seams or None)
        take = Take(
            len(self.takes) + 1, prompt, seed, sr, raw, normalized, info, measurement, seconds
        )
        take.parent, take.parameters = parent, getattr(made, "parameters", None)
        take.seams_s = tuple(seams or ())
        take_widgets(
            take, float(self.target.value), float(self.ceiling.value),
            on_keep=self.keep, on_extend=self.extend, on_download=self.download,
        )  # fmt: skip
        return take

    def extend(self, index: int) -> Take | None:
        """Continue take ``index`` (1-based) by the seconds on the slider (what Extend does).

        Returns the new take (its ``parent`` is ``index``), or None after an
        error (shown in the widget).

        Examples
        --------
        >>> audition = Audition(generator=synth_generator(), threaded=False)
        >>> audition.duration.value, audition.count.value = 2.0, 1
        >>> audition.generate()
        >>> audition.extend(1).audio.shape
        (2, 128000)
        """
        parent = self.takes[index - 1]
        seed = secrets.randbelow(2**31) if self.random_seed.value else int(self.seed.value)
        try:
            prompt = (parent.audio, parent.sample_rate)
            take = self._make_take(
                parent.prompt, seed, parent=index, audio_prompt=prompt, melody=self.melody_audio()
            )
        except Exception as err:  # shown in the widget, which keeps working
            self.show_error(f"{type(err).__name__}: {err}")
            return None
        self._add(take)
        return take

    # ------------------------------------------------------------------ A/B and keep
    def _on_ab(self, change: dict[str, Any]) -> None:
        if not change["new"]:
            return
        take = self.takes[int(str(change["new"]).split()[-1]) - 1]
        self.ab_player.value = take.player.value
        info = take.info
        self.ab_label.value = (
            f"take {take.index} at {info.output_lufs:.1f} LUFS (raw {info.input_lufs:.1f})"
        )

    def download(self, index: int) -> Any:
        """Write take ``index`` (1-based) in the download format, normalized, tagged, linked.

        The file goes through :func:`audiolab.export.export` (decoded and
        checked, for lossy formats); the take's status shows a link to it.
        Returns the :class:`~audiolab.export.ExportResult`, or None after an error.

        Examples
        --------
        >>> audition = Audition(generator=synth_generator(), threaded=False)
        >>> audition.duration.value, audition.count.value = 2.0, 1
        >>> audition.generate()
        >>> audition.download_format.value = "opus"
        >>> audition.download(1).format, "download=" in audition.takes[0].status.value
        ('OPUS', True)
        """
        import base64
        import tempfile

        from audiolab.export import export

        take, kind = self.takes[index - 1], str(self.download_format.value)
        depth = str(self.bit_depth.value)
        depth_for = {"wav": depth, "flac": depth if depth in ("PCM_16", "PCM_24") else "PCM_24"}
        name = f"take{take.index}-seed{take.seed}.{kind}"
        try:
            result = export(
                take.audio, Path(tempfile.mkdtemp(prefix="audiolab-")) / name, take.sample_rate,
                format=kind, target_lufs=float(self.target.value),
                true_peak_db=float(self.ceiling.value), bit_depth=depth_for.get(kind),
                prompt=take.prompt, model=self.model_name, seed=take.seed,
            )  # fmt: skip
        except Exception as err:
            take.status.value = note_html(f"no download: {type(err).__name__}: {err}", True)
            return None
        mime = {"wav": "wav", "flac": "flac", "mp3": "mpeg"}.get(kind, "ogg")
        data = base64.b64encode(result.path.read_bytes()).decode("ascii")
        take.status.value = (
            f'<a download="{name}" href="data:audio/{mime};base64,{data}">{name}</a> '
            f"({result.output_lufs:.1f} LUFS, {result.true_peak_dbtp:.1f} dBTP)"
        )
        return result

    def keep(self, index: int) -> Any:
        """Save take ``index`` (1-based) with its rating and note (what Keep does).

        Returns the catalog :class:`~audiolab.store.Record`, or None after an error
        (shown in the widget).

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> store = Store(tempfile.mkdtemp())
        >>> audition = Audition(store, generator=synth_generator(), threaded=False)
        >>> audition.duration.value, audition.count.value = 2.0, 1
        >>> audition.generate()
        >>> audition.takes[0].rating.value = 5
        >>> audition.keep(1).rating
        5
        """
        take = self.takes[index - 1]
        made = take.parameters or {"duration": float(self.duration.value)}
        seams = {"seams_s": take.seams_s} if take.seams_s else None
        try:
            take.record = self.store.save(
                take.audio,
                take.sample_rate,
                prompt=take.prompt,
                model=self.model_name,
                params={**made, "seams_s": list(take.seams_s), "source": "audition"},
                seed=take.seed,
                measure_options=seams,
                rating=int(take.rating.value),
                note=str(take.note.value) or None,
                target_lufs=float(self.target.value),
                true_peak_db=float(self.ceiling.value),
                bit_depth=str(self.bit_depth.value),
            )
            # the kept takes it extends and the kept takes that extend it: lineage
            pairs = [(take, self.takes[take.parent - 1])] if take.parent else []
            pairs += [(child, take) for child in self.takes if child.parent == take.index]
            for child, parent in pairs:
                if child.record is not None and parent.record is not None:
                    job = child.record.job_id
                    child.record = self.store.link(job, parent.record.job_id, "extend")
        except Exception as err:
            take.status.value = note_html(f"not kept: {type(err).__name__}: {err}", error=True)
            return None
        take.status.value = note_html(f"kept as {take.record.job_id} ({take.record.path})")
        take.keep_button.disabled = True
        return take.record
