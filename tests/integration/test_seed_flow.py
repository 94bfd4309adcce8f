"""The seed's integration example, generate -> begin -> export -> measure -> complete,
through audiolab's functions and through the seed's class facades."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audiolab import AudioExporter, AudioFileManager, AudioMetadataExtractor, Store
from audiolab.export import export_wav
from audiolab.generate import generate
from audiolab.measure import measure
from audiolab.testing import tiny_musicgen

PROMPT = "hip hop beat at 140 BPM with heavy 808 bass"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    return str(tiny_musicgen(tmp_path_factory.mktemp("tiny")))


def test_the_seed_flow_with_audiolab_functions(model: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "outputs")
    take = generate(PROMPT, 3.0, model=model, seed=42, progress=False)
    job = store.begin(prompt=PROMPT, model=model, params=take.parameters, seed=take.seed)
    result = export_wav(take.audio, job.path, take.sample_rate)
    measurement = measure(job.path)
    record = store.complete(job, result, measurement=measurement, generation_seconds=take.seconds)
    assert record.status == "complete" and record.seed == 42 and record.prompt == PROMPT
    assert abs(record.integrated_lufs + 16) <= 0.5 and record.true_peak_dbtp <= -1.0
    assert record.params["tokens"] == take.parameters["tokens"]
    assert record.measurement == measurement.to_dict() and store.verify().ok


def test_the_seed_flow_with_the_seed_facades(model: str, tmp_path: Path) -> None:
    manager = AudioFileManager(tmp_path / "outputs")
    exporter = AudioExporter(target_lufs=-16.0)
    extractor = AudioMetadataExtractor(extract_bpm=True, extract_key=True)
    take = generate(PROMPT, 3.0, model=model, seed=7, progress=False)

    job = manager.store.begin(prompt=PROMPT, model=model, seed=take.seed)  # create record
    output_path, size = exporter.export_wav(
        take.audio, manager.get_output_path(job.job_id, date=job.created_at), take.sample_rate
    )  # export
    metadata = extractor.extract_metadata(output_path)  # extract metadata
    record = manager.store.complete(job, output_path, measurement=metadata)  # complete record

    assert record.status == "complete" and record.file_size_bytes == size
    assert manager.file_exists(output_path) and manager.get_file_size(output_path) == size
    assert manager.list_files() == [output_path]
    assert abs(metadata["integrated_lufs"] + 16) <= 0.5
    assert manager.get_storage_stats()["per_status"]["complete"] == 1
    assert record.measurement == metadata


def test_the_file_manager_maps_onto_the_store(tmp_path: Path) -> None:
    manager = AudioFileManager(tmp_path)
    record = manager.store.save(np.zeros((2, 16000)) + 0.0, 16000, normalize=False, prompt="quiet")
    path = str(record.absolute_path)
    assert manager.get_file_size_mb(path) == pytest.approx(record.file_size_bytes / 2**20)
    moved = manager.move_file(path, "2020/01/01/moved.wav")
    copied = manager.copy_file(moved, "2020/01/02/copy.wav")
    assert manager.list_files(date="2020-01-02") == [copied]
    assert manager.cleanup_old_files(days_old=0, dry_run=True)  # a dry run lists them
    assert manager.delete_file(copied) and not manager.file_exists(copied)
    removed = manager.cleanup_empty_directories()  # the copy's day, and the day it moved from
    assert str(tmp_path / "2020" / "01" / "02") in removed and len(removed) == 4
