"""The input gate: every accepted input type, every rejected one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import audiolab
from audiolab import AudioError, loudness
from audiolab._audio import as_audio, check_sample_rate, require_finite
from audiolab.testing import programme

SR = 16000


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return programme(1.0, SR)


def test_float64_numpy_passes_through_without_copy(clip: np.ndarray) -> None:
    assert as_audio(clip) is clip


def test_mono_becomes_one_channel() -> None:
    assert as_audio(np.zeros(10)).shape == (1, 10)


def _as32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize(
    ("convert", "samples"),
    [
        (torch.from_numpy, np.asarray),
        (lambda x: torch.from_numpy(x).float(), _as32),
        (lambda x: torch.from_numpy(x).float().requires_grad_(True), _as32),
        (lambda x: torch.from_numpy(x)[None], np.asarray),  # (1, C, T), as MusicGen returns it
        (lambda x: x.astype(np.float32), _as32),
        (np.asfortranarray, np.asarray),
        (lambda x: x.copy()[None], np.asarray),
    ],
    ids=[
        "torch64",
        "torch32",
        "requires_grad",
        "batch_of_one",
        "numpy32",
        "fortran",
        "numpy_batch",
    ],
)
def test_every_float_input_gives_the_float64_result(clip: np.ndarray, convert, samples) -> None:
    converted = convert(clip)
    got = as_audio(converted)
    assert got.dtype == np.float64 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, samples(clip))
    assert loudness.integrated(converted, SR) == loudness.integrated(samples(clip), SR)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_tensors_are_measured_exactly_as_their_float64_values(
    clip: np.ndarray, dtype
) -> None:
    tensor = torch.from_numpy(clip).to(dtype)
    reference = tensor.float().numpy().astype(np.float64)
    np.testing.assert_array_equal(as_audio(tensor), reference)
    assert loudness.integrated(tensor, SR) == loudness.integrated(reference, SR)
    assert loudness.true_peak(tensor, SR) == loudness.true_peak(reference, SR)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_tensor_is_moved_to_cpu(clip: np.ndarray) -> None:  # pragma: no cover - needs a GPU
    tensor = torch.from_numpy(clip).cuda().half()
    assert loudness.integrated(tensor, SR) == loudness.integrated(tensor.cpu().float().numpy(), SR)


@pytest.mark.parametrize(
    ("dtype", "full_scale"),
    [(np.int16, 32768), (np.int32, 2**31), (np.int8, 128)],
)
def test_integer_pcm_is_scaled_to_full_scale(clip: np.ndarray, dtype, full_scale: int) -> None:
    pcm = np.round(clip * (full_scale - 1)).astype(dtype)
    np.testing.assert_array_equal(as_audio(pcm), pcm.astype(np.float64) / full_scale)
    assert loudness.integrated(pcm, SR) == loudness.integrated(
        pcm.astype(np.float64) / full_scale, SR
    )


def test_unsigned_8_bit_pcm_is_centred_on_128() -> None:
    np.testing.assert_array_equal(
        as_audio(np.array([0, 128, 255], dtype=np.uint8)), [[-1.0, 0.0, 127 / 128]]
    )


def test_integer_torch_tensor_is_pcm() -> None:
    np.testing.assert_array_equal(
        as_audio(torch.tensor([0, -32768], dtype=torch.int16)), [[0.0, -1.0]]
    )


def test_lists_are_accepted() -> None:
    np.testing.assert_array_equal(as_audio([[0.0, 0.5]]), [[0.0, 0.5]])


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (np.array([0.0, np.nan, 0.1]), "1 NaN and 0 Inf samples (first at channel 0, sample 1)"),
        (
            np.array([[0.0, 0.0], [np.inf, -np.inf]]),
            "0 NaN and 2 Inf samples (first at channel 1, sample 0)",
        ),
        (np.zeros(0), "audio is empty: shape (1, 0)"),
        (np.zeros((2, 0)), "audio is empty: shape (2, 0)"),
        (np.zeros((0, 100)), "audio is empty: shape (0, 100)"),
        (np.float64(0.5), "got 0-D"),
        (np.zeros((1, 1, 2, 8)), "got 4-D with shape (1, 1, 2, 8)"),
        (np.zeros((3, 2, 100)), "batch of 3 clips, shape (3, 2, 100)"),
        (np.zeros((32000, 2)), "got shape (32000, 2): pass audio.T"),
        (np.zeros((6, 32000)), "1 to 5 channels, got shape (6, 32000)"),
        (np.zeros(10, dtype=complex), "complex array of dtype complex128"),
        (torch.zeros(10, dtype=torch.complex64), "complex tensor"),
        (np.array([None, 1.0], dtype=object), "dtype object"),
        (np.zeros(10, dtype=bool), "dtype bool"),
        (np.zeros(10, dtype=np.uint16), "dtype uint16"),
        ("a string", "got builtins.str"),
        ([[0.0], [0.0, 1.0]], "could not be read as an array"),
    ],
)
def test_bad_audio_is_an_audio_error_naming_the_problem(audio, message: str) -> None:
    with pytest.raises(AudioError) as excinfo:
        loudness.integrated(audio, SR)
    assert message in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_export_channel_limit_suggests_transpose() -> None:
    with pytest.raises(AudioError, match=r"1 to 2 channels, got shape \(48000, 2\): pass audio.T"):
        as_audio(np.zeros((48000, 2)), max_channels=2)
    with pytest.raises(AudioError, match=r"1 to 2 channels, got shape \(3, 48000\)$"):
        as_audio(np.zeros((3, 48000)), max_channels=2)


def test_too_short_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="too short: 3 samples, need at least 4"):
        as_audio(np.zeros(3), min_samples=4)


@pytest.mark.parametrize(
    "rate", [0, -48000, 44100.5, float("nan"), float("inf"), "48000", True, None]
)
def test_bad_sample_rates_are_audio_errors(rate) -> None:
    with pytest.raises(AudioError, match="sample rate"):
        loudness.integrated(np.zeros(48000), rate)


@pytest.mark.parametrize("rate", [48000, 48000.0, np.int64(48000), np.float32(48000)])
def test_integral_sample_rates_are_accepted(rate) -> None:
    assert check_sample_rate(rate) == 48000


def test_require_finite_accepts_finite_audio() -> None:
    require_finite(np.zeros((2, 5)))


def test_huge_finite_values_are_reported_not_measured() -> None:
    with pytest.raises(AudioError, match="too large to measure"):
        loudness.integrated(np.full(48000, 1e200), 48000)


def test_huge_finite_samples_are_finite() -> None:  # their squares overflow the quick check
    from audiolab._audio import require_finite

    require_finite(np.full((2, 10), 1e200))
    with pytest.raises(AudioError, match="1 NaN and 1 Inf"):
        require_finite(np.array([[1e200, np.nan, np.inf]]))


@pytest.mark.parametrize("rate", [10**9, 768_001, 2**31])
def test_a_rate_above_768_khz_is_refused_by_every_entry_point(rate: int) -> None:
    audio = np.zeros(1000)
    for call in (
        lambda: audiolab.measure(audio, rate),
        lambda: loudness.integrated(np.zeros(10_000_000), rate),
    ):
        with pytest.raises(AudioError, match="at most 768000 Hz"):
            call()


def test_768_khz_itself_is_a_sample_rate() -> None:
    from audiolab._audio import check_sample_rate

    assert check_sample_rate(768_000) == 768_000
