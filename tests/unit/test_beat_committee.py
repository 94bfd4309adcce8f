"""The onset functions and the beat committee, against signals whose onsets are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiolab.analysis import _beats, _onsets, tempo
from audiolab.synth import reference


def _tone(freqs_hz: list[float], seconds_each: float, sr: int) -> np.ndarray:
    """Sine tones one after another at one amplitude, the phase continuous at each change."""
    n = round(seconds_each * sr)
    freq = np.repeat(np.asarray(freqs_hz, dtype=float), n)
    return 0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sr)


def test_a_new_note_at_the_same_loudness_shows_in_the_pitch_functions_not_the_energy() -> None:
    sr = 44100
    x = _tone([440.0, 660.0, 440.0], 1.0, sr)  # changes at 1 s and 2 s
    f = _onsets.onset_functions(x, sr)
    t = np.arange(len(f.timing)) / f.fps
    inside = (t > 0.5) & (t < 2.5)
    for name in ("harmonic", "complex", "flux", "timing"):
        curve = getattr(f, name)
        peaks = t[inside][np.argsort(curve[inside])[-2:]]
        assert np.min(np.abs(peaks[:, None] - np.array([1.0, 2.0])), axis=1).max() < 0.05, name
    # the energy hardly moves: its largest rise inside is small beside the start's
    assert f.energy[inside].max() < 0.05 * f.energy.max()


def test_the_onset_functions_do_not_depend_on_how_the_spectra_are_chunked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(6 * 32000) * np.repeat(rng.uniform(0.1, 1.0, 60), 3200)
    chunked = _onsets.onset_functions(x, 32000)
    monkeypatch.setattr(_onsets, "CHUNK_FRAMES", 10_000)
    whole = _onsets.onset_functions(x, 32000)
    # the spectra are single precision, and numpy's FFT may round a batch of frames
    # differently from another (numpy 2.4: 6e-7 apart): a chunk's edges handled wrongly
    # would move its frames by far more
    for name in (*_onsets.NAMES, "onset_db"):
        expected = getattr(whole, name)
        scale = float(np.abs(expected).max())
        np.testing.assert_allclose(getattr(chunked, name), expected, rtol=1e-5, atol=1e-6 * scale)
    assert chunked.flatness == pytest.approx(whole.flatness)


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_noise_of_any_colour_is_flat_and_notes_are_not(sr: int) -> None:
    rng = np.random.default_rng(sr)
    n = 4 * sr
    white = rng.standard_normal(n)
    brown = np.cumsum(rng.standard_normal(n))
    spectrum = np.fft.rfft(rng.standard_normal(n))
    pink = np.fft.irfft(spectrum / np.sqrt(np.arange(1, len(spectrum) + 1)), n)
    for noise in (white, brown - brown.mean(), pink):
        assert _onsets.onset_functions(noise, sr).flatness > 0.55
    chords = reference(100, "C major", duration=4.0, sr=sr, drums=False).audio.mean(axis=0)
    assert _onsets.onset_functions(chords, sr).flatness < 0.45


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_coloured_noise_at_common_rates_has_no_tempo(sr: int) -> None:
    rng = np.random.default_rng(sr + 1)
    for seconds in (3.0, 10.0):
        n = int(seconds * sr)
        spectrum = np.fft.rfft(rng.standard_normal(n))
        pink = np.fft.irfft(spectrum / np.sqrt(np.arange(1, len(spectrum) + 1)), n)
        assert tempo.estimate(0.1 * pink / pink.std(), sr).bpm is None


def test_information_gain_is_full_for_the_same_beats_and_low_for_unrelated_ones() -> None:
    beats = np.arange(0.5, 20.0, 0.5)
    assert _beats.information_gain(beats, beats) == pytest.approx(math.log2(40))
    # a steady offset is still full information (the error histogram is one spike)
    assert _beats.information_gain(beats, beats + 0.25) == pytest.approx(math.log2(40))
    rng = np.random.default_rng(0)
    scattered = np.sort(rng.uniform(0.5, 20.0, len(beats)))
    assert _beats.information_gain(beats, scattered) < 1.0
    assert _beats.information_gain(beats, beats[:1]) == 0.0


def test_the_committee_follows_the_functions_that_agree() -> None:
    fps, n = 100.0, 1500
    period = np.full(n, 50.0)  # 120 BPM
    on, off = np.zeros(n), np.zeros(n)
    on[25::50] = 1.0  # beats at 0.25 s + k * 0.5 s
    off[50::50] = 1.0  # the off-beats
    rng = np.random.default_rng(1)
    # the off-beat function first: a tie on the information gain (which forgives the offset)
    # would pick it; the shared beats (F-measure) must not
    functions = [off + 0.05 * rng.random(n)] + [on + 0.05 * rng.random(n) for _ in range(3)]
    frames, agreement, winner = _beats.committee(functions, period)
    assert winner > 0
    np.testing.assert_allclose(np.mod(frames - 25, 50), 0)
    # the off-beat tracker keeps the grid (a steady offset): the trackers still agree in full
    assert agreement == pytest.approx(math.log2(40))
    assert len(frames) == pytest.approx(n / fps / 0.5, abs=1.0)  # one beat each 0.5 s


def test_the_agreement_falls_when_the_trackers_scatter() -> None:
    n = 1500
    period = np.full(n, 50.0)
    on = np.zeros(n)
    on[25::50] = 1.0
    rng = np.random.default_rng(4)
    steady = [on + 0.05 * rng.random(n) for _ in range(2)]
    clicks = []
    for _ in range(3):  # onsets at random times: each tracker follows its own
        f = np.zeros(n)
        f[np.sort(rng.choice(n, 30, replace=False))] = 1.0
        clicks.append(f)
    _, together, _ = _beats.committee(steady, period)
    _, scattered, winner = _beats.committee(steady + clicks, period)
    assert scattered < together - 1.0
    assert winner < 2  # the two that agree with each other lead


def test_tracking_many_functions_at_once_is_tracking_each() -> None:
    rng = np.random.default_rng(2)
    strengths = rng.random((4, 2000)) ** 4
    period = 40.0 + 4.0 * np.sin(np.arange(2000) / 200.0)
    together = _beats.track_many(strengths, period)
    for row, found in zip(strengths, together, strict=True):
        np.testing.assert_array_equal(_beats.track_beats(row, period), found)


def test_measure_reads_the_tempo_from_the_whole_band() -> None:
    from audiolab import measure

    ref = reference(131, "A minor", duration=8.0, sr=44100, seed=5)
    found = measure(ref.audio, 44100, loudness=False, stats=False)
    direct = tempo.estimate(ref.audio, 44100)
    assert found.bpm == direct.bpm == pytest.approx(131, rel=0.01)
    np.testing.assert_array_equal(found.beat_times_s, direct.beat_times_s)
    assert found.tempo_estimate.beat_agreement_bits > 3.5  # the trackers agree
