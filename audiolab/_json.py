"""The one sanitizer of values that leave Python: JSON, the catalog, the CLI.

Non-finite floats become ``None`` (JSON has no NaN or Infinity), numpy
scalars and arrays become Python numbers and lists, mappings get string keys,
paths become strings and datetimes ISO 8601 strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = ["dumps", "json_safe"]


def json_safe(value: Any) -> Any:
    """``value`` with everything JSON cannot hold replaced (see the module docstring).

    Parameters
    ----------
    value : Any
        A number, string, mapping, sequence, numpy value, path or datetime.

    Returns
    -------
    Any
        The same structure made of ``dict``, ``list``, ``str``, ``int``,
        ``float`` (finite), ``bool`` and ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({"lufs": float("-inf"), "bpm": np.float32(120.0), "beats": np.array([0.5, 1.0])})
    {'lufs': None, 'bpm': 120.0, 'beats': [0.5, 1.0]}
    """
    if isinstance(value, np.generic):  # before float: numpy's float64 is a float
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def dumps(value: Any) -> str | None:
    """JSON text of :func:`json_safe` ``(value)``; ``None`` stays ``None`` (an SQL NULL).

    Parameters
    ----------
    value : Any
        What to encode.

    Returns
    -------
    str or None
        Strict JSON (never NaN or Infinity).

    Examples
    --------
    >>> dumps({"seed": 1, "lufs": float("nan")})
    '{"seed": 1, "lufs": null}'
    >>> dumps(None) is None
    True
    """
    return None if value is None else json.dumps(json_safe(value), allow_nan=False)
