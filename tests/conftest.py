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


# The tiny MusicGens (random weights, saved once a session, loaded like real checkpoints).
@pytest.fixture(scope="session")
def mono(tmp_path_factory: pytest.TempPathFactory) -> str:
    from audiolab.testing import tiny_musicgen

    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny-mono")))


@pytest.fixture(scope="session")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> str:
    from audiolab.testing import tiny_musicgen

    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny-stereo"), stereo=True))


@pytest.fixture(scope="session")
def melodic(tmp_path_factory: pytest.TempPathFactory) -> str:
    from audiolab.testing import tiny_musicgen

    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny-melody"), melody=True))


@pytest.fixture(scope="session")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Five frames a second: long takes in a few steps."""
    from audiolab.testing import tiny_musicgen

    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny-coarse"), frame_rate=5))
