"""The seed's AudioMetadataExtractor, as a facade over measure()."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from audiolab import AudioError
from audiolab.compat import AudioMetadataExtractor
from audiolab.synth import reference

SEED_FIELDS = {
    "duration_seconds": float,
    "sample_rate": int,
    "channels": int,
    "file_size_bytes": int,
    "bit_depth": str,
    "bpm": float,
    "key": str,
    "peak_amplitude": float,
    "rms_energy": float,
    "dynamic_range_db": float,
}


@pytest.fixture(scope="module")
def clip():
    return reference(112, "C# minor", duration=8.0, sr=32000, seed=9)


@pytest.fixture
def wav(tmp_path, clip):
    path = tmp_path / "take.wav"
    soundfile.write(path, clip.audio.T, clip.sample_rate, subtype="PCM_24")
    return path


def test_extract_metadata_returns_the_seed_dict_with_its_types(wav) -> None:
    meta = AudioMetadataExtractor(extract_bpm=True, extract_key=True).extract_metadata(str(wav))
    for name, kind in SEED_FIELDS.items():
        assert type(meta[name]) is kind, (name, meta[name])
    assert list(meta)[: len(SEED_FIELDS)] == list(SEED_FIELDS)
    assert meta["bpm"] == pytest.approx(112, rel=0.01)
    assert meta["key"] == "C# minor"
    assert meta["bit_depth"] == "PCM_24" and meta["file_size_bytes"] == wav.stat().st_size
    assert json.loads(json.dumps(meta, allow_nan=False)) == meta


def test_the_seed_defaults_estimate_the_tempo_but_not_the_key(wav) -> None:
    meta = AudioMetadataExtractor().extract_metadata(wav)
    assert meta["bpm"] == pytest.approx(112, rel=0.01)
    assert meta["key"] is None and meta["key_confidence"] is None


def test_compute_stats_false_leaves_the_statistics_out(wav) -> None:
    meta = AudioMetadataExtractor(extract_bpm=False).extract_metadata(wav, compute_stats=False)
    assert meta["peak_amplitude"] is meta["rms_energy"] is meta["dynamic_range_db"] is None
    assert meta["bpm"] is None
    assert meta["duration_seconds"] == 8.0 and meta["channels"] == 2


def test_extract_metadata_from_tensor_matches_the_file(wav, clip) -> None:
    torch = pytest.importorskip("torch")
    extractor = AudioMetadataExtractor(extract_key=True)
    from_tensor = extractor.extract_metadata_from_tensor(
        torch.from_numpy(clip.audio).float()[None], clip.sample_rate
    )
    from_file = extractor.extract_metadata(wav)
    assert from_tensor["file_size_bytes"] is None and from_tensor["bit_depth"] is None
    assert from_tensor["key"] == from_file["key"] == "C# minor"
    assert from_tensor["bpm"] == pytest.approx(from_file["bpm"], rel=0.002)
    assert from_tensor["peak_amplitude"] == pytest.approx(from_file["peak_amplitude"], abs=1e-6)


def test_silence_from_a_tensor_has_no_tempo_and_no_key() -> None:
    meta = AudioMetadataExtractor(extract_key=True).extract_metadata_from_tensor(
        np.zeros((2, 4 * 8000)), 8000
    )
    assert meta["bpm"] is None and meta["key"] is None
    assert meta["peak_amplitude"] == 0.0 and meta["dynamic_range_db"] is None


def test_errors_are_audio_errors_naming_the_file(tmp_path) -> None:
    extractor = AudioMetadataExtractor()
    with pytest.raises(AudioError, match=r"gone\.wav"):
        extractor.extract_metadata(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match="sample rate"):
        extractor.extract_metadata_from_tensor(np.zeros(100), 0)
