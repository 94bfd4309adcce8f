"""The catalog: the root, this process's connections, paths, and queries.

:class:`Catalog` is the core of :class:`audiolab.store.Store`: one SQLite
connection per thread and process (WAL mode, so readers never wait for
writers), every write in a ``BEGIN IMMEDIATE`` transaction retried while
another process holds the lock, forward migrations from
:mod:`audiolab.store.schema`. The file operations
(:mod:`audiolab.store.files`), the life of a generation
(:mod:`audiolab.store.lifecycle`) and the consistency check
(:mod:`audiolab.store.verify`) are mixins on top of it; a new room of the
store is one more mixin.

Examples
--------
>>> import tempfile
>>> from audiolab.store.catalog import Catalog
>>> catalog = Catalog(tempfile.mkdtemp())
>>> catalog.get("gen_00000000") is None, len(catalog)
(True, 0)
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError
from audiolab.store.connection import (
    Transaction,
    errors_of,
    migrate,
    open_catalog,
    schema_version_of,
)
from audiolab.store.schema import (
    CATALOG_NAME,
    STATUSES,
    TABLE,
    Record,
    as_utc,
    check_job_id,
    from_row,
    iso,
)
from audiolab.store.tree import check_root, path_for

__all__ = ["Catalog"]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Catalog:
    """The catalog of generations under one root folder (the core of ``Store``).

    Parameters
    ----------
    root : str or Path
        The folder: new, empty, or holding an audiolab catalog (see
        :func:`audiolab.store.tree.check_root`); created on first write,
        never by a read. Files go to ``root/YYYY/MM/DD/``.
    clock : callable, optional
        Returns the current time as an aware datetime (UTC by default); tests
        use it to place a generation just before midnight.

    Examples
    --------
    >>> import tempfile
    >>> catalog = Catalog(tempfile.mkdtemp())
    >>> catalog.path_for("gen_00c0ffee", date="2026-11-25").relative_to(catalog.root).as_posix()
    '2026/11/25/gen_00c0ffee.wav'
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = "data/outputs",
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = check_root(root)
        self.clock = clock or _utc_now
        self._local = threading.local()
        self._pid = os.getpid()
        self._ready = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    def __getstate__(self) -> dict[str, Any]:  # connections stay in their process
        state = self.__dict__.copy()
        state.pop("_local")
        state["_ready"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ------------------------------------------------------------ connection
    @property
    def catalog_path(self) -> Path:
        """``root/catalog.sqlite``."""
        return self.root / CATALOG_NAME

    def _connection(self, *, write: bool = False) -> sqlite3.Connection:
        """This thread's connection; a write creates (and migrates) the catalog, a read never.

        Reading a store whose catalog does not exist yet reads an empty
        in-memory stand-in, swapped for the real file once it appears.
        """
        if self._pid != os.getpid():  # forked: never share a connection across processes
            self._local = threading.local()
            self._pid = os.getpid()
            self._ready = False
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is not None and local.stand_in and (write or self.catalog_path.exists()):
            connection.close()
            connection = None
        if connection is None:
            connection = open_catalog(self.catalog_path, create=write)
            local.stand_in = connection is None
            if connection is None:
                connection = sqlite3.connect(":memory:", isolation_level=None)
                connection.row_factory = sqlite3.Row
                migrate(connection, self.catalog_path)
            local.connection = connection
        if write and not self._ready:
            migrate(connection, self.catalog_path)
            self._ready = True
        return connection

    def _write(self) -> Transaction:
        """A write transaction: ``with self._write() as connection: ...``."""
        return Transaction(self._connection(write=True), self.catalog_path)

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows of a read (SQLite's errors translated, see :mod:`.connection`)."""
        with errors_of(self.catalog_path):
            return self._connection().execute(sql, args).fetchall()

    def schema_version(self) -> int:
        """Version of the catalog's schema, after creating or migrating it if needed.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store.schema import SCHEMA_VERSION
        >>> Catalog(tempfile.mkdtemp()).schema_version() == SCHEMA_VERSION
        True
        """
        with errors_of(self.catalog_path):
            return schema_version_of(self._connection(write=True))

    def close(self) -> None:
        """Close this thread's connection to the catalog (reopened on next use).

        Examples
        --------
        >>> import tempfile
        >>> catalog = Catalog(tempfile.mkdtemp()); catalog.close()
        """
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ----------------------------------------------------------------- paths
    def path_for(
        self, job_id: str, date: datetime | date | str | None = None, extension: str = ".wav"
    ) -> Path:
        """Where the file of ``job_id`` goes: ``root/YYYY/MM/DD/<job_id><extension>``.

        Parameters
        ----------
        job_id : str
            ``[A-Za-z0-9_-]{1,64}``; anything else is an :class:`AudioError`.
        date : datetime, date or ISO string, optional
            The day (UTC; naive values are taken as UTC). Default: now.
        extension : str
            Such as ``".wav"``.

        Returns
        -------
        Path

        Examples
        --------
        >>> import tempfile
        >>> catalog = Catalog(tempfile.mkdtemp())
        >>> catalog.path_for("take-1", "2026-01-31T23:59:59-01:00").relative_to(catalog.root)
        PosixPath('2026/02/01/take-1.wav')
        """
        return path_for(self.root, job_id, self.clock() if date is None else date, extension)

    def new_job_id(self) -> str:
        """A fresh id, ``"gen_"`` and 8 hex digits, not yet in the catalog.

        Examples
        --------
        >>> import tempfile
        >>> job_id = Catalog(tempfile.mkdtemp()).new_job_id()
        >>> job_id.startswith("gen_") and len(job_id) == 12
        True
        """
        while True:
            job_id = "gen_" + secrets.token_hex(4)
            if not self._query(f"SELECT 1 FROM {TABLE} WHERE job_id = ?", (job_id,)):
                return job_id

    # --------------------------------------------------------------- queries
    def _record(self, row: sqlite3.Row) -> Record:
        return from_row(row, self.root)

    def get(self, job_id: str) -> Record | None:
        """The row of ``job_id``, or None.

        Examples
        --------
        >>> import tempfile
        >>> Catalog(tempfile.mkdtemp()).get("gen_00000000") is None
        True
        """
        rows = self._query(f"SELECT * FROM {TABLE} WHERE job_id = ?", (check_job_id(job_id),))
        return self._record(rows[0]) if rows else None

    def records(
        self,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        prompt_contains: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        parent_id: str | None = None,
    ) -> list[Record]:
        """Rows of the catalog, newest first.

        Parameters
        ----------
        since, until : datetime, date or ISO string, optional
            Creation time from ``since`` (inclusive) to ``until`` (exclusive), UTC.
        prompt_contains : str, optional
            Case-insensitive substring of the prompt.
        status : {'pending', 'complete', 'failed'}, optional
        limit : int, optional
            At most this many rows.
        parent_id : str, optional
            Only the takes made from this one (regenerated or extended from it);
            :meth:`~audiolab.store.lineage.Lineage.lineage` follows the other way.

        Returns
        -------
        list of Record

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> catalog = Store(tempfile.mkdtemp())
        >>> _ = catalog.begin(prompt="Ambient pads")
        >>> [r.prompt for r in catalog.records(prompt_contains="ambient", status="pending")]
        ['Ambient pads']
        """
        clauses: list[str] = []
        args: list[Any] = []
        if since is not None:
            clauses.append("created_at >= ?")
            args.append(iso(as_utc(since)))
        if until is not None:
            clauses.append("created_at < ?")
            args.append(iso(as_utc(until)))
        if prompt_contains is not None:
            clauses.append("instr(lower(prompt), lower(?)) > 0")
            args.append(prompt_contains)
        if status is not None:
            if status not in STATUSES:
                raise AudioError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
            clauses.append("status = ?")
            args.append(status)
        if parent_id is not None:
            clauses.append("parent_id = ?")
            args.append(check_job_id(parent_id))
        sql = f"SELECT * FROM {TABLE}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise AudioError(f"limit must be a non-negative integer, got {limit!r}")
            sql += f" LIMIT {limit}"
        return [self._record(row) for row in self._query(sql, args)]

    def to_dataframe(self, **filters: Any) -> Any:
        """The rows of :meth:`records` as a pandas DataFrame (pandas must be installed).

        Examples
        --------
        >>> import tempfile
        >>> frame = Catalog(tempfile.mkdtemp()).to_dataframe()
        >>> list(frame.columns)[:3], len(frame)
        (['job_id', 'status', 'created_at'], 0)
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is in the dev extra
            raise ImportError("Store.to_dataframe needs pandas: pip install pandas") from None
        columns = [f.name for f in fields(Record)]
        rows = [r.__dict__ for r in self.records(**filters)]
        return pd.DataFrame(rows, columns=columns)

    def __len__(self) -> int:
        return int(self._query(f"SELECT count(*) FROM {TABLE}")[0][0])

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records())
