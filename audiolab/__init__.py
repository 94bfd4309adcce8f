"""audiolab: every generated clip leaves the notebook as a correct WAV.

Loudness-normalized to a target (-16 LUFS by default) under a true-peak
ceiling, measured, and catalogued with the prompt and settings that made it.

    export_wav(audio, path, sample_rate)   normalize, write, verify (audiolab.export.export:
                                           WAV, FLAC, Ogg Vorbis, Opus, MP3)
    measure(path_or_audio)                 file facts, loudness, tempo, key, statistics
    Store(root).save(audio, sample_rate)   date tree + SQLite catalog (or audiolab.store(...))
    generate(prompt, duration)             MusicGen through transformers

Every module imports only numpy and the standard library at the top; scipy,
soundfile, torch, transformers, matplotlib and ipywidgets are imported inside
the functions that need them, so ``import audiolab`` stays fast. Note that
``audiolab.normalize``, ``audiolab.measure``, ``audiolab.store`` and
``audiolab.generate`` are the functions; their modules are reached with
``from audiolab.store import Store`` and the like.

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

from typing import Any

from audiolab import loudness
from audiolab.compat import AudioExporter, AudioFileManager, AudioMetadataExtractor
from audiolab.errors import AudioError, BatchError, ModelNotAvailableError, StoreError
from audiolab.export import (
    BatchExportError,
    ExportResult,
    export_batch,
    export_wav,
    export_wav_batch,
)
from audiolab.generate import Generation, generate
from audiolab.loudness import LoudnessReport
from audiolab.measure import Measurement, measure, measure_many
from audiolab.normalize import NormalizeInfo, normalize
from audiolab.store import Record, Store, store

__version__ = "0.1.0"

# Submodules reached as attributes (``audiolab.plot``, ``from audiolab import tempo``)
# without importing them, or what they need, with ``import audiolab``.
_LAZY = {
    "analysis": "audiolab.analysis",
    "batch": "audiolab.batch",
    "cli": "audiolab.ui.cli",
    "key": "audiolab.analysis.key",
    "plot": "audiolab.ui.plot",
    "synth": "audiolab.synth",
    "tempo": "audiolab.analysis.tempo",
    "testing": "audiolab.testing",
    "ui": "audiolab.ui",
    "widgets": "audiolab.ui.widgets",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return importlib.import_module(_LAZY[name])
    raise AttributeError(f"module 'audiolab' has no attribute {name!r}")


__all__ = [
    "AudioError",
    "AudioExporter",
    "AudioFileManager",
    "AudioMetadataExtractor",
    "BatchError",
    "BatchExportError",
    "ExportResult",
    "Generation",
    "LoudnessReport",
    "Measurement",
    "ModelNotAvailableError",
    "NormalizeInfo",
    "Record",
    "Store",
    "StoreError",
    "export_batch",
    "export_wav",
    "export_wav_batch",
    "generate",
    "loudness",
    "measure",
    "measure_many",
    "normalize",
    "store",
]
