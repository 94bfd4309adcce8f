"""The single input gate: every public function that takes audio goes through here.

Audio arrives as a torch tensor (any device, any float dtype, with or without
grad) or a numpy array (float or integer PCM), channels-first like torch and
librosa. It leaves as a C-contiguous float64 numpy array of shape
``(channels, samples)``, finite and non-empty, or the caller gets
:class:`AudioError` saying what was wrong and what was expected.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from audiolab.errors import AudioError

__all__ = ["AudioError", "as_audio", "check_flag", "check_sample_rate", "require_finite"]

#: Loudness functions accept 1 to 5 channels (BS.1770 order L, R, C, Ls, Rs).
#: The highest PCM sample rate in use (768 kHz, 16 x 48 kHz); above it, a mistake.
MAX_SAMPLE_RATE_HZ = 768_000
MAX_LOUDNESS_CHANNELS = 5
#: WAV export accepts mono or stereo.
MAX_EXPORT_CHANNELS = 2

# Full-scale values of integer PCM: int16 -> 32768, int32 -> 2**31, ...
_SIGNED_SCALE = {
    np.dtype(t): float(2 ** (np.dtype(t).itemsize * 8 - 1))
    for t in (np.int8, np.int16, np.int32, np.int64)
}


def _is_torch_tensor(obj: Any) -> bool:
    # Checked by module name so that torch is never imported here.
    return type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach")


def _torch_to_numpy(tensor: Any) -> np.ndarray:
    t = tensor.detach()
    if t.device.type != "cpu":
        t = t.to("cpu")
    if t.is_complex():
        raise AudioError(f"audio must be real-valued, got a complex tensor of dtype {t.dtype}")
    if t.is_floating_point() and t.dtype.itemsize < 4:
        # float16 / bfloat16 (as a half-precision MusicGen returns them): numpy
        # has no bfloat16, and float32 holds both exactly.
        t = t.float()
    return np.asarray(t.numpy())


def _to_float(array: np.ndarray) -> np.ndarray:
    kind = array.dtype.kind
    if kind == "f":
        return np.asarray(array, dtype=np.float64)
    if kind == "i":
        return array.astype(np.float64) / _SIGNED_SCALE[array.dtype]
    if kind == "u" and array.dtype.itemsize == 1:
        # 8-bit WAV PCM is unsigned with its zero at 128.
        return (array.astype(np.float64) - 128.0) / 128.0
    if kind == "c":
        raise AudioError(f"audio must be real-valued, got a complex array of dtype {array.dtype}")
    raise AudioError(
        f"audio must be float or integer PCM samples, got an array of dtype {array.dtype!s}"
    )


def _describe_non_finite(array: np.ndarray) -> str:
    bad = ~np.isfinite(array)
    n_nan = int(np.isnan(array).sum())
    n_inf = int(bad.sum()) - n_nan
    channel, sample = (int(i) for i in np.argwhere(bad)[0])
    return (
        f"audio contains {n_nan} NaN and {n_inf} Inf samples "
        f"(first at channel {channel}, sample {sample}); "
        "every sample must be finite"
    )


def as_audio(
    audio: Any,
    *,
    max_channels: int = MAX_LOUDNESS_CHANNELS,
    min_samples: int = 1,
    check_finite: bool = True,
) -> np.ndarray:
    """Validate audio and return it as float64 ``(channels, samples)``.

    Parameters
    ----------
    audio : torch.Tensor or numpy.ndarray
        1-D mono, 2-D ``(channels, samples)`` or a 3-D ``(1, channels, samples)``
        batch of one. Float samples are taken as they are (full scale is 1.0);
        integer PCM is scaled to full scale (int16 by 32768, uint8 around 128).
    max_channels : int
        The most channels the caller can use (5 for loudness, 2 for export).
    min_samples : int
        The fewest samples per channel the caller can use.
    check_finite : bool
        Check for NaN and Inf here (a pass over the samples). A caller that
        learns it anyway from its own result may pass False and call
        :func:`require_finite` when the result is not finite.

    Returns
    -------
    numpy.ndarray
        C-contiguous float64 of shape ``(channels, samples)``. When the input
        already is such an array it is returned as is (not copied): callers
        must not write into it.

    Raises
    ------
    AudioError
        Empty audio, NaN or Inf samples, the wrong rank, more channels than
        allowed (with a hint to transpose), complex, boolean or object arrays.

    Examples
    --------
    >>> import numpy as np
    >>> as_audio(np.zeros(480)).shape
    (1, 480)
    >>> as_audio(np.array([[0, 16384]], dtype=np.int16))
    array([[0. , 0.5]])
    """
    if _is_torch_tensor(audio):
        array = _torch_to_numpy(audio)
    elif isinstance(audio, (np.ndarray, np.generic)):
        array = np.asarray(audio)
    elif isinstance(audio, (list, tuple)):
        try:
            array = np.asarray(audio)
        except ValueError as err:
            raise AudioError(f"audio could not be read as an array: {err}") from None
    else:
        raise AudioError(
            "audio must be a numpy array or a torch tensor, "
            f"got {type(audio).__module__}.{type(audio).__qualname__}"
        )

    if array.ndim == 3:
        if array.shape[0] != 1:
            raise AudioError(
                f"got a batch of {array.shape[0]} clips, shape {tuple(array.shape)}: "
                "pass one clip (channels, samples), or use export_wav_batch for a batch"
            )
        array = array[0]
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise AudioError(
            f"expected 1-D (samples,) or 2-D (channels, samples) audio, "
            f"got {array.ndim}-D with shape {tuple(array.shape)}"
        )
    channels, samples = array.shape
    if channels > max_channels:
        hint = ": pass audio.T" if samples <= max_channels else ""
        raise AudioError(
            f"expected (channels, samples) with 1 to {max_channels} channels, "
            f"got shape {tuple(array.shape)}{hint}"
        )
    if channels == 0 or samples == 0:
        raise AudioError(f"audio is empty: shape {tuple(array.shape)}")

    if samples < min_samples:
        raise AudioError(f"audio is too short: {samples} samples, need at least {min_samples}")
    array = np.ascontiguousarray(_to_float(array))
    if check_finite:
        require_finite(array)
    return array


def require_finite(array: np.ndarray) -> None:
    """Raise :class:`AudioError` naming the NaN and Inf samples of ``array``, if any.

    Parameters
    ----------
    array : numpy.ndarray
        Float ``(channels, samples)`` audio.

    Raises
    ------
    AudioError
        When a sample is NaN or infinite.

    Examples
    --------
    >>> require_finite(np.zeros((1, 4)))
    >>> require_finite(np.array([[0.0, np.nan]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.AudioError: audio contains 1 NaN and 0 Inf samples (first at channel 0, ...
    """
    # A NaN or an infinity makes the sum non-finite, and a sum is one cheap pass (no
    # temporary, no BLAS threads); only then (or when finite values overflow it) look closer.
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(array))
    if not math.isfinite(total) and not np.isfinite(array).all():
        raise AudioError(_describe_non_finite(array))


def check_sample_rate(sample_rate: Any, *, name: str = "sample rate") -> int:
    """Return the sample rate as a positive ``int`` or raise :class:`AudioError`.

    Integers and integral floats (``48000.0``) are accepted; booleans,
    fractional, zero, negative and non-numeric rates are not, nor rates above
    768 kHz (a sample count passed as the rate, most often).

    Parameters
    ----------
    sample_rate : int
        Samples per second.
    name : str
        How to call the value in the error message.

    Returns
    -------
    int

    Raises
    ------
    AudioError
        When the rate is not a positive integer up to 768 kHz.

    Examples
    --------
    >>> check_sample_rate(48000.0)
    48000
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real):
        raise AudioError(f"{name} must be a positive integer in Hz, got {sample_rate!r}")
    value = float(sample_rate)
    if not math.isfinite(value) or value != int(value):
        raise AudioError(f"{name} must be a whole number of Hz, got {sample_rate!r}")
    rate = int(value)
    if rate <= 0:
        raise AudioError(f"{name} must be positive, got {sample_rate!r}")
    if rate > MAX_SAMPLE_RATE_HZ:
        raise AudioError(
            f"{name} must be at most {MAX_SAMPLE_RATE_HZ} Hz (768 kHz, the highest rate audio "
            f"is recorded at), got {sample_rate!r}: is it the number of samples?"
        )
    return rate


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool, or :class:`AudioError` naming ``name`` when it is not one.

    A string such as ``"no"`` is truthy in Python: a switch must be given as
    ``True`` or ``False`` (numpy's bools too).

    Examples
    --------
    >>> check_flag("ideal_peak", False)
    False
    >>> check_flag("ideal_peak", "no")
    Traceback (most recent call last):
    ...
    audiolab.AudioError: ideal_peak must be True or False, got 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise AudioError(f"{name} must be True or False, got {value!r}")
    return bool(value)
