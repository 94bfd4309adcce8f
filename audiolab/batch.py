"""Run one function over many items: in this process, on a process pool, or on Dask.

The batch functions of audiolab (:func:`audiolab.measure.measure_many`,
:func:`audiolab.export.export_wav_batch`) go through :func:`run`, so they share
one signature and one behaviour: keyword-only ``jobs``, ``client``, ``errors``
and ``progress``; results in input order; an item that fails never loses the
others, and comes back in its place (``errors="return"``) or, once every item
is done, in a :class:`audiolab.BatchError` that carries all results
(``errors="raise"``).

The pool is a plain :class:`concurrent.futures.ProcessPoolExecutor` whose
workers run BLAS on one thread: N workers on N cores, not N x N threads.
That is what pays, measured side by side (``python benchmarks/batch.py
--baseline-tree DIR``, 100 files of 10 s on two cores): a pool whose workers
keep BLAS's default threads was 1.75x slower on ``measure_many`` and level on
``export_wav_batch``. The earlier machinery (a fork server started in a
thread while the caller measured items itself, a live-worker counter, a tuned
allocator) was 1.09x faster on ``measure_many`` (the caller's work during the
start-up: a fixed fraction of a second, whatever the batch's length) and
level on ``export_wav_batch`` (0.96x of it). It was removed: a thread, a
counter and an allocator setting for a saving that does not grow with the batch.

Examples
--------
>>> from audiolab.batch import run
>>> run(abs, [-1, 2, -3], jobs=1)
[1, 2, 3]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal

from audiolab.errors import AudioError, BatchError

__all__ = ["Errors", "check_errors", "default_jobs", "run"]

#: What a batch does with an item's failure: return it in place, or raise at the end.
Errors = Literal["return", "raise"]


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


def check_errors(errors: Any) -> Errors:
    """``errors`` if it is ``"return"`` or ``"raise"``, else AudioError.

    Examples
    --------
    >>> check_errors("raise")
    'raise'
    """
    if errors not in ("return", "raise"):
        raise AudioError(f'errors must be "return" or "raise", got {errors!r}')
    return errors


def _check_jobs(jobs: Any) -> int | None:
    if jobs is None:
        return None
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise AudioError(f"jobs must be a whole number of processes, at least 1, got {jobs!r}")
    return jobs


def _attempt(func: Callable[..., Any], item: Any) -> Any:
    try:
        return func(*item) if isinstance(item, tuple) else func(item)
    except Exception as err:  # an item's failure is its result
        return err


def _attempt_all(func: Callable[..., Any], items: list[Any]) -> list[Any]:
    return [_attempt(func, item) for item in items]


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
    errors: Errors = "return",
    progress: bool | None = False,
    desc: str = "",
) -> list[Any]:
    """``[func(item) for item in items]``, in parallel; a failure never loses the others.

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
    errors : {"return", "raise"}
        ``"return"``: a failed item's exception is its entry in the list.
        ``"raise"``: when any item failed, :class:`audiolab.BatchError` after
        every item is done, carrying all results.
    progress : bool or None
        A progress bar (tqdm) on stderr; None: only when stderr is a terminal.
    desc : str
        Label of the progress bar and of the error.

    Returns
    -------
    list
        One entry per item, in input order.

    Raises
    ------
    BatchError
        With ``errors="raise"``, when some item failed.
    AudioError
        ``jobs`` or ``errors`` not understood.

    Examples
    --------
    >>> import math
    >>> out = run(math.sqrt, [4.0, -1.0, 9.0], jobs=1)
    >>> out[0], type(out[1]).__name__, out[2]
    (2.0, 'ValueError', 3.0)
    >>> run(math.sqrt, [4.0, -1.0], jobs=1, errors="raise", desc="sqrt")
    Traceback (most recent call last):
    ...
    audiolab.BatchError: 1 of 2 sqrt items failed (item 1: math domain error)
    """
    errors = check_errors(errors)
    jobs = _check_jobs(jobs)
    items = list(items)
    results: list[Any] = []
    if items:
        bar = _progress_bar(len(items), desc, progress)
        try:
            if client is not None:
                results = _on_dask(client, func, items, bar)
            elif min(jobs or default_jobs(), len(items)) <= 1:
                for item in items:
                    results.append(_attempt(func, item))
                    bar.update()
            else:
                results = _on_pool(func, items, min(jobs or default_jobs(), len(items)), bar)
        finally:
            bar.close()
    if errors == "raise" and any(isinstance(r, Exception) for r in results):
        raise BatchError(results, what=desc or "batch")
    return results


def _start_worker() -> None:
    """A worker runs BLAS (and OpenMP) on one thread: N workers on N cores, not N x N threads."""
    import numpy  # noqa: F401  (BLAS must be loaded for its limit to apply)
    from threadpoolctl import threadpool_limits

    global _LIMITS
    _LIMITS = threadpool_limits(limits=1)


_LIMITS: Any = None  # a worker's thread limit, held for its life


def _context() -> Any:
    import multiprocessing

    # Not fork: the workers must not inherit this process's threads (a notebook
    # kernel's, a writer's). A fork server, where there is one, else spawn.
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _on_pool(func: Callable[..., Any], items: list[Any], workers: int, bar: Any) -> list[Any]:
    """The items on a process pool, a few per task, in order."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    size = max(1, min(8, len(items) // (4 * workers)))
    chunks = [list(range(i, min(i + size, len(items)))) for i in range(0, len(items), size)]
    results: list[Any] = [None] * len(items)
    with ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker) as pool:
        running = {pool.submit(_attempt_all, func, [items[i] for i in c]): c for c in chunks}
        for future in as_completed(running):
            indices = running[future]
            for i, result in zip(indices, future.result(), strict=True):
                results[i] = result
            bar.update(len(indices))
    return results


def _on_dask(client: Any, func: Callable[..., Any], items: list[Any], bar: Any) -> list[Any]:
    from dask.distributed import as_completed

    futures = client.map(_attempt, [func] * len(items), items, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(items)
    for future in as_completed(futures):
        results[index[future.key]] = future.result()
        bar.update()
    return results
