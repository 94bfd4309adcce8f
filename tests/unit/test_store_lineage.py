"""Store.generate, Store.regenerate, Store.extend and lineage, on the tiny models."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audiolab import AudioError, ModelNotAvailableError
from audiolab.store import Store
from audiolab.testing import programme

SR = 32000
provenance = importlib.import_module("audiolab._provenance")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def samples(record) -> np.ndarray:
    data, rate = sf.read(record.absolute_path, dtype="float64", always_2d=True)
    assert rate == SR
    return data.T


def test_generated_takes_are_catalogued_with_their_provenance(store: Store, mono: str) -> None:
    a, b = store.generate("techno", 1.0, model=mono, seed=3, n=2, progress=False)
    assert (a.status, b.status, a.seed, b.seed) == ("complete", "complete", 3, 4)
    assert a.params["seeds"] == [3, 4] and a.params["take"] == 0 and b.params["take"] == 1
    assert a.params["export"] == {"target_lufs": -16.0, "true_peak_db": -1.0, "bit_depth": "PCM_16"}
    assert a.params["model"] == mono and a.params["torch_version"] == torch.__version__
    assert abs(a.integrated_lufs + 16) < 0.5 and a.duration_seconds == 1.0


def test_a_windowed_take_is_measured_at_its_seams(store: Store, mono: str) -> None:
    (take,) = store.generate(
        "techno", 8.0, model=mono, seed=1, window_s=4.0, overlap_s=1.0, progress=False
    )
    assert take.params["seams_s"] == [4.0, 7.0]
    assert [s["time_s"] for s in take.measurement["seams"]] == [4.0, 7.0]
    assert take.measurement["seams"][0]["loudness_jump_lu"] is not None


def test_regenerate_gives_identical_samples_as_a_linked_job(store: Store, mono: str) -> None:
    first, second = store.generate("house", 2.0, model=mono, seed=10, n=2, progress=False)
    again = store.regenerate(second.job_id)
    assert again.job_id != second.job_id and again.seed == second.seed == 11
    assert (again.parent_id, again.relation) == (second.job_id, "regenerate")
    assert np.array_equal(samples(again), samples(second))
    assert not np.array_equal(samples(again), samples(first))
    assert [r.job_id for r in store.lineage(again.job_id)] == [second.job_id, again.job_id]


def test_a_melody_file_is_checked_before_it_is_used_again(
    store: Store, melodic: str, tmp_path: Path
) -> None:
    melody = tmp_path / "melody.wav"
    t = np.arange(2 * SR) / SR
    sf.write(melody, 0.3 * np.sin(2 * np.pi * 440 * t), SR, subtype="FLOAT")
    (take,) = store.generate(
        "techno", 3.0, model=melodic, seed=2, melody=melody, window_s=1.5, overlap_s=0.5,
        progress=False,
    )  # fmt: skip
    assert take.params["melody"]["path"] == str(melody)
    assert np.array_equal(samples(store.regenerate(take.job_id)), samples(take))
    sf.write(melody, 0.3 * np.sin(2 * np.pi * 330 * t), SR, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"melody of job .* has changed"):
        store.regenerate(take.job_id)


def test_audio_given_in_memory_must_be_given_again(store: Store, mono: str) -> None:
    prompt = (programme(1.0, SR, channels=1).astype(np.float32), SR)
    (take,) = store.generate("jazz", 1.0, model=mono, seed=4, audio_prompt=prompt, progress=False)
    with pytest.raises(AudioError, match="given in memory"):
        store.regenerate(take.job_id)
    with pytest.raises(AudioError, match="has changed"):
        store.regenerate(take.job_id, audio_prompt=(prompt[0] * 0.5, SR))
    again = store.regenerate(take.job_id, audio_prompt=prompt)
    assert np.array_equal(samples(again), samples(take))


def test_regenerating_with_other_versions_warns(store: Store, mono: str, monkeypatch) -> None:
    (take,) = store.generate("rock", 0.5, model=mono, seed=5, progress=False)
    real = provenance.versions

    monkeypatch.setattr(provenance, "versions", lambda: {**real(), "torch_version": "0.0"})
    with pytest.warns(UserWarning, match=r"torch_version .* the samples may differ"):
        store.regenerate(take.job_id)


def test_only_generated_takes_can_be_regenerated(store: Store) -> None:
    saved = store.save(programme(1.0, SR), SR, prompt="not generated")
    with pytest.raises(AudioError, match="no provenance"):
        store.regenerate(saved.job_id)
    with pytest.raises(AudioError, match="not in the catalog"):
        store.regenerate("gen_missing")
    with pytest.raises(AudioError, match="cannot be extended"):
        store.extend("gen_missing", 1.0)


def test_extend_continues_the_take_into_a_child_job(store: Store, mono: str) -> None:
    quiet = {"target_lufs": -30.0, "bit_depth": "FLOAT"}  # no limiting: one gain throughout
    (take,) = store.generate("lofi", 2.0, model=mono, seed=6, progress=False, **quiet)
    longer = store.extend(take.job_id, 1.5, seed=7, progress=False)
    assert (longer.parent_id, longer.relation) == (take.job_id, "extend")
    assert longer.duration_seconds == 3.5
    assert longer.params["audio_prompt"]["job_id"] == take.job_id
    assert longer.params["export"]["target_lufs"] == -30.0  # the take's export settings
    assert [s["time_s"] for s in longer.measurement["seams"]] == [2.0]
    # the original's samples come first (up to the crossfade), at the new take's gain and
    # less its DC offset (the normalizer removes it)
    original, new = samples(take)[0, : 2 * SR - 3200], samples(longer)[0, : 2 * SR - 3200]
    (gain, offset), *_ = np.linalg.lstsq(np.stack([original, np.ones_like(original)], 1), new)
    np.testing.assert_allclose(new, gain * original + offset, rtol=0, atol=1e-6)
    assert [r.job_id for r in store.records(parent_id=take.job_id)] == [longer.job_id]


def test_lineage_follows_extensions_back_to_the_first_take(store: Store, mono: str) -> None:
    (a,) = store.generate("ambient pads", 1.0, model=mono, seed=8, window_s=0.6, overlap_s=0.2)
    b = store.extend(a.job_id, 1.0, progress=False)
    c = store.extend(b.job_id, 1.0, progress=False)
    assert [r.job_id for r in store.lineage(c.job_id)] == [a.job_id, b.job_id, c.job_id]
    # a: one seam in its windows of 0.6 s; b and c continue with a's windows, each
    # conditioned on 0.2 s and adding 0.4 s: seams at the end of the take extended, and on
    assert a.params["seams_s"] == pytest.approx([0.6])
    assert b.params["seams_s"] == pytest.approx([0.6, 1.0, 1.4, 1.8])
    assert c.params["seams_s"] == pytest.approx([0.6, 1.0, 1.4, 1.8, 2.0, 2.4, 2.8])


def test_a_model_that_cannot_load_leaves_no_row(store: Store, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError):
        store.generate("techno", 1.0, model="acme/not-here", n=2, seed=1, progress=False)
    with pytest.raises(AudioError, match="n must be"):
        store.generate("techno", 1.0, n=0)
    assert len(store) == 0


def test_a_failed_generation_fails_its_rows(store: Store, mono: str) -> None:
    melody = (np.zeros(SR, dtype=np.float32), SR)
    with pytest.raises(AudioError, match="cannot follow a melody"):
        store.generate("techno", 1.0, model=mono, n=2, seed=1, melody=melody, progress=False)
    rows = store.records(status="failed")
    assert len(rows) == 2 and all("cannot follow a melody" in r.error for r in rows)
    assert sorted(r.seed for r in rows) == [1, 2]


def test_link_refuses_unknown_jobs_itself_and_other_relations(store: Store) -> None:
    a, b = store.begin(prompt="a"), store.begin(prompt="b")
    with pytest.raises(AudioError, match="relation must be"):
        store.link(b.job_id, a.job_id, "cover")
    with pytest.raises(AudioError, match="not in the catalog"):
        store.link(b.job_id, "gen_missing", "extend")
    with pytest.raises(AudioError, match="made from itself"):
        store.link(a.job_id, a.job_id, "extend")


def test_lineage_starts_after_a_deleted_ancestor(store: Store) -> None:
    a, b, c = (store.begin(prompt=p) for p in "abc")
    store.link(b.job_id, a.job_id, "extend")
    store.link(c.job_id, b.job_id, "extend")
    with store._write() as connection:  # the first take's row removed by hand
        connection.execute("DELETE FROM generations WHERE job_id = ?", (a.job_id,))
    assert [r.job_id for r in store.lineage(c.job_id)] == [b.job_id, c.job_id]
    with pytest.raises(AudioError, match="not in the catalog"):
        store.lineage(a.job_id)
