"""Work side by side in threads: numpy's loops and BLAS run without the GIL.

The meter can measure channels side by side, and the quantizer convert
stretches of frames side by side, each in a thread of its own, when
``AUDIOLAB_THREADS`` asks for more than one (see :func:`thread_count`). BLAS
is held to one thread meanwhile: the products are small, and BLAS threads on
top of these would fight over the same cores.

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

__all__ = ["side_by_side", "thread_count"]

_T = TypeVar("_T")
_I = TypeVar("_I")


def thread_count() -> int:
    """Threads to use: AUDIOLAB_THREADS, one by default.

    One by default because that measured fastest: the steps are numpy calls
    of tens of microseconds, and two threads trading the GIL between them at
    that rate lose more than the second core gains (on 2 cores, exporting or
    measuring 16 s and 60 s clips took 10-60 % longer with two threads).
    Batches use processes instead (:mod:`audiolab.batch`).

    Examples
    --------
    >>> thread_count() >= 1
    True
    """
    value = os.environ.get("AUDIOLAB_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


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
