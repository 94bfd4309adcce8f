"""The four-step transform is the DFT, in its scrambled order, and its inverse undoes it."""

from __future__ import annotations

import numpy as np
import pytest

from audiolab.loudness import fourstep


def _unscrambled(t: fourstep.Transform, spectrum: np.ndarray) -> np.ndarray:
    k2, k1 = np.meshgrid(np.arange(t.rows), np.arange(t.columns), indexing="ij")
    out = np.empty(t.size, dtype=spectrum.dtype)
    out[k2 + t.rows * k1] = spectrum
    return out


@pytest.mark.parametrize("size", [4096, 1 << 14, 5 << 12, 3 << 13, 3 << 15, 1 << 17])
def test_the_forward_transform_is_the_dft_and_the_inverse_undoes_it(size: int) -> None:
    rng = np.random.default_rng(size)
    z = (rng.standard_normal(size) + 1j * rng.standard_normal(size)).astype(np.complex64)
    t = fourstep.Transform(size)
    assert t.rows * t.columns == size
    assert (t.columns > 1) == (size >= fourstep.SPLIT_POINTS)
    spectrum = t.forward(z.copy())
    assert spectrum.shape == (t.rows, t.columns)
    exact = np.fft.fft(z.astype(np.complex128))
    got = _unscrambled(t, spectrum)
    assert np.abs(got - exact).max() <= 1e-5 * np.abs(exact).max()
    back = t.inverse(spectrum)
    assert back.shape == (size,)
    np.testing.assert_allclose(back, z, rtol=0, atol=1e-5 * np.abs(z).max())


def test_a_product_of_spectra_is_a_circular_convolution() -> None:
    # what the residual relies on: both spectra scrambled alike, the inverse in order
    size = 3 << 13
    rng = np.random.default_rng(0)
    signal, kernel = rng.standard_normal(size), rng.standard_normal(size)
    t = fourstep.transform(size)
    product = t.forward(signal.astype(np.complex64)) * t.forward(kernel.astype(np.complex64))
    got = t.inverse(product).real
    exact = np.fft.ifft(np.fft.fft(signal) * np.fft.fft(kernel)).real
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-4 * np.abs(exact).max())


def test_the_twiddle_tables_are_small_beside_the_transform() -> None:
    t = fourstep.transform(1 << 20)
    assert (t.rows, t.columns, t.block) == (1024, 1024, 32)
    assert t.near.nbytes + t.far.nbytes <= 8 * t.size / 10
    assert fourstep.transform(1 << 20) is t


@pytest.mark.parametrize(
    ("size", "divisor"), [(1 << 20, 1 << 10), (5 << 18, 1 << 10), (3 << 20, 3 << 9), (7 * 11, 1)]
)
def test_the_split_is_the_largest_smooth_divisor_under_the_root(size: int, divisor: int) -> None:
    # 7 * 11 has no divisor of the form 2^a, 3 2^a or 5 2^a but 1
    found = fourstep._divisor(size)
    assert size % found == 0 and found * found <= size
    assert found == divisor
