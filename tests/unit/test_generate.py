"""generate() on the tiny MusicGen: lengths, channels, batches, seeds, caching, errors."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from audiolab import AudioError
from audiolab.generate import Generation, ModelNotAvailableError, generate, model_available

FRAME_S = 1 / 50
gen = importlib.import_module("audiolab.generate")  # the module: audiolab.generate is the function
sampling = importlib.import_module("audiolab._sampling")


@pytest.mark.parametrize("duration", [0.5, 1.0, 2.37, 10.0])
def test_durations_come_out_within_one_frame(mono: str, duration: float) -> None:
    take = generate("hip hop beat", duration, model=mono, seed=0, progress=False)
    assert abs(take.duration_seconds - duration) < FRAME_S
    assert take.audio.shape == (1, round(duration * 32000))
    assert take.parameters["tokens"] == round(duration * 50 + 0.4999) + 3  # 4 codebooks: 3 of delay


def test_output_is_float32_finite_on_the_cpu_and_not_silent(mono: str) -> None:
    take = generate("lofi piano", 1.0, model=mono, seed=1, progress=False)
    assert take.audio.dtype == torch.float32 and take.audio.device.type == "cpu"
    assert torch.isfinite(take.audio).all() and take.audio.abs().max() > 1e-3
    assert take.sample_rate == 32000 and take.prompt == "lofi piano" and take.model == mono


def test_stereo_checkpoints_give_two_channels(stereo: str) -> None:
    take = generate("techno", 1.0, model=stereo, seed=1, progress=False)
    assert take.audio.shape == (2, 32000)
    assert not torch.equal(take.audio[0], take.audio[1])


def test_a_batch_of_three_prompts(mono: str) -> None:
    takes = generate(["techno", "ambient pads", "jazz"], 1.0, model=mono, seed=4, progress=False)
    assert isinstance(takes, list) and [t.prompt for t in takes] == [
        "techno",
        "ambient pads",
        "jazz",
    ]
    assert all(t.audio.shape == (1, 32000) for t in takes)
    assert [t.seed for t in takes] == [4, 5, 6]  # one seed per take
    assert not torch.equal(takes[0].audio, takes[1].audio)


def test_the_same_seed_gives_the_same_audio_and_others_differ(mono: str) -> None:
    a = generate("drum and bass", 1.0, model=mono, seed=11, progress=False)
    b = generate("drum and bass", 1.0, model=mono, seed=11, progress=False)
    c = generate("drum and bass", 1.0, model=mono, seed=12, progress=False)
    assert torch.equal(a.audio, b.audio) and not torch.equal(a.audio, c.audio)


def test_no_seed_picks_one_that_reproduces_the_take(mono: str) -> None:
    first = generate("house", 0.5, model=mono, progress=False)
    again = generate("house", 0.5, model=mono, seed=first.seed, progress=False)
    assert isinstance(first.seed, int) and torch.equal(first.audio, again.audio)


def test_the_model_is_loaded_once_per_process(mono: str) -> None:
    gen.clear_cache()
    before = gen.load_count()
    for _ in range(3):
        generate("rock", 0.5, model=mono, seed=0, progress=False)
    assert gen.load_count() == before + 1


def test_a_bfloat16_model_still_returns_float32(mono: str) -> None:
    take = generate("soft piano", 0.5, model=mono, seed=0, dtype="bfloat16", progress=False)
    assert take.audio.dtype == torch.float32 and take.parameters["dtype"] == "bfloat16"
    take = generate("soft piano", 0.5, model=mono, seed=0, dtype=torch.float16, progress=False)
    assert take.audio.dtype == torch.float32


def test_auto_device_and_dtype_are_cpu_and_float32_without_a_gpu(mono: str) -> None:
    take = generate("soft piano", 0.5, model=mono, seed=0, progress=False)
    assert (take.parameters["device"], take.parameters["dtype"]) == ("cpu", "float32")


def test_progress_ticks_once_per_token_in_a_terminal(mono: str, monkeypatch, capsys) -> None:
    made = []
    original = sampling.progress_processor

    def recording(total: int, desc: str):
        made.append(original(total, desc))
        return made[-1]

    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.setattr(sampling, "progress_processor", recording)
    take = generate("techno", 0.5, model=mono, seed=0)
    (processor,) = made
    assert processor.bar.n == processor.bar.total == take.parameters["tokens"]
    assert "MusicGen" in capsys.readouterr().err
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    generate("techno", 0.5, model=mono, seed=0)  # not a terminal, not a notebook: no bar
    assert len(made) == 1


def test_to_dict_carries_everything_but_the_audio(mono: str) -> None:
    take = generate("techno", 0.5, model=mono, seed=3, progress=False)
    data = take.to_dict()
    assert "audio" not in data and data["seed"] == 3 and data["channels"] == 1
    assert data["parameters"]["guidance_scale"] == 3.0 and data["duration_seconds"] == 0.5


# ------------------------------------------------------------------ missing weights
def test_missing_weights_offline_are_a_clear_error_within_seconds(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(ModelNotAvailableError) as excinfo:
        generate("techno", 1.0, model="facebook/musicgen-small", progress=False)
    assert time.monotonic() - started < 10
    message = str(excinfo.value)
    assert "'facebook/musicgen-small'" in message and "hf download" in message
    assert "HF_HUB_OFFLINE" in message and "huggingface" in message  # names the cache folder
    assert isinstance(excinfo.value, AudioError)


def test_an_unknown_model_with_the_hub_unreachable_does_not_hang(monkeypatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.monotonic()
    with pytest.raises(ModelNotAvailableError, match="audiolab-tests/no-such-model"):
        generate("techno", 1.0, model="audiolab-tests/no-such-model", progress=False)
    assert time.monotonic() - started < 10


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="does not hold a model"):
        generate("techno", 1.0, model=str(tmp_path), progress=False)


def test_model_available_never_touches_the_network(mono: str, tmp_path: Path) -> None:
    assert model_available(mono)
    assert not model_available(str(tmp_path))  # a folder without a model
    assert not model_available("/no/such/folder") and not model_available("./missing")
    assert not model_available("audiolab-tests/not-cached")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("",), {}, "non-empty text"),
        (([],), {}, "no prompt given"),
        ((["ok", 3],), {}, "non-empty text"),
        (("x", 0), {}, "duration must be more than 0"),
        (("x", 301), {}, "at most 300"),
        (("x", "8"), {}, "duration must be a number"),
        (("x", 1.0), {"guidance_scale": -1}, "guidance_scale"),
        (("x", 1.0), {"temperature": 0}, "temperature"),
        (("x", 1.0), {"top_k": -5}, "top_k"),
        (("x", 1.0), {"seed": -1}, "seed"),
        (("x", 1.0), {"dtype": "int8"}, "dtype"),
        (("x", 1.0), {"n": 0}, "n must be"),
        (("x", 1.0), {"top_p": 1.5}, "top_p"),
        (("x", 1.0), {"top_p": -0.1}, "top_p"),
        (("x", 1.0), {"overlap_s": 0}, "overlap_s"),
        (("x", 1.0), {"overlap_s": 30.0}, "overlap_s"),
        (("x", 1.0), {"window_s": 0.01}, "window_s"),
        (("x", 1.0), {"window_s": 100.0}, "window_s"),
        (("x", 1.0), {"crossfade_s": 20.0}, "crossfade_s"),
        (("x", 1.0), {"include_prompt": "yes"}, "include_prompt"),
        (("x", 1.0), {"device": ""}, "device"),
        (("x", 1.0), {"audio_prompt": 3}, "audio_prompt"),
        (("x", 1.0), {"audio_prompt": (torch.zeros(10), 32000)}, "shorter than one codec frame"),
        (("x", 1.0), {"melody": "/no/such/melody.wav"}, "no such audio file"),
    ],
)
def test_bad_arguments_are_audio_errors(mono: str, args, kwargs, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        generate(*args, model=mono, progress=False, **kwargs)


def test_generation_duration_and_dict_without_a_model() -> None:
    take = Generation(torch.zeros(2, 16000), 32000, "p", "m", 5, {"x": 1}, 0.2)
    assert take.duration_seconds == 0.5 and take.to_dict()["channels"] == 2


def test_missing_weights_are_said_before_torch_is_imported_when_the_hub_is_down() -> None:
    code = (
        "import sys, audiolab\n"
        "try:\n"
        "    audiolab.generate('x', 1.0, model='facebook/musicgen-small')\n"
        "except audiolab.ModelNotAvailableError as err:\n"
        "    print('torch' in sys.modules, 'did not answer' in str(err))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # nothing listens there: refused at once
    env["HF_HUB_CACHE"] = tempfile.mkdtemp()  # an empty cache
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["False", "True"], done.stderr
