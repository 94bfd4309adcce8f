"""Musical key from chroma: "C major", "F# minor", with a confidence.

numpy only. How it works, in the order of the code:

1. **Chroma from tonal peaks** (:mod:`audiolab.analysis._chroma`). The mono
   mix at about 8 kHz (see :mod:`audiolab.analysis._signal`) is cut into 1 s
   Hann windows every 0.25 s (1 Hz bins: semitones resolve down to the
   bass). Only *tonal* peaks count: local maxima 15 dB over the mean log
   spectrum within 40 Hz (noise and cymbals make hardly any). Each peak is
   placed by parabolic interpolation, the tuning is the circular mean of all
   peaks' deviations from the equal-tempered grid (A = 440 Hz), and each
   peak adds its magnitude to the nearest semitone, weighted by
   ``cos(pi * distance) ** 2``. Peaks from 120 Hz to 4 kHz make the *treble* chroma;
   peaks from 30 to 120 Hz (6 dB over the local mean, where kick drums raise
   the floor) the *bass* chroma, but only when their octave is a peak too: a
   bass note has harmonics, the decaying tail of a kick drum is a near-pure
   sine.
2. **Is there pitch at all?** The key is None when less than a fifth of the
   energy from 30 Hz to 4 kHz lies in the main lobes of tonal peaks
   (silence, noise), or when the mean treble chroma holds fewer than 1.5
   pitch classes (exp of its entropy: a single tone, drums alone). Below
   4 pitch classes (a dyad, a bare melody) a key is given with its
   confidence scaled by ``classes / 4``.
3. **Key profiles.** The mean treble chroma, and with weight 0.5 the mean
   bass chroma, are correlated with the 24 rotations of the Krumhansl-Kessler
   profiles. On its own this is the classic (*naive*) method.
4. **Tonic evidence.** Mean chroma cannot tell a key from its relative (C G
   Am F and Am F C G hold the same notes), so the score adds what a listener
   hears: how much the opening (weight 1.0) and the closing (0.5) sound like
   the key's tonic triad over its root in the bass (frames weighted by
   ``exp(-t / 2 s)`` from either end), and how much of the time they do
   (0.6). Each term is the cosine of the treble chroma with the triad,
   times ``(1 + bass share of the root) / 2``.

The confidence is the softmax weight (temperature 0.15) of the best of the
24 scores: near 1 when no other key comes close, about 0.5 between two.

Examples
--------
>>> from audiolab import synth
>>> from audiolab.analysis import key
>>> ref = synth.reference(100, "E minor", duration=8.0, sr=16000)
>>> estimate = key.estimate(ref.audio, ref.sample_rate)
>>> estimate.key, estimate.confidence > 0.5
('E minor', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from audiolab._audio import AudioError
from audiolab.analysis._chroma import PITCH_CLASSES, Chromagram, chromagram

__all__ = [
    "KRUMHANSL_MAJOR",
    "KRUMHANSL_MINOR",
    "MODES",
    "PITCH_CLASSES",
    "Chromagram",
    "KeyEstimate",
    "chromagram",
    "estimate",
    "key_name",
    "parse_key",
    "profile_scores",
]

_SPELLINGS = {name.lower(): i for i, name in enumerate(PITCH_CLASSES)} | {
    "db": 1, "eb": 3, "gb": 6, "ab": 8, "bb": 10, "cb": 11, "fb": 4, "e#": 5, "b#": 0,
}  # fmt: skip
MODES = ("major", "minor")

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first. Temperley's (1999) and
# Albrecht & Shanahan's (2013) profiles, alone or averaged with these, were measured on the
# same chroma and scored lower on both the synthesized set and ../shared/real-music (they
# read the Eb major EDM clip as Eb minor): these stay.
KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

# When is there pitch?
_MIN_TONAL_FRACTION = 0.2  # of the energy from 30 Hz to 4 kHz, in tonal peaks
_MIN_PITCH_CLASSES = 1.5  # effective number (exp of the entropy) of the mean chroma
# below this many effective pitch classes (a dyad, a bare melody) the confidence is scaled down
_FULL_PITCH_CLASSES = 4.0
# Score weights (see the module docstring).
_W_BASS_PROFILE = 0.5
_W_OPENING = 1.0
_W_CLOSING = 0.5
_W_TONIC_TIME = 0.6
_EDGE_S = 2.0  # opening and closing chords are read from about this many seconds
_SOFTMAX_TEMPERATURE = 0.15


def parse_key(key: str) -> tuple[int, str]:
    """``"F# minor"`` -> ``(6, "minor")``; flats and any letter case accepted.

    Parameters
    ----------
    key : str
        A tonic (``C``, ``C#``, ``Db``, ...) and ``major`` or ``minor``.

    Returns
    -------
    (int, str)
        Pitch class of the tonic (C = 0) and the mode.

    Raises
    ------
    AudioError
        When the string is not a key.

    Examples
    --------
    >>> parse_key("Bb major"), parse_key("f# minor")
    ((10, 'major'), (6, 'minor'))
    """
    parts = str(key).split()
    if len(parts) == 2 and parts[0].lower() in _SPELLINGS and parts[1].lower() in MODES:
        return _SPELLINGS[parts[0].lower()], parts[1].lower()
    raise AudioError(
        f"not a key: {key!r}; expected a tonic and a mode, like 'C major' or 'F# minor'"
    )


def key_name(tonic: int, mode: str) -> str:
    """The name of a key, spelled with sharps.

    Parameters
    ----------
    tonic : int
        Pitch class, C = 0.
    mode : str
        ``"major"`` or ``"minor"``.

    Returns
    -------
    str

    Examples
    --------
    >>> key_name(6, "minor")
    'F# minor'
    """
    return f"{PITCH_CLASSES[tonic % 12]} {mode}"


def _key_index_name(index: int) -> str:
    return key_name(index % 12, MODES[index // 12])


@lru_cache(maxsize=4)
def _rotations(major: tuple[float, ...], minor: tuple[float, ...]) -> np.ndarray:
    """(24, 12) mean-free profiles of the 24 keys (C major .. B major, C minor .. B minor)."""
    profiles = np.stack(
        [np.roll(np.asarray(p, dtype=float), k) for p in (major, minor) for k in range(12)]
    )
    profiles -= profiles.mean(axis=1, keepdims=True)
    profiles.setflags(write=False)
    return profiles


def profile_scores(
    chroma: Any, major: Any = KRUMHANSL_MAJOR, minor: Any = KRUMHANSL_MINOR
) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma vector with the 24 key profiles.

    Parameters
    ----------
    chroma : array_like
        12 values, C first.
    major, minor : array_like
        The profiles, tonic first (default Krumhansl-Kessler).

    Returns
    -------
    numpy.ndarray
        Shape (24,): C major .. B major, then C minor .. B minor. All zero for
        a flat chroma.

    Examples
    --------
    >>> import numpy as np
    >>> c_major_scale = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], float)
    >>> key_name(int(np.argmax(profile_scores(c_major_scale))) % 12, "major")
    'C major'
    """
    c = np.asarray(chroma, dtype=float)
    c = c - c.mean()
    profiles = _rotations(tuple(major), tuple(minor))
    norm = np.linalg.norm(c) * np.linalg.norm(profiles, axis=1)
    if not np.linalg.norm(c) > 0:
        return np.zeros(24)
    return np.asarray(profiles @ c / norm)


# ---------------------------------------------------------------- the key
@dataclass(frozen=True, eq=False)
class KeyEstimate:
    """A key estimate with its evidence.

    Attributes
    ----------
    key : str or None
        ``"C major"``, ``"F# minor"``; None without pitch content.
    confidence : float
        In [0, 1]: the softmax weight of the best key among the 24 (0.0 when
        ``key`` is None).
    scores : numpy.ndarray
        (24,) score of each key, C major .. B major, C minor .. B minor.
    chroma : numpy.ndarray
        (12,) mean treble chroma, normalized to sum 1 (zeros without pitch).
    tonal_fraction : float
        Fraction of the energy (30 Hz - 4 kHz) in tonal peaks.
    backend : str
        ``"builtin"`` or ``"madmom"``.

    Examples
    --------
    >>> import numpy as np
    >>> estimate(np.zeros(16000), 16000).key is None
    True
    """

    key: str | None
    confidence: float
    scores: np.ndarray = field(repr=False)
    chroma: np.ndarray = field(repr=False)
    tonal_fraction: float
    backend: str = "builtin"


def _triad_templates() -> np.ndarray:
    """(24, 12) unit-norm tonic triads: C major .. B major, C minor .. B minor."""
    out = np.zeros((24, 12))
    for k in range(12):
        out[k, [k, (k + 4) % 12, (k + 7) % 12]] = 1.0
        out[12 + k, [k, (k + 3) % 12, (k + 7) % 12]] = 1.0
    return out / np.sqrt(3.0)


def _normalized(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=0, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


def estimate(audio: Any, sr: int, *, backend: str = "builtin") -> KeyEstimate:
    """Estimate the key of a clip.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sr : int
        Sample rate in Hz.
    backend : {"builtin", "madmom", "auto"}
        ``"builtin"`` (default): this module, numpy only. ``"madmom"``:
        madmom's CNN key recognizer (Korzeniowski & Widmer 2018;
        ``pip install "audiolab[mir]"``; its trained models are licensed CC
        BY-NC-SA 4.0, non-commercial). ``"auto"``: madmom when installed.

    Returns
    -------
    KeyEstimate
        ``key`` is None for audio without pitch content: silence, noise,
        drums, a single tone.

    Raises
    ------
    AudioError
        Invalid audio or sample rate, an unknown backend; madmom asked for
        and not installed.

    Examples
    --------
    >>> from audiolab import synth
    >>> ref = synth.reference(120, "C major", duration=8.0, sr=16000)
    >>> estimate(ref.audio, ref.sample_rate).key
    'C major'
    """
    from audiolab.analysis._signal import check_backend

    if check_backend(backend) == "madmom":
        from audiolab.analysis import _madmom

        return _madmom.key_estimate(audio, sr)
    c = chromagram(audio, sr)
    total = c.treble.sum(axis=1)
    mass = float(total.sum())
    if not mass > 0 or c.tonal_fraction < _MIN_TONAL_FRACTION:
        return KeyEstimate(None, 0.0, np.zeros(24), np.zeros(12), c.tonal_fraction)
    mean = total / mass
    nonzero = mean[mean > 0]
    effective_classes = float(np.exp(-np.sum(nonzero * np.log(nonzero))))
    if effective_classes < _MIN_PITCH_CLASSES:
        return KeyEstimate(None, 0.0, np.zeros(24), mean, c.tonal_fraction)

    scores = profile_scores(mean)
    bass_total = c.bass.sum(axis=1)
    if bass_total.sum() > 0:
        scores = scores + _W_BASS_PROFILE * profile_scores(bass_total)

    # Per-frame chroma with the bass counted twice: the chord and its root.
    frame_mass = c.treble.sum(axis=0) + c.bass.sum(axis=0)
    sounding = np.flatnonzero(frame_mass > 0.05 * frame_mass.max())
    treble = _normalized(c.treble[:, sounding])
    bass = _normalized(c.bass[:, sounding])
    triads = _triad_templates()
    roots = np.concatenate([np.eye(12), np.eye(12)])
    # how much each frame sounds like each key's tonic triad over its root
    tonic_like = (triads @ treble) * (0.5 + 0.5 * (roots @ bass))  # (24, frames)
    times = c.times_s[sounding]
    start, end = times[0], times[-1]
    opening = np.exp(-(times - start) / _EDGE_S)
    closing = np.exp(-(end - times) / _EDGE_S)
    scores = scores + _W_OPENING * (tonic_like @ opening) / opening.sum()
    scores = scores + _W_CLOSING * (tonic_like @ closing) / closing.sum()
    scores = scores + _W_TONIC_TIME * tonic_like.mean(axis=1)

    best = int(np.argmax(scores))
    weights = np.exp((scores - scores[best]) / _SOFTMAX_TEMPERATURE)
    confidence = float(1.0 / weights.sum()) * min(1.0, effective_classes / _FULL_PITCH_CLASSES)
    return KeyEstimate(_key_index_name(best), confidence, scores, mean, c.tonal_fraction)
