"""The batch runner: order kept, failures returned in place, serial = pool = Dask."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from audiolab import batch


def test_serial_run_keeps_order_and_returns_failures_in_place() -> None:
    out = batch.run(math.sqrt, [4.0, -1.0, 9.0], jobs=1)
    assert out[0] == 2.0 and out[2] == 3.0
    assert isinstance(out[1], ValueError) and "math domain error" in str(out[1])


def test_tuple_items_are_positional_arguments() -> None:
    assert batch.run(pow, [(2, 3), (3, 2)], jobs=1) == [8, 9]


def test_process_pool_gives_the_serial_results() -> None:
    items = [float(i) - 5.0 for i in range(12)]
    serial = batch.run(math.sqrt, items, jobs=1)
    pooled = batch.run(math.sqrt, items, jobs=2, progress=True, desc="sqrt")
    assert [repr(x) for x in pooled] == [repr(x) for x in serial]


def test_empty_input_gives_an_empty_list() -> None:
    assert batch.run(math.sqrt, [], jobs=2) == []


def test_dask_client_gives_the_serial_results() -> None:
    distributed = pytest.importorskip("dask.distributed")
    items = [float(i) - 2.0 for i in range(6)]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster:
        with distributed.Client(cluster) as client:
            out = batch.run(math.sqrt, items, client=client)
    assert [repr(x) for x in out] == [repr(x) for x in batch.run(math.sqrt, items, jobs=1)]


def _pid_of(item: int) -> tuple[int, int]:
    import time

    time.sleep(0.05)  # long enough for the workers to start before the caller is done
    return item, os.getpid()


def test_the_caller_works_while_the_workers_start_and_order_is_kept() -> None:
    out = batch.run(_pid_of, list(range(60)), jobs=2)
    assert [item for item, _ in out] == list(range(60))
    pids = {pid for _, pid in out}
    assert os.getpid() in pids  # items done here while the pool started
    assert len(pids - {os.getpid()}) >= 1  # and the rest by the workers


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("keep", [False, True])
def test_workers_keep_the_memory_they_free(keep: bool) -> None:
    code = (
        "import numpy as np\n"
        "from audiolab import batch\n"
        f"if {keep}: batch._keep_memory()\n"
        "def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
        "a = np.ones(3 << 20); before = rss(); del a\n"  # 24 MB, touched
        "print(before - rss())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    returned = int(done.stdout)
    assert (returned < 4 << 20) if keep else (returned > 20 << 20)


def test_a_starting_worker_counts_itself(monkeypatch) -> None:
    import multiprocessing

    monkeypatch.setattr(batch, "_keep_memory", lambda: None)  # not in the test process
    alive = multiprocessing.get_context("spawn").Value("i", 0)
    batch._start_worker(alive)
    batch._start_worker(alive)
    assert alive.value == 2
