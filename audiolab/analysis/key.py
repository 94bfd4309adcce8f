"""Musical key from chroma: "C major", "F# minor", with a confidence.

numpy only. How it works, in the order of the code:

1. **Chroma from tonal peaks.** The mono mix at about 8 kHz (see
   :mod:`audiolab.analysis._signal`) is cut into 1 s Hann windows every 0.25 s
   (1 Hz bins: semitones resolve down to the bass). Only *tonal* peaks count:
   local maxima 15 dB over the mean log spectrum within 40 Hz (noise and
   cymbals make hardly any). Each peak is placed by parabolic interpolation,
   the tuning is the circular mean of all peaks' deviations from the
   equal-tempered grid (A = 440 Hz), and each peak adds its magnitude to the
   nearest semitone, weighted by ``cos(pi * distance) ** 2``. Peaks from
   120 Hz to 4 kHz make the *treble* chroma; peaks from 30 to 120 Hz (6 dB
   over the local mean, where kick drums raise the floor) the *bass* chroma,
   but only when their octave is a peak too: a bass note has harmonics, the
   decaying tail of a kick drum is a near-pure sine.
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

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from audiolab._audio import AudioError
from audiolab.analysis._signal import analysis_signal

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

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
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

# The analysis grid.
_WINDOW_S = 1.0
_HOP_S = 0.25
_TREBLE_HZ = (120.0, 4000.0)
_BASS_HZ = (30.0, 120.0)
_PEAK_OVER_LOCAL_DB = 15.0  # a tonal peak stands this far over the local log mean
_BASS_PEAK_OVER_LOCAL_DB = 6.0  # in the bass, where kick drums raise the floor
_LOCAL_HZ = 40.0  # half width of the local mean
_CHUNK_FRAMES = 128  # frames analysed at a time (bounds the memory of long clips)
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


# ---------------------------------------------------------------- chroma
@dataclass(frozen=True, eq=False)
class Chromagram:
    """Treble and bass chroma over time, from tonal spectral peaks.

    Attributes
    ----------
    times_s : numpy.ndarray
        Centre of each 1 s frame (every 0.25 s, from 0 to the end).
    treble, bass : numpy.ndarray
        (12, frames), C first: magnitudes of the tonal peaks from 120 Hz to
        4 kHz, and of the bass notes from 30 to 120 Hz.
    tonal_fraction : float
        The energy in the main lobes of tonal peaks over all the energy from
        30 Hz to 4 kHz.
    tuning_semitones : float
        The tuning's deviation from A = 440 Hz, in semitones.

    Examples
    --------
    >>> import numpy as np
    >>> c = chromagram(np.zeros(8000), 8000)
    >>> c.treble.shape, c.tonal_fraction
    ((12, 5), 0.0)
    """

    times_s: np.ndarray = field(repr=False)
    treble: np.ndarray = field(repr=False)
    bass: np.ndarray = field(repr=False)
    tonal_fraction: float
    tuning_semitones: float


def _widen(mask: np.ndarray, bins: int) -> np.ndarray:
    """A (frames, bins) mask widened by ``bins`` on both sides along the bins."""
    out = mask.copy()
    for shift in range(1, bins + 1):
        out[:, shift:] |= mask[:, :-shift]
        out[:, :-shift] |= mask[:, shift:]
    return out


def _tonal_peaks(
    windowed: np.ndarray, n_fft: int, lo: int, hi: int, fs: float, first: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The tonal peaks of some frames, between FFT bins lo and hi.

    Returns their frame numbers (counted from ``first``), frequencies,
    magnitudes, whether their octave is a peak too, and the energies of the
    band and of the tonal peaks' main lobes.
    """
    spectrum = np.fft.rfft(windowed, n_fft, axis=1)[:, lo - 1 : hi + 1]
    mags = np.abs(spectrum).astype(np.float64)  # bins lo-1 .. hi
    log_mag = np.log(np.maximum(mags, 1e-9))
    # the mean log magnitude within _LOCAL_HZ of each bin, by cumulative sums
    half = max(2, round(_LOCAL_HZ * n_fft / fs))
    padded = np.pad(log_mag, ((0, 0), (half, half)), mode="edge")
    cumulative = np.cumsum(padded, axis=1)
    cumulative = np.concatenate([np.zeros((len(mags), 1)), cumulative], axis=1)
    local = (cumulative[:, 2 * half + 1 :] - cumulative[:, : -2 * half - 1]) / (2 * half + 1)
    centre = log_mag[:, 1:-1]
    prominence = centre - local[:, 1:-1]
    local_max = (centre > log_mag[:, :-2]) & (centre >= log_mag[:, 2:])
    weak_peak = local_max & (prominence > _BASS_PEAK_OVER_LOCAL_DB * math.log(10) / 20)
    bass_bins = (lo + np.arange(hi - lo)) * fs / n_fft < _BASS_HZ[1]
    is_peak = weak_peak & (bass_bins | (prominence > _PEAK_OVER_LOCAL_DB * math.log(10) / 20))
    frame_index, bin_index = np.nonzero(is_peak)
    # parabolic interpolation of each peak on the log magnitude
    a = log_mag[frame_index, bin_index]
    b = log_mag[frame_index, bin_index + 1]
    c = log_mag[frame_index, bin_index + 2]
    denominator = a - 2 * b + c
    offset = np.where(denominator < 0, 0.5 * (a - c) / np.where(denominator < 0, denominator, 1), 0)
    # A bass note counts when its octave (second harmonic) is a peak too: the
    # tail of a kick drum is a near-pure sine and must not read as a bass note.
    near_peak = _widen(weak_peak, 2)
    octave_bin = np.round(2.0 * (lo + bin_index + offset)).astype(np.int64) - lo
    inside = octave_bin < near_peak.shape[1]
    has_octave = np.zeros(len(bin_index), dtype=bool)
    has_octave[inside] = near_peak[frame_index[inside], octave_bin[inside]]
    band_energy = mags[:, 1:-1] ** 2
    # the energy in the main lobes (+-2 bins of a Hann window) of the tonal peaks
    tonal_energy = float(band_energy[_widen(is_peak, 2)].sum())
    return (
        first + frame_index,
        (lo + bin_index + offset) * fs / n_fft,
        np.exp(b - 0.25 * (a - c) * offset),
        has_octave,
        float(band_energy.sum()),
        tonal_energy,
    )


def chromagram(audio: Any, sr: int) -> Chromagram:
    """Treble and bass chroma from the tonal peaks of a 1 s STFT every 0.25 s.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples); channels are averaged.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    Chromagram
        ``times_s`` (frame centres), ``treble`` and ``bass`` chroma of shape
        (12, frames) (C first, magnitudes of tonal peaks), the fraction of the
        energy that is tonal, and the tuning in semitones off A = 440 Hz.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 8000
    >>> a440 = np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
    >>> c = chromagram(a440, sr)
    >>> PITCH_CLASSES[int(c.treble.sum(axis=1).argmax())], abs(c.tuning_semitones) < 0.01
    ('A', True)
    """
    y, fs = analysis_signal(audio, sr)
    window = max(16, round(_WINDOW_S * fs))
    hop = max(1, round(_HOP_S * fs))
    n_fft = 1 << (window - 1).bit_length()
    # Frames centred on 0, hop, 2 hop, ... up to the end: the first and last
    # chords are as present as the others.
    y = np.concatenate([np.zeros(window // 2), y, np.zeros(window - window // 2)])
    n_frames = 1 + (len(y) - window) // hop
    times = np.arange(n_frames) * hop / fs
    freqs = np.arange(n_fft // 2 + 1) * fs / n_fft
    lo = int(np.searchsorted(freqs, _BASS_HZ[0]))
    hi = int(np.searchsorted(freqs, min(_TREBLE_HZ[1], 0.45 * fs)))
    treble = np.zeros((12, n_frames))
    bass = np.zeros((12, n_frames))
    if hi - lo < 8:
        return Chromagram(times, treble, bass, 0.0, 0.0)
    from numpy.lib.stride_tricks import sliding_window_view

    frames = sliding_window_view(y.astype(np.float32), window)[::hop][:n_frames]
    hann = np.hanning(window).astype(np.float32)
    found = [
        _tonal_peaks(frames[first : first + _CHUNK_FRAMES] * hann, n_fft, lo, hi, fs, first)
        for first in range(0, n_frames, _CHUNK_FRAMES)
    ]
    energy_all = sum(f[4] for f in found)
    if not energy_all > 0:
        return Chromagram(times, treble, bass, 0.0, 0.0)
    tonal_fraction = sum(f[5] for f in found) / energy_all
    frame_index, peak_hz, peak_mag, has_octave = (
        np.concatenate([f[i] for f in found]) for i in range(4)
    )
    midi = 69.0 + 12.0 * np.log2(peak_hz / 440.0)
    deviation = midi - np.round(midi)
    # circular mean of the deviations, weighted by magnitude
    weights = peak_mag * (peak_hz >= _TREBLE_HZ[0] / 2)
    angle = np.angle(np.sum(weights * np.exp(2j * np.pi * deviation)))
    tuning = float(angle / (2 * np.pi)) if weights.sum() > 0 else 0.0
    midi -= tuning
    nearest = np.round(midi)
    closeness = np.cos(np.pi * (midi - nearest)) ** 2
    pitch_class = nearest.astype(np.int64) % 12
    value = peak_mag * closeness
    for target, (f_lo, f_hi), need_octave in (
        (treble, _TREBLE_HZ, False),
        (bass, _BASS_HZ, True),
    ):
        band = (peak_hz >= f_lo) & (peak_hz < f_hi)
        if need_octave:
            band &= has_octave
        np.add.at(target, (pitch_class[band], frame_index[band]), value[band])
    return Chromagram(times, treble, bass, tonal_fraction, tuning)


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
