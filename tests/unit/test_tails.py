"""The bound of the ideal true peak without FFTs, against the sums themselves.

The truth is computed the plain way: the far part of each residual term as a
sum over every sample beyond the taps, and the ideal true peak as
``sum_n x[n] sinc(t - n)`` at every point (``test_ideal_peak.sinc_sum_peak``).
The bound must never fall under them, and must show what it is for: a plain
gain on band-limited music with room under the ceiling, without the FFTs.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab.export import export
from audiolab.loudness import ideal, tails, truepeak
from audiolab.loudness.interpolation import POINTS_PER_BLOCK
from audiolab.testing import programme
from tests.unit.test_ideal_peak import _count_residuals, _signal, fft_reference_db, sinc_sum_peak

KINDS = ["noise", "clipped", "nyquist", "step", "clicks", "music"]


def _kind(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "music":  # two partials well under the Nyquist frequency
        t = np.arange(n)
        return 0.6 * np.sin(0.02 * t + rng.uniform(0, 6)) + 0.3 * np.sin(0.7 * t)
    return _signal(kind, n, rng)


def far_parts(x: np.ndarray, terms: int = 2, reach: int = 0) -> np.ndarray:
    """|far part of W_k| at every point, summed term by term over every sample: beyond the
    taps (offsets up to -16 and from 17), or beyond ``reach`` either side."""
    n = len(x)
    before, after = (-15, 17) if reach == 0 else (-reach, reach + 1)
    offsets = np.concatenate([np.arange(-n - 1, before), np.arange(after, n + 2)])
    sign = np.where(offsets % 2, -1.0, 1.0)
    out = np.zeros((terms, n + 1))
    for p in range(n + 1):
        m = p - 1 + offsets
        inside = (m >= 0) & (m < n)
        terms_at = sign[inside] * x[m[inside]]
        for k in range(terms):
            out[k, p] = abs(np.sum(terms_at / (0.5 - offsets[inside]) ** (k + 1)))
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [5, 200, 1500])
def test_the_far_bound_covers_the_sinc_tails_at_every_point(kind: str, n: int) -> None:
    x = _kind(kind, n, np.random.default_rng(n))
    blocks = -(-(n + 1) // POINTS_PER_BLOCK)
    bound = tails.far_bounds(x, blocks)
    actual = np.zeros((2, blocks * POINTS_PER_BLOCK))
    actual[:, : n + 1] = far_parts(x)
    assert np.all(actual.reshape(2, blocks, -1).max(axis=2) <= bound + 1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [100, 700])
def test_the_bound_beyond_the_reach_covers_the_tails_there(kind: str, n: int) -> None:
    x = _kind(kind, n, np.random.default_rng(n + 7))
    blocks = -(-(n + 1) // POINTS_PER_BLOCK)
    bound = tails.far_bounds(x, blocks, reach=tails.REACH)
    actual = np.zeros((2, blocks * POINTS_PER_BLOCK))
    actual[:, : n + 1] = far_parts(x, reach=tails.REACH)
    assert np.all(actual.reshape(2, blocks, -1).max(axis=2) <= bound + 1e-12)
    # and it is the smaller bound: the stretch nearest the point is summed exactly
    assert np.all(bound <= tails.far_bounds(x, blocks) + 1e-12)


def sinc_values(x: np.ndarray, sr: int, blocks: int) -> np.ndarray:
    """(blocks, phases, 64): sum_n x[n] sinc(t - n) at point p = 64 b + i, t = p - 1 + j / f."""
    factor = truepeak.oversampling_factor(sr)
    p = np.arange(blocks * POINTS_PER_BLOCK)
    t = (p[np.newaxis, :] - 1) + (np.arange(1, factor) / factor)[:, np.newaxis]
    values = np.sinc(t[..., np.newaxis] - np.arange(len(x))) @ x  # (phases, points)
    values[:, p > len(x)] = 0.0
    return values.reshape(factor - 1, blocks, POINTS_PER_BLOCK).transpose(1, 0, 2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("n", "sr"), [(300, 48000), (1100, 16000), (600, 96000)])
def test_every_point_the_search_reads_is_at_least_the_sinc_sum_there(
    kind: str, n: int, sr: int
) -> None:
    # the tails within the reach summed exactly, the rest bounded: never under the truth,
    # point by point (a wrong kernel, offset or sign would read under it somewhere)
    x = _kind(kind, n, np.random.default_rng(n))
    truth = np.abs(sinc_values(x, sr, -(-(n + 1) // POINTS_PER_BLOCK)))
    for wide in (False, True):  # the near part only; the tails within the reach too
        search = tails.TailSearch(x, sr, 0.0)
        search.wide_left = search.n_blocks if wide else 0
        chosen = np.arange(search.n_blocks)
        bound = np.abs(search.interpolate(chosen))
        assert np.all(truth <= bound + 1e-12)
        # and within the spread of it: what is summed exactly is the truth's
        spread = search.spread if not wide else search._wide_spread
        assert spread is not None
        assert np.all(bound - truth <= 2 * spread[chosen][:, np.newaxis, np.newaxis] + 1e-9)


def test_the_far_bound_of_band_limited_music_is_a_few_per_cent_of_its_peak() -> None:
    # what makes the bound worth having: music's running alternating sum stays near its
    # peak; noise up to the Nyquist frequency wanders like a random walk
    rng = np.random.default_rng(1)
    n = 60_000
    music, noise = _kind("music", n, rng), 0.9 * np.clip(rng.standard_normal(n) / 3, -1, 1)
    blocks = -(-(n + 1) // POINTS_PER_BLOCK)
    coefficient = ideal.residual_kernels(16)[2][0]
    music_share = coefficient * tails.far_bounds(music, blocks)[0].max() / np.abs(music).max()
    noise_share = coefficient * tails.far_bounds(noise, blocks)[0].max() / np.abs(noise).max()
    assert music_share < 0.05 < noise_share


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 400),
    sr=st.sampled_from([8000, 11025, 44100, 48000, 96000, 192000]),
    kind=st.sampled_from(KINDS),
    ratio=st.sampled_from([0.9, 0.99, 1.0, 1.01, 1.05, 1.2, 1.5, 2.0]),
    seed=st.integers(0, 2**16),
)
def test_a_level_shown_to_hold_is_never_under_the_ideal_true_peak(
    n: int, sr: int, kind: str, ratio: float, seed: int
) -> None:
    x = _kind(kind, n, np.random.default_rng(seed))[np.newaxis]
    truth = sinc_sum_peak(x, sr)
    level = ratio * truth
    if tails.holds(x, sr, level):
        assert truth <= level + 1e-12


@pytest.mark.parametrize("sr", [16000, 44100, 96000])
def test_music_with_room_is_shown_to_hold_and_noise_is_left_to_the_exact_check(sr: int) -> None:
    rng = np.random.default_rng(sr)
    n = 4 * sr
    t = np.arange(n) / sr
    music = 0.5 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 3300 * t + 1.0)
    noise = np.clip(rng.standard_normal(n) / 3, -1, 1) * 0.7
    for x in (music, noise):
        x2 = np.stack([x, x[::-1]])
        peak = ideal.ideal_peak(x2, sr)
        assert not tails.holds(x2, sr, 0.999 * peak)  # never shown above the truth
    # half a dB of room: enough for music, not for noise up to the Nyquist frequency
    room = 10 ** (0.5 / 20)
    music2, noise2 = np.stack([music, music]), np.stack([noise, noise])
    assert tails.holds(music2, sr, room * ideal.ideal_peak(music2, sr))
    assert not tails.holds(noise2, sr, room * ideal.ideal_peak(noise2, sr))


def test_a_plain_gain_with_room_is_exported_without_the_ideal_transforms(
    tmp_path, monkeypatch
) -> None:
    from scipy import signal

    sr = 32000
    lowpass = signal.butter(8, 0.6, output="sos")
    music = signal.sosfiltfilt(lowpass, programme(4.0, sr), axis=1) * 0.2
    made = _count_residuals(monkeypatch)
    result = export(music, tmp_path / "a.wav", sr, target_lufs=-20.0, bit_depth="PCM_24")
    assert not result.limited and result.within_tolerance, result.message
    assert made == []  # the bound showed it: no residual
    assert fft_reference_db(sf.read(result.path, always_2d=True)[0].T) <= -1.0
    # the same take with its white-noise hi-hats up to the Nyquist frequency: 1.6 dB under
    # the ceiling, shown; 0.36 dB under, the bound does not show it, the exact check does
    full_band = programme(4.0, sr) * 0.2
    result = export(full_band, tmp_path / "b.wav", sr, target_lufs=-18.0, bit_depth="PCM_24")
    assert not result.limited and result.within_tolerance and made == []
    result = export(full_band, tmp_path / "b.wav", sr, target_lufs=-16.7, bit_depth="PCM_24")
    assert not result.limited and result.true_peak_dbtp > -1.4
    assert result.within_tolerance, result.message
    assert len(made) == 1
    assert fft_reference_db(sf.read(result.path, always_2d=True)[0].T) <= -1.0


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 63),
    sr=st.sampled_from([32000, 44100, 48000, 96000]),
    kind=st.sampled_from(["noise", "clipped", "nyquist", "step", "clicks"]),
    seed=st.integers(0, 2**16),
)
def test_the_estimated_excess_of_one_block_is_the_sinc_sum_over_the_meter(
    n: int, sr: int, kind: str, seed: int
) -> None:
    # a signal within one block and shorter than the reach: the estimate sums every tail,
    # so it is the sinc's largest value over the meter's (or the samples'), exactly
    x = _signal(kind, n, np.random.default_rng(seed))[np.newaxis]
    _, meter = truepeak.channel_peaks(x[0], sr)
    below = max(meter, float(np.abs(x).max()))
    expected = max(0.0, 20 * np.log10(sinc_sum_peak(x, sr) / below))
    assert tails.estimated_excess_db(x, sr) == pytest.approx(expected, abs=0.005)


def test_the_estimated_excess_tells_full_band_synthesis_from_band_limited_music() -> None:
    # what decides whether the limiter reads the ideal true peak from its first run: over
    # the limiter's headroom (0.1 dB) on the programme's white-noise hi-hats, well under
    # it once the same programme is low-passed to 0.6 of the Nyquist frequency
    from scipy import signal

    from audiolab.limiting import LIMITER_HEADROOM_DB

    sr = 32000
    clip = programme(8.0, sr)
    music = signal.sosfiltfilt(signal.butter(8, 0.6, output="sos"), clip, axis=1)
    assert tails.estimated_excess_db(clip, sr) > 2 * LIMITER_HEADROOM_DB
    assert tails.estimated_excess_db(music, sr) < LIMITER_HEADROOM_DB / 2
    assert tails.estimated_excess_db(np.zeros((2, 4000)), sr) == 0.0
    assert tails.estimated_excess_db(clip[:, :4000], 4_000_000) == 0.0  # no points between
