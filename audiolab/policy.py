"""Choices the package makes in one place: bit depths, temporary names, model or fallback.

Each is declared once here and read by the writer, the store, the widget and
the command line.

Examples
--------
>>> from audiolab import policy
>>> list(policy.BIT_DEPTHS)
['PCM_16', 'PCM_24', 'PCM_32', 'FLOAT']
>>> policy.is_temporary(policy.temporary_path("take.wav"))
True
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = [
    "BIT_DEPTHS",
    "DEFAULT_BIT_DEPTH",
    "TEMPORARY_PREFIX",
    "fallback_notice",
    "is_temporary",
    "temporary_path",
]

#: soundfile subtypes that export writes, and the full scale of each integer one.
BIT_DEPTHS: dict[str, int | None] = {
    "PCM_16": 2**15,
    "PCM_24": 2**23,
    "PCM_32": 2**31,
    "FLOAT": None,
}
DEFAULT_BIT_DEPTH = "PCM_16"

#: Files being written start with this; a crash can leave one behind, which
#: ``Store.verify`` finds and removes.
TEMPORARY_PREFIX = ".tmp-"


def temporary_path(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside ``path``, short enough for any legal final name.

    The name is the prefix, 12 random hex digits and the final name's
    extension: it does not grow with the final name, so a 255-byte file name
    still has a temporary that the file system accepts.

    Parameters
    ----------
    path : str or PathLike
        The final path.

    Returns
    -------
    pathlib.Path
        In the same folder (a rename into place stays on one file system).

    Examples
    --------
    >>> p = temporary_path("out/take.wav")
    >>> p.parent.name, p.name.startswith(".tmp-"), p.suffix
    ('out', True, '.wav')
    """
    final = Path(path)
    suffix = final.suffix if len(final.suffix) <= 9 else ""
    return final.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}{suffix}")


def is_temporary(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a file being written (see :func:`temporary_path`).

    Parameters
    ----------
    path : str or PathLike
        Any path.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_temporary("2026/01/01/.tmp-0123456789ab.wav"), is_temporary("take.wav")
    (True, False)
    """
    return Path(path).name.startswith(TEMPORARY_PREFIX)


def fallback_notice(model: str, fallback: str) -> str | None:
    """``None`` when ``model``'s weights are here, else the one line that says what is used instead.

    The notebooks, the audition widget and ``audiolab demo`` all fall back
    the same way: the real model when a researcher has it, an offline
    stand-in otherwise, said in one line.

    Parameters
    ----------
    model : str
        Hub id or local folder of a MusicGen checkpoint.
    fallback : str
        What is used instead, as the user should read it.

    Returns
    -------
    str or None

    Examples
    --------
    >>> fallback_notice("/no/such/model", "the synth")
    "MusicGen weights for '/no/such/model' are not available here: using the synth instead"
    """
    from audiolab.generate import model_available

    if model_available(model):
        return None
    return f"MusicGen weights for {model!r} are not available here: using {fallback} instead"
