"""Store: paths, ids, the catalog and its queries, file operations and their safety."""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from audiolab import AudioError, StoreError
from audiolab.policy import TEMPORARY_PREFIX
from audiolab.store import SCHEMA_VERSION, Job, Record, Store, check_job_id


class Clock:
    """A settable UTC clock."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "outputs")


# ------------------------------------------------------------------ ids and paths
@pytest.mark.parametrize(
    "job_id",
    ["", "../x", "a/b", "a\\b", "/abs", "x" * 65, "a.b", "a\x00b", "ünïcode", " space", 7],
)
def test_bad_job_ids_are_refused_before_any_file_operation(store: Store, job_id) -> None:
    with pytest.raises(AudioError, match="job id must match"):
        store.path_for(job_id)
    with pytest.raises(AudioError, match="job id must match"):
        store.begin(prompt="x", job_id=job_id)
    assert not store.root.exists() or not any(store.root.rglob("*.wav"))


def test_good_job_ids_map_into_the_date_tree(store: Store) -> None:
    for job_id in ["a", "Z9", "gen_0a1b2c3d", "x" * 64, "take-1_b"]:
        path = store.path_for(job_id, date(2026, 3, 4))
        assert path == store.root / "2026" / "03" / "04" / f"{job_id}.wav"
        assert check_job_id(job_id) == job_id


@pytest.mark.parametrize("extension", ["wav", ".", "../x", ".w/v", ".toolongext", 3])
def test_bad_extensions_are_refused(store: Store, extension) -> None:
    with pytest.raises(AudioError, match="extension"):
        store.path_for("a", extension=extension)


def test_dates_are_utc_whatever_the_offset(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    assert store.path_for("a", datetime(2026, 1, 1, 5, 0, tzinfo=tokyo)).parent.name == "31"
    assert store.path_for("a", "2026-01-01T05:00:00+09:00").parts[-4:-1] == ("2025", "12", "31")
    assert store.path_for("a", datetime(2026, 1, 1, 23, 0)).parts[-4:-1] == ("2026", "01", "01")


def test_bad_dates_are_audio_errors(store: Store) -> None:
    with pytest.raises(AudioError, match="ISO date"):
        store.path_for("a", "yesterday")
    with pytest.raises(AudioError, match="date or datetime"):
        store.path_for("a", 20260101)  # type: ignore[arg-type]


def test_new_job_ids_are_gen_and_8_hex_and_unique(store: Store) -> None:
    ids = {store.new_job_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 12 and i.startswith("gen_") and int(i[4:], 16) >= 0 for i in ids)


def test_new_job_id_skips_ids_already_in_the_catalog(store: Store, monkeypatch) -> None:
    store.begin(job_id="gen_00000001")
    tokens = iter(["00000001", "00000001", "00000002"])
    catalog = importlib.import_module("audiolab.store.catalog")
    monkeypatch.setattr(catalog.secrets, "token_hex", lambda n: next(tokens))
    assert store.new_job_id() == "gen_00000002"


# ------------------------------------------------------------------ catalog
def test_catalog_is_sqlite_in_wal_mode_with_a_schema_version(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(store.catalog_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {row[1] for row in connection.execute("PRAGMA table_info(generations)")}
    expected = {
        "job_id", "status", "created_at", "completed_at", "prompt", "model", "params", "seed",
        "sample_rate", "channels", "duration_seconds", "bit_depth", "path", "file_size_bytes",
        "generation_seconds", "integrated_lufs", "true_peak_dbtp", "bpm", "key", "measurement",
    }  # fmt: skip
    assert expected <= columns


def test_a_newer_catalog_is_refused(store: Store) -> None:
    store.schema_version()
    with sqlite3.connect(store.catalog_path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this audiolab"):
        Store(store.root).records()


def test_begin_writes_a_pending_row_with_its_planned_path(store: Store) -> None:
    store.clock = Clock(datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone.utc))
    job = store.begin(prompt="dub techno", model="m", params={"guidance_scale": 3.0}, seed=42)
    record = store.get(job.job_id)
    assert isinstance(job, Job) and isinstance(record, Record)
    assert record.status == "pending" and record.prompt == "dub techno" and record.seed == 42
    assert record.params == {"guidance_scale": 3.0}
    assert record.created_at == datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert record.path == f"2026/05/06/{job.job_id}.wav" and record.absolute_path == job.path
    assert not job.path.exists()


def test_begin_refuses_a_duplicate_id(store: Store) -> None:
    store.begin(job_id="same")
    with pytest.raises(AudioError, match="already in the catalog"):
        store.begin(job_id="same")


def test_fail_records_the_error(store: Store) -> None:
    job = store.begin(prompt="x")
    store.fail(job, ValueError("bad prompt"))
    store.fail(store.begin().job_id, "plain text")
    record = store.get(job.job_id)
    assert record is not None and record.status == "failed"
    assert record.error == "ValueError: bad prompt" and record.completed_at is not None
    assert [r.error for r in store.records(status="failed")] == [
        "plain text",
        "ValueError: bad prompt",
    ]


def test_complete_of_an_unknown_job_is_an_audio_error(store: Store) -> None:
    with pytest.raises(AudioError, match="not in the catalog"):
        store.complete("gen_deadbeef", [0.0] * 100, 8000)


def test_records_filter_by_time_prompt_status_and_limit(store: Store) -> None:
    clock = Clock(datetime(2026, 1, 1, 12, tzinfo=timezone.utc))
    store.clock = clock
    ids = []
    for day, prompt in enumerate(["Lo-fi piano", "techno", "lofi beats", "ambient"]):
        clock.moment = datetime(2026, 1, 1 + day, 12, tzinfo=timezone.utc)
        ids.append(store.begin(prompt=prompt).job_id)
    store.fail(ids[1], "x")
    assert [r.job_id for r in store.records()] == ids[::-1]
    assert [r.prompt for r in store.records(since="2026-01-02", until=date(2026, 1, 4))] == [
        "lofi beats",
        "techno",
    ]
    assert [r.prompt for r in store.records(prompt_contains="LO")] == ["lofi beats", "Lo-fi piano"]
    assert [r.prompt for r in store.records(status="failed")] == ["techno"]
    assert len(store.records(limit=2)) == 2 and len(store) == 4
    assert [r.job_id for r in store] == ids[::-1]
    with pytest.raises(AudioError, match="status must be one of"):
        store.records(status="done")
    with pytest.raises(AudioError, match="limit"):
        store.records(limit=-1)


def test_records_to_dict_is_json_and_dataframe_has_the_columns(store: Store) -> None:
    store.begin(prompt="x", params={"a": float("nan"), "b": [1, 2]})
    (record,) = store.records()
    data = json.loads(json.dumps(record.to_dict(), allow_nan=False))
    assert data["params"] == {"a": None, "b": [1, 2]} and data["status"] == "pending"
    frame = store.to_dataframe(status="pending")
    assert list(frame["prompt"]) == ["x"] and "integrated_lufs" in frame.columns


def test_store_survives_pickling_into_another_process(store: Store) -> None:
    import pickle

    store.begin(prompt="x")
    clone = pickle.loads(pickle.dumps(store))
    assert [r.prompt for r in clone.records()] == ["x"]


# ------------------------------------------------------------------ files
def write(path: Path, data: bytes = b"RIFF....", *, age_days: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age_days:
        old = time.time() - age_days * 86400
        os.utime(path, (old, old))
    return path


def test_file_helpers_work_inside_root_only(store: Store, tmp_path: Path) -> None:
    path = write(store.root / "2026" / "01" / "01" / "a.wav", bytes(3 * 2**20))
    assert store.file_size_bytes("2026/01/01/a.wav") == 3 * 2**20
    assert store.file_size_bytes(path) == 3 * 2**20
    assert store.has_file(path) and not store.has_file("2026/01/01/b.wav")
    for outside in [tmp_path / "elsewhere.wav", "../elsewhere.wav", "2026/../../x.wav", "a\x00b"]:
        with pytest.raises(AudioError, match="not inside the store's root"):
            store.has_file(outside)


def test_files_and_stats_cover_hand_placed_files(store: Store) -> None:
    write(store.root / "2026" / "01" / "01" / "a.wav", b"1234")
    write(store.root / "2026" / "01" / "02" / "b.wav", b"12")
    write(store.root / "2026" / "01" / "02" / f"{TEMPORARY_PREFIX}x.wav", b"1")
    write(store.root / "report" / "summary.md", b"not in the tree")
    store.begin(prompt="pending one")
    assert [p.name for p in store.files()] == ["b.wav", "a.wav"]
    assert [p.name for p in store.files(date="2026-01-01")] == ["a.wav"]
    assert len(store.files(limit=1)) == 1
    stats = store.stats()
    assert stats["files"] == 2 and stats["bytes"] == 6
    assert stats["per_day"] == {
        "2026-01-01": {"files": 1, "bytes": 4},
        "2026-01-02": {"files": 1, "bytes": 2},
    }
    assert stats["per_status"]["pending"] == 1 and stats["rows"] == 1


def test_cleanup_defaults_to_a_dry_run_and_never_leaves_root(store: Store, tmp_path: Path) -> None:
    old = write(store.root / "2020" / "01" / "01" / "old.wav", age_days=40)
    new = write(store.root / "2020" / "01" / "02" / "new.wav", age_days=1)
    outside = write(tmp_path / "precious" / "keep.wav", age_days=400)
    (store.root / "2020" / "01" / "03").mkdir(parents=True)
    os.symlink(outside, store.root / "2020" / "01" / "03" / "link.wav")
    os.symlink(outside.parent, store.root / "2020" / "01" / "04")
    (store.root / "2020" / "01" / "05").symlink_to(tmp_path / "precious", target_is_directory=True)

    assert store.cleanup(older_than_days=30) == [old]  # dry run: nothing deleted
    assert old.exists()
    assert store.cleanup(30, dry_run=False) == [old]
    assert not old.exists() and new.exists()
    assert outside.exists() and (store.root / "2020" / "01" / "03" / "link.wav").is_symlink()
    removed = store.remove_empty_folders()
    assert (
        store.root / "2020" / "01" / "01" in removed
        and (store.root / "2020" / "01" / "02").is_dir()
    )
    assert (store.root / "2020" / "01" / "04").is_symlink() and outside.exists()
    with pytest.raises(AudioError, match="older_than_days"):
        store.cleanup(older_than_days=-1)


def test_file_operations_refuse_paths_through_links_out_of_root(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    store.root.mkdir(parents=True)
    (store.root / "2026").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(AudioError, match="through a link"):
        store.delete("2026/x.wav")


def test_move_and_copy_refuse_missing_sources_and_existing_destinations(store: Store) -> None:
    write(store.root / "2026" / "01" / "01" / "a.wav")
    write(store.root / "2026" / "01" / "01" / "b.wav")
    with pytest.raises(AudioError, match="no file to move"):
        store.move("2026/01/01/none.wav", "2026/01/01/c.wav")
    with pytest.raises(AudioError, match="already exists"):
        store.move("2026/01/01/a.wav", "2026/01/01/b.wav")
    with pytest.raises(AudioError, match="no file to copy"):
        store.copy("2026/01/01/none.wav", "2026/01/01/c.wav")
    with pytest.raises(AudioError, match="already exists"):
        store.copy("2026/01/01/a.wav", "2026/01/01/b.wav")
    assert store.copy("2026/01/01/a.wav", "2026/01/02/c.wav").read_bytes() == b"RIFF...."
    assert not store.delete("2026/01/01/none.wav")


def test_verify_reports_orphans_both_ways(store: Store) -> None:
    write(store.root / "2026" / "01" / "01" / "stray.wav")
    store.clock = Clock(datetime.now(timezone.utc) - timedelta(hours=1))
    job = store.begin(prompt="never finished")
    with sqlite3.connect(store.catalog_path) as connection:
        connection.execute(
            "INSERT INTO generations (job_id, status, created_at, path)"
            " VALUES ('gone', 'complete', ?, ?)",
            (datetime.now(timezone.utc).isoformat(), "2026/01/01/gone.wav"),
        )
    temporary = write(store.root / "2026" / "01" / "01" / f"{TEMPORARY_PREFIX}abc.wav", age_days=1)
    report = store.verify()
    assert not report.ok and not report.repaired
    assert report.files_without_row == [store.root / "2026" / "01" / "01" / "stray.wav"]
    assert report.rows_without_file == ["gone"]
    assert report.interrupted == [job.job_id]
    assert report.temporary_files == [temporary]
    assert store.verify(grace_seconds=10 * 86400).interrupted == []  # still within grace


# ------------------------------------------------------------------ migrations and ratings
def test_a_version_1_catalog_is_migrated_forward_without_losing_rows(tmp_path: Path) -> None:
    from audiolab.store.schema import MIGRATIONS

    root = tmp_path / "old"
    root.mkdir()
    with sqlite3.connect(root / "catalog.sqlite") as connection:  # as audiolab 0.1 left it
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statement in MIGRATIONS[1]:
            connection.execute(statement)
        connection.execute("INSERT INTO schema_version VALUES (1)")
        connection.execute(
            "INSERT INTO generations (job_id, status, created_at, prompt, path)"
            " VALUES ('old_take', 'pending', ?, 'kept', '2026/01/01/x.wav')",
            ("2026-01-01T00:00:00+00:00",),
        )
    store = Store(root)
    assert store.schema_version() == SCHEMA_VERSION >= 2
    record = store.annotate("old_take", rating=5, note="best so far")
    assert (record.prompt, record.rating, record.note) == ("kept", 5, "best so far")
    assert store.annotate("old_take", note="changed").rating == 5  # None keeps the rating


@pytest.mark.parametrize("rating", [0, 6, 2.5, True, "5"])
def test_ratings_are_1_to_5(store: Store, rating) -> None:
    job = store.begin()
    with pytest.raises(AudioError, match="rating must be an integer from 1 to 5"):
        store.annotate(job.job_id, rating=rating)


def test_annotating_an_unknown_job_is_an_audio_error(store: Store) -> None:
    with pytest.raises(AudioError, match="not in the catalog"):
        store.annotate("gen_00000000", rating=3)
    with pytest.raises(AudioError, match="note must be text"):
        store.annotate(store.begin().job_id, note=5)  # type: ignore[arg-type]


def test_the_table_has_exactly_the_columns_declared_on_record(store: Store) -> None:
    from dataclasses import fields

    from audiolab.store.schema import COLUMNS, MIGRATIONS

    store.schema_version()
    with sqlite3.connect(store.catalog_path) as connection:
        table = [(row[1], row[2]) for row in connection.execute("PRAGMA table_info(generations)")]
    declared = [f.name for f in fields(Record) if "column" in f.metadata]
    assert [name for name, _ in table] == declared == [c.name for c in COLUMNS]
    assert all(kind == c.sql.split()[0] for (_, kind), c in zip(table, COLUMNS, strict=True))
    later = [c for c in COLUMNS if c.since > 1]  # each added by its version's migration
    assert all(f"ADD COLUMN {c.definition}" in " ".join(MIGRATIONS[c.since]) for c in later)
