"""Takes out of the catalog, for other tools: Hugging Face datasets, CSV, Parquet, W&B.

:meth:`Exchange.export` copies the audio of the complete takes into a
folder with one metadata table beside it, in the layout of a Hugging Face
*AudioFolder* (``file_name`` names each file, relative to the table), so
that ``datasets.load_dataset("audiofolder", data_dir=folder)`` loads it:

* ``format="audiofolder"``: ``metadata.jsonl``;
* ``format="csv"``: ``metadata.csv`` (nested values as JSON text);
* ``format="parquet"``: ``metadata.parquet`` (needs pyarrow).

Each row has the take's prompt, model, seed and settings, its loudness,
tempo and key, its rating and note, and its metrics (``metrics``: value by
name; ``metrics_json``: the full scores with their models and revisions).
Audio files are hard links when the folder is on the same file system
(no space used), copies otherwise. :meth:`Exchange.to_wandb_table` builds a
``wandb.Table`` of the same rows with players (wandb must be installed).

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> from audiolab.testing import programme
>>> store = Store(tempfile.mkdtemp())
>>> _ = store.save(programme(1.0, 16000), 16000, prompt="drums", seed=3)
>>> folder = store.export(tempfile.mkdtemp())
>>> sorted(p.suffix for p in folder.iterdir())
['.jsonl', '.wav']
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from audiolab._json import json_safe
from audiolab.errors import AudioError, StoreError
from audiolab.policy import temporary_path
from audiolab.store.catalog import Catalog
from audiolab.store.schema import Record, iso

__all__ = ["EXPORT_FORMATS", "METADATA_COLUMNS", "Exchange", "metadata_row"]

EXPORT_FORMATS = {
    "audiofolder": "metadata.jsonl",
    "csv": "metadata.csv",
    "parquet": "metadata.parquet",
}
#: The columns of the metadata table, in order (see :func:`metadata_row`).
METADATA_COLUMNS = (
    "file_name", "job_id", "prompt", "model", "seed", "params", "sample_rate", "channels",
    "duration_seconds", "bit_depth", "integrated_lufs", "true_peak_dbtp", "loudness_range_lu",
    "bpm", "key", "rating", "note", "metrics", "metrics_json", "created_at",
)  # fmt: skip
_NESTED = ("params", "metrics")


def metadata_row(record: Record, file_name: str) -> dict[str, Any]:
    """The metadata of one take as an export writes it.

    Parameters
    ----------
    record : Record
        A complete row of the catalog.
    file_name : str
        Its audio file, relative to the metadata table.

    Returns
    -------
    dict
        JSON-safe.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> record = Record("gen_1", "complete", datetime(2026, 1, 2, tzinfo=timezone.utc),
    ...                 prompt="lofi", metrics={"clap_score": {"value": 0.3, "model": "m"}})
    >>> row = metadata_row(record, "gen_1.wav")
    >>> row["file_name"], row["prompt"], row["metrics"]
    ('gen_1.wav', 'lofi', {'clap_score': 0.3})
    """
    measurement = record.measurement or {}
    metrics = record.metrics or {}
    values = {
        name: score.get("value") if isinstance(score, dict) else score
        for name, score in metrics.items()
    }
    return json_safe(
        {
            "file_name": file_name,
            "job_id": record.job_id,
            "prompt": record.prompt,
            "model": record.model,
            "seed": record.seed,
            "params": record.params or {},
            "sample_rate": record.sample_rate,
            "channels": record.channels,
            "duration_seconds": record.duration_seconds,
            "bit_depth": record.bit_depth,
            "integrated_lufs": record.integrated_lufs,
            "true_peak_dbtp": record.true_peak_dbtp,
            "loudness_range_lu": measurement.get("loudness_range_lu"),
            "bpm": record.bpm,
            "key": record.key,
            "rating": record.rating,
            "note": record.note,
            "metrics": values,
            "metrics_json": json.dumps(json_safe(metrics), sort_keys=True),
            "created_at": iso(record.created_at),
        }
    )


def _place(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source``, or a copy across file systems."""
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class Exchange(Catalog):
    """Exports of the catalog (a mixin over :class:`Catalog`)."""

    def _exported(self, filters: dict[str, Any]) -> list[Record]:
        if "status" in filters:
            raise AudioError("exports hold complete takes only: status= cannot be chosen")
        records = self.records(status="complete", **filters)
        missing = [
            r.job_id for r in records if r.absolute_path is None or not r.absolute_path.is_file()
        ]
        if missing:
            raise StoreError(
                f"{len(missing)} complete takes have no file ({', '.join(missing[:5])}): "
                f"run Store({str(self.root)!r}).verify(repair=True) first"
            )
        return records

    def export(
        self,
        folder: str | os.PathLike[str],
        format: str = "audiofolder",
        *,
        overwrite: bool = False,
        **filters: Any,
    ) -> Path:
        """Write the complete takes' audio and a metadata table to ``folder``.

        Parameters
        ----------
        folder : str or Path
            Created if needed; not inside the store's root.
        format : {'audiofolder', 'csv', 'parquet'}
            The table: ``metadata.jsonl``, ``metadata.csv`` or ``metadata.parquet``.
        overwrite : bool
            Replace an earlier export's table and files in ``folder``.
        **filters
            ``since``, ``until``, ``prompt_contains``, ``limit`` as for
            :meth:`records`.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        AudioError
            An unknown format, a folder inside the store, or a folder that
            already holds an export (without ``overwrite``).
        StoreError
            A complete take whose file is missing (nothing is written).

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> store = Store(tempfile.mkdtemp())
        >>> (store.export(tempfile.mkdtemp(), format="csv") / "metadata.csv").read_text()[:9]
        'file_name'
        """
        if format not in EXPORT_FORMATS:
            raise AudioError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
        target, root = Path(folder).expanduser().resolve(), self.root.resolve()
        if target == root or root in target.parents:
            raise AudioError(f"export to a folder outside the store {self.root}, got {target}")
        table = target / EXPORT_FORMATS[format]
        if not overwrite and any((target / name).exists() for name in EXPORT_FORMATS.values()):
            raise AudioError(
                f"{target} already holds an export: pass overwrite=True or another folder"
            )
        records = self._exported(filters)
        target.mkdir(parents=True, exist_ok=True)
        rows = []
        for record in records:
            assert record.absolute_path is not None  # checked by _exported
            name = record.job_id + record.absolute_path.suffix
            _place(record.absolute_path, target / name)
            rows.append(metadata_row(record, name))
        temporary = temporary_path(table)
        try:
            if format == "audiofolder":
                text = "".join(json.dumps(row, allow_nan=False) + "\n" for row in rows)
                temporary.write_text(text, encoding="utf-8")
            elif format == "csv":
                self._write_csv(temporary, rows)
            else:
                self._write_parquet(temporary, rows)
            os.replace(temporary, table)
        finally:
            temporary.unlink(missing_ok=True)
        return target

    @staticmethod
    def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
        import csv

        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=METADATA_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v) if k in _NESTED else v for k, v in row.items()})

    @staticmethod
    def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError("parquet exports need pyarrow: pip install audiolab[eval]") from None
        flat = [{k: json.dumps(v) if k == "params" else v for k, v in r.items()} for r in rows]
        table = pa.Table.from_pylist(flat) if flat else pa.table({c: [] for c in METADATA_COLUMNS})
        pq.write_table(table, path)

    def to_wandb_table(self, **filters: Any) -> Any:
        """The complete takes as a ``wandb.Table``: a player and the metadata of each.

        Parameters
        ----------
        **filters
            As for :meth:`export`.

        Returns
        -------
        wandb.Table
            Columns ``audio`` (a ``wandb.Audio`` captioned with the prompt)
            and those of :func:`metadata_row` (nested values as JSON text).

        Raises
        ------
        ImportError
            wandb is not installed (``pip install audiolab[wandb]``).

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> Store(tempfile.mkdtemp()).to_wandb_table()  # doctest: +SKIP
        """
        try:
            import wandb
        except ImportError:
            raise ImportError(
                "Store.to_wandb_table needs wandb: pip install audiolab[wandb]"
            ) from None
        records = self._exported(filters)
        table = wandb.Table(columns=["audio", *METADATA_COLUMNS])
        for record in records:
            row = metadata_row(record, str(record.absolute_path))
            player = wandb.Audio(
                str(record.absolute_path), sample_rate=record.sample_rate, caption=record.prompt
            )
            table.add_data(
                player, *(json.dumps(row[c]) if c in _NESTED else row[c] for c in METADATA_COLUMNS)
            )
        return table
