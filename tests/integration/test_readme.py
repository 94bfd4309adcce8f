"""The README's Python examples run as written, offline (with the tiny model standing in)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def example(heading: str) -> str:
    """The first ```python block after ``heading``."""
    text = README.read_text()
    after = text[text.index(f"## {heading}") :]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found, f"no Python example under {heading!r}"
    return found.group(1)


def test_the_api_example_and_the_seed_example_run_as_written_offline(tmp_path: Path) -> None:
    code = example("The API in five lines") + "\n" + example("The seed's integration example")
    code += "\nassert record.status == 'complete' and abs(record.integrated_lufs + 16) <= 0.5\n"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}  # tiny models: 1 is faster
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "not available here" in done.stdout  # the one line that says the tiny model is used
    assert (tmp_path / "take.wav").is_file()
    with sqlite3.connect(tmp_path / "data" / "outputs" / "catalog.sqlite") as connection:
        statuses = [row[0] for row in connection.execute("SELECT status FROM generations")]
    assert statuses == ["complete", "complete"]


def test_the_generation_example_runs_as_written_offline(tmp_path: Path) -> None:
    code = example("Generation for research")
    code += (
        "\nassert len(takes) == 3 and len(longer.seams_s) == 1"
        "\nassert again.status == 'complete' and child.parent_id == record.job_id"
        "\nkept = takes[0].audio.shape[-1] - 3200"  # the prompt, less the 0.1 s crossfade
        "\nassert (more.audio[..., :kept] == takes[0].audio[..., :kept]).all()\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}  # tiny models: 1 is faster
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"\['gen_\w+', 'gen_\w+'\]", done.stdout)  # the lineage, oldest first
