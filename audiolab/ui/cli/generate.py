"""``audiolab generate``: generate with MusicGen (or the offline synth) into the store."""

from __future__ import annotations

import argparse
from typing import Any

from audiolab.ui.cli._common import (
    Usage,
    finite_float,
    non_negative_float,
    positive_float,
    positive_int,
    problem,
    subcommand,
    table,
    verdict,
)

__all__ = ["SYNTH", "add_parser", "missing_weights", "run"]

#: ``--model synth``: the offline reference generator (tempo and key from the prompt).
SYNTH = "synth"


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``generate`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    generate = subcommand(
        commands,
        "generate",
        "generate with MusicGen (or --model synth, offline) into the store",
        parents,
    )
    generate.add_argument("prompt", nargs="?", help="what to generate (--continue: the take's)")
    generate.add_argument(
        "--duration", type=positive_float, default=8.0, help="seconds of new audio (default 8)"
    )
    generate.add_argument(
        "--model",
        default=None,
        help="hub id or local folder (default facebook/musicgen-small), or 'synth' for the "
        "offline reference generator (tempo and key read from the prompt, e.g. "
        "'... at 124 bpm in A minor')",
    )
    generate.add_argument("--seed", type=int, default=None, help="seed of the first take")
    generate.add_argument(
        "--n", type=positive_int, default=1, help="number of takes (seeds seed, seed+1, ...)"
    )
    generate.add_argument("--target", type=finite_float, default=-16.0, help="LUFS (default -16)")
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
    research.add_argument(
        "--window", type=positive_float, help="seconds a window generates (the model's)"
    )
    research.add_argument(
        "--overlap", type=non_negative_float, help="seconds each window continues (10)"
    )
    generate.set_defaults(handler=run)


def missing_weights(model: str) -> str:
    """Why ``model`` cannot be loaded here, and how to get it, in one line.

    Examples
    --------
    >>> print(missing_weights("/no/such/model"))  # doctest: +ELLIPSIS
    MusicGen weights are not here (...): get them with `hf download /no/such/model` ...
    """
    offline, cache = _hub()
    note = ", and HF_HUB_OFFLINE is set" if offline else ""
    return (
        "MusicGen weights are not here (neither a model folder of that name nor in the "
        f"Hugging Face cache {cache}{note}): get them with "
        f"`hf download {model}` (on a connected machine, then copy the cache here), "
        f"give a model folder with --model PATH, or use --model {SYNTH} (offline)"
    )


def _hub() -> tuple[bool, str]:
    """(whether the Hugging Face hub is switched off, where its cache is)."""
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - installed with transformers
        return False, "~/.cache/huggingface/hub"
    return bool(constants.HF_HUB_OFFLINE), str(constants.HF_HUB_CACHE)


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab generate`` with parsed ``args``; returns the exit code.

    Takes go through :meth:`audiolab.store.Store.generate` (``--continue``:
    :meth:`~audiolab.store.Store.extend`), so each row holds the take's full
    provenance; ``--model synth`` through :meth:`~audiolab.store.Store.save`.
    Nothing is written until a model is loaded: missing weights leave no
    store and no row behind, and are said once, with how to get them.

    Examples
    --------
    >>> callable(run)
    True
    """
    from audiolab.errors import ModelNotAvailableError

    if args.prompt is None and args.continue_job is None:
        raise Usage("give a prompt, or --continue JOB_ID to extend a take")
    if args.model == SYNTH:
        if args.continue_job or args.melody or args.window is not None:
            raise Usage("--continue, --melody and --window need a MusicGen model, not synth")
        return _synth(args)
    if args.continue_job is not None:
        from audiolab.store import check_job_id

        check_job_id(args.continue_job)  # a bad id is said before the model is looked for
    from audiolab.generate import DEFAULT_MODEL, model_available

    model = args.model or DEFAULT_MODEL
    if _hub()[0] and not model_available(model):  # offline: say so at once
        problem(model, missing_weights(model))
        return 1
    try:
        return _into_store(args)
    except ModelNotAvailableError:
        problem(model, missing_weights(model))
        return 1


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
    return _report(records, args.target)


def _synth(args: argparse.Namespace) -> int:
    """``--model synth``: the offline reference music, saved like any take."""
    import random
    import time

    from audiolab.store import Store
    from audiolab.ui.widgets import synth_generator

    make = synth_generator()
    store, records = Store(args.root), []
    first = random.randrange(2**31) if args.seed is None else args.seed
    for seed in range(first, first + args.n):
        started = time.perf_counter()
        audio, sr = make(args.prompt, args.duration, seed)
        params = {"duration": args.duration, "target_lufs": args.target}
        records.append(
            store.save(
                audio,
                sr,
                args.prompt,
                "audiolab.synth",
                params,
                seed,
                generation_seconds=time.perf_counter() - started,
                target_lufs=args.target,
            )
        )
    return _report(records, args.target)


def _report(records: list[Any], target: float) -> int:
    rows, failures = [], 0
    for record in records:
        outcome = verdict(record.integrated_lufs, target)
        failures += outcome != "ok"
        row = [record.job_id, record.seed, record.path, record.integrated_lufs, record.bpm]
        rows.append([*row, record.key, record.parent_id or "-", outcome])
    print(table(rows, ["job", "seed", "file", "LUFS", "BPM", "key", "from", "±0.5 LU"]))
    return 1 if failures else 0
