"""What every subcommand shares: tables, the files of an argument, usage errors, verdicts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "MEASURE_COLUMNS",
    "Usage",
    "audio_files",
    "progress",
    "report_failures",
    "table",
    "verdict",
]


class Usage(Exception):
    """A usage error found after parsing (exit code 2).

    Examples
    --------
    >>> str(Usage("give either -o OUTDIR or --in-place"))
    'give either -o OUTDIR or --in-place'
    """


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


def format_value(value: Any) -> str:
    """A table cell: ``-`` for None, two decimals for floats.

    Examples
    --------
    >>> format_value(None), format_value(-16.004), format_value("C major")
    ('-', '-16.00', 'C major')
    """
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
    cells = [[format_value(v) for v in row] for row in rows]
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


def progress(args: argparse.Namespace) -> bool | None:
    """Progress bars: never with ``--quiet``, else only on a terminal (``None``).

    Examples
    --------
    >>> progress(argparse.Namespace(quiet=True))
    False
    """
    return False if args.quiet else None


def audio_files(inputs: Iterable[str]) -> list[tuple[Path, Path | None]]:
    """(file, the folder argument it was found in) for files and folders, recursively.

    Examples
    --------
    >>> audio_files(["missing.wav"])
    [(PosixPath('missing.wav'), None)]
    """
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


def report_failures(failures: list[tuple[str, str]]) -> None:
    """One line per failure on stderr: ``audiolab: PATH: reason``.

    Examples
    --------
    >>> report_failures([])
    """
    for path, message in failures:
        print(f"audiolab: {path}: {message}", file=sys.stderr)


def verdict(lufs: float | None, target: float, tolerance: float = 0.5) -> str:
    """``"ok"`` when ``lufs`` is within ``tolerance`` of ``target``, else ``"OFF TARGET"``.

    Examples
    --------
    >>> verdict(-16.2, -16.0), verdict(None, -16.0)
    ('ok', 'OFF TARGET')
    """
    return "ok" if lufs is not None and abs(lufs - target) <= tolerance else "OFF TARGET"
