"""``audiolab measure``: measure audio files: loudness, tempo, key, statistics."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from typing import Any

from audiolab.ui.cli._common import (
    MEASURE_COLUMNS,
    audio_files,
    describe,
    output_file,
    positive_int,
    problem,
    progress,
    subcommand,
    table,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``measure`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    measure = subcommand(commands, "measure", "measure audio files (reads only)", parents)
    measure.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    output = measure.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON array")
    output.add_argument("--csv", metavar="FILE", help="write a CSV file ('-': stdout)")
    measure.add_argument("--no-bpm", action="store_true", help="skip the tempo")
    measure.add_argument("--no-key", action="store_true", help="skip the key")
    measure.add_argument(
        "--jobs", type=positive_int, default=None, help="processes (default: all cores)"
    )
    measure.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab measure`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    from audiolab.measure import measure_many

    found, problems = audio_files(args.paths)
    files = [str(p) for p, _ in found]
    # the CSV's folder is tried before the work
    with output_file(args.csv) if args.csv else contextlib.nullcontext() as handle:
        results = (
            measure_many(
                files,
                jobs=args.jobs,
                errors="return",
                bpm=not args.no_bpm,
                key=not args.no_key,
                progress=progress(args),
            )
            if files
            else []
        )
        records: list[dict[str, Any]] = []
        for path, result in zip(files, results, strict=True):
            if isinstance(result, Exception):
                problems.append(describe(result, path))
                records.append({"path": path, "error": describe(result, path)[1]})
            else:
                records.append({"path": path, **result.to_dict()})
        if args.json:
            print(json.dumps(records, indent=2, allow_nan=False))
        elif handle is not None:
            writer = csv.DictWriter(
                handle, fieldnames=["path", *MEASURE_COLUMNS, "error"], extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(records)
        else:
            shown = (
                "integrated_lufs",
                "true_peak_dbtp",
                "loudness_range_lu",
                "bpm",
                "key",
                "duration_seconds",
            )
            rows = [[r["path"], *(r.get(c) for c in shown)] for r in records if "error" not in r]
            if rows:
                print(table(rows, ["file", "LUFS", "dBTP", "LRA", "BPM", "key", "seconds"]))
    if args.csv and args.csv != "-":
        print(f"wrote {len(records)} rows to {args.csv}", file=sys.stderr)
    for where, reason in problems:
        problem(where, reason)
    return 1 if problems else 0
