"""The ideal true peak against the sinc sum itself, and the ceiling held by it.

The truth here is computed the slow, plain way: ``sum_n x[n] sinc(t - n)``
at every point of the grid, every sample a term (no FFT, no expansion), on
signals short enough for that; and, for whole exports, a zero-padded FFT
interpolation 16 times (the export sweep's judge), independent of both.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from audiolab import AudioError, loudness
from audiolab.export import export, export_wav
from audiolab.loudness import ideal, truepeak
from audiolab.loudness.envelope import block_envelope
from audiolab.normalize import normalize
from audiolab.testing import programme


def sinc_sum_peak(x: np.ndarray, sr: int) -> float:
    """max |sum_n x[n] sinc(t - n)| over the samples and the meter's points between them."""
    factor = truepeak.oversampling_factor(sr)
    n = x.shape[-1]
    t = np.arange(-factor, n * factor + 1) / factor  # from x[-1] to x[n]: the meter's points
    kernel = np.sinc(t[:, np.newaxis] - np.arange(n))
    return float(np.abs(np.atleast_2d(x) @ kernel.T).max())


def fft_reference_db(x: np.ndarray, factor: int = 16, pad: int = 4096) -> float:
    """dBTP by zero-padded FFT interpolation ``factor`` times (silence either side)."""
    peak = 0.0
    for channel in np.atleast_2d(x):
        n = 2 * pad + channel.size
        n += n % 2
        padded = np.zeros(n)
        padded[pad : pad + channel.size] = channel
        spectrum = np.fft.rfft(padded)
        spectrum[-1] *= 0.5
        peak = max(peak, float(np.abs(np.fft.irfft(spectrum, n * factor)).max()) * factor)
    return float(20 * np.log10(peak))


def _signal(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "noise":
        return rng.standard_normal(n)
    if kind == "clipped":
        return np.clip(2 * rng.standard_normal(n), -1, 1)
    if kind == "nyquist":  # alternating samples: all the energy at the Nyquist frequency
        return np.where(np.arange(n) % 2, -1.0, 1.0) * rng.uniform(0.2, 1.0)
    if kind == "step":
        x = np.zeros(n)
        x[rng.integers(0, n) :] = rng.uniform(-1, 1)
        return x
    x = np.zeros(n)
    x[rng.integers(0, n, 3)] = rng.choice([-1.0, 1.0], 3)
    return x


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    sr=st.sampled_from([8000, 11025, 44100, 48000, 96000, 192000]),
    kind=st.sampled_from(["noise", "clipped", "nyquist", "step", "clicks"]),
    seed=st.integers(0, 2**16),
)
def test_the_ideal_true_peak_is_the_sinc_sum_at_every_point(
    n: int, sr: int, kind: str, seed: int
) -> None:
    x = _signal(kind, n, np.random.default_rng(seed))[np.newaxis]
    expected = sinc_sum_peak(x, sr)
    slack = ideal.Residual(x[0], sr).slack + 1e-9
    assert ideal.ideal_peak(x, sr) == pytest.approx(expected, abs=slack)
    for level in (0.99 * expected, 1.01 * expected):
        assert ideal.exceeds(x, sr, level) == (level < expected)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 300),
    channels=st.integers(2, 5),
    sr=st.sampled_from([8000, 44100, 48000, 192000]),
    seed=st.integers(0, 2**16),
)
def test_every_channel_of_a_pair_or_alone_reads_its_own_sinc_sum(
    n: int, channels: int, sr: int, seed: int
) -> None:
    # channels ride two by two in one complex transform (a last one alone): each channel's
    # ideal value is still its own, whichever part of the pair it was and however loud
    rng = np.random.default_rng(seed)
    kinds = ["noise", "clipped", "nyquist", "step", "clicks"]
    x = np.stack([_signal(kinds[c], n, rng) * 10.0**-c for c in range(channels)])
    found = ideal.residuals(x, sr)
    for channel, residual in zip(x, found, strict=True):
        expected = sinc_sum_peak(channel[np.newaxis], sr)
        got = ideal.ideal_peak(channel[np.newaxis], sr, [residual])
        assert got == pytest.approx(expected, abs=residual.slack + 1e-9)
    assert ideal.ideal_peak(x, sr, found) == pytest.approx(
        sinc_sum_peak(x, sr), abs=max(r.slack for r in found) + 1e-9
    )


@pytest.mark.parametrize("size", [640, 768, 1024])
@pytest.mark.parametrize("kind", ["nyquist", "clicks"])
def test_the_longest_signal_of_a_transform_length_does_not_wrap_round(size: int, kind: str) -> None:
    # the kernels span every circular offset: a signal of size / 2 - 17 samples is the
    # longest whose points and samples never meet round the circle (one more would)
    n = size // 2 - 17
    x = _signal(kind, n, np.random.default_rng(size))[np.newaxis]
    residual = ideal.Residual(x[0], 48000)
    assert residual.rows.shape[1] >= n + 1
    expected = sinc_sum_peak(x, 48000)
    assert ideal.ideal_peak(x, 48000, [residual]) == pytest.approx(expected, abs=residual.slack)


def test_full_band_material_peaks_over_the_meter_and_the_ideal_value_sees_it() -> None:
    # clipped noise: the meter's 32-tap Kaiser sinc reads it about 1 dB under the sinc
    sr = 16000
    x = np.clip(0.8 * np.random.default_rng(1).standard_normal((1, sr)), -1, 1)
    meter = loudness.true_peak(x, sr)
    exact = 20 * np.log10(ideal.ideal_peak(x, sr))
    assert exact > meter + 0.3
    assert exact == pytest.approx(fft_reference_db(x), abs=0.02)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3000),
    sr=st.sampled_from([8000, 32000, 48000, 192000]),
    step=st.sampled_from([4, 16, 64]),
    floor=st.floats(0.0, 2.0),
    seed=st.integers(0, 2**16),
)
def test_the_ideal_block_envelope_holds_the_ideal_and_the_meters_values_above_the_floor(
    n: int, sr: int, step: int, floor: float, seed: int
) -> None:
    # what the limiter reads to hold both ceilings: at every point the larger of the ideal
    # value and the meter's, exactly wherever a block's largest is above the floor
    x = np.random.default_rng(seed).standard_normal((2, n))
    found = ideal.residuals(x, sr)
    got = block_envelope(x, sr, floor, step, residuals=found)
    meter_only = block_envelope(x, sr, floor, step)
    expected = np.zeros_like(got)
    # each block's largest value around its samples, by the searches' own points
    for c in range(2):
        search = ideal.IdealSearch(x[c], sr, 0.0, above_samples=False, residual=found[c])
        meter = truepeak.PeakSearch(x[c], sr, 0.0, above_samples=False)
        blocks = np.arange(search.n_blocks)
        either = np.maximum(
            np.abs(search.interpolate(blocks)).max(axis=1),
            np.abs(meter.interpolate(blocks)).max(axis=1),
        )
        points = either.ravel()[: n + 1]
        around = np.maximum(points[:-1], points[1:])  # sample k: points k and k + 1
        reduced = np.maximum.reduceat(np.maximum(around, np.abs(x[c])), np.arange(0, n, step))
        np.maximum(expected, reduced, out=expected)
    above = expected > floor
    np.testing.assert_allclose(got[above], expected[above], rtol=0, atol=1e-12)
    assert np.all(got >= meter_only - 1e-12)


@pytest.mark.parametrize("sr", [8000, 16000, 44100, 96000, 192000])
def test_a_hard_limited_export_holds_the_ceiling_by_ideal_interpolation(sr: int, tmp_path) -> None:
    seconds = 1.5 if sr < 96000 else 0.75
    clip = np.clip(
        programme(seconds, sr) + 0.05 * np.random.default_rng(sr).standard_normal(1), -1, 1
    )
    result = export_wav(clip, tmp_path / "a.wav", sr, target_lufs=-9.0, bit_depth="PCM_24")
    assert result.limited and result.within_tolerance, result.message
    written = sf.read(result.path, always_2d=True)[0].T
    assert fft_reference_db(written) <= -1.0


@pytest.mark.parametrize("fmt", ["flac", "wav"])
def test_the_ideal_check_is_what_holds_full_band_material_under_the_ceiling(fmt, tmp_path) -> None:
    # clipped noise at 16 kHz, exported where a plain gain leaves the meter's peak under the
    # ceiling but the sinc's crests over it: by default the limiter acts and the 16x FFT reference
    # holds; ideal_peak=False holds the meter's ceiling only, as BS.1770 delivery checks do
    sr = 16000
    clip = np.clip(0.8 * np.random.default_rng(1).standard_normal((1, 2 * sr)), -1, 1)
    held = export(clip, tmp_path / f"a.{fmt}", sr, target_lufs=-8.0, bit_depth="PCM_24")
    meter_only = export(
        clip, tmp_path / f"b.{fmt}", sr, target_lufs=-8.0, bit_depth="PCM_24", ideal_peak=False
    )
    for result in (held, meter_only):
        assert result.within_tolerance and result.true_peak_dbtp <= -1.0, result.message
    assert held.limited and not meter_only.limited
    assert fft_reference_db(sf.read(held.path, always_2d=True)[0].T) <= -1.0
    assert fft_reference_db(sf.read(meter_only.path, always_2d=True)[0].T) > -0.5


def test_normalize_takes_the_same_choice_and_a_bad_one_is_an_audio_error(tmp_path) -> None:
    sr = 16000
    clip = np.clip(0.8 * np.random.default_rng(1).standard_normal((1, 2 * sr)), -1, 1)
    held, info = normalize(clip, sr, -8.0)
    meter_only, meter_info = normalize(clip, sr, -8.0, ideal_peak=False)
    assert info.limited and not meter_info.limited
    assert fft_reference_db(held) <= -1.0 < fft_reference_db(meter_only)
    with pytest.raises(AudioError, match="ideal_peak must be True or False, got 'yes'"):
        export(clip, tmp_path / "c.wav", sr, ideal_peak="yes")  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="ideal_peak must be True or False, got 'no'"):
        normalize(clip, sr, -8.0, ideal_peak="no")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def _count_residuals(monkeypatch) -> list[int]:
    made: list[int] = []
    real = ideal.residuals

    def counting(x: np.ndarray, sr: int) -> list[ideal.Residual]:
        made.append(x.shape[1])
        return real(x, sr)

    monkeypatch.setattr(ideal, "residuals", counting)
    return made


def test_band_limited_music_is_limited_under_the_ideal_ceiling_for_one_residual(
    tmp_path, monkeypatch
) -> None:
    # recorded music reads within a few hundredths of a dB of the meter by ideal
    # interpolation: the limiter's headroom covers it, only its result is checked
    from scipy import signal

    sr = 32000
    lowpass = signal.butter(8, 0.6, output="sos")
    music = signal.sosfiltfilt(lowpass, programme(4.0, sr), axis=1)
    made = _count_residuals(monkeypatch)
    result = export(music, tmp_path / "a.wav", sr, target_lufs=-9.0, bit_depth="PCM_24")
    assert result.limited and result.within_tolerance, result.message
    assert made == [music.shape[1]]  # the result's, once
    assert fft_reference_db(sf.read(result.path, always_2d=True)[0].T) <= -1.0


@pytest.mark.parametrize("target", [-9.0, -7.0])
def test_full_band_material_over_by_the_ideal_peak_is_limited_again_reading_it(
    target: float, tmp_path, monkeypatch
) -> None:
    # the hi-hats and snares of the programme are white noise up to the Nyquist frequency: its
    # ideal true peak reads 0.16 dB over the meter, more than the limiter's headroom, so a
    # result of the meter's limiter would be over: the source's loudest blocks tell that
    # first, the limiter reads the ideal true peak of the source from its first run, and its
    # result holds close under the ceiling (not pushed lower everywhere)
    sr = 32000
    clip = programme(4.0, sr)
    made = _count_residuals(monkeypatch)
    result = export(clip, tmp_path / "a.wav", sr, target_lufs=target, bit_depth="PCM_24")
    assert made == [clip.shape[1]] * 2  # the source's, the result's
    written = sf.read(result.path, always_2d=True)[0].T
    assert -1.25 < fft_reference_db(written) <= -1.0
    assert result.within_tolerance, result.message


@pytest.mark.parametrize("factor", [2, 4, 5, 6, 8, 12, 16, 24, 32])
def test_the_expansion_misses_at_most_its_tail_error_of_the_sincs_tails(factor: int) -> None:
    # term by term, beyond the meter's 32 taps: the sinc's tail at each phase against the
    # expansion's two terms, over 2^16 offsets each side; each term missed beyond is under
    # |1/2 - o|^-3 / (2 pi), so the rest sums to under 1e-10
    half = 16
    o = np.concatenate([np.arange(-(1 << 16), -half + 1), np.arange(half + 1, 1 << 16)])
    sign = np.where(o % 2, -1.0, 1.0)
    for f in np.arange(1, factor) / factor:
        scale = np.sin(np.pi * f) / np.pi
        exact = scale * sign / (f - o)
        terms = sum(scale * (-(f - 0.5)) ** k * sign / (0.5 - o) ** (k + 1) for k in range(2))
        assert np.abs(exact - terms).sum() + 1e-10 <= ideal.TAIL_ERROR
    ideal.residual_kernels(factor)  # its fit plus the tail error is under RESIDUAL_ERROR


def test_the_kept_kernel_spectra_stay_within_their_budget(monkeypatch) -> None:
    # a long take's spectra serve its channels and are let go; short takes' are kept,
    # the least recently used leaving first once the budget is spent
    monkeypatch.setattr(ideal, "_kept", type(ideal._kept)())
    short = ideal._kernel_spectra(1 << 12, 16)[0].nbytes
    monkeypatch.setattr(ideal, "SPECTRA_KEPT_BYTES", 2 * short + short // 2)
    first = ideal._kernel_spectra(1 << 12, 16)
    assert ideal._kernel_spectra(1 << 12, 16) is first  # kept
    ideal._kernel_spectra(1 << 12, 8)
    ideal._kernel_spectra(5 << 10, 16)  # three do not fit: the least recent goes
    assert list(ideal._kept) == [(1 << 12, 8), (5 << 10, 16)]
    ideal._kernel_spectra(1 << 14, 16)  # larger than the budget: made, not kept
    assert list(ideal._kept) == [(1 << 12, 8), (5 << 10, 16)]
    x = np.random.default_rng(1).standard_normal((2, 3000))
    made = ideal.residuals(x, 48000)
    for channel, residual in zip(x, made, strict=True):  # two channels in one transform, or
        alone = ideal.Residual(channel, 48000)  # one: the same rows within the rounding bound
        rounding = alone.slack - ideal.RESIDUAL_ERROR * np.abs(channel).max()
        assert 0 < rounding < 1e-3
        np.testing.assert_allclose(residual.rows, alone.rows, rtol=0, atol=rounding)
        assert not np.array_equal(residual.rows, alone.rows)  # they were transformed apart
