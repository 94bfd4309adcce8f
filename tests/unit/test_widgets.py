"""The audition widget, driven headless as a user would."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import loudness
from audiolab.store import Store
from audiolab.testing import tiny_musicgen
from audiolab.ui.widgets import Audition, default_generator, musicgen_generator, synth_generator


def decode(player) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(io.BytesIO(player.value), always_2d=True)
    return audio.T, sr


@pytest.fixture
def audition(tmp_path: Path) -> Audition:
    widget = Audition(Store(tmp_path / "outputs"), generator=synth_generator(), threaded=False)
    widget.duration.value = 4.0
    return widget


def test_generate_three_takes_with_players_at_the_target(audition: Audition) -> None:
    audition.prompt.value = "house at 124 bpm in A minor"
    audition.count.value = 3
    audition.random_seed.value = False
    audition.seed.value = 10
    audition.target.value = -20.0
    audition.generate_button.click()
    assert [t.seed for t in audition.takes] == [10, 11, 12]
    assert len(audition.takes_box.children) == 3 and audition.progress.value == 3
    for take in audition.takes:
        raw, sr = decode(take.raw_player)
        normalized, sr2 = decode(take.player)
        assert sr == sr2 == 32000 and raw.shape == normalized.shape == (2, 4 * 32000)
        np.testing.assert_allclose(raw, take.audio.astype(np.float32), atol=0)  # raw as generated
        assert abs(loudness.integrated(normalized, sr) + 20.0) <= 0.5
        assert loudness.true_peak(normalized, sr) <= -1.0
        assert take.measurement.key == "A minor" and round(take.measurement.bpm) == 124
    assert not audition.generate_button.disabled and audition.cancel_button.disabled


def test_keep_saves_the_take_with_rating_and_note_in_the_catalog(audition: Audition) -> None:
    audition.count.value = 2
    audition.bit_depth.value = "PCM_24"
    audition.generate_button.click()
    second = audition.takes[1]
    second.rating.value = 5
    second.note.value = "the bass line"
    second.keep_button.click()
    (record,) = audition.store.records()
    assert (record.rating, record.note, record.seed, record.bit_depth) == (
        5,
        "the bass line",
        second.seed,
        "PCM_24",
    )
    assert record.prompt == audition.prompt.value and record.model == "audiolab.synth"
    assert "kept as " + record.job_id in second.status.value and second.keep_button.disabled
    assert abs(record.integrated_lufs + 16.0) <= 0.5


def test_ab_plays_takes_loudness_matched(audition: Audition) -> None:
    quiet_then_loud = iter([0.05, 0.9])

    def uneven(prompt: str, duration: float, seed: int):
        audio, sr = synth_generator()(prompt, duration, seed)
        return audio * next(quiet_then_loud), sr

    audition.generator = uneven
    audition.count.value = 2
    audition.generate_button.click()
    levels = []
    for option in audition.ab.options:
        audition.ab.value = option
        audio, sr = decode(audition.ab_player)
        levels.append(loudness.integrated(audio, sr))
        assert option in audition.ab_label.value
    raw_levels = [loudness.integrated(*decode(t.raw_player)) for t in audition.takes]
    assert abs(raw_levels[1] - raw_levels[0]) > 20  # 25 dB apart as generated
    assert abs(levels[1] - levels[0]) < 0.1  # matched when auditioned


def test_a_failing_generator_shows_its_error_and_the_next_click_works(audition: Audition) -> None:
    calls = []

    def flaky(prompt: str, duration: float, seed: int):
        calls.append(seed)
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory")
        return synth_generator()(prompt, duration, seed)

    audition.generator = flaky
    audition.count.value = 1
    audition.generate_button.click()
    assert "RuntimeError: CUDA out of memory" in audition.message.value and audition.takes == []
    assert not audition.generate_button.disabled
    audition.generate_button.click()
    assert len(audition.takes) == 1 and audition.message.value == ""


def test_an_empty_prompt_is_reported(audition: Audition) -> None:
    audition.prompt.value = "   "
    audition.generate_button.click()
    assert "prompt is empty" in audition.message.value and audition.takes == []


def test_cancel_stops_between_takes(audition: Audition) -> None:
    def then_cancel(prompt: str, duration: float, seed: int):
        audition.cancel()  # pressed while the first take is being made
        return synth_generator()(prompt, duration, seed)

    audition.generator = then_cancel
    audition.count.value = 4
    audition.generate_button.click()
    assert len(audition.takes) == 1 and "cancelled after 1 of 4 takes" in audition.message.value


def test_a_threaded_generation_finishes_in_the_background(tmp_path: Path) -> None:
    widget = Audition(Store(tmp_path), generator=synth_generator())
    widget.duration.value, widget.count.value = 2.0, 2
    widget.generate_button.click()
    widget.generate_button.click()  # ignored while working
    widget.wait(60)
    assert len(widget.takes) == 2 and not widget.generate_button.disabled


def test_a_failed_keep_is_shown_on_the_take(audition: Audition, monkeypatch) -> None:
    audition.count.value = 1
    audition.generate_button.click()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(audition.store, "save", broken)
    assert audition.keep(1) is None
    assert "not kept: OSError: disk full" in audition.takes[0].status.value


def test_musicgen_through_the_widget(tmp_path: Path) -> None:
    model = str(tiny_musicgen(tmp_path / "tiny"))
    widget = Audition(Store(tmp_path / "out"), model=model, threaded=False)
    widget.duration.value, widget.count.value = 2.0, 1
    widget.generate_button.click()
    assert widget.model_name == model and len(widget.takes) == 1
    assert abs(loudness.integrated(*decode(widget.takes[0].player)) + 16.0) <= 0.5


def test_missing_weights_fall_back_to_the_synth_with_a_notice(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    widget = Audition(Store(tmp_path), threaded=False)
    assert widget.model_name == "audiolab.synth" and "not available here" in widget.message.value
    generator, notice = default_generator(str(tiny_musicgen(tmp_path / "tiny")))
    assert notice is None and generator.model.endswith("tiny")  # type: ignore[attr-defined]


def test_a_musicgen_without_weights_shows_the_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    widget = Audition(
        Store(tmp_path), generator=musicgen_generator("facebook/musicgen-small"), threaded=False
    )
    widget.duration.value, widget.count.value = 2.0, 1
    widget.generate_button.click()
    assert (
        "ModelNotAvailableError" in widget.message.value and "hf download" in widget.message.value
    )
