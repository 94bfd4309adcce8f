"""``audiolab store``: list, count, check, clean and export the store.

``ls``, ``stats``, ``verify`` (without ``--repair``), ``cleanup``
(without ``--yes``) and ``export`` only read the store: they create nothing, not even a catalog, and
a folder that holds no store is a problem line, not a new store.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from audiolab.ui.cli._common import (
    non_negative_float,
    non_negative_int,
    problem,
    subcommand,
    table,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``store`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    store = subcommand(commands, "store", "list, count, check, clean and export the store", parents)
    store.add_argument("action", choices=("ls", "stats", "verify", "cleanup", "export"))
    store.add_argument("--root", default="data/outputs", help="the store (default: data/outputs)")
    store.add_argument("--json", action="store_true", help="ls: every column, as JSON")
    store.add_argument(
        "--limit", type=non_negative_int, default=None, help="ls: at most this many rows"
    )
    store.add_argument("--status", choices=("pending", "complete", "failed"), help="ls: only these")
    store.add_argument("--repair", action="store_true", help="verify: repair what is found")
    store.add_argument(
        "--grace",
        type=non_negative_float,
        default=600.0,
        metavar="SECONDS",
        help="verify: pending rows and temporary files younger than this are in progress, "
        "not left behind (default 600; 0 when nothing is being generated)",
    )
    store.add_argument(
        "--days", type=non_negative_float, default=30.0, help="cleanup: older than (default 30)"
    )
    store.add_argument(
        "--yes", action="store_true", help="cleanup: really delete (default: dry run)"
    )
    store.add_argument("--to", metavar="FOLDER", help="export: the folder to write")
    store.add_argument(
        "--format",
        choices=("audiofolder", "csv", "parquet"),
        default="audiofolder",
        help="export: metadata.jsonl (default), metadata.csv or metadata.parquet",
    )
    store.add_argument("--overwrite", action="store_true", help="export: replace an export")
    store.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab store`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    from audiolab.store import Store

    store = Store(args.root)
    if not store.catalog_path.exists():
        problem(store.root, "no audiolab store here (no catalog.sqlite); nothing was created")
        return 1
    try:
        return _ACTIONS[args.action](store, args)
    finally:
        store.close()


def _ls(store: Any, args: argparse.Namespace) -> int:
    records = store.records(status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2, allow_nan=False))
        return 0
    rows = [
        [
            r.job_id,
            r.status,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            r.integrated_lufs,
            r.bpm,
            r.key,
            (r.prompt or "")[:40],
        ]
        for r in records
    ]
    print(table(rows, ["job", "status", "created (UTC)", "LUFS", "BPM", "key", "prompt"]))
    return 0


def _stats(store: Any, args: argparse.Namespace) -> int:
    print(json.dumps(store.stats(), indent=2))
    return 0


def _verify(store: Any, args: argparse.Namespace) -> int:
    report = store.verify(repair=args.repair, grace_seconds=args.grace)
    for kind, item in report.findings():
        print(f"{kind}: {item}")
    waiting = len(report.in_progress) + len(report.recent_temporary_files)
    if report.ok:
        print("ok")
        return 0
    if report.repaired:
        print("repaired")
    elif report.repairable:
        print("problems found (use --repair)")
    if waiting:
        print(
            f"{waiting} pending rows or temporary files are younger than {args.grace:g} s: "
            "in progress, or interrupted moments ago (rerun with --grace 0 when nothing "
            "is being generated)"
        )
    return 0 if report.repaired and not waiting else 1


def _cleanup(store: Any, args: argparse.Namespace) -> int:
    old = store.cleanup(args.days, dry_run=not args.yes)
    for path in old:
        print(("deleted " if args.yes else "would delete ") + str(path))
    if args.yes:
        store.remove_empty_folders()
    else:
        print(f"dry run: {len(old)} files older than {args.days:g} days; add --yes to delete them")
    return 0


def _export(store: Any, args: argparse.Namespace) -> int:
    from audiolab.errors import StoreError
    from audiolab.ui.cli._common import Usage

    if not args.to:
        raise Usage("store export needs --to FOLDER")
    try:
        folder = store.export(args.to, args.format, overwrite=args.overwrite, limit=args.limit)
    except StoreError as err:
        problem(args.to, str(err))
        return 1
    count = sum(1 for p in folder.iterdir() if not p.name.startswith("metadata."))
    print(f"exported {count} takes to {folder} ({args.format})")
    return 0


_ACTIONS = {
    "ls": _ls,
    "stats": _stats,
    "verify": _verify,
    "cleanup": _cleanup,
    "export": _export,
}
