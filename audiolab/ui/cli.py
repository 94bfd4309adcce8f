"""The ``audiolab`` command: demo, normalize, measure, generate, store.

Exit codes scripts can trust: 0 when every item is good, 1 when some item
failed (each failure is reported with its path and the rest is processed), 2
for a usage error. Progress bars go to stderr when it is a terminal (never
with ``--quiet``); tables and JSON go to stdout.

Examples
--------
>>> from audiolab.ui.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
audiolab ...
0
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from audiolab._audio import AudioError
from audiolab.policy import BIT_DEPTHS

__all__ = ["main"]

#: The catalog's measurement fields shown by ``audiolab measure``.
MEASURE_COLUMNS = (
    "duration_seconds",
    "sample_rate",
    "channels",
    "bit_depth",
    "integrated_lufs",
    "true_peak_dbtp",
    "loudness_range_lu",
    "bpm",
    "key",
    "key_confidence",
    "peak_amplitude",
    "rms_energy",
    "dynamic_range_db",
    "file_size_bytes",
)


# ------------------------------------------------------------------ output helpers
def _format(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain fixed-width text table.

    Examples
    --------
    >>> print(table([["a.wav", -16.0]], ["file", "LUFS"]))
    file    LUFS
    -----  ------
    a.wav  -16.00
    """
    cells = [[_format(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(
            "  ".join(
                c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None  # None: only on a terminal


def _audio_files(inputs: Iterable[str]) -> list[tuple[Path, Path | None]]:
    """(file, the folder argument it was found in) for files and folders, recursively."""
    import soundfile as sf

    extensions = {f".{name.lower()}" for name in sf.available_formats()} | {".mp3", ".oga"}
    found: list[tuple[Path, Path | None]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix.lower() in extensions
                    and not child.name.startswith(".")
                ):
                    found.append((child, path))
        else:
            found.append((path, None))  # a missing path is reported by the worker
    return found


# ------------------------------------------------------------------ normalize
def _normalize_one(source: str, destination: str, options: dict[str, Any]) -> Any:
    """Read any file soundfile reads and export it normalized (runs in a worker)."""
    import soundfile as sf

    from audiolab.export import export_wav

    try:
        audio, sr = sf.read(source, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise AudioError(f"{source}: cannot read audio ({err})") from None
    try:
        return export_wav(audio.T, destination, sr, **options)
    except AudioError as err:
        raise AudioError(f"{source}: {err}") from None


def _cmd_normalize(args: argparse.Namespace) -> int:
    from audiolab.batch import run

    if args.in_place == (args.output is not None):
        raise _Usage("give either -o OUTDIR or --in-place")
    options = {
        "target_lufs": args.target,
        "true_peak_db": args.true_peak,
        "bit_depth": args.bit_depth,
    }
    plan: list[tuple[str, str]] = []
    failures: list[tuple[str, str]] = []
    inputs = {p.resolve() for p, _ in _audio_files(args.inputs) if p.exists()}
    taken: set[Path] = set()
    for source, folder in _audio_files(args.inputs):
        if args.in_place:
            if source.suffix.lower() != ".wav":
                failures.append(
                    (str(source), "--in-place rewrites WAV files only; use -o for other formats")
                )
                continue
            destination = source
        else:
            relative = source.relative_to(folder) if folder else Path(source.name)
            destination = Path(args.output) / relative.with_suffix(".wav")
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
    results = run(
        _normalize_one,
        [(s, d, options) for s, d in plan],
        jobs=args.jobs,
        progress=_progress(args),
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
    _report_failures(failures)
    bad = len(failures) + off_target
    print(f"{len(rows)} written, {bad} failed", file=sys.stderr)
    return 1 if bad else 0


def _report_failures(failures: list[tuple[str, str]]) -> None:
    for path, message in failures:
        print(f"audiolab: {path}: {message}", file=sys.stderr)


# ------------------------------------------------------------------ measure
def _cmd_measure(args: argparse.Namespace) -> int:
    from audiolab.measure import measure_many

    files = [str(p) for p, _ in _audio_files(args.paths)]
    if not files:
        raise _Usage("no audio files found in " + ", ".join(args.paths))
    results = measure_many(
        files, jobs=args.jobs, bpm=not args.no_bpm, key=not args.no_key, progress=_progress(args)
    )
    records: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    for path, result in zip(files, results, strict=True):
        if isinstance(result, Exception):
            failures.append((path, str(result)))
            records.append({"path": path, "error": str(result)})
        else:
            records.append({"path": path, **result.to_dict()})
    if args.json:
        print(json.dumps(records, indent=2, allow_nan=False))
    elif args.csv:
        columns = ["path", *MEASURE_COLUMNS, "error"]
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
        print(f"wrote {len(records)} rows to {args.csv}", file=sys.stderr)
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
    _report_failures(failures)
    return 1 if failures else 0


# ------------------------------------------------------------------ generate
def _cmd_generate(args: argparse.Namespace) -> int:
    import random

    from audiolab.generate import generate
    from audiolab.store import Store

    if args.n < 1:
        raise _Usage(f"--n must be at least 1, got {args.n}")
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
        verdict = _verdict(record.integrated_lufs, args.target)
        failures += verdict != "ok"
        rows.append(
            [
                record.job_id,
                seed,
                record.path,
                record.integrated_lufs,
                record.bpm,
                record.key,
                verdict,
            ]
        )
    if rows:
        print(table(rows, ["job", "seed", "file", "LUFS", "BPM", "key", "±0.5 LU"]))
    return 1 if failures else 0


def _verdict(lufs: float | None, target: float, tolerance: float = 0.5) -> str:
    return "ok" if lufs is not None and abs(lufs - target) <= tolerance else "OFF TARGET"


# ------------------------------------------------------------------ store
def _cmd_store(args: argparse.Namespace) -> int:
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
        print(json.dumps(store.get_storage_stats(), indent=2))
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
    old = store.cleanup_old_files(days_old=args.days, dry_run=not args.yes)
    for path in old:
        print(("deleted " if args.yes else "would delete ") + str(path))
    if args.yes:
        store.cleanup_empty_directories()
    else:
        print(f"dry run: {len(old)} files older than {args.days:g} days; add --yes to delete them")
    return 0


# ------------------------------------------------------------------ demo
#: (prompt, tempo, key) of the demo's three clips; tempo and key drive the offline generator.
DEMO_CLIPS = (
    ("hip hop beat at 90 BPM with heavy 808 bass", 90.0, "A minor"),
    ("uplifting house at 124 BPM with piano chords", 124.0, "C major"),
    ("drum and bass at 174 BPM with dark pads", 174.0, "F minor"),
)


def _demo_generator(model: str, duration: float) -> tuple[str, Any]:
    """(model name for the catalog, function (prompt, bpm, key, seed) -> (audio, sr))."""
    if model != "synth":
        from audiolab.generate import generate
        from audiolab.policy import fallback_notice

        notice = fallback_notice(model, "the offline reference generator (audiolab.synth)")
        if notice is None:

            def musicgen(prompt: str, bpm: float, key: str, seed: int) -> tuple[Any, int]:
                generation = generate(prompt, duration, model=model, seed=seed, progress=False)
                return generation.audio, generation.sample_rate

            return model, musicgen
        print(notice)
    from audiolab.synth import reference

    def synth(prompt: str, bpm: float, key: str, seed: int) -> tuple[Any, int]:
        clip = reference(bpm, key, duration, sr=32000, seed=seed)
        return clip.audio, clip.sample_rate

    return "audiolab.synth", synth


def run_demo(model: str, root: str, *, duration: float = 8.0, quiet: bool = False) -> int:
    """The whole pipeline on three clips: generate, normalize, export, measure, catalog, report.

    Parameters
    ----------
    model : str
        MusicGen hub id or folder, or ``"synth"`` for the offline generator
        (also used, with a line saying so, when the weights are not available).
    root : str
        The store; the report goes to ``root/reports/demo-<UTC time>/``.
    duration : float
        Seconds per clip.
    quiet : bool
        No progress bar.

    Returns
    -------
    int
        0 when every clip is within ±0.5 LU of -16 LUFS under -1 dBTP, else 1.

    Examples
    --------
    >>> import tempfile
    >>> run_demo("synth", tempfile.mkdtemp(), duration=2.0, quiet=True)  # doctest: +ELLIPSIS
    job ...
    0
    """
    from datetime import datetime, timezone

    import soundfile as sf
    from matplotlib.figure import Figure
    from tqdm.auto import tqdm

    from audiolab.store import Store
    from audiolab.ui import plot

    name, make = _demo_generator(model, duration)
    store = Store(root)
    report_dir = store.root / "reports" / f"demo-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    report_dir.mkdir(parents=True, exist_ok=True)
    rows, lines, failures = [], [], 0
    bar = tqdm(DEMO_CLIPS, desc="demo", disable=quiet or not sys.stderr.isatty())
    for seed, (prompt, bpm, key) in enumerate(bar):
        params = {"duration": duration, "target_lufs": -16.0, "true_peak_db": -1.0}
        job = store.begin(prompt=prompt, model=name, params=params, seed=seed)
        try:
            audio, sr = make(prompt, bpm, key, seed)
            record = store.complete(job, audio, sr)
        except Exception as err:
            print(f"audiolab demo: {prompt!r} failed: {err}", file=sys.stderr)
            failures += 1
            continue
        assert record.absolute_path is not None and record.integrated_lufs is not None
        written, _ = sf.read(record.absolute_path, always_2d=True)
        figure = Figure(figsize=plot.FIGSIZE, layout="constrained")
        plot.compare_loudness(audio, written.T, sr, ax=figure.add_subplot(), title=prompt)
        picture = report_dir / f"{record.job_id}.png"
        figure.savefig(picture, dpi=100)
        verdict = _verdict(record.integrated_lufs, -16.0)
        failures += verdict != "ok"
        peak = record.true_peak_dbtp
        row = [record.job_id, record.integrated_lufs, peak, record.bpm, record.key, verdict]
        rows.append(row)
        lines.append(
            f"| {prompt} | `{record.path}` | {record.integrated_lufs:.2f} | {peak:.2f} | "
            f"{_format(record.bpm)} | {_format(record.key)} | {verdict} | ![]({picture.name}) |"
        )
    summary = report_dir / "summary.md"
    summary.write_text(
        "# audiolab demo\n\n"
        f"Generator: {name}. Target -16 LUFS ±0.5 LU, true peak at most -1 dBTP.\n\n"
        "| prompt | file | LUFS | dBTP | BPM | key | ±0.5 LU | loudness |\n"
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |\n" + "\n".join(lines) + "\n"
    )
    print(table(rows, ["job", "LUFS", "dBTP", "BPM", "key", "±0.5 LU"]))
    print(f"files in {store.root}, report in {summary}")
    return 1 if failures else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(args.model, args.root, duration=args.duration, quiet=args.quiet)


# ------------------------------------------------------------------ parser
class _Usage(Exception):
    """A usage error found after parsing (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    from audiolab import __version__

    parser = argparse.ArgumentParser(
        prog="audiolab",
        description="Loudness-normalized, measured, catalogued WAV files from generated music.",
    )
    parser.add_argument("--version", action="version", version=f"audiolab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    demo = commands.add_parser(
        "demo", parents=[quiet], help="the whole pipeline on three clips, with a report"
    )
    demo.add_argument(
        "--model",
        default="facebook/musicgen-small",
        help="MusicGen id or folder, or 'synth' for the offline reference generator "
        "(default: musicgen-small when its weights are in the local cache, else synth)",
    )
    demo.add_argument("--root", default="data/outputs", help="the store (default: data/outputs)")
    demo.add_argument("--duration", type=float, default=8.0, help="seconds per clip (default 8)")
    demo.set_defaults(handler=_cmd_demo)

    normalize = commands.add_parser(
        "normalize", parents=[quiet], help="normalize audio files to a loudness target (WAV out)"
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
    normalize.set_defaults(handler=_cmd_normalize)

    measure = commands.add_parser("measure", parents=[quiet], help="measure audio files")
    measure.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    output = measure.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON array")
    output.add_argument("--csv", metavar="FILE", help="write a CSV file")
    measure.add_argument("--no-bpm", action="store_true", help="skip the tempo")
    measure.add_argument("--no-key", action="store_true", help="skip the key")
    measure.add_argument("--jobs", type=int, default=None, help="processes (default: all cores)")
    measure.set_defaults(handler=_cmd_measure)

    generate = commands.add_parser(
        "generate", parents=[quiet], help="generate with MusicGen into the store"
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
    generate.set_defaults(handler=_cmd_generate)

    store = commands.add_parser("store", help="list, count, check and clean the store")
    store.add_argument("action", choices=("ls", "stats", "verify", "cleanup"))
    store.add_argument("--root", default="data/outputs", help="the store (default: data/outputs)")
    store.add_argument("--limit", type=int, default=None, help="ls: at most this many rows")
    store.add_argument("--status", choices=("pending", "complete", "failed"), help="ls: only these")
    store.add_argument("--repair", action="store_true", help="verify: repair what is found")
    store.add_argument("--days", type=float, default=30.0, help="cleanup: older than (default 30)")
    store.add_argument(
        "--yes", action="store_true", help="cleanup: really delete (default: dry run)"
    )
    store.set_defaults(handler=_cmd_store)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 all good, 1 some items failed, 2 usage error.

    Examples
    --------
    >>> main(["store", "stats", "--root", "/nonexistent/x"])  # doctest: +SKIP
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return int(args.handler(args))
    except _Usage as err:
        parser.print_usage(sys.stderr)
        print(f"audiolab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except AudioError as err:
        print(f"audiolab {args.command}: error: {err}", file=sys.stderr)
        return 1
