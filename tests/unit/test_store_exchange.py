"""The store's evaluation rooms: metrics on takes, listening answers, exports other tools read."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from audiolab.errors import AudioError, StoreError
from audiolab.evaluate import Score
from audiolab.listening import ListeningTest
from audiolab.store import MIGRATIONS, Store
from audiolab.store.exchange import METADATA_COLUMNS
from audiolab.testing import programme

SR = 16000


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "outputs")
    for k, prompt in enumerate(["lofi hip hop", "techno", "ambient pads"]):
        record = store.save(
            programme(1.5, SR, seed=k, bpm=90 + 20 * k),
            SR,
            prompt=prompt,
            model="tiny",
            params={"duration": 1.5, "top_k": 250},
            seed=k,
            rating=k + 2,
        )
        if k < 2:  # the third take has no metrics: an export fills the gap with null
            score = Score("clap_score", 0.1 * (k + 1), "clap", "laion/clap", "abc123")
            store.annotate(record.job_id, metrics={"clap_score": score})
    return store


# ------------------------------------------------------------------ metrics
def test_annotate_keeps_scores_with_their_model_and_revision(store) -> None:
    record = store.records(prompt_contains="lofi")[0]
    assert record.metrics["clap_score"]["revision"] == "abc123"
    updated = store.annotate(record.job_id, metrics={"fd": 2.5})
    assert set(updated.metrics) == {"clap_score", "fd"}  # added, not replaced wholesale
    again = store.annotate(record.job_id, metrics={"fd": 1.0}, note="re-scored")
    assert again.metrics["fd"] == 1.0 and again.note == "re-scored" and again.rating == 2
    assert store.annotate(record.job_id, rating=5).metrics == again.metrics  # left as it is
    with pytest.raises(AudioError, match="metrics must map"):
        store.annotate(record.job_id, metrics=[1, 2])
    with pytest.raises(AudioError, match="not in the catalog"):
        store.annotate("gen_00000000", metrics={"fd": 1.0})


def test_a_version_2_catalog_gains_the_metrics_column_and_the_trials_table(tmp_path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    with sqlite3.connect(root / "catalog.sqlite") as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?)", (version,))
        connection.execute(
            "INSERT INTO generations (job_id, status, created_at, rating)"
            " VALUES ('gen_old', 'pending', '2026-01-01T00:00:00+00:00', 4)"
        )
    store = Store(root)
    assert store.get("gen_old").metrics is None and store.get("gen_old").rating == 4
    assert store.annotate("gen_old", metrics={"fd": 3.0}).metrics == {"fd": 3.0}
    assert store.trials() == []


# ------------------------------------------------------------------ listening answers
def test_listening_answers_go_to_the_catalog_and_a_listener_resumes_from_it(store) -> None:
    records = store.records()[:2]  # takes straight from the catalog
    test = ListeningTest(records, "abx", trials=4, seed=3, listener="ann", store=store)
    assert set(test.conditions) == {r.job_id for r in records}
    test.answer("A", seconds=1.5)
    test.answer("B", seconds=2.5)
    reopened = Store(store.root)  # another session
    answers = reopened.trials(test.test_id)
    assert [(a.trial, a.answer, a.seconds) for a in answers] == [(1, "A", 1.5), (2, "B", 2.5)]
    assert answers[0].stimuli == test.trials[0].stimuli and answers[0].answered_at is not None
    again = ListeningTest(records, "abx", trials=4, seed=3, listener="ann", store=reopened)
    assert again.answered == 2 and again.current.index == 3
    rows = sqlite3.connect(store.catalog_path).execute("SELECT count(*) FROM trials").fetchone()
    assert rows[0] == 2


def test_mushra_scores_round_trip_through_the_catalog(store) -> None:
    records = store.records()
    takes = {"original": records[0], "other": records[1]}
    test = ListeningTest(takes, "mushra", seed=1, listener="bob", store=store)
    test.answer([90, 20, 55])
    (answer,) = store.trials(test.test_id)
    assert answer.answer == (90.0, 20.0, 55.0) and answer.kind == "mushra"
    means = test.results().table.set_index("condition")["mean"]
    assert sorted(means.tolist()) == [20.0, 55.0, 90.0]


# ------------------------------------------------------------------ exports
def _load(folder, cache, format):
    datasets = pytest.importorskip("datasets")
    if format == "csv":
        # datasets 4.0 reads CSV text through pandas 3 as large_string, which its AudioFolder
        # does not take for file_name: the CSV goes through the csv builder instead
        dataset = datasets.load_dataset(
            "csv", data_files=str(folder / "metadata.csv"), split="train", cache_dir=str(cache)
        )
        paths = [{"path": str(folder / name)} for name in dataset["file_name"]]
        return [{**row, "audio": path} for row, path in zip(dataset, paths, strict=True)]
    dataset = datasets.load_dataset(
        "audiofolder", data_dir=str(folder), split="train", cache_dir=str(cache)
    )
    # decoding needs torchcodec (datasets >= 4), whose wheel wants CUDA: read the files instead
    return dataset.cast_column("audio", datasets.Audio(decode=False))


@pytest.mark.parametrize("format", ["audiofolder", "csv", "parquet"])
def test_the_export_round_trips_through_datasets(store, tmp_path, format) -> None:
    if format == "parquet":
        pytest.importorskip("pyarrow")
    folder = store.export(tmp_path / "dataset", format=format)
    dataset = _load(folder, tmp_path / "cache", format)
    assert len(dataset) == 3
    by_id = {row["job_id"]: row for row in dataset}
    for record in store.records():
        row = by_id[record.job_id]
        assert (row["prompt"], row["model"], row["seed"], row["rating"]) == (
            record.prompt, record.model, record.seed, record.rating
        )  # fmt: skip
        assert row["integrated_lufs"] == pytest.approx(record.integrated_lufs)
        assert row["bpm"] == pytest.approx(record.bpm) and row["key"] == record.key
        params = row["params"] if isinstance(row["params"], dict) else json.loads(row["params"])
        assert params == record.params
        audio, rate = sf.read(row["audio"]["path"], always_2d=True)
        original, _ = sf.read(record.absolute_path, always_2d=True)
        assert rate == record.sample_rate and np.array_equal(audio, original)
        metrics = row["metrics"] if isinstance(row["metrics"], dict) else json.loads(row["metrics"])
        expected = (record.metrics or {}).get("clap_score", {}).get("value")
        assert metrics.get("clap_score") == pytest.approx(expected) if expected else True
        provenance = json.loads(row["metrics_json"])
        assert provenance == (record.metrics or {})


def test_the_jsonl_table_has_every_column_in_order(store, tmp_path) -> None:
    folder = store.export(tmp_path / "dataset", prompt_contains="techno")
    lines = (folder / "metadata.jsonl").read_text().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert tuple(row) == METADATA_COLUMNS
    assert (folder / row["file_name"]).is_file() and "loudness_range_lu" in row


def test_an_export_refuses_what_would_lose_or_mix_data(store, tmp_path) -> None:
    folder = store.export(tmp_path / "dataset")
    with pytest.raises(AudioError, match="already holds an export"):
        store.export(folder, format="csv")
    store.export(folder, format="csv", overwrite=True)
    with pytest.raises(AudioError, match="outside the store"):
        store.export(store.root / "export")
    with pytest.raises(AudioError, match="format must be one of"):
        store.export(tmp_path / "x", format="xlsx")
    with pytest.raises(AudioError, match="complete takes only"):
        store.export(tmp_path / "x", status="failed")
    store.records()[0].absolute_path.unlink()
    with pytest.raises(StoreError, match="have no file"):
        store.export(tmp_path / "broken")
    assert not (tmp_path / "broken").exists()  # nothing written


def test_to_wandb_table_needs_wandb(store) -> None:
    wandb = pytest.importorskip("wandb", reason="wandb is an optional extra")
    table = store.to_wandb_table()
    assert isinstance(table, wandb.Table) and len(table.data) == 3
    assert table.columns[0] == "audio" and tuple(table.columns[1:]) == METADATA_COLUMNS


def test_to_wandb_table_says_how_to_get_wandb(store, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)  # as when it is not installed
    with pytest.raises(ImportError, match="pip install audiolab\\[wandb\\]"):
        store.to_wandb_table()


def test_the_cli_exports_the_store(store, tmp_path) -> None:
    command = [sys.executable, "-m", "audiolab", "store", "export", "--root", str(store.root)]
    done = subprocess.run(
        [*command, "--to", str(tmp_path / "csv"), "--format", "csv"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "exported 3 takes" in done.stdout
    assert (tmp_path / "csv" / "metadata.csv").read_text().count("\n") == 4
    missing = subprocess.run(command, capture_output=True, text=True)
    assert missing.returncode == 2 and "--to FOLDER" in missing.stderr
    again = subprocess.run(
        [*command, "--to", str(tmp_path / "csv")], capture_output=True, text=True
    )
    assert again.returncode == 1 and "already holds an export" in again.stderr
    assert "Traceback" not in again.stderr
