"""The reliability suite's cases, tried and passed per category (issue 14's table).

Runs ``tests/reliability`` and prints, per category, how many cases were
tried and how many passed, and what the random trials ran into. With
``--against REV`` it also runs the issue's cases (the store's and the command
line's) on the package as it was at ``REV`` (the test files stay these), to
show that each case fails there.

    python benchmarks/reliability.py                        # default trial counts
    AUDIOLAB_KILL_TRIALS=50 python benchmarks/reliability.py --against main

Not a test: counts are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHY = ["tests/reliability/test_store_cases.py", "tests/reliability/test_cli_cases.py"]


def run(tests: list[str], checkout: Path) -> dict[str, dict]:
    """Run ``tests`` in ``checkout`` (its ``audiolab``); the summed case counts."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "cases.jsonl"
        env = {**os.environ, "PYTHONPATH": str(checkout), "AUDIOLAB_CASES_REPORT": str(report)}
        env["HF_HUB_OFFLINE"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"]
        subprocess.run([*command, *tests], cwd=checkout, env=env, stdout=subprocess.DEVNULL)
        totals: dict[str, dict] = {}
        for line in report.read_text().splitlines() if report.exists() else []:
            for category, counts in json.loads(line).items():
                entry = totals.setdefault(category, {"tried": 0, "passed": 0, "seen": Counter()})
                entry["tried"] += counts["tried"]
                entry["passed"] += counts["passed"]
                entry["seen"].update(counts.get("seen", {}))
        return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also run the issue's cases on REV")
    args = parser.parse_args()

    here = run(["tests/reliability"], REPO)
    before: dict[str, dict] = {}
    if args.against:  # the package and settings of REV, with these tests
        with tempfile.TemporaryDirectory() as old:
            archive = subprocess.run(
                ["git", "archive", args.against, "audiolab", "pyproject.toml"],
                cwd=REPO,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
            shutil.copytree(REPO / "tests", Path(old) / "tests")
            before = run(WHY, Path(old))

    header = (
        f"| category | tried | passed |{f' failed on {args.against} |' if args.against else ''}"
    )
    print(header)
    print("| --- | ---: | ---: |" + (" ---: |" if args.against else ""))
    for category, counts in sorted(here.items()):
        row = f"| {category} | {counts['tried']} | {counts['passed']} |"
        if args.against:
            old = before.get(category)
            row += f" {old['tried'] - old['passed']} of {old['tried']} |" if old else " - |"
        print(row)
    total_tried = sum(c["tried"] for c in here.values())
    total_passed = sum(c["passed"] for c in here.values())
    print(f"| all | {total_tried} | {total_passed} |" + (" |" if args.against else ""))
    print()
    for category, counts in sorted(here.items()):
        if counts["seen"]:
            seen = ", ".join(f"{state} {n}" for state, n in sorted(counts["seen"].items()))
            print(f"{category}: {seen}")


if __name__ == "__main__":
    main()
