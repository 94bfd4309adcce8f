"""The notebooks: committed clean, parameterised, and their assertions really check."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_numbered_notebooks_are_there() -> None:
    names = [p.name for p in NOTEBOOKS]
    for expected in [
        "01_generate_and_export.ipynb",
        "02_loudness_curves.ipynb",
        "03_tempo_and_key.ipynb",
        "04_criterion_regression.ipynb",
        "05_catalog.ipynb",
        "06_audition.ipynb",
    ]:
        assert expected in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name


def _asserts(source: str) -> bool:
    """Whether the cell's code holds an ``assert`` statement (not a comment, not a string)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def test_the_assert_check_reads_code_not_comments() -> None:
    assert _asserts("x = 1\nassert x == 1")
    assert _asserts("for i in range(2):\n    assert i < 2, 'small'")
    assert not _asserts("# assert x == 1\nprint('assert ')")
    assert not _asserts('"""assert nothing"""')


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_start_with_a_parameters_cell_and_assert_their_claims(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), path.name
    assert "AUDIOLAB_" in code[0].source and "os.environ" in code[0].source
    assert any(_asserts(cell.source) for cell in code), f"{path.name} asserts nothing"
    assert notebook.cells[0].cell_type == "markdown"  # why before how


def test_the_regression_notebook_fails_when_exports_miss_their_target(
    tmp_path, monkeypatch
) -> None:
    """Break the target on purpose: the notebook's assertion must catch it."""
    monkeypatch.setenv("AUDIOLAB_EXPORT_OFFSET_LU", "1.0")  # as a broken export would
    monkeypatch.setenv("AUDIOLAB_PROMPTS", "techno")
    monkeypatch.setenv("AUDIOLAB_TARGETS", "-16")
    monkeypatch.setenv("AUDIOLAB_BIT_DEPTHS", "PCM_16")
    monkeypatch.setenv("AUDIOLAB_DURATION", "2")
    notebook = nbformat.read(next(p for p in NOTEBOOKS if p.name.startswith("04_")), as_version=4)
    client = NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError, match="off target"):
        client.execute()
