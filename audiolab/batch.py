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
from collections import deque
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


#: Imported once by the fork server, so that every worker starts with them.
_PRELOAD = (
    "numpy",
    "soundfile",
    "audiolab.export",
    "audiolab.analysis.key",
    "audiolab.loudness",
    "audiolab.measure",
    "audiolab.normalize",
    "audiolab.analysis.tempo",
)


def _context() -> Any:
    import multiprocessing

    # Not fork: the workers must not inherit this process's threads (a notebook
    # kernel's, a writer's). A fork server, where there is one, starts workers with
    # what the batch functions need already imported; elsewhere, spawn.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _attempt_all(func: Callable[..., Any], items: list[Any]) -> list[tuple[bool, Any]]:
    return [_attempt(func, item) for item in items]


def _on_pool(
    func: Callable[..., Any], items: list[Any], workers: int, bar: Any
) -> list[tuple[bool, Any]]:
    """The items on a process pool, the caller taking its share while the workers start.

    Workers take a few items per task from the front (fewer round trips, and
    smaller tasks towards the end so that no worker idles while another
    finishes a long one). The pool starts in a thread of its own (a fork
    server imports audiolab first) while this process takes items from the
    back, until every worker is up: the start-up costs no time.
    """
    import threading
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    outcomes: list[tuple[bool, Any] | None] = [None] * len(items)
    waiting = deque(range(len(items)))
    lock = threading.Lock()  # `waiting` is shared with the starting thread
    running: dict[Future[list[tuple[bool, Any]]], list[int]] = {}
    context = _context()
    alive = context.Value("i", 0)  # workers that have started
    started: dict[str, Any] = {}

    def record(indices: list[int], results: list[tuple[bool, Any]]) -> None:
        for i, outcome in zip(indices, results, strict=True):
            outcomes[i] = outcome
        bar.update(len(indices))

    def submit(pool: Any) -> None:
        with lock:
            size = max(1, min(8, len(waiting) // (4 * workers)))
            chunk = [waiting.popleft() for _ in range(min(size, len(waiting)))]
        if chunk:
            running[pool.submit(_attempt_all, func, [items[i] for i in chunk])] = chunk

    def start() -> None:
        try:
            with _worker_environment():  # the workers start with the first submissions
                pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(alive,),
                )
                started["pool"] = pool
                for _ in range(2 * workers):
                    submit(pool)
        except BaseException as err:  # pragma: no cover - raised again below
            started["error"] = err

    starter = threading.Thread(target=start, name="audiolab-pool-start", daemon=True)
    starter.start()
    while starter.is_alive() or alive.value < workers:  # the workers are starting
        with lock:
            last = waiting.pop() if waiting else None
        if last is None:
            break
        record([last], [_attempt(func, items[last])])
    starter.join()
    if "error" in started:  # pragma: no cover - the pool could not start
        raise started["error"]
    with started["pool"] as pool:
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                record(running.pop(future), future.result())
                submit(pool)
    return [o for o in outcomes if o is not None]


def _start_worker(alive: Any) -> None:
    """A worker's start: keep freed memory, and say it is up."""
    _keep_memory()
    with alive.get_lock():
        alive.value += 1


def _keep_memory() -> None:
    """A worker's allocator keeps the memory it frees, for the next item.

    glibc returns large blocks to the system when they are freed, and the next
    array of that size is paid for again in page faults: measuring a clip
    allocates and frees arrays of its size all the time. A worker lives for one
    batch, so it keeps what it had instead (mallopt: blocks up to 32 MB from the
    heap, no trimming). Not done in the caller's process, whose memory use is
    the caller's business.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    mallopt(m_trim_threshold, 1024 * 1024 * 1024)


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
