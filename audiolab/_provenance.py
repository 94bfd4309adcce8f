"""What a take was made from: library versions, and the audio that conditioned it.

A take's provenance (``Generation.parameters``) names the model and its
revision, the versions of audiolab, transformers and torch, every setting,
and each audio input (an audio prompt, a melody) by its SHA-256: of the
file's bytes when it came from a file or a catalog job (with the job id), of
its float32 samples when it came as an array. :func:`read_conditioning`
reads such an input in any of its forms and says which it was.

Examples
--------
>>> import numpy as np
>>> audio, rate, info = read_conditioning((np.zeros(800), 8000), "melody")
>>> audio.shape, rate, info["source"], info["seconds"]
((1, 800), 8000, 'array', 0.1)
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError

__all__ = ["file_sha256", "read_conditioning", "samples_sha256", "versions"]

_CHUNK = 1 << 20


def versions() -> dict[str, str]:
    """The versions a take depends on: audiolab, transformers, torch, Python.

    Examples
    --------
    >>> sorted(versions())
    ['audiolab_version', 'python_version', 'torch_version', 'transformers_version']
    """
    import torch
    import transformers

    from audiolab import __version__

    return {
        "audiolab_version": __version__,
        "transformers_version": str(transformers.__version__),
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
    }


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as hex.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(path, "wb").write(b"abc")
    >>> file_sha256(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def samples_sha256(audio: np.ndarray) -> str:
    """SHA-256 of audio as little-endian float32 ``(channels, samples)``, C order.

    Examples
    --------
    >>> samples_sha256(np.zeros((1, 4))) == samples_sha256(np.zeros(4, dtype=np.float32))
    True
    """
    array = np.ascontiguousarray(np.atleast_2d(audio), dtype="<f4")
    return hashlib.sha256(array.tobytes()).hexdigest()


def _read_file(path: str) -> tuple[np.ndarray, int]:
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such audio file")
    import soundfile

    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError, OSError) as err:
        raise AudioError(f"{path}: not a readable audio file ({err})") from None
    return data.T, int(rate)


def read_conditioning(value: Any, name: str) -> tuple[np.ndarray, int, dict[str, Any]]:
    """An audio prompt or melody as ``(audio, sample_rate, provenance)``.

    Parameters
    ----------
    value : tuple, str, os.PathLike, Generation or catalog Record
        ``(audio, sample_rate)``; a path to an audio file; a
        :class:`~audiolab.generate.Generation`; or a catalog record (anything
        with ``absolute_path`` and ``job_id``, as :class:`audiolab.store.Record`).
    name : str
        ``"audio_prompt"`` or ``"melody"``, for messages.

    Returns
    -------
    (numpy.ndarray, int, dict)
        float32 ``(channels, samples)`` (1 or 2 channels), its rate, and what it
        was: ``source`` (``"array"``, ``"file"``, ``"job"`` or ``"generation"``),
        ``sha256``, ``path``, ``job_id``, ``sample_rate``, ``channels``, ``seconds``,
        and for a take (a Generation or a job) its ``seams_s``.

    Raises
    ------
    AudioError
        A missing or unreadable file, bad audio, a bad sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> read_conditioning("/no/such.wav", "melody")
    Traceback (most recent call last):
    ...
    audiolab.AudioError: melody: /no/such.wav: no such audio file
    """
    info: dict[str, Any] = {"source": None, "path": None, "job_id": None}
    try:
        if isinstance(value, (str, os.PathLike)):
            path = str(Path(value).expanduser().absolute())
            raw, rate = _read_file(path)
            info |= {"source": "file", "path": path, "sha256": file_sha256(path)}
        elif hasattr(value, "absolute_path") and hasattr(value, "job_id"):
            if value.absolute_path is None:
                raise AudioError(f"catalog job {value.job_id!r} has no file")
            path = str(value.absolute_path)
            raw, rate = _read_file(path)
            info |= {"source": "job", "path": path, "job_id": str(value.job_id)}
            info["sha256"] = file_sha256(path)
            info["seams_s"] = list((getattr(value, "params", None) or {}).get("seams_s") or [])
        elif hasattr(value, "audio") and hasattr(value, "sample_rate"):
            raw, rate = value.audio, check_sample_rate(value.sample_rate)
            info |= {"source": "generation", "seed": getattr(value, "seed", None)}
            info["seams_s"] = list(getattr(value, "seams_s", ()))
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            raw, rate = value[0], check_sample_rate(value[1], name=f"{name} sample rate")
            info["source"] = "array"
        else:
            raise AudioError(
                "expected (audio, sample_rate), a path to an audio file, a Generation or a "
                f"catalog Record, got {type(value).__name__}"
            )
        audio = as_audio(raw, max_channels=2).astype(np.float32)
    except AudioError as err:
        raise AudioError(f"{name}: {err}") from None
    if "sha256" not in info:
        info["sha256"] = samples_sha256(audio)
    info |= {
        "sample_rate": rate,
        "channels": int(audio.shape[0]),
        "seconds": audio.shape[1] / rate,
    }
    return audio, rate, info
