"""The catalog's columns, declared once: :class:`Record`, its SQL and its migrations.

Each column is a field of :class:`Record` made with :func:`column`, which
records its SQL declaration and the schema version that added it. The
``CREATE TABLE`` of version 1, the ``ALTER TABLE ... ADD COLUMN`` of every
later version, the ``INSERT`` and ``UPDATE`` statements and the conversion of
rows to records are all derived from those fields. Adding a column is one
line::

    parent_id: str | None = column("TEXT", since=3)  # the take this one continues

(and, when it needs one, an index in :data:`STATEMENTS`, which also holds
any other table, e.g. ``8: ("CREATE TABLE trials (...)",)``). A released
version's columns and statements are never edited: a change is a new column
or statement with the next version.

Examples
--------
>>> from audiolab.store.schema import MIGRATIONS, SCHEMA_VERSION
>>> MIGRATIONS[2][1]
'ALTER TABLE generations ADD COLUMN note TEXT'
>>> SCHEMA_VERSION >= 2
True
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from audiolab._json import dumps, json_safe
from audiolab.errors import AudioError

__all__ = [
    "APPLICATION_ID",
    "CATALOG_NAME",
    "COLUMNS",
    "JOB_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATEMENTS",
    "STATUSES",
    "TABLE",
    "TABLES",
    "Column",
    "Job",
    "Record",
    "as_utc",
    "check_job_id",
    "column",
    "from_row",
    "insert_sql",
    "iso",
    "to_row",
    "update_sql",
]

#: The catalog file in the store's root.
CATALOG_NAME = "catalog.sqlite"
#: SQLite's ``PRAGMA application_id`` of an audiolab catalog ("AuLb"): the marker
#: that tells an audiolab catalog from any other SQLite file.
APPLICATION_ID = 0x41754C62
TABLE = "generations"
STATUSES = ("pending", "complete", "failed")
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Column:
    """One column of the catalog: its name, SQL declaration, version and Python kind.

    ``kind`` is ``"json"`` (stored as JSON text), ``"time"`` (an ISO 8601
    UTC string) or ``"plain"``.

    Examples
    --------
    >>> Column("note", "TEXT", 2).definition
    'note TEXT'
    """

    name: str
    sql: str
    since: int = 1
    kind: str = "plain"

    @property
    def definition(self) -> str:
        """``name SQL`` as it goes into ``CREATE TABLE`` or ``ADD COLUMN``."""
        return f"{self.name} {self.sql}"


def column(sql: str, *, since: int = 1, kind: str = "plain", required: bool = False) -> Any:
    """A :class:`Record` field that is a catalog column (default None unless ``required``).

    Parameters
    ----------
    sql : str
        Its SQL type and constraints, e.g. ``"TEXT"`` or ``"INTEGER CHECK (x > 0)"``.
    since : int
        The schema version that adds it (1: the first catalog).
    kind : {'plain', 'json', 'time'}
        How values are stored: as they are, as JSON text, as ISO 8601 UTC text.
    required : bool
        No default: every row has it (declare these first).

    Returns
    -------
    dataclasses.Field

    Examples
    --------
    >>> column("TEXT", since=3).metadata["column"]
    ('TEXT', 3, 'plain')
    """
    if kind not in ("plain", "json", "time"):
        raise ValueError(f"column kind must be plain, json or time, got {kind!r}")
    metadata = {"column": (sql, since, kind)}
    return field(metadata=metadata) if required else field(default=None, metadata=metadata)


def iso(moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC (None stays None).

    Examples
    --------
    >>> iso(datetime(2026, 1, 2, tzinfo=timezone.utc))
    '2026-01-02T00:00:00+00:00'
    """
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def as_utc(moment: datetime | date | str) -> datetime:
    """A point in time in UTC: naive datetimes and dates are taken as UTC.

    Examples
    --------
    >>> as_utc("2026-01-31T23:00:00-02:00").isoformat()
    '2026-02-01T01:00:00+00:00'
    """
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise AudioError(f"expected an ISO date such as '2026-11-25', got {moment!r}") from None
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    if isinstance(moment, date):
        return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
    raise AudioError(f"expected a date or datetime, got {type(moment).__name__}: {moment!r}")


def check_job_id(job_id: Any) -> str:
    """Return ``job_id`` if it is ``[A-Za-z0-9_-]{1,64}``, else raise :class:`AudioError`.

    Examples
    --------
    >>> check_job_id("gen_0a1b2c3d")
    'gen_0a1b2c3d'
    >>> check_job_id("../etc/passwd")
    Traceback (most recent call last):
    ...
    audiolab.AudioError: job id must match [A-Za-z0-9_-]{1,64}, got '../etc/passwd'
    """
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise AudioError(f"job id must match [A-Za-z0-9_-]{{1,64}}, got {job_id!r}")
    return job_id


@dataclass(frozen=True)
class Job:
    """A generation that has begun: its id, start time and the file it will have.

    The folder is fixed by the start time, so a generation that starts at
    23:59:59 UTC and ends after midnight lands in the folder of its start.
    """

    job_id: str
    created_at: datetime
    path: Path
    started: float = field(default=0.0, repr=False, compare=False)  # time.monotonic()


@dataclass(frozen=True)
class Record:
    """One row of the catalog (fields named as its columns).

    ``path`` is relative to the store's root, with ``/`` separators;
    ``absolute_path`` is the same file on this machine (not a column).
    """

    job_id: str = column("TEXT PRIMARY KEY", required=True)
    status: str = column(
        "TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'failed'))", required=True
    )
    created_at: datetime = column("TEXT NOT NULL", kind="time", required=True)
    completed_at: datetime | None = column("TEXT", kind="time")
    prompt: str | None = column("TEXT")
    model: str | None = column("TEXT")
    params: dict[str, Any] | None = column("TEXT", kind="json")
    seed: int | None = column("INTEGER")
    sample_rate: int | None = column("INTEGER")
    channels: int | None = column("INTEGER")
    duration_seconds: float | None = column("REAL")
    bit_depth: str | None = column("TEXT")
    path: str | None = column("TEXT")
    file_size_bytes: int | None = column("INTEGER")
    generation_seconds: float | None = column("REAL")
    export_seconds: float | None = column("REAL")
    measure_seconds: float | None = column("REAL")
    integrated_lufs: float | None = column("REAL")
    true_peak_dbtp: float | None = column("REAL")
    bpm: float | None = column("REAL")
    key: str | None = column("TEXT")
    measurement: dict[str, Any] | None = column("TEXT", kind="json")
    error: str | None = column("TEXT")
    # version 2: the audition widget's verdict on a take
    rating: int | None = column("INTEGER CHECK (rating BETWEEN 1 AND 5)", since=2)
    note: str | None = column("TEXT", since=2)
    # version 3: lineage (audiolab.store.lineage): the take this one was made from, and how
    parent_id: str | None = column("TEXT", since=3)
    relation: str | None = column("TEXT CHECK (relation IN ('regenerate', 'extend'))", since=3)
    # version 4: objective metrics of the take (audiolab.evaluate Scores, by metric name)
    metrics: dict[str, Any] | None = column("TEXT", kind="json", since=4)
    absolute_path: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the row (times as ISO 8601 strings).

        Examples
        --------
        >>> record = Record("gen_1", "pending", datetime(2026, 1, 2, tzinfo=timezone.utc))
        >>> record.to_dict()["created_at"]
        '2026-01-02T00:00:00+00:00'
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = iso(value) if isinstance(value, datetime) else json_safe(value)
        return out


#: The catalog's columns in table order, from the fields of :class:`Record`.
COLUMNS: tuple[Column, ...] = tuple(
    Column(f.name, *f.metadata["column"]) for f in fields(Record) if "column" in f.metadata
)
_BY_NAME = {c.name: c for c in COLUMNS}
_REQUIRED = {f.name for f in fields(Record) if f.default is MISSING}

#: Indexes and other tables, by the version that adds them (after that version's columns).
STATEMENTS: dict[int, tuple[str, ...]] = {
    1: (
        f"CREATE INDEX generations_created_at ON {TABLE} (created_at)",
        f"CREATE INDEX generations_status ON {TABLE} (status)",
        f"CREATE UNIQUE INDEX generations_path ON {TABLE} (path)",
    ),
    3: (f"CREATE INDEX generations_parent_id ON {TABLE} (parent_id)",),
}


#: Tables beside ``generations``, by the version that adds them.
TABLES: dict[int, tuple[str, ...]] = {
    4: (  # the answers of listening tests (audiolab.listening), a row per trial and listener
        "CREATE TABLE trials (test_id TEXT NOT NULL, kind TEXT NOT NULL, listener TEXT NOT NULL,"
        " trial INTEGER NOT NULL, stimuli TEXT NOT NULL, answer TEXT NOT NULL, seconds REAL,"
        " answered_at TEXT, PRIMARY KEY (test_id, listener, trial))",
    ),
}


def _migrations() -> dict[int, tuple[str, ...]]:
    first = ", ".join(c.definition for c in COLUMNS if c.since == 1)
    steps: dict[int, list[str]] = {1: [f"CREATE TABLE {TABLE} ({first})"]}
    for c in COLUMNS:
        if c.since > 1:
            steps.setdefault(c.since, []).append(f"ALTER TABLE {TABLE} ADD COLUMN {c.definition}")
    for version, statements in [*STATEMENTS.items(), *TABLES.items()]:
        steps.setdefault(version, []).extend(statements)
    if sorted(steps) != list(range(1, max(steps) + 1)):  # pragma: no cover - a declaration slip
        raise RuntimeError(f"schema versions must follow each other, got {sorted(steps)}")
    return {version: tuple(statements) for version, statements in sorted(steps.items())}


#: Forward migrations: schema version -> statements (derived from the columns).
MIGRATIONS: dict[int, tuple[str, ...]] = _migrations()
SCHEMA_VERSION = max(MIGRATIONS)


def to_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values of some columns as SQLite stores them (JSON text, ISO times).

    Unknown names are an error (a typo would otherwise be lost silently).

    Examples
    --------
    >>> to_row({"params": {"top_k": 250}, "seed": 3})
    {'params': '{"top_k": 250}', 'seed': 3}
    """
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = _BY_NAME[name].kind if name in _BY_NAME else None
        if kind is None:
            raise KeyError(f"{name!r} is not a column of the catalog")
        if kind == "json":
            value = dumps(value)
        elif kind == "time" and isinstance(value, datetime):
            value = iso(value)
        out[name] = value
    return out


def from_row(row: Mapping[str, Any] | sqlite3.Row, root: Path | None = None) -> Record:
    """The :class:`Record` of a catalog row (columns it lacks are None).

    Examples
    --------
    >>> record = from_row({"job_id": "a", "status": "pending",
    ...                    "created_at": "2026-01-02T00:00:00+00:00", "params": '{"x": 1}'})
    >>> record.params, record.created_at.year
    ({'x': 1}, 2026)
    """
    values: dict[str, Any] = {}
    for name in row.keys():  # sqlite3.Row iterates over values, not names
        spec = _BY_NAME.get(name)
        if spec is None:
            continue  # a column of a newer audiolab (refused earlier) or of another tool
        value = row[name]
        if value is not None and spec.kind == "json":
            value = json.loads(value)
        elif value is not None and spec.kind == "time":
            value = datetime.fromisoformat(value)
        values[name] = value
    missing = _REQUIRED - set(values)
    if missing:
        raise KeyError(f"a catalog row needs {sorted(missing)}")
    if root is not None and values.get("path") is not None:
        values["absolute_path"] = root / values["path"]
    return Record(**values)


def insert_sql(names: Iterable[str]) -> str:
    """``INSERT INTO generations (names) VALUES (?, ...)`` for these columns.

    Examples
    --------
    >>> insert_sql(["job_id", "status"])
    'INSERT INTO generations (job_id, status) VALUES (?, ?)'
    """
    names = list(names)
    return f"INSERT INTO {TABLE} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def update_sql(names: Iterable[str], where: str = "job_id") -> str:
    """``UPDATE generations SET name = ?, ... WHERE where = ?`` for these columns.

    Examples
    --------
    >>> update_sql(["status", "error"])
    'UPDATE generations SET status = ?, error = ? WHERE job_id = ?'
    """
    assignments = ", ".join(f"{name} = ?" for name in names)
    return f"UPDATE {TABLE} SET {assignments} WHERE {where} = ?"
