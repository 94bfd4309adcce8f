"""A generation goes straight into export_wav and meets the ±0.5 LU criterion."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from audiolab import loudness
from audiolab.export import export_wav
from audiolab.generate import generate
from audiolab.testing import tiny_musicgen


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny")))


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_a_generation_exports_within_half_a_lu(model: str, tmp_path: Path, target: float) -> None:
    take = generate(
        "hip hop beat at 140 bpm with heavy 808 bass", 4.0, model=model, seed=5, progress=False
    )
    result = export_wav(take.audio, tmp_path / "take.wav", take.sample_rate, target_lufs=target)
    audio, sr = sf.read(result.path, always_2d=True)
    assert abs(loudness.integrated(audio.T, sr) - target) <= 0.5
    assert result.within_tolerance and loudness.true_peak(audio.T, sr) <= -1.0
    assert sr == take.sample_rate and audio.shape[0] == 4 * take.sample_rate
