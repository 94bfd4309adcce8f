"""Music analysis beside the meter: tempo, beats and key.

    tempo.estimate(audio, sr)   BPM, tempo curve, beats, confidence
    key.estimate(audio, sr)     key name, confidence, chroma

Both use numpy only. The tempo reads the mono mix at its own rate (at most
48 kHz) through six onset functions (:mod:`audiolab.analysis._onsets`), the
periodicity pieces of :mod:`audiolab.analysis._pulse` and the beat committee
of :mod:`audiolab.analysis._beats`; the key reads the mix at about 8 kHz
(:mod:`audiolab.analysis._signal`). ``backend="madmom"`` hands both to madmom's trained
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
