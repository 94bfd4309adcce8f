"""``audiolab generate``: generate with MusicGen (or the offline synth) into the store."""

from __future__ import annotations

import argparse
from typing import Any

from audiolab.ui.cli._common import (
    EXIT_CODES,
    describe,
    finite_float,
    positive_float,
    positive_int,
    problem,
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
    generate = commands.add_parser(
        "generate",
        parents=parents,
        help="generate with MusicGen (or --model synth, offline) into the store",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument("prompt")
    generate.add_argument(
        "--duration", type=positive_float, default=8.0, help="seconds (default 8)"
    )
    generate.add_argument(
        "--model",
        default="facebook/musicgen-small",
        help="hub id or local folder, or 'synth' for the offline reference generator "
        "(tempo and key read from the prompt, e.g. '... at 124 bpm in A minor')",
    )
    generate.add_argument("--seed", type=int, default=None, help="seed of the first take")
    generate.add_argument(
        "--n", type=positive_int, default=1, help="number of takes (seeds seed, seed+1, ...)"
    )
    generate.add_argument("--target", type=finite_float, default=-16.0, help="LUFS (default -16)")
    generate.add_argument(
        "--root", default="data/outputs", help="the store (default: data/outputs)"
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


def _generator(model: str, quiet: bool) -> Any:
    """A function ``(prompt, duration, seed) -> (audio, sample_rate, seconds)``."""
    import time

    if model == SYNTH:
        from audiolab.ui.widgets import synth_generator

        synth = synth_generator()

        def offline(prompt: str, duration: float, seed: int) -> tuple[Any, int, float]:
            started = time.perf_counter()
            audio, sr = synth(prompt, duration, seed)
            return audio, sr, time.perf_counter() - started

        return offline
    from audiolab.generate import generate

    def musicgen(prompt: str, duration: float, seed: int) -> tuple[Any, int, float]:
        take = generate(prompt, duration, model=model, seed=seed, progress=not quiet)
        return take.audio, take.sample_rate, take.seconds

    return musicgen


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab generate`` with parsed ``args``; returns the exit code.

    Nothing is written until a take is made: a model that cannot be loaded
    leaves no store and no row behind.

    Examples
    --------
    >>> callable(run)
    True
    """
    import random

    from audiolab.errors import ModelNotAvailableError
    from audiolab.store import Store

    model = args.model
    if model != SYNTH:
        from audiolab.generate import model_available

        if _hub()[0] and not model_available(model):  # offline: say so at once
            problem(model, missing_weights(model))
            return 1
    make = _generator(model, args.quiet)
    store: Store | None = None
    first = random.randrange(2**31) if args.seed is None else args.seed
    rows, failures = [], 0
    name = "audiolab.synth" if model == SYNTH else model
    for seed in range(first, first + args.n):
        try:
            audio, sr, seconds = make(args.prompt, args.duration, seed)
        except ModelNotAvailableError:
            problem(model, missing_weights(model))
            return 1
        except Exception as err:  # a failed take; the next seed may work
            problem(*describe(err, ""))
            failures += 1
            continue
        store = store or Store(args.root)
        params = {"duration": args.duration, "target_lufs": args.target}
        record = store.save(
            audio,
            sr,
            args.prompt,
            name,
            params,
            seed,
            generation_seconds=seconds,
            target_lufs=args.target,
        )
        outcome = verdict(record.integrated_lufs, args.target)
        failures += outcome != "ok"
        row = [record.job_id, seed, record.path, record.integrated_lufs, record.bpm]
        rows.append([*row, record.key, outcome])
    if rows:
        print(table(rows, ["job", "seed", "file", "LUFS", "BPM", "key", "±0.5 LU"]))
    return 1 if failures else 0
