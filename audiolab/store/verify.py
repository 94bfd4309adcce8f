"""Catalog against files: what a crash or a hand in the tree left behind, and the repair.

The check reads the tree first and the catalog second: a take's row is
written before its file, so every file of a take that has begun has its row
in that later read. Each repair re-checks its finding under the catalog's
write lock (the lock every file operation of a store holds), so a take that
is saved, moved or completed while the check runs is never "repaired".
Writes younger than the grace period are reported as in progress and left
alone.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> Store(tempfile.mkdtemp()).verify().ok
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError
from audiolab.policy import is_temporary
from audiolab.store.lifecycle import Lifecycle
from audiolab.store.schema import JOB_ID, TABLE, Job, as_utc, insert_sql, to_row
from audiolab.store.tree import AUDIO_EXTENSIONS, relative, tree_files

__all__ = ["Verify", "VerifyReport"]

#: How old a pending row or a temporary file must be to count as left behind.
DEFAULT_GRACE_SECONDS = 600.0


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`Store.verify` found, and what it repaired when asked.

    Attributes
    ----------
    files_without_row : list of Path
        Audio files (by extension) in the date tree that no catalog row
        points to. Other files there are not the store's and are left out.
    rows_without_file : list of str
        Job ids of ``complete`` rows whose file is missing.
    interrupted : list of str
        Job ids of ``pending`` rows older than the grace period (a generation
        that stopped before its end), with or without a file.
    temporary_files : list of Path
        Temporary files older than the grace period (of interrupted writes).
    in_progress : list of str
        Job ids of ``pending`` rows younger than the grace period: running
        now, or interrupted moments ago. Never repaired.
    recent_temporary_files : list of Path
        Temporary files younger than the grace period. Never repaired.
    repaired : bool
        Whether the repairs were made.
    """

    files_without_row: list[Path]
    rows_without_file: list[str]
    interrupted: list[str]
    temporary_files: list[Path]
    in_progress: list[str] = field(default_factory=list)
    recent_temporary_files: list[Path] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """True when catalog and files agree and nothing is pending.

        Examples
        --------
        >>> VerifyReport([], [], [], []).ok, VerifyReport([], [], [], [], ["gen_1"]).ok
        (True, False)
        """
        return not (self.repairable or self.in_progress or self.recent_temporary_files)

    @property
    def repairable(self) -> bool:
        """True when something older than the grace period is found (what repair mends).

        Examples
        --------
        >>> VerifyReport([], [], ["gen_1"], []).repairable
        True
        """
        return bool(
            self.files_without_row
            or self.rows_without_file
            or self.interrupted
            or self.temporary_files
        )

    def findings(self) -> list[tuple[str, str]]:
        """``(kind, item)`` for each finding, in the order of the attributes.

        Examples
        --------
        >>> VerifyReport([], ["gen_1"], [], []).findings()
        [('rows_without_file', 'gen_1')]
        """
        kinds = (
            "files_without_row",
            "rows_without_file",
            "interrupted",
            "temporary_files",
            "in_progress",
            "recent_temporary_files",
        )
        return [(kind, str(item)) for kind in kinds for item in getattr(self, kind)]


def _check_grace(grace_seconds: Any) -> float:
    if (
        isinstance(grace_seconds, bool)
        or not isinstance(grace_seconds, (int, float))
        or not math.isfinite(grace_seconds)
        or grace_seconds < 0
    ):
        raise AudioError(f"grace_seconds must be a non-negative number, got {grace_seconds!r}")
    return float(grace_seconds)


class Verify(Lifecycle):
    """The consistency check of :class:`audiolab.store.Store` (a mixin over the lifecycle)."""

    def verify(
        self, repair: bool = False, *, grace_seconds: float = DEFAULT_GRACE_SECONDS
    ) -> VerifyReport:
        """Compare catalog and files; with ``repair``, make them agree.

        Finds files in the tree without a row, ``complete`` rows without their
        file, ``pending`` rows and temporary files (older than
        ``grace_seconds``: interrupted; younger: in progress). Repair deletes
        the old temporary files, marks rows without file ``failed``, completes
        interrupted rows whose file was written (measuring it) and fails the
        others, and adopts unknown files (a ``complete`` row, measured; a
        ``failed`` row when the file is not audio). Nothing younger than the
        grace period is touched, and no file is deleted but temporaries.

        Parameters
        ----------
        repair : bool
            Make the repairs.
        grace_seconds : float
            How old a pending row or temporary file must be to count as left
            behind (default 600 s; 0 when no generation is running).

        Returns
        -------
        VerifyReport

        Examples
        --------
        >>> import tempfile
        >>> Verify(tempfile.mkdtemp()).verify().ok
        True
        """
        cutoff = time.time() - _check_grace(grace_seconds)
        tree = list(tree_files(self.root))  # the tree first, then the rows (see the module)
        root_temporaries = self._root_temporaries()
        rows = {row["path"]: row for row in self._query(f"SELECT * FROM {TABLE}")}
        found: dict[str, list[Any]] = {
            name: [] for name in ("old", "new", "orphans", "missing", "interrupted", "running")
        }
        for path in tree + root_temporaries:
            if is_temporary(path):
                found["old" if _mtime(path) < cutoff else "new"].append(path)
            elif relative(self.root, path) not in rows and path.suffix.lower() in AUDIO_EXTENSIONS:
                found["orphans"].append(path)
        for stored, row in rows.items():
            if row["status"] == "complete" and not (stored and (self.root / stored).is_file()):
                found["missing"].append(row["job_id"])
            elif row["status"] == "pending":
                young = as_utc(row["created_at"]).timestamp() >= cutoff
                found["running" if young else "interrupted"].append(row["job_id"])
        report = VerifyReport(
            files_without_row=sorted(found["orphans"]),
            rows_without_file=sorted(found["missing"]),
            interrupted=sorted(found["interrupted"]),
            temporary_files=sorted(found["old"]),
            in_progress=sorted(found["running"]),
            recent_temporary_files=sorted(found["new"]),
        )
        if repair and report.repairable:
            self._repair(report, cutoff)
            return dataclasses.replace(report, repaired=True)
        return report

    def _root_temporaries(self) -> list[Path]:
        """Temporary files in the root (a catalog whose creation was interrupted)."""
        try:
            names = os.listdir(self.root)
        except OSError:
            return []
        return [self.root / n for n in names if is_temporary(n) and (self.root / n).is_file()]

    def _repair(self, report: VerifyReport, cutoff: float) -> None:
        for path in report.temporary_files:  # first: on a full disk they free the space
            with contextlib.suppress(FileNotFoundError):
                if _mtime(path) < cutoff:
                    path.unlink()
        for job_id in report.rows_without_file:
            with self._write() as connection:
                row = connection.execute(
                    f"SELECT status, path FROM {TABLE} WHERE job_id = ?", (job_id,)
                ).fetchone()
                gone = row is not None and not (row["path"] and (self.root / row["path"]).is_file())
            if gone and row["status"] == "complete":
                self._set_failed(job_id, "file missing (found by verify)", even_complete=True)
        for job_id in report.interrupted:
            self._finish_interrupted(job_id, cutoff)
        for path in report.files_without_row:
            self._adopt(path)

    def _finish_interrupted(self, job_id: str, cutoff: float) -> None:
        from audiolab.measure import measure

        record = self.get(job_id)
        if record is None or record.status != "pending":
            return  # completed, failed or deleted meanwhile
        if record.created_at.timestamp() >= cutoff:  # pragma: no cover - the clock went back
            return
        job = self._job(job_id)
        if not job.path.is_file():
            self.fail(job, "interrupted before its file was written (found by verify)")
            return
        try:
            measurement = measure(job.path).to_dict()
        except AudioError as err:  # the file stays: it may be someone's
            self.fail(job, f"interrupted; its file is not readable audio ({err})")
            return
        self._fill(job, None, measurement, None, None, None)

    def _adopt(self, path: Path) -> None:
        from audiolab.measure import measure

        created = datetime.fromtimestamp(_mtime(path), timezone.utc)
        with self._write() as connection:
            if not path.is_file() or self._row_for(connection, path):
                return  # moved, deleted or catalogued meanwhile
            stem = path.stem
            taken = connection.execute(f"SELECT 1 FROM {TABLE} WHERE job_id = ?", (stem,))
            job_id = stem if JOB_ID.fullmatch(stem) and taken.fetchone() is None else None
            job_id = job_id or self.new_job_id()
            values = {"job_id": job_id, "status": "pending", "created_at": created}
            row = to_row({**values, "path": relative(self.root, path)})
            connection.execute(insert_sql(row), tuple(row.values()))
        try:
            measurement = measure(path).to_dict()
        except AudioError as err:
            self.fail(job_id, err)
        else:
            self._fill(Job(job_id, created, path), None, measurement, None, None, None)

    def _row_for(self, connection: Any, path: Path) -> bool:
        found = connection.execute(
            f"SELECT 1 FROM {TABLE} WHERE path = ?", (relative(self.root, path),)
        ).fetchone()
        return found is not None


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except FileNotFoundError:
        return math.inf  # gone: never old
