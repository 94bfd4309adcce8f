"""The catalog file: made whole or not at all, checked on every open, never replaced.

* A new catalog is built under a temporary name (schema, WAL mode, the
  audiolab marker ``PRAGMA application_id``) and linked into place only if
  no catalog appeared meanwhile: no process ever sees a half-made catalog,
  and none replaces another's.
* An existing file is checked before use: empty, cut short, not SQLite, or
  SQLite but not an audiolab catalog is a :class:`~audiolab.StoreError`
  naming the file and what to do. Nothing here deletes or rewrites it.
* Before a migration the catalog is copied to ``catalog.sqlite.bak-v<N>``.
* SQLite's failures come out as the errors a user can act on: a full disk is
  ``OSError(ENOSPC)`` naming the catalog, a damaged file a ``StoreError``.
* Reads of a catalog on a read-only folder open it as immutable.

Examples
--------
>>> import tempfile, pathlib
>>> from audiolab.store.connection import open_catalog
>>> path = pathlib.Path(tempfile.mkdtemp()) / "catalog.sqlite"
>>> open_catalog(path, create=False) is None  # reads never create it
True
>>> open_catalog(path, create=True).execute("PRAGMA journal_mode").fetchone()[0]
'wal'
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from audiolab.errors import StoreError
from audiolab.policy import TEMPORARY_PREFIX
from audiolab.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TABLE

__all__ = [
    "BUSY_TIMEOUT_S",
    "Transaction",
    "backup_path",
    "errors_of",
    "migrate",
    "open_catalog",
    "retry",
    "schema_version_of",
    "translate",
]

#: How long a writer waits for another process's write lock.
BUSY_TIMEOUT_S = 60.0
_MAGIC = b"SQLite format 3\x00"
#: Free bytes under which an I/O error of the catalog is taken for a full disk.
_NEARLY_FULL_BYTES = 1 << 20


def retry(action: Callable[[], Any]) -> Any:
    """Run ``action``, retrying while another process holds a lock it cannot wait on.

    Examples
    --------
    >>> retry(lambda: 42)
    42
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + 0.02 * secrets.randbelow(10) / 10)


def _name(err: sqlite3.Error) -> str:
    return str(getattr(err, "sqlite_errorname", "") or "")


def translate(err: sqlite3.Error, path: Path) -> Exception:
    """The error a user can act on for SQLite's ``err`` on the catalog at ``path``.

    Examples
    --------
    >>> from pathlib import Path
    >>> err = sqlite3.DatabaseError("file is not a database")
    >>> print(translate(err, Path("c.sqlite")))  # doctest: +ELLIPSIS
    c.sqlite: not an audiolab catalog (file is not a database): it is damaged or another file; ...
    """
    name, text = _name(err), str(err)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return OSError(errno.ENOSPC, "No space left on device", str(path))
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = 0
        if free < _NEARLY_FULL_BYTES:
            return OSError(errno.ENOSPC, "No space left on device", str(path))
        return OSError(errno.EIO, f"Input/output error ({text})", str(path))
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly" in text:
        return _write_error(path)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        "not a database" in text or "malformed" in text
    ):
        return StoreError(
            f"{path}: not an audiolab catalog ({text}): it is damaged or another file; "
            "restore it from a backup (catalog.sqlite.bak-v*) or move it away to start anew"
        )
    if "locked" in text or name.startswith("SQLITE_BUSY"):
        return StoreError(
            f"{path}: the catalog stayed locked by another process for {BUSY_TIMEOUT_S:g} s"
        )
    return err


def _write_error(path: Path) -> OSError:
    """The OS's own reason why ``path``'s folder takes no new file (EACCES, EROFS, ...)."""
    probe = path.parent / f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}"
    try:
        with open(probe, "x"):
            pass
    except OSError as err:
        return OSError(err.errno, err.strerror, str(path))
    probe.unlink(missing_ok=True)
    return OSError(errno.EACCES, "Permission denied", str(path))


@contextlib.contextmanager
def errors_of(path: Path) -> Iterator[None]:
    """Turn SQLite's errors inside the block into :func:`translate`'s.

    Examples
    --------
    >>> from pathlib import Path
    >>> with errors_of(Path("c.sqlite")):
    ...     pass
    """
    try:
        yield
    except sqlite3.Error as err:
        translated = translate(err, path)
        if translated is err:
            raise
        raise translated from None


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), retried while locked.

    IMMEDIATE takes the write lock up front, so two writers never deadlock on
    upgrading a read lock (what makes SQLite report "database is locked"
    without waiting). SQLite's errors come out translated (:func:`translate`).
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        with errors_of(self.path):
            retry(lambda: self.connection.execute("BEGIN IMMEDIATE"))
        return self.connection

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is None:
            try:
                with errors_of(self.path):
                    retry(lambda: self.connection.execute("COMMIT"))
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.connection.execute("ROLLBACK")
                raise
            return
        with contextlib.suppress(sqlite3.Error):  # the block's error is the one to see
            self.connection.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            translated = translate(error, self.path)
            if translated is not error:
                raise translated from None


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    connection = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=uri)
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return connection


def _check_file(path: Path) -> None:
    """A StoreError unless ``path`` starts like a whole SQLite database."""
    size = path.stat().st_size
    advice = "restore it from a backup (catalog.sqlite.bak-v*) or move it away to start anew"
    if size == 0:
        raise StoreError(f"{path}: the catalog is an empty file (0 bytes), not a catalog: {advice}")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(_MAGIC):
        raise StoreError(f"{path}: not an SQLite database, so not an audiolab catalog: {advice}")
    if len(header) < 100:
        raise StoreError(f"{path}: the catalog is cut short ({size} bytes): {advice}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the page count is valid (SQLite 3.7.0 and later)
    wal = path.with_name(path.name + "-wal")
    if counted and not wal.exists() and size < pages * page_size:
        raise StoreError(
            f"{path}: the catalog is cut short ({size} of {pages * page_size} bytes): {advice}"
        )


def _check_marker(connection: sqlite3.Connection, path: Path) -> None:
    """A StoreError unless the database is an audiolab catalog (the marker, or its tables)."""
    if connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
        return
    listed = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    tables = {row[0] for row in listed}
    if not {TABLE, "schema_version"} <= tables:  # audiolab 0.1 catalogs have no marker
        raise StoreError(
            f"{path}: an SQLite database that is not an audiolab catalog: "
            "give the store a folder of its own"
        )


def _create(path: Path) -> None:
    """Build a catalog under a temporary name and link it into place unless one is there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(6)}.sqlite")
    try:
        with errors_of(path):
            connection = _connect(str(temporary))
            try:
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute("PRAGMA journal_mode = WAL")
                migrate(connection, path)  # errors name the catalog, not its draft
            finally:
                connection.close()
        try:
            os.link(temporary, path)  # fails if a catalog appeared meanwhile: keep that one
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.rename(temporary, path)
    finally:
        if os.path.lexists(temporary):  # (unlink of a missing file on a read-only disk: EROFS)
            temporary.unlink()


def open_catalog(path: Path, *, create: bool) -> sqlite3.Connection | None:
    """A checked connection to the catalog at ``path`` (None when absent and not ``create``).

    Parameters
    ----------
    path : Path
        ``root/catalog.sqlite``.
    create : bool
        Make the catalog when there is none (for a write); reads pass False
        and never create anything.

    Returns
    -------
    sqlite3.Connection or None
        In WAL mode, rows by name, autocommit (use :class:`Transaction`).
        On a read-only folder (reads only) the catalog is opened immutable.

    Raises
    ------
    StoreError
        The file is not a whole audiolab catalog.
    OSError
        The folder takes no new file (``EACCES``, ``EROFS``, ``ENOSPC``), for a write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "catalog.sqlite"
    >>> _ = path.write_bytes(b"")
    >>> open_catalog(path, create=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.StoreError: ...: the catalog is an empty file (0 bytes), not a catalog: ...
    """
    if not path.exists():
        if not create:
            return None
        _create(path)
    _check_file(path)
    try:
        connection = _connect(str(path))
        _check_marker(connection, path)  # before anything is written to someone else's file
        retry(lambda: connection.execute("PRAGMA journal_mode = WAL"))
        # NORMAL is safe in WAL mode: a crash loses no committed transaction
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as err:
        translated = translate(err, path)
        readonly = isinstance(translated, OSError) and translated.errno in (
            errno.EACCES,
            errno.EROFS,
        )
        if create or not readonly:
            raise translated from None
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(
                f"{path}: cannot read the catalog: its folder is read-only and "
                f"{wal.name} holds changes not yet merged; open the store once where it is "
                "writable"
            ) from None
        connection = _connect(f"{path.as_uri()}?immutable=1", uri=True)
        with errors_of(path):
            _check_marker(connection, path)
    with errors_of(path):
        version = schema_version_of(connection)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the catalog has schema version {version}, newer than "
            f"this audiolab ({SCHEMA_VERSION}): upgrade audiolab"
        )
    return connection


def backup_path(path: Path, version: int) -> Path:
    """``catalog.sqlite.bak-v<version>``, beside the catalog.

    Examples
    --------
    >>> backup_path(Path("/data/catalog.sqlite"), 1).name
    'catalog.sqlite.bak-v1'
    """
    return path.with_name(f"{path.name}.bak-v{version}")


def schema_version_of(connection: sqlite3.Connection) -> int:
    """The catalog's schema version (0 for a new file).

    Examples
    --------
    >>> schema_version_of(sqlite3.connect(":memory:"))
    0
    """
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    return int(connection.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)


def migrate(connection: sqlite3.Connection, path: Path) -> int:
    """Bring the catalog to :data:`SCHEMA_VERSION`, backing it up first; returns the old version.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "catalog.sqlite"
    >>> migrate(open_catalog(path, create=True), path) == SCHEMA_VERSION  # made current
    True
    """
    with errors_of(path):
        current = schema_version_of(connection)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: the catalog has schema version {current}, newer than "
                f"this audiolab ({SCHEMA_VERSION}): upgrade audiolab"
            )
        if current == SCHEMA_VERSION:
            return current
        backup = backup_path(path, current)
        if current > 0 and not backup.exists():
            connection.execute("VACUUM INTO ?", (str(backup),))
    with Transaction(connection, path):
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = schema_version_of(connection)  # again, under the lock
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return current
