"""What an export wrote, measured from the file itself: :class:`ExportResult`.

:func:`audiolab.export.export` and the batches return it (import it from
:mod:`audiolab.export` or :mod:`audiolab`, as always). It unpacks as the seed's
``(path, file_size_bytes)``, and :meth:`ExportResult.to_dict` is the
JSON-safe form the catalog and the CLI use.

Examples
--------
>>> from pathlib import Path
>>> result = ExportResult(Path("a.wav"), 44, 8000, 1, "PCM_16", 0.0, None, None, 0.0,
...                       float("-inf"), False)
>>> path, size = result
>>> path.name, size, result.format
('a.wav', 44, 'WAV')
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExportResult"]


@dataclass(frozen=True)
class ExportResult:
    """What was written, as measured from the file itself (decoded, for lossy formats).

    Unpacks as the seed's ``(path, file_size_bytes)``.

    Attributes
    ----------
    path : Path
        The file.
    file_size_bytes : int
    sample_rate, channels : int
        Of the file (Opus is always 48 kHz; see :mod:`audiolab._formats`).
    bit_depth : str
        The soundfile subtype: ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"``,
        ``"FLOAT"``, or the codec (``"VORBIS"``, ``"OPUS"``, ``"MPEG_LAYER_III"``).
    duration_seconds : float
    input_lufs : float or None
        Loudness of the input at the file's rate (None under 400 ms).
    output_lufs : float or None
        Loudness of the file (None when it is shorter than 400 ms).
    gain_db : float
        Gain applied (0 without normalization).
    true_peak_dbtp : float
        True peak of the file.
    limited : bool
        Whether the true-peak limiter acted.
    target_lufs : float or None
        The target (None without normalization).
    within_tolerance : bool or None
        ``|output_lufs - target_lufs| <= tolerance_lu``, the true peak under the
        ceiling and no sample clipped; None without normalization.
    clipped_samples : int
        Samples that were beyond full scale (integer PCM) or decode beyond it (lossy).
    message : str or None
        Why the file is not within tolerance, whenever it is not.
    format : str
        ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"OPUS"`` or ``"MP3"``.
    encodes : int
        Encodes it took (lossy formats can take more than one).
    """

    path: Path
    file_size_bytes: int
    sample_rate: int
    channels: int
    bit_depth: str
    duration_seconds: float
    input_lufs: float | None
    output_lufs: float | None
    gain_db: float
    true_peak_dbtp: float
    limited: bool
    target_lufs: float | None = None
    within_tolerance: bool | None = None
    clipped_samples: int = 0
    message: str | None = field(default=None)
    format: str = "WAV"
    encodes: int = 1

    def __iter__(self) -> Iterator[Any]:
        """The seed's ``(path, file_size_bytes)``."""
        return iter((self.path, self.file_size_bytes))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> Any:
        return (self.path, self.file_size_bytes)[index]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the path as a string, non-finite numbers as None).

        Examples
        --------
        >>> from pathlib import Path
        >>> ExportResult(Path("a.wav"), 44, 8000, 1, "PCM_16", 0.0, None, None, 0.0,
        ...              float("-inf"), False).to_dict()["true_peak_dbtp"] is None
        True
        """
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, float) and not math.isfinite(value):
                value = None
            out[name] = value
        return out
