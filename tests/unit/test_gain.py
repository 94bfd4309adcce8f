"""The gain solved on the gated loudness of the gained signal, and what is out of reach.

The independent truth for the files is libebur128 (pyebur128): an export is
judged by what another meter reads from the file it wrote.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab import AudioError, loudness
from audiolab.export import export_wav
from audiolab.loudness.gating import gain_for_loudness, gated_loudness
from audiolab.normalize import (
    KNEE_LU,
    analyse_input,
    normalize,
    normalize_analysis,
    normalize_group,
    shared_gain_db,
)
from audiolab.testing import programme, sine

SR = 32000


def libebur128(path) -> float:
    """Integrated loudness of a file by libebur128."""
    pyebur128 = pytest.importorskip("pyebur128")
    audio, sr = sf.read(path, always_2d=True)
    state = pyebur128.R128State(audio.shape[1], sr, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(np.ascontiguousarray(audio).ravel(), len(audio))
    return float(pyebur128.get_loudness_global(state))


def near_the_gate(seconds_loud: float = 2.0, seconds_quiet: float = 20.0) -> np.ndarray:
    """A take at about -67.7 LUFS: a short passage over the -70 LUFS gate and a long one
    under it, which a gain lifts over the gate."""
    loud, quiet = programme(seconds_loud, SR), programme(seconds_quiet, SR, seed=3)
    loud *= 10 ** ((-66.0 - loudness.integrated(loud, SR)) / 20)
    quiet *= 10 ** ((-74.0 - loudness.integrated(quiet, SR)) / 20)
    return np.concatenate([loud, quiet], axis=1)


# ------------------------------------------------------------ the direct solve
@settings(max_examples=80, deadline=None)
@given(
    levels=st.lists(st.floats(-100.0, -5.0), min_size=1, max_size=60),
    target=st.floats(-69.0, -5.0),
)
def test_the_least_gain_that_gives_the_target(levels: list[float], target: float) -> None:
    powers = 10 ** ((np.array(levels) + 0.691) / 10)
    gain = gain_for_loudness(powers, target)
    assert gain is not None
    assert gated_loudness(powers * 10 ** (gain / 10)) == pytest.approx(target, abs=1e-9)
    # no smaller gain gives it: the loudness only rises continuously, so below the least
    # solution it stays under the target
    below = gain - np.geomspace(1e-6, 60.0, 200)
    assert all(gated_loudness(powers * 10 ** (g / 10)) < target + 1e-9 for g in below)


def test_no_gain_gives_a_target_under_the_gate_or_loudness_to_silence() -> None:
    powers = 10 ** ((np.array([-20.0, -30.0]) + 0.691) / 10)
    assert gain_for_loudness(powers, -70.0) is None
    assert gain_for_loudness(np.zeros(5), -20.0) is None


def test_a_take_near_the_gate_is_exported_onto_the_target(tmp_path) -> None:
    take = near_the_gate()
    assert loudness.integrated(take, SR) == pytest.approx(-66.0, abs=0.5)
    naive = 10 ** ((-16.0 - loudness.integrated(take, SR)) / 20) * take
    assert loudness.integrated(naive, SR) < -16.5  # the gain taken as target - input misses
    result = export_wav(take, tmp_path / "quiet.wav", SR, target_lufs=-16.0)
    assert result.within_tolerance and result.message is None
    assert libebur128(result.path) == pytest.approx(-16.0, abs=0.1)
    assert loudness.true_peak(sf.read(result.path, always_2d=True)[0].T, SR) <= -1.0


@pytest.mark.parametrize("target", [-30.0, -23.0, -9.0])
def test_every_target_from_a_take_near_the_gate(target: float) -> None:
    out, info = normalize(near_the_gate(1.0, 10.0), SR, target_lufs=target)
    assert info.reached_target and loudness.integrated(out, SR) == pytest.approx(target, abs=0.1)


# ------------------------------------------------------------ the limiter's reach
def bursts_with_spikes(seconds: float = 6.0) -> np.ndarray:
    """Noise bursts (a quarter second every half second) with sparse full-scale spikes."""
    rng = np.random.default_rng(5)
    n = round(seconds * SR)
    t = np.arange(n) / SR
    x = 0.05 * rng.standard_normal((2, n)) * ((t % 0.5) < 0.25)
    spikes = rng.choice(n, size=round(3 * seconds), replace=False)
    x[:, spikes] = rng.choice([-1.0, 1.0], size=(2, len(spikes)))
    return x


def test_noise_bursts_with_full_scale_spikes_reach_minus_9_lufs(tmp_path) -> None:
    result = export_wav(bursts_with_spikes(), tmp_path / "b.wav", SR, target_lufs=-9.0)
    assert result.within_tolerance and result.limited, result.message
    assert libebur128(result.path) == pytest.approx(-9.0, abs=0.1)
    assert loudness.true_peak(sf.read(result.path, always_2d=True)[0].T, SR) <= -1.0


def test_out_of_reach_says_why_with_the_numbers() -> None:
    bass = sine(40.0, 3.0, SR, amplitude_dbfs=-6.0)
    out, info = normalize(bass, SR, target_lufs=-6.0)
    assert not info.reached_target and info.limited
    message = info.message or ""
    assert message.startswith("cannot reach -6 LUFS under -1 dBTP: the limiter reached ")
    assert f"{info.output_lufs:.2f} LUFS" in message and "flattened" in message
    assert loudness.true_peak(out, SR) <= -1.0  # the ceiling holds even then
    # the loudest it gets: the knee is within KNEE_LU of what the flattened signal reads
    loudest = float(message.split("about ")[1].split(" LUFS")[0])
    assert info.output_lufs >= loudest - KNEE_LU - 0.1


def test_a_target_under_the_gate_is_reported() -> None:
    _, info = normalize(programme(2.0, SR), SR, target_lufs=-75.0)
    assert not info.reached_target and "-70 LUFS absolute gate" in (info.message or "")


def test_a_peak_that_slips_through_is_caught(monkeypatch) -> None:
    # aim the limiter over the ceiling: its own measurement must pull it back under
    monkeypatch.setattr("audiolab.limiting.LIMITER_HEADROOM_DB", -0.3)
    out, info = normalize(programme(4.0, SR), SR, target_lufs=-10.0)
    assert info.reached_target and loudness.true_peak(out, SR) <= -1.0


# ------------------------------------------------------------ one gain for a group
def test_a_group_keeps_its_relative_loudness_and_the_loudest_meets_the_target() -> None:
    clip = programme(3.0, SR)
    quiet, middle, loud = 0.05 * clip, 0.3 * programme(3.0, SR, seed=1), clip
    results = normalize_group([quiet, middle, loud], SR, target_lufs=-12.0)
    (q, q_info), (m, m_info), (top, top_info) = results
    assert loudness.integrated(top, SR) == pytest.approx(-12.0, abs=0.1)  # the loudest
    assert top_info.limited  # ... which the shared gain pushes over the ceiling
    # the others get the gain that brings the loudest to the target without limiting
    shared = analyse_input(loud, SR)[0].gain_for(-12.0)
    for x, out, info in ((quiet, q, q_info), (middle, m, m_info)):
        assert not info.limited and info.gain_db == pytest.approx(shared, abs=1e-9)
        # their loudness (without the DC offset normalize removes) moves by as much
        expected = analyse_input(x, SR)[0].integrated() + shared
        assert loudness.integrated(out, SR) == pytest.approx(expected, abs=1e-6)
        assert info.target_lufs == pytest.approx(expected, abs=1e-6) and info.reached_target
    assert all(loudness.true_peak(out, SR) <= -1.0 for out, _ in results)


def test_the_shared_gain_is_the_loudest_items_gain() -> None:
    clip = programme(2.0, SR)
    sources = [analyse_input(x, SR)[0] for x in (0.2 * clip, clip, np.zeros((2, SR)))]
    assert shared_gain_db(sources, -20.0) == pytest.approx(sources[1].gain_for(-20.0))
    assert shared_gain_db([sources[2]], -20.0) is None


def test_a_silent_item_in_a_group_is_reported_not_normalized() -> None:
    (_, silent), (_, music) = normalize_group([np.zeros((2, SR)), programme(2.0, SR)], SR)
    assert not silent.reached_target and "silent" in (silent.message or "")
    assert music.reached_target


def test_a_group_needs_clips_and_valid_ones() -> None:
    with pytest.raises(AudioError, match="at least one clip"):
        normalize_group([], SR)
    with pytest.raises(AudioError, match="NaN"):
        normalize_group([programme(1.0, SR), np.full(SR, np.nan)], SR)


def test_normalize_analysis_with_a_given_gain_reports_the_loudness_it_gives() -> None:
    source, dc = analyse_input(0.1 * programme(2.0, SR), SR)
    out, info = normalize_analysis(source, -99.0, -1.0, dc_offset=dc, gain_db=6.0)
    assert info.gain_db == 6.0 and info.reached_target
    assert info.target_lufs == pytest.approx(source.integrated() + 6.0, abs=1e-9)
    assert math.isclose(out.integrated(), info.output_lufs)
