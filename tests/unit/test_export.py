"""export_wav: inputs, bit depths, round trips, atomic writes, errors, batches, the seed facade."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiolab import AudioError, loudness
from audiolab.compat import AudioExporter
from audiolab.export import (
    BIT_DEPTHS,
    BatchExportError,
    ExportResult,
    export_wav,
    export_wav_batch,
)
from audiolab.policy import TEMPORARY_PREFIX
from audiolab.testing import programme

SR = 32000


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return programme(2.0, SR)


def read(path: Path) -> np.ndarray:
    audio, _ = sf.read(path, always_2d=True, dtype="float64")
    return audio.T


# ------------------------------------------------------------------ results
def test_result_is_measured_from_the_file_and_unpacks_as_the_seed_tuple(clip, tmp_path) -> None:
    result = export_wav(clip, tmp_path / "a.wav", SR)
    path, size = result
    assert path == tmp_path / "a.wav" and size == path.stat().st_size == result[1]
    assert len(result) == 2 and result[0] == path
    written = read(path)
    # the loudness of the samples before quantization: the dither moves it by ~1e-5 LU
    assert result.output_lufs == pytest.approx(loudness.integrated(written, SR), abs=1e-3)
    assert result.true_peak_dbtp == loudness.true_peak(written, SR) <= -1.0
    assert (result.sample_rate, result.channels, result.bit_depth) == (SR, 2, "PCM_16")
    assert result.duration_seconds == 2.0 and result.target_lufs == -16.0
    assert result.within_tolerance and result.input_lufs == pytest.approx(
        loudness.integrated(clip - clip.mean(axis=1, keepdims=True), SR)
    )
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["path"] == str(path)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (SR, 2, "PCM_16", "WAV")


def test_a_file_that_reads_back_differently_is_measured_as_it_reads(
    clip, tmp_path, monkeypatch
) -> None:
    import audiolab._pcm as pcm

    encode = pcm.encode

    def tampered(fd, data, *args, **kwargs):  # the disk holds other samples than intended
        encode(fd, (data // 4).astype(data.dtype), *args, **kwargs)

    monkeypatch.setattr(pcm, "encode", tampered)
    result = export_wav(clip, tmp_path / "t.wav", SR)
    back, _ = sf.read(result.path, always_2d=True)
    assert result.output_lufs == pytest.approx(loudness.integrated(back.T, SR), abs=1e-9)
    assert result.output_lufs == pytest.approx(-16.0 - 20 * np.log10(4), abs=0.1)
    assert result.within_tolerance is False and "LU from the -16 LUFS target" in result.message


def test_without_normalization_the_samples_are_written_as_they_are(clip, tmp_path) -> None:
    result = export_wav(clip, tmp_path / "raw.wav", SR, normalize=False, bit_depth="FLOAT")
    np.testing.assert_allclose(read(result.path), clip.astype(np.float32), rtol=0, atol=0)
    assert result.within_tolerance is None and result.target_lufs is None and result.gain_db == 0.0


def test_short_and_silent_audio_can_be_written_without_normalization(tmp_path) -> None:
    result = export_wav(np.zeros(100), tmp_path / "s.wav", SR, normalize=False)
    assert (
        result.output_lufs is None
        and result.input_lufs is None
        and result.true_peak_dbtp == -np.inf
    )
    assert result.to_dict()["true_peak_dbtp"] is None


def test_parent_folders_are_created(clip, tmp_path) -> None:
    result = export_wav(clip, tmp_path / "a" / "b" / "c.wav", SR)
    assert result.path.is_file()


@pytest.mark.parametrize("depth", ["PCM_16", "PCM_24", "PCM_32"])
def test_integer_pcm_never_clips_audio_written_as_it_is(tmp_path, depth) -> None:
    loud = np.full(SR, 1.5)
    with pytest.raises(AudioError, match=r"32000 samples are beyond full scale \(peak \+3\.52"):
        export_wav(loud, tmp_path / "c.wav", SR, normalize=False, bit_depth=depth)
    assert list(tmp_path.iterdir()) == []
    floating = export_wav(loud, tmp_path / "f.wav", SR, normalize=False, bit_depth="FLOAT")
    assert floating.clipped_samples == 0 and read(floating.path).max() == 1.5


def test_full_scale_is_the_largest_integer_not_a_clip(tmp_path) -> None:
    x = np.array([[1.0, -1.0, 0.5] * 4000])
    result = export_wav(x, tmp_path / "fs.wav", SR, normalize=False, bit_depth="PCM_24")
    assert result.clipped_samples == 0
    assert read(result.path).max() == 1 - 2**-23 and read(result.path).min() == -1.0


# ------------------------------------------------------------------ inputs
def _as_float64(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy().astype(np.float64)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: torch.from_numpy(x).float(),
        lambda x: torch.from_numpy(x).float().requires_grad_(True),
        lambda x: torch.from_numpy(x).half(),
        lambda x: torch.from_numpy(x).bfloat16(),
        lambda x: torch.from_numpy(x).float()[None],  # (1, C, T) as MusicGen returns it
    ],
    ids=["float32", "requires_grad", "float16", "bfloat16", "batch_of_one"],
)
def test_torch_inputs_export_the_same_samples_as_numpy(clip, tmp_path, make) -> None:
    tensor = make(clip)
    from_torch = export_wav(tensor, tmp_path / "t.wav", SR)
    from_numpy = export_wav(_as_float64(tensor.reshape(clip.shape)), tmp_path / "n.wav", SR)
    np.testing.assert_array_equal(read(from_torch.path), read(from_numpy.path))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_tensors_export_like_cpu_ones(clip, tmp_path) -> None:  # pragma: no cover - GPU
    gpu = export_wav(torch.from_numpy(clip).cuda(), tmp_path / "g.wav", SR)
    cpu = export_wav(clip, tmp_path / "c.wav", SR)
    np.testing.assert_array_equal(read(gpu.path), read(cpu.path))


def test_integer_pcm_exports_like_its_float_value(clip, tmp_path) -> None:
    pcm = np.round(clip * 32767).astype(np.int16)
    a = export_wav(pcm, tmp_path / "i.wav", SR)
    b = export_wav(pcm / 32768.0, tmp_path / "f.wav", SR)
    np.testing.assert_array_equal(read(a.path), read(b.path))


def test_dither_is_deterministic_under_a_seed(clip, tmp_path) -> None:
    a = read(export_wav(clip, tmp_path / "a.wav", SR, dither_seed=1).path)
    b = read(export_wav(clip, tmp_path / "b.wav", SR, dither_seed=1).path)
    c = read(export_wav(clip, tmp_path / "c.wav", SR, dither_seed=2).path)
    np.testing.assert_array_equal(a, b)
    difference = np.abs(a - c) * 32768
    assert difference.max() <= 2 and difference.mean() > 0.1  # TPDF: at most 2 LSB apart


def test_the_dither_is_triangular_between_minus_and_plus_one_step(tmp_path) -> None:
    x = np.full((2, 200_000), 0.25 / 32768)  # a quarter step: only the dither moves it
    back = read(export_wav(x, tmp_path / "d.wav", SR, normalize=False).path) * 32768
    assert set(np.unique(back)) <= {-1.0, 0.0, 1.0}
    # 0.25 + d with d triangular on (-1, 1) rounds down past -0.5 when d < -0.75 and
    # up past 0.5 when d > 0.25: probabilities 0.25**2 / 2 and 0.75**2 / 2
    assert np.mean(back == -1.0) == pytest.approx(0.25**2 / 2, abs=0.003)
    assert np.mean(back == 1.0) == pytest.approx(0.75**2 / 2, abs=0.005)
    assert back.mean() == pytest.approx(0.25, abs=0.005)  # dithered rounding is unbiased


# ------------------------------------------------------------------ round trips
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    channels=st.integers(1, 2),
    frames=st.integers(1, 3000),
    sr=st.sampled_from([8000, 22050, 44100, 96000, 192000]),
    depth=st.sampled_from(sorted(BIT_DEPTHS)),
    seed=st.integers(0, 1000),
)
def test_what_is_read_back_is_what_was_written_within_one_step(
    tmp_path, channels: int, frames: int, sr: int, depth: str, seed: int
) -> None:
    x = np.random.default_rng(seed).uniform(-0.99, 0.99, (channels, frames))
    result = export_wav(x, tmp_path / "r.wav", sr, normalize=False, bit_depth=depth)
    back = read(result.path)
    scale = BIT_DEPTHS[depth]
    step = 2.0**-23 if scale is None else 1.0 / scale  # float32 keeps 24 bits
    dither = 2.0 if depth == "PCM_16" else 0.5  # TPDF adds up to one LSB either way
    assert back.shape == (channels, frames)
    assert np.abs(back - x).max() <= (dither + 1e-9) * step


# ------------------------------------------------------------------ atomicity
def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(TEMPORARY_PREFIX)]


STAGES = ["audiolab._pcm.encode", "audiolab._pcm.write_at", "os.replace"]


@pytest.mark.parametrize("stage", STAGES)
def test_an_interrupted_export_leaves_no_file_and_no_temporary(
    clip, tmp_path, monkeypatch, stage
) -> None:
    def broken(*args, **kwargs):
        raise OSError(f"disk gone at {stage}")

    monkeypatch.setattr(stage, broken)
    target = tmp_path / "x.wav"
    with pytest.raises(OSError, match="disk gone"):
        export_wav(clip, target, SR)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("stage", STAGES)
def test_an_existing_file_survives_an_interrupted_export(
    clip, tmp_path, monkeypatch, stage
) -> None:
    target = tmp_path / "keep.wav"
    first = export_wav(clip, target, SR)
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("interrupted")

    monkeypatch.setattr(stage, broken)
    with pytest.raises(OSError):
        export_wav(clip * 0.5, target, SR, bit_depth="PCM_24")
    assert target.read_bytes() == before and first.file_size_bytes == len(before)
    assert _leftovers(tmp_path) == []


def test_a_failure_writing_the_bext_chunk_after_the_samples_leaves_nothing(
    clip, tmp_path, monkeypatch
) -> None:
    import audiolab._pcm as pcm

    write_at, calls = pcm.write_at, []

    def second_fails(fd, data, offset):  # the samples are written, then the head and bext
        calls.append(offset)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        write_at(fd, data, offset)

    monkeypatch.setattr(pcm, "write_at", second_fails)
    with pytest.raises(OSError, match="No space left") as excinfo:
        export_wav(clip, tmp_path / "x.wav", SR)
    assert calls[1] == 0 and calls[0] > 0 and excinfo.value.filename == str(tmp_path / "x.wav")
    assert list(tmp_path.iterdir()) == []


def test_a_replaced_file_is_replaced_whole(clip, tmp_path) -> None:
    target = tmp_path / "r.wav"
    export_wav(clip, target, SR, bit_depth="PCM_16")
    result = export_wav(clip, target, SR, bit_depth="PCM_24")
    assert sf.info(target).subtype == "PCM_24" and result.file_size_bytes == target.stat().st_size


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("audio", "options", "message"),
    [
        (np.full(SR, np.nan), {}, "NaN"),
        (np.zeros(0), {}, "empty"),
        (np.zeros((SR, 2)), {}, "pass audio.T"),
        (np.zeros((3, SR)), {}, "1 to 2 channels"),
        (np.zeros((2, 2, SR)), {}, "export_wav_batch"),
        (np.zeros((1, 1, 1, SR)), {}, "4-D"),
        (np.zeros(SR, dtype=complex), {}, "complex"),
        (np.zeros(SR), {"bit_depth": "PCM_8"}, "bit_depth must be one of"),
        (np.zeros(SR), {"tolerance_lu": float("nan")}, "tolerance_lu must be a finite number"),
        (np.zeros(SR), {"tolerance_lu": float("inf")}, "tolerance_lu must be a finite number"),
        (np.zeros(SR), {"target_lufs": -100}, "target_lufs must be from -70 to 0 LUFS"),
        (np.zeros(SR), {"target_lufs": 3}, "target_lufs must be from -70 to 0 LUFS"),
        (np.zeros(SR), {"target_lufs": float("nan")}, "target_lufs must be a finite number"),
        (np.zeros(SR), {"true_peak_db": float("nan")}, "true_peak_db must be a finite number"),
        (np.zeros(SR), {"true_peak_db": 3}, "a ceiling above 0 dBTP would clip WAV PCM_16"),
        (np.zeros(SR), {"true_peak_db": -90}, "true_peak_db must be from -70"),
        (np.zeros(SR), {"dither_seed": 1.5}, "dither_seed must be an integer"),
        (np.zeros(SR), {"seed": "7"}, "seed must be an integer"),
        (np.zeros(SR), {"prompt": 3}, "prompt must be a string"),
        (np.zeros(SR), {"metadata": ["a"]}, "metadata must be a mapping"),
        (np.zeros(SR), {"sample_rate": 0}, "sample rate"),
        (np.zeros(SR), {"sample_rate": 44100.5}, "whole number"),
        (np.zeros(SR), {"sample_rate": 4000}, "from 8000 to 192000"),
        (np.zeros(SR), {"tolerance_lu": -1}, "tolerance_lu must be from 0"),
        (np.zeros(SR), {}, "silent"),
        (programme(0.3, SR), {}, "needs at least 0.4 s"),
    ],
)
def test_bad_input_is_an_audio_error_and_nothing_is_written(
    tmp_path, audio, options, message
) -> None:
    arguments = {"sample_rate": SR, **options}
    with pytest.raises(AudioError, match=message):
        export_wav(audio, tmp_path / "bad.wav", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_file_name(clip, tmp_path) -> None:
    with pytest.raises(AudioError, match="is a folder"):
        export_wav(clip, tmp_path, SR)


# ------------------------------------------------------------------ batches
def test_a_batch_writes_the_good_items_and_reports_the_bad_one(clip, tmp_path) -> None:
    audios = [clip, np.full(SR, np.nan), clip * 0.5]
    paths = [tmp_path / f"{i}.wav" for i in range(3)]
    with pytest.raises(BatchExportError) as excinfo:
        export_wav_batch(audios, paths, SR)
    err = excinfo.value
    assert sorted(err.errors) == [1] and "NaN" in str(err.errors[1]) and "1 of 3" in str(err)
    assert isinstance(err.results[0], ExportResult) and isinstance(err.results[2], ExportResult)
    assert paths[0].exists() and paths[2].exists() and not paths[1].exists()


def test_a_batch_in_worker_processes_gives_the_same_files(clip, tmp_path) -> None:
    paths = [tmp_path / f"{i}.wav" for i in range(3)]
    serial = export_wav_batch([clip, clip * 0.3, clip[:1]], paths, SR, jobs=1)
    parallel_paths = [tmp_path / f"p{i}.wav" for i in range(3)]
    parallel = export_wav_batch([clip, clip * 0.3, clip[:1]], parallel_paths, SR, jobs=2)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(read(a.path), read(b.path))
        assert a.output_lufs == b.output_lufs


def test_a_batch_can_return_the_failures_in_place(clip, tmp_path) -> None:
    paths = [tmp_path / f"{i}.wav" for i in range(2)]
    results = export_wav_batch([np.zeros(0), clip], paths, SR, jobs=1, errors="return")
    assert isinstance(results[0], AudioError) and "empty" in str(results[0])
    assert isinstance(results[1], ExportResult) and paths[1].exists()


def test_a_batch_needs_one_path_per_clip(clip, tmp_path) -> None:
    with pytest.raises(AudioError, match="2 clips but 1 paths"):
        export_wav_batch([clip, clip], [tmp_path / "a.wav"], SR)


# ------------------------------------------------------------------ the seed's exporter
def test_the_seed_exporter_returns_path_and_size(clip, tmp_path) -> None:
    exporter = AudioExporter(target_lufs=-14.0)
    path, size = exporter.export_wav(torch.from_numpy(clip).float(), tmp_path / "s.wav")
    assert path == os.fspath(tmp_path / "s.wav") and size == Path(path).stat().st_size
    assert loudness.integrated(read(Path(path)), SR) == pytest.approx(-14.0, abs=0.1)
    pairs = exporter.export_wav_batch(
        [clip, clip], [tmp_path / "b0.wav", tmp_path / "b1.wav"], bit_depth="PCM_24"
    )
    assert [Path(p).name for p, _ in pairs] == ["b0.wav", "b1.wav"]
    assert sf.info(pairs[1][0]).subtype == "PCM_24"
