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

import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError
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
            try:
                connection.execute(insert_sql(row), tuple(row.values()))
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
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="techno")
        >>> record = catalog.complete(job, programme(2.0, 32000), 32000, bit_depth="PCM_24")
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
            timings = (generation_seconds, exported - started, measured - exported)
            self._fill(job, result, values, *timings)
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
        """Complete the row of ``job`` from its measurement (and export result)."""

        def pick(name: str, fallback: Any = None) -> Any:
            value = measurement.get(name)
            return fallback if value is None else value

        values = {
            "status": "complete",
            "completed_at": as_utc(self.clock()),
            "sample_rate": pick("sample_rate", getattr(result, "sample_rate", None)),
            "channels": pick("channels", getattr(result, "channels", None)),
            "duration_seconds": pick("duration_seconds", getattr(result, "duration_seconds", None)),
            "bit_depth": pick("bit_depth", getattr(result, "bit_depth", None)),
            "path": relative(self.root, job.path),
            "file_size_bytes": job.path.stat().st_size,
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

    def fail(self, job: Job | str, error: BaseException | str) -> None:
        """Mark the job ``failed`` with the error (its type and message).

        Examples
        --------
        >>> import tempfile
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="x")
        >>> catalog.fail(job, RuntimeError("out of memory"))
        >>> catalog.get(job.job_id).error
        'RuntimeError: out of memory'
        """
        job_id = job.job_id if isinstance(job, Job) else check_job_id(job)
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        row = to_row({"status": "failed", "completed_at": as_utc(self.clock()), "error": message})
        with self._write() as connection:
            connection.execute(update_sql(row), (*row.values(), job_id))

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
        self, job_id: str, *, rating: int | None = None, note: str | None = None
    ) -> Record:
        """Set the rating (1 to 5) and note of a generation; None leaves a value as it is.

        Examples
        --------
        >>> import tempfile
        >>> catalog = Lifecycle(tempfile.mkdtemp())
        >>> job = catalog.begin(prompt="take 3")
        >>> catalog.annotate(job.job_id, rating=4, note="nice groove").rating
        4
        """
        _check_rating(rating)
        if note is not None and not isinstance(note, str):
            raise AudioError(f"note must be text, got {type(note).__name__}")
        with self._write() as connection:
            updated = connection.execute(
                f"UPDATE {TABLE} SET rating = coalesce(?, rating), note = coalesce(?, note)"
                " WHERE job_id = ?",
                (rating, note, check_job_id(job_id)),
            ).rowcount
        if updated != 1:
            raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
        record = self.get(job_id)
        assert record is not None
        return record
