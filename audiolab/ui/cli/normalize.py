"""``audiolab normalize``: normalize audio files to a loudness target."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from audiolab.errors import AudioError
from audiolab.policy import BIT_DEPTHS, DEFAULT_BIT_DEPTH
from audiolab.ui.cli._common import (
    Usage,
    audio_files,
    describe,
    finite_float,
    non_negative_float,
    positive_int,
    problem,
    progress,
    subcommand,
    table,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``normalize`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    normalize = subcommand(
        commands,
        "normalize",
        "normalize audio files to a loudness target (WAV out, or --format)",
        parents,
    )
    normalize.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files or folders (recursive)"
    )
    normalize.add_argument("-o", "--output", metavar="OUTDIR", help="folder for the WAV files")
    normalize.add_argument(
        "--in-place",
        action="store_true",
        help="rewrite the input WAV files (atomically), keeping their bit depth",
    )
    normalize.add_argument("--target", type=finite_float, default=-16.0, help="LUFS (default -16)")
    normalize.add_argument(
        "--true-peak", type=finite_float, default=-1.0, help="ceiling in dBTP (default -1)"
    )
    normalize.add_argument(
        "--bit-depth",
        choices=list(BIT_DEPTHS),
        default=None,
        help=f"default: {DEFAULT_BIT_DEPTH} with -o, the input's with --in-place",
    )
    normalize.add_argument(
        "--tolerance",
        type=non_negative_float,
        default=0.5,
        help="LU from the target that counts as on target (default 0.5)",
    )
    normalize.add_argument(
        "--meter-peak",
        action="store_true",
        help="hold the ceiling by the BS.1770 meter's true peak only, as delivery checks "
        "read it (default: by ideal interpolation too)",
    )
    normalize.add_argument(
        "--jobs", type=positive_int, default=None, help="processes (default: all cores)"
    )
    _add_format_options(normalize)
    normalize.set_defaults(handler=run)


def _add_format_options(normalize: argparse.ArgumentParser) -> None:
    """``--format`` and ``--shared-gain`` (the writer's options)."""
    normalize.add_argument(
        "--format",
        choices=["wav", "flac", "ogg", "opus", "mp3"],
        default=None,
        help="file format with -o (default wav)",
    )
    normalize.add_argument(
        "--shared-gain",
        action="store_true",
        help="one gain for all inputs (the loudest meets the target; relative loudness kept)",
    )


def _export_options(args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    """The options with the format asked for (lossy formats have no bit depth)."""
    if args.format is None:
        return options
    if args.in_place:
        raise Usage("--format is for -o OUTDIR; --in-place keeps each file's format")
    lossy = args.format in ("ogg", "opus", "mp3")
    return {**options, "format": args.format, **({"bit_depth": None} if lossy else {})}


def _shared(plan: list[tuple[str, str]], options: dict[str, Any], args: argparse.Namespace) -> Any:
    """Every input read, then exported at one shared gain (results in plan order)."""
    from audiolab import audiofile
    from audiolab.export import export_batch

    audios, rates = [], set()
    for source, _ in plan:
        audio, facts = audiofile.read(source)
        audios.append(audio)
        rates.add(int(facts.samplerate))
    if len(rates) > 1:
        raise AudioError(f"--shared-gain needs one sample rate, got {sorted(rates)} Hz")
    rate = rates.pop() if rates else 32000
    destinations = [d for _, d in plan]
    return export_batch(
        audios, destinations, rate, gain="shared", errors="return", jobs=args.jobs, **options
    )


def _normalize_one(
    source: str, destination: str, options: dict[str, Any], keep_subtype: bool = False
) -> Any:
    """Read any audio file and export it normalized (runs in a worker).

    ``keep_subtype`` (``--in-place`` without ``--bit-depth``) writes the
    input's subtype.
    """
    from audiolab import audiofile
    from audiolab.export import export

    audio, facts = audiofile.read(source)
    if keep_subtype:
        subtype = str(facts.subtype)
        if subtype not in BIT_DEPTHS:
            raise AudioError(
                f"{source}: its bit depth {subtype} is not one export writes "
                f"({', '.join(BIT_DEPTHS)}); give --bit-depth to convert it"
            )
        options = {**options, "bit_depth": subtype}
    try:
        return export(audio, destination, int(facts.samplerate), **{"format": "wav", **options})
    except AudioError as err:
        raise AudioError(f"{source}: {describe(err, destination)[1]}") from None


def _reason(result: Any, target: float, tolerance: float) -> str:
    """Why an export is off target: its message, or what the file measures."""
    message = getattr(result, "message", None)
    if message:
        return str(message)
    if result.output_lufs is None:
        return "its loudness could not be measured"
    off = result.output_lufs - target
    return f"the file measures {result.output_lufs:.2f} LUFS, {abs(off):.2f} LU from {target:g}"


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab normalize`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    from audiolab.batch import run

    if args.in_place == (args.output is not None):
        raise Usage("give either -o OUTDIR or --in-place")
    keep = args.in_place and args.bit_depth is None
    options = {
        "target_lufs": args.target,
        "true_peak_db": args.true_peak,
        "bit_depth": args.bit_depth or DEFAULT_BIT_DEPTH,
        "tolerance_lu": args.tolerance,
        "ideal_peak": not args.meter_peak,
    }
    options = _export_options(args, options)
    found, failures = audio_files(args.inputs)
    plan: list[tuple[str, str]] = []
    inputs = {p.resolve() for p, _ in found}
    taken: set[Path] = set()
    for source, folder in found:
        if args.in_place:
            if source.suffix.lower() != ".wav":
                failures.append(
                    (str(source), "--in-place rewrites WAV files only; use -o for other formats")
                )
                continue
            destination = source
        else:
            relative = source.relative_to(folder) if folder else Path(source.name)
            destination = Path(args.output) / relative.with_suffix(f".{args.format or 'wav'}")
            if destination.resolve() in inputs:
                failures.append(
                    (str(source), f"output {destination} is an input; use --in-place to rewrite it")
                )
                continue
            if destination.resolve() in taken:
                failures.append((str(source), f"output {destination} comes from another input too"))
                continue
        taken.add(destination.resolve())
        plan.append((str(source), str(destination)))
    if args.shared_gain:
        results = _shared(plan, options, args)
    else:
        results = run(
            _normalize_one,
            [(s, d, options, keep) for s, d in plan],
            jobs=args.jobs,
            progress=progress(args),
            desc="normalize",
        )
    rows = []
    off_target = 0
    for (input_path, output_path), result in zip(plan, results, strict=True):
        if isinstance(result, Exception):
            failures.append(describe(result, input_path))
            continue
        verdict = "ok"
        if not result.within_tolerance:
            off_target += 1
            verdict = f"OFF TARGET: {_reason(result, args.target, args.tolerance)}"
        row = [input_path, output_path, result.input_lufs, result.output_lufs]
        rows.append([*row, result.true_peak_dbtp, verdict])
    if rows:
        headers = ["input", "output", "LUFS in", "LUFS out", "dBTP", f"±{args.tolerance:g} LU"]
        print(table(rows, headers))
    for where, reason in failures:
        problem(where, reason)
    print(
        f"{len(rows)} written ({off_target} off target), {len(failures)} failed",
        file=sys.stderr,
    )
    return 1 if failures or off_target else 0
