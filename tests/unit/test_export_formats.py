"""export: every format decoded and measured; tags and bext read by other tools; errors."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import AudioError, loudness
from audiolab.export import export, export_batch, export_wav, format_of
from audiolab.policy import TEMPORARY_PREFIX
from audiolab.testing import programme
from tests import riff

SR = 32000
FORMATS = [("a.wav", "PCM_16"), ("a.wav", "PCM_24"), ("a.wav", "FLOAT"), ("a.flac", "PCM_16"),
           ("a.flac", "PCM_24"), ("a.ogg", None), ("a.opus", None), ("a.mp3", None)]  # fmt: skip


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return programme(3.0, SR, seed=2)


def decoded(path: Path) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(path, dtype="float64", always_2d=True)
    return audio.T, rate


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.startswith(TEMPORARY_PREFIX)]


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize(("name", "depth"), FORMATS)
def test_every_format_measures_on_target_once_decoded(clip, tmp_path, name, depth) -> None:
    result = export(clip, tmp_path / name, SR, bit_depth=depth, target_lufs=-14.0)
    audio, rate = decoded(result.path)
    info = sf.info(result.path)
    expected_format = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".opus": "OPUS",
                       ".mp3": "MP3"}[Path(name).suffix]  # fmt: skip
    assert result.format == expected_format and result.bit_depth == info.subtype
    assert result.sample_rate == rate == (48000 if name.endswith(".opus") else SR)
    # the result is what the file decodes to, measured
    assert result.output_lufs == pytest.approx(loudness.integrated(audio, rate), abs=1e-3)
    assert result.true_peak_dbtp == pytest.approx(loudness.true_peak(audio, rate), abs=1e-9)
    assert result.within_tolerance and result.message is None
    assert abs(result.output_lufs + 14.0) <= 0.1 and result.true_peak_dbtp <= -1.0
    assert result.duration_seconds == pytest.approx(audio.shape[1] / rate)
    assert result.file_size_bytes == result.path.stat().st_size and _leftovers(tmp_path) == []


def test_opus_is_resampled_to_48_khz_without_changing_the_music(clip, tmp_path) -> None:
    result = export(clip, tmp_path / "a.opus", SR, normalize=False)
    audio, rate = decoded(result.path)
    assert rate == 48000 and audio.shape[1] == pytest.approx(3.0 * 48000, abs=2)
    assert loudness.integrated(audio, rate) == pytest.approx(loudness.integrated(clip, SR), abs=0.1)
    assert result.input_lufs == pytest.approx(loudness.integrated(clip, SR), abs=0.1)


def test_mp3_at_a_rate_mpeg_lacks_is_written_at_one_it_has(tmp_path) -> None:
    result = export(programme(2.0, 96000), tmp_path / "hi.mp3", 96000)
    assert result.sample_rate == sf.info(result.path).samplerate == 48000
    assert result.within_tolerance


def test_format_wins_over_the_extension_and_export_wav_always_writes_wav(clip, tmp_path) -> None:
    assert sf.info(export(clip, tmp_path / "x.wav", SR, format="flac").path).format == "FLAC"
    assert sf.info(export_wav(clip, tmp_path / "y.flac", SR).path).format == "WAV"
    with pytest.raises(AudioError, match=r"cannot tell the format from the extension \.aif"):
        export(clip, tmp_path / "z.aif", SR)


def test_a_lossy_file_over_the_ceiling_is_encoded_again_lower(clip, tmp_path, monkeypatch) -> None:
    import audiolab._lossy as lossy

    monkeypatch.setattr(lossy, "FIRST_MARGIN_DB", 0.0)  # the first encode aims at the ceiling
    result = export(clip, tmp_path / "loud.mp3", SR, target_lufs=-9.0)
    audio, rate = decoded(result.path)
    assert result.encodes > 1 and result.within_tolerance
    assert loudness.true_peak(audio, rate) <= -1.0 and abs(result.output_lufs + 9.0) <= 0.1


def test_a_lossy_file_that_cannot_hold_says_why(clip, tmp_path, monkeypatch) -> None:
    import audiolab._lossy as lossy

    monkeypatch.setattr(lossy, "MAX_ENCODES", 1)
    monkeypatch.setattr(lossy, "FIRST_MARGIN_DB", -1.0)  # aims over the ceiling: cannot hold
    result = export(clip, tmp_path / "over.ogg", SR, target_lufs=-9.0)
    assert result.within_tolerance is False and result.encodes == 1
    assert "encoder raises the true peak" in result.message and result.true_peak_dbtp > -1.0


def test_a_format_this_libsndfile_cannot_write_is_an_audio_error(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(sf, "available_subtypes", lambda container=None: {"PCM_16": "x"})
    with pytest.raises(AudioError, match=r"writing MP3 .*needs libsndfile 1\.1\.0"):
        export(clip, tmp_path / "a.mp3", SR)
    assert list(tmp_path.iterdir()) == []


def test_a_rewrite_can_keep_the_format_and_bit_depth_of_the_original(clip, tmp_path) -> None:
    original = export(clip, tmp_path / "take.flac", SR, bit_depth="PCM_24").path
    kept_format, kept_depth = format_of(original)
    again = export(clip * 0.5, original, SR, format=kept_format, bit_depth=kept_depth)
    assert (sf.info(again.path).format, sf.info(again.path).subtype) == ("FLAC", "PCM_24")


# ------------------------------------------------------------------ tags
def test_a_wav_carries_its_tags_and_a_bext_chunk_with_its_loudness(clip, tmp_path) -> None:
    made = {"prompt": "lo-fi drums", "model": "facebook/musicgen-small", "seed": 42}
    result = export(clip, tmp_path / "t.wav", SR, bit_depth="PCM_24", metadata={"artist": "lab"},
                    **made)  # fmt: skip
    ids = [cid for cid, _, _ in riff.chunks(result.path)]
    assert ids[0] == b"fmt " and ids.index(b"bext") < ids.index(b"data") and ids[-1] == b"data"
    info = riff.info_list(result.path)
    assert info["INAM"] == "lo-fi drums" and info["IART"] == "lab"
    assert "prompt: lo-fi drums\nmodel: facebook/musicgen-small\nseed: 42" in info["ICMT"]
    assert info["ISFT"].startswith("audiolab ")
    bext = riff.bext(result.path)
    assert bext["version"] == 2 and bext["originator"] == "audiolab"
    assert str(bext["description"]).startswith("prompt: lo-fi drums model: facebook")
    audio, rate = decoded(result.path)
    report = loudness.report(audio, rate)
    # the file's own values, to the hundredth the chunk holds
    assert bext["loudness_value"] == pytest.approx(report.integrated_lufs, abs=0.0051)
    assert bext["loudness_range"] == pytest.approx(report.loudness_range_lu, abs=0.0051)
    assert bext["max_true_peak_level"] == pytest.approx(report.true_peak_dbtp, abs=0.0051)
    assert bext["max_momentary_loudness"] == pytest.approx(report.max_momentary_lufs, abs=0.0051)
    assert bext["max_short_term_loudness"] == pytest.approx(report.max_short_term_lufs, abs=0.0051)
    assert str(bext["coding_history"]).startswith(f"A=PCM,F={SR},W=24,M=stereo,T=audiolab")


def test_the_bext_loudness_agrees_with_libebur128(clip, tmp_path) -> None:
    pyebur128 = pytest.importorskip("pyebur128")
    result = export(clip, tmp_path / "e.wav", SR)
    audio, rate = decoded(result.path)
    state = pyebur128.R128State(2, rate, pyebur128.MeasurementMode.MODE_I)
    frames = np.ascontiguousarray(audio.T)
    state.add_frames(frames.ravel(), len(frames))
    assert riff.bext(result.path)["loudness_value"] == pytest.approx(
        pyebur128.get_loudness_global(state), abs=0.02
    )


def test_a_clip_under_3_s_marks_the_short_term_values_unknown(tmp_path) -> None:
    result = export(programme(1.0, SR), tmp_path / "s.wav", SR)
    bext = riff.bext(result.path)
    assert bext["loudness_value"] is not None and bext["max_momentary_loudness"] is not None
    assert bext["loudness_range"] is None and bext["max_short_term_loudness"] is None


@pytest.mark.parametrize("name", ["a.flac", "a.ogg", "a.opus", "a.mp3"])
def test_other_formats_carry_the_prompt_in_their_own_tags(clip, tmp_path, name) -> None:
    result = export(clip, tmp_path / name, SR, prompt="Café piano", model="m", seed=7)
    with sf.SoundFile(result.path) as f:
        title, comment = f.title, f.comment
    if name.endswith(".mp3"):  # ID3 through LAME: ISO-8859-1, so folded to ASCII
        assert title == "Cafe piano"
    else:
        assert title == "Café piano"
    assert "seed: 7" in comment and "model: m" in comment


def test_tags_read_by_mutagen_an_independent_reader(clip, tmp_path) -> None:
    mutagen = pytest.importorskip("mutagen")
    for name, key in (("m.flac", "title"), ("m.ogg", "title"), ("m.opus", "title")):
        tags = mutagen.File(export(clip, tmp_path / name, SR, prompt="Café").path)
        assert tags[key] == ["Café"], name
    id3 = mutagen.File(export(clip, tmp_path / "m.mp3", SR, prompt="Cafe", seed=3).path)
    assert str(id3["TIT2"]) == "Cafe" and "seed: 3" in str(id3.tags.getall("COMM")[0])


def _ffmpeg() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return imageio_ffmpeg.get_ffmpeg_exe()


def test_ffmpeg_reads_the_bext_chunk_and_the_samples(clip, tmp_path) -> None:
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        pytest.skip("no ffmpeg (neither on PATH nor from imageio-ffmpeg)")
    result = export(clip, tmp_path / "f.wav", SR, prompt="strings", seed=5)
    listing = subprocess.run([ffmpeg, "-hide_banner", "-i", str(result.path), "-f", "ffmetadata",
                              "-"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    # ffmpeg names the bext originator encoded_by; the LIST title and comment are there too
    assert "encoded_by=audiolab" in listing and "time_reference=0" in listing
    assert "coding_history=A\\=PCM,F\\=32000,W\\=16,M\\=stereo" in listing
    assert "title=strings" in listing and "comment=prompt: strings" in listing
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(result.path), "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout  # fmt: skip
    samples = np.frombuffer(raw, dtype="<i2").reshape(-1, 2)
    np.testing.assert_array_equal(samples, sf.read(result.path, dtype="int16")[0])


@pytest.mark.parametrize("name", ["d.opus", "d.mp3"])
def test_another_decoder_also_finds_the_lossy_file_under_the_ceiling(clip, tmp_path, name) -> None:
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        pytest.skip("no ffmpeg (neither on PATH nor from imageio-ffmpeg)")
    result = export(clip, tmp_path / name, SR, target_lufs=-12.0)
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(result.path), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout  # fmt: skip
    audio = np.frombuffer(raw, dtype="<f4").reshape(-1, 2).T.astype(np.float64)
    assert loudness.true_peak(audio, result.sample_rate) <= -1.0 + 0.05
    assert loudness.integrated(audio, result.sample_rate) == pytest.approx(-12.0, abs=0.2)


def test_sox_reads_the_wav_when_installed(clip, tmp_path) -> None:
    sox = shutil.which("sox")
    if sox is None:
        pytest.skip("sox is not installed")
    result = export(clip, tmp_path / "s.wav", SR, bit_depth="PCM_24")
    stat = subprocess.run([sox, str(result.path), "-n", "stat"], capture_output=True, text=True)
    assert stat.returncode == 0 and "Samples read" in stat.stderr


# ------------------------------------------------------------------ the writer under attack
def test_a_ceiling_above_0_dbtp_is_refused_for_integer_pcm_and_allowed_for_float(tmp_path):
    for name, depth in (("a.wav", "PCM_16"), ("a.flac", "PCM_24"), ("a.mp3", None)):
        with pytest.raises(AudioError, match="a ceiling above 0 dBTP would clip"):
            export(programme(1.0, SR), tmp_path / name, SR, bit_depth=depth, true_peak_db=3.0)
    assert list(tmp_path.iterdir()) == []
    result = export(programme(1.0, SR), tmp_path / "f.wav", SR, bit_depth="FLOAT",
                    target_lufs=-3.0, true_peak_db=3.0)  # fmt: skip
    assert result.within_tolerance and 0.0 < result.true_peak_dbtp <= 3.0


def test_a_clipped_sample_is_never_within_tolerance(clip, tmp_path, monkeypatch) -> None:
    import audiolab._writing as writing

    def overshooting(source, target, ceiling, consume, *args, **kwargs):  # lets a peak by
        y = source[0].samples / np.abs(source[0].samples).max() * 0.5
        y[0, 100] = 1.2
        return y, type("Info", (), {"input_lufs": -20.0, "output_lufs": -16.0, "gain_db": 0.0,
                                    "limited": False, "message": None})(), None  # fmt: skip

    monkeypatch.setattr(writing, "_normalized", overshooting)
    result = export(clip, tmp_path / "c.wav", SR, tolerance_lu=100)
    assert result.clipped_samples == 1 and result.within_tolerance is False
    assert result.message == "1 samples clipped at full scale"


def test_every_off_target_result_says_why(tmp_path) -> None:
    square = np.sign(np.sin(2 * np.pi * 110 * np.arange(3 * SR) / SR))[None]
    for name in ("a.wav", "a.ogg"):
        result = export(square, tmp_path / name, SR, target_lufs=-2.0)
        assert result.within_tolerance is False and result.message, name
    tight = export(programme(3.0, SR), tmp_path / "b.wav", SR, tolerance_lu=0.0)
    assert tight.within_tolerance is (tight.message is None)


def test_a_nul_byte_in_the_path_is_an_audio_error_and_nothing_is_left(clip, tmp_path) -> None:
    with pytest.raises(AudioError, match="NUL byte"):
        export(clip, str(tmp_path / "a\0b.wav"), SR)
    assert list(tmp_path.iterdir()) == []


def test_a_255_byte_name_works_and_a_256_byte_name_is_enametoolong(clip, tmp_path) -> None:
    ok = export(clip, tmp_path / ("n" * 251 + ".wav"), SR)
    assert ok.path.exists()
    with pytest.raises(OSError) as excinfo:
        export(clip, tmp_path / ("n" * 252 + ".wav"), SR)
    assert excinfo.value.errno == errno.ENAMETOOLONG and "n" * 252 in excinfo.value.filename
    assert _leftovers(tmp_path) == [] and len(list(tmp_path.iterdir())) == 1


_UNPRIVILEGED = """
import errno, os, sys
import numpy as np
from audiolab.export import export
from audiolab.testing import programme
os.setgid(65534); os.setuid(65534)
try:
    export(programme(1.0, 16000), sys.argv[1], 16000)
except PermissionError as err:
    print(err.errno == errno.EACCES, err.filename == sys.argv[1], err.strerror)
"""


def test_a_folder_without_write_permission_is_eacces_naming_the_path(tmp_path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    tmp_path.chmod(0o755)
    target = str(folder / "a.wav")
    try:
        if os.geteuid() == 0:  # root writes anywhere: try it as nobody
            out = subprocess.run([sys.executable, "-c", _UNPRIVILEGED, target],
                                 capture_output=True, text=True, cwd="/",
                                 env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
            if "Operation not permitted" in out.stderr:
                pytest.skip("cannot drop privileges here")
            assert out.stdout.split()[:2] == ["True", "True"], out.stderr
            assert "Permission denied" in out.stdout
        else:
            with pytest.raises(PermissionError) as excinfo:
                export(programme(1.0, SR), target, SR)
            assert excinfo.value.filename == target
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (root only: mounting needs it)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small tmpfs needs root (mount -t tmpfs)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("name", ["full.wav", "full.flac", "full.ogg"])
def test_a_full_disk_is_enospc_naming_the_path_and_leaves_nothing(tiny_disk, name) -> None:
    target = tiny_disk / name
    big = programme(20.0, 48000)  # 3.8 MB as PCM_16, 0.7 MB as Vorbis: more than it holds
    with pytest.raises(OSError) as excinfo:
        export(big, target, 48000, compression_level=0.0 if name.endswith(".ogg") else None)
    assert excinfo.value.errno == errno.ENOSPC and excinfo.value.filename == str(target)
    assert "No space left on device" in str(excinfo.value)
    assert list(tiny_disk.iterdir()) == []


# ------------------------------------------------------------------ batches
def test_a_batch_of_mixed_formats_writes_each_in_its_own(clip, tmp_path) -> None:
    paths = [tmp_path / "a.wav", tmp_path / "b.flac", tmp_path / "c.opus"]
    results = export_batch([clip, clip * 0.5, clip * 0.25], paths, SR, jobs=1)
    assert [r.format for r in results] == ["WAV", "FLAC", "OPUS"]
    assert all(r.within_tolerance for r in results)
    assert json.loads(json.dumps(results[2].to_dict()))["format"] == "OPUS"


def test_a_shared_gain_keeps_the_clips_relative_loudness(clip, tmp_path) -> None:
    from audiolab.normalize import normalize_group

    clips = [clip, 0.5 * clip, 0.1 * clip]
    paths = [tmp_path / "loud.wav", tmp_path / "half.flac", tmp_path / "tenth.ogg"]
    results = export_batch(clips, paths, SR, gain="shared", target_lufs=-14.0, jobs=1)
    measured = [loudness.integrated(*decoded(r.path)) for r in results]
    assert measured[0] == pytest.approx(-14.0, abs=0.1)
    assert measured[0] - measured[1] == pytest.approx(20 * np.log10(2), abs=0.1)
    assert measured[0] - measured[2] == pytest.approx(20.0, abs=0.1)
    grouped = normalize_group(clips, SR, target_lufs=-14.0)
    for result, (_, info) in zip(results, grouped, strict=True):
        assert result.within_tolerance and result.target_lufs == pytest.approx(info.target_lufs)
    each = export_batch(clips, [tmp_path / f"e{i}.wav" for i in range(3)], SR, jobs=1,
                        target_lufs=-14.0)  # fmt: skip
    assert all(r.output_lufs == pytest.approx(-14.0, abs=0.1) for r in each)


def test_a_shared_gain_never_crosses_the_ceiling(tmp_path) -> None:
    gentle = programme(3.0, SR, seed=1) * 0.05
    spiky = gentle.copy()
    spiky[:, :: SR // 2] = 0.9  # one quiet clip with full-scale clicks
    results = export_batch([gentle * 4, spiky], [tmp_path / "a.wav", tmp_path / "b.wav"], SR,
                           gain="shared", target_lufs=-12.0, jobs=1)  # fmt: skip
    assert all(r.true_peak_dbtp <= -1.0 for r in results)
    assert results[1].limited and results[1].within_tolerance


def test_gain_must_be_each_or_shared(clip, tmp_path) -> None:
    with pytest.raises(AudioError, match="gain must be 'each' or 'shared'"):
        export_batch([clip], [tmp_path / "a.wav"], SR, gain="album")
