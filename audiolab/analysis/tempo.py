"""Tempo in BPM, a tempo curve over the clip, and beat times.

numpy only: no scipy, no numba, no librosa, so the first call in a
fresh process costs what the arithmetic costs. How it works, in the order of
the code:

1. **Novelty at 100 frames per second.** The mono mix at the analysis rate
   (about 8 kHz, see :mod:`audiolab.analysis._signal`) goes through a 40-band mel
   filterbank (STFT of about 60 ms). Two curves come out:

   * *timing*: log-mel spectral flux, the mean over bands of the rise in dB
     over 20 ms. It marks every onset, loud or soft, and places the beats.
   * *accent*: the same rise on a loudness scale (mel power to the 0.3),
     summed below 200 Hz (kick, bass) and above (snare, chords, hats), each
     part scaled to its 99th percentile: loud events count more than quiet
     ones, and a kick as much as a snare.

2. **Periodicity in 8 s windows** (every second; one window for clips up to
   10 s). The autocorrelation of the novelty, supported by its values at
   twice and half the lag, peaks at some metrical level between 40 and
   250 BPM (bar, half bar, beat or eighth). A comb (the mean novelty over
   pulses at their best phase) refines that period.

3. **Metrical levels** (which level is the beat). From the slowest level at
   or above 40 BPM up to 200 BPM (the tactus range of tapping studies:
   Moelants & McKinney 2004, London 2004), each level ``2 L`` is scored by
   the evidence of the doublings below it, ``log(ratio / 0.36)`` where
   ``ratio`` is how much accent the off-beats of ``L`` carry relative to its
   beats, plus a log-Gaussian tempo prior (centre 120 BPM, 1.4 octaves:
   Ellis 2007). Kick and snare alternating on the beats (backbeat, four on
   the floor, the drum-and-bass two-step) double; hi-hat eighths under them
   do not; a pulse faster than 200 BPM is read at half its rate.

4. **One level for the clip.** Up to eight windows spread over the clip do
   steps 2 and 3; each level gets the window's pulse clarity (its
   autocorrelation height) times its softmax weight. The tempo *families*
   (levels an octave apart) are ranked by that support times the salience
   of a steady pulse at the family's tempo over the whole clip (step 6): the
   beat grid decides between, say, 110 and 73 BPM (a 3:2 ratio), the accent
   and the prior between 55 and 110. Inside the family the level with the
   most support wins, the others are the *alternatives* with their shares.
   From the middle window outwards, every window's period is sought within
   10 % of its neighbour's, so the curve follows tempo changes without
   octave jumps.

5. **Beats** by dynamic programming (Ellis 2007): a frame's score is its
   onset strength plus the best predecessor's score less
   ``100 * log(interval / period) ** 2``, with the local period of the curve.
   Frames closer than half the shortest period cannot depend on each other,
   so the recursion runs over blocks of frames at once (vectorized numpy).
   The tempo curve is then re-read from the beats: the slope of beat time
   over beat number in each window (unbiased at the centre of a ramp).

6. **Is there a pulse?** The novelty is folded by beat phase along the curve;
   how far its best phase stands out (in standard errors), less the same at
   six tempi 7 to 21 % off, is the *pulse salience*: 0 to 3 for noise, 5 to
   30 for steady music, less for rubato. The tempo is None for clips shorter
   than 1.5 s, when the median pulse clarity is below 0.05, and when the
   salience is below 4 *and* nothing starts: the 99th percentile of the
   timing novelty under 1 dB or under 2.2 times its median (noise, a held
   tone or chord, a tremolo). Music with onsets but a weak pulse (a rubato
   string quartet) gets a tempo with a low confidence.

The global tempo is the median of the curve, refined on the whole clip with
the comb when the curve is steady (within 2 %).

Examples
--------
>>> from audiolab import synth
>>> from audiolab.analysis import tempo
>>> ref = synth.reference(174, "A minor", duration=8.0, sr=16000, pattern="breakbeat")
>>> round(tempo.estimate(ref.audio, ref.sample_rate).bpm)
174
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab.analysis._signal import analysis_signal

__all__ = ["TempoEstimate", "estimate", "onset_strength"]

FRAME_RATE_HZ = 100.0  # novelty frames per second (hop of 10 ms)
WINDOW_S = 0.04  # STFT window, rounded up to a power of two (64 ms at 8 kHz)
N_MELS = 40
FMIN_HZ, FMAX_HZ = 30.0, 8000.0
FLUX_LAG = 2  # frames: the rise over 20 ms
# The flux rises as an onset enters the window, before its centre reaches it:
# frame times are moved this much later (beats of synthesized drums then fall
# on their true times within a few ms).
ONSET_LEAD_S = 0.01
LOW_HZ = 200.0  # the accent's low part (kick, bass) ends here
LOUDNESS_EXPONENT = 0.3  # mel power ** 0.3: roughly loudness (Stevens)
MIN_BPM, MAX_BPM = 40.0, 250.0  # periodicities searched
# The beat (tactus) is sought from 40 to 200 BPM: inter-beat intervals of 0.3 to 1.5 s,
# the range of tapped tempi in Moelants & McKinney (2004) and London (2004, "Hearing
# in Time"); a pulse faster than 200 BPM is read at half its rate.
MAX_TACTUS_BPM = 200.0
# A log-Gaussian tempo prior (Ellis 2007, "Beat tracking by dynamic programming": centre
# 120 BPM, 1.4 octaves wide) tilts the choice between metrical levels when the accent
# evidence is weak.
PRIOR_CENTRE_BPM = 120.0
PRIOR_OCTAVES = 1.4
MIN_SECONDS = 1.5  # shorter clips have no tempo
SHORT_SECONDS = 6.0  # below this, the confidence is scaled down by duration / SHORT_SECONDS
MIN_CLARITY = 0.05  # autocorrelation at the pulse period, below: no pulse
MIN_SALIENCE = 4.0  # below, a pulse is not told from chance: a tempo only where onsets are
# Are there onsets at all? Stationary sound (noise, held tones, a chord, a tremolo) has 20 ms
# rises of the band-mean log-mel power whose 99th percentile stays under 2 dB, and under
# 2.2 times their median (noise: about 1.8, from the chi-square spread of band powers);
# notes and hits make a heavy tail.
MIN_ONSET_DB = 1.0
MIN_ONSET_CONTRAST = 2.2
MIN_ONSET_RATE_HZ = 4000  # below, the 40 mel bands are not distinct: the strict rule alone
NULL_TEMPO_FACTORS = (0.81, 0.87, 0.93, 1.07, 1.14, 1.21)
CURVE_WINDOW_S = 8.0
CURVE_HOP_S = 1.0
MAX_CURVE_POINTS = 240
VOTING_WINDOWS = 8  # windows that decide the tempo level (the others follow it)
REFINE_RANGE = 1.06  # a window's period is refined within this factor of its lag
AGREE_OCTAVES = 0.06  # windows within this (about 4 %) agree on the tempo
TRACK_RANGE = 1.1  # then each window's period is sought within this factor of its neighbour's
OFFBEAT_RATIO = 0.36  # the off-beats' share of the accent at which doubling is neutral
TIGHTNESS = 100.0  # beat tracker: penalty on log(interval / period) ** 2
STEADY = 0.02  # a curve within 2 % is refined as one tempo
MAX_ALTERNATIVES = 2
MAX_FAMILIES = 3  # tempo families (an octave apart) checked against the beat grid


# ------------------------------------------------------------------ novelty
def _mel_filterbank(sr: float, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """(N_MELS, bins) triangular filters on the HTK mel scale, and their centres in Hz."""

    def mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    edges = 700.0 * (
        10.0 ** (np.linspace(mel(FMIN_HZ), mel(min(FMAX_HZ, sr / 2)), N_MELS + 2) / 2595.0) - 1.0
    )
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(
        0.0, np.minimum((freqs - lower) / (centre - lower), (upper - freqs) / (upper - centre))
    )
    # narrow low bands at a coarse resolution: at least their nearest bin
    empty = np.flatnonzero(bank.sum(axis=1) == 0)
    bank[empty, np.abs(freqs[None, :] - centre[empty]).argmin(axis=1)] = 1.0
    return bank, edges[1:-1]


def _novelty(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Timing and accent novelty (see the module docstring) of mono ``x``."""
    from numpy.lib.stride_tricks import sliding_window_view

    hop = max(1, round(sr / FRAME_RATE_HZ))
    fps = sr / hop
    n_fft = 1 << max(4, math.ceil(math.log2(WINDOW_S * sr)))
    bank, centres = _mel_filterbank(sr, n_fft)
    used = int(np.flatnonzero(bank.any(axis=0)).max()) + 1  # bins up to FMAX_HZ
    bank_t = np.ascontiguousarray(bank[:, :used].T, dtype=np.float32)
    padded = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft // 2)]).astype(np.float32)
    frames = sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft).astype(np.float32)
    mel = np.empty((len(frames), N_MELS))
    chunk = max(1, (1 << 21) // n_fft)  # bound the memory of the spectra
    for first in range(0, len(frames), chunk):
        spectrum = np.fft.rfft(frames[first : first + chunk] * window, axis=1)[:, :used]
        mel[first : first + chunk] = (spectrum.real**2 + spectrum.imag**2) @ bank_t
    top = float(mel.max())
    timing = np.zeros(len(frames))
    accent = np.zeros(len(frames))
    if not top > 0:
        return timing, accent, fps
    mel /= top
    db = 10.0 * np.log10(np.maximum(mel, 1e-8))  # an 80 dB range
    timing[FLUX_LAG:] = np.maximum(0.0, db[FLUX_LAG:] - db[:-FLUX_LAG]).mean(axis=1)
    loud = mel**LOUDNESS_EXPONENT
    rise = np.maximum(0.0, loud[FLUX_LAG:] - loud[:-FLUX_LAG])
    for part in (rise[:, centres < LOW_HZ], rise[:, centres >= LOW_HZ]):
        total = part.sum(axis=1)
        scale = float(np.percentile(total, 99)) if total.size else 0.0
        if scale > 0:
            accent[FLUX_LAG:] += total / scale
    return timing, accent, fps


def onset_strength(audio: Any, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Onset strength (log-mel spectral flux) at 100 frames per second.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples); channels are averaged.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    times_s : numpy.ndarray
        Frame times (10 ms apart).
    strength : numpy.ndarray
        Mean over 40 mel bands of the rise in dB over 20 ms (0 where nothing
        starts).

    Examples
    --------
    >>> import numpy as np
    >>> click = np.zeros(16000)
    >>> click[8000] = 1.0
    >>> times, strength = onset_strength(click, 16000)
    >>> round(float(times[np.argmax(strength)]), 2)  # within the 64 ms window
    0.49
    """
    timing, _, fps = _novelty(*analysis_signal(audio, sr))
    return np.arange(len(timing)) / fps + ONSET_LEAD_S, timing


# ------------------------------------------------------------ periodicity
def _autocorrelation(n: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation (r[0] = 1) of n with its mean removed."""
    x = n - n.mean()
    size = 1 << (2 * len(x) - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    r = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: len(x)]
    return r / r[0] if r[0] > 0 else np.zeros(len(x))


def _at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of values at fractional positions inside [0, len - 1]."""
    i = np.clip(positions.astype(np.int64), 0, len(values) - 2)
    f = positions - i
    return values[i] * (1.0 - f) + values[i + 1] * f


def _phase_means(n: np.ndarray, period: float) -> np.ndarray:
    """Mean of n over the pulses phase + k * period, for every whole-frame phase."""
    return _comb_scores(n, np.array([period]))[0, : max(1, math.ceil(period))]


def _comb_scores(n: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """(len(periods), phases) mean of n over the pulses phase + k * period.

    Pulse positions are rounded to whole frames. Row i holds the phases
    0 .. ceil(periods[i]) - 1 (the rest is -inf).
    """
    last = len(n) - 1
    phases = np.arange(max(1, math.ceil(periods.max())))
    pulses = np.arange(max(1, int(last // periods.min()) + 1))
    offsets = np.rint(periods[:, None] * pulses[None, :]).astype(np.int64)  # (periods, pulses)
    positions = phases[None, :, None] + offsets[:, None, :]
    inside = positions <= last
    values = np.where(inside, n[np.minimum(positions, last)], 0.0)
    means = values.sum(axis=2) / np.maximum(inside.sum(axis=2), 1)
    means[phases[None, :] >= np.ceil(periods)[:, None]] = -np.inf
    return means


def _comb_period(n: np.ndarray, lo: float, hi: float, steps: int = 32) -> float:
    """The period in [lo, hi] whose pulses (at their best phase) meet the most novelty."""
    periods = np.geomspace(lo, hi, steps)
    scores = _comb_scores(n, periods).max(axis=1)
    i = int(np.argmax(scores))
    if 0 < i < steps - 1:
        a, b, c = scores[i - 1], scores[i], scores[i + 1]
        curvature = a - 2.0 * b + c
        if curvature < 0:  # parabolic vertex on the log-period grid
            shift = 0.5 * (a - c) / curvature
            return float(periods[i] * (periods[1] / periods[0]) ** shift)
    return float(periods[i])


def _offbeat_ratio(accent: np.ndarray, period: float) -> float:
    """How strong the off-beats of pulses at ``period`` are, relative to the pulses.

    The pulses and their off-beats (half a period later) together form the
    pulses of the doubled tempo; of the phase at which they meet the most
    accent, this is the weaker half's mean accent over the stronger half's.
    """
    if len(accent) < 2 * period:  # pragma: no cover - windows hold two periods of 40 BPM
        return 0.0
    # the largest accent within 3 % of a period of each frame (timing jitter)
    tolerance = max(1, round(0.03 * period))
    padded = np.pad(accent, tolerance)
    spread = np.max([padded[k : k + len(accent)] for k in range(2 * tolerance + 1)], axis=0)
    profile = _phase_means(spread, period)
    half = np.round(np.arange(len(profile)) + period / 2).astype(np.int64) % len(profile)
    pair = profile + profile[half]
    best = int(np.argmax(pair))
    strong, weak = max(profile[best], profile[half[best]]), min(profile[best], profile[half[best]])
    return float(weak / strong) if strong > 0 else 0.0


def _log_prior(bpm: np.ndarray) -> np.ndarray:
    """The log-Gaussian tempo prior (up to a constant), see PRIOR_CENTRE_BPM."""
    return -0.5 * (np.log2(bpm / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2


def _levels(accent: np.ndarray, bpm: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The metrical levels bpm * 2**k in the tactus range, and the log-score of each.

    From the slowest level at or above 40 BPM, each doubling adds the evidence
    ``log(ratio / OFFBEAT_RATIO)``, ``ratio`` being how strong the level's
    off-beats are (:func:`_offbeat_ratio`): kick and snare alternating on the
    beats (backbeat, four on the floor, the drum-and-bass two-step) favour the
    doubled level, hi-hat eighths under them do not. The tempo prior is added
    to each level's score.
    """
    level = bpm
    while level / 2 >= MIN_BPM:
        level /= 2
    levels = [level]
    evidence = [0.0]
    while 2 * levels[-1] <= MAX_TACTUS_BPM:
        ratio = _offbeat_ratio(accent, 60.0 * fps / levels[-1])
        evidence.append(evidence[-1] + math.log(max(ratio, 1e-3) / OFFBEAT_RATIO))
        levels.append(2 * levels[-1])
    out = np.array(levels)
    return out, np.array(evidence) + _log_prior(out)


# ------------------------------------------------------------------- beats
def _track_beats(strength: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Beat frames by dynamic programming, with a per-frame period (frames)."""
    n = len(strength)
    score = strength.astype(float).copy()
    backlink = np.full(n, -1)
    block = max(1, int(period.min() // 2))
    lo_max = math.ceil(2 * period.max())
    for start in range(1, n, block):
        t = np.arange(start, min(start + block, n))
        gap = np.arange(1, lo_max + 1)
        previous = t[:, None] - gap[None, :]  # (frames, gaps)
        p = period[t][:, None]
        allowed = (gap[None, :] >= p / 2) & (gap[None, :] <= 2 * p) & (previous >= 0)
        penalty = -TIGHTNESS * np.log(gap[None, :] / p) ** 2
        candidates = np.where(allowed, score[np.maximum(previous, 0)] + penalty, -np.inf)
        best = np.argmax(candidates, axis=1)
        value = candidates[np.arange(len(t)), best]
        chain = np.isfinite(value) & (value > 0)
        score[t] = strength[t] + np.where(chain, value, 0.0)
        backlink[t] = np.where(chain, previous[np.arange(len(t)), best], -1)
    # the last beat: the best score within the last period
    tail = max(1, int(period[-1]))
    frame = n - tail + int(np.argmax(score[n - tail :]))
    beats = []
    while frame >= 0:
        beats.append(frame)
        frame = int(backlink[frame])
    chosen = np.array(beats[::-1], dtype=np.int64)
    # leading and trailing beats in silence are not beats (librosa's trim)
    strong = strength[chosen] >= 0.5 * math.sqrt(float(np.mean(strength[chosen] ** 2)))
    if strong.any():
        first, last = np.flatnonzero(strong)[[0, -1]]
        chosen = chosen[first : last + 1]
    return chosen.astype(float)


# ---------------------------------------------------------------- estimate
@dataclass(frozen=True, eq=False)
class TempoEstimate:
    """Tempo, tempo curve and beats of a clip.

    Attributes
    ----------
    bpm : float or None
        Global tempo in beats per minute; None when there is no pulse
        (silence, a held tone, noise) or the clip is shorter than 1.5 s.
    curve_times_s, curve_bpm : numpy.ndarray
        The tempo curve: the centre of each 8 s analysis window (every second)
        and its tempo. Empty when ``bpm`` is None.
    beat_times_s : numpy.ndarray
        Beat times in seconds. Empty when ``bpm`` is None.
    pulse_clarity : float
        In [0, 1]: the autocorrelation of the novelty at the pulse period.
    pulse_salience : float
        How many standard errors the novelty at the best beat phase stands
        above its mean over all phases, less the same at tempi 7 to 21 % off
        (0 to 3 for noise, 5 to 30 for music); below 4 there is no tempo.
    confidence : float
        In [0, 1]: the share of the evidence for the chosen metrical level,
        times ``1 - exp(-salience / 8)``, times ``min(1, duration / 6 s)``.
        Clips of 1.5 to 3 s get a tempo with a low confidence.
    alternatives : tuple of (float, float)
        The runner-up metrical levels (BPM) and their share of the evidence,
        best first (at most two); the chosen level's share is the rest.
    backend : str
        ``"builtin"`` or ``"madmom"``.

    Examples
    --------
    >>> import numpy as np
    >>> estimate(np.zeros(5 * 8000), 8000).bpm is None
    True
    """

    bpm: float | None
    curve_times_s: np.ndarray = field(repr=False)
    curve_bpm: np.ndarray = field(repr=False)
    beat_times_s: np.ndarray = field(repr=False)
    pulse_clarity: float
    pulse_salience: float
    confidence: float = 0.0
    alternatives: tuple[tuple[float, float], ...] = ()
    backend: str = "builtin"


def _extend(t: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation, continued linearly past both ends (within 20 %)."""
    out = np.interp(t, times, values)
    if len(times) < 2:
        return out
    before, after = t < times[0], t > times[-1]
    out[before] = values[0] + (t[before] - times[0]) * (values[1] - values[0]) / (
        times[1] - times[0]
    )
    out[after] = values[-1] + (t[after] - times[-1]) * (values[-1] - values[-2]) / (
        times[-1] - times[-2]
    )
    return np.clip(out, values.min() / 1.2, values.max() * 1.2)


def _no_tempo(clarity: float = 0.0, salience: float = 0.0) -> TempoEstimate:
    empty = np.zeros(0)
    return TempoEstimate(None, empty, empty.copy(), empty.copy(), clarity, salience)


def _normalized(n: np.ndarray) -> np.ndarray:
    scale = float(n.std())
    return n / scale if scale > 0 else n


def _check_backend(backend: str) -> str:
    from audiolab._audio import AudioError

    if backend not in ("builtin", "madmom", "auto"):
        raise AudioError(f"unknown backend {backend!r}: expected 'builtin', 'madmom' or 'auto'")
    if backend == "auto":
        import importlib.util

        return "madmom" if importlib.util.find_spec("madmom") is not None else "builtin"
    return backend


def estimate(audio: Any, sr: int, *, backend: str = "builtin") -> TempoEstimate:
    """Estimate tempo, tempo curve and beats.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples); channels are averaged.
    sr : int
        Sample rate in Hz.
    backend : {"builtin", "madmom", "auto"}
        ``"builtin"`` (default): this module, numpy only. ``"madmom"``:
        madmom's RNN beat activations, DBN beat tracker and comb-filter tempo
        (``pip install "audiolab[mir]"``; its trained models are licensed CC
        BY-NC-SA 4.0, non-commercial). ``"auto"``: madmom when installed.

    Returns
    -------
    TempoEstimate

    Raises
    ------
    AudioError
        Invalid audio or sample rate, an unknown backend; madmom asked for
        and not installed.

    Examples
    --------
    >>> from audiolab import synth
    >>> ref = synth.reference(96, "C major", duration=8.0, sr=16000, channels=1)
    >>> result = estimate(ref.audio, ref.sample_rate)
    >>> round(result.bpm), len(result.beat_times_s) >= 11, 0 < result.confidence <= 1
    (96, True, True)
    """
    if _check_backend(backend) == "madmom":
        from audiolab.analysis import _madmom

        return _madmom.tempo_estimate(audio, sr)
    x, rate = analysis_signal(audio, sr)
    duration = len(x) / rate
    if duration < MIN_SECONDS:
        return _no_tempo()
    timing, accent, fps = _novelty(x, rate)
    if not (timing.any() and accent.any()):
        return _no_tempo()
    p50, p99 = np.percentile(timing, [50, 99])
    onsets = rate >= MIN_ONSET_RATE_HZ and p99 >= MIN_ONSET_DB and p99 >= MIN_ONSET_CONTRAST * p50
    timing = _normalized(timing)
    pulse = timing + _normalized(accent)

    n = len(pulse)
    width = int(CURVE_WINDOW_S * fps)
    if n <= width * 1.25:
        starts = np.array([0])
        width = n
    else:
        hop = max(int(CURVE_HOP_S * fps), math.ceil((n - width) / MAX_CURVE_POINTS))
        starts = np.arange(0, n - width + 1, hop)
    # 2. and 3. periodicity and metrical levels, in windows spread over the clip
    voters = np.unique(np.linspace(0, len(starts) - 1, VOTING_WINDOWS).round().astype(int))
    clarity = np.empty(len(voters))
    candidates: list[tuple[float, float]] = []  # (bpm, clarity * level probability)
    for i, window in enumerate(voters):
        segment = slice(starts[window], starts[window] + width)
        clarity[i], levels, scores = _window_tempo(pulse[segment], accent[segment], fps)
        probability = np.exp(scores - scores.max())
        probability /= probability.sum()
        candidates += [
            (b, max(clarity[i], 0.0) * p) for b, p in zip(levels, probability, strict=True)
        ]
    pulse_clarity = float(np.clip(np.median(clarity), 0.0, 1.0))
    if pulse_clarity < MIN_CLARITY:
        return _no_tempo(pulse_clarity)
    # 4. One tempo level for the whole clip: the tempo with the most support
    # from all windows' levels (within about 4 %); no window jumps an octave.
    bpms = np.array([c[0] for c in candidates])
    weights = np.array([c[1] for c in candidates])
    bpms, weights = _family_by_beat_grid(pulse, fps, bpms, weights)
    octaves = np.log2(bpms)
    agree = np.abs(octaves[:, None] - octaves[None, :]) < AGREE_OCTAVES
    support = agree.astype(float) @ weights
    total = float(weights.sum())
    best = int(np.argmax(support))
    chosen = _weighted_median(bpms[agree[best]], weights[agree[best]])
    share = float(support[best] / total) if total > 0 else 0.0
    alternatives = _alternatives(bpms, weights, support, agree, best, total)
    first = int(voters[len(voters) // 2])
    curve_bpm = np.empty(len(starts))
    curve_bpm[first] = chosen
    # from that window outwards, each window's period near its neighbour's
    order = [*range(first + 1, len(starts)), *range(first - 1, -1, -1)]
    for i in order:
        neighbour = 60.0 * fps / curve_bpm[i - 1 if i > first else i + 1]
        segment = pulse[starts[i] : starts[i] + width]
        period = _comb_period(segment, neighbour / TRACK_RANGE, neighbour * TRACK_RANGE)
        curve_bpm[i] = 60.0 * fps / period
    curve_times = (starts + width / 2) / fps

    # 5. beats, guided by the local period
    frame_period = 60.0 * fps / _extend(np.arange(n) / fps, curve_times, curve_bpm)
    beats = _track_beats(timing, frame_period) / fps + ONSET_LEAD_S
    # the curve from the beats: the slope of beat time over beat number in
    # each window (unbiased at the window's centre for a steady ramp)
    for i, centre in enumerate(curve_times):
        inside = np.abs(beats - centre) <= width / fps / 2
        if inside.sum() >= 4:
            slope = np.polyfit(np.arange(inside.sum()), beats[inside], 1)[0]
            if 0.8 < 60.0 / slope / curve_bpm[i] < 1.25:  # the same octave
                curve_bpm[i] = 60.0 / slope
    # 6. is there a pulse?
    salience = _salience(pulse, _extend(np.arange(n) / fps, curve_times, curve_bpm) / 60 / fps)
    if salience < MIN_SALIENCE and not onsets:
        return _no_tempo(pulse_clarity, salience)
    bpm = float(np.median(curve_bpm))
    if curve_bpm.max() <= bpm * (1 + STEADY) and curve_bpm.min() >= bpm * (1 - STEADY):
        period = 60.0 * fps / bpm
        bpm = 60.0 * fps / _comb_period(timing, period * (1 - STEADY), period * (1 + STEADY))
    confidence = share * (1.0 - math.exp(-salience / 8.0)) * min(1.0, duration / SHORT_SECONDS)
    scale = bpm / chosen
    return TempoEstimate(
        bpm,
        curve_times,
        curve_bpm,
        beats,
        pulse_clarity,
        salience,
        float(np.clip(confidence, 0.0, 1.0)),
        tuple((b * scale, w) for b, w in alternatives),
    )


def _family_by_beat_grid(
    pulse: np.ndarray, fps: float, bpms: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates of the tempo family (tempi an octave apart) the beat grid supports.

    Windows may disagree on the family (say 73 or 110 BPM, a 2:3 ratio). The
    families are ranked by their support from the windows times how well a
    steady pulse at the family's strongest tempo fits the whole clip (its
    salience, :func:`_salience`); the octave inside the family stays the
    windows' (accent evidence and prior).
    """
    if len(bpms) == 0:  # pragma: no cover - every window gives at least one level
        return bpms, weights
    chroma = np.mod(np.log2(bpms), 1.0)
    distance = np.abs(chroma[:, None] - chroma[None, :])
    same = np.minimum(distance, 1.0 - distance) < AGREE_OCTAVES
    support = same.astype(float) @ weights
    taken = np.zeros(len(bpms), dtype=bool)
    best_score, best_family = -np.inf, same[int(np.argmax(support))]
    for _ in range(MAX_FAMILIES):
        free = np.where(taken, -np.inf, support)
        i = int(np.argmax(free))
        if not np.isfinite(free[i]) or free[i] <= 0:
            break
        family = same[i] & ~taken
        taken |= family
        period = 60.0 * fps / float(bpms[family][np.argmax(weights[family])])
        # the period refined on the whole clip: a steady pulse drifts off otherwise
        period = _comb_period(pulse, period / (1 + 2 * STEADY), period * (1 + 2 * STEADY))
        salience = _salience(pulse, np.full(len(pulse), 1.0 / period))
        score = float(weights[family].sum()) * max(salience, 0.0)
        if score > best_score:
            best_score, best_family = score, family
    return bpms[best_family], weights[best_family]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _alternatives(
    bpms: np.ndarray,
    weights: np.ndarray,
    support: np.ndarray,
    agree: np.ndarray,
    best: int,
    total: float,
) -> tuple[tuple[float, float], ...]:
    """The next best tempi (not agreeing with the chosen one, nor with each other)."""
    taken = agree[best].copy()
    out: list[tuple[float, float]] = []
    for i in np.argsort(-support):
        if len(out) == MAX_ALTERNATIVES or total <= 0:
            break
        if taken[i] or support[i] <= 0:
            continue
        group = agree[i] & ~taken
        out.append((_weighted_median(bpms[group], weights[group]), float(support[i] / total)))
        taken |= agree[i]
    return tuple(out)


def _phase_contrast(pulse: np.ndarray, beats_per_frame: np.ndarray) -> float:
    """How far the novelty at the best beat phase stands out, following a tempo curve.

    Frames are binned by their phase in the beat (the integral of the tempo
    curve): the best bin's mean over the mean of all bins, in standard errors
    of a mean over as many frames.
    """
    beats = np.cumsum(beats_per_frame)
    n_bins = max(4, round(1.0 / float(np.median(beats_per_frame))))
    bins = np.minimum((np.mod(beats, 1.0) * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    profile = np.bincount(bins, weights=pulse, minlength=n_bins) / np.maximum(counts, 1)
    spread = float(pulse.std()) / math.sqrt(max(1.0, len(pulse) / n_bins))
    return float((profile.max() - profile.mean()) / spread) if spread > 0 else 0.0


def _salience(pulse: np.ndarray, beats_per_frame: np.ndarray) -> float:
    """The phase contrast at the tempo curve minus its mean at tempi off by 7 to 21 %.

    Those tempi are no metrical level of the music, so their contrast is what
    chance and the novelty's own correlation give: noise, even strongly
    correlated noise, scores about the same at all tempi (0 to 3), music
    far more at its own (5 to 30).
    """
    off = [_phase_contrast(pulse, beats_per_frame * f) for f in NULL_TEMPO_FACTORS]
    return _phase_contrast(pulse, beats_per_frame) - float(np.mean(off))


def _window_tempo(
    pulse: np.ndarray, accent: np.ndarray, fps: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """(pulse clarity, metrical levels in BPM, their log-scores) of one analysis window."""
    r = _autocorrelation(pulse)
    lags = np.arange(int(60.0 * fps / MAX_BPM), min(int(60.0 * fps / MIN_BPM), len(r) // 2))
    if len(lags) < 3:
        # too short for two periods of the slowest tempo: no periodicity to read
        return 0.0, np.array([MIN_BPM]), np.zeros(1)
    # the family: the lag (any metrical level) where the pulse repeats best,
    # supported by twice and half the lag
    enhanced = (
        r[lags] + 0.5 * _at(r, np.minimum(2.0 * lags, len(r) - 1.0)) + 0.5 * _at(r, lags / 2.0)
    )
    lag = float(lags[int(np.argmax(enhanced))])
    period = _comb_period(pulse, lag / REFINE_RANGE, lag * REFINE_RANGE)
    levels, scores = _levels(accent, 60.0 * fps / period, fps)
    return float(r[int(lag)]), levels, scores
