"""Takes as users hold them: paths, catalog rows, generations, pairs, bare audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiolab import synth
from audiolab._takes import as_clip, as_clips
from audiolab.errors import AudioError
from audiolab.store import Record, Store
from audiolab.testing import programme


def test_a_file_is_read_as_written_and_named_by_its_stem(tmp_path) -> None:
    audio = programme(0.5, 8000)
    sf.write(tmp_path / "take.wav", audio.T, 8000, subtype="FLOAT")
    clip = as_clip(tmp_path / "take.wav")
    assert clip.name == "take" and clip.sample_rate == 8000
    np.testing.assert_allclose(clip.audio, audio, atol=1e-7)


def test_a_catalog_row_is_its_file_named_by_its_id(tmp_path) -> None:
    store = Store(tmp_path / "s")
    record = store.save(programme(1.0, 16000), 16000, prompt="x")
    (clip,) = as_clips([record])
    assert clip.name == clip.job_id == record.job_id and clip.audio.shape == (2, 16000)
    pending = store.get(store.begin().job_id)
    with pytest.raises(AudioError, match="is pending: only a complete take has audio"):
        as_clip(pending)


def test_objects_with_audio_and_a_rate_pairs_and_bare_audio() -> None:
    ref = synth.reference(120, "C major", duration=1.0, sr=8000)
    clips = as_clips([ref, (np.zeros(80), 8000), np.ones(80)], sample_rate=8000)
    assert [c.name for c in clips] == ["take 1", "take 2", "take 3"]
    assert as_clips({"a": ref, "b": ref})[1].name == "b"


def test_repeated_names_are_told_apart(tmp_path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        sf.write(tmp_path / folder / "take.wav", np.zeros(800), 8000)
    clips = as_clips([tmp_path / "a" / "take.wav", tmp_path / "b" / "take.wav"])
    assert [c.name for c in clips] == ["take", "take (2)"]
    with pytest.raises(AudioError, match="only a complete take"):
        as_clip(Record("gen_1", "complete", None))  # type: ignore[arg-type]  (no file)


def test_what_is_not_a_take_is_refused(tmp_path) -> None:
    with pytest.raises(AudioError, match="no audio file"):
        as_clip(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    with pytest.raises(AudioError, match="not readable audio"):
        as_clip(tmp_path / "junk.wav")
    with pytest.raises(AudioError, match="sequence or a mapping"):
        as_clips("take.wav")
    with pytest.raises(AudioError, match="no takes"):
        as_clips([])
