"""Helpers that tests, benchmarks and notebooks share.

Nothing here is needed to use audiolab; it builds inputs with known
properties so that the rest can be checked against them.

Examples
--------
>>> from audiolab import testing
>>> testing.programme(2.0, 16000).shape
(2, 32000)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from audiolab._tiny import tiny_clap, tiny_musicgen

__all__ = ["model_or_tiny", "programme", "sine", "tiny_clap", "tiny_musicgen"]


def sine(
    frequency_hz: float,
    seconds: float,
    sr: int,
    *,
    amplitude_dbfs: float = -20.0,
    channels: int = 1,
    phase: float = 0.0,
) -> np.ndarray:
    """A sine of a given peak level, shape ``(channels, samples)``.

    Parameters
    ----------
    frequency_hz : float
        Frequency in Hz.
    seconds : float
        Duration.
    sr : int
        Sample rate in Hz.
    amplitude_dbfs : float
        Peak amplitude in dBFS (EBU Tech 3341 states its tones this way).
    channels : int
        Number of identical channels.
    phase : float
        Start phase in radians.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> sine(1000, 0.01, 48000, amplitude_dbfs=-6.0).max().round(3)
    np.float64(0.501)
    """
    n = round(seconds * sr)
    tone = 10 ** (amplitude_dbfs / 20) * np.sin(
        2 * np.pi * frequency_hz * np.arange(n) / sr + phase
    )
    return np.tile(tone, (channels, 1))


def programme(
    seconds: float,
    sr: int,
    *,
    channels: int = 2,
    bpm: float = 120.0,
    peak_dbfs: float = -1.0,
    seed: int = 0,
) -> np.ndarray:
    """Music-like test programme: kick, snare, hi-hat, bass and chords.

    Decaying one-shots on a beat grid over a bass line and chords, with a
    slow level swell, so that loudness, loudness range and true peak all have
    something to measure. Deterministic for a seed.

    Parameters
    ----------
    seconds : float
        Duration.
    sr : int
        Sample rate in Hz.
    channels : int
        1 or 2 (the second channel is mixed slightly differently).
    bpm : float
        Tempo of the beat grid.
    peak_dbfs : float
        Sample peak of the result.
    seed : int
        Seed of the noise in the snare and hi-hat.

    Returns
    -------
    numpy.ndarray
        Shape ``(channels, round(seconds * sr))``.

    Examples
    --------
    >>> x = programme(1.0, 8000, channels=1)
    >>> x.shape, float(abs(x).max()).__round__(3)
    ((1, 8000), 0.891)
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    beat = max(round(sr * 60.0 / bpm), 8)
    t = np.arange(beat) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 8)
    snare = rng.standard_normal(beat) * np.exp(-t * 25) * 0.5
    hat_length = beat // 4
    hat = np.diff(rng.standard_normal(hat_length + 1)) * np.exp(-t[:hat_length] * 60) * 0.15
    bar = np.zeros(4 * beat)
    for i in range(4):
        bar[i * beat : (i + 1) * beat] += kick if i % 2 == 0 else snare
        for offset in (0, beat // 2):
            bar[i * beat + offset : i * beat + offset + hat_length] += hat
    drums = np.tile(bar, n // len(bar) + 1)[:n]
    roots = np.repeat([55.0, 43.65, 49.0, 41.2], 4 * beat)  # A, F, G, E
    root = np.tile(roots, n // len(roots) + 1)[:n]
    phase = 2 * np.pi * np.cumsum(root) / sr
    bass = 0.35 * np.tanh(2 * np.sin(phase))
    chords = 0.08 * sum(np.sin(ratio * phase * 4) for ratio in (1.0, 1.26, 1.5))
    swell = 0.7 + 0.3 * np.sin(2 * np.pi * np.arange(n) / sr / 40.0)
    mixes = [swell * (drums + bass + chords), swell * (0.9 * drums + bass + 1.1 * chords)]
    out = np.stack(mixes[:channels])
    return 10 ** (peak_dbfs / 20) * out / np.max(np.abs(out))


def model_or_tiny(model: str, folder: str | os.PathLike[str] | None = None, **tiny: Any) -> str:
    """``model`` when its weights are here, else the tiny MusicGen, saying so in one line.

    What the notebooks' parameter cells call: a researcher with the weights
    gets the real model; CI and offline machines get :func:`tiny_musicgen`
    (saved once to ``folder``, by default a folder in the temporary directory).

    Parameters
    ----------
    model : str
        Hub id or folder.
    folder : str or Path, optional
        Where the tiny model goes.
    **tiny
        Options of :func:`tiny_musicgen` (``frame_rate=5`` for long takes in seconds).

    Returns
    -------
    str
        What to pass to ``generate(model=...)``.

    Examples
    --------
    >>> import tempfile
    >>> chosen = model_or_tiny("/no/such/model", tempfile.mkdtemp())  # doctest: +ELLIPSIS
    MusicGen weights for '/no/such/model' are not available here: using the tiny random ...
    """
    import tempfile

    from audiolab.policy import fallback_notice

    kind = "".join(f"-{name}{value}" for name, value in sorted(tiny.items()))
    where = (
        Path(folder)
        if folder is not None
        else Path(tempfile.gettempdir()) / f"audiolab-tiny-musicgen{kind}"
    )
    notice = fallback_notice(
        model,
        f"the tiny random MusicGen in {where} (its audio is noise-like; "
        "set AUDIOLAB_MODEL to a model you have)",
    )
    if notice is None:
        return model
    print(notice)
    return str(tiny_musicgen(where, **tiny))
