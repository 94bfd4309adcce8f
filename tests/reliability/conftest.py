"""The reliability suite writes its case counts at the end (see benchmarks/reliability.py)."""

from __future__ import annotations

import pytest

from tests.reliability._cases import write_report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_report()
