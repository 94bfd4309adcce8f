"""Onset detection functions at 100 frames per second, from one STFT of the full band.

The tempo and the beats read these curves (see :mod:`audiolab.analysis.tempo`).
They come from the mono mix at its own rate (at most 48 kHz: hi-hats and
cymbals, above 4 kHz, often mark the beats a drummer's kick and snare leave
ambiguous), one Hann-windowed STFT of 32 to 46 ms (2048 samples at 44.1 kHz)
every 10 ms, computed a few hundred frames at a time. Six functions, each
a published onset detector that listens for something else (the committee of
Zapata, Davies & Gómez 2014 draws its strength from that diversity):

* ``timing``: log-mel SuperFlux (Böck & Widmer 2013): the mean over 40 mel
  bands (30 Hz to 16 kHz) of the rise in dB over 20 ms, measured from the
  largest of the band and its two neighbours, so that vibrato and glides are
  no onsets. It marks every onset, loud or soft.
* ``accent``: the same rise on a loudness scale (mel power to the 0.3,
  Stevens), summed below 200 Hz (kick, bass) and from 200 Hz to 4 kHz
  (snare, chords), each part scaled to its 99th percentile: loud events
  count more than quiet ones, and a kick as much as a snare. Hi-hats and
  cymbals, above, are left out: they mark the eighths as often as the beats
  (Goto 2001), and the accent decides the metrical level.
* ``flux``: spectral flux, the half-wave rectified rise of the linear
  magnitude summed over bins (Masri 1996; Dixon 2006, "Onset detection
  revisited").
* ``complex``: the rectified complex-domain detector (Duxbury et al. 2003;
  Dixon 2006): how far each rising bin lies from the value predicted from the
  two frames before (same magnitude, phase advancing steadily), summed:
  onsets of soft, pitched notes show in the phase.
* ``energy``: the rise of the frame's energy (energy flux).
* ``harmonic``: the harmonic feature of Hainsworth & Macleod (2003), as in
  the committee of Zapata et al.: for each bin from 40 Hz to 5 kHz, the
  weighted sum of the magnitudes of the 5 frames after a frame over that of
  the 5 frames before, the positive log2 ratios summed. Looking 50 ms each
  way it hears a new chord or note in legato strings, where the 20 ms rises
  of the other functions drown in the bow noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

__all__ = ["FRAME_RATE_HZ", "OnsetFunctions", "mel_filterbank", "onset_functions"]

FRAME_RATE_HZ = 100.0  # frames per second (hop of 10 ms)
# The STFT window: 0.04 s rounded to the nearest power of two of samples (in log2), so
# 32 to 46 ms (1024 samples at 32 kHz, 2048 at 44.1 and 48 kHz). Longer windows smooth the
# rise of a soft onset away, shorter ones let the tempo of soft music (strings, piano)
# fall apart on the real set.
WINDOW_S = 0.04
N_MELS = 40
FMIN_HZ, FMAX_HZ = 30.0, 16000.0
FLUX_LAG = 2  # frames: the SuperFlux rise over 20 ms
LOW_HZ = 200.0  # the accent's low part (kick, bass) ends here
FLATNESS_HZ = (200.0, 4000.0)  # the range where the spectral flatness is read
ACCENT_TOP_HZ = 4000.0  # and its high part (snare, chords) here: hi-hats mark eighths, not beats
# (``onset_db``, the "is anything starting?" curve, also reads the bands below 4 kHz)
LOUDNESS_EXPONENT = 0.3  # mel power ** 0.3: roughly loudness (Stevens)
CHUNK_FRAMES = 256  # frames transformed at a time (bounds the memory, stays in cache)
# The harmonic feature (Hainsworth & Macleod 2003): magnitudes from 40 Hz to 5 kHz, the
# frames after each frame against the frames before, weighted 1 down to 0.28.
HARMONIC_HZ = (40.0, 5000.0)
HARMONIC_CONTEXT = 5  # frames on each side
NAMES = ("timing", "accent", "flux", "complex", "energy", "harmonic")


@dataclass(frozen=True, eq=False)
class OnsetFunctions:
    """The six onset detection functions of a clip (see the module docstring).

    Attributes
    ----------
    fps : float
        Frames per second (the rate divided by a whole hop: about 100).
    n_fft : int
        The STFT window in samples.
    timing, accent, flux, complex, energy, harmonic : numpy.ndarray
        One value per frame, 0 where nothing starts; frame ``i`` is centred at
        ``i / fps`` seconds.
    onset_db : numpy.ndarray
        ``timing`` over the bands below 4 kHz only, in dB: what tells notes
        and hits from stationary sound (noise, held tones), the same whatever
        the sample rate.
    flatness : float
        The median spectral flatness (Johnston 1988: geometric over
        arithmetic mean of the power) in 12 bands from 200 Hz to 4 kHz, over
        every 4th frame: about 0.63 for noise of any colour, 0.1 to 0.35 for
        notes (their partials stand out), 0.4 to 0.6 for drums.
    """

    fps: float
    n_fft: int
    timing: np.ndarray
    accent: np.ndarray
    flux: np.ndarray
    complex: np.ndarray
    energy: np.ndarray
    harmonic: np.ndarray
    onset_db: np.ndarray
    flatness: float

    def committee(self) -> list[np.ndarray]:
        """The six functions, each scaled to unit standard deviation (the beat committee)."""
        out = []
        for name in NAMES:
            curve = getattr(self, name)
            scale = float(curve.std())
            out.append(curve / scale if scale > 0 else curve)
        return out


def mel_filterbank(sr: float, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """(N_MELS, bins) triangular filters on the HTK mel scale, and their centres in Hz.

    From 30 Hz to 16 kHz or the Nyquist frequency, whichever is lower; a band
    too narrow to hold an FFT bin gets its nearest bin.
    """

    def mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    top = min(FMAX_HZ, 0.95 * sr / 2)
    edges = 700.0 * (10.0 ** (np.linspace(mel(FMIN_HZ), mel(top), N_MELS + 2) / 2595.0) - 1.0)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(
        0.0, np.minimum((freqs - lower) / (centre - lower), (upper - freqs) / (upper - centre))
    )
    empty = np.flatnonzero(bank.sum(axis=1) == 0)
    bank[empty, np.abs(freqs[None, :] - centre[empty]).argmin(axis=1)] = 1.0
    return bank, edges[1:-1]


def _flatness_bands(sr: float, n_fft: int) -> list[slice]:
    """The FFT bins of 12 log-spaced bands from 200 Hz to 4 kHz (those of 4 bins or more)."""
    edges = np.geomspace(FLATNESS_HZ[0], min(FLATNESS_HZ[1], 0.95 * sr / 2), 13)
    bins = np.rint(edges * n_fft / sr).astype(int)
    return [slice(int(lo), int(hi)) for lo, hi in pairwise(bins) if hi - lo >= 4]


def _harmonic(magnitude: np.ndarray) -> np.ndarray:
    """The harmonic feature of each frame from its bins' magnitudes (frames, bins)."""
    context = HARMONIC_CONTEXT
    weights = 1.0 - 0.9 * np.arange(context) / context  # 1, 0.82, ... 0.28
    n = len(magnitude)
    padded = np.pad(magnitude, ((context, context), (0, 0)))
    before = np.zeros_like(magnitude)
    after = np.zeros_like(magnitude)
    for i, weight in enumerate(weights):
        before += weight * padded[context - 1 - i : context - 1 - i + n]
        after += weight * padded[context + 1 + i : context + 1 + i + n]
    # as Hainsworth & Macleod: an empty past counts as 1, an empty future as tiny
    ratio = np.maximum(after, 1e-12) / np.where(before > 0, before, 1.0)
    return np.maximum(0.0, np.log2(ratio)).sum(axis=1)


def _spectra(
    x: np.ndarray, sr: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int, float]:
    """Mel power, spectral flux, complex-domain deviation and the harmonic feature per
    frame, the spectral flatness, and the frame grid.

    The STFT is taken a chunk of frames at a time; each chunk reaches
    ``HARMONIC_CONTEXT`` frames past both ends, so the differences and the
    harmonic feature see their neighbours, and long files never hold more
    than a chunk of spectra.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    hop = max(1, round(sr / FRAME_RATE_HZ))
    n_fft = 1 << max(4, round(math.log2(WINDOW_S * sr)))
    bank, _ = mel_filterbank(sr, n_fft)
    used = int(np.flatnonzero(bank.any(axis=0)).max()) + 1  # bins up to the top band
    bank_t = np.ascontiguousarray(bank[:, :used].T, dtype=np.float32)
    padded = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft // 2)]).astype(np.float32)
    frames = sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft).astype(np.float32)
    n = len(frames)
    mel = np.empty((n, len(bank)))
    flux, deviation, harmonic = np.zeros(n), np.zeros(n), np.zeros(n)
    bands = _flatness_bands(sr, n_fft)
    flatness: list[np.ndarray] = []
    low, high = (round(f * n_fft / sr) for f in HARMONIC_HZ)
    tonal = slice(low, max(low, min(high + 1, used)))
    margin = HARMONIC_CONTEXT  # at least the 2 frames the differences need
    for first in range(0, n, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, n)
        start, stop = max(0, first - margin), min(n, last + margin)
        spectrum = np.fft.rfft(frames[start:stop] * window, axis=1)[:, :used]
        power = spectrum.real**2 + spectrum.imag**2
        mag = np.sqrt(power)
        keep = slice(first - start, last - start)  # row r is frame start + r
        rows = np.zeros((2, len(power)))
        rows[0, 1:] = np.maximum(0.0, mag[1:] - mag[:-1]).sum(axis=1)
        if len(spectrum) >= 3:
            # the prediction: magnitude of the frame before, phase advancing as it did
            one, two = spectrum[1:-1], spectrum[:-2]
            turn = one * np.conj(two)
            scale = np.abs(turn)
            predicted = np.where(scale > 0, one * turn / np.maximum(scale, 1e-30), one)
            far = np.abs(spectrum[2:] - predicted)
            rows[1, 2:] = np.where(mag[2:] >= mag[1:-1], far, 0.0).sum(axis=1)
        mel[first:last] = power[keep] @ bank_t
        flux[first:last] = rows[0, keep]
        deviation[first:last] = rows[1, keep]
        harmonic[first:last] = _harmonic(mag[:, tonal])[keep]
        # spectral flatness (Johnston 1988) of every 4th frame that is not silent
        sample = power[keep][::4].astype(np.float64)
        sample = sample[sample.sum(axis=1) > 0]
        for band in bands:
            part = sample[:, band] + 1e-30
            flatness.append(np.exp(np.log(part).mean(axis=1)) / part.mean(axis=1))
    measured = np.concatenate(flatness) if flatness else np.zeros(0)
    median = float(np.median(measured)) if measured.size else 1.0
    return mel, flux, deviation, harmonic, median, n_fft, sr / hop


def onset_functions(x: np.ndarray, sr: int) -> OnsetFunctions:
    """The six onset detection functions of the mono signal ``x``.

    Parameters
    ----------
    x : numpy.ndarray
        Mono samples.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    OnsetFunctions

    Examples
    --------
    >>> import numpy as np
    >>> click = np.zeros(16000)
    >>> click[8000] = 1.0
    >>> functions = onset_functions(click, 16000)
    >>> round(float(np.argmax(functions.flux)) / functions.fps, 2)  # the click at 0.5 s
    0.5
    """
    mel, flux, deviation, harmonic, flatness, n_fft, fps = _spectra(
        np.asarray(x, dtype=np.float64), sr
    )
    n = len(mel)
    timing, accent, energy, onset_db = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    top = float(mel.max()) if n else 0.0
    if not top > 0:
        zero = np.zeros(n)
        return OnsetFunctions(fps, n_fft, timing, accent, zero, zero, energy, zero, onset_db, 1.0)
    mel /= top
    _, centres = mel_filterbank(sr, n_fft)
    db = 10.0 * np.log10(np.maximum(mel, 1e-8))  # an 80 dB range
    # SuperFlux: the rise over the largest of the band and its two neighbours 20 ms earlier
    before = db[:-FLUX_LAG].copy()
    before[:, 1:] = np.maximum(before[:, 1:], db[:-FLUX_LAG, :-1])
    before[:, :-1] = np.maximum(before[:, :-1], db[:-FLUX_LAG, 1:])
    rise_db = np.maximum(0.0, db[FLUX_LAG:] - before)
    timing[FLUX_LAG:] = rise_db.mean(axis=1)
    onset_db[FLUX_LAG:] = rise_db[:, centres < ACCENT_TOP_HZ].mean(axis=1)
    loud = mel**LOUDNESS_EXPONENT
    rise = np.maximum(0.0, loud[FLUX_LAG:] - loud[:-FLUX_LAG])
    high = (centres >= LOW_HZ) & (centres < ACCENT_TOP_HZ)
    for part in (rise[:, centres < LOW_HZ], rise[:, high]):
        total = part.sum(axis=1)
        scale = float(np.percentile(total, 99)) if total.size else 0.0
        if scale > 0:
            accent[FLUX_LAG:] += total / scale
    frame_energy = mel.sum(axis=1)
    energy[1:] = np.maximum(0.0, np.diff(frame_energy))
    return OnsetFunctions(
        fps, n_fft, timing, accent, flux, deviation, energy, harmonic, onset_db, flatness
    )
