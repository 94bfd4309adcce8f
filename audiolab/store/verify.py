"""Catalog against files: what a crash or a hand in the tree left behind, and the repair.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> Store(tempfile.mkdtemp()).verify().ok
True
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from audiolab.errors import AudioError
from audiolab.policy import is_temporary
from audiolab.store.lifecycle import Lifecycle
from audiolab.store.schema import JOB_ID, TABLE, Job, as_utc, insert_sql, to_row
from audiolab.store.tree import relative, tree_files

__all__ = ["Verify", "VerifyReport"]


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`Store.verify` found, and what it repaired when asked.

    Attributes
    ----------
    files_without_row : list of Path
        Audio files in the date tree that no catalog row points to.
    rows_without_file : list of str
        Job ids of ``complete`` rows whose file is missing.
    interrupted : list of str
        Job ids of ``pending`` rows older than the grace period (a generation
        that stopped before its end), with or without a file.
    temporary_files : list of Path
        Leftover temporary files of interrupted exports.
    repaired : bool
        Whether the repairs were made.
    """

    files_without_row: list[Path]
    rows_without_file: list[str]
    interrupted: list[str]
    temporary_files: list[Path]
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """True when catalog and files agree.

        Examples
        --------
        >>> VerifyReport([], [], [], []).ok
        True
        """
        return not (
            self.files_without_row
            or self.rows_without_file
            or self.interrupted
            or self.temporary_files
        )


class Verify(Lifecycle):
    """The consistency check of :class:`audiolab.store.Store` (a mixin over the lifecycle)."""

    def verify(self, repair: bool = False, *, grace_seconds: float = 600.0) -> VerifyReport:
        """Compare catalog and files; with ``repair``, make them agree.

        Finds files in the tree without a row, ``complete`` rows without their
        file, ``pending`` rows older than ``grace_seconds`` (generations that
        were interrupted), and temporary files of interrupted exports older than
        ``grace_seconds``. Repair adopts unknown files (a ``complete`` row,
        measured), marks rows without file ``failed``, completes interrupted
        rows whose file was written (measuring it) and fails the others, and
        deletes the temporary files.

        Examples
        --------
        >>> import tempfile
        >>> Verify(tempfile.mkdtemp()).verify().ok
        True
        """
        cutoff = time.time() - grace_seconds
        connection = self._connection()
        rows = {row["path"]: row for row in connection.execute(f"SELECT * FROM {TABLE}")}
        temporary: list[Path] = []
        orphans: list[Path] = []
        for path in tree_files(self.root):
            if is_temporary(path):
                if path.lstat().st_mtime < cutoff:
                    temporary.append(path)
            elif relative(self.root, path) not in rows:
                orphans.append(path)
        missing: list[str] = []
        interrupted: list[str] = []
        for stored, row in rows.items():
            exists = stored is not None and (self.root / stored).is_file()
            if row["status"] == "complete" and not exists:
                missing.append(row["job_id"])
            elif row["status"] == "pending" and as_utc(row["created_at"]).timestamp() < cutoff:
                interrupted.append(row["job_id"])
        report = VerifyReport(
            sorted(orphans), sorted(missing), sorted(interrupted), sorted(temporary)
        )
        if repair and not report.ok:
            self._repair(report)
            return dataclasses.replace(report, repaired=True)
        return report

    def _repair(self, report: VerifyReport) -> None:
        from audiolab.measure import measure

        for path in report.temporary_files:
            path.unlink(missing_ok=True)
        for job_id in report.rows_without_file:
            self.fail(job_id, "file missing (found by verify)")
        for job_id in report.interrupted:
            job = self._job(job_id)
            if job.path.is_file():
                measurement = measure(job.path).to_dict()
                self._fill(job, None, measurement, None, None, None)
            else:
                self.fail(job, "interrupted before its file was written (found by verify)")
        for path in report.files_without_row:
            stem = path.stem
            job_id = (
                stem if JOB_ID.fullmatch(stem) and self.get(stem) is None else self.new_job_id()
            )
            created = datetime.fromtimestamp(path.lstat().st_mtime, timezone.utc)
            row = to_row(
                {
                    "job_id": job_id,
                    "status": "pending",
                    "created_at": created,
                    "path": relative(self.root, path),
                }
            )
            with self._write() as connection:
                connection.execute(insert_sql(row), tuple(row.values()))
            try:
                measurement = measure(path).to_dict()
            except AudioError as err:
                self.fail(job_id, err)
            else:
                self._fill(Job(job_id, created, path), None, measurement, None, None, None)
