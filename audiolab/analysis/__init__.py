"""Music analysis beside the meter: tempo, beats and key.

    tempo.estimate(audio, sr)   BPM, tempo curve, beats, confidence
    key.estimate(audio, sr)     key name, confidence, chroma

Both read the mono mix at about 8 kHz (:mod:`audiolab.analysis._signal`) and
use numpy only (:mod:`audiolab.analysis._pulse` holds the novelty-curve
pieces of the tempo). ``backend="madmom"`` hands both to madmom's trained
models instead (:mod:`audiolab.analysis._madmom`; ``pip install
"audiolab[mir]"``; the models are licensed CC BY-NC-SA 4.0, non-commercial).

Examples
--------
>>> from audiolab import synth
>>> from audiolab.analysis import tempo
>>> ref = synth.reference(120, "C major", duration=8.0, sr=16000)
>>> round(tempo.estimate(ref.audio, ref.sample_rate).bpm)
120
"""

from __future__ import annotations

from audiolab.analysis import key, tempo

__all__ = ["key", "tempo"]
