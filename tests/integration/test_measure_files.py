"""measure() on files: formats, header-only facts, and every way a file can be bad."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from audiolab import AudioError, BatchError
from audiolab.measure import measure, measure_many
from audiolab.synth import reference


@pytest.fixture(scope="module")
def clip():
    return reference(120, "G major", duration=8.0, sr=32000, seed=2)


@pytest.fixture(scope="module")
def files(tmp_path_factory, clip) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("measure-files")
    paths = {}
    for name, fmt, subtype in [
        ("clip16.wav", "WAV", "PCM_16"),
        ("clip24.wav", "WAV", "PCM_24"),
        ("clipf.wav", "WAV", "FLOAT"),
        ("clip.flac", "FLAC", "PCM_16"),
        ("clip.ogg", "OGG", "VORBIS"),
        ("clip.mp3", "MP3", "MPEG_LAYER_III"),
    ]:
        path = folder / name
        soundfile.write(path, clip.audio.T, clip.sample_rate, format=fmt, subtype=subtype)
        paths[name] = path
    return paths


@pytest.mark.parametrize(
    ("name", "bit_depth"),
    [
        ("clip16.wav", "PCM_16"),
        ("clip24.wav", "PCM_24"),
        ("clipf.wav", "FLOAT"),
        ("clip.flac", "PCM_16"),
        ("clip.ogg", "VORBIS"),
        ("clip.mp3", "MPEG_LAYER_III"),
    ],
)
def test_every_format_soundfile_reads_is_measured(files, clip, name: str, bit_depth: str) -> None:
    m = measure(files[name])
    assert m.bit_depth == bit_depth
    assert m.sample_rate == 32000 and m.channels == 2
    assert m.file_size_bytes == os.path.getsize(files[name])
    assert m.path == str(files[name])
    assert m.duration_seconds == pytest.approx(8.0, abs=0.1)  # MP3 pads a little
    assert m.bpm == pytest.approx(120, rel=0.01)
    assert m.key == "G major"
    d = m.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert isinstance(d["file_size_bytes"], int) and isinstance(d["bit_depth"], str)


def test_a_lossless_file_measures_as_its_samples(files) -> None:
    data, sr = soundfile.read(files["clip24.wav"], always_2d=True)
    from_file = measure(files["clip24.wav"]).to_dict()
    from_array = measure(data.T, sr).to_dict()
    for name in ("path", "format", "bit_depth", "file_size_bytes"):
        from_file.pop(name), from_array.pop(name)
    assert from_file == from_array


def test_header_only_facts_do_not_decode(files, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(soundfile, "read", refuse)
    m = measure(files["clip24.wav"], bpm=False, key=False, stats=False, loudness=False)
    d = m.to_dict()
    assert (d["duration_seconds"], d["sample_rate"], d["channels"]) == (8.0, 32000, 2)
    assert d["bit_depth"] == "PCM_24" and d["frames"] == 256000
    assert d["bpm"] is d["key"] is d["peak_amplitude"] is d["integrated_lufs"] is None


def test_a_path_may_be_a_string_or_a_pathlike(files) -> None:
    a = measure(str(files["clip16.wav"]), bpm=False, key=False)
    b = measure(files["clip16.wav"], bpm=False, key=False)
    assert a.to_dict() == b.to_dict()


def test_a_matching_sample_rate_is_accepted_and_a_wrong_one_refused(files) -> None:
    assert measure(files["clip16.wav"], 32000, bpm=False, key=False).sample_rate == 32000
    with pytest.raises(AudioError, match=r"clip16\.wav.*32000 Hz"):
        measure(files["clip16.wav"], 44100)


def test_a_wav_named_mp3_is_measured_as_the_wav_it_is(files, tmp_path) -> None:
    disguised = tmp_path / "really-a-wav.mp3"
    shutil.copy(files["clip16.wav"], disguised)
    m = measure(disguised)
    assert m.format == "WAV" and m.bit_depth == "PCM_16"
    assert m.bpm == pytest.approx(120, rel=0.01)


def test_a_missing_path_names_the_file(tmp_path) -> None:
    with pytest.raises(AudioError, match=r"nothing-here\.wav: no such file"):
        measure(tmp_path / "nothing-here.wav")


def test_a_directory_names_itself(tmp_path) -> None:
    with pytest.raises(AudioError, match="is a directory"):
        measure(tmp_path)


def test_an_empty_file_names_the_file(tmp_path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file"):
        measure(empty)


def test_a_text_file_is_not_audio(tmp_path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: not a readable audio file"):
        measure(text)


@pytest.mark.parametrize("keep", [0.5, 0.5001, 0.01])
def test_a_truncated_wav_is_refused_even_header_only(files, tmp_path, keep: float) -> None:
    data = files["clip16.wav"].read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: int(len(data) * keep)])
    for options in ({}, {"bpm": False, "key": False, "stats": False, "loudness": False}):
        with pytest.raises(AudioError, match=r"cut\.wav: (truncated|not a readable)"):
            measure(cut, **options)


@pytest.mark.parametrize("name", ["clip.flac", "clip.ogg"])
def test_a_truncated_compressed_file_is_refused(files, tmp_path, name: str) -> None:
    data = files[name].read_bytes()
    cut = tmp_path / f"cut-{name}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=rf"cut-{name}: (truncated|damaged or truncated)"):
        measure(cut)


def test_a_file_with_more_channels_than_loudness_weighs(tmp_path, clip) -> None:
    six = np.tile(clip.audio[:1], (6, 1))
    path = tmp_path / "six.wav"
    soundfile.write(path, six.T, clip.sample_rate, subtype="PCM_16")
    m = measure(path)
    assert m.channels == 6
    assert m.integrated_lufs is None  # BS.1770 needs to know which channel is which
    assert m.bpm == pytest.approx(120, rel=0.01) and m.peak_amplitude > 0


@pytest.mark.parametrize("sr", [8000, 96000])
def test_files_at_extreme_rates(tmp_path, sr: int) -> None:
    ref = reference(100, "C minor", duration=6.0, sr=sr, channels=1)
    path = tmp_path / f"clip{sr}.flac"
    soundfile.write(path, ref.audio[0], sr, subtype="PCM_24")
    m = measure(path)
    assert m.sample_rate == sr and m.channels == 1
    assert m.bpm == pytest.approx(100, rel=0.01) and m.key == "C minor"


def test_measure_many_returns_results_and_errors_in_order(files, tmp_path) -> None:
    paths = [files["clip16.wav"], tmp_path / "missing.wav", files["clip.flac"]]
    results = measure_many(paths, jobs=1, errors="return", bpm=False, key=False)
    assert [type(r).__name__ for r in results] == ["Measurement", "AudioError", "Measurement"]
    assert "missing.wav" in str(results[1])
    assert results[0].bpm is None and results[0].peak_amplitude is not None


def test_measure_many_raises_a_batch_error_after_measuring_every_file(files, tmp_path) -> None:
    paths = [files["clip16.wav"], tmp_path / "missing.wav", files["clip.flac"]]
    with pytest.raises(BatchError, match="1 of 3 measure items failed") as excinfo:
        measure_many(paths, jobs=1, bpm=False, key=False)
    results = excinfo.value.results
    assert [type(r).__name__ for r in results] == ["Measurement", "AudioError", "Measurement"]
    assert list(excinfo.value.errors) == [1]


def test_a_dangling_link_names_the_file(tmp_path) -> None:
    link = tmp_path / "dangling.wav"
    link.symlink_to(tmp_path / "was-deleted.wav")
    with pytest.raises(AudioError, match=r"dangling\.wav: a link to a missing file"):
        measure(link)


def test_a_wav_without_frames_holds_no_audio(tmp_path) -> None:
    path = tmp_path / "no-frames.wav"
    soundfile.write(path, np.zeros((0, 2)), 16000)
    with pytest.raises(AudioError, match=r"no-frames\.wav: holds no audio"):
        measure(path)


def test_fewer_frames_than_the_header_announces_is_a_truncated_file(files, monkeypatch) -> None:
    real_read = soundfile.read

    def short_read(*args, **kwargs):
        data, sr = real_read(*args, **kwargs)
        return data[:-100], sr

    monkeypatch.setattr(soundfile, "read", short_read)
    with pytest.raises(AudioError, match=r"clip\.flac: truncated file \(255900 of the 256000"):
        measure(files["clip.flac"])


def test_measure_many_on_a_pool_and_on_dask_gives_the_serial_results(files, tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    paths = [*list(files.values())[:3], tmp_path / "missing.wav"]
    serial = measure_many(paths, jobs=1, errors="return")
    pooled = measure_many(paths, jobs=2, errors="return")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = measure_many(paths, client=client, errors="return")
    for other in (pooled, on_dask):
        for a, b in zip(serial, other, strict=True):
            if isinstance(a, Exception):
                assert type(b) is type(a) and str(b) == str(a)
            else:  # the same values, numbers to the last few bits of floating point
                expected, got = a.to_dict(), b.to_dict()
                assert got.keys() == expected.keys()
                for name, value in expected.items():
                    if isinstance(value, float):
                        assert got[name] == pytest.approx(value, rel=1e-9), name
                    else:
                        assert got[name] == value, name
