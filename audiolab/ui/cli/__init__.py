"""The ``audiolab`` command: demo, normalize, measure, generate, store.

Exit codes scripts can trust: 0 when every item is good, 1 when some item
failed (each problem is one line on stderr, ``audiolab: PATH: reason``, and
the rest is processed), 2 for a usage error. No user error prints a
traceback (the hidden ``--debug`` shows it). Progress bars go to stderr when
it is a terminal (never with ``--quiet``); tables and JSON go to stdout.

Examples
--------
>>> from audiolab.ui.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
audiolab ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from audiolab.errors import AudioError, StoreError
from audiolab.ui.cli import demo, generate, measure, normalize, regress, store
from audiolab.ui.cli._common import EXIT_CODES, Usage, describe, problem

__all__ = ["main"]

SUBCOMMANDS = (demo, normalize, measure, generate, store, regress)


def _parser() -> argparse.ArgumentParser:
    from audiolab import __version__

    parser = argparse.ArgumentParser(
        prog="audiolab",
        description="Loudness-normalized, measured, catalogued WAV files from generated music.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"audiolab {__version__}")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    # after the subcommand too; SUPPRESS keeps it from resetting the one given before
    shared.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    for command in SUBCOMMANDS:
        command.add_parser(commands, [shared])
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
    except Usage as err:
        parser.print_usage(sys.stderr)
        print(f"audiolab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        problem("", "interrupted")
        return 130
    except (AudioError, StoreError, OSError) as err:
        if args.debug:
            raise
        problem(*describe(err))
        return 1
    except Exception as err:  # a bug: still one line, and the way to see more
        if args.debug:
            raise
        problem("", f"internal error: {type(err).__name__}: {err} (run with --debug for details)")
        return 1
