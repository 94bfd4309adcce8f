"""normalize() and its true-peak limiter."""

from __future__ import annotations

import numpy as np
import pytest

from audiolab import AudioError, loudness
from audiolab.normalize import CEILING_MARGIN_DB, LIMITER_HEADROOM_DB, limit, normalize
from audiolab.testing import programme, sine

SR = 32000


@pytest.fixture(scope="module")
def music() -> np.ndarray:
    return programme(6.0, SR)


def test_a_plain_gain_when_the_peak_allows_it(music) -> None:
    out, info = normalize(music, SR, target_lufs=-23.0)
    assert not info.limited and info.iterations == 1 and info.reached_target
    gain = 10 ** (info.gain_db / 20)
    np.testing.assert_allclose(out, (music - music.mean(axis=1, keepdims=True)) * gain)
    assert loudness.integrated(out, SR) == pytest.approx(-23.0, abs=1e-9)
    assert info.output_lufs == pytest.approx(-23.0, abs=1e-9)
    assert info.true_peak_dbtp == pytest.approx(loudness.true_peak(out, SR), abs=1e-9)


@pytest.mark.parametrize("target", [-13.0, -11.0, -9.0])
def test_the_limiter_holds_the_ceiling_and_the_target(music, target: float) -> None:
    out, info = normalize(music, SR, target_lufs=target, true_peak_db=-1.0)
    assert info.limited and info.reached_target and info.message is None
    assert loudness.integrated(out, SR) == pytest.approx(target, abs=0.1)
    assert loudness.true_peak(out, SR) <= -1.0 - CEILING_MARGIN_DB + 1e-9
    assert out.shape == music.shape


def test_limiting_adds_no_latency() -> None:
    # a tone that gets louder half-way: the limited output lines up with the input
    t = np.arange(2 * SR) / SR
    x = np.sin(2 * np.pi * 220 * t) * np.where(t < 1.0, 0.1, 0.9)
    out, reduction = limit(x, SR, -6.0)
    assert reduction > 0
    quiet = slice(0, int(0.9 * SR))  # untouched before the loud part's look-ahead
    np.testing.assert_allclose(out[0, quiet], x[quiet], atol=1e-12)
    lag = np.argmax(np.correlate(out[0, SR:], x[SR:], mode="full")) - (SR - 1)
    assert lag == 0


def test_limiter_gain_is_smooth_and_never_above_one(music) -> None:
    loud = music * 4.0
    out, reduction = limit(loud, SR, -1.0)
    gain = out[0] / np.where(np.abs(loud[0]) > 1e-6, loud[0], np.nan)
    gain = gain[np.isfinite(gain)]
    assert gain.max() <= 1.0 + 1e-9 and reduction == pytest.approx(
        -20 * np.log10(gain.min()), abs=0.1
    )
    assert loudness.true_peak(out, SR) <= -1.0 + 0.05


def test_limit_leaves_audio_under_the_ceiling_alone(music) -> None:
    out, reduction = limit(music * 0.1, SR, -1.0)
    assert reduction == 0.0
    np.testing.assert_array_equal(out, music * 0.1)


def test_dc_offset_is_removed_and_reported() -> None:
    x = 0.3 + 0.1 * programme(3.0, SR, channels=1)
    out, info = normalize(x, SR, target_lufs=-30.0)
    assert info.dc_offset[0] == pytest.approx(0.3, abs=0.01) and not info.limited
    assert abs(out.mean()) < 1e-12


def test_silence_is_reported_not_normalized() -> None:
    out, info = normalize(np.zeros((2, SR)), SR)
    assert not info.reached_target and "silent" in (info.message or "")
    assert info.input_lufs == -np.inf and not np.any(out)


def test_an_unreachable_target_is_reported_with_the_loudest_result() -> None:
    square = np.sign(np.sin(2 * np.pi * 110 * np.arange(2 * SR) / SR))
    out, info = normalize(square, SR, target_lufs=0.0, true_peak_db=-1.0)
    assert not info.reached_target
    assert info.message is not None and info.message.startswith("cannot reach 0 LUFS under -1 dBTP")
    assert loudness.true_peak(out, SR) <= -1.0  # the ceiling still holds
    assert info.output_lufs > -6.0  # as loud as it gets, not peak-normalized and quiet


@pytest.mark.parametrize("sr", [8000, 44100, 48000, 96000, 192000])
def test_every_rate_reaches_the_target(sr: int) -> None:
    out, info = normalize(programme(3.0, sr), sr, target_lufs=-12.0)
    assert info.reached_target and loudness.true_peak(out, sr) <= -1.0


def test_five_channels_are_normalized() -> None:
    x = np.vstack([programme(3.0, SR), programme(3.0, SR, seed=1), programme(3.0, SR, channels=1)])
    out, _ = normalize(x, SR, target_lufs=-20.0)
    assert out.shape == (5, 3 * SR) and loudness.integrated(out, SR) == pytest.approx(-20, abs=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audio": np.zeros(100)}, "normalizing needs at least 0.4 s"),
        ({"target_lufs": float("nan")}, "target_lufs must be a finite number"),
        ({"true_peak_db": "high"}, "true_peak_db must be a finite number"),
        ({"sr": 0}, "sample rate"),
        ({"audio": np.full(SR, np.inf)}, "Inf"),
    ],
)
def test_bad_input_is_an_audio_error(kwargs, message: str) -> None:
    arguments = {"audio": sine(440, 1.0, SR), "sr": SR, **kwargs}
    with pytest.raises(AudioError, match=message):
        normalize(**arguments)


def test_sine_peak_goes_to_the_ceiling_through_limiting_not_clipping() -> None:
    x = sine(1000, 2.0, SR, amplitude_dbfs=-20.0)
    out, info = normalize(x, SR, target_lufs=-3.0, true_peak_db=-1.0)
    # a 1 kHz sine at -1 dBTP reads about -4 LUFS: the target is out of reach
    aim_db = -1.0 - CEILING_MARGIN_DB - LIMITER_HEADROOM_DB  # where the limiter holds peaks
    assert not info.reached_target and abs(np.abs(out).max() - 10 ** (aim_db / 20)) < 0.005


# ------------------------------------------------- the limiter's array helpers
@pytest.mark.parametrize("n", [1, 2, 5, 30, 1001])
def test_window_helpers_equal_scipy_ndimage_and_numpy(n: int) -> None:
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    from audiolab._windows import between_centres, moving_average, sliding_minimum

    values = np.random.default_rng(n).random(n)
    for size in (1, 3, 5, 19, 21, 33):
        expected = minimum_filter1d(values, size, mode="nearest")
        np.testing.assert_array_equal(sliding_minimum(values, size), expected)
        expected = uniform_filter1d(values, size, mode="nearest")
        np.testing.assert_allclose(moving_average(values, size), expected, atol=1e-12)
    for step in (1, 2, 3, 12, 24):
        centres = (np.arange(n) + 0.5) * step
        expected = np.interp(np.arange(n * step, dtype=float), centres, values)
        np.testing.assert_allclose(between_centres(values, step), expected, atol=1e-12)


@pytest.mark.parametrize("ceiling_db", [-3.0, 6.0])  # limiting, and nothing to limit
def test_limit_writes_into_out_even_its_own_input(music, ceiling_db: float) -> None:
    expected, reduction = limit(music, SR, ceiling_db)
    own = music.copy()
    result, again = limit(own, SR, ceiling_db, out=own)
    assert result is own and again == reduction
    np.testing.assert_array_equal(own, expected)
    other = np.empty_like(music)
    result, _ = limit(music, SR, ceiling_db, out=other)
    assert result is other
    np.testing.assert_array_equal(other, expected)
