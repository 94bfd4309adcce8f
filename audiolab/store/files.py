"""The store's file operations: files and their catalog rows move together.

Every operation takes a path inside the root (relative to it, or absolute),
never follows a symbolic link, and changes the catalog in the same
transaction as the file, so a failed rename rolls its row back.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> from audiolab.testing import programme
>>> store = Store(tempfile.mkdtemp())
>>> record = store.save(programme(1.0, 16000), 16000)
>>> store.files() == [record.absolute_path]
True
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError, StoreError
from audiolab.policy import is_temporary, temporary_path
from audiolab.store.catalog import Catalog
from audiolab.store.schema import JOB_ID, STATUSES, TABLE, as_utc, insert_sql
from audiolab.store.tree import (
    audiolab_named,
    day_folder,
    inside,
    refuse_catalog_file,
    relative,
    remove_empty_folders,
    tree_files,
)

__all__ = ["Files"]


class Files(Catalog):
    """File operations of :class:`audiolab.store.Store` (a mixin over :class:`Catalog`)."""

    def _row_for_path(self, connection: sqlite3.Connection, path: Path) -> sqlite3.Row | None:
        return connection.execute(
            f"SELECT * FROM {TABLE} WHERE path = ?", (relative(self.root, path),)
        ).fetchone()

    def _file(self, path: str | os.PathLike[str]) -> Path:
        """``path`` inside the root, and not the catalog or one of its files."""
        return refuse_catalog_file(self.root, inside(self.root, path))

    def _free(self, connection: sqlite3.Connection, path: Path, given: Any) -> None:
        """AudioError unless nothing is at ``path`` and no row points there."""
        if os.path.lexists(path):
            raise AudioError(f"{str(given)!r} already exists; delete it first")
        if self._row_for_path(connection, path) is not None:
            raise StoreError(f"{path}: a row of the catalog points to this path; delete it first")

    def file_size_bytes(self, path: str | os.PathLike[str]) -> int:
        """Size in bytes of a file in the store.

        Examples
        --------
        >>> import tempfile
        >>> store = Files(tempfile.mkdtemp())
        >>> _ = (store.root / "a.txt").write_text("abc")
        >>> store.file_size_bytes("a.txt")
        3
        """
        return self._file(path).stat().st_size

    def has_file(self, path: str | os.PathLike[str]) -> bool:
        """Whether a regular file (not a link) is at ``path`` inside the store.

        Examples
        --------
        >>> import tempfile
        >>> Files(tempfile.mkdtemp()).has_file("2026/01/01/gen_1.wav")
        False
        """
        target = self._file(path)
        return target.is_file() and not target.is_symlink()

    def delete(self, path: str | os.PathLike[str]) -> bool:
        """Delete a file in the store and its catalog row. Returns whether a file was deleted.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000)
        >>> store.delete(record.path), store.get(record.job_id)
        (True, None)
        """
        target = self._file(path)
        with self._write() as connection:
            connection.execute(
                f"DELETE FROM {TABLE} WHERE path = ?", (relative(self.root, target),)
            )
            if target.is_symlink() or not target.is_file():
                return False
            target.unlink()
        return True

    def move(self, source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
        """Move a file within the store; its catalog row follows it.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000)
        >>> moved = store.move(record.path, "2020/01/01/kept.wav")
        >>> store.get(record.job_id).path
        '2020/01/01/kept.wav'
        """
        src, dst = self._file(source), self._file(destination)
        if src.is_symlink() or not src.is_file():
            raise AudioError(f"no file to move at {str(source)!r}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        with self._write() as connection:
            self._free(connection, dst, destination)
            connection.execute(
                f"UPDATE {TABLE} SET path = ? WHERE path = ?",
                (relative(self.root, dst), relative(self.root, src)),
            )
            os.replace(src, dst)  # inside the transaction: a failed rename rolls the row back
        return dst

    def copy(self, source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
        """Copy a file within the store; a catalogued file's copy gets its own row.

        The copy's job id is the destination's stem when that is a valid, unused
        id, else a new one.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000, prompt="p")
        >>> copy = store.copy(record.path, "2020/01/01/alt_take.wav")
        >>> store.get("alt_take").prompt
        'p'
        """
        src, dst = self._file(source), self._file(destination)
        if src.is_symlink() or not src.is_file():
            raise AudioError(f"no file to copy at {str(source)!r}")
        if os.path.lexists(dst):
            raise AudioError(f"{str(destination)!r} already exists; delete it first")
        dst.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_path(dst)
        try:
            shutil.copy2(src, temporary)
            with self._write() as connection:
                self._free(connection, dst, destination)
                row = self._row_for_path(connection, src)
                if row is not None:
                    values = dict(row)
                    stem = dst.stem
                    taken = connection.execute(f"SELECT 1 FROM {TABLE} WHERE job_id = ?", (stem,))
                    values["job_id"] = (
                        stem
                        if JOB_ID.fullmatch(stem) and taken.fetchone() is None
                        else self.new_job_id()
                    )
                    values["path"] = relative(self.root, dst)
                    connection.execute(insert_sql(values), tuple(values.values()))
                os.replace(temporary, dst)
        finally:
            if os.path.lexists(temporary):  # (a missing file on a read-only disk: EROFS)
                temporary.unlink()
        return dst

    def files(
        self, date: datetime | date | str | None = None, limit: int | None = None
    ) -> list[Path]:
        """Audio files in the tree, newest day first (one day's when ``date`` is given).

        Examples
        --------
        >>> import tempfile
        >>> Files(tempfile.mkdtemp()).files()
        []
        """
        found = [p for p in tree_files(self.root) if not is_temporary(p)]
        if date is not None:
            folder = day_folder(self.root, date)
            found = [p for p in found if p.parent == folder]
        found.sort(key=lambda p: (relative(self.root, p.parent), p.stat().st_mtime), reverse=True)
        return found if limit is None else found[:limit]

    def stats(self) -> dict[str, Any]:
        """Files and bytes in the tree, per day, and catalog rows per status.

        Returns
        -------
        dict
            ``{"root", "files", "bytes", "megabytes", "per_day": {"YYYY-MM-DD":
            {"files", "bytes"}}, "per_status": {status: rows}, "rows"}``

        Examples
        --------
        >>> import tempfile
        >>> stats = Files(tempfile.mkdtemp()).stats()
        >>> stats["files"], stats["per_status"]
        (0, {'pending': 0, 'complete': 0, 'failed': 0})
        """
        per_day: dict[str, dict[str, int]] = {}
        total_files = total_bytes = 0
        for path in self.files():
            day = relative(self.root, path.parent).replace("/", "-")
            size = path.stat().st_size
            entry = per_day.setdefault(day, {"files": 0, "bytes": 0})
            entry["files"] += 1
            entry["bytes"] += size
            total_files += 1
            total_bytes += size
        per_status = dict.fromkeys(STATUSES, 0)
        for row in self._query(f"SELECT status, count(*) FROM {TABLE} GROUP BY status"):
            per_status[row[0]] = int(row[1])
        return {
            "root": str(self.root),
            "files": total_files,
            "bytes": total_bytes,
            "megabytes": total_bytes / 2**20,
            "per_day": dict(sorted(per_day.items())),
            "per_status": per_status,
            "rows": sum(per_status.values()),
        }

    def cleanup(self, older_than_days: float = 30, *, dry_run: bool = True) -> list[Path]:
        """Delete takes older than ``older_than_days`` days, with their catalog rows.

        Age is the file's modification time (as in the seed), so files placed
        by hand are covered too. Only the store's own files are deleted: those
        a catalog row points to, and audio files of the date tree named as
        audiolab names takes (``<job id>.wav``, ...). Anything else, temporary
        files of writes in progress, and symbolic links (and what they point
        to) are left alone.

        Parameters
        ----------
        older_than_days : float
            Minimum age in days.
        dry_run : bool
            Default True: only report what would be deleted.

        Returns
        -------
        list of Path
            What was (or, in a dry run, would be) deleted.

        Examples
        --------
        >>> import tempfile
        >>> Files(tempfile.mkdtemp()).cleanup(older_than_days=0)
        []
        """
        days = older_than_days
        if (
            isinstance(days, bool)
            or not isinstance(days, (int, float))
            or not math.isfinite(days)
            or days < 0
        ):
            raise AudioError(f"older_than_days must be a non-negative number, got {days!r}")
        cutoff = (as_utc(self.clock()) - timedelta(days=days)).timestamp()
        known = {row[0] for row in self._query(f"SELECT path FROM {TABLE} WHERE path IS NOT NULL")}
        old = [
            p
            for p in tree_files(self.root)
            if p.lstat().st_mtime < cutoff
            and not is_temporary(p)
            and (relative(self.root, p) in known or audiolab_named(p))
        ]
        if not dry_run:
            for path in old:
                self.delete(path)
        return old

    def remove_empty_folders(self) -> list[Path]:
        """Remove empty folders of the date tree (never root, never through links).

        Examples
        --------
        >>> import tempfile
        >>> store = Files(tempfile.mkdtemp())
        >>> (store.root / "2020" / "01" / "02").mkdir(parents=True)
        >>> [p.relative_to(store.root).as_posix() for p in store.remove_empty_folders()]
        ['2020/01/02', '2020/01', '2020']
        """
        return remove_empty_folders(self.root)
