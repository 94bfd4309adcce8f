"""Chroma from tonal spectral peaks: the treble and bass pitch classes of a clip over time.

The first step of :mod:`audiolab.analysis.key` (step 1 of its description):
the mono mix at about 8 kHz (:mod:`audiolab.analysis._signal`) in 1 s Hann
windows every 0.25 s, only the peaks that stand over their neighbourhood,
tuned to the clip's own A, each added to its nearest semitone. numpy only.

Examples
--------
>>> import numpy as np
>>> from audiolab.analysis._chroma import PITCH_CLASSES, chromagram
>>> sr = 8000
>>> a440 = np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
>>> PITCH_CLASSES[int(chromagram(a440, sr).treble.sum(axis=1).argmax())]
'A'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab.analysis._signal import analysis_signal

__all__ = ["PITCH_CLASSES", "Chromagram", "chromagram"]

#: The 12 chroma bins, C first, spelled with sharps.
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# The analysis grid.
_WINDOW_S = 1.0
_HOP_S = 0.25
_TREBLE_HZ = (120.0, 4000.0)
_BASS_HZ = (30.0, 120.0)
_PEAK_OVER_LOCAL_DB = 15.0  # a tonal peak stands this far over the local log mean
_BASS_PEAK_OVER_LOCAL_DB = 6.0  # in the bass, where kick drums raise the floor
_LOCAL_HZ = 40.0  # half width of the local mean
_CHUNK_FRAMES = 128  # frames analysed at a time (bounds the memory of long clips)


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
