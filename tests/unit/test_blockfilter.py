"""The block-matrix biquad cascade against scipy's sample-by-sample sosfilt."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import firwin, sosfilt, upfirdn

from audiolab import loudness
from audiolab._blockfilter import BlockFilter
from audiolab.analysis._signal import _decimate, _lowpass_taps


@pytest.mark.parametrize("sr", [8000, 11025, 32000, 44100, 48000, 96000, 192000])
def test_k_weighting_equals_sosfilt_at_every_rate(sr: int) -> None:
    sos = loudness.k_weighting_sos(sr)
    x = np.random.default_rng(sr).standard_normal(3 * sr + 17)
    expected = sosfilt(sos, x)
    got = BlockFilter(sos, 32).filter(x)
    assert np.abs(got - expected).max() <= 1e-9 * np.abs(expected).max()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000),
    block=st.sampled_from([1, 3, 16, 32, 64]),
    cuts=st.lists(st.integers(0, 3000), max_size=4),
    seed=st.integers(0, 2**16),
)
def test_pieces_with_carried_state_equal_one_pass(
    n: int, block: int, cuts: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    sos = loudness.k_weighting_sos(48000)
    x = rng.standard_normal(n)
    expected, final = sosfilt(sos, x, zi=np.zeros((2, 2)))
    f = BlockFilter(sos, block)
    pieces, state = [], None
    edges = sorted({0, n, *(c for c in cuts if c <= n)})
    for lo, hi in itertools.pairwise(edges):
        y, state = f.apply(x[lo:hi], state)
        pieces.append(y)
    got = np.concatenate(pieces) if pieces else np.zeros(0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    if state is not None:  # the registers are sosfilt's zi, section after section
        np.testing.assert_allclose(state, final.ravel(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("factor", [2, 4, 5, 12, 24])
@pytest.mark.parametrize("n", [1, 7, 1000, 32001])
def test_decimation_equals_firwin_and_upfirdn(factor: int, n: int) -> None:
    taps = firwin(8 * factor + 1, 0.9 / factor, window=("kaiser", 6.0))
    np.testing.assert_allclose(_lowpass_taps(factor), taps, rtol=0, atol=1e-15)
    x = np.random.default_rng(n).standard_normal(n)
    full = upfirdn(taps, x, up=1, down=factor)
    first = -(-4 * factor // factor)
    expected = full[first : first + -(-n // factor)]
    np.testing.assert_allclose(_decimate(x, factor), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("n", "chunk"), [(1, 32), (31, 32), (32, 32), (33, 64), (1000, 64), (4096, 128)]
)
def test_chunks_cover_the_output_in_order(n: int, chunk: int) -> None:
    sos = loudness.k_weighting_sos(44100)
    x = np.random.default_rng(n).standard_normal(n)
    f = BlockFilter(sos, 32)
    pieces = [(start, y.copy()) for start, y in f.chunks(x, chunk)]
    assert [start for start, _ in pieces] == list(range(0, max(n - n % 32, 1), chunk))[
        : len(pieces)
    ]
    np.testing.assert_allclose(np.concatenate([y for _, y in pieces]), sosfilt(sos, x), atol=1e-10)
    with pytest.raises(ValueError, match="multiple of 32"):
        next(f.chunks(x, 48))
