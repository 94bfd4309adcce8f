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
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parents[1]
WHY = ["tests/reliability/test_store_cases.py", "tests/reliability/test_cli_cases.py"]


def run(tests: list[str], checkout: Path) -> tuple[dict[str, dict], list[tuple[str, str, bool]]]:
    """Run ``tests`` in ``checkout`` (its ``audiolab``): the summed case counts, and
    ``(file, test, passed)`` for each test."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "cases.jsonl"
        junit = Path(folder) / "junit.xml"
        env = {**os.environ, "PYTHONPATH": str(checkout), "AUDIOLAB_CASES_REPORT": str(report)}
        env["HF_HUB_OFFLINE"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"]
        command.append(f"--junitxml={junit}")
        subprocess.run([*command, *tests], cwd=checkout, env=env, stdout=subprocess.DEVNULL)
        outcomes = []
        for test in ElementTree.parse(junit).getroot().iter("testcase"):
            if test.find("skipped") is not None or not test.get("classname"):
                continue  # skipped, or not a test (a collection-time entry)
            failed = test.find("failure") is not None or test.find("error") is not None
            name = test.get("classname", "").rsplit(".", 1)[-1] + ".py"
            outcomes.append((name, str(test.get("name")), not failed))
        totals: dict[str, dict] = {}
        for line in report.read_text().splitlines() if report.exists() else []:
            for category, counts in json.loads(line).items():
                entry = totals.setdefault(category, {"tried": 0, "passed": 0, "seen": Counter()})
                entry["tried"] += counts["tried"]
                entry["passed"] += counts["passed"]
                entry["seen"].update(counts.get("seen", {}))
        return totals, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also run the issue's cases on REV")
    args = parser.parse_args()

    here, _ = run(["tests/reliability"], REPO)
    print(f"cases of tests/reliability ({os.environ.get('AUDIOLAB_KILL_TRIALS', '10')} kills each)")
    print("| category | tried | passed |")
    print("| --- | ---: | ---: |")
    for category, counts in sorted(here.items()):
        print(f"| {category} | {counts['tried']} | {counts['passed']} |")
    tried = sum(c["tried"] for c in here.values())
    print(f"| all | {tried} | {sum(c['passed'] for c in here.values())} |")
    print()
    for category, counts in sorted(here.items()):
        if counts["seen"]:
            seen = ", ".join(f"{state} {n}" for state, n in sorted(counts["seen"].items()))
            print(f"{category}: {seen}")
    if not args.against:
        return
    with tempfile.TemporaryDirectory() as old:  # the package and settings of REV, these tests
        archive = subprocess.run(
            ["git", "archive", args.against, "audiolab", "pyproject.toml"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        shutil.copytree(REPO / "tests", Path(old) / "tests")
        _, outcomes = run(WHY, Path(old))
    print()
    print(f"the issue's cases on {args.against} (tests, each parametrization one)")
    print(f"| file | tests | fail on {args.against} |")
    print("| --- | ---: | ---: |")
    for name in sorted({file for file, _, _ in outcomes}):
        mine = [ok for file, _, ok in outcomes if file == name]
        print(f"| {name} | {len(mine)} | {mine.count(False)} |")
    passing = [test for _, test, ok in outcomes if ok]
    print(f"passing on {args.against} too (guards, not cases of the issue): {', '.join(passing)}")


if __name__ == "__main__":
    main()
