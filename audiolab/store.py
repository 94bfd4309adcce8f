"""A date-organized output tree with an embedded SQLite catalog of every generation.

Files live at ``root/YYYY/MM/DD/<job_id>.wav`` (UTC dates); the catalog is
``root/catalog.sqlite`` (SQLite in WAL mode, so a notebook reading its history
is never blocked by writers). Each generation gets one row from the moment it
starts (``pending``) to its end (``complete`` with the file, its size, timings
and measurement, or ``failed`` with the error).

Guarantees:

* A job id is ``[A-Za-z0-9_-]{1,64}``; anything else is refused before any
  file operation, so no id can reach outside the tree.
* A file is written to a temporary name and renamed into place
  (:func:`audiolab.export.export_wav`), and its row is completed only after
  that, in one transaction: a crash leaves a ``pending`` row, never a
  ``complete`` row without its file. :meth:`Store.verify` finds and repairs
  what a crash leaves behind.
* File operations (delete, move, copy, cleanup) stay inside ``root``, never
  follow symbolic links, and update the catalog with the files.

Examples
--------
>>> import tempfile, numpy as np
>>> from audiolab.store import Store
>>> from audiolab.testing import programme
>>> store = Store(tempfile.mkdtemp())
>>> record = store.save(programme(2.0, 32000), 32000, prompt="drums and bass", seed=7)
>>> record.status, record.path.startswith(record.created_at.strftime("%Y/%m/%d/"))
('complete', True)
>>> [r.job_id for r in store.records(prompt_contains="bass")] == [record.job_id]
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from audiolab._json import dumps, json_safe
from audiolab.errors import AudioError
from audiolab.policy import is_temporary, temporary_path

__all__ = ["Job", "Record", "Store", "VerifyReport", "store"]

CATALOG_NAME = "catalog.sqlite"
STATUSES = ("pending", "complete", "failed")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")
_DATE_DIR = re.compile(r"\d{4}/\d{2}/\d{2}")
_BUSY_TIMEOUT_S = 60.0
#: Temporary files of an export in progress start with this (see audiolab.export).

# Forward migrations: schema version -> statements. Never edit a released step;
# add the next one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE generations (
            job_id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'failed')),
            created_at TEXT NOT NULL,
            completed_at TEXT,
            prompt TEXT,
            model TEXT,
            params TEXT,
            seed INTEGER,
            sample_rate INTEGER,
            channels INTEGER,
            duration_seconds REAL,
            bit_depth TEXT,
            path TEXT,
            file_size_bytes INTEGER,
            generation_seconds REAL,
            export_seconds REAL,
            measure_seconds REAL,
            integrated_lufs REAL,
            true_peak_dbtp REAL,
            bpm REAL,
            key TEXT,
            measurement TEXT,
            error TEXT
        )
        """,
        "CREATE INDEX generations_created_at ON generations (created_at)",
        "CREATE INDEX generations_status ON generations (status)",
        "CREATE UNIQUE INDEX generations_path ON generations (path)",
    ),
    # the audition widget's verdict on a take
    2: (
        "ALTER TABLE generations ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5)",
        "ALTER TABLE generations ADD COLUMN note TEXT",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _as_utc(moment: datetime | date | str) -> datetime:
    """A point in time in UTC: naive datetimes and dates are taken as UTC."""
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
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise AudioError(f"job id must match [A-Za-z0-9_-]{{1,64}}, got {job_id!r}")
    return job_id


def _check_rating(rating: Any) -> None:
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise AudioError(f"rating must be an integer from 1 to 5, got {rating!r}")


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
    ``absolute_path`` is the same file on this machine.
    """

    job_id: str
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    prompt: str | None = None
    model: str | None = None
    params: dict[str, Any] | None = None
    seed: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    duration_seconds: float | None = None
    bit_depth: str | None = None
    path: str | None = None
    file_size_bytes: int | None = None
    generation_seconds: float | None = None
    export_seconds: float | None = None
    measure_seconds: float | None = None
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    bpm: float | None = None
    key: str | None = None
    measurement: dict[str, Any] | None = None
    error: str | None = None
    rating: int | None = None
    note: str | None = None
    absolute_path: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the row (times as ISO 8601 strings).

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> record = Record("gen_1", "pending", datetime(2026, 1, 2, tzinfo=timezone.utc))
        >>> record.to_dict()["created_at"]
        '2026-01-02T00:00:00+00:00'
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _iso(value) if isinstance(value, datetime) else json_safe(value)
        return out


_JSON_COLUMNS = ("params", "measurement")
_TIME_COLUMNS = ("created_at", "completed_at")


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


class Store:
    """Output tree and catalog of generations under one root folder.

    Parameters
    ----------
    root : str or Path
        The folder; created on first use. Files go to ``root/YYYY/MM/DD/``.
    clock : callable, optional
        Returns the current time as an aware datetime (UTC by default); tests
        use it to place a generation just before midnight.

    Examples
    --------
    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp())
    >>> store.path_for("gen_00c0ffee", date="2026-11-25").relative_to(store.root).as_posix()
    '2026/11/25/gen_00c0ffee.wav'
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = "data/outputs",
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        self.clock = clock or _utc_now
        self._local = threading.local()
        self._pid = os.getpid()
        self._ready = False

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def __getstate__(self) -> dict[str, Any]:  # connections stay in their process
        state = self.__dict__.copy()
        state.pop("_local")
        state["_ready"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # ------------------------------------------------------------ catalog
    @property
    def catalog_path(self) -> Path:
        """``root/catalog.sqlite``."""
        return self.root / CATALOG_NAME

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: never share a connection across processes
            self._local = threading.local()
            self._pid = os.getpid()
            self._ready = False
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.root.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.catalog_path, timeout=_BUSY_TIMEOUT_S, isolation_level=None
            )
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            self._retry(lambda: connection.execute("PRAGMA journal_mode = WAL"))
            connection.execute(
                "PRAGMA synchronous = NORMAL"
            )  # safe in WAL: a crash loses no commit
            self._local.connection = connection
        if not self._ready:
            self._migrate(connection)
            self._ready = True
        return connection

    @staticmethod
    def _retry(action: Callable[[], Any]) -> Any:
        """Run ``action``, retrying while another process holds a lock it cannot wait on."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                return action()
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01 + 0.02 * secrets.randbelow(10) / 10)

    def _write(self) -> _Transaction:
        return _Transaction(self)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        with _Transaction(self, connection):
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
            current = row[0] or 0
            if current > SCHEMA_VERSION:
                raise AudioError(
                    f"catalog {self.catalog_path} has schema version {current}, newer than "
                    f"this audiolab ({SCHEMA_VERSION}): upgrade audiolab"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def schema_version(self) -> int:
        """Version of the catalog's schema (after any forward migration).

        Examples
        --------
        >>> import tempfile
        >>> Store(tempfile.mkdtemp()).schema_version() == SCHEMA_VERSION
        True
        """
        row = self._connection().execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close this thread's connection to the catalog (reopened on next use).

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp()); store.close()
        """
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -------------------------------------------------------------- paths
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
        >>> store = Store(tempfile.mkdtemp())
        >>> store.path_for("take-1", "2026-01-31T23:59:59-01:00").relative_to(store.root).as_posix()
        '2026/02/01/take-1.wav'
        """
        check_job_id(job_id)
        if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
            raise AudioError(f"extension must look like '.wav', got {extension!r}")
        day = _as_utc(self.clock() if date is None else date)
        return self.root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{job_id}{extension}"

    def new_job_id(self) -> str:
        """A fresh id, ``"gen_"`` and 8 hex digits, not yet in the catalog.

        Examples
        --------
        >>> import tempfile
        >>> job_id = Store(tempfile.mkdtemp()).new_job_id()
        >>> job_id.startswith("gen_") and len(job_id) == 12
        True
        """
        connection = self._connection()
        while True:
            job_id = "gen_" + secrets.token_hex(4)
            if (
                connection.execute(
                    "SELECT 1 FROM generations WHERE job_id = ?", (job_id,)
                ).fetchone()
                is None
            ):
                return job_id

    def _inside(self, path: str | os.PathLike[str]) -> Path:
        """``path`` (relative to root, or absolute) as an absolute path inside root."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        resolved = Path(os.path.normpath(candidate))
        if "\x00" in str(path) or not resolved.is_relative_to(self.root) or resolved == self.root:
            raise AudioError(
                f"path {str(path)!r} is not inside the store's root {str(self.root)!r}"
            )
        # a symbolic link on the way could lead outside: refuse those too
        real_root = self.root.resolve()
        if not resolved.parent.resolve().is_relative_to(real_root):
            raise AudioError(f"path {str(path)!r} leads outside the store's root through a link")
        return resolved

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # ---------------------------------------------------------- lifecycle
    def begin(
        self,
        prompt: str | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        *,
        job_id: str | None = None,
        extension: str = ".wav",
    ) -> Job:
        """Record that a generation starts: a ``pending`` row, and the path its file will have.

        Parameters
        ----------
        prompt, model : str, optional
            What is being generated, and with which model.
        params : mapping, optional
            Generation settings (stored as JSON).
        seed : int, optional
            The random seed.
        job_id : str, optional
            Default: :meth:`new_job_id`.
        extension : str
            File extension.

        Returns
        -------
        Job

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> job = store.begin(prompt="lofi piano", model="facebook/musicgen-small", seed=1)
        >>> store.get(job.job_id).status
        'pending'
        """
        job_id = check_job_id(job_id) if job_id is not None else self.new_job_id()
        created = _as_utc(self.clock())
        path = self.path_for(job_id, created, extension)
        with self._write() as connection:
            try:
                connection.execute(
                    "INSERT INTO generations (job_id, status, created_at, prompt, model, params,"
                    " seed, path) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                    (
                        job_id,
                        _iso(created),
                        prompt,
                        model,
                        dumps(params),
                        seed,
                        self._relative(path),
                    ),
                )
            except sqlite3.IntegrityError:
                raise AudioError(f"job id {job_id!r} is already in the catalog") from None
        return Job(job_id, created, path, time.monotonic())

    def _job(self, job: Job | str) -> Job:
        if isinstance(job, Job):
            return job
        record = self.get(check_job_id(job))
        if record is None:
            raise AudioError(f"job {job!r} is not in the catalog {self.catalog_path}")
        assert record.absolute_path is not None
        return Job(record.job_id, record.created_at, record.absolute_path)

    def complete(
        self,
        job: Job | str,
        audio: Any,
        sample_rate: int | None = None,
        *,
        measurement: Any = None,
        generation_seconds: float | None = None,
        measure_options: Mapping[str, Any] | None = None,
        **export_options: Any,
    ) -> Record:
        """Export the audio to the job's path, measure the file, and complete its row.

        Parameters
        ----------
        job : Job or str
            From :meth:`begin`, or its id.
        audio : numpy.ndarray, torch.Tensor, ExportResult or path
            The clip, mono or (channels, samples). Or, when the caller has
            already written it to ``job.path`` (with
            :func:`audiolab.export.export_wav` or the seed's exporter), its
            :class:`~audiolab.export.ExportResult` or that path.
        sample_rate : int
            Sample rate in Hz (not needed for an ExportResult).
        measurement : Measurement or dict, optional
            The file's :func:`audiolab.measure.measure`, when already taken.
        generation_seconds : float, optional
            How long generating took. Default: the time since :meth:`begin`.
        measure_options : mapping, optional
            Keyword arguments of :func:`audiolab.measure.measure` (default: everything).
        **export_options
            Keyword arguments of :func:`audiolab.export.export_wav`
            (``target_lufs``, ``true_peak_db``, ``bit_depth``, ...).

        Returns
        -------
        Record
            The completed row.

        Raises
        ------
        AudioError
            For bad audio or options; the row is then ``failed`` and no file is
            left at the job's path.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> job = store.begin(prompt="techno")
        >>> record = store.complete(job, programme(2.0, 32000), 32000, bit_depth="PCM_24")
        >>> record.status, record.bit_depth, abs(record.integrated_lufs + 16) < 0.5
        ('complete', 'PCM_24', True)
        """
        job = self._job(job)
        from audiolab.export import ExportResult, export_wav
        from audiolab.measure import measure

        if generation_seconds is None and job.started:
            generation_seconds = time.monotonic() - job.started
        try:
            started = time.perf_counter()
            written = audio.path if isinstance(audio, ExportResult) else audio
            if isinstance(written, (str, os.PathLike)):  # exported by the caller
                if Path(written).absolute() != job.path:
                    raise AudioError(
                        f"the file was exported to {str(written)!r}, not to the job's path "
                        f"{str(job.path)!r}: export to job.path"
                    )
                if not job.path.is_file():
                    raise AudioError(f"no file at the job's path {str(job.path)!r}")
                result = audio if isinstance(audio, ExportResult) else None
            else:
                if sample_rate is None:
                    raise AudioError("sample_rate is needed to export audio")
                result = export_wav(audio, job.path, sample_rate, **export_options)
            exported = time.perf_counter()
            if measurement is None:
                measurement = measure(job.path, **dict(measure_options or {}))
            measured = time.perf_counter()
            values = measurement if isinstance(measurement, Mapping) else measurement.to_dict()
            self._fill(
                job, result, values, generation_seconds, exported - started, measured - exported
            )
        except BaseException as err:  # also KeyboardInterrupt: never leave a half-done job
            job.path.unlink(missing_ok=True)
            self.fail(job, err)
            raise
        record = self.get(job.job_id)
        assert record is not None
        return record

    def _fill(
        self,
        job: Job,
        result: Any,
        measurement: Mapping[str, Any],
        generation_seconds: float | None,
        export_seconds: float | None,
        measure_seconds: float | None,
    ) -> None:
        def pick(name: str, fallback: Any = None) -> Any:
            value = measurement.get(name)
            return fallback if value is None else value

        with self._write() as connection:
            updated = connection.execute(
                "UPDATE generations SET status = 'complete', completed_at = ?, sample_rate = ?,"
                " channels = ?, duration_seconds = ?, bit_depth = ?, path = ?, file_size_bytes = ?,"
                " generation_seconds = ?, export_seconds = ?, measure_seconds = ?,"
                " integrated_lufs = ?, true_peak_dbtp = ?, bpm = ?, key = ?, measurement = ?,"
                " error = NULL WHERE job_id = ?",
                (
                    _iso(_as_utc(self.clock())),
                    pick("sample_rate", getattr(result, "sample_rate", None)),
                    pick("channels", getattr(result, "channels", None)),
                    pick("duration_seconds", getattr(result, "duration_seconds", None)),
                    pick("bit_depth", getattr(result, "bit_depth", None)),
                    self._relative(job.path),
                    job.path.stat().st_size,
                    generation_seconds,
                    export_seconds,
                    measure_seconds,
                    pick("integrated_lufs", getattr(result, "output_lufs", None)),
                    pick("true_peak_dbtp", getattr(result, "true_peak_dbtp", None)),
                    measurement.get("bpm"),
                    measurement.get("key"),
                    dumps(measurement),
                    job.job_id,
                ),
            ).rowcount
        if updated != 1:
            raise AudioError(f"job {job.job_id!r} is not in the catalog {self.catalog_path}")

    def fail(self, job: Job | str, error: BaseException | str) -> None:
        """Mark the job ``failed`` with the error (its type and message).

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> job = store.begin(prompt="x")
        >>> store.fail(job, RuntimeError("out of memory"))
        >>> store.get(job.job_id).error
        'RuntimeError: out of memory'
        """
        job_id = job.job_id if isinstance(job, Job) else check_job_id(job)
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self._write() as connection:
            connection.execute(
                "UPDATE generations SET status = 'failed', completed_at = ?, error = ?"
                " WHERE job_id = ?",
                (_iso(_as_utc(self.clock())), message, job_id),
            )

    def save(
        self,
        audio: Any,
        sample_rate: int,
        prompt: str | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        *,
        job_id: str | None = None,
        generation_seconds: float | None = None,
        measure_options: Mapping[str, Any] | None = None,
        rating: int | None = None,
        note: str | None = None,
        **export_options: Any,
    ) -> Record:
        """Begin, export, measure and complete in one call.

        Parameters are those of :meth:`begin`, :meth:`complete` and
        :meth:`annotate` (``rating`` and ``note``).

        Returns
        -------
        Record

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> store.save(programme(1.0, 16000), 16000, prompt="beat").file_size_bytes > 0
        True
        """
        if rating is not None or note is not None:
            _check_rating(rating)
        job = self.begin(prompt, model, params, seed, job_id=job_id)
        record = self.complete(
            job,
            audio,
            sample_rate,
            generation_seconds=generation_seconds,
            measure_options=measure_options,
            **export_options,
        )
        if rating is None and note is None:
            return record
        return self.annotate(job.job_id, rating=rating, note=note)

    def annotate(
        self, job_id: str, *, rating: int | None = None, note: str | None = None
    ) -> Record:
        """Set the rating (1 to 5) and note of a generation; None leaves a value as it is.

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> job = store.begin(prompt="take 3")
        >>> store.annotate(job.job_id, rating=4, note="nice groove").rating
        4
        """
        _check_rating(rating)
        if note is not None and not isinstance(note, str):
            raise AudioError(f"note must be text, got {type(note).__name__}")
        with self._write() as connection:
            updated = connection.execute(
                "UPDATE generations SET rating = coalesce(?, rating), note = coalesce(?, note)"
                " WHERE job_id = ?",
                (rating, note, check_job_id(job_id)),
            ).rowcount
        if updated != 1:
            raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
        record = self.get(job_id)
        assert record is not None
        return record

    # ------------------------------------------------------------ queries
    def _record(self, row: sqlite3.Row) -> Record:
        values: dict[str, Any] = {}
        for name in row.keys():
            value = row[name]
            if name in _JSON_COLUMNS and value is not None:
                value = json.loads(value)
            elif name in _TIME_COLUMNS:
                value = _parse_iso(value)
            values[name] = value
        known = {f.name for f in fields(Record)}
        record = Record(**{k: v for k, v in values.items() if k in known})
        if record.path is None:
            return record
        return Record(**{**record.__dict__, "absolute_path": self.root / record.path})

    def get(self, job_id: str) -> Record | None:
        """The row of ``job_id``, or None.

        Examples
        --------
        >>> import tempfile
        >>> Store(tempfile.mkdtemp()).get("gen_00000000") is None
        True
        """
        row = (
            self._connection()
            .execute("SELECT * FROM generations WHERE job_id = ?", (check_job_id(job_id),))
            .fetchone()
        )
        return None if row is None else self._record(row)

    def records(
        self,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        prompt_contains: str | None = None,
        status: str | None = None,
        limit: int | None = None,
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

        Returns
        -------
        list of Record

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> _ = store.begin(prompt="Ambient pads")
        >>> [r.prompt for r in store.records(prompt_contains="ambient", status="pending")]
        ['Ambient pads']
        """
        clauses, args = self._filters(since, until, prompt_contains, status)
        sql = "SELECT * FROM generations"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise AudioError(f"limit must be a non-negative integer, got {limit!r}")
            sql += f" LIMIT {limit}"
        return [self._record(row) for row in self._connection().execute(sql, args)]

    @staticmethod
    def _filters(
        since: Any, until: Any, prompt_contains: str | None, status: str | None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if since is not None:
            clauses.append("created_at >= ?")
            args.append(_iso(_as_utc(since)))
        if until is not None:
            clauses.append("created_at < ?")
            args.append(_iso(_as_utc(until)))
        if prompt_contains is not None:
            clauses.append("instr(lower(prompt), lower(?)) > 0")
            args.append(prompt_contains)
        if status is not None:
            if status not in STATUSES:
                raise AudioError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
            clauses.append("status = ?")
            args.append(status)
        return clauses, args

    def to_dataframe(self, **filters: Any) -> Any:
        """The rows of :meth:`records` as a pandas DataFrame (pandas must be installed).

        Examples
        --------
        >>> import tempfile
        >>> frame = Store(tempfile.mkdtemp()).to_dataframe()
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
        row = self._connection().execute("SELECT count(*) FROM generations").fetchone()
        return int(row[0])

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records())

    # ----------------------------------------------------------- the tree
    def _tree_files(self) -> Iterator[Path]:
        """Regular files in the date tree (YYYY/MM/DD/*), never through links."""
        if not self.root.is_dir():
            return
        for directory, subdirs, files in os.walk(self.root, followlinks=False):
            here = Path(directory)
            relative = here.relative_to(self.root).as_posix()
            subdirs[:] = sorted(d for d in subdirs if not (here / d).is_symlink())
            if not _DATE_DIR.fullmatch(relative):
                continue
            for name in sorted(files):
                path = here / name
                if not path.is_symlink() and path.is_file():
                    yield path

    def list_files(
        self, date: datetime | date | str | None = None, limit: int | None = None
    ) -> list[Path]:
        """Audio files in the tree, newest day first (one day's when ``date`` is given).

        Examples
        --------
        >>> import tempfile
        >>> Store(tempfile.mkdtemp()).list_files()
        []
        """
        files = [p for p in self._tree_files() if not is_temporary(p)]
        if date is not None:
            day = _as_utc(date)
            folder = self.root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
            files = [p for p in files if p.parent == folder]
        files.sort(
            key=lambda p: (p.parent.relative_to(self.root).as_posix(), p.stat().st_mtime),
            reverse=True,
        )
        return files if limit is None else files[:limit]

    def get_file_size(self, path: str | os.PathLike[str]) -> int:
        """Size in bytes of a file in the store.

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> _ = (store.root / "a.txt").write_text("abc")
        >>> store.get_file_size("a.txt")
        3
        """
        return self._inside(path).stat().st_size

    def get_file_size_mb(self, path: str | os.PathLike[str]) -> float:
        """Size in MiB (2**20 bytes) of a file in the store.

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> _ = (store.root / "a.bin").write_bytes(bytes(2**19))
        >>> store.get_file_size_mb("a.bin")
        0.5
        """
        return self.get_file_size(path) / 2**20

    def file_exists(self, path: str | os.PathLike[str]) -> bool:
        """Whether a regular file (not a link) is at ``path`` inside the store.

        Examples
        --------
        >>> import tempfile
        >>> Store(tempfile.mkdtemp()).file_exists("2026/01/01/gen_1.wav")
        False
        """
        target = self._inside(path)
        return target.is_file() and not target.is_symlink()

    def _row_for_path(self, connection: sqlite3.Connection, path: Path) -> sqlite3.Row | None:
        return connection.execute(
            "SELECT * FROM generations WHERE path = ?", (self._relative(path),)
        ).fetchone()

    def delete_file(self, path: str | os.PathLike[str]) -> bool:
        """Delete a file in the store and its catalog row. Returns whether a file was deleted.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000)
        >>> store.delete_file(record.path), store.get(record.job_id)
        (True, None)
        """
        target = self._inside(path)
        with self._write() as connection:
            connection.execute("DELETE FROM generations WHERE path = ?", (self._relative(target),))
            if target.is_symlink() or not target.is_file():
                return False
            target.unlink()
        return True

    def move_file(
        self, source: str | os.PathLike[str], destination: str | os.PathLike[str]
    ) -> Path:
        """Move a file within the store; its catalog row follows it.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000)
        >>> moved = store.move_file(record.path, "2020/01/01/kept.wav")
        >>> store.get(record.job_id).path
        '2020/01/01/kept.wav'
        """
        src, dst = self._inside(source), self._inside(destination)
        if src.is_symlink() or not src.is_file():
            raise AudioError(f"no file to move at {str(source)!r}")
        if dst.exists():
            raise AudioError(f"{str(destination)!r} already exists; delete it first")
        dst.parent.mkdir(parents=True, exist_ok=True)
        with self._write() as connection:
            connection.execute(
                "UPDATE generations SET path = ? WHERE path = ?",
                (self._relative(dst), self._relative(src)),
            )
            os.replace(src, dst)  # inside the transaction: a failed rename rolls the row back
        return dst

    def copy_file(
        self, source: str | os.PathLike[str], destination: str | os.PathLike[str]
    ) -> Path:
        """Copy a file within the store; a catalogued file's copy gets its own row.

        The copy's job id is the destination's stem when that is a valid, unused
        id, else a new one.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> store = Store(tempfile.mkdtemp())
        >>> record = store.save(programme(1.0, 16000), 16000, prompt="p")
        >>> copy = store.copy_file(record.path, "2020/01/01/alt_take.wav")
        >>> store.get("alt_take").prompt
        'p'
        """
        src, dst = self._inside(source), self._inside(destination)
        if src.is_symlink() or not src.is_file():
            raise AudioError(f"no file to copy at {str(source)!r}")
        if dst.exists():
            raise AudioError(f"{str(destination)!r} already exists; delete it first")
        dst.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_path(dst)
        try:
            shutil.copy2(src, temporary)
            with self._write() as connection:
                row = self._row_for_path(connection, src)
                if row is not None:
                    values = dict(row)
                    stem = dst.stem
                    taken = connection.execute(
                        "SELECT 1 FROM generations WHERE job_id = ?", (stem,)
                    )
                    values["job_id"] = (
                        stem
                        if _JOB_ID.fullmatch(stem) and taken.fetchone() is None
                        else self.new_job_id()
                    )
                    values["path"] = self._relative(dst)
                    names = ", ".join(values)
                    marks = ", ".join("?" for _ in values)
                    connection.execute(
                        f"INSERT INTO generations ({names}) VALUES ({marks})",
                        tuple(values.values()),
                    )
                os.replace(temporary, dst)
        finally:
            temporary.unlink(missing_ok=True)
        return dst

    def get_storage_stats(self) -> dict[str, Any]:
        """Files and bytes in the tree, per day, and catalog rows per status.

        Returns
        -------
        dict
            ``{"root", "files", "bytes", "megabytes", "per_day": {"YYYY-MM-DD":
            {"files", "bytes"}}, "per_status": {status: rows}, "rows"}``

        Examples
        --------
        >>> import tempfile
        >>> stats = Store(tempfile.mkdtemp()).get_storage_stats()
        >>> stats["files"], stats["per_status"]
        (0, {'pending': 0, 'complete': 0, 'failed': 0})
        """
        per_day: dict[str, dict[str, int]] = {}
        total_files = total_bytes = 0
        for path in self.list_files():
            day = path.parent.relative_to(self.root).as_posix().replace("/", "-")
            size = path.stat().st_size
            entry = per_day.setdefault(day, {"files": 0, "bytes": 0})
            entry["files"] += 1
            entry["bytes"] += size
            total_files += 1
            total_bytes += size
        per_status = dict.fromkeys(STATUSES, 0)
        for row in self._connection().execute(
            "SELECT status, count(*) FROM generations GROUP BY status"
        ):
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

    def cleanup_old_files(self, days_old: float = 30, dry_run: bool = True) -> list[Path]:
        """Delete files in the tree older than ``days_old`` days, with their catalog rows.

        Age is the file's modification time (as in the seed), so files placed
        by hand are covered too. Only regular files inside the date tree are
        considered: symbolic links (and what they point to) are left alone.

        Parameters
        ----------
        days_old : float
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
        >>> Store(tempfile.mkdtemp()).cleanup_old_files(days_old=0)
        []
        """
        if isinstance(days_old, bool) or not isinstance(days_old, (int, float)) or days_old < 0:
            raise AudioError(f"days_old must be a non-negative number, got {days_old!r}")
        cutoff = (_as_utc(self.clock()) - timedelta(days=days_old)).timestamp()
        old = [p for p in self._tree_files() if p.lstat().st_mtime < cutoff]
        if not dry_run:
            for path in old:
                self.delete_file(path)
        return old

    def cleanup_empty_directories(self) -> list[Path]:
        """Remove empty folders of the date tree (never root, never through links).

        Examples
        --------
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> (store.root / "2020" / "01" / "02").mkdir(parents=True)
        >>> [p.relative_to(store.root).as_posix() for p in store.cleanup_empty_directories()]
        ['2020/01/02', '2020/01', '2020']
        """
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for directory, _, _ in os.walk(self.root, topdown=False, followlinks=False):
            here = Path(directory)
            if here == self.root or here.is_symlink():
                continue
            if not re.fullmatch(r"\d{4}(/\d{2}(/\d{2})?)?", here.relative_to(self.root).as_posix()):
                continue
            try:
                here.rmdir()  # only succeeds when empty
            except OSError:
                continue
            removed.append(here)
        return removed

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
        >>> Store(tempfile.mkdtemp()).verify().ok
        True
        """
        cutoff = time.time() - grace_seconds
        connection = self._connection()
        rows = {row["path"]: row for row in connection.execute("SELECT * FROM generations")}
        temporary: list[Path] = []
        orphans: list[Path] = []
        for path in self._tree_files():
            if is_temporary(path):
                if path.lstat().st_mtime < cutoff:
                    temporary.append(path)
            elif self._relative(path) not in rows:
                orphans.append(path)
        missing: list[str] = []
        interrupted: list[str] = []
        for relative, row in rows.items():
            exists = relative is not None and (self.root / relative).is_file()
            if row["status"] == "complete" and not exists:
                missing.append(row["job_id"])
            elif row["status"] == "pending" and _as_utc(row["created_at"]).timestamp() < cutoff:
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
                stem if _JOB_ID.fullmatch(stem) and self.get(stem) is None else self.new_job_id()
            )
            created = datetime.fromtimestamp(path.lstat().st_mtime, timezone.utc)
            with self._write() as connection:
                connection.execute(
                    "INSERT INTO generations (job_id, status, created_at, path)"
                    " VALUES (?, 'pending', ?, ?)",
                    (job_id, _iso(created), self._relative(path)),
                )
            try:
                measurement = measure(path).to_dict()
            except AudioError as err:
                self.fail(job_id, err)
            else:
                self._fill(Job(job_id, created, path), None, measurement, None, None, None)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), retried while locked.

    IMMEDIATE takes the write lock up front, so two writers never deadlock on
    upgrading a read lock (what makes SQLite report "database is locked"
    without waiting).
    """

    def __init__(self, store: Store, connection: sqlite3.Connection | None = None) -> None:
        self.store = store
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        if self.connection is None:
            self.connection = self.store._connection()
        connection = self.connection
        self.store._retry(lambda: connection.execute("BEGIN IMMEDIATE"))
        return connection

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        assert self.connection is not None
        if kind is None:
            self.store._retry(lambda: self.connection.execute("COMMIT"))  # type: ignore[union-attr]
        else:
            self.connection.execute("ROLLBACK")


def store(
    audio: Any,
    sample_rate: int,
    *,
    root: str | os.PathLike[str] = "data/outputs",
    prompt: str | None = None,
    model: str | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    job_id: str | None = None,
    **export_options: Any,
) -> Record:
    """Export, measure and catalog a clip in one call: the functional form of :meth:`Store.save`.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples).
    sample_rate : int
        Sample rate in Hz.
    root : str or Path
        The store's folder.
    prompt, model, params, seed, job_id
        What made the clip (see :meth:`Store.begin`).
    **export_options
        Keyword arguments of :func:`audiolab.export.export_wav`.

    Returns
    -------
    Record

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import programme
    >>> record = store(programme(1.0, 16000), 16000, root=tempfile.mkdtemp(), prompt="hi")
    >>> record.status, record.prompt
    ('complete', 'hi')
    """
    return Store(root).save(
        audio, sample_rate, prompt, model, params, seed, job_id=job_id, **export_options
    )
