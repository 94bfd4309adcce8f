"""``audiolab demo``: the whole pipeline on three clips, with a report."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from audiolab.ui.cli._common import (
    describe,
    format_value,
    positive_float,
    problem,
    subcommand,
    table,
    verdict,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the subcommands ``commands`` (``parents``: the shared options).

    Examples
    --------
    >>> import argparse
    >>> add_parser(argparse.ArgumentParser().add_subparsers(), [])
    """
    demo = subcommand(commands, "demo", "the whole pipeline on three clips, with a report", parents)
    demo.add_argument(
        "--model",
        default="facebook/musicgen-small",
        help="MusicGen id or folder, or 'synth' for the offline reference generator "
        "(default: musicgen-small when its weights are in the local cache, else synth)",
    )
    demo.add_argument("--root", default="data/outputs", help="the store (default: data/outputs)")
    demo.add_argument(
        "--duration", type=positive_float, default=8.0, help="seconds per clip (default 8)"
    )
    demo.set_defaults(handler=run)


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
    store.schema_version()  # the catalog first: a root with a report and no catalog is no store
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
            problem(*describe(err, f"demo clip {prompt!r}"))
            failures += 1
            continue
        assert record.absolute_path is not None and record.integrated_lufs is not None
        written, _ = sf.read(record.absolute_path, always_2d=True)
        figure = Figure(figsize=plot.FIGSIZE, layout="constrained")
        plot.compare_loudness(audio, written.T, sr, ax=figure.add_subplot(), title=prompt)
        picture = report_dir / f"{record.job_id}.png"
        figure.savefig(picture, dpi=100)
        outcome = verdict(record.integrated_lufs, -16.0)
        failures += outcome != "ok"
        peak = record.true_peak_dbtp
        row = [record.job_id, record.integrated_lufs, peak, record.bpm, record.key, outcome]
        rows.append(row)
        lines.append(
            f"| {prompt} | `{record.path}` | {record.integrated_lufs:.2f} | {peak:.2f} | "
            f"{format_value(record.bpm)} | {format_value(record.key)} | {outcome} | "
            f"![]({picture.name}) |"
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


def run(args: argparse.Namespace) -> int:
    """Run ``audiolab demo`` with parsed ``args``; returns the exit code.

    Examples
    --------
    >>> callable(run)
    True
    """
    return run_demo(args.model, args.root, duration=args.duration, quiet=args.quiet)
