"""Work side by side in threads: numpy's loops and BLAS run without the GIL.

The meter measures channels side by side, and the quantizer converts
stretches of frames side by side, each in a thread of its own, for signals
long enough for that to pay (:data:`THREADED_SAMPLES`), up to one thread per
core or ``AUDIOLAB_THREADS`` (batch workers set it to 1). BLAS is held to one
thread meanwhile: the products are small, and BLAS threads on top of these
would fight over the same cores.

Examples
--------
>>> from audiolab._threads import side_by_side
>>> side_by_side(lambda c: c * c, range(4))
[0, 1, 4, 9]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["THREADED_SAMPLES", "per_channel", "side_by_side", "thread_count"]

_T = TypeVar("_T")
_I = TypeVar("_I")


def thread_count() -> int:
    """Threads to use: one per core, or AUDIOLAB_THREADS (batch workers set 1).

    Examples
    --------
    >>> thread_count() >= 1
    True
    """
    value = os.environ.get("AUDIOLAB_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else os.cpu_count() or 1


#: From this many samples per channel on, work is shared between threads. Below it,
#: one thread is faster: the steps are numpy calls of tens of microseconds, and two
#: threads trading the GIL at that rate lose what the second core gains (on 2 cores,
#: report() of 16 s of stereo was 1.07x faster with two threads, of 60 s 1.6x, of
#: 3 min 1.7x; exporting 16 s was slower).
THREADED_SAMPLES = 1 << 21


def side_by_side(
    task: Callable[[_I], _T], items: Iterable[_I], *, threaded: bool = True
) -> list[_T]:
    """``[task(item) for item in items]``, in threads (one per core at most), BLAS on one.

    Parameters
    ----------
    task : callable
        What to do with each item; exceptions propagate.
    items : iterable
        The inputs.
    threaded : bool
        False (or one item, or one thread) runs them here, one after another.

    Returns
    -------
    list
        The results in the order of the items.

    Examples
    --------
    >>> side_by_side(str.upper, ["a", "b"], threaded=False)
    ['A', 'B']
    """
    work = list(items)
    workers = min(len(work), thread_count()) if threaded else 1
    with _blas_single_threaded():
        if workers <= 1:
            return [task(item) for item in work]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(task, work))


def per_channel(task: Callable[[int], _T], channels: int, n_samples: int) -> list[_T]:
    """``[task(c) for c in range(channels)]``, a thread per channel for long signals.

    Parameters
    ----------
    task : callable
        What to do with channel ``c``.
    channels : int
        How many.
    n_samples : int
        Samples per channel: threads from :data:`THREADED_SAMPLES` on.

    Returns
    -------
    list
        One result per channel.

    Examples
    --------
    >>> per_channel(lambda c: 10 * c, 3, 100)
    [0, 10, 20]
    """
    return side_by_side(task, range(channels), threaded=n_samples >= THREADED_SAMPLES)


@contextmanager
def _blas_single_threaded() -> Iterator[None]:
    """BLAS on one thread inside the block, restored on exit."""
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
