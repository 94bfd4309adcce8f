"""The catalog file: opening it, migrating it, and write transactions that wait their turn.

Examples
--------
>>> import tempfile, pathlib
>>> from audiolab.store.connection import connect, migrate
>>> path = pathlib.Path(tempfile.mkdtemp()) / "catalog.sqlite"
>>> connection = connect(path)
>>> migrate(connection, path)
0
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError
from audiolab.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["BUSY_TIMEOUT_S", "Transaction", "connect", "migrate", "retry"]

#: How long a writer waits for another process's write lock.
BUSY_TIMEOUT_S = 60.0


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


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), retried while locked.

    IMMEDIATE takes the write lock up front, so two writers never deadlock on
    upgrading a read lock (what makes SQLite report "database is locked"
    without waiting).
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        retry(lambda: self.connection.execute("BEGIN IMMEDIATE"))
        return self.connection

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is None:
            retry(lambda: self.connection.execute("COMMIT"))
        else:
            self.connection.execute("ROLLBACK")


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the catalog at ``path`` in WAL mode, rows by name, autocommit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> connection = connect(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
    >>> connection.execute("PRAGMA journal_mode").fetchone()[0]
    'wal'
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    retry(lambda: connection.execute("PRAGMA journal_mode = WAL"))
    # NORMAL is safe in WAL mode: a crash loses no committed transaction
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def migrate(connection: sqlite3.Connection, path: Path) -> int:
    """Bring the catalog to :data:`SCHEMA_VERSION`; returns the version it had.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.sqlite"
    >>> migrate(connect(path), path)
    0
    """
    with Transaction(connection):
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        current = int(row[0] or 0)
        if current > SCHEMA_VERSION:
            raise AudioError(
                f"catalog {path} has schema version {current}, newer than "
                f"this audiolab ({SCHEMA_VERSION}): upgrade audiolab"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    return current
