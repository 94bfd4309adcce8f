"""Store with real exports and measurements: lifecycle, dates, crashes, concurrency."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import AudioError, loudness
from audiolab.export import export_wav
from audiolab.measure import measure
from audiolab.store import Store, store
from audiolab.testing import programme

SR = 16000
FAST = {"bpm": False, "key": False}  # measurement without the music analysis, for the load tests


@pytest.fixture
def clip() -> np.ndarray:
    return programme(2.0, SR)


def test_save_exports_measures_and_completes_the_row(tmp_path: Path, clip: np.ndarray) -> None:
    s = Store(tmp_path)
    record = s.save(clip, SR, prompt="boom bap", model="tiny", params={"top_k": 250}, seed=3)
    assert record.status == "complete" and record.error is None
    assert record.absolute_path is not None and record.absolute_path.is_file()
    assert record.path == record.absolute_path.relative_to(tmp_path).as_posix()
    assert record.file_size_bytes == record.absolute_path.stat().st_size
    assert (record.sample_rate, record.channels, record.bit_depth) == (SR, 2, "PCM_16")
    assert record.duration_seconds == pytest.approx(2.0)
    audio, sr = sf.read(record.absolute_path, always_2d=True)
    assert record.integrated_lufs == pytest.approx(loudness.integrated(audio.T, sr), abs=1e-6)
    assert abs(record.integrated_lufs + 16.0) <= 0.5
    assert record.measurement is not None and record.measurement["bpm"] == record.bpm
    assert record.generation_seconds is not None and record.export_seconds is not None
    assert record.completed_at is not None and record.completed_at >= record.created_at


def test_store_function_is_save_in_one_call(tmp_path: Path, clip: np.ndarray) -> None:
    record = store(clip, SR, root=tmp_path, prompt="x", target_lufs=-23.0, bit_depth="FLOAT")
    assert record.bit_depth == "FLOAT" and abs(record.integrated_lufs + 23.0) <= 0.5
    assert Store(tmp_path).get(record.job_id) == record


def test_the_seed_flow_begin_export_measure_complete(tmp_path: Path, clip: np.ndarray) -> None:
    s = Store(tmp_path)
    job = s.begin(prompt="hip hop beat at 140 BPM", model="tiny", seed=1)
    result = export_wav(clip, job.path, SR)
    measurement = measure(job.path)
    record = s.complete(job, result, measurement=measurement, generation_seconds=1.5)
    assert record.status == "complete" and record.generation_seconds == 1.5
    assert record.measurement == measurement.to_dict()
    other = s.begin()
    wrong_place = export_wav(clip, tmp_path / "elsewhere.wav", SR)
    with pytest.raises(AudioError, match=r"export to job\.path"):
        s.complete(other, wrong_place)


def test_a_failed_export_marks_the_row_failed_and_leaves_no_file(tmp_path: Path) -> None:
    s = Store(tmp_path)
    job = s.begin(prompt="nan")
    with pytest.raises(AudioError, match="NaN"):
        s.complete(job, np.full(SR, np.nan), SR)
    record = s.get(job.job_id)
    assert record is not None and record.status == "failed" and "NaN" in (record.error or "")
    assert not job.path.exists()
    with pytest.raises(AudioError, match="sample_rate is needed"):
        s.complete(s.begin(), np.zeros(SR))


def test_a_failed_measurement_removes_the_file(
    tmp_path: Path, clip: np.ndarray, monkeypatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("analysis crashed")

    monkeypatch.setattr(importlib.import_module("audiolab.measure"), "measure", broken)
    s = Store(tmp_path)
    with pytest.raises(RuntimeError, match="analysis crashed"):
        s.save(clip, SR, prompt="x")
    (record,) = s.records()
    assert record.status == "failed" and record.error == "RuntimeError: analysis crashed"
    assert s.files() == []


def test_a_generation_across_midnight_lands_in_the_folder_of_its_start(
    tmp_path: Path, clip
) -> None:
    moments = iter(
        [
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc),  # begin
            datetime(2027, 1, 1, 0, 0, 7, tzinfo=timezone.utc),  # completed
        ]
    )
    s = Store(tmp_path, clock=lambda: next(moments))
    record = s.save(clip, SR, prompt="new year")
    assert record.path == f"2026/12/31/{record.job_id}.wav"
    assert record.created_at.date().isoformat() == "2026-12-31"
    assert record.completed_at is not None and record.completed_at.year == 2027
    assert s.files(date="2026-12-31") == [record.absolute_path]


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "America/Adak", "Asia/Kolkata"])
def test_the_tree_is_utc_whatever_the_time_zone(tmp_path: Path, tz: str) -> None:
    code = textwrap.dedent(
        f"""
        import time, datetime
        from audiolab.store import Store
        store = Store({str(tmp_path)!r})
        before = datetime.datetime.now(datetime.timezone.utc)
        path = store.begin(prompt="tz").path
        after = datetime.datetime.now(datetime.timezone.utc)
        local = datetime.datetime.now()
        utc_days = {{before.strftime("%Y/%m/%d"), after.strftime("%Y/%m/%d")}}
        assert path.parent.relative_to(store.root).as_posix() in utc_days, (path, utc_days)
        print(time.tzname[0], local.utcoffset())
        """
    )
    env = {**os.environ, "TZ": tz}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------ crash safety
CRASH_SCRIPT = """
import os, sys, time
import numpy as np
from audiolab.store import Store
from audiolab.testing import programme

root, point, marker = sys.argv[1], sys.argv[2], sys.argv[3]

def pause(*args, **kwargs):
    open(marker, "w").close()  # tell the test where we are, then wait to be killed
    time.sleep(120)

if point == "writing":  # the temporary file exists, not yet renamed
    os.replace = pause  # the writer renames its temporary file into place with it
elif point == "measuring":  # the file is in place, the row still pending
    import importlib
    importlib.import_module("audiolab.measure").measure = pause
elif point == "filling":  # measured, about to complete the row
    Store._fill = pause
store = Store(root)
store.save(programme(3.0, 16000), 16000, prompt="killed")
"""


@pytest.mark.parametrize("point", ["writing", "measuring", "filling"])
def test_sigkill_in_the_middle_of_complete_leaves_a_repairable_store(
    tmp_path: Path, point: str
) -> None:
    marker = tmp_path / "marker"
    root = tmp_path / "outputs"
    process = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(root), point, str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, "the script ended before the kill point"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    s = Store(root)
    (record,) = s.records()  # the catalog is readable
    assert record.status == "pending"  # never "complete" with a missing file
    assert record.absolute_path is not None
    if record.absolute_path.exists():  # whole, if anything at all
        audio, sr = sf.read(record.absolute_path)
        assert (len(audio), sr) == (3 * 16000, 16000)
    report = s.verify(grace_seconds=0)
    assert report.interrupted == [record.job_id]
    assert bool(report.temporary_files) == (point == "writing")

    repaired = s.verify(repair=True, grace_seconds=0)
    assert repaired.repaired and s.verify(grace_seconds=0).ok
    after = s.get(record.job_id)
    assert after is not None
    if record.absolute_path.exists():
        assert after.status == "complete" and after.integrated_lufs is not None
    else:
        assert after.status == "failed" and "interrupted" in (after.error or "")
    assert not any(p.name.startswith(".tmp") for p in root.rglob("*"))


def test_verify_adopts_hand_placed_files_and_fails_rows_without_file(tmp_path: Path, clip) -> None:
    s = Store(tmp_path)
    kept = s.save(clip, SR, prompt="kept")
    lost = s.save(clip, SR, prompt="lost")
    assert lost.absolute_path is not None
    lost.absolute_path.unlink()
    placed = tmp_path / "2026" / "02" / "03" / "by_hand.wav"
    placed.parent.mkdir(parents=True)
    sf.write(placed, clip.T, SR)
    junk = tmp_path / "2026" / "02" / "03" / "notes.wav"
    junk.write_text("not audio")
    report = s.verify(repair=True)
    assert report.rows_without_file == [lost.job_id]
    assert report.files_without_row == [placed, junk]
    assert s.get(lost.job_id).status == "failed"  # type: ignore[union-attr]
    adopted = s.get("by_hand")
    assert adopted is not None and adopted.status == "complete" and adopted.sample_rate == SR
    assert s.get("notes").status == "failed"  # type: ignore[union-attr]
    assert s.get(kept.job_id) == kept
    assert s.verify().ok


def test_move_copy_delete_keep_catalog_and_files_together(tmp_path: Path, clip) -> None:
    s = Store(tmp_path)
    record = s.save(clip, SR, prompt="p", seed=5)
    moved = s.move(record.path, "2020/05/05/renamed.wav")  # type: ignore[arg-type]
    assert s.get(record.job_id).absolute_path == moved  # type: ignore[union-attr]
    copy = s.copy(moved, "2020/05/06/bad id!.wav")
    twin = [r for r in s.records() if r.job_id != record.job_id]
    assert len(twin) == 1 and twin[0].absolute_path == copy and twin[0].seed == 5
    assert twin[0].job_id.startswith("gen_")  # "bad id!" is not an id
    assert s.delete(copy) and s.get(twin[0].job_id) is None and not copy.exists()
    assert s.verify().ok


# (four processes saving at once: tests/reliability/test_concurrency.py)


def test_cleanup_after_saves_keeps_catalog_consistent(tmp_path: Path, clip) -> None:
    s = Store(tmp_path)
    old = s.save(clip, SR, prompt="old")
    new = s.save(clip, SR, prompt="new")
    assert old.absolute_path is not None
    ancient = time.time() - 90 * 86400
    os.utime(old.absolute_path, (ancient, ancient))
    assert s.cleanup(30, dry_run=False) == [old.absolute_path]
    assert s.get(old.job_id) is None and s.get(new.job_id) is not None
    assert s.verify().ok


def test_records_since_until_with_real_times(tmp_path: Path, clip) -> None:
    s = Store(tmp_path)
    first = s.begin(prompt="a")
    now = datetime.now(timezone.utc)
    assert [r.job_id for r in s.records(since=now - timedelta(minutes=1))] == [first.job_id]
    assert s.records(until=now - timedelta(minutes=1)) == []


def test_save_with_a_rating_and_note(tmp_path: Path, clip) -> None:
    record = Store(tmp_path).save(clip, SR, prompt="keeper", rating=4, note="tight drums")
    assert (record.status, record.rating, record.note) == ("complete", 4, "tight drums")
    with pytest.raises(AudioError, match="rating"):
        Store(tmp_path).save(clip, SR, rating=9)
    assert len(Store(tmp_path).records()) == 1  # the bad rating was refused before anything began
