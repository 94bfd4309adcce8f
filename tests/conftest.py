"""Shared fixtures: the EBU conformance files and small generated signals."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EBU_DIR = REPO.parent / "shared" / "ebu-loudness-test-set"


@pytest.fixture(scope="session")
def ebu_dir() -> Path:
    """The official EBU loudness test set beside the checkout (as in CI)."""
    if not EBU_DIR.is_dir():
        pytest.skip(f"EBU test set not found at {EBU_DIR} (a clone outside this repository's CI)")
    return EBU_DIR
