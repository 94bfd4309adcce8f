"""What users hold as takes, as audio: the one adapter of listening tests and metrics.

A *take* may be a file path, a catalog :class:`~audiolab.store.Record`, a
:class:`~audiolab.generate.Generation`, an audition widget's take or a
:class:`~audiolab.synth.Reference` (anything with ``.audio`` and
``.sample_rate``), an ``(audio, sample_rate)`` pair, or bare audio with the
``sample_rate`` given. :func:`as_clips` turns a sequence or a mapping of them
into :class:`Clip` values with unique names.

Examples
--------
>>> import numpy as np
>>> from audiolab._takes import as_clips
>>> clips = as_clips({"dry": (np.zeros(800), 8000), "wet": (np.ones((2, 800)) * 0.1, 8000)})
>>> [(c.name, c.audio.shape, c.sample_rate) for c in clips]
[('dry', (1, 800), 8000), ('wet', (2, 800), 8000)]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError

__all__ = ["Clip", "as_clip", "as_clips"]


@dataclass(frozen=True, eq=False)
class Clip:
    """One take as audio.

    Attributes
    ----------
    name : str
        How results name it (a mapping's key, the catalog id, the file's stem,
        or ``take N``).
    audio : numpy.ndarray
        float64 ``(channels, samples)``.
    sample_rate : int
        Hz.
    job_id : str or None
        The catalog id when the take came from a store.
    """

    name: str
    audio: np.ndarray = field(repr=False)
    sample_rate: int
    job_id: str | None = None


def _read(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.is_file():
        raise AudioError(f"no audio file at {str(path)!r}")
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except RuntimeError as err:  # soundfile's error for unreadable files
        raise AudioError(f"{str(path)!r} is not readable audio: {err}") from None
    return data.T, int(rate)


def _named(take: Any, sample_rate: int | None, name: str | None) -> tuple[Clip, bool]:
    """The clip of ``take``, and whether it had a name (given, an id or a file's stem)."""
    job_id = None
    if isinstance(take, (str, os.PathLike)):
        path = Path(take)
        audio, rate = _read(path)
        name = name or path.stem
    elif hasattr(take, "absolute_path") and hasattr(take, "job_id"):  # a catalog Record
        status = getattr(take, "status", "complete")
        if take.absolute_path is None or status != "complete":
            raise AudioError(
                f"catalog row {take.job_id!r} is {status}: only a complete take has audio"
            )
        audio, rate = _read(Path(take.absolute_path))
        job_id = str(take.job_id)
        name = name or job_id
    elif hasattr(take, "audio") and hasattr(take, "sample_rate"):
        audio, rate = take.audio, take.sample_rate
    elif (
        isinstance(take, tuple)
        and len(take) == 2
        and not isinstance(take[1], (np.ndarray, list, tuple))
    ):
        audio, rate = take
    else:
        if sample_rate is None:
            raise AudioError(
                f"a take given as bare audio ({type(take).__name__}) needs sample_rate=; "
                "or pass (audio, sample_rate) pairs, paths, Records or Generations"
            )
        audio, rate = take, sample_rate
    clip = Clip(name or "take", as_audio(audio, max_channels=2), check_sample_rate(rate), job_id)
    return clip, bool(name)


def as_clip(take: Any, sample_rate: int | None = None, *, name: str | None = None) -> Clip:
    """One take (see the module docstring) as a :class:`Clip`.

    Parameters
    ----------
    take : path, Record, Generation, (audio, sample_rate) or audio
        The take.
    sample_rate : int, optional
        Needed only for bare audio.
    name : str, optional
        Its name (default: the catalog id, the file's stem, else ``"take"``).

    Returns
    -------
    Clip

    Raises
    ------
    AudioError
        Bare audio without a sample rate, a missing or unreadable file, bad audio.

    Examples
    --------
    >>> import numpy as np
    >>> as_clip(np.zeros(100), 8000, name="silence").audio.shape
    (1, 100)
    """
    return _named(take, sample_rate, name)[0]


def as_clips(takes: Any, sample_rate: int | None = None) -> list[Clip]:
    """A sequence or mapping of takes as clips with unique names.

    Parameters
    ----------
    takes : sequence or mapping of takes
        A mapping's keys name the clips; a sequence's are named by catalog id
        or file stem, else ``take 1``, ``take 2``, ... (a name that comes twice
        gets `` (2)`` and so on).
    sample_rate : int, optional
        For takes given as bare audio.

    Returns
    -------
    list of Clip

    Raises
    ------
    AudioError
        Fewer than one take, or a bad take.

    Examples
    --------
    >>> import numpy as np
    >>> [c.name for c in as_clips([(np.zeros(10), 8000), (np.zeros(10), 8000)])]
    ['take 1', 'take 2']
    """
    if isinstance(takes, Mapping):
        clips = [as_clip(t, sample_rate, name=str(k)) for k, t in takes.items()]
    elif isinstance(takes, Sequence) and not isinstance(takes, (str, bytes)):
        clips = []
        for i, take in enumerate(takes, 1):
            clip, named = _named(take, sample_rate, None)
            if not named:
                clip = Clip(f"take {i}", clip.audio, clip.sample_rate, clip.job_id)
            clips.append(clip)
    else:
        raise AudioError(
            f"takes must be a sequence or a mapping of takes, got {type(takes).__name__}"
        )
    if not clips:
        raise AudioError("no takes were given")
    seen: dict[str, int] = {}
    unique = []
    for clip in clips:
        count = seen.get(clip.name, 0) + 1
        seen[clip.name] = count
        if count > 1:
            clip = Clip(f"{clip.name} ({count})", clip.audio, clip.sample_rate, clip.job_id)
        unique.append(clip)
    return unique
