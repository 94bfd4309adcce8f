"""``audiolab regress``: run regression notebooks against a baseline, say what drifted.

Each notebook runs top to bottom (nbclient, in its own folder) with these
environment variables, which its parameters cell reads:

* ``AUDIOLAB_BASELINE``: the baseline file (``--baseline``);
* ``AUDIOLAB_REGRESS_REPORT``: where the notebook's
  :meth:`audiolab.regress.Comparison.write_report` puts its comparison;
* ``AUDIOLAB_UPDATE_BASELINE=1`` with ``--update``: the notebook rewrites
  the baseline from this run instead of checking it.

Exit code 0 when every notebook ran and stayed within its tolerances, 1
otherwise (each drift is printed), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from audiolab.ui.cli._common import Usage, subcommand

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``regress`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    regress = subcommand(
        commands, "regress", "run regression notebooks against a baseline", parents
    )
    regress.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help=".ipynb files")
    regress.add_argument("--baseline", required=True, help="the baseline JSON file")
    regress.add_argument("--update", action="store_true", help="rewrite the baseline from this run")
    regress.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    regress.add_argument("--executed", metavar="DIR", help="save the executed notebooks here")
    regress.set_defaults(handler=run)


def _execute(path: Path, timeout: float, env: dict[str, str]) -> tuple[Any, str | None]:
    """Run a notebook with ``env``; (the executed notebook, the failing cell's error or None)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env)
    except CellExecutionError as err:
        return notebook, f"{err.ename}: {err.evalue}"
    return notebook, None


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab regress`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    try:
        import nbclient  # noqa: F401
        import nbformat
    except ImportError:  # pragma: no cover - both come with the eval and dev extras
        print("audiolab regress needs nbclient: pip install audiolab[eval]", file=sys.stderr)
        return 1
    notebooks = [Path(p).absolute() for p in args.notebooks]
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            raise Usage(f"not a notebook: {path}")
    baseline = Path(args.baseline).absolute()
    if not args.update and not baseline.is_file():
        raise Usage(f"no baseline at {baseline}: make one with --update")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="audiolab-regress-") as scratch:
        for index, path in enumerate(notebooks):
            report = Path(scratch) / f"report-{index}.json"
            env = {
                **os.environ,
                "AUDIOLAB_BASELINE": str(baseline),
                "AUDIOLAB_REGRESS_REPORT": str(report),
                "AUDIOLAB_UPDATE_BASELINE": "1" if args.update else "",
            }
            executed, error = _execute(path, args.timeout, env)
            if args.executed:
                Path(args.executed).mkdir(parents=True, exist_ok=True)
                nbformat.write(executed, Path(args.executed) / path.name)
            found = json.loads(report.read_text()) if report.is_file() else None
            if args.update and error is None:
                print(f"{path.name}: baseline {baseline} updated")
                continue
            if found is not None:
                print(f"{path.name}: {found['summary']}")
                for drift in found["drifts"]:
                    if not drift["ok"]:
                        print(f"  drift: {drift['case']} {drift['name']}: {_describe(drift)}")
            if error is not None:
                if found is None or found["ok"]:
                    print(f"{path.name}: failed: {error.splitlines()[0][:300]}")
                failed += 1
            elif found is None:
                print(f"{path.name}: ran, but wrote no comparison (AUDIOLAB_REGRESS_REPORT)")
                failed += 1
            elif not found["ok"]:
                failed += 1
    return 1 if failed else 0


def _describe(drift: dict[str, Any]) -> str:
    if drift["drift"] is None:
        return f"{drift['value']!r}, baseline {drift['baseline']!r} ({drift['reason']})"
    return (
        f"{drift['value']!r}, baseline {drift['baseline']!r}, drift {drift['drift']:.3g} "
        f"over tolerance {drift['tolerance']:g}"
    )
