"""What the audition widget generates with: MusicGen, the offline synth, or your own.

A generator is anything callable as ``generator(prompt, duration, seed) ->
(audio, sample_rate)`` (or a :class:`~audiolab.generate.Generation`, whose
provenance the widget then keeps). Generators that can continue a take or
follow a melody also take the keywords ``audio_prompt=(audio, sample_rate)``
and ``melody=(audio, sample_rate)``; the widget passes them only when they are
set, so a three-argument generator keeps working.

Examples
--------
>>> audio, sr = synth_generator(16000)("techno at 128 bpm in A minor", 1.0, seed=1)
>>> longer, _ = synth_generator(16000)("techno", 0.5, seed=2, audio_prompt=(audio, sr))
>>> longer.shape[-1] == audio.shape[-1] + 8000 and bool((longer[:, :16000] == audio).all())
True
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np

from audiolab._audio import as_audio
from audiolab.errors import AudioError

__all__ = ["Generator", "default_generator", "musicgen_generator", "synth_generator"]


class Generator(Protocol):
    """What the widget generates with: ``(prompt, duration, seed) -> (audio, sample_rate)``."""

    def __call__(self, prompt: str, duration: float, seed: int) -> Any: ...


def musicgen_generator(model: str) -> Generator:
    """MusicGen (``audiolab.generate``) as a generator for the widget.

    It continues takes (``audio_prompt=``) and, with a MusicGen-Melody model,
    follows a melody (``melody=``); it returns the
    :class:`~audiolab.generate.Generation`, provenance and all.

    Parameters
    ----------
    model : str
        Hub id or folder.

    Returns
    -------
    Generator

    Examples
    --------
    >>> generator = musicgen_generator("facebook/musicgen-small")
    >>> generator.model
    'facebook/musicgen-small'
    """

    def musicgen(prompt: str, duration: float, seed: int, **conditioning: Any) -> Any:
        from audiolab.generate import generate

        return generate(prompt, duration, model=model, seed=seed, progress=False, **conditioning)

    musicgen.model = model  # type: ignore[attr-defined]
    return musicgen


def synth_generator(sr: int = 32000) -> Generator:
    """The offline reference music (``audiolab.synth``) as a generator.

    The prompt picks the tempo (a number before "bpm", default 120) and the key
    (e.g. "in F# minor", default C major). With ``audio_prompt`` it continues a
    take by appending new music to it (at ``sr``); it cannot follow a melody.

    Parameters
    ----------
    sr : int
        Sample rate.

    Returns
    -------
    Generator

    Examples
    --------
    >>> audio, sr = synth_generator(16000)("drum and bass at 174 bpm in F minor", 2.0, seed=1)
    >>> audio.shape, sr
    ((2, 32000), 16000)
    """

    def synth(
        prompt: str, duration: float, seed: int, *, audio_prompt: Any = None, melody: Any = None
    ) -> tuple[Any, int]:
        from audiolab.synth import reference

        if melody is not None:
            raise AudioError(
                "the offline synth cannot follow a melody: use a MusicGen-Melody model"
            )
        tempo = re.search(r"(\d+(?:\.\d+)?)\s*bpm", prompt, re.IGNORECASE)
        key = re.search(r"\b([A-G][#b]?)\s+(major|minor)\b", prompt, re.IGNORECASE)
        name = (
            f"{key.group(1)[0].upper()}{key.group(1)[1:]} {key.group(2).lower()}"
            if key
            else "C major"
        )
        clip = reference(
            float(tempo.group(1)) if tempo else 120.0, name, duration, sr=sr, seed=seed
        )
        if audio_prompt is None:
            return clip.audio, clip.sample_rate
        before, rate = audio_prompt
        if rate != sr:
            raise AudioError(f"the synth continues audio at {sr} Hz, got {rate} Hz")
        before = as_audio(before, max_channels=2)
        before = np.broadcast_to(before, (clip.audio.shape[0], before.shape[1]))
        return np.concatenate([before, clip.audio], axis=1), sr

    synth.model = "audiolab.synth"  # type: ignore[attr-defined]
    return synth


def default_generator(model: str | None = None) -> tuple[Generator, str | None]:
    """MusicGen when its weights are here, else the synth; and a line saying which.

    Parameters
    ----------
    model : str, optional
        Default ``facebook/musicgen-small``.

    Returns
    -------
    (Generator, str or None)
        The generator, and a notice when it fell back to the synth.

    Examples
    --------
    >>> generator, notice = default_generator("/no/such/model")
    >>> generator.model, notice.startswith("MusicGen weights for '/no/such/model'")
    ('audiolab.synth', True)
    """
    from audiolab.generate import DEFAULT_MODEL
    from audiolab.policy import fallback_notice

    model = model or DEFAULT_MODEL
    notice = fallback_notice(model, "the offline reference music (audiolab.synth)")
    if notice is None:
        return musicgen_generator(model), None
    return synth_generator(), notice
