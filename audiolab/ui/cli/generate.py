"""``audiolab generate``: generate with MusicGen into the store."""

from __future__ import annotations

import argparse
import sys
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
    generate.add_argument("prompt")
    generate.add_argument("--duration", type=float, default=8.0, help="seconds (default 8)")
    generate.add_argument(
        "--model", default="facebook/musicgen-small", help="hub id or local folder"
    )
    generate.add_argument("--seed", type=int, default=None, help="seed of the first take")
    generate.add_argument(
        "--n", type=int, default=1, help="number of takes (seeds seed, seed+1, ...)"
    )
    generate.add_argument("--target", type=float, default=-16.0, help="LUFS (default -16)")
    generate.add_argument(
        "--root", default="data/outputs", help="the store (default: data/outputs)"
    )
    generate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab generate`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    import random

    from audiolab.generate import generate
    from audiolab.store import Store

    if args.n < 1:
        raise Usage(f"--n must be at least 1, got {args.n}")
    store = Store(args.root)
    first = random.randrange(2**31) if args.seed is None else args.seed
    rows = []
    failures = 0
    for seed in range(first, first + args.n):
        params = {"duration": args.duration, "target_lufs": args.target}
        job = store.begin(prompt=args.prompt, model=args.model, params=params, seed=seed)
        try:
            generation = generate(
                args.prompt, args.duration, model=args.model, seed=seed, progress=not args.quiet
            )
        except Exception as err:
            store.fail(job, err)
            print(f"audiolab generate: error: {err}", file=sys.stderr)
            failures += 1
            continue
        record = store.complete(
            job,
            generation.audio,
            generation.sample_rate,
            generation_seconds=generation.seconds,
            target_lufs=args.target,
        )
        outcome = verdict(record.integrated_lufs, args.target)
        failures += outcome != "ok"
        rows.append(
            [
                record.job_id,
                seed,
                record.path,
                record.integrated_lufs,
                record.bpm,
                record.key,
                outcome,
            ]
        )
    if rows:
        print(table(rows, ["job", "seed", "file", "LUFS", "BPM", "key", "±0.5 LU"]))
    return 1 if failures else 0
