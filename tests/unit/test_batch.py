"""The batch runner: order kept, failures returned or raised after the rest, pool = serial."""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from audiolab import AudioError, BatchError, batch


def test_serial_run_keeps_order_and_returns_failures_in_place() -> None:
    out = batch.run(math.sqrt, [4.0, -1.0, 9.0], jobs=1)
    assert out[0] == 2.0 and out[2] == 3.0
    assert isinstance(out[1], ValueError) and "math domain error" in str(out[1])


def test_tuple_items_are_positional_arguments() -> None:
    assert batch.run(pow, [(2, 3), (3, 2)], jobs=1) == [8, 9]


def _where(item: int) -> tuple[int, int]:
    return item, os.getpid()


def test_serial_runs_in_this_process_and_a_pool_in_others() -> None:
    serial = batch.run(_where, list(range(6)), jobs=1)
    assert {pid for _, pid in serial} == {os.getpid()}
    pooled = batch.run(_where, list(range(40)), jobs=2, progress=True, desc="where")
    assert [item for item, _ in pooled] == list(range(40))  # order kept
    assert os.getpid() not in {pid for _, pid in pooled}


def test_process_pool_gives_the_serial_results() -> None:
    items = [float(i) - 5.0 for i in range(12)]
    serial = batch.run(math.sqrt, items, jobs=1)
    pooled = batch.run(math.sqrt, items, jobs=2)
    assert [repr(x) for x in pooled] == [repr(x) for x in serial]


def test_pool_workers_run_one_thread_each() -> None:
    """In a process whose environment leaves BLAS its default threads (one per core)."""
    code = (
        "import os\n"
        "from audiolab import batch\n"
        "def threads(_):\n"
        "    from threadpoolctl import threadpool_info\n"
        "    blas = [p['num_threads'] for p in threadpool_info()]\n"
        "    return blas\n"
        "if __name__ == '__main__':\n"
        "    from threadpoolctl import threadpool_info\n"
        "    print([p['num_threads'] for p in threadpool_info()])\n"
        "    print(batch.run(threads, [0, 1, 2, 3], jobs=2))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    script = Path(tempfile.mkdtemp()) / "threads.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    caller, workers = (ast.literal_eval(line) for line in done.stdout.splitlines()[-2:])
    if os.cpu_count() and os.cpu_count() > 1:
        assert max(caller) > 1  # the caller keeps BLAS's threads: the check below can fail
    for blas in workers:
        assert blas and set(blas) == {1}


def _touch(path: str) -> str:
    if path.endswith("bad"):
        raise ValueError(f"{path}: refused")
    Path(path).write_text("done")
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_raise_comes_after_every_other_item_is_done(tmp_path, jobs: int) -> None:
    paths = [str(tmp_path / name) for name in ("a", "bad", "c", "d")]
    with pytest.raises(BatchError, match="1 of 4 touch items failed") as excinfo:
        batch.run(_touch, paths, jobs=jobs, errors="raise", desc="touch")
    assert list(excinfo.value.errors) == [1] and excinfo.value.results[3] == paths[3]
    assert all(Path(p).read_text() == "done" for p in paths if not p.endswith("bad"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jobs": 0}, "jobs must be"),
        ({"jobs": 1.5}, "jobs must be"),
        ({"errors": "ignore"}, "errors"),
    ],
)
def test_bad_options_are_audio_errors(options, message) -> None:
    with pytest.raises(AudioError, match=message):
        batch.run(abs, [1], **options)


def test_empty_input_gives_an_empty_list() -> None:
    assert batch.run(math.sqrt, [], jobs=2, errors="raise") == []


def test_dask_client_gives_the_serial_results() -> None:
    distributed = pytest.importorskip("dask.distributed")
    items = [float(i) - 2.0 for i in range(6)]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False) as cluster:
        with distributed.Client(cluster) as client:
            out = batch.run(math.sqrt, items, client=client)
    assert [repr(x) for x in out] == [repr(x) for x in batch.run(math.sqrt, items, jobs=1)]
