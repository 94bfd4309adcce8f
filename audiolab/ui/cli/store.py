"""``audiolab store``: list, count, check and clean the store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from audiolab.ui.cli._common import table

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``store`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    store = commands.add_parser(
        "store", parents=parents, help="list, count, check and clean the store"
    )
    store.add_argument("action", choices=("ls", "stats", "verify", "cleanup"))
    store.add_argument("--root", default="data/outputs", help="the store (default: data/outputs)")
    store.add_argument("--limit", type=int, default=None, help="ls: at most this many rows")
    store.add_argument("--status", choices=("pending", "complete", "failed"), help="ls: only these")
    store.add_argument("--repair", action="store_true", help="verify: repair what is found")
    store.add_argument("--days", type=float, default=30.0, help="cleanup: older than (default 30)")
    store.add_argument(
        "--yes", action="store_true", help="cleanup: really delete (default: dry run)"
    )
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
    if args.action == "ls":
        records = store.records(status=args.status, limit=args.limit)
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
    if args.action == "stats":
        print(json.dumps(store.stats(), indent=2))
        return 0
    if args.action == "verify":
        report = store.verify(repair=args.repair)
        for name in ("files_without_row", "rows_without_file", "interrupted", "temporary_files"):
            for item in getattr(report, name):
                print(f"{name}: {item}")
        print(
            "ok"
            if report.ok
            else ("repaired" if report.repaired else "problems found (use --repair)")
        )
        return 0 if report.ok or report.repaired else 1
    # cleanup
    old = store.cleanup(args.days, dry_run=not args.yes)
    for path in old:
        print(("deleted " if args.yes else "would delete ") + str(path))
    if args.yes:
        store.remove_empty_folders()
    else:
        print(f"dry run: {len(old)} files older than {args.days:g} days; add --yes to delete them")
    return 0
