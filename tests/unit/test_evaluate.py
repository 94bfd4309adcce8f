"""Objective metrics: Fréchet distance against known Gaussians, CLAP and chroma plumbing."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from audiolab import synth
from audiolab.embeddings import clap_embedding, encodec_embedding, load_clap
from audiolab.errors import AudioError, ModelNotAvailableError
from audiolab.evaluate import (
    chroma_similarity,
    clap_score,
    frechet_distance,
    frechet_distance_of_embeddings,
)
from audiolab.testing import programme, tiny_clap, tiny_musicgen

SR = 32000


@pytest.fixture(scope="module")
def tiny_musicgen_folder(tmp_path_factory) -> str:
    pytest.importorskip("transformers")
    return str(tiny_musicgen(tmp_path_factory.mktemp("musicgen")))


@pytest.fixture(scope="module")
def tiny_clap_folder(tmp_path_factory) -> str:
    pytest.importorskip("transformers")
    return str(tiny_clap(tmp_path_factory.mktemp("clap")))


def _frames(audio, sr):
    """An embedding with a known geometry: the samples, 50 to a vector."""
    return audio[0].reshape(-1, 50)


def _weights_hash(folder) -> str:
    return "sha256:" + hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()[:16]


# ------------------------------------------------------------------ the distance itself
def test_frechet_distance_of_gaussians_matches_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    mean_a, sd_a = np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 0.5])
    mean_b, sd_b = np.array([1.0, 1.0, 0.0]), np.array([2.0, 1.0, 0.5])
    a = mean_a + sd_a * rng.standard_normal((200_000, 3))
    b = mean_b + sd_b * rng.standard_normal((200_000, 3))
    # diagonal covariances: |mu_a - mu_b|^2 + sum (sd_a - sd_b)^2
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    assert math.isclose(frechet_distance_of_embeddings(a, b), expected, rel_tol=0.02)


def test_frechet_distance_of_correlated_gaussians_matches_scipy_sqrtm() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((400, 6)) @ rng.standard_normal((6, 6))
    b = rng.standard_normal((300, 6)) @ rng.standard_normal((6, 6)) + 0.3
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = linalg.sqrtm(ca @ cb).real
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * cross)
    assert math.isclose(frechet_distance_of_embeddings(a, b), expected, rel_tol=1e-8)


def test_frechet_distance_of_a_set_with_itself_is_zero_and_grows_with_a_known_shift() -> None:
    takes = [(programme(1.0, 8000, seed=s, channels=1), 8000) for s in range(6)]
    assert frechet_distance(takes, takes, embedding=_frames).value < 1e-9
    for shift in (0.01, 0.05, 0.2):
        shifted = [(audio + shift, sr) for audio, sr in takes]
        # every 50-value vector moves by shift in each of its 50 dimensions
        value = frechet_distance(takes, shifted, embedding=_frames).value
        assert math.isclose(value, 50 * shift**2, rel_tol=1e-6)


def test_fad_infinity_removes_most_of_the_small_sample_bias() -> None:
    rng = np.random.default_rng(2)
    noise = lambda n: [(0.1 * rng.standard_normal(8000), 8000) for _ in range(n)]  # noqa: E731

    def embed(audio, sr):
        return audio[0].reshape(-1, 40)[:, :20]  # 20-dimensional white noise: the truth is 0

    reference, candidates = noise(40), noise(3)
    raw = frechet_distance(reference, candidates, embedding=embed)
    extrapolated = frechet_distance(reference, candidates, embedding=embed, extrapolate=True)
    assert extrapolated.metric == "frechet_distance_inf"
    assert math.isclose(extrapolated.details["frechet_distance"], raw.value)
    assert abs(extrapolated.value) < 0.3 * raw.value
    assert extrapolated.details["slope"] > 0  # fewer frames, more bias
    assert len(extrapolated.details["sizes"]) == len(extrapolated.details["distances"]) == 8


def test_bad_embeddings_and_sets_are_refused() -> None:
    takes = [(programme(1.0, 8000, seed=s), 8000) for s in range(2)]
    with pytest.raises(AudioError, match="embedding must be 'encodec', 'clap' or a callable"):
        frechet_distance(takes, takes, embedding="vggish")
    with pytest.raises(AudioError, match="finite"):
        frechet_distance(takes, takes, embedding=lambda audio, sr: np.full((2, 2), np.nan))
    with pytest.raises(AudioError, match="at least 2 vectors"):
        frechet_distance_of_embeddings(np.zeros((1, 3)), np.zeros((5, 3)))


def test_a_callables_model_and_revision_are_recorded() -> None:
    def embed(audio, sr):
        return audio[0].reshape(-1, 100)

    embed.model_id, embed.revision, embed.sample_rate = "my/encoder", "v3", 8000
    takes = [(programme(1.0, 16000, seed=s), 16000) for s in range(3)]
    score = frechet_distance(takes, takes, embedding=embed)  # resampled to 8 kHz
    assert (score.embedding, score.model, score.revision) == ("embed", "my/encoder", "v3")
    assert score.details["reference_frames"] == 3 * 80
    json.dumps(score.to_dict())


# ------------------------------------------------------------------ EnCodec
def test_encodec_fd_is_zero_for_a_set_with_itself_and_grows_with_noise(
    tiny_musicgen_folder,
) -> None:
    takes = [(programme(1.0, SR, seed=s), SR) for s in range(3)]
    same = frechet_distance(takes, takes, embedding="encodec", model=tiny_musicgen_folder)
    assert same.value < 1e-6
    rng = np.random.default_rng(3)
    distances = []
    for level in (0.05, 0.2, 0.8):
        noisy = [(a + level * rng.standard_normal(a.shape), sr) for a, sr in takes]
        distances.append(
            frechet_distance(takes, noisy, embedding="encodec", model=tiny_musicgen_folder).value
        )
    assert 0 < distances[0] < distances[1] < distances[2]


def test_encodec_scores_record_the_model_and_the_hash_of_its_weights(
    tiny_musicgen_folder,
) -> None:
    from pathlib import Path

    encodec = encodec_embedding(tiny_musicgen_folder)
    assert encodec.model == tiny_musicgen_folder
    assert encodec.revision == _weights_hash(Path(tiny_musicgen_folder))
    vectors = encodec(programme(2.0, 16000), 16000)  # resampled to 32 kHz, mixed to mono
    assert vectors.shape == (100, 16)
    from audiolab.generate import load_musicgen

    network, _ = load_musicgen(tiny_musicgen_folder)  # the model generate uses, loaded once
    assert encodec_embedding(network).model == tiny_musicgen_folder


def test_missing_models_say_so_clearly(monkeypatch) -> None:
    pytest.importorskip("transformers")
    with pytest.raises(ModelNotAvailableError, match="'/no/such/clap'"):
        load_clap("/no/such/clap")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match="HF_HUB_OFFLINE"):
        clap_score((programme(1.0, 16000), 16000), "drums", model="nobody/no-clap-here")
    with pytest.raises(ModelNotAvailableError, match="no-musicgen-here"):
        frechet_distance([], [], embedding="encodec", model="nobody/no-musicgen-here")


# ------------------------------------------------------------------ CLAP
def test_clap_score_is_the_cosine_of_the_model_own_embeddings(tiny_clap_folder) -> None:
    import torch
    from transformers import ClapModel, ClapProcessor

    audio = programme(1.5, 48000, channels=1)[0]
    score = clap_score((audio, 48000), "techno drums", model=tiny_clap_folder)
    model = ClapModel.from_pretrained(tiny_clap_folder).eval()
    processor = ClapProcessor.from_pretrained(tiny_clap_folder)
    with torch.no_grad():
        a = model.get_audio_features(
            **processor(audio=[audio], sampling_rate=48000, return_tensors="pt")
        )
        t = model.get_text_features(**processor(text=["techno drums"], return_tensors="pt"))
    a, t = getattr(a, "pooler_output", a)[0].numpy(), getattr(t, "pooler_output", t)[0].numpy()
    expected = float(a @ t / np.linalg.norm(a) / np.linalg.norm(t))
    assert math.isclose(score.value, expected, abs_tol=1e-5)
    assert score.model == tiny_clap_folder and score.revision.startswith("sha256:")
    assert score.details == {"prompt": "techno drums", "windows": 1}


def test_clap_embeds_long_takes_window_by_window_and_deterministically(tiny_clap_folder) -> None:
    clap = clap_embedding(tiny_clap_folder)
    take = programme(7.0, 16000)
    first, again = clap(take, 16000), clap(take, 16000)
    assert first.shape == (4, 16)  # 2 s windows: 0-2, 2-4, 4-6, 6-7
    np.testing.assert_array_equal(first, again)
    takes = [(programme(3.0, 16000, seed=s), 16000) for s in range(3)]
    score = frechet_distance(takes, takes, embedding="clap", model=tiny_clap_folder)
    assert score.value < 1e-6 and score.embedding == "clap"
    with pytest.raises(AudioError, match="non-empty text"):
        clap_score(takes[0], "  ", model=tiny_clap_folder)


# ------------------------------------------------------------------ chroma
def test_chroma_similarity_follows_the_melody_not_the_level_or_the_drums() -> None:
    song = synth.reference(100, "A minor", duration=8.0, sr=16000)
    same_harmony = synth.reference(100, "A minor", duration=8.0, sr=16000, drums=False, seed=4)
    other_key = synth.reference(100, "C# minor", duration=8.0, sr=16000)
    quiet = (0.05 * song.audio, 16000)
    assert math.isclose(chroma_similarity(song, song).value, 1.0)
    assert math.isclose(chroma_similarity(quiet, song).value, 1.0, abs_tol=1e-6)
    kept = chroma_similarity(same_harmony, song).value
    moved = chroma_similarity(other_key, song).value
    assert kept > 0.8 and moved < kept - 0.3
    score = chroma_similarity(song, other_key)
    assert score.embedding == "chroma" and score.details["frames"] > 20


def test_chroma_similarity_of_noise_is_nan() -> None:
    rng = np.random.default_rng(5)
    noise = (0.1 * rng.standard_normal(32000), 16000)
    silence = (np.zeros(32000), 16000)
    assert math.isnan(chroma_similarity(silence, noise).value)
