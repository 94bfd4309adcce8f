"""``audiolab normalize``: normalize audio files to a loudness target."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from audiolab._audio import AudioError
from audiolab.policy import BIT_DEPTHS
from audiolab.ui.cli._common import Usage, audio_files, progress, report_failures, table

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``normalize`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    normalize = commands.add_parser(
        "normalize", parents=parents, help="normalize audio files to a loudness target (WAV out)"
    )
    normalize.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files or folders (recursive)"
    )
    normalize.add_argument("-o", "--output", metavar="OUTDIR", help="folder for the WAV files")
    normalize.add_argument(
        "--in-place", action="store_true", help="rewrite the input WAV files (atomically)"
    )
    normalize.add_argument("--target", type=float, default=-16.0, help="LUFS (default -16)")
    normalize.add_argument(
        "--true-peak", type=float, default=-1.0, help="ceiling in dBTP (default -1)"
    )
    normalize.add_argument("--bit-depth", choices=list(BIT_DEPTHS), default="PCM_16")
    normalize.add_argument("--tolerance", type=float, default=0.5, help="LU (default 0.5)")
    normalize.add_argument("--jobs", type=int, default=None, help="processes (default: all cores)")
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
    import soundfile as sf

    from audiolab.export import export_batch

    audios, rates = [], set()
    for source, _ in plan:
        audio, sr = sf.read(source, dtype="float64", always_2d=True)
        audios.append(audio.T)
        rates.add(int(sr))
    if len(rates) > 1:
        raise AudioError(f"--shared-gain needs one sample rate, got {sorted(rates)} Hz")
    return export_batch(audios, [d for _, d in plan], rates.pop() if rates else 32000,
                        gain="shared", errors="return", jobs=args.jobs, **options)  # fmt: skip


def _normalize_one(source: str, destination: str, options: dict[str, Any]) -> Any:
    """Read any file soundfile reads and export it normalized (runs in a worker)."""
    import soundfile as sf

    from audiolab.export import export

    try:
        audio, sr = sf.read(source, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioError(f"{source}: cannot read audio ({err})") from None
    try:
        return export(audio.T, destination, sr, **{"format": "wav", **options})
    except AudioError as err:
        raise AudioError(f"{source}: {err}") from None


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
    options = {
        "target_lufs": args.target,
        "true_peak_db": args.true_peak,
        "bit_depth": args.bit_depth,
    }
    plan: list[tuple[str, str]] = []
    failures: list[tuple[str, str]] = []
    inputs = {p.resolve() for p, _ in audio_files(args.inputs) if p.exists()}
    taken: set[Path] = set()
    for source, folder in audio_files(args.inputs):
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
    options = _export_options(args, options)
    if args.shared_gain:
        results = _shared(plan, options, args)
    else:
        results = run(
            _normalize_one,
            [(s, d, options) for s, d in plan],
            jobs=args.jobs,
            progress=progress(args),
            desc="normalize",
        )
    rows = []
    off_target = 0
    for (input_path, output_path), result in zip(plan, results, strict=True):
        if isinstance(result, Exception):
            failures.append((input_path, str(result)))
            continue
        verdict = "ok" if result.within_tolerance else "OFF TARGET"
        off_target += not result.within_tolerance
        rows.append(
            [
                input_path,
                output_path,
                result.input_lufs,
                result.output_lufs,
                result.true_peak_dbtp,
                verdict,
            ]
        )
    if rows:
        print(
            table(
                rows, ["input", "output", "LUFS in", "LUFS out", "dBTP", f"±{args.tolerance:g} LU"]
            )
        )
    report_failures(failures)
    bad = len(failures) + off_target
    print(f"{len(rows)} written, {bad} failed", file=sys.stderr)
    return 1 if bad else 0
