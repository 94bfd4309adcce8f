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

The rooms: :mod:`~audiolab.store.schema` (the columns, declared once),
:mod:`~audiolab.store.connection` (the SQLite file, migrations, transactions),
:mod:`~audiolab.store.catalog` (the root, connections, queries),
:mod:`~audiolab.store.lifecycle` (begin, complete, fail, save, annotate),
:mod:`~audiolab.store.lineage` (generate, regenerate, extend, lineage),
:mod:`~audiolab.store.tree` (paths and the folder tree),
:mod:`~audiolab.store.files` (file operations),
:mod:`~audiolab.store.verify` (the consistency check),
:mod:`~audiolab.store.trials` (listening tests' answers) and
:mod:`~audiolab.store.exchange` (exports to datasets, CSV, Parquet, W&B). :class:`Store` is
their sum; a new room is one more mixin in its bases.

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

import os
from collections.abc import Mapping
from typing import Any

from audiolab.store.exchange import Exchange
from audiolab.store.files import Files
from audiolab.store.lineage import Lineage
from audiolab.store.schema import (
    CATALOG_NAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    STATUSES,
    Job,
    Record,
    check_job_id,
)
from audiolab.store.trials import Trials
from audiolab.store.verify import Verify, VerifyReport

__all__ = [
    "CATALOG_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATUSES",
    "Job",
    "Record",
    "Store",
    "VerifyReport",
    "check_job_id",
    "store",
]


class Store(Lineage, Verify, Files, Trials, Exchange):
    """Output tree and catalog of generations under one root folder.

    Parameters
    ----------
    root : str or Path
        The folder; created on first write. Files go to ``root/YYYY/MM/DD/``.
    clock : callable, optional
        Returns the current time as an aware datetime (UTC by default); tests
        use it to place a generation just before midnight.

    Methods by room: the life of a generation (:meth:`begin`,
    :meth:`complete`, :meth:`fail`, :meth:`save`, :meth:`annotate`),
    queries (:meth:`get`, :meth:`records`, :meth:`to_dataframe`), lineage
    (:meth:`generate`, :meth:`regenerate`, :meth:`extend`, :meth:`lineage`), files
    (:meth:`files`, :meth:`stats`, :meth:`delete`, :meth:`move`,
    :meth:`copy`, :meth:`cleanup`, :meth:`remove_empty_folders`),
    :meth:`verify`, listening tests' answers (:meth:`record_trial`,
    :meth:`trials`) and exports (:meth:`export`, :meth:`to_wandb_table`).

    Examples
    --------
    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp())
    >>> store.path_for("gen_00c0ffee", date="2026-11-25").relative_to(store.root).as_posix()
    '2026/11/25/gen_00c0ffee.wav'
    """


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
