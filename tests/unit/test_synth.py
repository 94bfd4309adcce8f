"""The reference generator: deterministic, music-like, and true to its truth."""

from __future__ import annotations

import numpy as np
import pytest

from audiolab import AudioError, loudness
from audiolab.synth import PATTERNS, reference


def test_same_arguments_give_the_same_samples_and_another_seed_does_not() -> None:
    a = reference(120, "C major", duration=3.0, sr=16000, seed=5)
    b = reference(120, "C major", duration=3.0, sr=16000, seed=5)
    c = reference(120, "C major", duration=3.0, sr=16000, seed=6)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)


@pytest.mark.parametrize("channels", [1, 2])
def test_shape_level_and_dtype(channels: int) -> None:
    ref = reference(100, "A minor", duration=2.5, sr=22050, channels=channels, peak_dbfs=-3.0)
    assert ref.audio.shape == (channels, round(2.5 * 22050))
    assert ref.audio.dtype == np.float64
    assert np.max(np.abs(ref.audio)) == pytest.approx(10 ** (-3 / 20))
    assert ref.sample_rate == 22050 and ref.duration_seconds == 2.5


def test_beat_times_are_the_tempo_grid() -> None:
    ref = reference(150, "C major", duration=6.0, sr=8000)
    np.testing.assert_allclose(np.diff(ref.beat_times_s), 0.4)
    assert ref.beat_times_s[0] == 0.0 and len(ref.beat_times_s) == 15
    assert ref.bpm == ref.bpm_start == ref.bpm_end == 150.0


def test_a_tempo_ramp_has_a_ramping_beat_grid_and_its_mean_tempo() -> None:
    ref = reference((90, 130), "C major", duration=20.0, sr=8000)
    intervals = np.diff(ref.beat_times_s)
    assert np.all(np.diff(intervals) < 0)  # accelerating
    assert intervals[0] == pytest.approx(60 / 90, rel=0.02)
    assert intervals[-1] == pytest.approx(60 / 130, rel=0.02)
    assert ref.bpm == pytest.approx(110.0)  # the mean of a linear ramp
    np.testing.assert_allclose(ref.tempo_at([0.0, 10.0, 20.0]), [90.0, 110.0, 130.0])


def test_drum_hits_start_on_the_beat_grid() -> None:
    sr = 16000
    ref = reference(120, "C major", duration=4.0, sr=sr, pattern="four_on_the_floor", harmony=False)
    energy = np.convolve(ref.audio[0] ** 2, np.ones(80), mode="same")  # 5 ms
    for beat in ref.beat_times_s[1:]:
        i = round(beat * sr)
        before = energy[i - 400 : i - 80].mean()  # 25 to 5 ms before
        after = energy[i : i + 400].mean()
        assert after > 5 * before


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_every_pattern_renders(pattern: str) -> None:
    ref = reference(128, "G major", duration=2.0, sr=8000, pattern=pattern, swing=0.5)
    assert ref.pattern == pattern and ref.swing == 0.5
    assert np.isfinite(ref.audio).all()


def test_chords_follow_the_progression_and_return_to_the_tonic() -> None:
    ref = reference(120, "F# minor", duration=10.0, sr=8000)  # 5 bars
    assert ref.chords == ("F#m", "D", "A", "E", "F#m")
    loop = reference(120, "F# minor", duration=10.0, sr=8000, ending=False)
    assert loop.chords == ("F#m", "D", "A", "E", "F#m")  # five bars: the loop comes round
    major = reference(120, "Bb major", duration=8.0, sr=8000, progression=("I", "IV", "V", "I"))
    assert major.key == "A# major" and major.chords == ("A#", "D#", "F", "A#")


def test_drums_or_harmony_can_be_left_out() -> None:
    drums = reference(120, "C major", duration=2.0, sr=8000, harmony=False)
    harmony = reference(120, "C major", duration=2.0, sr=8000, drums=False)
    assert drums.key is None and drums.chords == ()
    assert harmony.pattern is None and harmony.key == "C major"


def test_it_is_loud_enough_to_be_measured_like_music() -> None:
    ref = reference(120, "C major", duration=8.0, sr=48000)
    report = loudness.report(ref.audio, 48000)
    assert -25 < report.integrated_lufs < -10
    assert report.true_peak_dbtp < 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bpm": 0}, "bpm must be positive"),
        ({"bpm": (90, -1)}, "bpm must be positive"),
        ({"bpm": (90, 100, 110)}, "a number or a"),
        ({"bpm": "fast"}, "a number or a"),
        ({"duration": 0.0}, "duration"),
        ({"channels": 3}, "channels"),
        ({"pattern": "polka"}, "unknown drum pattern"),
        ({"key": "C lydian"}, "not a key"),
        ({"progression": "blues"}, "unknown major progression"),
        ({"progression": ("I", "bII")}, "unknown chord numerals"),
        ({"progression": ()}, "unknown chord numerals"),
        ({"drums": False, "harmony": False}, "nothing to play"),
        ({"sr": 0}, "sample rate"),
    ],
)
def test_bad_arguments_are_audio_errors(kwargs: dict, message: str) -> None:
    arguments = {"duration": 1.0, "sr": 8000, **kwargs}
    with pytest.raises(AudioError, match=message):
        reference(**arguments)
