"""Tempo in BPM, a tempo curve over the clip, and beat times.

numpy only: no scipy, no numba, no librosa, so the first call in a
fresh process costs what the arithmetic costs. How it works, in the order of
the code:

1. **Onset functions at 100 frames per second**
   (:mod:`audiolab.analysis._onsets`), from one STFT of 32 to 46 ms of the
   mono mix at its own rate (at most 48 kHz: the whole band, hi-hats
   included): *timing* (log-mel SuperFlux, Böck & Widmer 2013), *accent*
   (loudness flux below and above 200 Hz), *flux* (spectral flux), *complex*
   (complex domain), *energy* (energy flux) and *harmonic* (Hainsworth &
   Macleod 2003). The tempo reads two novelties: the *pulse*, timing plus
   accent (each over its standard deviation), which hears attacks, and the
   harmonic feature, which hears notes change (step 4); the beats read all
   six.

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
   beat grid ranks, say, 110 and 73 BPM (a 3:2 ratio), the beat trackers'
   agreement decides between them (step 5), the accent and the prior between
   55 and 110. Both novelties do this, and the one whose best family scores
   higher (its windows agree on one steady pulse) proposes the families and
   carries the curve: no one onset feature suits all music (Zapata & Gómez
   2011 combine tempo estimators that read different features). The scores
   are compared in independent standard errors (each over the novelty's
   :func:`~audiolab.analysis._pulse.error_inflation`: the harmonic feature,
   smoothed over 50 ms, has about half as many independent frames). Drums
   keep the pulse (on the real set the harmonic scores 0.2 to 0.9 of it);
   in legato strings and voices, whose soft attacks come where the bow or
   the breath changes rather than on the beat, the note changes hold it (a
   rubato string quartet whose pulse windows scatter from 110 to 190 BPM
   has its eighths, 123 to 140, in the harmonic feature, 2.5 times the
   score). Inside the family the level with the most support wins, the
   others are the *alternatives* with their shares.
   From the middle window outwards, every window's period is sought within
   10 % of its neighbour's in the proposing novelty, so the curve follows
   tempo changes without octave jumps.

5. **Beats by committee** (:mod:`audiolab.analysis._beats`): Ellis's
   dynamic programming (2007) runs on each of the six onset functions at
   the tempo curve (a frame's score is its onset strength plus the best
   predecessor's score less ``100 * log(interval / period) ** 2``), and the
   sequence that agrees best with the other five wins (maximum mean mutual
   agreement, information gain: Zapata, Davies & Gómez 2014). When the
   windows propose more than one tempo family (step 4), each is tracked and
   the family whose trackers agree most is taken: at a wrong tempo the
   trackers lock onto different onsets. The tempo curve is then re-read from
   the beats: the slope of beat time over beat number in each window
   (unbiased at the centre of a ramp).

6. **Is there a pulse?** The novelty is folded by beat phase along the curve;
   how far its best phase stands out (in standard errors), less the same at
   six tempi 7 to 21 % off, is the *pulse salience*: 0 to 3 for noise, 5 to
   30 for steady music, less for rubato. The tempo is None for clips shorter
   than 1.5 s, when the median pulse clarity is below 0.05, and when the
   salience is below 4 *and* no notes start: the 99th percentile of the
   timing novelty below 4 kHz under 1 dB (a held tone or chord, a tremolo),
   or a spectrum as flat as noise's (spectral flatness over 0.5, Johnston
   1988: noise of any colour reads about 0.63, notes 0.1 to 0.35). Music
   with notes but a weak pulse (a rubato string quartet) gets a tempo with a
   low confidence.

7. **A pulse no steadier than chance reads the slower level.** When the
   salience is in noise's range (under 3), the evidence that chose the
   faster of two octave levels is no evidence: the level an octave under it
   is taken when it is an alternative and a tactus (40 BPM or more), as
   listeners tap expressive, rubato performances at the slower level
   (Drake, Penel & Bigand 2000), and its beats are the half of the tracked
   ones with the stronger onsets. The faster level stays the first
   alternative. On the real set this reads the two slow chamber pieces
   (Borodin 66, Fauré 74, salience 0.2 and 1.5) at their quarters where
   they read 128 and 150, and no drum-led clip (salience 3.5 to 30) moves.

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

from audiolab._threads import single_blas
from audiolab.analysis._beats import committee, phase_from_the_start, stronger_half
from audiolab.analysis._onsets import onset_functions
from audiolab.analysis._pulse import (
    AGREE_OCTAVES,
    MIN_BPM,
    STEADY,
    comb_period,
    error_inflation,
    metrical_alternatives,
    pulse_salience,
    tempo_families,
    weighted_median,
    window_tempo,
)
from audiolab.analysis._signal import check_backend, onset_signal

__all__ = ["TempoEstimate", "estimate", "onset_strength"]

# Frame times are the centres of the STFT windows; the onset functions peak there when an
# onset does (on the real set's drums the beats' median offset to the annotated ones is
# 0 ms, the frame grid's 10 ms at most), so beat times are not shifted.
ONSET_LEAD_S = 0.0
MIN_SECONDS = 1.5  # shorter clips have no tempo
SHORT_SECONDS = 6.0  # below this, the confidence is scaled down by duration / SHORT_SECONDS
MIN_CLARITY = 0.05  # autocorrelation at the pulse period, below: no pulse
MIN_SALIENCE = 4.0  # below, a pulse is not told from chance: a tempo only where onsets are
# Below, the chosen level's pulse is no steadier than at tempi that are no level of the
# music (noise scores 0 to 3): nothing shows the faster level is the beat, and listeners
# tap expressive, rubato performances at the slower one (Drake, Penel & Bigand 2000).
WEAK_SALIENCE = 3.0
# Do notes start? Stationary sound (held tones, a chord, a tremolo) has 20 ms rises of the
# band-mean log-mel power below 4 kHz whose 99th percentile stays under 1 dB; noise rises
# more (chi-square spread of band powers) but its spectrum is flat, notes' is not.
MIN_ONSET_DB = 1.0
MAX_NOTE_FLATNESS = 0.5
MIN_ONSET_RATE_HZ = 4000  # below, the 40 mel bands are not distinct: the strict rule alone
# Mean mutual agreement of the beat trackers (bits) from which the beats count as sure:
# Zapata et al. (2014) read 1.5 to 3.5 bits as good agreement, above 3.5 as excellent.
SURE_AGREEMENT_BITS = 3.5
CURVE_WINDOW_S = 8.0
CURVE_HOP_S = 1.0
MAX_CURVE_POINTS = 240
VOTING_WINDOWS = 8  # windows that decide the tempo level (the others follow it)
TRACK_RANGE = 1.1  # then each window's period is sought within this factor of its neighbour's


# ------------------------------------------------------------------ novelty
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
        Mean over 40 mel bands (30 Hz to 16 kHz) of the rise in dB over
        20 ms, from the largest of the band and its neighbours (0 where
        nothing starts).

    Examples
    --------
    >>> import numpy as np
    >>> click = np.zeros(16000)
    >>> click[8000] = 1.0
    >>> times, strength = onset_strength(click, 16000)
    >>> round(float(times[np.argmax(strength)]), 2)  # the click at 0.5 s
    0.5
    """
    functions = onset_functions(*onset_signal(audio, sr))
    timing = functions.timing
    return np.arange(len(timing)) / functions.fps + ONSET_LEAD_S, timing


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
        times ``1 - exp(-max(salience, 0) / 8)``, times ``min(1, duration / 6 s)``,
        times ``min(1, beat_agreement_bits / 3.5)`` (0 for music with onsets
        but no steady pulse).
        Clips of 1.5 to 3 s get a tempo with a low confidence.
    alternatives : tuple of (float, float)
        The runner-up metrical levels (BPM) and their share of the evidence,
        best first (at most two); the chosen level's share is the rest.
    backend : str
        ``"builtin"`` or ``"madmom"``.
    beat_agreement_bits : float
        How much the six beat trackers of the committee agree (their mean
        mutual information gain, 0 to 5.3 bits): above 3.5 they found the
        same beats, below 1.5 they scatter (0 for the madmom backend and
        without a tempo).

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
    beat_agreement_bits: float = 0.0

    @classmethod
    def none(
        cls, clarity: float = 0.0, salience: float = 0.0, *, backend: str = "builtin"
    ) -> TempoEstimate:
        """The answer "no tempo": no BPM, no curve, no beats (what silence and noise get)."""
        empty = np.zeros(0)
        return cls(None, empty, empty.copy(), empty.copy(), clarity, salience, backend=backend)


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


def _normalized(n: np.ndarray) -> np.ndarray:
    scale = float(n.std())
    return n / scale if scale > 0 else n


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
    if check_backend(backend) == "madmom":
        from audiolab.analysis import _madmom

        return _madmom.tempo_estimate(audio, sr)
    with single_blas():  # small products: BLAS threads cost more than they save
        return _estimate(*onset_signal(audio, sr))


def _estimate(x: np.ndarray, rate: int) -> TempoEstimate:
    """The built-in estimate of the mono signal ``x`` (see the module docstring)."""
    duration = len(x) / rate
    if duration < MIN_SECONDS:
        return TempoEstimate.none()
    functions = onset_functions(x, rate)
    timing, accent, fps = functions.timing, functions.accent, functions.fps
    if not (timing.any() and accent.any()):
        return TempoEstimate.none()
    p99 = float(np.percentile(functions.onset_db, 99))
    onsets = (
        rate >= MIN_ONSET_RATE_HZ
        and p99 >= MIN_ONSET_DB
        and functions.flatness <= MAX_NOTE_FLATNESS
    )
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
    clarity, all_bpms, all_weights = _windows(pulse, accent, starts, width, voters, fps)
    pulse_clarity = float(np.clip(np.median(clarity), 0.0, 1.0))
    if pulse_clarity < MIN_CLARITY:
        return TempoEstimate.none(pulse_clarity)
    # 4. and 5. the tempo families the windows propose, each tracked by the committee
    curve_times = (starts + width / 2) / fps
    members = functions.committee()
    # the novelty whose windows agree best on a steady pulse proposes the families
    novelty, bpms, weights = pulse, all_bpms, all_weights
    families = tempo_families(pulse, fps, bpms, weights)
    harmonic = _normalized(functions.harmonic)
    _, h_bpms, h_weights = _windows(harmonic, accent, starts, width, voters, fps)
    h_families = tempo_families(harmonic, fps, h_bpms, h_weights)
    if h_families[0][0] / error_inflation(harmonic, fps) > families[0][0] / error_inflation(
        pulse, fps
    ):
        novelty, bpms, weights, families = harmonic, h_bpms, h_weights, h_families
    tracked = []
    for _, family in families:
        level = _level(bpms[family], weights[family])
        curve_bpm = _curve(novelty, starts, width, fps, int(voters[len(voters) // 2]), level[0])
        frame_period = 60.0 * fps / _extend(np.arange(n) / fps, curve_times, curve_bpm)
        frames, agreement, _ = committee(members, frame_period)
        tracked.append((agreement, level, curve_bpm, frames))
    agreement, (chosen, share, alternatives), curve_bpm, frames = max(tracked, key=lambda t: t[0])
    beats, curve_bpm = _beats_and_curve(frames, timing, curve_times, curve_bpm, width, fps)
    # 6. is there a pulse?
    salience = pulse_salience(pulse, _extend(np.arange(n) / fps, curve_times, curve_bpm) / 60 / fps)
    slower = _slower_level(chosen, alternatives) if salience < WEAK_SALIENCE else None
    if slower is not None:  # 7. a pulse in chance's range: the slower level
        curve_bpm = curve_bpm * (slower[0] / chosen)
        frames = stronger_half(frames, timing)
        beats, curve_bpm = _beats_and_curve(frames, timing, curve_times, curve_bpm, width, fps)
        others = tuple(a for a in alternatives if a != slower)
        chosen, share, alternatives = slower[0], slower[1], ((chosen, share), *others)
    if salience < MIN_SALIENCE and not onsets:
        return TempoEstimate.none(pulse_clarity, salience)
    bpm = float(np.median(curve_bpm))
    if curve_bpm.max() <= bpm * (1 + STEADY) and curve_bpm.min() >= bpm * (1 - STEADY):
        period = 60.0 * fps / bpm
        bpm = 60.0 * fps / comb_period(timing, period * (1 - STEADY), period * (1 + STEADY))
    confidence = (
        share
        * (1.0 - math.exp(-max(salience, 0.0) / 8.0))
        * min(1.0, duration / SHORT_SECONDS)
        * min(1.0, agreement / SURE_AGREEMENT_BITS)
    )
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
        beat_agreement_bits=agreement,
    )


def _beats_and_curve(
    frames: np.ndarray,
    timing: np.ndarray,
    curve_times: np.ndarray,
    curve_bpm: np.ndarray,
    width: int,
    fps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Beat times from the tracked frames, and the curve re-read from them: the slope of
    beat time over beat number in each window (unbiased at its centre for a steady ramp)."""
    beats = phase_from_the_start(frames, timing) / fps + ONSET_LEAD_S
    curve_bpm = curve_bpm.copy()
    for i, centre in enumerate(curve_times):
        inside = np.abs(beats - centre) <= width / fps / 2
        if inside.sum() >= 4:
            slope = np.polyfit(np.arange(inside.sum()), beats[inside], 1)[0]
            if 0.8 < 60.0 / slope / curve_bpm[i] < 1.25:  # the same octave
                curve_bpm[i] = 60.0 / slope
    return beats, curve_bpm


def _slower_level(
    chosen: float, alternatives: tuple[tuple[float, float], ...]
) -> tuple[float, float] | None:
    """The alternative an octave under ``chosen`` (with its share), if it is a tactus (the
    slowest beat of tapping studies, ``MIN_BPM``: London 2004, 1.5 s)."""
    for bpm, share in alternatives:
        if abs(math.log2(chosen / bpm) - 1.0) < AGREE_OCTAVES and bpm >= MIN_BPM:
            return bpm, share
    return None


def _windows(
    novelty: np.ndarray,
    accent: np.ndarray,
    starts: np.ndarray,
    width: int,
    voters: np.ndarray,
    fps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clarity per window, candidate levels in BPM, their weights) of the voting windows."""
    clarity = np.empty(len(voters))
    bpms: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for i, window in enumerate(voters):
        segment = slice(starts[window], starts[window] + width)
        clarity[i], levels, scores = window_tempo(novelty[segment], accent[segment], fps)
        probability = np.exp(scores - scores.max())
        bpms.append(levels)
        weights.append(max(clarity[i], 0.0) * probability / probability.sum())
    return clarity, np.concatenate(bpms), np.concatenate(weights)


def _level(
    bpms: np.ndarray, weights: np.ndarray
) -> tuple[float, float, tuple[tuple[float, float], ...]]:
    """(tempo, its share, alternatives): the metrical level of a family with the most support.

    Candidates within about 4 % agree; the tempo is the weighted median of
    those agreeing with the best supported one.
    """
    octaves = np.log2(bpms)
    agree = np.abs(octaves[:, None] - octaves[None, :]) < AGREE_OCTAVES
    support = agree.astype(float) @ weights
    total = float(weights.sum())
    best = int(np.argmax(support))
    chosen = weighted_median(bpms[agree[best]], weights[agree[best]])
    share = float(support[best] / total) if total > 0 else 0.0
    return chosen, share, metrical_alternatives(bpms, weights, support, agree, best, total)


def _curve(
    pulse: np.ndarray, starts: np.ndarray, width: int, fps: float, first: int, bpm: float
) -> np.ndarray:
    """The tempo of every window: ``bpm`` in window ``first``, then from there outwards,
    each window's period sought within ``TRACK_RANGE`` of its neighbour's (no octave jumps)."""
    curve_bpm = np.empty(len(starts))
    curve_bpm[first] = bpm
    order = [*range(first + 1, len(starts)), *range(first - 1, -1, -1)]
    for i in order:
        neighbour = 60.0 * fps / curve_bpm[i - 1 if i > first else i + 1]
        segment = pulse[starts[i] : starts[i] + width]
        period = comb_period(segment, neighbour / TRACK_RANGE, neighbour * TRACK_RANGE)
        curve_bpm[i] = 60.0 * fps / period
    return curve_bpm
