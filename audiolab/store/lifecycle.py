"""The life of a generation in the catalog: begin, complete or fail, annotate.

A row is ``pending`` from :meth:`Lifecycle.begin` until the file is written
and measured (``complete``) or the generation fails (``failed``, with the
error). :meth:`Lifecycle.save` does all of it in one call.

Examples
--------
>>> import tempfile
>>> from audiolab.store.lifecycle import Lifecycle
>>> from audiolab.testing import programme
>>> catalog = Lifecycle(tempfile.mkdtemp())
>>> catalog.save(programme(1.0, 16000), 16000, prompt="beat").status
'complete'
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError, StoreError
from audiolab.policy import temporary_path
from audiolab.store.catalog import Catalog
from audiolab.store.schema import (
    TABLE,
    Job,
    Record,
    as_utc,
    check_job_id,
    insert_sql,
    to_row,
    update_sql,
)
from audiolab.store.tree import relative

__all__ = ["Lifecycle"]


def _check_rating(rating: Any) -> None:
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise AudioError(f"rating must be an integer from 1 to 5, got {rating!r}")


class Lifecycle(Catalog):
    """Begin, complete, fail, save, annotate (a mixin over :class:`Catalog`)."""

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
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="lofi piano", model="facebook/musicgen-small", seed=1)
        >>> catalog.get(job.job_id).status
        'pending'
        """
        job_id = check_job_id(job_id) if job_id is not None else self.new_job_id()
        created = as_utc(self.clock())
        path = self.path_for(job_id, created, extension)
        values = {
            "job_id": job_id,
            "status": "pending",
            "created_at": created,
            "prompt": prompt,
            "model": model,
            "params": params,
            "seed": seed,
            "path": relative(self.root, path),
        }
        row = to_row(values)
        with self._write() as connection:
            if connection.execute(f"SELECT 1 FROM {TABLE} WHERE job_id = ?", (job_id,)).fetchone():
                raise AudioError(f"job id {job_id!r} is already in the catalog")
            if os.path.lexists(path):  # under the lock: no file operation of a store races it
                raise StoreError(
                    f"{path}: a file that is not in the catalog is already there, and a new take "
                    "never replaces it: move it away, or catalogue it with "
                    "`audiolab store verify --repair`"
                )
            try:
                connection.execute(insert_sql(row), tuple(row.values()))
            except sqlite3.IntegrityError:
                raise StoreError(
                    f"{path}: another row of the catalog already points to this file"
                ) from None
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
        overwrite: bool = False,
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
        overwrite : bool
            Replace the take of a job that is already ``complete``. The new
            take is written and measured beside the old one and renamed over
            it only when whole: if anything fails, the old take and its row
            stay as they were.
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
            For bad audio or options; the row of a pending job is then
            ``failed`` and no file is left at the job's path.
        StoreError
            The job is complete and ``overwrite`` is not given: its take is kept.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.testing import programme
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="techno")
        >>> record = catalog.complete(job, programme(2.0, 32000), 32000, bit_depth="PCM_24")
        >>> record.status, record.bit_depth, abs(record.integrated_lufs + 16) < 0.5
        ('complete', 'PCM_24', True)
        """
        from audiolab.export import ExportResult, export_wav
        from audiolab.measure import measure

        job = self._job(job)
        before = self.get(job.job_id)
        if before is None:
            raise AudioError(f"job {job.job_id!r} is not in the catalog {self.catalog_path}")
        replacing = before.status == "complete"
        if replacing and not overwrite:
            raise StoreError(
                f"{before.absolute_path}: job {job.job_id!r} is complete and its take is kept: "
                "pass overwrite=True to replace it"
            )
        final = before.absolute_path or job.path
        if generation_seconds is None and job.started:
            generation_seconds = time.monotonic() - job.started
        written = audio.path if isinstance(audio, ExportResult) else audio
        by_caller = isinstance(written, (str, os.PathLike))
        target = final if by_caller or not replacing else temporary_path(final)
        try:
            started = time.perf_counter()
            if by_caller:  # exported by the caller
                if Path(written).absolute() != final:
                    raise AudioError(
                        f"the file was exported to {str(written)!r}, not to the job's path "
                        f"{str(final)!r}: export to job.path"
                    )
                if not final.is_file():
                    raise AudioError(f"no file at the job's path {str(final)!r}")
                result = audio if isinstance(audio, ExportResult) else None
            else:
                if sample_rate is None:
                    raise AudioError("sample_rate is needed to export audio")
                result = export_wav(audio, target, sample_rate, **export_options)
            exported = time.perf_counter()
            if measurement is None:
                measurement = measure(target, **dict(measure_options or {}))
            measured = time.perf_counter()
            values = measurement if isinstance(measurement, Mapping) else measurement.to_dict()
            if target != final and "path" in values:  # measured beside its place
                values = {**values, "path": str(final)}
            timings = (generation_seconds, exported - started, measured - exported)
            self._fill(job, result, values, *timings, written=target)
        except BaseException as err:  # also KeyboardInterrupt: never leave a half-done job
            with contextlib.suppress(Exception):
                if target != final:
                    target.unlink(missing_ok=True)  # the old take and its row stay
                else:
                    final.unlink(missing_ok=True)  # the job's own pending file
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
        *,
        written: Path | None = None,
    ) -> None:
        """Complete the row of ``job`` from its measurement (and export result).

        ``written`` is where the file is now when that is not the job's path
        (a replacement): it is renamed into place in the same transaction.
        """

        def pick(name: str, fallback: Any = None) -> Any:
            value = measurement.get(name)
            return fallback if value is None else value

        source = job.path if written is None else written
        values = {
            "status": "complete",
            "completed_at": as_utc(self.clock()),
            "sample_rate": pick("sample_rate", getattr(result, "sample_rate", None)),
            "channels": pick("channels", getattr(result, "channels", None)),
            "duration_seconds": pick("duration_seconds", getattr(result, "duration_seconds", None)),
            "bit_depth": pick("bit_depth", getattr(result, "bit_depth", None)),
            "path": relative(self.root, job.path),
            "file_size_bytes": source.stat().st_size,
            "generation_seconds": generation_seconds,
            "export_seconds": export_seconds,
            "measure_seconds": measure_seconds,
            "integrated_lufs": pick("integrated_lufs", getattr(result, "output_lufs", None)),
            "true_peak_dbtp": pick("true_peak_dbtp", getattr(result, "true_peak_dbtp", None)),
            "bpm": measurement.get("bpm"),
            "key": measurement.get("key"),
            "measurement": measurement,
            "error": None,
        }
        row = to_row(values)
        with self._write() as connection:
            updated = connection.execute(update_sql(row), (*row.values(), job.job_id)).rowcount
            if updated != 1:
                raise AudioError(f"job {job.job_id!r} is not in the catalog {self.catalog_path}")
            if source != job.path:
                os.replace(source, job.path)  # inside the transaction: a failed rename rolls back

    def fail(self, job: Job | str, error: BaseException | str) -> None:
        """Mark a pending (or failed) job ``failed`` with the error (its type and message).

        A complete job is not failed: its take is kept (delete it to discard it).

        Examples
        --------
        >>> import tempfile
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="x")
        >>> catalog.fail(job, RuntimeError("out of memory"))
        >>> catalog.get(job.job_id).error
        'RuntimeError: out of memory'
        """
        self._set_failed(job.job_id if isinstance(job, Job) else check_job_id(job), error)

    def _set_failed(
        self, job_id: str, error: BaseException | str, *, even_complete: bool = False
    ) -> None:
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        row = to_row({"status": "failed", "completed_at": as_utc(self.clock()), "error": message})
        where = "job_id" if even_complete else "status != 'complete' AND job_id"
        with self._write() as connection:
            if connection.execute(update_sql(row, where), (*row.values(), job_id)).rowcount:
                return
            found = connection.execute(
                f"SELECT status FROM {TABLE} WHERE job_id = ?", (job_id,)
            ).fetchone()
        if found is None:
            raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
        raise StoreError(
            f"job {job_id!r} is complete and its take is kept: delete it to discard it"
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
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> catalog.save(programme(1.0, 16000), 16000, prompt="beat").file_size_bytes > 0
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
        self,
        job_id: str,
        *,
        rating: int | None = None,
        note: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Record:
        """Set the rating (1 to 5), note and metrics of a generation; None leaves them as they are.

        ``metrics`` maps a metric's name to an :class:`audiolab.evaluate.Score`
        (kept as its ``to_dict()``: value, embedding model and revision) or a
        number; they are added to the take's metrics, replacing those of the
        same name.

        Examples
        --------
        >>> import tempfile
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="take 3")
        >>> catalog.annotate(job.job_id, rating=4, note="nice groove").rating
        4
        >>> catalog.annotate(job.job_id, metrics={"clap_score": 0.31}).metrics
        {'clap_score': 0.31}
        """
        _check_rating(rating)
        if note is not None and not isinstance(note, str):
            raise AudioError(f"note must be text, got {type(note).__name__}")
        if metrics is not None and not isinstance(metrics, Mapping):
            raise AudioError(f"metrics must map names to scores, got {type(metrics).__name__}")
        added = {
            str(name): score.to_dict() if hasattr(score, "to_dict") else score
            for name, score in (metrics or {}).items()
        }
        with self._write() as connection:
            row = connection.execute(
                f"SELECT metrics FROM {TABLE} WHERE job_id = ?", (check_job_id(job_id),)
            ).fetchone()
            kept = json.loads(row["metrics"]) if row is not None and row["metrics"] else {}
            merged = to_row({"metrics": {**kept, **added}})["metrics"] if added else None
            updated = connection.execute(
                f"UPDATE {TABLE} SET rating = coalesce(?, rating), note = coalesce(?, note),"
                " metrics = coalesce(?, metrics) WHERE job_id = ?",
                (rating, note, merged, job_id),
            ).rowcount
        if updated != 1:
            raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
        record = self.get(job_id)
        assert record is not None
        return record
