"""The audition widget's "Extend this take" and melody picker, driven headless."""

from __future__ import annotations

import hashlib
import html
import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab.store import Store
from audiolab.testing import tiny_musicgen
from audiolab.ui.widgets import Audition, musicgen_generator, synth_generator

SR = 32000


def upload(widget: Audition, audio: np.ndarray, sr: int, name: str = "melody.wav") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.T, sr, format="WAV", subtype="FLOAT")
    content = buffer.getvalue()
    widget.melody.value = (
        {"name": name, "type": "audio/wav", "size": len(content), "content": memoryview(content),
         "last_modified": datetime.now(timezone.utc)},
    )  # fmt: skip
    return content


@pytest.fixture
def audition(tmp_path: Path) -> Audition:
    widget = Audition(Store(tmp_path / "outputs"), generator=synth_generator(), threaded=False)
    widget.duration.value, widget.count.value = 3.0, 1
    return widget


def test_extend_adds_a_take_that_starts_with_the_one_extended(audition: Audition) -> None:
    audition.prompt.value = "house at 124 bpm in A minor"
    audition.generate_button.click()
    first = audition.takes[0]
    audition.duration.value = 2.0
    first.extend_button.click()
    second = audition.takes[1]
    assert second.parent == 1 and second.audio.shape == (2, 5 * SR)
    assert np.array_equal(second.audio[:, : 3 * SR], first.audio)
    assert second.seams_s == (3.0,) and [s.time_s for s in second.measurement.seams] == [3.0]
    assert "extends take 1" in second.widget.children[0].value
    assert audition.ab.options == ("take 1", "take 2")


def test_kept_extensions_are_linked_to_their_kept_parents(audition: Audition) -> None:
    audition.generate_button.click()
    child = audition.extend(1)
    grandchild = audition.extend(2)
    assert child is not None and grandchild is not None
    audition.keep(2)  # the child first: its parent is not kept yet
    assert child.record.parent_id is None
    audition.keep(1)
    audition.keep(3)
    jobs = [t.record.job_id for t in audition.takes]
    assert child.record.parent_id == jobs[0] and child.record.relation == "extend"
    assert [r.job_id for r in audition.store.lineage(jobs[2])] == jobs
    assert audition.store.get(jobs[1]).measurement["seams"][0]["time_s"] == 3.0


def test_the_synth_cannot_follow_a_melody_and_says_so(audition: Audition) -> None:
    upload(audition, np.zeros((1, SR)), SR)
    audition.generate_button.click()
    assert audition.takes == [] and "cannot follow a melody" in audition.message.value


def test_an_unreadable_melody_file_is_reported(audition: Audition) -> None:
    audition.melody.value = (
        {"name": "notes.txt", "type": "text/plain", "size": 5, "content": memoryview(b"hello"),
         "last_modified": datetime.now(timezone.utc)},
    )  # fmt: skip
    audition.generate_button.click()
    message = html.unescape(audition.message.value)
    assert "melody 'notes.txt': not a readable audio file (Format not recognised" in message


def test_a_picked_melody_conditions_musicgen_melody_and_is_kept(tmp_path: Path) -> None:
    model = str(tiny_musicgen(tmp_path / "tiny-melody", melody=True))
    widget = Audition(Store(tmp_path / "out"), generator=musicgen_generator(model), threaded=False)
    widget.duration.value, widget.count.value = 1.0, 1
    widget.random_seed.value, widget.seed.value = False, 3
    widget.generate_button.click()
    t = np.arange(2 * SR) / SR
    melody = (0.3 * np.sin(2 * np.pi * 440 * t))[None]
    upload(widget, melody, SR)
    widget.generate_button.click()
    plain, followed = widget.takes
    assert not np.array_equal(plain.audio, followed.audio)  # same seed, the melody differs
    info = followed.parameters["melody"]
    expected = hashlib.sha256(np.ascontiguousarray(melody, dtype="<f4").tobytes()).hexdigest()
    assert info["source"] == "array" and info["sha256"] == expected
    record = widget.keep(2)
    assert record.params["melody"]["sha256"] == expected and record.params["source"] == "audition"
    extended = widget.extend(2)  # a continuation that follows the melody too
    assert extended.parameters["audio_prompt"]["seconds"] == 1.0
    assert extended.parameters["melody"]["sha256"] == expected
