"""Issue 14, "The command line": each crash, misleading line and read that wrote, now one line.

Through real subprocesses (``python -m audiolab``), offline, so that the
exit code, stdout, stderr and the files left behind are what a script sees;
the long lists of one kind (every option, every read-only subcommand) run
``main()`` in this process after one subprocess case of the kind.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import loudness
from audiolab.synth import reference
from tests.reliability._cases import case
from tests.reliability._run import audiolab, one_line

CLI = "cli: lines, exit codes, options"
READS = "cli: reads create nothing"
SR = 16000


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Quiet clips in three subtypes, a cut-off WAV, a 0-byte file, an empty folder."""
    folder = tmp_path_factory.mktemp("clips")
    clip = 0.2 * reference(100, "C major", duration=4.0, sr=SR).audio.T
    for subtype in ("PCM_16", "PCM_24", "FLOAT"):
        sf.write(folder / f"{subtype.lower()}.wav", clip, SR, subtype=subtype)
    data = (folder / "pcm_16.wav").read_bytes()
    (folder / "cut.wav").write_bytes(data[: len(data) // 2])
    (folder / "zero.wav").write_bytes(b"")
    (folder / "nothing").mkdir()
    return folder


def everything(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


# ------------------------------------------------------------------ no tracebacks
def test_store_ls_of_an_empty_store_prints_the_headers(tmp_path: Path) -> None:
    from audiolab import Store

    with case(CLI):
        Store(tmp_path).schema_version()  # a store without rows
        done = audiolab("store", "ls", "--root", str(tmp_path))
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert done.stdout.split()[:2] == ["job", "status"]


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--duration", "-3"],
        ["demo", "--duration", "nan"],
        ["generate", "x", "--duration", "0"],
        ["generate", "x", "--n", "0"],
        ["normalize", "x.wav", "-o", "o", "--tolerance", "-1"],
        ["normalize", "x.wav", "-o", "o", "--jobs", "0"],
        ["normalize", "x.wav", "-o", "o", "--jobs", "-1"],
        ["normalize", "x.wav", "-o", "o", "--target", "nan"],
        ["normalize", "x.wav", "-o", "o", "--true-peak", "inf"],
        ["measure", "x.wav", "--jobs", "0"],
        ["store", "ls", "--limit", "-1"],
        ["store", "cleanup", "--days", "-1"],
        ["store", "verify", "--grace", "-5"],
        ["store", "verify", "--grace", "soon"],
    ],
)
def test_every_option_is_validated_before_anything_runs(
    args: list[str], tmp_path: Path, capsys, monkeypatch
) -> None:
    from audiolab.ui.cli import main

    with case(CLI):
        monkeypatch.chdir(tmp_path)
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "usage:" in err and "error: argument" in err and not any(tmp_path.iterdir())


def test_a_bad_option_in_a_subprocess_is_a_usage_line(tmp_path: Path) -> None:
    with case(CLI):
        done = audiolab("demo", "--duration", "-3", cwd=tmp_path)
        assert done.returncode == 2 and "usage:" in done.stderr and "Traceback" not in done.stderr
        assert "--duration: expected a number above 0, got '-3'" in done.stderr
        assert not any(tmp_path.iterdir())


def test_exit_codes_are_documented_in_every_help(capsys) -> None:
    from audiolab.ui.cli import main

    assert "exit codes:" in audiolab("--help").stdout
    for command in ([], ["demo"], ["normalize"], ["measure"], ["generate"], ["store"]):
        with case(CLI):
            assert main([*command, "--help"]) == 0
            text = capsys.readouterr().out
            assert "exit codes:" in text and all(f"  {code}  " in text for code in "012")


def test_debug_shows_the_traceback_that_a_user_is_spared(tmp_path: Path) -> None:
    with case(CLI):
        plain = audiolab("store", "cleanup", "--root", "/")
        assert plain.returncode == 1 and "refusing the file system's root" in one_line(plain)
        debug = audiolab("--debug", "store", "cleanup", "--root", "/")
        assert debug.returncode == 1 and "Traceback" in debug.stderr
        after = audiolab("store", "cleanup", "--root", "/", "--debug")
        assert "Traceback" in after.stderr


@pytest.mark.parametrize("root", ["/", "~", ""])
def test_cleanup_of_the_file_system_root_or_home_is_refused(root: str, tmp_path: Path) -> None:
    with case(CLI):
        done = audiolab("store", "cleanup", "--yes", "--days", "0", "--root", root, cwd=tmp_path)
        assert done.returncode == 1 and done.stdout == ""
        assert "refusing" in one_line(done) or "must be a folder" in one_line(done)


# ------------------------------------------------------------------ reads write nothing
@pytest.mark.parametrize(
    "args",
    [
        ["store", "stats"],
        ["store", "ls"],
        ["store", "verify"],
        ["store", "cleanup"],
        ["store", "verify", "--repair"],
        ["store", "cleanup", "--yes"],
    ],
)
@pytest.mark.parametrize("where", ["missing", "empty"])
def test_store_subcommands_where_there_is_no_store_create_nothing(
    args: list[str], where: str, tmp_path: Path, capsys
) -> None:
    from audiolab.ui.cli import main

    with case(READS):
        root = tmp_path / "nonexistent" / "x" if where == "missing" else tmp_path / "empty"
        if where == "empty":
            root.mkdir()
        before = everything(tmp_path)
        assert main([*args, "--root", str(root)]) == 1
        line = f"audiolab: {root}: no audiolab store here (no catalog.sqlite); nothing was created"
        assert capsys.readouterr().err == line + "\n"
        assert everything(tmp_path) == before


def test_store_stats_of_a_missing_store_in_a_subprocess_creates_nothing(tmp_path: Path) -> None:
    with case(READS):
        done = audiolab("store", "stats", "--root", str(tmp_path / "nonexistent" / "x"))
        assert done.returncode == 1 and "no audiolab store here" in one_line(done)
        assert not any(tmp_path.iterdir())


def test_reading_a_store_leaves_no_file_behind(tmp_path: Path) -> None:
    with case(READS):
        done = audiolab(
            "generate",
            "x at 90 bpm",
            "--model",
            "synth",
            "--duration",
            "1",
            "--root",
            str(tmp_path),
            "-q",
        )
        assert done.returncode == 0, done.stderr
        before = everything(tmp_path)
        for args in (["ls"], ["stats"], ["verify"], ["cleanup", "--days", "0"], ["ls", "--json"]):
            assert audiolab("store", *args, "--root", str(tmp_path)).returncode == 0
        assert everything(tmp_path) == before  # not even a -wal or -shm file


def test_measure_creates_nothing(clips: Path) -> None:
    with case(READS):
        before = everything(clips)
        assert audiolab("measure", str(clips / "pcm_24.wav"), "--no-bpm").returncode == 0
        assert everything(clips) == before


def test_a_failed_generate_leaves_no_store(tmp_path: Path) -> None:
    with case(READS):
        root = tmp_path / "outputs"
        done = audiolab(
            "generate", "techno", "--model", str(tmp_path / "no-model"), "--root", str(root)
        )
        line = one_line(done)
        assert done.returncode == 1 and not root.exists()
        assert "`hf download" in line and "--model" in line and "huggingface-cli" not in line


# ------------------------------------------------------------------ generate
def test_generate_with_the_synth_works_offline(tmp_path: Path) -> None:
    with case(CLI):
        done = audiolab(
            "generate",
            "house at 124 bpm in A minor",
            "--model",
            "synth",
            "--duration",
            "3",
            "--seed",
            "4",
            "--root",
            str(tmp_path),
            "-q",
        )
        assert done.returncode == 0, done.stderr
        (row,) = [line.split() for line in done.stdout.splitlines() if line.startswith("gen_")]
        assert row[1] == "4" and row[-1] == "ok" and row[-4:-2] == ["A", "minor"]
        listing = json.loads(audiolab("store", "ls", "--json", "--root", str(tmp_path)).stdout)
        assert [(r["model"], r["status"], r["seed"]) for r in listing] == [
            ("audiolab.synth", "complete", 4)
        ]


def test_missing_weights_are_said_once_with_the_current_hints(tmp_path: Path) -> None:
    with case(CLI):
        done = audiolab(
            "generate",
            "techno",
            "--model",
            "facebook/musicgen-small",
            "--n",
            "3",
            "--root",
            str(tmp_path / "o"),
        )
        line = one_line(done)  # once, though three takes were asked
        assert "`hf download facebook/musicgen-small`" in line and "--model synth" in line
        assert "huggingface-cli" not in line and "model=" not in line


# ------------------------------------------------------------------ normalize
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_in_place_keeps_the_inputs_bit_depth(clips: Path, tmp_path: Path, subtype: str) -> None:
    with case(CLI):
        path = tmp_path / "take.wav"
        path.write_bytes((clips / f"{subtype.lower()}.wav").read_bytes())
        done = audiolab("normalize", str(path), "--in-place", "-q")
        assert done.returncode == 0, done.stderr
        audio, sr = sf.read(path, always_2d=True)
        assert sf.info(path).subtype == subtype
        assert abs(loudness.integrated(audio.T, sr) + 16) <= 0.5


def test_in_place_with_a_bit_depth_converts(clips: Path, tmp_path: Path) -> None:
    with case(CLI):
        path = tmp_path / "take.wav"
        path.write_bytes((clips / "float.wav").read_bytes())
        done = audiolab("normalize", str(path), "--in-place", "--bit-depth", "PCM_24", "-q")
        assert done.returncode == 0 and sf.info(path).subtype == "PCM_24"


def test_the_tolerance_reaches_the_export(clips: Path, tmp_path: Path, monkeypatch) -> None:
    """In-process, with the export spied on: the value given is the value used."""
    import audiolab.export
    from audiolab.ui.cli import main

    seen: list[float] = []
    real = audiolab.export.export

    def spy(*args, **kwargs):
        seen.append(kwargs["tolerance_lu"])
        return real(*args, **kwargs)

    with case(CLI):
        monkeypatch.setattr(audiolab.export, "export", spy)
        args = ["normalize", str(clips / "pcm_16.wav"), "-o", str(tmp_path), "--jobs", "1", "-q"]
        assert main([*args, "--tolerance", "0.25"]) == 0 and seen == [0.25]


def test_off_target_rows_say_why_and_the_summary_counts_each_input_once(
    clips: Path, tmp_path: Path
) -> None:
    with case(CLI):
        done = audiolab(
            "normalize",
            str(clips / "pcm_16.wav"),
            "-o",
            str(tmp_path),
            "--target",
            "-3",
            "--true-peak",
            "-12",
            "-q",
        )
        assert done.returncode == 1
        (row,) = [line for line in done.stdout.splitlines() if "pcm_16.wav" in line]
        assert "OFF TARGET: " in row and "-3" in row.split("OFF TARGET: ")[1]
        assert "1 written (1 off target), 0 failed" in done.stderr


def test_the_csv_dash_is_stdout(clips: Path, tmp_path: Path) -> None:
    with case(CLI):
        done = audiolab(
            "measure", str(clips / "pcm_16.wav"), "--csv", "-", "--no-bpm", "--no-key", cwd=tmp_path
        )
        assert done.returncode == 0 and not (tmp_path / "-").exists()
        (row,) = list(csv.DictReader(io.StringIO(done.stdout)))
        assert row["path"].endswith("pcm_16.wav") and float(row["integrated_lufs"]) < -20


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.wav", "no such file"),
        ("zero.wav", "empty file (0 bytes), not audio"),
        ("nothing", "no audio files in this folder"),
        ("cut.wav", "truncated file (the header promises more audio than it holds)"),
    ],
)
def test_the_same_problem_has_the_same_words_and_exit_code_everywhere(
    clips: Path, tmp_path: Path, name: str, reason: str
) -> None:
    path = str(clips / name)
    for command in (["measure", path], ["normalize", path, "-o", str(tmp_path / "out")]):
        with case(CLI):
            done = audiolab(*command, "-q")
            assert done.returncode == 1
            assert one_line(done) == f"audiolab: {path}: {reason}"  # the path once
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.wav"))


def test_a_truncated_wav_is_refused_by_every_reader(clips: Path, tmp_path: Path) -> None:
    from audiolab import AudioError, Store
    from audiolab.measure import measure

    with case("reading: one reader"):
        with pytest.raises(AudioError, match="truncated"):
            measure(clips / "cut.wav")
        store = Store(tmp_path / "outputs")
        store.schema_version()
        stray = store.root / "2026" / "01" / "01" / "cut.wav"
        stray.parent.mkdir(parents=True)
        stray.write_bytes((clips / "cut.wav").read_bytes())
        store.verify(repair=True)
        adopted = store.get("cut")
        assert adopted is not None and adopted.status == "failed" and "truncated" in adopted.error
        assert stray.exists()  # refused, not deleted


def test_permission_denied_is_said_in_those_words(tmp_path: Path, monkeypatch) -> None:
    """Through the reader (a root process reads every file, so the OS is asked to refuse)."""
    import builtins

    from audiolab import AudioError, audiofile

    path = tmp_path / "locked.wav"
    sf.write(path, np.zeros((800, 1)), 8000)
    real = builtins.open

    def locked(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(file, *args, **kwargs)

    with case("reading: one reader"):
        monkeypatch.setattr(builtins, "open", locked)
        with pytest.raises(AudioError, match=r"locked\.wav: permission denied$"):
            audiofile.info(path)


@pytest.mark.skipif(
    not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root reads every file: the reader test above makes the OS refuse instead",
)
def test_an_unreadable_file_is_permission_denied_in_the_cli(clips: Path, tmp_path: Path) -> None:
    path = tmp_path / "locked.wav"
    path.write_bytes((clips / "pcm_16.wav").read_bytes())
    path.chmod(0)
    with case("reading: one reader"):
        for command in (
            ["measure", str(path)],
            ["normalize", str(path), "-o", str(tmp_path / "o")],
        ):
            done = audiolab(*command, "-q")
            assert one_line(done) == f"audiolab: {path}: permission denied"


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (KeyboardInterrupt(), 130, "audiolab: interrupted"),
        (RuntimeError("a bug"), 1, "internal error: RuntimeError: a bug (run with --debug"),
        (OSError(28, "No space left on device", "/x/o.wav"), 1, "/x/o.wav: no space left"),
    ],
)
def test_whatever_escapes_a_subcommand_is_one_line(monkeypatch, capsys, error, code, words):
    from audiolab.ui.cli import main, store

    def broken(args):
        raise error

    with case(CLI):
        monkeypatch.setattr(store, "run", broken)
        monkeypatch.setattr(store, "add_parser", _parser_with(broken, store.add_parser))
        assert main(["store", "ls"]) == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err and "Traceback" not in err
        with pytest.raises(type(error)):
            main(["--debug", "store", "ls"])


def _parser_with(handler, add_parser):
    def add(commands, parents):
        add_parser(commands, parents)
        commands.choices["store"].set_defaults(handler=handler)

    return add
