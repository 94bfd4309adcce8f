"""Counting the cases of the reliability suite, per category (see benchmarks/reliability.py).

A case is one attack: a parametrization, a random example, a kill at a
random point. ``with case("category"):`` counts it as tried on entry and as
passed when the block ends without an error.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator

TRIED: Counter[str] = Counter()
PASSED: Counter[str] = Counter()
#: What the random trials ran into (e.g. a kill that left a pending row), per category.
SEEN: Counter[tuple[str, str]] = Counter()

#: Where the counts go at the end of the session (set by benchmarks/reliability.py).
REPORT_ENV = "AUDIOLAB_CASES_REPORT"


@contextlib.contextmanager
def case(category: str) -> Iterator[None]:
    TRIED[category] += 1
    yield
    PASSED[category] += 1


def passed(category: str, n: int) -> None:
    """Count ``n`` cases that a test checked together (call it after the checks)."""
    TRIED[category] += n
    PASSED[category] += n


def seen(category: str, state: str) -> None:
    """Note that a trial of ``category`` ran into ``state``."""
    SEEN[category, state] += 1


def trials(name: str, default: int) -> int:
    """How many random trials a slow test makes: ``AUDIOLAB_<NAME>_TRIALS`` or ``default``."""
    value = os.environ.get(f"AUDIOLAB_{name.upper()}_TRIALS", "")
    return int(value) if value.strip() else default


def write_report() -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    counts = {c: {"tried": TRIED[c], "passed": PASSED[c], "seen": {}} for c in sorted(TRIED)}
    for (c, state), n in SEEN.items():
        counts.setdefault(c, {"tried": 0, "passed": 0, "seen": {}})["seen"][state] = n
    with open(path, "a") as handle:  # each xdist worker or session appends its counts
        handle.write(json.dumps(counts) + "\n")
