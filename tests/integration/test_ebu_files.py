"""The official EBU loudness test set (v05) files, read from ../shared as in CI."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from audiolab import loudness


def read(ebu_dir: Path, name: str):
    audio, sr = sf.read(ebu_dir / name, always_2d=True)
    return audio.T, sr


@pytest.mark.parametrize(
    ("name", "expected"), [("seq-3341-1-16bit.wav", -23.0), ("seq-3341-2-16bit.wav", -33.0)]
)
def test_cases_1_and_2_momentary_short_term_integrated(
    ebu_dir: Path, name: str, expected: float
) -> None:
    audio, sr = read(ebu_dir, name)
    r = loudness.report(audio, sr)
    assert r.integrated_lufs == pytest.approx(expected, abs=0.1)
    assert r.momentary_lufs.min() == pytest.approx(expected, abs=0.1)
    assert r.momentary_lufs.max() == pytest.approx(expected, abs=0.1)
    assert r.short_term_lufs.min() == pytest.approx(expected, abs=0.1)
    assert r.short_term_lufs.max() == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("n", range(1, 21))
def test_case_10_maximum_short_term(ebu_dir: Path, n: int) -> None:
    audio, sr = read(ebu_dir, f"seq-3341-10-{n}-24bit.wav")
    assert loudness.max_short_term(audio, sr) == pytest.approx(-23.0, abs=0.1)


def test_case_12_momentary_constant_after_1_s(ebu_dir: Path) -> None:
    audio, sr = read(ebu_dir, "seq-3341-12-24bit.wav")
    times, m = loudness.momentary(audio, sr, hop_s=0.01)
    assert m[times >= 1.0].min() == pytest.approx(-23.0, abs=0.1)
    assert m[times >= 1.0].max() == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("n", range(1, 21))
def test_case_13_maximum_momentary(ebu_dir: Path, n: int) -> None:
    audio, sr = read(ebu_dir, f"seq-3341-13-{n}-24bit.wav")
    assert loudness.max_momentary(audio, sr) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (15, -6.0),
        (16, -6.0),
        (17, -6.0),
        (18, -6.0),
        (19, 3.0),
        (20, 0.0),
        (21, 0.0),
        (22, 0.0),
        (23, 0.0),
    ],
)
def test_true_peak_cases_15_to_23(ebu_dir: Path, case: int, expected: float) -> None:
    audio, sr = read(ebu_dir, f"seq-3341-{case}-24bit.wav")
    assert expected - 0.4 <= loudness.true_peak(audio, sr) <= expected + 0.2
