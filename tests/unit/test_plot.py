"""Plots render to PNG with Agg and carry what they claim: labels, lines, bands, legends."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from audiolab import AudioError
from audiolab import loudness as meter
from audiolab.testing import programme
from audiolab.ui import plot

SR = 16000


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return programme(8.0, SR)


def render(ax, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    assert path.stat().st_size > 5000  # a real picture, not an empty canvas
    return path


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_loudness_plot_has_curves_integrated_target_band_and_true_peak(clip, tmp_path) -> None:
    report = meter.report(clip, SR)
    ax = plot.loudness(report, target_lufs=-14, tolerance_lu=0.5, title="clip")
    render(ax, tmp_path, "loudness")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "time (s)",
        "loudness (LUFS)",
        "clip",
    )
    momentary, short_term = ax.get_lines()[:2]
    np.testing.assert_array_equal(momentary.get_xdata(), report.momentary_times_s)
    np.testing.assert_array_equal(short_term.get_ydata(), report.short_term_lufs)
    (band,) = ax.patches
    texts = legend_texts(ax)
    assert f"integrated {report.integrated_lufs:.1f} LUFS" in texts
    assert "target -14 LUFS" in texts and "target ±0.5 LU" in texts
    assert any(t.startswith(f"true peak {report.true_peak_dbtp:.1f} dBTP") for t in texts)
    lo, hi = ax.transData.inverted().transform(band.get_window_extent())[:, 1]
    assert (lo, hi) == pytest.approx((-14.5, -13.5), abs=0.05)


def test_loudness_plot_from_audio_and_without_target(clip, tmp_path) -> None:
    ax = plot.loudness(clip, SR, target_lufs=None)
    render(ax, tmp_path, "no_target")
    assert len(ax.patches) == 0 and not any(t.startswith("target") for t in legend_texts(ax))
    with pytest.raises(AudioError, match="sr is needed"):
        plot.loudness(clip)


def test_silence_plots_as_gaps_not_minus_infinity(tmp_path) -> None:
    audio = programme(6.0, SR)
    audio[:, : 3 * SR] = 0.0
    ax = plot.loudness(audio, SR)
    render(ax, tmp_path, "gaps")
    momentary = ax.get_lines()[0].get_ydata()
    assert np.isnan(momentary[:20]).all() and np.isfinite(momentary[-10:]).all()


def test_compare_loudness_draws_both_versions(clip, tmp_path) -> None:
    ax = plot.compare_loudness(0.1 * clip, clip, SR, labels=("raw", "normalized"))
    render(ax, tmp_path, "compare")
    texts = legend_texts(ax)
    assert {"raw momentary (400 ms)", "normalized short-term (3 s)"} <= set(texts)
    raw, norm = (meter.integrated(0.1 * clip, SR), meter.integrated(clip, SR))
    assert (
        f"raw integrated {raw:.1f} LUFS" in texts
        and f"normalized integrated {norm:.1f} LUFS" in texts
    )
    assert len(ax.get_lines()) == 7 and len(ax.patches) == 1  # 4 curves, 2 integrated, target


def test_tempo_plot_draws_curve_beats_and_truth(tmp_path) -> None:
    times, bpm = np.arange(3.0, 10.0), np.linspace(90, 130, 7)
    ax = plot.tempo((times, bpm), beats=np.arange(0, 10, 0.5), truth=(times, bpm + 1))
    render(ax, tmp_path, "tempo")
    assert ax.get_ylabel() == "tempo (BPM)"
    curve, truth, beats = ax.get_lines()
    np.testing.assert_array_equal(curve.get_ydata(), bpm)
    np.testing.assert_array_equal(truth.get_ydata(), bpm + 1)
    assert len(beats.get_xdata()) == 20 and "beats (20)" in legend_texts(ax)
    ax = plot.tempo(type("Curve", (), {"times_s": times, "bpm": bpm})(), truth=120.0)
    assert "true tempo 120 BPM" in legend_texts(ax)


def test_waveform_plots_each_channel_in_seconds(tmp_path) -> None:
    long = programme(4.0, SR)
    ax = plot.waveform(long, SR, title="w")
    render(ax, tmp_path, "waveform")
    assert legend_texts(ax) == ["left", "right"] and len(ax.collections) == 2
    assert ax.get_xlim() == (0.0, 4.0)
    short = plot.waveform(np.sin(np.arange(100) / 5), SR)
    assert legend_texts(short) == ["mono"] and len(short.get_lines()) == 1


def test_plots_draw_on_given_axes(clip) -> None:
    _, axes = plt.subplots(2)
    assert plot.loudness(clip, SR, ax=axes[1]) is axes[1]
    assert plot.waveform(clip, SR, ax=axes[0]) is axes[0]


def test_chroma_key_shows_the_pitch_classes_and_the_detected_key(tmp_path) -> None:
    from audiolab.synth import reference

    clip = reference(110, "E minor", duration=8.0, sr=SR, seed=3)
    ax = plot.chroma_key(clip.audio, SR, title="take 1")
    render(ax, tmp_path, "chroma")
    assert ax.get_title().startswith("take 1 — key: E minor (confidence")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"
    ]  # fmt: skip
    (image,) = ax.get_images()
    assert image.get_array().shape[0] == 12 and ax.get_xlabel() == "time (s)"
    silent = plot.chroma_key(np.zeros(2 * SR), SR)
    assert silent.get_title() == "key: none (no pitch content)"
