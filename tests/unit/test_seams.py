"""Measurement.seams: loudness jump, tempo break and key change at the seams of a take."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest
import soundfile as sf

from audiolab import AudioError, synth
from audiolab.analysis.seams import seams
from audiolab.measure import measure
from audiolab.ui import plot

matplotlib.use("Agg")
SR = 16000


def steady_tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return amplitude * np.sin(2 * np.pi * 1000 * t)[None]


def joined(*pieces: np.ndarray) -> np.ndarray:
    return np.concatenate(pieces, axis=1)


def test_the_loudness_jump_of_a_gain_step_is_the_gain_in_db() -> None:
    gain = 0.5
    x = joined(steady_tone(8.0, 0.2), steady_tone(8.0, 0.2 * gain))
    (seam,) = seams(x, SR, [8.0])
    assert seam.loudness_jump_lu == pytest.approx(20 * math.log10(gain), abs=0.01)
    # a mono 1 kHz sine reads its peak level less 3.01 dB (BS.1770: K-weighting is +0.69 dB
    # at 1 kHz, which the -0.691 offset cancels)
    assert seam.loudness_before_lufs == pytest.approx(20 * math.log10(0.2) - 3.01, abs=0.05)


def test_tempo_break_and_key_change_across_a_seam() -> None:
    a = synth.reference(120, "C major", duration=20.0, sr=SR).audio
    b = synth.reference(132, "E major", duration=20.0, sr=SR).audio
    (seam,) = measure(joined(a, b), SR, seams_s=[20.0]).seams
    assert seam.tempo_before_bpm == pytest.approx(120, abs=1.5)
    assert seam.tempo_after_bpm == pytest.approx(132, abs=1.5)
    assert seam.tempo_break_bpm == pytest.approx(12, abs=2)
    assert (seam.key_before, seam.key_after, seam.key_changed) == ("C major", "E major", True)


def test_a_seam_inside_steady_music_breaks_nothing() -> None:
    a = synth.reference(100, "D minor", duration=24.0, sr=SR).audio
    (seam,) = measure(a, SR, seams_s=[12.0]).seams
    assert seam.key_changed is False and abs(seam.tempo_break_bpm) < 1.5
    assert abs(seam.loudness_jump_lu) < 1.0


def test_each_side_is_read_up_to_the_neighbouring_seams() -> None:
    x = steady_tone(40.0, 0.1)
    first, second, third = seams(x, SR, [6.0, 10.0, 30.0], window_s=10.0)
    assert (first.before_s, first.after_s) == (6.0, 4.0)
    assert (second.before_s, second.after_s) == (4.0, 10.0)
    assert (third.before_s, third.after_s) == (10.0, 10.0)


def test_what_cannot_be_told_is_none() -> None:
    (seam,) = seams(np.zeros((1, SR * 10)), SR, [2.0])  # silence, and under 3 s before
    assert seam.loudness_before_lufs is None and seam.loudness_jump_lu is None
    assert seam.tempo_break_bpm is None and seam.key_changed is None
    assert seams(np.zeros((1, SR)), SR, []) == ()


@pytest.mark.parametrize("bad", [[0.0], [10.0], [-1.0], [float("nan")], ["x"], 3.0])
def test_seams_outside_the_clip_are_audio_errors(bad) -> None:
    with pytest.raises(AudioError, match="seam"):
        seams(np.zeros((1, SR * 10)), SR, bad)


def test_a_measured_file_carries_its_seams_in_the_dict(tmp_path) -> None:
    path = tmp_path / "take.wav"
    sf.write(path, joined(steady_tone(5.0, 0.3), steady_tone(5.0, 0.1)).T, SR, subtype="PCM_24")
    m = measure(path, bpm=False, key=False, seams_s=(5.0,))
    data = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert [s["time_s"] for s in data["seams"]] == [5.0]
    assert data["seams"][0]["loudness_jump_lu"] == pytest.approx(20 * math.log10(1 / 3), abs=0.02)
    assert "seams" not in measure(path, bpm=False, key=False).to_dict()


def test_the_plot_marks_each_seam_with_what_changed() -> None:
    a = synth.reference(120, "C major", duration=12.0, sr=SR).audio
    b = 0.5 * synth.reference(120, "E major", duration=12.0, sr=SR).audio
    m = measure(joined(a, b), SR, seams_s=[12.0])
    ax = plot.loudness(m.loudness_report, target_lufs=None)
    plot.mark_seams(m, ax)
    marks = [line for line in ax.get_lines() if line.get_label() == "seam"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 12.0
    (note,) = [t.get_text() for t in ax.texts if "LU" in t.get_text()]
    assert "C major → E major" in note and note.startswith("-")
