"""The batch runner: order kept, failures returned in place, serial = pool = Dask."""

from __future__ import annotations

import math

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
