"""The one reader of audio files: what :func:`audiolab.measure.measure`, the command line
and :meth:`Store.verify <audiolab.store.Store.verify>` read goes through here.

Every reader refuses the same files with the same words, as
:class:`~audiolab.AudioError` messages ``"PATH: reason"``:

* ``no such file``, ``a link to a missing file``, ``is a directory, not an
  audio file``, ``permission denied`` (and the operating system's words for
  any other failure to open it);
* ``empty file (0 bytes), not audio``;
* ``not a readable audio file (...)`` (libsndfile's reason);
* ``truncated file (...)``: a header that promises more audio than the file
  holds (libsndfile would quietly return the part that is there);
  ``damaged or truncated file (...)``: the decoder stopped (libsndfile's reason);
* ``holds no audio (0 frames)``.

Examples
--------
>>> import os, tempfile, numpy as np, soundfile
>>> from audiolab import audiofile
>>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
>>> soundfile.write(path, np.zeros((800, 2)), 8000, subtype="PCM_24")
>>> audio, facts = audiofile.read(path)
>>> audio.shape, facts.samplerate, facts.subtype
((2, 800), 8000, 'PCM_24')
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from audiolab.errors import AudioError

__all__ = ["info", "read"]

# The narrowest dtype that holds each subtype exactly, and its full scale.
_READ_AS = {
    "PCM_S8": ("int16", 2.0**15),
    "PCM_U8": ("int16", 2.0**15),
    "PCM_16": ("int16", 2.0**15),
    "PCM_24": ("int32", 2.0**31),
    "PCM_32": ("int32", 2.0**31),
    "DOUBLE": ("float64", 1.0),
}
#: Subtypes whose samples are integers (always finite once read).
INTEGER_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32"})


def _os_reason(err: OSError) -> str:
    return (err.strerror or str(err)).lower() if err.errno is not None else str(err)


def info(path: str | os.PathLike[str]) -> Any:
    """The header facts of an audio file (soundfile's ``info``), checked.

    Parameters
    ----------
    path : str or os.PathLike
        Any file libsndfile reads (WAV, FLAC, OGG, MP3, ...).

    Returns
    -------
    soundfile info
        ``.samplerate``, ``.channels``, ``.frames``, ``.format``, ``.subtype``.

    Raises
    ------
    AudioError
        With the words of the module docstring.

    Examples
    --------
    >>> info("no-such-file.wav")
    Traceback (most recent call last):
    ...
    audiolab.AudioError: no-such-file.wav: no such file
    """
    name = os.fspath(path)
    if isinstance(name, bytes):  # pragma: no cover - bytes paths are rare
        name = os.fsdecode(name)
    if not os.path.exists(name):
        reason = "a link to a missing file" if os.path.islink(name) else "no such file"
        raise AudioError(f"{name}: {reason}")
    if os.path.isdir(name):
        raise AudioError(f"{name}: is a directory, not an audio file")
    try:
        with open(name, "rb") as handle:  # the OS's own reason, before libsndfile hides it
            size = os.fstat(handle.fileno()).st_size
    except OSError as err:
        raise AudioError(f"{name}: {_os_reason(err)}") from None
    if size == 0:
        raise AudioError(f"{name}: empty file (0 bytes), not audio")
    import soundfile

    try:
        facts = soundfile.info(name)
    except (RuntimeError, TypeError, ValueError, OSError) as err:
        reason = str(err).replace(f"Error opening {name!r}: ", "")
        raise AudioError(f"{name}: not a readable audio file ({reason})") from None
    log = str(getattr(facts, "extra_info", ""))
    # libsndfile notes a data chunk longer than the file ("should be N") and
    # an Ogg stream without its end; both are cut-off files.
    if re.search(r"should be \d+", log) or "lacks an end-of-stream" in log:
        raise AudioError(f"{name}: truncated file (the header promises more audio than it holds)")
    if facts.frames <= 0 or facts.samplerate <= 0 or facts.channels <= 0:
        raise AudioError(f"{name}: holds no audio ({facts.frames} frames)")
    return facts


def read(path: str | os.PathLike[str], facts: Any = None) -> tuple[np.ndarray, Any]:
    """Decode a whole audio file to float64 ``(channels, frames)``, checked.

    Parameters
    ----------
    path : str or os.PathLike
        Any file libsndfile reads.
    facts : soundfile info, optional
        Its :func:`info`, when already taken.

    Returns
    -------
    (numpy.ndarray, soundfile info)
        Samples at full scale 1.0 (integer PCM scaled exactly), and the header facts.

    Raises
    ------
    AudioError
        With the words of the module docstring; also when fewer frames
        decode than the header announces.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.wav")
    >>> open(path, "wb").close()
    >>> read(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.AudioError: ...empty.wav: empty file (0 bytes), not audio
    """
    import soundfile

    name = os.fspath(path)
    facts = info(name) if facts is None else facts
    dtype, full_scale = _READ_AS.get(str(facts.subtype), ("float32", 1.0))
    try:
        data, _ = soundfile.read(name, dtype=dtype, always_2d=True)
    except (RuntimeError, TypeError, ValueError, OSError) as err:
        raise AudioError(f"{name}: damaged or truncated file ({err})") from None
    if len(data) == 0 or (facts.format != "MP3" and len(data) < facts.frames):
        raise AudioError(
            f"{name}: truncated file ({len(data)} of the {facts.frames} frames "
            "its header announces)"
        )
    out = np.empty((data.shape[1], data.shape[0]))
    np.multiply(data.T, 1.0 / full_scale, out=out)  # one pass: transpose and scale
    return out, facts
