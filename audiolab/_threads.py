"""BLAS on one thread while the meter works, and the channels one after another.

The meter's products (the K-weighting blocks, the true-peak interpolation) are
small: BLAS threads on them cost more in waking and waiting than they save
(on this 2-core machine a dot product of 1M samples took 8 ms with two BLAS
threads and 0.4 ms with one). So BLAS is held to one thread inside the meter
and restored on exit.

Threads of our own (a channel per thread) were measured against none
(``python benchmarks/loudness.py --machinery``) and are not used: with the
machine to themselves they measured 1.00x for a 16 s take, 1.34x at 30 s and
1.5x for a 10 minute file; with other work on the two cores (a batch, a
notebook beside the meter) 0.5-0.9x for 8-30 s takes (numpy steps of tens of
microseconds trade the GIL). Folders of takes use the cores through
processes (:mod:`audiolab.batch`), which share no GIL.

Examples
--------
>>> from audiolab._threads import per_channel
>>> per_channel(lambda c: c * c, 3)
[0, 1, 4]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["per_channel", "single_blas"]

_T = TypeVar("_T")


def per_channel(task: Callable[[int], _T], channels: int) -> list[_T]:
    """``[task(c) for c in range(channels)]`` with BLAS on one thread.

    Parameters
    ----------
    task : callable
        What to do with channel ``c``.
    channels : int
        How many.

    Returns
    -------
    list
        One result per channel.

    Examples
    --------
    >>> per_channel(lambda c: 10 * c, 3)
    [0, 10, 20]
    """
    with single_blas():
        return [task(c) for c in range(channels)]


@contextmanager
def single_blas() -> Iterator[None]:
    """BLAS on one thread inside the block, restored on exit.

    Examples
    --------
    >>> import numpy as np
    >>> with single_blas():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    controller = _blas_controller()
    if controller is None:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()
