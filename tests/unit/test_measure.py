"""measure() on audio: the seed's fields, the JSON dict, the edge cases."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab import AudioError, loudness
from audiolab.measure import Measurement, measure
from audiolab.synth import reference
from audiolab.testing import sine

# The seed's dict: its names and the types of its values (None allowed where it can be).
SEED_FIELDS = {
    "duration_seconds": (float,),
    "sample_rate": (int,),
    "channels": (int,),
    "file_size_bytes": (int, type(None)),
    "bit_depth": (str, type(None)),
    "bpm": (float, type(None)),
    "key": (str, type(None)),
    "peak_amplitude": (float,),
    "rms_energy": (float,),
    "dynamic_range_db": (float,),
}


@pytest.fixture(scope="module")
def music() -> object:
    return reference(132, "E minor", duration=8.0, sr=32000, seed=4)


def test_the_seed_fields_have_the_seed_names_and_types(music) -> None:
    d = measure(music.audio, music.sample_rate).to_dict()
    for name, types in SEED_FIELDS.items():
        assert isinstance(d[name], types), (name, d[name])
        assert not isinstance(d[name], bool)
    assert list(d)[: len(SEED_FIELDS)] == list(SEED_FIELDS)
    for name in ("integrated_lufs", "true_peak_dbtp", "loudness_range_lu", "key_confidence"):
        assert isinstance(d[name], float)


def test_the_values_are_true_to_the_clip(music) -> None:
    m = measure(music.audio, music.sample_rate)
    x = music.audio
    assert m.duration_seconds == 8.0 and m.sample_rate == 32000 and m.channels == 2
    assert m.frames == x.shape[1]
    assert m.bpm == pytest.approx(132, rel=0.01)
    assert m.key == "E minor" and 0.0 <= m.key_confidence <= 1.0
    assert m.peak_amplitude == pytest.approx(np.max(np.abs(x)))
    assert m.rms_energy == pytest.approx(np.sqrt(np.mean(x**2)))
    assert m.dynamic_range_db == pytest.approx(20 * np.log10(m.peak_amplitude / m.rms_energy))
    report = loudness.report(x, 32000)
    assert m.integrated_lufs == report.integrated_lufs
    assert m.true_peak_dbtp == report.true_peak_dbtp
    assert m.loudness_range_lu == report.loudness_range_lu
    assert m.file_size_bytes is None and m.bit_depth is None and m.path is None


def test_dynamic_range_is_the_crest_factor_in_db() -> None:
    m = measure(sine(1000, 1.0, 48000, amplitude_dbfs=-6.0), 48000, bpm=False, key=False)
    assert m.dynamic_range_db == pytest.approx(20 * math.log10(math.sqrt(2)), abs=0.01)
    assert m.peak_amplitude == pytest.approx(10 ** (-6 / 20), rel=1e-4)


def test_to_dict_round_trips_through_json(music) -> None:
    d = measure(music.audio, music.sample_rate, curves=True).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    for name in ("momentary_times_s", "momentary_lufs", "short_term_times_s", "short_term_lufs"):
        assert len(d[name]) > 10
    assert len(d["tempo_times_s"]) == len(d["tempo_bpm"]) >= 1
    assert d["tempo_bpm"][0] == pytest.approx(132, rel=0.02)
    assert len(d["beat_times_s"]) >= 15
    assert "momentary_lufs" not in measure(music.audio, 32000, bpm=False, key=False).to_dict()


def test_curves_can_be_asked_of_to_dict_afterwards(music) -> None:
    m = measure(music.audio, music.sample_rate)
    assert "tempo_bpm" in m.to_dict(curves=True)
    times, bpm = m.tempo_curve
    assert len(times) == len(bpm) and len(m.beat_times_s) >= 15


@settings(max_examples=25, deadline=None)
@given(
    channels=st.integers(1, 2),
    seconds=st.floats(0.01, 1.5),
    sr=st.sampled_from([8000, 16000, 44100]),
    level=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_any_clip_gives_a_json_safe_dict(
    channels: int, seconds: float, sr: int, level: float, seed: int
) -> None:
    x = level * np.random.default_rng(seed).uniform(-1, 1, (channels, max(1, int(seconds * sr))))
    d = measure(x, sr).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["channels"] == channels and d["sample_rate"] == sr
    assert d["peak_amplitude"] == pytest.approx(float(np.max(np.abs(x))))


def test_silence_is_measured_honestly() -> None:
    m = measure(np.zeros((2, 5 * 16000)), 16000)
    assert m.peak_amplitude == 0.0 and m.rms_energy == 0.0
    assert m.dynamic_range_db is None
    assert m.bpm is None and m.key is None and m.key_confidence is None
    assert m.integrated_lufs == -math.inf
    d = m.to_dict()
    assert d["integrated_lufs"] is None and d["true_peak_dbtp"] is None
    assert d["loudness_range_lu"] == 0.0


def test_a_half_second_clip_has_loudness_but_no_range_and_no_tempo() -> None:
    clip = reference(120, "C major", duration=0.5, sr=16000).audio
    m = measure(clip, 16000)
    assert m.duration_seconds == 0.5
    assert math.isfinite(m.integrated_lufs)
    assert m.loudness_range_lu is None and m.max_short_term_lufs is None
    assert m.bpm is None


def test_a_clip_shorter_than_a_gating_block_has_no_loudness() -> None:
    m = measure(0.1 * np.ones(1000), 8000)  # 125 ms
    assert m.integrated_lufs is None and m.true_peak_dbtp is None
    assert m.peak_amplitude == pytest.approx(0.1)


def test_dc_has_statistics_but_no_tempo_no_key_and_no_loudness() -> None:
    m = measure(np.full(4 * 16000, 0.25), 16000)
    assert m.peak_amplitude == m.rms_energy == 0.25
    assert m.dynamic_range_db == 0.0
    assert m.bpm is None and m.key is None
    assert m.integrated_lufs < -30  # the K-weighting removes DC: only the step at the start


def test_mono_and_stereo_of_the_same_music_agree(music) -> None:
    stereo = measure(music.audio, 32000)
    mono = measure(music.audio.mean(axis=0), 32000)
    assert mono.channels == 1 and stereo.channels == 2
    assert mono.bpm == pytest.approx(stereo.bpm, rel=0.005)
    assert mono.key == stereo.key


@pytest.mark.parametrize("sr", [8000, 96000])
def test_extreme_sample_rates(sr: int) -> None:
    ref = reference(110, "D minor", duration=8.0, sr=sr)
    m = measure(ref.audio, sr)
    assert m.sample_rate == sr
    assert m.bpm == pytest.approx(110, rel=0.01)
    assert m.key == "D minor"
    assert math.isfinite(m.integrated_lufs)


def test_only_what_is_asked_is_computed(music) -> None:
    m = measure(music.audio, 32000, bpm=False, key=False, loudness=False)
    assert m.bpm is None and m.key is None and m.integrated_lufs is None
    assert m.tempo_estimate is None and m.key_estimate is None and m.loudness_report is None
    assert m.peak_amplitude is not None
    m = measure(music.audio, 32000, stats=False, loudness=False, key=False)
    assert m.peak_amplitude is None and m.bpm is not None


def test_a_torch_tensor_is_measured_like_its_array(music) -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(music.audio)[None]  # (1, channels, samples), as MusicGen returns it
    assert measure(tensor, 32000).to_dict() == measure(music.audio, 32000).to_dict()


def test_audio_needs_its_sample_rate() -> None:
    with pytest.raises(AudioError, match="sample_rate is required"):
        measure(np.zeros(100))
    with pytest.raises(AudioError, match="sample rate"):
        measure(np.zeros(100), 0)
    with pytest.raises(AudioError, match=r"pass audio\.T"):
        measure(np.zeros((32000, 2)), 32000)
    with pytest.raises(AudioError, match="NaN"):
        measure(np.array([0.0, np.nan]), 8000)
    with pytest.raises(AudioError, match="numpy array or a torch tensor"):
        measure(12345, 8000)


def test_measurement_is_a_frozen_value() -> None:
    m = measure(np.zeros(800), 8000)
    assert isinstance(m, Measurement)
    with pytest.raises(AttributeError):
        m.bpm = 120.0  # type: ignore[misc]


def test_importing_measure_loads_neither_scipy_nor_soundfile() -> None:
    code = (
        "import sys, audiolab.measure\n"
        "print(sorted(m for m in ('scipy', 'soundfile', 'librosa', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_measuring_a_file_needs_no_scipy(tmp_path) -> None:
    # scipy's import (about a second) would be paid by every fresh process: CLI, workers
    path = tmp_path / "clip.wav"
    code = (
        "import sys, numpy as np, soundfile\n"
        "from audiolab.synth import reference\n"
        f"soundfile.write({str(path)!r}, reference(120, 'A minor', 4.0, sr=32000).audio.T, 32000)\n"
        "from audiolab.measure import measure\n"
        f"m = measure({str(path)!r})\n"
        "print(round(m.bpm), m.key, 'scipy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["120", "A", "minor", "False"]


def test_to_dict_turns_numpy_numbers_into_python_numbers() -> None:
    m = Measurement(
        duration_seconds=np.float64(1.0),
        sample_rate=np.int64(8000),
        channels=1,
        frames=8000,
        integrated_lufs=np.float64(-np.inf),
    )
    d = m.to_dict()
    assert type(d["duration_seconds"]) is float and type(d["sample_rate"]) is int
    assert d["integrated_lufs"] is None
