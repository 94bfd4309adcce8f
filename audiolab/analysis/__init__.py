"""Music analysis beside the meter: tempo, beats and key.

    tempo.estimate(audio, sr)   BPM, tempo curve, beats, confidence
    key.estimate(audio, sr)     key name, confidence, chroma

Both read the mono mix at about 8 kHz (:mod:`audiolab.analysis._signal`) and
use numpy only.

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
