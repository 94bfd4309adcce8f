"""Reference music with a known tempo, beat grid and key.

:func:`reference` renders a deterministic, music-like clip (drum one-shots on a
beat grid, a plucked bass line and chords of a progression in a key) and
returns it with the truth it was built from: tempo, beat times and key. It is
the ground truth of the tempo and key tests, the signal of the notebooks and
the offline stand-in for a generator.

The music follows a few conventions a listener relies on, and the analysis
may rely on them too: the kick and the snare mark the beats (the hi-hats
subdivide them), chords change on the bar line, the phrase opens on
the tonic chord and, unless ``ending=False``, its last bar returns to it.

Examples
--------
>>> from audiolab import synth
>>> ref = synth.reference(128, "A minor", duration=4.0, sr=16000)
>>> ref.audio.shape, ref.key, len(ref.beat_times_s)
((2, 64000), 'A minor', 9)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab._audio import check_sample_rate
from audiolab.analysis.key import PITCH_CLASSES, parse_key
from audiolab.errors import AudioError

__all__ = [
    "MAJOR_PROGRESSIONS",
    "MINOR_PROGRESSIONS",
    "PATTERNS",
    "Reference",
    "reference",
]

STEPS_PER_BEAT = 4
BEATS_PER_BAR = 4
_STEPS = STEPS_PER_BEAT * BEATS_PER_BAR

#: Drum patterns: instrument -> {sixteenth step of the 4/4 bar: velocity}.
PATTERNS: dict[str, dict[str, dict[int, float]]] = {
    # house: a kick on every beat, clap on 2 and 4, open hats on the off-beats
    "four_on_the_floor": {
        "kick": {0: 1.0, 4: 1.0, 8: 1.0, 12: 1.0},
        "snare": {4: 0.7, 12: 0.7},
        "open_hat": {2: 0.45, 6: 0.45, 10: 0.45, 14: 0.45},
        "hat": {s: 0.2 for s in range(1, _STEPS, 2)},
    },
    # rock: kick on 1 and 3 (and the "and" of 3), snare backbeat, eighth-note hats
    "backbeat": {
        "kick": {0: 1.0, 8: 0.9, 10: 0.6},
        "snare": {4: 1.0, 12: 1.0},
        "hat": {s: (0.5 if s % 4 == 0 else 0.35) for s in range(0, _STEPS, 2)},
    },
    # drum and bass / breakbeat: the two-step, kick on 1 and the "and" of 3,
    # at home from about 110 to 180 BPM
    "breakbeat": {
        "kick": {0: 1.0, 10: 0.85},
        "snare": {4: 1.0, 12: 1.0, 7: 0.25, 15: 0.2},
        "hat": {s: (0.45 if s % 4 == 0 else 0.3) for s in range(0, _STEPS, 2)},
    },
    # half-time: the snare on 3 and a ride on every beat; the truth is the
    # written tempo, though drums alone are often felt at half of it
    "half_time": {
        "kick": {0: 1.0, 10: 0.6},
        "snare": {8: 1.0},
        "open_hat": {0: 0.3, 4: 0.45, 8: 0.3, 12: 0.45},
        "hat": {s: 0.25 for s in range(2, _STEPS, 4)},
    },
}

# Chords as (semitones above the tonic, quality).
_NUMERALS: dict[str, tuple[int, str]] = {
    "I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"),
    "V": (7, "maj"), "vi": (9, "min"),
    "i": (0, "min"), "III": (3, "maj"), "iv": (5, "min"), "v": (7, "min"),
    "VI": (8, "maj"), "VII": (10, "maj"),
}  # fmt: skip
_TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7)}

#: Chord progressions in major keys, one chord per bar.
MAJOR_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "pop": ("I", "V", "vi", "IV"),
    "cadence": ("I", "IV", "V", "I"),
    "fifties": ("I", "vi", "IV", "V"),
}
#: Chord progressions in minor keys, one chord per bar.
MINOR_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "aeolian": ("i", "VI", "III", "VII"),
    "cadence": ("i", "iv", "V", "i"),
    "andalusian": ("i", "VII", "VI", "V"),
}


@dataclass(frozen=True, eq=False)
class Reference:
    """A rendered reference clip and the truth it was built from.

    Attributes
    ----------
    audio : numpy.ndarray
        float64 ``(channels, samples)``, sample peak at ``peak_dbfs``.
    sample_rate : int
        Hz.
    bpm : float
        Tempo in beats per minute; for a tempo ramp, the mean tempo (beats in
        the clip per minute).
    key : str or None
        ``"C major"``, ``"F# minor"`` (sharps), or None without harmony.
    beat_times_s : numpy.ndarray
        Time of every beat in the clip, in seconds.
    bpm_start, bpm_end : float
        Tempo at the start and at the end (equal unless the tempo ramps).
    pattern : str or None
        The drum pattern, None without drums.
    swing : float
        0 straight, 1 triplet eighth notes.
    chords : tuple of str
        Chord names of the bars, in order (``("C", "G", "Am", "F")``).

    Examples
    --------
    >>> ref = reference((90, 130), "D major", duration=10.0, sr=8000, channels=1)
    >>> ref.bpm_start, ref.bpm_end, round(float(ref.tempo_at(5.0)[0]), 1)
    (90.0, 130.0, 110.0)
    """

    audio: np.ndarray = field(repr=False)
    sample_rate: int
    bpm: float
    key: str | None
    beat_times_s: np.ndarray = field(repr=False)
    bpm_start: float
    bpm_end: float
    duration_seconds: float
    pattern: str | None
    swing: float
    chords: tuple[str, ...]

    def tempo_at(self, times_s: Any) -> np.ndarray:
        """Instantaneous tempo in BPM at the given times.

        Parameters
        ----------
        times_s : float or array_like
            Seconds from the start.

        Returns
        -------
        numpy.ndarray
            BPM, one per time (1-D).

        Examples
        --------
        >>> reference(120, "C major", duration=2.0, sr=8000).tempo_at([0.0, 1.0])
        array([120., 120.])
        """
        t = np.atleast_1d(np.asarray(times_s, dtype=float))
        return self.bpm_start + (self.bpm_end - self.bpm_start) * t / self.duration_seconds


def _beat_time(position: np.ndarray, bpm0: float, bpm1: float, duration: float) -> np.ndarray:
    """Seconds at which ``position`` beats have elapsed under a linear tempo ramp.

    The tempo is ``bpm0 + (bpm1 - bpm0) t / duration``, so the beats elapsed are
    ``(bpm0 t + (bpm1 - bpm0) t^2 / (2 duration)) / 60``; this solves for ``t``.
    """
    a = (bpm1 - bpm0) / (120.0 * duration)
    b = bpm0 / 60.0
    if abs(a) < 1e-12:
        return position / b
    return (-b + np.sqrt(b * b + 4.0 * a * position)) / (2.0 * a)


def _swung(step: int, swing: float) -> float:
    """Position of a sixteenth step inside its beat, in beats, with eighth-note swing."""
    offbeat = 0.5 + swing / 6.0  # 1/2 straight, 2/3 for triplets
    sub = step % STEPS_PER_BEAT
    return (0.0, offbeat / 2.0, offbeat, (offbeat + 1.0) / 2.0)[sub]


def _wavetable(amplitudes: tuple[float, ...], size: int = 4096) -> np.ndarray:
    phase = 2.0 * np.pi * np.arange(size) / size
    table = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(amplitudes))
    return np.asarray(table) / np.max(np.abs(table))


_BASS_TABLE = (1.0, 0.55, 0.35, 0.22, 0.14, 0.08, 0.05)
_KEYS_TABLE = (1.0, 0.45, 0.25, 0.12, 0.06)


def _note(
    table: np.ndarray,
    frequency_hz: float,
    start: int,
    n: int,
    sr: int,
    decay_s: float,
    sustain: float,
) -> np.ndarray:
    """One note from a wavetable: 5 ms attack, exponential decay to a sustain, 30 ms release.

    The oscillator runs freely from the start of the clip (sample ``start`` is
    read at the phase it has there), as in an analog synthesizer: a re-struck
    note does not restart its waveform.
    """
    t = np.arange(n) / sr
    index = (frequency_hz * len(table) * (t + start / sr)).astype(np.int64) % len(table)
    envelope = sustain + (1.0 - sustain) * np.exp(-t / decay_s)
    envelope *= np.minimum(1.0, t / 0.005)
    release = min(n, round(0.03 * sr))
    envelope[n - release :] *= np.linspace(1.0, 0.0, release)
    return table[index] * envelope


def _midi_hz(midi: int) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def _drum_kit(sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def t(seconds: float) -> np.ndarray:
        return np.arange(round(seconds * sr)) / sr

    tk = t(0.35)
    sweep = 2 * np.pi * (48.0 * tk + (110.0 / 25.0) * (1 - np.exp(-25.0 * tk)))
    kick = np.sin(sweep) * np.exp(-tk / 0.12)
    kick[: round(0.002 * sr)] += 0.3 * rng.standard_normal(round(0.002 * sr))
    ts = t(0.25)
    noise = rng.standard_normal(len(ts))
    snare = 0.6 * np.diff(noise, prepend=0.0) * np.exp(-ts / 0.06)
    snare += 0.5 * np.sin(2 * np.pi * 185.0 * ts) * np.exp(-ts / 0.05)
    th = t(0.06)
    hiss = np.diff(rng.standard_normal(len(th) + 2), n=2)
    hat = 0.25 * hiss * np.exp(-th / 0.012)
    to = t(0.3)
    hiss = np.diff(rng.standard_normal(len(to) + 2), n=2)
    open_hat = 0.2 * hiss * np.exp(-to / 0.08)
    return {"kick": kick, "snare": snare, "hat": hat, "open_hat": open_hat}


_PAN = {"kick": (1.0, 1.0), "snare": (0.95, 1.0), "hat": (0.7, 1.0), "open_hat": (1.0, 0.75)}


def _add(out: np.ndarray, start: int, sound: np.ndarray, gains: np.ndarray) -> None:
    if start >= out.shape[1]:
        return
    piece = sound[: out.shape[1] - start]
    out[:, start : start + len(piece)] += gains[:, None] * piece[None, :]


def _chord_name(root_pc: int, quality: str) -> str:
    return PITCH_CLASSES[root_pc] + ("m" if quality == "min" else "")


def reference(
    bpm: float | tuple[float, float] = 120.0,
    key: str = "C major",
    duration: float = 8.0,
    sr: int = 32000,
    seed: int = 0,
    *,
    pattern: str = "backbeat",
    swing: float = 0.0,
    progression: str | tuple[str, ...] | None = None,
    channels: int = 2,
    drums: bool = True,
    harmony: bool = True,
    ending: bool = True,
    peak_dbfs: float = -1.0,
) -> Reference:
    """Render a deterministic music-like clip with known tempo, beats and key.

    Drums (kick, snare, hi-hats as decaying one-shots, velocities humanized by
    the seed) play ``pattern`` on a 4/4 grid; a plucked bass plays the chord
    roots (the fifth on beat 4); keys strike the chords of ``progression``,
    one chord per bar, on beats 1 and 3. The phrase opens on the tonic chord
    and, with ``ending``, its last bar returns to it.

    Parameters
    ----------
    bpm : float or (float, float)
        Tempo in beats per minute, or ``(start, end)`` for a tempo that
        changes linearly in time from start to end over the clip.
    key : str
        ``"C major"``, ``"F# minor"``, ``"Bb major"`` (flats are accepted).
    duration : float
        Seconds.
    sr : int
        Sample rate in Hz.
    seed : int
        Seed of the drum noise and of the humanized velocities.
    pattern : str
        One of :data:`PATTERNS`: ``"four_on_the_floor"``, ``"backbeat"``,
        ``"breakbeat"`` (drum and bass two-step), ``"half_time"``.
    swing : float
        Eighth-note swing from 0 (straight) to 1 (triplet feel).
    progression : str or tuple of str, optional
        A name from :data:`MAJOR_PROGRESSIONS` / :data:`MINOR_PROGRESSIONS`
        or Roman numerals such as ``("I", "IV", "V", "I")``; default ``"pop"``
        (I V vi IV) in major and ``"aeolian"`` (i VI III VII) in minor: the
        same chords as the relative key, which mean chroma cannot tell apart.
    channels : int
        1 or 2.
    drums, harmony : bool
        Leave out the drums, or the bass and chords.
    ending : bool
        Return to the tonic chord in the last bar.
    peak_dbfs : float
        Sample peak of the result.

    Returns
    -------
    Reference

    Raises
    ------
    AudioError
        An unknown key, pattern or progression, a non-positive tempo or
        duration, a bad sample rate, or nothing to play.

    Examples
    --------
    >>> ref = reference(174, "F# minor", duration=6.0, sr=16000, pattern="breakbeat")
    >>> ref.bpm, ref.key, ref.chords  # 4.35 bars, the fifth returns to the tonic
    (174.0, 'F# minor', ('F#m', 'D', 'A', 'E', 'F#m'))
    >>> round(float(abs(ref.audio).max()), 3)  # -1 dBFS
    0.891
    """
    rate = check_sample_rate(sr)
    try:
        if isinstance(bpm, (tuple, list)):
            start, end = bpm
            bpm0, bpm1 = float(start), float(end)
        else:
            bpm0 = bpm1 = float(bpm)
    except (TypeError, ValueError):
        raise AudioError(f"bpm must be a number or a (start, end) pair, got {bpm!r}") from None
    if not (math.isfinite(bpm0) and math.isfinite(bpm1) and bpm0 > 0 and bpm1 > 0):
        raise AudioError(f"bpm must be positive, got {bpm!r}")
    if not (math.isfinite(duration) and duration > 0):
        raise AudioError(f"duration must be positive seconds, got {duration!r}")
    if channels not in (1, 2):
        raise AudioError(f"channels must be 1 or 2, got {channels!r}")
    if pattern not in PATTERNS:
        raise AudioError(f"unknown drum pattern {pattern!r}: expected one of {sorted(PATTERNS)}")
    if not (drums or harmony):
        raise AudioError("nothing to play: drums and harmony are both off")
    tonic, mode = parse_key(key)
    numerals = _progression(progression, mode)

    n = round(duration * rate)
    rng = np.random.default_rng(seed)
    total_beats = float(_beats_elapsed(duration, bpm0, bpm1, duration))
    n_beats = math.floor(total_beats + 1e-9) + 1
    beat_times = _beat_time(np.arange(n_beats, dtype=float), bpm0, bpm1, duration)
    beat_times = beat_times[beat_times < duration]
    n_bars = math.ceil(total_beats / BEATS_PER_BAR)
    bar_numerals = [numerals[b % len(numerals)] for b in range(n_bars)]
    if ending and n_bars > 1:
        bar_numerals[-1] = numerals[0]
    bar_chords = [
        ((tonic + _NUMERALS[r][0]) % 12, _NUMERALS[r][1]) for r in bar_numerals
    ]  # (root pitch class, quality)

    def sample_at(beats: float) -> int:
        return round(float(_beat_time(np.array([beats]), bpm0, bpm1, duration)[0]) * rate)

    out = np.zeros((channels, n))
    if drums:
        kit = _drum_kit(rate, rng)
        for bar in range(n_bars):
            for name, hits in PATTERNS[pattern].items():
                pan = np.array(_PAN[name][:channels]) if channels == 2 else np.ones(1)
                for step, velocity in hits.items():
                    beats = bar * BEATS_PER_BAR + step // STEPS_PER_BEAT + _swung(step, swing)
                    human = velocity * (1.0 + 0.08 * rng.standard_normal())
                    _add(out, sample_at(beats), kit[name], 0.5 * human * pan)
    if harmony:
        bass_table, keys_table = _wavetable(_BASS_TABLE), _wavetable(_KEYS_TABLE)
        bass_pan = np.ones(channels)
        keys_pans = [np.array(p[:channels]) for p in ((1.0, 0.8), (0.85, 1.0), (0.9, 0.9))]
        for bar, (root, quality) in enumerate(bar_chords):
            bass_root = 33 + (root - 9) % 12  # A1 .. G#2
            for beat in range(BEATS_PER_BAR):
                midi = bass_root + (7 if beat == 3 and bar % 2 == 1 else 0)
                start = sample_at(bar * BEATS_PER_BAR + beat)
                stop = sample_at(bar * BEATS_PER_BAR + beat + 1)
                if start >= n:
                    break
                note = _note(bass_table, _midi_hz(midi), start, stop - start, rate, 0.25, 0.15)
                _add(out, start, note, 0.32 * bass_pan)
            chord_root = 57 + (root - 9) % 12  # A3 .. G#4
            for half in (0, 2):
                start = sample_at(bar * BEATS_PER_BAR + half)
                stop = sample_at(bar * BEATS_PER_BAR + half + 2)
                if start >= n:
                    break
                for interval, pan in zip(_TRIADS[quality], keys_pans, strict=True):
                    freq = _midi_hz(chord_root + interval)
                    note = _note(keys_table, freq, start, stop - start, rate, 0.5, 0.35)
                    _add(out, start, note, 0.12 * pan)
    peak = float(np.max(np.abs(out)))
    out *= 10.0 ** (peak_dbfs / 20.0) / peak
    return Reference(
        audio=out,
        sample_rate=rate,
        bpm=round(60.0 * total_beats / duration, 6) if bpm0 != bpm1 else bpm0,
        key=f"{PITCH_CLASSES[tonic]} {mode}" if harmony else None,
        beat_times_s=beat_times,
        bpm_start=bpm0,
        bpm_end=bpm1,
        duration_seconds=n / rate,
        pattern=pattern if drums else None,
        swing=float(swing),
        chords=tuple(_chord_name(r, q) for r, q in bar_chords) if harmony else (),
    )


def _beats_elapsed(t: float, bpm0: float, bpm1: float, duration: float) -> float:
    return (bpm0 * t + (bpm1 - bpm0) * t * t / (2.0 * duration)) / 60.0


def _progression(progression: str | tuple[str, ...] | None, mode: str) -> tuple[str, ...]:
    named = MAJOR_PROGRESSIONS if mode == "major" else MINOR_PROGRESSIONS
    if progression is None:
        return next(iter(named.values()))
    if isinstance(progression, str):
        if progression not in named:
            raise AudioError(
                f"unknown {mode} progression {progression!r}: expected one of {sorted(named)}"
                " or a tuple of Roman numerals"
            )
        return named[progression]
    unknown = [r for r in progression if r not in _NUMERALS]
    if unknown or not progression:
        raise AudioError(
            f"unknown chord numerals {unknown or progression!r}: expected some of {list(_NUMERALS)}"
        )
    return tuple(progression)
