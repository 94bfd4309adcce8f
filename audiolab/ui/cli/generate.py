"""``audiolab generate``: generate with MusicGen into the store."""

from __future__ import annotations

import argparse
from typing import Any

from audiolab.ui.cli._common import Usage, table, verdict

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``generate`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    generate = commands.add_parser(
        "generate", parents=parents, help="generate with MusicGen into the store"
    )
    generate.add_argument("prompt", nargs="?", help="what to generate (--continue: the take's)")
    generate.add_argument(
        "--duration", type=float, default=8.0, help="seconds of new audio (default 8)"
    )
    generate.add_argument(
        "--model", default=None, help="hub id or local folder (default facebook/musicgen-small)"
    )
    generate.add_argument("--seed", type=int, default=None, help="seed of the first take")
    generate.add_argument(
        "--n", type=int, default=1, help="number of takes (seeds seed, seed+1, ...)"
    )
    generate.add_argument("--target", type=float, default=-16.0, help="LUFS (default -16)")
    generate.add_argument(
        "--root", default="data/outputs", help="the store (default: data/outputs)"
    )
    research = generate.add_argument_group("continuation, melody, long takes")
    research.add_argument(
        "--continue",
        dest="continue_job",
        metavar="JOB_ID",
        help="extend this take of the store by --duration seconds (a child job)",
    )
    research.add_argument(
        "--melody", metavar="FILE", help="a melody to follow (a MusicGen-Melody model)"
    )
    research.add_argument("--window", type=float, help="seconds a window generates (the model's)")
    research.add_argument("--overlap", type=float, help="seconds each window continues (10)")
    generate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab generate`` with parsed ``args``; returns the exit code.

    Takes go through :meth:`audiolab.store.Store.generate` (``--continue``:
    :meth:`~audiolab.store.Store.extend`), so each row holds the take's full
    provenance; a model that cannot be loaded leaves no row behind.

    Examples
    --------
    >>> callable(run)
    True
    """
    if args.n < 1:
        raise Usage(f"--n must be at least 1, got {args.n}")
    if args.prompt is None and args.continue_job is None:
        raise Usage("give a prompt, or --continue JOB_ID to extend a take")
    return _into_store(args)


def _into_store(args: argparse.Namespace) -> int:
    """Generate (or extend) ``args.n`` takes into the store and print their table."""
    import random

    from audiolab.store import Store, check_job_id

    store = Store(args.root)
    options: dict[str, Any] = {"progress": not args.quiet, "target_lufs": args.target}
    for name, value in (
        ("model", args.model),
        ("melody", args.melody),
        ("window_s", args.window),
        ("overlap_s", args.overlap),
    ):
        if value is not None:
            options[name] = value
    first = random.randrange(2**31) if args.seed is None else args.seed
    if args.continue_job is None:
        records = store.generate(args.prompt, args.duration, seed=first, n=args.n, **options)
    else:
        check_job_id(args.continue_job)
        records = [
            store.extend(args.continue_job, args.duration, seed=seed, prompt=args.prompt, **options)
            for seed in range(first, first + args.n)
        ]
    rows, failures = [], 0
    for record in records:
        outcome = verdict(record.integrated_lufs, args.target)
        failures += outcome != "ok"
        row = [record.job_id, record.seed, record.path, record.integrated_lufs, record.bpm]
        rows.append([*row, record.key, record.parent_id or "-", outcome])
    print(table(rows, ["job", "seed", "file", "LUFS", "BPM", "key", "from", "±0.5 LU"]))
    return 1 if failures else 0
