"""The analysed signal as the shared currency: one gate entry and one K-weighting pass an export.

The input gate and the K-weighting are wrapped here with counters (in every
module that holds them), so the counts are the calls the product makes. The
music whose limited export is counted is band-limited as recordings are: the
limiter's first result holds the ideal true peak too. Full-band material (the
programme's white-noise hi-hats read 0.16 dB higher by ideal interpolation
than by the meter) is limited once more, reading the ideal true peak: one pass more.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import pytest

import audiolab._audio
import audiolab.loudness.kweighting
from audiolab import loudness
from audiolab.export import export_wav
from audiolab.normalize import normalize
from audiolab.testing import programme

SR = 32000


@pytest.fixture
def counted(monkeypatch):
    """Counts of gate entries and of channels K-weighted, while the test runs."""
    counts = {"gate": 0, "k_weighted_channels": 0}
    gate = audiolab._audio.as_audio
    k_weighting = audiolab.loudness.kweighting.subblock_energies

    @functools.wraps(gate)
    def counting_gate(*args, **kwargs):
        counts["gate"] += 1
        return gate(*args, **kwargs)

    @functools.wraps(k_weighting)
    def counting_k_weighting(*args, **kwargs):
        counts["k_weighted_channels"] += 1
        return k_weighting(*args, **kwargs)

    def is_(value: object, original: object) -> bool:
        # a module first imported while another test counted holds that test's wrapper
        return value is original or getattr(value, "__wrapped__", None) is original

    for name, module in list(sys.modules.items()):
        if not name.startswith("audiolab"):
            continue
        if is_(getattr(module, "as_audio", None), gate):
            monkeypatch.setattr(module, "as_audio", counting_gate)
        if is_(getattr(module, "subblock_energies", None), k_weighting):
            monkeypatch.setattr(module, "subblock_energies", counting_k_weighting)
    return counts


@pytest.fixture(scope="module")
def full_band() -> np.ndarray:
    return programme(8.0, SR)  # peaks at -1 dBFS, about -17 LUFS


@pytest.fixture(scope="module")
def music(full_band) -> np.ndarray:
    from scipy import signal

    lowpass = signal.butter(8, 0.6, output="sos")  # 9.6 kHz
    return signal.sosfiltfilt(lowpass, full_band, axis=1)


def test_a_plain_gain_export_validates_once_and_k_weights_once(counted, music, tmp_path) -> None:
    result = export_wav(0.1 * music, tmp_path / "a.wav", SR, target_lufs=-23.0)
    assert not result.limited and result.within_tolerance
    assert counted == {"gate": 1, "k_weighted_channels": 2}  # stereo: one pass


def test_an_export_the_limiter_acts_on_k_weights_twice(counted, music, tmp_path) -> None:
    result = export_wav(music, tmp_path / "a.wav", SR, target_lufs=-12.0)
    assert result.limited and result.within_tolerance
    assert counted == {"gate": 1, "k_weighted_channels": 4}  # the input, the limited result


def test_full_band_material_over_by_the_ideal_peak_is_limited_once_reading_it(
    counted, full_band, tmp_path
) -> None:
    # its loudest blocks read the ideal over the meter by more than the limiter's headroom:
    # the limiter reads the ideal from its first run, no result of the meter's alone is made
    result = export_wav(full_band, tmp_path / "a.wav", SR, target_lufs=-12.0)
    assert result.limited and result.within_tolerance
    assert counted == {"gate": 1, "k_weighted_channels": 4}  # the input, one limited result


def test_normalize_counts_the_same(counted, music) -> None:
    _, info = normalize(0.1 * music, SR, target_lufs=-23.0)
    assert not info.limited and counted == {"gate": 1, "k_weighted_channels": 2}
    counted.update(gate=0, k_weighted_channels=0)
    _, info = normalize(music, SR, target_lufs=-12.0)
    assert info.limited and counted == {"gate": 1, "k_weighted_channels": 4}


def test_the_counters_see_the_public_meter(counted, music) -> None:
    # the wrappers count real calls: a report is one gate entry and one pass
    loudness.report(music, SR)
    assert counted == {"gate": 1, "k_weighted_channels": 2}


@pytest.mark.parametrize("bit_depth", ["PCM_16", "PCM_24", "FLOAT"])
def test_what_the_result_says_is_what_the_file_measures(music, tmp_path, bit_depth) -> None:
    import soundfile as sf

    for target, clip in ((-23.0, 0.1 * music), (-12.0, music)):  # plain gain, limited
        result = export_wav(clip, tmp_path / "a.wav", SR, target_lufs=target, bit_depth=bit_depth)
        written = sf.read(result.path, always_2d=True)[0].T
        assert result.output_lufs == pytest.approx(loudness.integrated(written, SR), abs=1e-3)
        assert result.true_peak_dbtp == pytest.approx(loudness.true_peak(written, SR), abs=2e-3)
