"""audiolab: every generated clip leaves the notebook as a correct WAV.

Loudness-normalized to a target (-16 LUFS by default) under a true-peak
ceiling, measured, and catalogued with the prompt and settings that made it.

Every module imports only numpy and the standard library at the top; scipy,
soundfile, torch, transformers, librosa, matplotlib and ipywidgets are imported
inside the functions that need them, so ``import audiolab`` stays fast.

Examples
--------
>>> import numpy as np, audiolab
>>> sr = 48000
>>> t = np.arange(2 * sr) / sr
>>> tone = 0.1 * np.sin(2 * np.pi * 1000 * t)
>>> round(audiolab.loudness.integrated(tone, sr), 1)  # a -20 dBFS sine
-23.0
"""

from __future__ import annotations

from audiolab import loudness
from audiolab._audio import AudioError
from audiolab.loudness import LoudnessReport

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "LoudnessReport",
    "loudness",
]
