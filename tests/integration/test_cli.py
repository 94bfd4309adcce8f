"""The command line through real subprocesses: every subcommand, its output and exit codes."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import loudness
from audiolab.synth import reference
from audiolab.testing import tiny_musicgen

COMMANDS = ["demo", "normalize", "measure", "generate", "store"]


def audiolab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audiolab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Mixed formats and rates, a nested folder, and a file that is not audio."""
    folder = tmp_path_factory.mktemp("corpus")
    clips = [
        ("a.wav", 44100, 2, "PCM_16", 100),
        ("b.flac", 48000, 1, "PCM_24", 128),
        ("nested/c.ogg", 32000, 2, "VORBIS", 90),
        ("nested/deeper/d.wav", 22050, 1, "FLOAT", 140),
    ]
    for name, sr, channels, subtype, bpm in clips:
        clip = reference(bpm, "C major", duration=6.0, sr=sr, channels=channels, seed=bpm)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, 0.3 * clip.audio.T, sr, subtype=subtype)
    (folder / "nested" / "broken.wav").write_text("this is not audio")
    return folder


def test_help_for_the_command_and_every_subcommand() -> None:
    done = audiolab("--help")
    assert done.returncode == 0 and all(c in done.stdout for c in COMMANDS)
    for command in COMMANDS:
        sub = audiolab(command, "--help")
        assert sub.returncode == 0 and f"usage: audiolab {command}" in sub.stdout


def test_the_console_script_is_installed() -> None:
    script = shutil.which("audiolab") or str(Path(sys.executable).parent / "audiolab")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("audiolab ")


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        [],
        ["normalize", "x.wav"],  # neither -o nor --in-place
        ["normalize", "x.wav", "-o", "out", "--bit-depth", "PCM_8"],
        ["measure", "--json", "--csv", "x.csv", "x.wav"],
        ["store", "explode"],
        ["generate", "techno", "--n", "0"],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    done = audiolab(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "usage:" in done.stderr


def test_normalize_a_folder_of_mixed_formats(corpus: Path, tmp_path: Path) -> None:
    before = {p: digest(p) for p in corpus.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    done = audiolab(
        "normalize", str(corpus), "-o", str(out), "--target", "-14", "--jobs", "2", "-q"
    )
    assert done.returncode == 1  # the broken file failed; the rest was processed
    assert "broken.wav: not a readable audio file" in done.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert written == ["a.wav", "b.wav", "nested/c.wav", "nested/deeper/d.wav"]
    for path in out.rglob("*.wav"):
        audio, sr = sf.read(path, always_2d=True)
        assert (
            abs(loudness.integrated(audio.T, sr) + 14) <= 0.5
            and loudness.true_peak(audio.T, sr) <= -1
        )
    assert {p: digest(p) for p in corpus.rglob("*") if p.is_file()} == before  # inputs untouched
    assert "4 written (0 off target), 1 failed" in done.stderr and "a.wav" in done.stdout


def test_normalize_never_overwrites_an_input_unless_in_place(corpus: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(corpus, work)
    (work / "nested" / "broken.wav").unlink()
    original = digest(work / "a.wav")
    done = audiolab("normalize", str(work / "a.wav"), "-o", str(work), "-q")
    assert (
        done.returncode == 1 and "is an input" in done.stderr and digest(work / "a.wav") == original
    )
    done = audiolab("normalize", str(work / "a.wav"), str(work / "b.flac"), "--in-place", "-q")
    assert done.returncode == 1 and "WAV files only" in done.stderr  # the FLAC is left alone
    audio, sr = sf.read(work / "a.wav", always_2d=True)
    assert digest(work / "a.wav") != original and abs(loudness.integrated(audio.T, sr) + 16) <= 0.5


def test_normalize_all_good_exits_0(corpus: Path, tmp_path: Path) -> None:
    done = audiolab(
        "normalize", str(corpus / "a.wav"), "-o", str(tmp_path), "--bit-depth", "PCM_24"
    )
    assert done.returncode == 0, done.stderr
    assert sf.info(tmp_path / "a.wav").subtype == "PCM_24"


def test_measure_json_csv_and_table(corpus: Path, tmp_path: Path) -> None:
    done = audiolab("measure", str(corpus), "--json", "--jobs", "2", "-q")
    assert done.returncode == 1  # the broken file
    rows = json.loads(done.stdout)
    assert len(rows) == 5 and all("path" in r for r in rows)
    good = [r for r in rows if "error" not in r]
    bad = [r for r in rows if "error" in r]
    assert len(good) == 4 and bad[0]["path"].endswith("broken.wav")
    by_name = {Path(r["path"]).name: r for r in good}
    assert by_name["a.wav"]["sample_rate"] == 44100 and by_name["b.flac"]["bit_depth"] == "PCM_24"
    assert round(by_name["d.wav"]["bpm"]) == 140 and by_name["a.wav"]["key"] == "C major"

    table = tmp_path / "m.csv"
    done = audiolab(
        "measure", str(corpus / "a.wav"), str(corpus / "b.flac"), "--csv", str(table), "--no-key"
    )
    assert done.returncode == 0
    with table.open() as handle:
        read = list(csv.DictReader(handle))
    assert [Path(r["path"]).name for r in read] == ["a.wav", "b.flac"] and read[0]["key"] == ""
    assert float(read[0]["integrated_lufs"]) == pytest.approx(by_name["a.wav"]["integrated_lufs"])

    done = audiolab("measure", str(corpus / "a.wav"), "--no-bpm")
    assert done.returncode == 0 and "a.wav" in done.stdout and "LUFS" in done.stdout


def test_measure_reports_missing_paths(tmp_path: Path) -> None:
    done = audiolab("measure", str(tmp_path / "missing.wav"))
    assert done.returncode == 1 and "missing.wav" in done.stderr


def test_generate_into_the_store_then_ls_stats_verify_cleanup(tmp_path: Path) -> None:
    model = str(tiny_musicgen(tmp_path / "tiny"))
    root = str(tmp_path / "outputs")
    done = audiolab(
        "generate",
        "techno",
        "--duration",
        "2",
        "--model",
        model,
        "--seed",
        "5",
        "--n",
        "2",
        "--root",
        root,
    )
    assert done.returncode == 0, done.stderr
    takes = [line.split() for line in done.stdout.splitlines() if line.startswith("gen_")]
    assert [take[1] for take in takes] == ["5", "6"] and all(take[-1] == "ok" for take in takes)

    listing = audiolab("store", "ls", "--root", root)
    assert listing.returncode == 0 and listing.stdout.count("complete") == 2
    stats = json.loads(audiolab("store", "stats", "--root", root).stdout)
    assert stats["files"] == 2 and stats["per_status"]["complete"] == 2
    assert audiolab("store", "verify", "--root", root).stdout.strip().endswith("ok")

    dry = audiolab("store", "cleanup", "--days", "0", "--root", root)
    assert dry.returncode == 0 and dry.stdout.count("would delete") == 2 and "dry run" in dry.stdout
    assert json.loads(audiolab("store", "stats", "--root", root).stdout)["files"] == 2
    real = audiolab("store", "cleanup", "--days", "0", "--yes", "--root", root)
    assert real.returncode == 0 and real.stdout.count("deleted") == 2
    assert json.loads(audiolab("store", "stats", "--root", root).stdout)["files"] == 0


def test_generate_with_missing_weights_fails_cleanly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "outputs"
    done = audiolab("generate", "techno", "--model", "facebook/musicgen-small", "--root", str(root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()  # said once
    assert line.startswith("audiolab: facebook/musicgen-small: MusicGen weights are not here")
    assert "`hf download facebook/musicgen-small`" in line and "--model synth" in line
    assert "huggingface-cli" not in line and "model=" not in line
    assert not root.exists()  # nothing was generated, so nothing was created


def test_verify_reports_problems_with_exit_1(tmp_path: Path) -> None:
    from audiolab.store import Store

    Store(tmp_path).schema_version()  # a store, with its catalog
    stray = tmp_path / "2026" / "01" / "01" / "stray.wav"
    stray.parent.mkdir(parents=True)
    sf.write(stray, np.zeros((8000, 1)), 8000)
    done = audiolab("store", "verify", "--root", str(tmp_path))
    assert done.returncode == 1 and "files_without_row" in done.stdout
    assert audiolab("store", "verify", "--repair", "--root", str(tmp_path)).returncode == 0


def test_demo_runs_offline_and_writes_a_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    done = audiolab("demo", "--root", str(tmp_path), "--duration", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not available here" in done.stdout and done.stdout.count(" ok") == 3
    (report,) = (tmp_path / "reports").iterdir()
    assert len(list(report.glob("*.png"))) == 3
    summary = (report / "summary.md").read_text()
    assert summary.count("| ok |") == 3 and "audiolab.synth" in summary
