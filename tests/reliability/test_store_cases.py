"""Issue 14, "Data loss in the store": each case that destroyed a catalog or a take, now refused.

The tests call the seed's names (``AudioFileManager``) and the lifecycle where
those are what a user's script calls, so that they run on the code before the
fix too (``python benchmarks/reliability.py --against main`` shows them fail there).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import string
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiolab import AudioError, AudioFileManager, Store, StoreError
from audiolab.testing import programme
from tests.reliability._cases import case

SR = 16000
FAST = {"bpm": False, "key": False}
STORE = "store: data loss"
PATHS = "store: paths and ids"


def digest(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture
def kept(tmp_path: Path):
    """A store with one complete take: (store, record, the take's bytes)."""
    store = Store(tmp_path / "outputs")
    record = store.save(programme(1.0, SR), SR, prompt="keeper", measure_options=FAST)
    assert record.absolute_path is not None
    return store, record, digest(record.absolute_path)


def assert_intact(store: Store, record, data: bytes) -> None:
    again = Store(store.root).get(record.job_id)
    assert again == record and again is not None and again.absolute_path is not None
    assert digest(again.absolute_path) == data


# ------------------------------------------------------------------ the catalog as a file
@pytest.mark.parametrize("name", ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"])
@pytest.mark.parametrize("operation", ["delete_file", "move_file", "copy_file"])
def test_the_catalog_is_not_a_file_of_the_file_api(kept, name: str, operation: str) -> None:
    with case(STORE):
        store, record, data = kept
        manager = AudioFileManager(store.root)
        manager.store.records()  # a connection is open: the -wal and -shm files exist
        target = store.root / name
        assert target.exists()
        arguments = [name] if operation == "delete_file" else [name, "2026/01/01/x.wav"]
        with pytest.raises(StoreError, match="the catalog is not a file"):
            getattr(manager, operation)(*arguments)
        assert target.exists() and not (store.root / "2026/01/01/x.wav").exists()
        assert_intact(store, record, data)


@pytest.mark.parametrize("operation", ["delete_file", "move_file", "file_exists"])
def test_a_hard_link_to_the_catalog_is_refused_by_inode(kept, operation: str) -> None:
    with case(STORE):
        store, record, data = kept
        link = store.root / "2026" / "01" / "01" / "innocent.wav"
        link.parent.mkdir(parents=True)
        os.link(store.catalog_path, link)
        manager = AudioFileManager(store.root)
        arguments = [str(link)] if operation != "move_file" else [str(link), "elsewhere.wav"]
        with pytest.raises(StoreError, match="the catalog is not a file"):
            getattr(manager, operation)(*arguments)
        assert link.exists() and os.path.samefile(link, store.catalog_path)
        assert_intact(store, record, data)


def _not_sqlite(path: Path, data: bytes) -> None:
    path.write_text("prompt,seed\nlofi,1\n")


def _other_database(path: Path, data: bytes) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p, data: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p, data: p.write_bytes(data[: 4096 + 100]), id="truncated"),
        pytest.param(lambda p, data: p.write_bytes(data[:50]), id="header-cut"),
        pytest.param(_not_sqlite, id="not-sqlite"),
        pytest.param(_other_database, id="another-database"),
    ],
)
@pytest.mark.parametrize("action", ["records", "save", "verify"])
def test_a_damaged_catalog_is_a_store_error_and_is_never_replaced(
    tmp_path: Path, damage, action: str
) -> None:
    with case(STORE):
        root = tmp_path / "outputs"
        first = Store(root)
        for i in range(40):  # a catalog of several pages
            first.begin(prompt=f"take {i} " + "x" * 200)
        first.close()
        catalog = root / "catalog.sqlite"
        for leftover in (root / "catalog.sqlite-wal", root / "catalog.sqlite-shm"):
            leftover.unlink(missing_ok=True)
        data = catalog.read_bytes()
        catalog.unlink()
        damage(catalog, data)
        before = catalog.read_bytes()
        store = Store(root)
        with pytest.raises(StoreError, match=r"catalog\.sqlite"):
            if action == "records":
                store.records()
            elif action == "save":
                store.save(programme(0.5, SR), SR, measure_options=FAST)
            else:
                store.verify(repair=True, grace_seconds=0)
        assert catalog.read_bytes() == before  # never replaced, never "repaired"
        assert not list(root.rglob("*.wav"))


def test_the_catalog_is_backed_up_before_a_migration(tmp_path: Path) -> None:
    from audiolab.store.schema import MIGRATIONS

    with case(STORE):
        root = tmp_path / "old"
        root.mkdir()
        with sqlite3.connect(root / "catalog.sqlite") as connection:  # as audiolab 0.1 left it
            connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            for statement in MIGRATIONS[1]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (1)")
            connection.execute(
                "INSERT INTO generations (job_id, status, created_at) VALUES ('old', 'pending', ?)",
                (datetime.now(timezone.utc).isoformat(),),
            )
        Store(root).annotate("old", rating=5)  # a write: migrates
        backup = root / "catalog.sqlite.bak-v1"
        assert backup.is_file()
        with sqlite3.connect(backup) as connection:
            assert connection.execute("SELECT job_id FROM generations").fetchall() == [("old",)]
            assert connection.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)


# ------------------------------------------------------------------ complete takes
@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(np.full((2, SR), np.nan), id="nan-audio"),
        pytest.param(np.zeros((2, 0)), id="empty-audio"),
        pytest.param(programme(1.0, SR, seed=9), id="other-audio"),
    ],
)
def test_completing_a_finished_job_again_keeps_its_take(kept, audio) -> None:
    with case(STORE):
        store, record, data = kept
        with pytest.raises(StoreError, match="complete and its take is kept"):
            store.complete(record.job_id, audio, SR)
        assert_intact(store, record, data)
        with pytest.raises(StoreError, match="complete"):
            store.fail(record.job_id, RuntimeError("a retry loop gave up"))
        assert_intact(store, record, data)


def test_overwrite_replaces_a_take_only_when_the_new_one_is_whole(kept) -> None:
    with case(STORE):
        store, record, data = kept
        with pytest.raises(AudioError, match="NaN"):
            store.complete(record.job_id, np.full((2, SR), np.nan), SR, overwrite=True)
        assert_intact(store, record, data)
        other = programme(2.0, SR, seed=3)
        replaced = store.complete(
            record.job_id, other, SR, overwrite=True, measure_options=FAST, bit_depth="PCM_24"
        )
        assert replaced.status == "complete" and replaced.duration_seconds == pytest.approx(2.0)
        assert replaced.absolute_path == record.absolute_path
        assert sf.info(replaced.absolute_path).subtype == "PCM_24"
        assert replaced.measurement["path"] == str(record.absolute_path)
        assert [p.name for p in replaced.absolute_path.parent.iterdir()] == [
            replaced.absolute_path.name
        ]  # no temporary left beside it


@pytest.mark.parametrize("fails", [False, True], ids=["export-ok", "export-fails"])
def test_save_never_replaces_an_uncatalogued_file_at_its_path(tmp_path: Path, fails: bool) -> None:
    with case(STORE):
        store = Store(tmp_path / "outputs")
        mine = store.path_for("mine")
        mine.parent.mkdir(parents=True)
        sf.write(mine, np.zeros((SR, 1)) + 0.1, SR)
        data = digest(mine)
        audio = np.full((2, SR), np.nan) if fails else programme(1.0, SR)
        with pytest.raises(StoreError, match="not in the catalog is already there"):
            store.save(audio, SR, job_id="mine", measure_options=FAST)
        assert digest(mine) == data and store.get("mine") is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job_id=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_begin_never_claims_a_file_that_is_there_whatever_the_id(job_id: str) -> None:
    with case(PATHS), tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "outputs")
        there = store.path_for(job_id)
        there.parent.mkdir(parents=True)
        there.write_bytes(b"someone's take")
        with pytest.raises(StoreError):
            store.begin(job_id=job_id)
        assert there.read_bytes() == b"someone's take" and store.get(job_id) is None


# ------------------------------------------------------------------ roots
@pytest.mark.parametrize("root", ["/", "~", "", "   "])
def test_the_file_system_root_the_home_folder_and_nothing_are_no_store(root: str) -> None:
    with case(STORE):
        with pytest.raises(StoreError, match=r"root|home|folder"):
            Store(root)
        with pytest.raises(StoreError):
            AudioFileManager(root)


def test_a_folder_of_other_files_is_no_store_and_cleanup_deletes_nothing(tmp_path: Path) -> None:
    with case(STORE):
        home = tmp_path / "home"  # what a home folder looks like
        paper = home / "2024" / "05" / "01" / "paper.pdf"
        paper.parent.mkdir(parents=True)
        paper.write_bytes(b"%PDF-1.7")
        (home / ".bashrc").write_text("export X=1")
        old = time.time() - 90 * 86400
        os.utime(paper, (old, old))
        with pytest.raises(StoreError, match="not an audiolab store"):
            AudioFileManager(home).cleanup_old_files(days_old=30, dry_run=False)
        assert paper.exists() and not (home / "catalog.sqlite").exists()


def test_cleanup_deletes_only_the_stores_own_files(tmp_path: Path) -> None:
    with case(STORE):
        store = Store(tmp_path / "outputs")
        take = store.save(programme(0.5, SR), SR, measure_options=FAST)
        day = store.root / "2020" / "01" / "01"
        day.mkdir(parents=True)
        mine = day / "gen_0000beef.wav"  # an orphan named as audiolab names takes
        sf.write(mine, np.zeros((SR, 1)), SR)
        theirs = [day / "notes.pdf", day / "my song.wav", day / "mix.WAV.bak", day / ".tmp-x.wav"]
        for path in theirs:
            path.write_bytes(b"not the store's")
        outside = tmp_path / "precious.wav"
        outside.write_bytes(b"outside")
        (day / "link.wav").symlink_to(outside)
        old = time.time() - 90 * 86400
        assert take.absolute_path is not None
        for path in [take.absolute_path, mine, *theirs]:
            os.utime(path, (old, old))
        deleted = AudioFileManager(store.root).cleanup_old_files(days_old=30, dry_run=False)
        assert sorted(deleted) == sorted([str(take.absolute_path), str(mine)])
        assert all(p.exists() for p in theirs) and outside.exists()
        assert store.get(take.job_id) is None


# ------------------------------------------------------------------ leftovers
def test_verify_reports_fresh_pending_rows_and_temporaries_and_grace_0_repairs_them(
    tmp_path: Path,
) -> None:
    with case(STORE):
        store = Store(tmp_path / "outputs")
        job = store.begin(prompt="the process was killed a moment ago")
        temporary = job.path.parent / ".tmp-0123456789ab.wav"
        temporary.parent.mkdir(parents=True)
        temporary.write_bytes(bytes(1000))
        report = store.verify()
        assert not report.ok  # never "ok" with a pending row and a temporary file
        assert report.in_progress == [job.job_id]
        assert report.recent_temporary_files == [temporary]
        repaired = store.verify(repair=True, grace_seconds=0)
        assert repaired.repaired and repaired.interrupted == [job.job_id]
        assert not temporary.exists() and store.verify(grace_seconds=0).ok
        assert store.get(job.job_id).status == "failed"  # type: ignore[union-attr]


@pytest.mark.parametrize("grace", [-1, float("nan"), float("inf"), "10", True])
def test_a_grace_that_is_not_a_number_of_seconds_is_an_audio_error(tmp_path, grace) -> None:
    with case(STORE), pytest.raises(AudioError, match="grace_seconds"):
        Store(tmp_path / "outputs").verify(grace_seconds=grace)


# ------------------------------------------------------------------ odd paths
PIECES = [*string.ascii_letters[:8], *" ./\\\x00-_é…🎵'\"*?", "..", "//", "catalog.sqlite", "2026"]
ODD = st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=ODD, operation=st.sampled_from(["delete", "move", "copy", "has_file", "size"]))
def test_the_file_api_stays_inside_the_root_whatever_the_path(path: str, operation: str) -> None:
    with case(PATHS), tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        outside = base / "outside.wav"
        outside.write_bytes(b"precious")
        store = Store(base / "outputs")
        take = store.save(np.zeros(800) + 0.1, 8000, normalize=False, measure_options=FAST)
        assert take.absolute_path is not None
        before = {p: p.read_bytes() for p in base.rglob("*") if p.is_file()}
        calls = {
            "delete": lambda: store.delete(path),
            "move": lambda: store.move(take.path, path),
            "copy": lambda: store.copy(take.path, path),
            "has_file": lambda: store.has_file(path),
            "size": lambda: store.file_size_bytes(path),
        }
        try:
            calls[operation]()
        except (AudioError, StoreError, OSError):  # refused, or the OS's own error
            pass
        assert outside.read_bytes() == b"precious"
        changed = {p for p in before if not p.exists() or p.read_bytes() != before[p]}
        assert changed <= {take.absolute_path} | {
            p for p in before if p.name.startswith("catalog.sqlite")
        }
        assert store.catalog_path.exists() and store.verify().ok
        shutil.rmtree(base / "outputs")
