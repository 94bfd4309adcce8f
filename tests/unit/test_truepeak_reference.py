"""The ceiling against band-limited references oversampled 16 times, at every rate.

The references are scipy's polyphase resampler, independent of the meter's
own interpolator: with its default filter (a Kaiser window, beta 5, 20 taps
a phase) and with a 32-tap-a-phase Kaiser sinc of beta 9. The material is
heavy in high frequencies (noise hats, clicks), the hard case for a true-peak
meter, and it is limited hard (to -9 LUFS) so that many peaks sit at the
ceiling.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import firwin, resample_poly

from audiolab import loudness
from audiolab.export import export_wav
from audiolab.limiter import Limiter, Release
from audiolab.loudness import truepeak
from audiolab.loudness.envelope import block_envelope, envelope
from audiolab.testing import programme, sine

RATES = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000]


def reference_db(x: np.ndarray, kaiser_9: bool = False) -> float:
    """True peak of x by a 16x band-limited reference (scipy's resample_poly)."""
    window = firwin(16 * 32 + 1, 1 / 16, window=("kaiser", 9.0)) if kaiser_9 else ("kaiser", 5.0)
    up = resample_poly(np.atleast_2d(x), 16, 1, axis=1, window=window)
    return float(20 * np.log10(np.abs(up).max()))


@pytest.mark.parametrize("sr", RATES)
def test_a_hard_limited_export_holds_the_ceiling_by_16x_references(sr: int, tmp_path) -> None:
    seconds = 2.0 if sr < 96000 else 1.0
    result = export_wav(
        programme(seconds, sr), tmp_path / "a.wav", sr, target_lufs=-9.0, bit_depth="PCM_24"
    )
    assert result.limited and result.within_tolerance
    written = sf.read(result.path, always_2d=True)[0].T
    assert reference_db(written) <= -1.0
    assert reference_db(written, kaiser_9=True) <= -1.0


@pytest.mark.parametrize("sr", [16000, 48000, 192000])
def test_the_true_peak_of_a_sine_between_its_samples_agrees_with_the_reference(sr: int) -> None:
    # a quarter of the Nyquist frequency, every crest half a sample off: 0.69 dB low
    f = sr / 8
    x = sine(f, 0.25, sr, amplitude_dbfs=-3.0, phase=np.pi / 2 - np.pi * f / sr)
    x *= np.hanning(x.shape[1])  # no abrupt ends to ring
    assert loudness.sample_peak(x, sr) < loudness.true_peak(x, sr) - 0.5
    assert loudness.true_peak(x, sr) == pytest.approx(reference_db(x, kaiser_9=True), abs=0.01)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 5000),
    sr=st.sampled_from([8000, 16000, 44100, 48000, 192000]),
    gain_db=st.floats(0.0, 40.0),
    fast=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_limiters_own_true_peak_equals_measuring_its_result(
    n: int, sr: int, gain_db: float, fast: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, n)) * (rng.random((2, n)) < 0.3) * 0.3
    aim = 0.8
    gain = 10 ** (gain_db / 20)
    limiter = Limiter(x, sr, floor=aim / gain / 1.5)
    release = Release(0.001, None) if fast else Release()
    limited, block = limiter.apply(gain, aim, release)
    peaks, cover = limiter.true_peak(limited, block)
    assert peaks == truepeak.peaks(limited, sr)
    # the bound serves a signal close to this one too: the file it is quantized into
    close = limited + rng.uniform(-1e-4, 1e-4, limited.shape)
    slack = 1e-4 * (truepeak.interpolation_gain(sr) + 1)
    assert truepeak.bounded_peaks(close, sr, cover + slack) == truepeak.peaks(close, sr)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4000),
    sr=st.sampled_from([8000, 32000, 44100, 96000, 192000]),
    step=st.sampled_from([1, 4, 16, 64]),
    floor=st.floats(0.0, 2.0),
    seed=st.integers(0, 2**16),
)
def test_the_block_envelope_is_the_envelope_at_its_largest_above_the_floor(
    n: int, sr: int, step: int, floor: float, seed: int
) -> None:
    x = np.random.default_rng(seed).standard_normal((2, n))
    full = envelope(x, sr, floor)
    expected = np.maximum.reduceat(full, np.arange(0, n, step))
    got = block_envelope(x, sr, floor, step)
    above = expected > floor
    np.testing.assert_array_equal(got[above], expected[above])
    samples = np.maximum.reduceat(np.abs(x).max(axis=0), np.arange(0, n, step))
    assert np.all(got[~above] <= floor) and np.all(got >= samples)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 5000),
    sr=st.sampled_from([8000, 32000, 48000, 96000, 192000]),
    sparse=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_bounds_of_a_search_serve_a_signal_close_to_it(
    n: int, sr: int, sparse: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, n)) * ((rng.random((2, n)) < 0.05) if sparse else 1.0)
    (sample, true), cover = truepeak.covered_peaks(x, sr)
    assert (sample, true) == truepeak.peaks(x, sr)
    # a quantized copy: each sample moved by at most 1e-3
    close = x + rng.uniform(-1e-3, 1e-3, x.shape)
    slack = 1e-3 * (truepeak.interpolation_gain(sr) + 1)
    assert truepeak.bounded_peaks(close, sr, cover + slack) == truepeak.peaks(close, sr)
