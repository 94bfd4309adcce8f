"""Read-only folders and a full disk: reads still work, writes fail in one line, nothing is lost.

Read-only folders are a read-only bind mount when the suite runs as root
(root ignores permission bits), permission bits otherwise. The full disk is a
small tmpfs, mounted only when running as root where ``mount`` is allowed;
elsewhere those tests are skipped with the reason.
"""

from __future__ import annotations

import errno
import multiprocessing
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import Store, StoreError
from audiolab.testing import programme
from audiolab.ui.cli import main
from tests.reliability._cases import case
from tests.reliability._run import CANNOT_MOUNT, audiolab, one_line, read_only, tmpfs

SR = 16000
FAST = {"bpm": False, "key": False}
RO = "read-only folders"
FULL = "disk full"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "outputs")
    for i in range(3):
        store.save(programme(0.5, SR, seed=i), SR, prompt=f"take {i}", measure_options=FAST)
    store.close()
    return store


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ read-only
def test_a_read_only_store_is_read_by_the_api_and_the_cli(store: Store) -> None:
    before = snapshot(store.root)
    with read_only(store.root) as view:
        with case(RO):
            records = Store(view).records()
            assert sorted(r.prompt for r in records) == ["take 0", "take 1", "take 2"]
            assert Store(view).verify().ok and Store(view).stats()["files"] == 3
        with case(RO):
            done = audiolab("store", "ls", "--root", str(view))
            assert done.returncode == 0 and done.stdout.count("complete") == 3, done.stderr
        for action in (["stats"], ["verify"], ["cleanup", "--days", "0"]):
            with case(RO):
                assert main(["store", *action, "--root", str(view)]) == 0
    assert snapshot(store.root) == before


def test_writes_to_a_read_only_store_fail_in_one_line_and_change_nothing(
    store: Store, capsys
) -> None:
    before = snapshot(store.root)
    with read_only(store.root) as view:
        with case(RO):
            with pytest.raises(OSError) as raised:
                Store(view).save(programme(0.5, SR), SR, measure_options=FAST)
            assert raised.value.errno in (errno.EROFS, errno.EACCES)
            assert str(view) in str(raised.value.filename)
        for args in (
            ["generate", "x", "--model", "synth", "--duration", "1", "--root", str(view), "-q"],
            ["store", "cleanup", "--days", "0", "--yes", "--root", str(view)],
        ):
            with case(RO):
                assert main(args) == 1
                err = capsys.readouterr().err
                assert err.count("\n") == 1 and err.startswith(f"audiolab: {view}")
                assert "read-only file system" in err or "permission denied" in err
    assert snapshot(store.root) == before


def test_outputs_into_a_read_only_folder_fail_before_the_work(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import importlib

    measuring = importlib.import_module("audiolab.measure")
    clip = tmp_path / "clip.wav"
    sf.write(clip, 0.1 * programme(1.0, SR).T, SR)
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked) as view:
        with case(RO):  # the CSV's folder is tried before anything is measured
            monkeypatch.setattr(measuring, "measure_many", _never)
            assert main(["measure", str(clip), "--csv", str(view / "m.csv")]) == 1
            err = capsys.readouterr().err
            assert err.startswith(f"audiolab: {view / 'm.csv'}: ") and err.count("\n") == 1
            monkeypatch.undo()
        with case(RO):
            done = audiolab("demo", "--root", str(view / "store"), "--duration", "1", "-q")
            assert done.returncode == 1 and str(view / "store") in one_line(done)
        with case(RO):
            done = audiolab("normalize", str(clip), "-o", str(view / "out"), "-q")
            assert done.returncode == 1 and str(view / "out") in one_line(done)
        assert list(view.iterdir()) == []


def _never(*args, **kwargs):
    raise AssertionError("measured before the output was tried")


def _killed_writer(root: str, ready: str) -> None:
    store = Store(root)
    for i in range(20):
        store.begin(prompt=f"row {i}")
    Path(ready).touch()
    time.sleep(60)


@pytest.mark.parametrize("shm", [True, False], ids=["with-shm", "without-shm"])
def test_a_catalog_with_unmerged_changes_on_a_read_only_folder_is_read_or_refused(
    tmp_path: Path, shm: bool
) -> None:
    """A writer killed leaves its rows in catalog.sqlite-wal: a read shows them, or says why not.

    Never an empty catalog: opening the main file alone (immutable) would hide those rows.
    """
    root, ready = tmp_path / "outputs", tmp_path / "ready"
    worker = multiprocessing.get_context("forkserver").Process(
        target=_killed_writer, args=(str(root), str(ready))
    )
    worker.start()
    while not ready.exists():
        assert worker.is_alive()
        time.sleep(0.01)
    worker.kill()  # its changes stay in catalog.sqlite-wal
    worker.join()
    assert (root / "catalog.sqlite-wal").stat().st_size > 0
    if not shm:
        (root / "catalog.sqlite-shm").unlink()
    with read_only(root) as view, case(RO):
        try:
            rows = Store(view).records()
        except StoreError as err:
            assert "holds changes not yet merged" in str(err)
        else:
            assert len(rows) == 20
    assert len(Store(root).records()) == 20  # writable again: every row is there


# ------------------------------------------------------------------ full disk
needs_mount = pytest.mark.skipif(CANNOT_MOUNT is not None, reason=str(CANNOT_MOUNT))


@needs_mount
def test_saves_on_a_full_disk_lose_no_take_and_leave_nothing_behind() -> None:
    with tmpfs("700k") as disk:
        store = Store(disk / "outputs")
        kept: dict[str, bytes] = {}
        with case(FULL):
            for i in range(40):  # 64 kB a take: the disk fills after about ten
                try:
                    record = store.save(
                        programme(1.0, SR, seed=i), SR, prompt=f"{i}", measure_options=FAST
                    )
                except Exception:  # the writer's or the catalog's error for the full disk
                    break
                assert record.absolute_path is not None
                kept[record.job_id] = record.absolute_path.read_bytes()
            else:
                pytest.fail("the disk never filled")
            assert kept
            for job_id, data in kept.items():
                record = store.get(job_id)
                assert record is not None and record.status == "complete"
                assert record.absolute_path is not None
                assert record.absolute_path.read_bytes() == data
        with case(FULL):
            filler = disk / "filler"
            with pytest.raises(OSError):  # fill what is left
                with open(filler, "wb") as handle:
                    while True:
                        handle.write(bytes(4096))
                        handle.flush()
            with pytest.raises(OSError) as raised:
                for i in range(200):
                    store.begin(prompt="p" * 2000 + str(i))
            assert raised.value.errno == errno.ENOSPC
            assert raised.value.filename == str(store.catalog_path)
        with case(FULL):
            filler.unlink()
            store.verify(repair=True, grace_seconds=0)
            assert store.verify(grace_seconds=0).ok
            assert not [p for p in disk.rglob("*") if p.name.startswith(".tmp-")]
            for job_id, data in kept.items():
                record = store.get(job_id)
                assert record is not None and record.absolute_path is not None
                assert record.status == "complete" and record.absolute_path.read_bytes() == data
        store.close()


@needs_mount
def test_normalize_onto_a_full_disk_keeps_every_original(tmp_path: Path) -> None:
    originals = tmp_path / "in"
    originals.mkdir()
    for i in range(6):
        clip = 0.1 * np.asarray(programme(2.0, SR, seed=i))
        sf.write(originals / f"{i}.wav", clip.T, SR, subtype="PCM_24")
    before = snapshot(originals)
    with tmpfs("300k") as disk, case(FULL):
        done = audiolab("normalize", str(originals), "-o", str(disk / "out"), "-q")
        assert done.returncode == 1 and "Traceback" not in done.stderr
        problems = [line for line in done.stderr.splitlines() if line.startswith("audiolab: ")]
        assert problems and all("no space left on device" in line for line in problems)
        for path in (disk / "out").rglob("*.wav"):  # what was written is whole
            audio, _ = sf.read(path)
            assert len(audio) == 2 * SR
        shutil.rmtree(disk / "out", ignore_errors=True)
    assert snapshot(originals) == before
