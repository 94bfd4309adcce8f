"""The reliability suite: shared helpers, and the case counts written at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability._cases import write_report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_report()


def audiolab(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess[str]:
    """The command line in a real subprocess (offline)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **kwargs.pop("env", {})}
    return subprocess.run(
        [sys.executable, "-m", "audiolab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        **kwargs,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of a failed command (and no traceback)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("audiolab: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]
