"""What every subcommand shares: option types, problem lines, the files of an argument, tables.

A problem is one line on stderr, ``audiolab: PATH: reason``, in the same
words whichever subcommand meets it (the reasons come from the library's
errors: :mod:`audiolab.audiofile` for files that cannot be read, the
operating system's words for the rest).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "EXIT_CODES",
    "MEASURE_COLUMNS",
    "Usage",
    "audio_files",
    "describe",
    "finite_float",
    "non_negative_float",
    "non_negative_int",
    "output_file",
    "positive_float",
    "positive_int",
    "problem",
    "progress",
    "table",
    "verdict",
]

#: What ``--help`` says about exit codes (every subcommand).
EXIT_CODES = """exit codes:
  0  everything asked was done, every item good
  1  a problem with an item, a file or the store (one line each on stderr:
     "audiolab: PATH: reason"); the other items are still processed
  2  usage error (an unknown option, a value out of range)"""


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


# ------------------------------------------------------------------ option types
def finite_float(text: str) -> float:
    """An argparse type: a finite number.

    Examples
    --------
    >>> finite_float("-16")
    -16.0
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0.

    Examples
    --------
    >>> positive_float("8")
    8.0
    """
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number, 0 or more.

    Examples
    --------
    >>> non_negative_float("0")
    0.0
    """
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more.

    Examples
    --------
    >>> positive_int("2")
    2
    """
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number, 0 or more.

    Examples
    --------
    >>> non_negative_int("0")
    0
    """
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return value


# ------------------------------------------------------------------ problems
def describe(err: BaseException, path: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """``(where, reason)`` of an error, for a problem line.

    The path is said once: a message that already starts with ``PATH: `` has
    it cut; an :class:`OSError` says its file and the system's words
    (``permission denied``, ``no space left on device``).

    Examples
    --------
    >>> describe(OSError(13, "Permission denied", "out/m.csv"))
    ('out/m.csv', 'permission denied')
    >>> from audiolab import AudioError
    >>> describe(AudioError("x.wav: no such file"), "x.wav")
    ('x.wav', 'no such file')
    """
    where = "" if path is None else os.fspath(path)
    if isinstance(err, OSError) and err.strerror:
        where = os.fspath(err.filename) if err.filename is not None else where
        return str(where), err.strerror[0].lower() + err.strerror[1:]
    message = str(err) or type(err).__name__
    for prefix in (where, os.path.abspath(where) if where else ""):
        if prefix and message.startswith(f"{prefix}: "):
            return prefix, message[len(prefix) + 2 :]
    if not where and ": " in message and os.sep in message.split(": ", 1)[0]:
        head, reason = message.split(": ", 1)
        return head, reason
    return str(where), message


def problem(where: str | os.PathLike[str], reason: str) -> None:
    """Print one problem line on stderr: ``audiolab: PATH: reason`` (``audiolab: reason``).

    Examples
    --------
    >>> problem("", "nothing to do")
    """
    where = os.fspath(where)
    print(f"audiolab: {where}: {reason}" if where else f"audiolab: {reason}", file=sys.stderr)


# ------------------------------------------------------------------ inputs and outputs
def progress(args: argparse.Namespace) -> bool | None:
    """Progress bars: never with ``--quiet``, else only on a terminal (``None``).

    Examples
    --------
    >>> progress(argparse.Namespace(quiet=True))
    False
    """
    return False if args.quiet else None


def audio_files(
    inputs: Iterable[str],
) -> tuple[list[tuple[Path, Path | None]], list[tuple[str, str]]]:
    """The audio files of file and folder arguments (recursive), and the arguments' problems.

    Returns ``([(file, the folder argument it was found in), ...], [(argument,
    reason), ...])``: a missing argument is ``no such file``, a folder
    without audio files ``no audio files in this folder``. Files named as
    arguments are kept whatever their extension (the reader says whether
    they are audio).

    Examples
    --------
    >>> audio_files(["missing.wav"])
    ([], [('missing.wav', 'no such file')])
    """
    import soundfile as sf

    extensions = {f".{name.lower()}" for name in sf.available_formats()} | {".mp3", ".oga"}
    found: list[tuple[Path, Path | None]] = []
    problems: list[tuple[str, str]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            inside = [
                child
                for child in sorted(path.rglob("*"))
                if child.is_file()
                and child.suffix.lower() in extensions
                and not child.name.startswith(".")
            ]
            if not inside:
                problems.append((text, "no audio files in this folder"))
            found.extend((child, path) for child in inside)
        elif os.path.lexists(path):
            found.append((path, None))
        else:
            problems.append((text, "no such file"))
    return found, problems


@contextlib.contextmanager
def output_file(name: str) -> Iterator[IO[str]]:
    """A text file to write to, ``-`` being stdout; a real file appears only when whole.

    The folder is tried before the caller's work starts (entering the
    block), so a folder that takes no file fails at once, with the OS's words.

    Examples
    --------
    >>> with output_file("-") as handle:
    ...     _ = handle.write("a,b\\n")
    a,b
    """
    if name == "-":
        yield sys.stdout
        return
    from audiolab.policy import temporary_path

    final = Path(name)
    if final.is_dir():
        raise IsADirectoryError(21, "Is a directory", name)
    temporary = temporary_path(final)
    try:
        try:
            handle = open(temporary, "x", newline="")
        except OSError as err:
            raise OSError(err.errno, err.strerror, name) from None
        with handle:
            yield handle
        os.replace(temporary, final)
    finally:
        if os.path.lexists(temporary):  # (a missing file on a read-only disk: EROFS)
            temporary.unlink()


# ------------------------------------------------------------------ tables
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
    """A plain fixed-width text table (the headers alone when there are no rows).

    Examples
    --------
    >>> print(table([["a.wav", -16.0]], ["file", "LUFS"]))
    file    LUFS
    -----  ------
    a.wav  -16.00
    """
    cells = [[format_value(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
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


def verdict(lufs: float | None, target: float, tolerance: float = 0.5) -> str:
    """``"ok"`` when ``lufs`` is within ``tolerance`` of ``target``, else ``"OFF TARGET"``.

    Examples
    --------
    >>> verdict(-16.2, -16.0), verdict(None, -16.0)
    ('ok', 'OFF TARGET')
    """
    return "ok" if lufs is not None and abs(lufs - target) <= tolerance else "OFF TARGET"


def subcommand(
    commands: Any, name: str, help: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """The parser of one subcommand, with the shared options and the exit codes in its help.

    Examples
    --------
    >>> commands = argparse.ArgumentParser().add_subparsers()
    >>> subcommand(commands, "demo", "the whole pipeline", []).prog.endswith("demo")
    True
    """
    return commands.add_parser(
        name,
        parents=parents,
        help=help,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
