"""generate() for research on the tiny models: continuation, melody, windows, seeds, provenance.

Each tiny model generates a second in about 0.1-0.3 s on one thread; the
long-take tests use the 5-frames-a-second tiny model, which keeps every length
in seconds and generates ten times fewer tokens.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import transformers

import audiolab
from audiolab import AudioError
from audiolab._musicgen import load
from audiolab._sampling import SeededSampler
from audiolab.generate import generate
from audiolab.testing import tiny_musicgen

SR = 32000


def tone(frequency_hz: float, seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


# ------------------------------------------------------------------ continuation
def test_a_continuation_starts_with_the_prompts_own_samples(mono: str) -> None:
    prompt = generate("jazz", 1.5, model=mono, seed=1, progress=False)
    take = generate("jazz", 1.0, model=mono, seed=2, audio_prompt=prompt, progress=False)
    n, fade = prompt.audio.shape[-1], round(0.1 * SR)
    assert take.audio.shape == (1, n + SR)
    assert torch.equal(take.audio[:, : n - fade], prompt.audio[:, : n - fade])
    assert not torch.equal(take.audio[:, n - fade : n], prompt.audio[:, n - fade :])  # the fade
    assert take.seams_s == (1.5,)
    assert take.parameters["audio_prompt"]["source"] == "generation"


def test_without_the_prompt_only_the_new_audio_comes_back(mono: str) -> None:
    prompt = (tone(220, 1.0), SR)
    whole = generate("jazz", 1.0, model=mono, seed=3, audio_prompt=prompt, progress=False)
    new = generate(
        "jazz", 1.0, model=mono, seed=3, audio_prompt=prompt, include_prompt=False, progress=False
    )
    assert new.audio.shape == (1, SR) and new.seams_s == ()
    assert torch.equal(new.audio, whole.audio[:, SR:])


def test_the_prompt_conditions_what_follows(mono: str) -> None:
    options = {"model": mono, "seed": 4, "include_prompt": False, "progress": False}
    low = generate("jazz", 1.0, audio_prompt=(tone(110, 1.0), SR), **options)
    high = generate("jazz", 1.0, audio_prompt=(tone(1760, 1.0), SR), **options)
    plain = generate("jazz", 1.0, model=mono, seed=4, progress=False)
    assert not torch.equal(low.audio, high.audio) and not torch.equal(low.audio, plain.audio)


def test_a_prompt_file_is_recorded_by_the_sha256_of_its_bytes(mono: str, tmp_path: Path) -> None:
    path = tmp_path / "prompt.wav"
    sf.write(path, tone(330, 1.0, 16000), 16000, subtype="FLOAT")  # another rate: resampled
    take = generate("jazz", 0.5, model=mono, seed=5, audio_prompt=path, progress=False)
    info = take.parameters["audio_prompt"]
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["path"] == str(path) and info["source"] == "file" and info["job_id"] is None
    assert (info["sample_rate"], info["seconds"]) == (16000, 1.0)
    assert take.audio.shape == (1, SR + SR // 2)  # the prompt at 32 kHz, then 0.5 s


def test_a_mono_prompt_of_a_stereo_model_is_copied_to_both_channels(stereo: str) -> None:
    take = generate("techno", 0.5, model=stereo, seed=6, audio_prompt=(tone(440, 1.0), SR))
    assert take.audio.shape == (2, SR + SR // 2)
    assert torch.equal(take.audio[0, :20000], take.audio[1, :20000])
    assert not torch.equal(take.audio[0, SR:], take.audio[1, SR:])  # the model's stereo


# ------------------------------------------------------------------ melody
def test_a_melody_changes_the_take_and_is_recorded(melodic: str, tmp_path: Path) -> None:
    path = tmp_path / "melody.wav"
    sf.write(path, tone(440, 2.0), SR, subtype="PCM_16")
    plain = generate("techno", 1.0, model=melodic, seed=7, progress=False)
    followed = generate("techno", 1.0, model=melodic, seed=7, melody=path, progress=False)
    other = generate("techno", 1.0, model=melodic, seed=7, melody=(tone(262, 2.0), SR))
    assert not torch.equal(plain.audio, followed.audio)
    assert not torch.equal(followed.audio, other.audio)
    info = followed.parameters["melody"]
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["path"] == str(path) and plain.parameters["melody"] is None
    assert followed.parameters["model_class"] == "MusicgenMelodyForConditionalGeneration"


def test_a_melody_follows_windows_and_continuations(melodic: str) -> None:
    take = generate(
        "techno",
        3.0,
        model=melodic,
        seed=8,
        melody=(tone(440, 0.7), SR),  # shorter than the take: it repeats
        audio_prompt=(tone(220, 0.5), SR),
        window_s=1.0,
        overlap_s=0.4,
        progress=False,
    )
    assert take.audio.shape == (1, round(3.5 * SR))
    assert take.seams_s == pytest.approx((0.5, 1.1, 1.7, 2.3, 2.9))


def test_a_model_without_melody_support_is_a_clear_error(mono: str) -> None:
    with pytest.raises(AudioError, match="cannot follow a melody") as excinfo:
        generate("techno", 1.0, model=mono, melody=(tone(440, 1.0), SR), progress=False)
    assert mono in str(excinfo.value) and "musicgen-melody" in str(excinfo.value)


# ------------------------------------------------------------------ windows
def test_75_s_on_a_30_s_window_comes_out_75_s_with_its_seams(coarse: str) -> None:
    take = generate("house", 75.0, model=coarse, seed=9, overlap_s=10.0, progress=False)
    assert take.audio.shape == (1, 75 * SR)
    # windows of 30 s, each after the first conditioned on 10 s and adding 20 s
    assert take.seams_s == (30.0, 50.0, 70.0)
    assert take.parameters["windows"] == 4 and take.parameters["window_s"] == 30.0
    assert take.parameters["seams_s"] == [30.0, 50.0, 70.0]
    assert torch.isfinite(take.audio).all() and take.audio[:, -SR:].abs().max() > 1e-3


def test_the_first_window_is_the_plain_generation_of_the_window(coarse: str) -> None:
    long = generate("house", 35.0, model=coarse, seed=10, progress=False)
    plain = generate("house", 30.0, model=coarse, seed=10, progress=False)
    end = round((30.0 - 0.1) * SR)  # up to the crossfade
    assert torch.equal(long.audio[:, :end], plain.audio[:, :end])
    assert not torch.equal(long.audio[:, end : 30 * SR], plain.audio[:, end:])


def test_each_window_is_conditioned_on_the_last_tokens_of_the_one_before(
    mono: str, monkeypatch
) -> None:
    loaded = load(mono, "cpu", "float32")
    seen_codes, contexts = [], []
    original_decode, original_generate = loaded.decoder.decode, loaded.network.generate

    def decode(codes, scales, **kwargs):
        seen_codes.append(codes[0, 0].clone())  # (codebooks, frames) of the window
        return original_decode(codes, scales, **kwargs)

    def spy(**kwargs):
        contexts.append(kwargs.get("decoder_input_ids"))
        return original_generate(**kwargs)

    monkeypatch.setattr(loaded.decoder, "decode", decode)
    monkeypatch.setattr(loaded.network, "generate", spy)
    take = generate("techno", 2.0, model=mono, seed=11, window_s=1.0, overlap_s=0.4)
    assert take.seams_s == pytest.approx((1.0, 1.6))
    assert contexts[0] is None and len(contexts) == len(seen_codes) == 3
    for before, context in zip(seen_codes[:2], contexts[1:], strict=True):
        assert context.shape == (4, 20)  # 0.4 s of 4 codebooks at 50 frames a second
        assert torch.equal(context, before[:, -20:])


def test_a_seam_is_a_raised_cosine_crossfade_between_the_windows(mono: str, monkeypatch) -> None:
    loaded = load(mono, "cpu", "float32")
    windows = []
    original_generate = loaded.network.generate

    def spy(**kwargs):
        windows.append(original_generate(**kwargs)[0].clone())
        return windows[-1][None]

    monkeypatch.setattr(loaded.network, "generate", spy)
    take = generate("techno", 1.5, model=mono, seed=12, window_s=1.0, overlap_s=0.5, progress=False)
    seam, fade, head = SR, round(0.1 * SR), round(0.5 * SR)
    first, second = windows[0][0].numpy(), windows[1][0].numpy()
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
    expected = first[seam - fade : seam] * (1 - ramp) + second[head - fade : head] * ramp
    got = take.audio[0].numpy()
    np.testing.assert_allclose(got[seam - fade : seam], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got[seam:], second[head : head + SR // 2])


# ------------------------------------------------------------------ seeds and batches
def test_n_takes_are_each_the_take_their_seed_gives_alone(mono: str) -> None:
    takes = generate("drum and bass", 1.0, model=mono, seed=20, n=3, progress=False)
    assert [t.seed for t in takes] == [20, 21, 22]
    assert all(t.parameters["seeds"] == [20, 21, 22] for t in takes)
    for take in takes:
        alone = generate("drum and bass", 1.0, model=mono, seed=take.seed, progress=False)
        assert torch.equal(alone.audio, take.audio)
    assert not torch.equal(takes[0].audio, takes[1].audio)


def test_windowed_stereo_takes_of_a_batch_reproduce_alone(stereo: str) -> None:
    options = {"model": stereo, "window_s": 1.0, "overlap_s": 0.3, "progress": False}
    pair = generate(["techno", "ambient pads"], 2.0, seed=30, n=2, **options)
    assert [(t.prompt, t.seed) for t in pair] == [
        ("techno", 30),
        ("techno", 31),
        ("ambient pads", 32),
        ("ambient pads", 33),
    ]
    assert all(t.audio.shape == (2, 2 * SR) for t in pair)
    alone = generate("techno", 2.0, seed=31, **options)
    assert torch.equal(alone.audio, pair[1].audio)


def test_top_k_of_one_and_a_tiny_top_p_leave_no_choice(mono: str) -> None:
    def take(seed: int, **sampling) -> torch.Tensor:
        return generate("rock", 0.5, model=mono, seed=seed, progress=False, **sampling).audio

    assert torch.equal(take(1, top_k=1), take(2, top_k=1))
    assert torch.equal(take(1, top_k=0, top_p=1e-9), take(2, top_k=0, top_p=1e-9))
    assert torch.equal(take(1, top_k=1), take(3, top_k=0, top_p=1e-9))  # both the argmax
    assert not torch.equal(take(1, top_k=2), take(2, top_k=2))


@pytest.mark.parametrize(
    ("top_k", "top_p", "temperature"), [(0, 0.0, 1.0), (3, 0.0, 1.0), (0, 0.6, 1.0), (0, 0.0, 2.0)]
)
def test_the_sampler_draws_from_the_warped_softmax(top_k: int, top_p: float, temperature: float):
    logits = torch.tensor([2.0, 1.5, 1.0, 0.2, -1.0, -3.0])
    probs = torch.softmax(logits / temperature, -1)
    if top_k:
        probs[top_k:] = 0
    if top_p:  # the most likely tokens whose mass reaches top_p: here 2.0 and 1.5
        probs[2:] = 0
    probs /= probs.sum()
    rows = 20000
    warps = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    sampler = SeededSampler([0], rows_per_take=rows, guidance_scale=1.0, **warps)
    picks = sampler(torch.zeros(rows, 1, dtype=torch.long), logits.expand(rows, -1)).argmax(-1)
    frequencies = torch.bincount(picks, minlength=6) / rows
    assert torch.allclose(frequencies, probs, atol=0.015)


def test_the_sampler_applies_classifier_free_guidance() -> None:
    conditional, unconditional = torch.tensor([[0.0, 1.0, 0.5]]), torch.tensor([[0.0, 0.0, 1.0]])
    sampler = SeededSampler([0], rows_per_take=1, guidance_scale=3.0, top_k=1)
    scores = sampler(torch.zeros(1, 1, dtype=torch.long), torch.cat([conditional, unconditional]))
    # u + 3 (c - u) = [0, 3, -0.5]: token 1, in both halves (transformers' guidance then keeps it)
    assert scores.shape == (2, 3) and scores.argmax(-1).tolist() == [1, 1]


# ------------------------------------------------------------------ provenance
def test_the_provenance_names_everything_that_made_the_take(mono: str) -> None:
    take = generate("lofi piano", 0.5, model=mono, seed=40, top_p=0.9, progress=False)
    p = take.parameters
    assert (p["model"], p["model_revision"], p["seed"], p["seeds"]) == (mono, None, 40, [40])
    assert p["audiolab_version"] == audiolab.__version__
    assert p["transformers_version"] == transformers.__version__
    assert p["torch_version"] == torch.__version__
    assert (p["guidance_scale"], p["temperature"], p["top_k"], p["top_p"]) == (3.0, 1.0, 250, 0.9)
    assert (p["window_s"], p["overlap_s"], p["crossfade_s"]) == (30.0, 10.0, 0.1)
    assert p["audio_prompt"] is None and p["melody"] is None and p["sampler"]
    assert json.loads(json.dumps(take.to_dict(), allow_nan=False))["parameters"] == p


def test_a_hub_snapshot_folder_records_its_commit(mono: str, tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "models--acme--tiny" / "snapshots" / commit
    shutil.copytree(mono, snapshot)
    take = generate("rock", 0.2, model=str(snapshot), seed=1, progress=False)
    assert take.parameters["model_revision"] == commit


def test_a_tiny_model_folder_of_another_kind_is_rebuilt(tmp_path: Path) -> None:
    folder = tiny_musicgen(tmp_path / "tiny")
    config = json.loads((folder / "config.json").read_text())
    assert config["decoder"]["audio_channels"] == 1
    tiny_musicgen(folder, stereo=True)  # not the mono model it holds: built again
    config = json.loads((folder / "config.json").read_text())
    assert config["decoder"]["audio_channels"] == 2
    with pytest.raises(ValueError, match="frame_rate"):
        tiny_musicgen(tmp_path / "odd", frame_rate=7)
