"""Run one function over many items: serially, on a process pool, or on Dask.

The batch functions of audiolab (:func:`audiolab.measure.measure_many`,
:func:`audiolab.export.export_wav_batch`) go through :func:`run`, so they share
one behaviour: results come back in input order, and an item that fails comes
back as its exception (like ``asyncio.gather(..., return_exceptions=True)``)
without losing the others.

Examples
--------
>>> from audiolab.batch import run
>>> run(abs, [-1, 2, -3], jobs=1)
[1, 2, 3]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["default_jobs", "run"]


def default_jobs() -> int:
    """The number of processes a batch uses by default: one per available core.

    Examples
    --------
    >>> default_jobs() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return max(1, os.cpu_count() or 1)


def _attempt(func: Callable[..., Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, func(*item) if isinstance(item, tuple) else func(item)
    except Exception as err:  # an item's failure is its result
        return False, err


def _progress_bar(total: int, desc: str, progress: bool | None) -> Any:
    from tqdm.auto import tqdm

    if progress is None:
        progress = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=not progress, unit="item", leave=False)


def run(
    func: Callable[..., Any],
    items: Sequence[Any],
    *,
    jobs: int | None = None,
    client: Any = None,
    progress: bool | None = False,
    desc: str = "",
) -> list[Any]:
    """``[func(item) for item in items]``, in parallel, each failure returned in its place.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled to the workers). A tuple item is
        passed as positional arguments.
    items : sequence
        The inputs.
    jobs : int, optional
        Processes to use; default one per core; 1 runs in this process.
    client : dask.distributed.Client, optional
        Run the items as Dask tasks on this client instead (``jobs`` is then
        ignored).
    progress : bool or None
        A progress bar (tqdm) on stderr; None: only when stderr is a terminal.
    desc : str
        Label of the progress bar.

    Returns
    -------
    list
        One entry per item, in input order: the result, or the exception the
        item raised.

    Examples
    --------
    >>> import math
    >>> out = run(math.sqrt, [4.0, -1.0, 9.0], jobs=1)
    >>> out[0], type(out[1]).__name__, out[2]
    (2.0, 'ValueError', 3.0)
    """
    items = list(items)
    if not items:
        return []
    bar = _progress_bar(len(items), desc, progress)
    try:
        if client is not None:
            outcomes = _on_dask(client, func, items, bar)
        else:
            workers = min(jobs or default_jobs(), len(items))
            if workers <= 1:
                outcomes = []
                for item in items:
                    outcomes.append(_attempt(func, item))
                    bar.update()
            else:
                outcomes = _on_pool(func, items, workers, bar)
    finally:
        bar.close()
    return [value for _, value in outcomes]


#: Worker processes run one thread each (N workers on N cores, not N x N threads).
_WORKER_ENVIRONMENT = {
    "AUDIOLAB_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@contextmanager
def _worker_environment() -> Iterator[None]:
    """Set the workers' environment while they (and a fork server) start, then restore it.

    BLAS libraries read their thread count once, when numpy is imported, so it
    must be in the environment a worker starts with.
    """
    saved = {name: os.environ.get(name) for name in _WORKER_ENVIRONMENT}
    os.environ.update(_WORKER_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _context() -> Any:
    import multiprocessing

    # Not fork: the workers must not inherit this process's threads (the meter's,
    # a notebook kernel's). A fork server, where there is one, starts workers with
    # numpy, scipy and soundfile already imported; elsewhere, spawn.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["numpy", "scipy.signal", "scipy.fft", "soundfile"])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _attempt_all(func: Callable[..., Any], items: list[Any]) -> list[tuple[bool, Any]]:
    return [_attempt(func, item) for item in items]


def _on_pool(
    func: Callable[..., Any], items: list[Any], workers: int, bar: Any
) -> list[tuple[bool, Any]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # A few items per task: fewer round trips, and still work for every worker to the end.
    size = max(1, min(8, len(items) // (4 * workers)))
    chunks = [list(range(i, min(i + size, len(items)))) for i in range(0, len(items), size)]
    outcomes: list[tuple[bool, Any] | None] = [None] * len(items)
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        with _worker_environment():  # the workers start with the first submissions
            futures = {
                pool.submit(_attempt_all, func, [items[i] for i in chunk]): chunk
                for chunk in chunks
            }
        for future in as_completed(futures):
            for i, outcome in zip(futures[future], future.result(), strict=True):
                outcomes[i] = outcome
            bar.update(len(futures[future]))
    return [o for o in outcomes if o is not None]


def _on_dask(
    client: Any, func: Callable[..., Any], items: list[Any], bar: Any
) -> list[tuple[bool, Any]]:
    from dask.distributed import as_completed

    futures = client.map(_attempt, [func] * len(items), items, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    outcomes: list[tuple[bool, Any] | None] = [None] * len(items)
    for future in as_completed(futures):
        outcomes[index[future.key]] = future.result()
        bar.update()
    return [o for o in outcomes if o is not None]
