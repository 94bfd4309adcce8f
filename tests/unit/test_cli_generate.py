"""``audiolab generate`` --continue, --melody, --window/--overlap, in process on the tiny models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from audiolab.store import Store
from audiolab.testing import tiny_musicgen
from audiolab.ui.cli import main

SR = 32000


def takes(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.startswith("gen_")]


def test_continue_extends_a_take_into_a_child_job(mono: str, tmp_path: Path, capsys) -> None:
    root = str(tmp_path / "store")
    common = ["--model", mono, "--root", root, "-q"]
    assert main(["generate", "techno", "--duration", "1", "--seed", "3", "--n", "2", *common]) == 0
    first, _second = takes(capsys.readouterr().out)
    parent = first[0]
    extend = ["generate", "--continue", parent, "--duration", "1.5", "--seed", "9"]
    assert main([*extend, *common]) == 0
    ((child, seed, *_, source, verdict),) = takes(capsys.readouterr().out)
    assert (seed, source, verdict) == ("9", parent, "ok")
    record = Store(root).get(child)
    assert record.relation == "extend" and record.duration_seconds == 2.5
    assert record.prompt == "techno" and record.params["seams_s"] == [1.0]


def test_windows_and_overlap_reach_the_take(mono: str, tmp_path: Path, capsys) -> None:
    root = str(tmp_path / "store")
    argv = ["generate", "house", "--duration", "3", "--window", "1.5", "--overlap", "0.5"]
    assert main([*argv, "--model", mono, "--root", root, "--seed", "1", "-q"]) == 0
    ((job, *_),) = takes(capsys.readouterr().out)
    record = Store(root).get(job)
    assert record.params["seams_s"] == [1.5, 2.5] and record.params["window_s"] == 1.5
    assert [s["time_s"] for s in record.measurement["seams"]] == [1.5, 2.5]


def test_melody_file_is_followed_and_recorded(tmp_path: Path, capsys) -> None:
    model = str(tiny_musicgen(tmp_path / "tiny-melody", melody=True))
    melody = tmp_path / "melody.wav"
    sf.write(melody, 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR), SR)
    root = str(tmp_path / "store")
    argv = ["generate", "techno", "--melody", str(melody), "--model", model, "--root", root]
    assert main([*argv, "--duration", "1", "-q"]) == 0
    ((job, *_),) = takes(capsys.readouterr().out)
    assert Store(root).get(job).params["melody"]["path"] == str(melody)


def test_a_melody_for_a_model_without_melody_support_is_one_clear_error(
    mono: str, tmp_path: Path, capsys
) -> None:
    melody = tmp_path / "melody.wav"
    sf.write(melody, np.zeros(SR), SR)
    argv = ["generate", "techno", "--melody", str(melody), "--model", mono, "-q"]
    assert main([*argv, "--root", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert "cannot follow a melody" in err and "Traceback" not in err


def test_continuing_a_job_that_is_not_there_is_an_error(mono: str, tmp_path: Path, capsys):
    argv = ["generate", "--continue", "gen_00000000", "--model", mono, "-q"]
    assert main([*argv, "--root", str(tmp_path)]) == 1
    assert "cannot be extended: not in the catalog" in capsys.readouterr().err
    assert main(["generate", "--continue", "../x", "--root", str(tmp_path)]) == 1
    assert "job id must match" in capsys.readouterr().err


def test_no_prompt_and_nothing_to_continue_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["generate", "--root", str(tmp_path)]) == 2
    assert "give a prompt, or --continue JOB_ID" in capsys.readouterr().err
