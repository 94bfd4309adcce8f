"""Four processes saving at once while ``audiolab store verify --repair`` runs beside them."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audiolab.store import Store
from tests.reliability import _workers
from tests.reliability._cases import case, passed, seen
from tests.reliability._run import audiolab

pytestmark = pytest.mark.slow

WRITERS, SAVES = 4, 50
CONTEXT = multiprocessing.get_context("forkserver")


def test_four_writers_and_a_repairing_verify_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    Store(root).schema_version()  # the catalog exists before the race
    writers = [
        CONTEXT.Process(target=_workers.save_many, args=(str(root), w, SAVES))
        for w in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    reader, reads, verifies = Store(root), [], []
    command = [sys.executable, "-m", "audiolab", "store", "verify", "--repair", "--root", str(root)]
    checking: subprocess.Popen[str] | None = None
    while any(w.is_alive() for w in writers):
        reads.append(len(reader.records(status="complete")))  # a notebook reading meanwhile
        if checking is None or checking.poll() is not None:
            if checking is not None:
                verifies.append((checking.returncode, *checking.communicate()))
            checking = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        time.sleep(0.02)
    for writer in writers:
        writer.join()
    if checking is not None:
        verifies.append((checking.wait(), *checking.communicate()))

    with case("concurrency: 4 writers + verify --repair"):
        assert [w.exitcode for w in writers] == [0] * WRITERS
        for code, out, err in verifies:  # in progress is reported, never "repaired"
            assert code in (0, 1) and err == "" and "repaired" not in out, (code, out, err)
            for line in out.splitlines():
                kind = line.split(":")[0]
                if kind in ("in_progress", "recent_temporary_files"):
                    seen("concurrency: 4 writers + verify --repair", f"verify saw {kind}")
                else:  # never a file without row, a row without file, an interrupted row
                    assert line == "ok" or "are younger than" in line, line
        assert reads == sorted(reads) and len(reads) > 1  # readers saw progress, never an error
        final = audiolab("store", "verify", "--repair", "--grace", "0", "--root", str(root))
        assert final.returncode == 0 and final.stdout.strip() == "ok", final.stdout
        records = Store(root).records()
        assert len(records) == WRITERS * SAVES and {r.status for r in records} == {"complete"}
        assert len({r.job_id for r in records}) == WRITERS * SAVES
        assert len(Store(root).files()) == WRITERS * SAVES
        assert not [p for p in root.rglob("*") if p.name.startswith(".tmp-")]
    passed("concurrency: saves", WRITERS * SAVES)  # each save was checked above
    seen("concurrency: 4 writers + verify --repair", f"{len(verifies)} verify runs")
