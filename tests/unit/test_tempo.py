"""Tempo, tempo curve and beats against synthesized music with a known tempo."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from audiolab import AudioError
from audiolab.analysis import tempo
from audiolab.analysis._signal import analysis_signal, onset_signal
from audiolab.synth import reference
from audiolab.testing import sine

# patterns with one written beat; the two-step is played in its genre's range
RANGES = {
    "four_on_the_floor": (60.0, 190.0),
    "backbeat": (60.0, 190.0),
    "breakbeat": (110.0, 180.0),  # breakbeat and drum and bass
    "half_time": (60.0, 190.0),  # with bass and chords marking the beats
}


def accuracy(estimate: float | None, truth: float) -> tuple[bool, bool]:
    """(Acc1, Acc2): within 4 %, and within 4 % of 1, 2, 1/2, 3 or 1/3 times the truth."""
    if estimate is None:
        return False, False
    acc1 = abs(estimate / truth - 1.0) <= 0.04
    acc2 = any(abs(estimate / (truth * m) - 1.0) <= 0.04 for m in (1.0, 2.0, 0.5, 3.0, 1 / 3))
    return acc1, acc2


def tempo_set() -> list[dict]:
    """48 clips: 4 patterns x 12, tempi across each pattern's range, the variations mixed."""
    rng = np.random.default_rng(2024)
    clips = []
    for i in range(48):
        pattern = list(RANGES)[i % 4]
        lo, hi = RANGES[pattern]
        k = i // 4  # 0 .. 11: spread over the range, jittered
        bpm = float(np.round(lo + (hi - lo) * (k + rng.uniform(0.1, 0.9)) / 12, 1))
        if pattern == "breakbeat" and k == 10:
            bpm = 174.0  # drum and bass
        clips.append(
            {
                "bpm": bpm,
                "key": ["C major", "A minor", "F# minor", "D# major"][k % 4],
                "duration": float(rng.uniform(8.0, 12.0)),
                "sr": (32000, 44100)[i % 2],
                "seed": i,
                "pattern": pattern,
                "swing": (0.0, 0.5, 0.0, 1.0)[k % 4],
                "harmony": pattern == "half_time" or k % 3 != 2,
                "channels": 1 + (k % 2),
            }
        )
    return clips


def test_tempo_set_covers_what_the_issue_asks() -> None:
    clips = tempo_set()
    assert len(clips) >= 40
    assert min(c["bpm"] for c in clips) < 70 and max(c["bpm"] for c in clips) > 180
    assert {c["sr"] for c in clips} == {32000, 44100}
    assert {c["channels"] for c in clips} == {1, 2}
    assert {c["swing"] for c in clips} >= {0.0, 0.5, 1.0}
    assert {c["harmony"] for c in clips} == {True, False}
    assert len({c["pattern"] for c in clips}) == 4
    assert any(c["bpm"] == 174.0 and c["pattern"] == "breakbeat" for c in clips)


def test_tempo_accuracy_on_48_synthesized_clips_beats_the_acc1_and_acc2_goals() -> None:
    ours, theirs, misses = [], [], []
    try:
        import librosa
    except ImportError:  # pragma: no cover - librosa is a dev dependency
        librosa = None
    for clip in tempo_set():
        ref = reference(**clip)
        found = tempo.estimate(ref.audio, ref.sample_rate).bpm
        ours.append(accuracy(found, ref.bpm))
        if not ours[-1][0]:
            misses.append((clip["pattern"], clip["bpm"], found))
        if librosa is not None:
            y = ref.audio.mean(axis=0)
            theirs.append(
                accuracy(float(librosa.feature.tempo(y=y, sr=ref.sample_rate)[0]), ref.bpm)
            )
    acc1, acc2 = np.mean(ours, axis=0)
    line = f"audiolab Acc1 {acc1:.3f} Acc2 {acc2:.3f}"
    if theirs:
        l1, l2 = np.mean(theirs, axis=0)
        line += f" | librosa.feature.tempo Acc1 {l1:.3f} Acc2 {l2:.3f}"
    print(f"\n{len(ours)} clips: {line}; misses (pattern, truth, read): {misses}")
    assert acc1 >= 0.95, misses
    assert acc2 == 1.0, misses


@pytest.mark.parametrize("harmony", [True, False])
@pytest.mark.parametrize("sr", [32000, 44100])
def test_drum_and_bass_at_174_reads_174_not_87(harmony: bool, sr: int) -> None:
    ref = reference(174, "F minor", duration=10.0, sr=sr, pattern="breakbeat", harmony=harmony)
    assert tempo.estimate(ref.audio, sr).bpm == pytest.approx(174, rel=0.01)


@pytest.mark.parametrize("pattern", ["backbeat", "four_on_the_floor"])
@pytest.mark.parametrize("bpm", [62.0, 188.0])
def test_slow_and_fast_tempi_are_not_read_an_octave_off(pattern: str, bpm: float) -> None:
    ref = reference(bpm, "G major", duration=10.0, sr=32000, pattern=pattern, harmony=False)
    assert tempo.estimate(ref.audio, 32000).bpm == pytest.approx(bpm, rel=0.02)


@pytest.mark.parametrize("bpm", [72.0, 150.0])
def test_drums_only_half_time_reads_the_written_tempo_or_the_half_time_feel(bpm: float) -> None:
    ref = reference(bpm, "C major", duration=10.0, sr=32000, pattern="half_time", harmony=False)
    found = tempo.estimate(ref.audio, 32000).bpm
    assert accuracy(found, bpm)[1]


def test_steady_tempo_is_precise_to_a_fraction_of_a_percent() -> None:
    ref = reference(127.3, "E minor", duration=16.0, sr=44100, pattern="four_on_the_floor")
    result = tempo.estimate(ref.audio, 44100)
    assert result.bpm == pytest.approx(127.3, rel=0.002)
    np.testing.assert_allclose(result.curve_bpm, 127.3, rtol=0.01)


def test_an_accelerating_clip_gives_a_rising_curve_that_tracks_the_truth() -> None:
    ref = reference((90, 130), "A minor", duration=30.0, sr=32000, pattern="backbeat")
    result = tempo.estimate(ref.audio, 32000)
    times, bpm = result.curve_times_s, result.curve_bpm
    truth = ref.tempo_at(times)
    assert len(times) >= 20
    assert np.all(np.abs(bpm[1:] / truth[1:] - 1.0) <= 0.05)  # after the first window
    assert bpm[-1] - bpm[0] > 25  # rising, by about the truth's 40 * 22 / 30 BPM
    assert np.corrcoef(times, bpm)[0, 1] > 0.98
    # the beats follow the acceleration too: intervals shrink from about 0.65 s to 0.47 s
    intervals = np.diff(result.beat_times_s)
    assert intervals[:5].mean() > 0.6 and intervals[-5:].mean() < 0.5


def test_beats_fall_on_the_true_beats() -> None:
    ref = reference(100, "C major", duration=12.0, sr=32000, pattern="backbeat", seed=3)
    beats = tempo.estimate(ref.audio, 32000).beat_times_s
    truth = ref.beat_times_s
    # F-measure with the usual 70 ms tolerance
    hits = sum(np.min(np.abs(truth - b)) <= 0.07 for b in beats)
    precision, recall = hits / len(beats), hits / len(truth)
    assert 2 * precision * recall / (precision + recall) >= 0.9


def test_music_without_drums_has_the_tempo_of_its_bass_and_chords() -> None:
    ref = reference(105, "D major", duration=10.0, sr=32000, drums=False)
    assert tempo.estimate(ref.audio, 32000).bpm == pytest.approx(105, rel=0.02)


def legato_strings(
    bpm: float, seed: int, seconds: float = 20.0, sr: int = 22050
) -> tuple[np.ndarray, float]:
    """Two bowed voices an octave apart changing pitch on rubato beats, without attacks.

    Each voice is one oscillator (six harmonics, vibrato) whose pitch glides
    to the next note over 80 ms around each beat; the beats wander 5 % from
    beat to beat. Its loudness swells slowly and jumps by 6 dB (a bow change:
    5 ms up, 250 ms back) at random times, one every 2 s on average: the only
    attacks in the clip, and they keep no time. Noise 40 dB down. Returns the
    audio and its tempo as the real set's annotations give it: 60 over the
    median interval between the beats.
    """
    rng = np.random.default_rng(seed)
    beats = np.concatenate([[0.0], np.cumsum(60.0 / bpm * np.exp(rng.normal(0, 0.05, 200)))])
    beats = beats[beats < seconds + 2.0]
    t = np.arange(int(seconds * sr)) / sr
    out = np.zeros_like(t)
    for voice in range(2):
        notes = 57.0 - 12 * voice + rng.choice([0, 2, 4, 5, 7, 9, 11, 12], len(beats))
        knots = np.repeat(beats, 2) + np.tile([-0.04, 0.04], len(beats))
        pitch = np.repeat(notes, 2)
        pitch[0::2] = np.concatenate([[notes[0]], notes[:-1]])
        midi = np.interp(t, knots, pitch) + 0.1 * np.sin(2 * np.pi * 5.5 * t)
        phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((midi - 69) / 12)) / sr
        out += sum(np.sin(h * phase) / h for h in range(1, 7))
    gain_db = np.interp(t, np.linspace(0, seconds, 8), rng.uniform(-6, 0, 8))
    for when in rng.uniform(0, seconds, int(seconds / 2)):
        d = t - when
        gain_db += 6.0 * np.exp(np.where(d > 0, -d / 0.25, d / 0.005))
    out *= 10 ** (gain_db / 20)
    out = out / np.sqrt(np.mean(out**2)) + 0.01 * rng.standard_normal(len(t))
    truth = 60.0 / float(np.median(np.diff(beats[beats < seconds])))
    return 0.1 * out / np.max(np.abs(out)), truth


@pytest.mark.parametrize(("bpm", "seed"), [(60.0, 0), (72.0, 1), (90.0, 2), (110.0, 3)])
def test_legato_notes_changing_pitch_without_attacks_carry_the_tempo(bpm: float, seed: int) -> None:
    # the attack novelty hears only the bow changes, which keep no time; the
    # note changes (the harmonic feature) hold the pulse and propose the tempo
    audio, truth = legato_strings(bpm, seed)
    assert accuracy(tempo.estimate(audio, 22050).bpm, truth)[1]


@pytest.mark.parametrize("width", [1, 4, 9])
def test_a_novelty_smoothed_over_k_frames_has_k_times_fewer_independent_frames(width: int) -> None:
    from audiolab.analysis._pulse import error_inflation

    # a moving mean of white noise over k frames: its mean has k times the variance
    noise = np.random.default_rng(width).standard_normal(200_000)
    smoothed = np.convolve(noise, np.ones(width) / width, mode="valid")
    assert error_inflation(smoothed, 100.0) == pytest.approx(math.sqrt(width), rel=0.1)


@pytest.mark.parametrize(
    "name",
    ["silence", "dc", "sustained tone", "sustained chord", "white noise", "brown noise", "tremolo"],
)
def test_audio_without_a_pulse_has_no_tempo(name: str) -> None:
    sr = 16000
    n = 10 * sr
    t = np.arange(n) / sr
    rng = np.random.default_rng(7)
    audio = {
        "silence": np.zeros(n),
        "dc": np.full(n, 0.5),
        "sustained tone": sine(440, 10.0, sr)[0],
        "sustained chord": sum(0.1 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)),
        "white noise": 0.1 * rng.standard_normal(n),
        "brown noise": 0.001 * np.cumsum(rng.standard_normal(n)),
        "tremolo": 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.3 * np.sin(2 * np.pi * 2 * t)),
    }[name]
    result = tempo.estimate(audio, sr)
    assert result.bpm is None
    assert result.curve_bpm.size == result.beat_times_s.size == 0
    assert result.pulse_salience < 4.0


def test_noise_is_never_given_a_tempo() -> None:
    rng = np.random.default_rng(11)
    found = [tempo.estimate(0.1 * rng.standard_normal(6 * 8000), 8000).bpm for _ in range(12)]
    assert found == [None] * 12


def test_a_clip_of_two_and_a_half_seconds_has_a_tempo_with_a_low_confidence() -> None:
    ref = reference(120, "C major", duration=2.5, sr=16000)
    short = tempo.estimate(ref.audio, 16000)
    long = tempo.estimate(reference(120, "C major", duration=10.0, sr=16000).audio, 16000)
    assert accuracy(short.bpm, 120.0)[1]
    assert 0.0 < short.confidence < long.confidence
    assert tempo.estimate(ref.audio[:, :8000], 16000).bpm is None  # 0.5 s


def test_alternatives_are_other_metrical_levels_with_weights_that_sum_below_one() -> None:
    ref = reference(100, "C major", duration=10.0, sr=32000, pattern="backbeat")
    result = tempo.estimate(ref.audio, 32000)
    assert result.bpm == pytest.approx(100, rel=0.01)
    assert 1 <= len(result.alternatives) <= 2
    for bpm, weight in result.alternatives:
        ratio = math.log2(bpm / result.bpm)
        assert abs(ratio - round(ratio)) < 0.1 and round(ratio) != 0  # an octave away
        assert 0.0 < weight < 0.5
    assert sum(w for _, w in result.alternatives) < 1.0


def test_an_unknown_backend_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="backend"):
        tempo.estimate(np.zeros(16000), 16000, backend="aubio")


@pytest.mark.parametrize("sr", [8000, 96000])
def test_extreme_sample_rates_read_the_same_tempo(sr: int) -> None:
    ref = reference(140, "C major", duration=8.0, sr=sr)
    assert tempo.estimate(ref.audio, sr).bpm == pytest.approx(140, rel=0.01)


def test_mono_stereo_and_the_onset_signal_give_the_same_tempo() -> None:
    ref = reference(118, "C major", duration=8.0, sr=96000)
    stereo = tempo.estimate(ref.audio, 96000).bpm
    mono = tempo.estimate(ref.audio.mean(axis=0), 96000).bpm
    y, rate = onset_signal(ref.audio, 96000)
    assert rate == 48000 and stereo == mono == tempo.estimate(y, rate).bpm
    assert stereo == pytest.approx(118, rel=0.01)
    # the key's 8 kHz analysis signal lacks the top of the band, not the tempo
    low, low_rate = analysis_signal(ref.audio, 96000)
    assert tempo.estimate(low, low_rate).bpm == pytest.approx(118, rel=0.01)


def test_a_torch_tensor_is_accepted() -> None:
    torch = pytest.importorskip("torch")
    ref = reference(96, "C major", duration=8.0, sr=16000)
    found = tempo.estimate(torch.from_numpy(ref.audio).float(), 16000).bpm
    assert found == pytest.approx(96, rel=0.01)


def test_onset_strength_peaks_at_a_click() -> None:
    click = np.zeros(32000)
    click[12000] = 1.0
    times, strength = tempo.onset_strength(click, 32000)
    assert times[np.argmax(strength)] == pytest.approx(12000 / 32000, abs=0.021)
    assert np.all(strength >= 0)


def test_bad_input_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="sample rate"):
        tempo.estimate(np.zeros(48000), 0)
    with pytest.raises(AudioError, match="NaN"):
        tempo.estimate(np.full(48000, np.nan), 16000)


def test_tempo_and_key_never_import_librosa() -> None:
    code = (
        "import sys, numpy as np\n"
        "from audiolab import synth\nfrom audiolab.analysis import key, tempo\n"
        "ref = synth.reference(120, 'C major', duration=4.0, sr=16000)\n"
        "tempo.estimate(ref.audio, 16000); key.estimate(ref.audio, 16000)\n"
        "print(sorted(m for m in ('librosa', 'numba') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("sr", [10, 50, 400])
def test_absurdly_low_sample_rates_give_no_tempo_rather_than_a_crash(sr: int) -> None:
    noise = 0.1 * np.random.default_rng(sr).standard_normal(5 * sr)
    assert tempo.estimate(noise, sr).bpm is None
    times, strength = tempo.onset_strength(noise, sr)
    assert len(times) == len(strength) > 0


def _madmom_or_skip() -> None:
    from audiolab.analysis import _madmom

    try:
        _madmom.import_madmom()
    except ImportError as err:
        pytest.skip(f"madmom is not installed ({err}): pip install 'audiolab[mir]'")


def test_madmom_backend_gives_the_same_result_type_with_its_beats_and_alternatives() -> None:
    _madmom_or_skip()
    ref = reference(120, "C major", duration=8.0, sr=22050, pattern="backbeat")
    result = tempo.estimate(ref.audio, 22050, backend="madmom")
    assert isinstance(result, tempo.TempoEstimate) and result.backend == "madmom"
    assert accuracy(result.bpm, 120.0)[1]
    assert 0.0 < result.confidence <= 1.0 and len(result.alternatives) <= 2
    assert len(result.beat_times_s) >= 10 and len(result.curve_bpm) == len(result.curve_times_s)
    assert tempo.estimate(np.zeros(8 * 22050), 22050, backend="madmom").bpm is None
    assert tempo.estimate(np.zeros(22050), 22050, backend="madmom").bpm is None  # 1 s
    assert tempo.estimate(ref.audio, 22050, backend="auto").backend == "madmom"


def test_madmom_asked_for_and_missing_is_an_audio_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from audiolab.analysis import _madmom

    def missing() -> None:
        raise ImportError("No module named 'madmom'")

    monkeypatch.setattr(_madmom, "_PROCESSORS", {})
    monkeypatch.setattr(_madmom, "import_madmom", missing)
    with pytest.raises(AudioError, match=r"audiolab\[mir\]"):
        tempo.estimate(np.zeros(16000), 16000, backend="madmom")


def test_the_madmom_import_helper_reports_other_missing_distributions() -> None:
    import importlib.metadata

    _madmom_or_skip()
    # the redirect is undone after the import
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("madmom-no-such-distribution")


def test_measure_carries_the_tempo_confidence_and_alternatives_json_safe() -> None:
    import json

    from audiolab import measure

    ref = reference(128, "A minor", duration=8.0, sr=16000)
    m = measure(ref.audio, 16000, backend="builtin")
    assert m.bpm == pytest.approx(128, rel=0.01)
    assert m.tempo_confidence == m.tempo_estimate.confidence > 0
    assert m.bpm_alternatives == m.tempo_estimate.alternatives
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["tempo_confidence"] == pytest.approx(m.tempo_confidence)
    assert d["bpm_alternatives"] == [list(pair) for pair in m.bpm_alternatives]
    silent = measure(np.zeros(4 * 16000), 16000).to_dict()
    assert silent["tempo_confidence"] is None and silent["bpm_alternatives"] == []
    with pytest.raises(AudioError, match="backend"):
        measure(ref.audio, 16000, backend="bogus")


@pytest.mark.parametrize("start_s", [0.5, 0.75])
def test_even_eighths_put_the_beat_on_the_first_onset(start_s: float) -> None:
    # identical hits every 0.25 s: 240 BPM is faster than a beat, so the beat is 120 BPM,
    # and nothing in the onsets tells its phase: the clip's first hit is a beat
    sr = 16000
    rng = np.random.default_rng(1)
    audio = np.zeros(10 * sr)
    for t in np.arange(start_s, 9.8, 0.25):
        i = int(t * sr)
        audio[i : i + 400] += 0.5 * rng.standard_normal(400) * np.exp(-np.arange(400) / 80)
    result = tempo.estimate(audio, sr)
    assert result.bpm == pytest.approx(120, rel=0.01)
    phase = np.mod((result.beat_times_s - start_s) / 0.5, 1.0)
    assert np.median(np.minimum(phase, 1.0 - phase)) < 0.1


def test_a_weak_pulse_moves_to_the_slower_level_with_the_stronger_half_of_the_beats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = reference(120, "C major", duration=8.0, sr=16000, channels=1)
    steady = tempo.estimate(ref.audio, ref.sample_rate)
    assert steady.pulse_salience > tempo.WEAK_SALIENCE and round(steady.bpm) == 120
    monkeypatch.setattr(tempo, "WEAK_SALIENCE", math.inf)  # as if no pulse stood out
    weak = tempo.estimate(ref.audio, ref.sample_rate)
    assert weak.bpm == pytest.approx(60.0, rel=0.02)
    assert weak.alternatives[0][0] == pytest.approx(120.0, rel=0.02)
    # every other beat of the steady reading, on the downbeats' half (stronger onsets)
    halves = len(steady.beat_times_s) // 2, -(-len(steady.beat_times_s) // 2)
    assert len(weak.beat_times_s) in halves
    assert np.isin(np.round(weak.beat_times_s, 3), np.round(steady.beat_times_s, 3)).all()


@pytest.mark.parametrize(
    ("chosen", "alternatives", "expected"),
    [
        (128.0, ((64.0, 0.27),), (64.0, 0.27)),
        (128.0, ((85.3, 0.3), (63.0, 0.1)), (63.0, 0.1)),
        (128.0, ((85.3, 0.3),), None),  # 2:3 is no octave
        (70.0, ((35.0, 0.4),), None),  # slower than a beat is tapped
        (60.0, ((120.0, 0.4),), None),  # faster, not slower
    ],
)
def test_the_slower_level_is_the_alternative_an_octave_under_within_the_tactus(
    chosen: float, alternatives: tuple[tuple[float, float], ...], expected: object
) -> None:
    assert tempo._slower_level(chosen, alternatives) == expected
