"""The writer's building blocks: formats, resampling, tags, the bext chunk, temporary files."""

from __future__ import annotations

import datetime as dt
import errno
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import AudioError
from audiolab._files import Temporaries, check_destination, from_libsndfile, naming
from audiolab._formats import (
    FORMATS,
    check_available,
    decode,
    delivery_rate,
    encode,
    format_for,
    format_of,
    resample,
    subtype_for,
)
from audiolab._tags import BEXT_UNKNOWN, ascii_text, bext_chunk, file_tags, split_before_data
from audiolab.policy import TEMPORARY_PREFIX
from tests import riff


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize(
    ("name", "format", "expected"),
    [
        ("a.wav", None, "WAV"),
        ("a.WAVE", None, "WAV"),
        ("a.flac", None, "FLAC"),
        ("a.ogg", None, "OGG"),
        ("a.oga", None, "OGG"),
        ("a.opus", None, "OPUS"),
        ("a.Mp3", None, "MP3"),
        ("a.wav", "flac", "FLAC"),  # format= wins, as in soundfile.write
        ("take", "OPUS", "OPUS"),
    ],
)
def test_the_format_comes_from_format_or_the_extension(name, format, expected) -> None:
    assert format_for(name, format).name == expected


@pytest.mark.parametrize(
    ("name", "format", "message"),
    [
        ("a.aiff", None, "cannot tell the format from the extension .aiff"),
        ("take", None, r"extension \(none\)"),
        ("a.wav", "aac", "format must be one of wav, flac, ogg, opus, mp3"),
        ("a.wav", 3, "format must be one of"),
    ],
)
def test_an_unknown_format_is_an_audio_error_naming_it(name, format, message) -> None:
    with pytest.raises(AudioError, match=message):
        format_for(name, format)


def test_bit_depths_are_checked_against_what_the_format_holds() -> None:
    assert subtype_for(FORMATS["WAV"], None) == "PCM_16"
    assert subtype_for(FORMATS["FLAC"], "PCM_24") == "PCM_24"
    assert subtype_for(FORMATS["MP3"], None) == "MPEG_LAYER_III"
    with pytest.raises(AudioError, match="PCM_16, PCM_24 for FLAC, got 'FLOAT'"):
        subtype_for(FORMATS["FLAC"], "FLOAT")
    with pytest.raises(AudioError, match="OPUS is lossy: it has no bit depth"):
        subtype_for(FORMATS["OPUS"], "PCM_16")


def test_every_format_is_supported_by_the_installed_libsndfile() -> None:
    for fmt in FORMATS.values():
        for subtype in fmt.subtypes:
            check_available(fmt, subtype)  # libsndfile 1.2 has them all


def test_a_format_missing_from_libsndfile_says_what_is_missing(monkeypatch) -> None:
    monkeypatch.setattr(sf, "available_subtypes", lambda container: {"VORBIS": "Vorbis"})
    with pytest.raises(AudioError, match=r"writing OPUS .*needs libsndfile 1\.0\.29.*lacks it"):
        check_available(FORMATS["OPUS"], "OPUS")


@pytest.mark.parametrize(
    ("name", "rate", "expected"),
    [
        ("OPUS", 8000, 48000),
        ("OPUS", 44100, 48000),
        ("OPUS", 192000, 48000),
        ("MP3", 32000, 32000),
        ("MP3", 37800, 44100),
        ("MP3", 88200, 44100),
        ("MP3", 96000, 48000),
        ("OGG", 192000, 192000),
        ("FLAC", 11025, 11025),
    ],
)
def test_rates_a_format_cannot_hold_are_moved_to_one_it_can(name, rate, expected) -> None:
    fmt = FORMATS[name]
    assert delivery_rate(fmt, rate) == expected
    if fmt.rates is not None:
        assert expected in fmt.rates


@pytest.mark.parametrize(("rate", "new_rate"), [(32000, 48000), (96000, 44100), (11025, 48000)])
def test_resampling_passes_the_band_and_stops_what_would_alias(rate, new_rate) -> None:
    t = np.arange(rate) / rate
    nyquist = min(rate, new_rate) / 2
    passed = resample(np.sin(2 * np.pi * 0.85 * nyquist * t)[None], rate, new_rate)
    assert passed.shape == (1, -(-rate * new_rate // rate))
    middle = passed[:, new_rate // 10 : -new_rate // 10]
    assert 20 * np.log10(np.sqrt(2 * np.mean(middle**2))) == pytest.approx(0.0, abs=0.01)
    if rate > new_rate:  # a tone above the new Nyquist frequency must not fold back
        above = resample(np.sin(2 * np.pi * 1.02 * nyquist * t)[None], rate, new_rate)
        level = np.sqrt(2 * np.mean(above[:, new_rate // 10 : -new_rate // 10] ** 2))
        assert 20 * np.log10(level) < -85


@pytest.mark.parametrize(
    ("container", "subtype", "expected"),
    [
        ("WAV", "PCM_24", ("WAV", "PCM_24")),
        ("WAV", "FLOAT", ("WAV", "FLOAT")),
        ("WAV", "DOUBLE", ("WAV", "FLOAT")),
        ("WAV", "PCM_U8", ("WAV", "PCM_16")),
        ("FLAC", "PCM_24", ("FLAC", "PCM_24")),
        ("OGG", "VORBIS", ("OGG", "VORBIS")),
        ("OGG", "OPUS", ("OPUS", "OPUS")),
        ("MP3", "MPEG_LAYER_III", ("MP3", "MPEG_LAYER_III")),
    ],
)
def test_format_of_a_file_keeps_what_it_is(tmp_path, container, subtype, expected) -> None:
    path = tmp_path / "x.bin"
    rate = 48000 if subtype == "OPUS" else 16000
    sf.write(path, np.zeros((rate // 2, 1)), rate, subtype=subtype, format=container)
    assert format_of(path) == expected


def test_format_of_a_container_audiolab_does_not_write_is_an_audio_error(tmp_path) -> None:
    sf.write(tmp_path / "x.aiff", np.zeros(800), 8000, subtype="PCM_16")
    with pytest.raises(AudioError, match="not AIFF"):
        format_of(tmp_path / "x.aiff")


def test_encode_and_decode_round_trip_through_an_open_descriptor(tmp_path) -> None:
    frames = (np.arange(-400, 400, dtype=np.int16) * 40).reshape(-1, 2)
    path = tmp_path / "a.flac"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        encode(fd, frames, 16000, FORMATS["FLAC"], "PCM_16", tags={"title": "t"})
    finally:
        os.close(fd)
    audio, rate = decode(path)
    assert rate == 16000 and audio.shape == (2, 400)
    np.testing.assert_array_equal(np.round(audio.T * 32768).astype(np.int16), frames)
    assert sf.SoundFile(path).title == "t"


# ------------------------------------------------------------------ tags
def test_the_prompt_model_and_seed_are_in_the_comment_and_the_prompt_is_the_title() -> None:
    tags = file_tags(
        "FLAC",
        prompt="warm\nlo-fi  piano",
        model="facebook/musicgen-small",
        seed=7,
        metadata={"comment": "take 3", "artist": "lab", "job_id": "a1"},
        date="2024-05-01",
    )
    assert tags["title"] == "warm lo-fi piano" and tags["artist"] == "lab"
    lines = tags["comment"].split("\n")
    assert lines[:5] == [
        "take 3",
        "prompt: warm lo-fi piano",
        "model: facebook/musicgen-small",
        "seed: 7",
        "job_id: a1",
    ]
    assert lines[5].startswith("audiolab: ") and tags["software"].startswith("audiolab ")
    assert tags["date"] == "2024-05-01"


def test_the_date_defaults_to_today_in_utc() -> None:
    assert file_tags("WAV")["date"] == dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_mp3_tags_are_what_lame_writes_in_ascii_with_a_year() -> None:
    tags = file_tags("MP3", prompt="Café ♪", metadata={"license": "CC-BY"}, date="2024-05-01")
    assert tags["title"] == "Cafe ?" and tags["date"] == "2024"
    assert "license" not in tags and "software" not in tags
    assert all(v.isascii() for v in tags.values())


def test_a_wav_has_no_license_field() -> None:
    assert "license" not in file_tags("WAV", metadata={"license": "CC0"})
    assert file_tags("OGG", metadata={"license": "CC0"})["license"] == "CC0"


@pytest.mark.parametrize("key", [3, "", "  "])
def test_a_metadata_key_must_be_a_name(key) -> None:
    with pytest.raises(AudioError, match="metadata keys must be non-empty strings"):
        file_tags("WAV", metadata={key: "x"})


def test_ascii_text_keeps_letters_and_marks_what_it_cannot() -> None:
    assert ascii_text("Ångström déjà vu – 東京") == "Angstrom deja vu ? ??"


# ------------------------------------------------------------------ bext
def _write_wav(path: Path, frames: np.ndarray, rate: int, subtype: str, **tags: str) -> None:
    with sf.SoundFile(path, "w", rate, frames.shape[1], subtype, format="WAV") as f:
        for name, text in tags.items():
            setattr(f, name, text)
        f.write(frames)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_a_bext_chunk_goes_before_the_data_and_changes_no_sample(tmp_path, subtype) -> None:
    rng = np.random.default_rng(1)
    frames = rng.uniform(-0.5, 0.5, (4001, 2)).astype(np.float32)
    plain, tagged = tmp_path / "plain.wav", tmp_path / "tagged.wav"
    _write_wav(plain, frames, 44100, subtype, title="x", comment="c")
    chunk = bext_chunk(
        description="prompt: café", rate=44100, bits=24, channels=2,
        loudness_lufs=-16.004, loudness_range_lu=5.456, true_peak_dbtp=-1.02,
        max_momentary_lufs=-12.5, max_short_term_lufs=None,
        when=dt.datetime(2024, 5, 1, 12, 30, 5, tzinfo=dt.timezone.utc),
    )  # fmt: skip
    head, rest = split_before_data(plain.read_bytes(), len(chunk), tagged)
    tagged.write_bytes(head + chunk + rest)
    ids = [cid for cid, _, _ in riff.chunks(tagged)]
    assert ids.index(b"bext") == ids.index(b"data") - 1 and ids.count(b"bext") == 1
    assert [i for i in ids if i != b"bext"] == [cid for cid, _, _ in riff.chunks(plain)]
    assert riff.chunk_body(tagged, b"data") == riff.chunk_body(plain, b"data")
    back, _ = sf.read(tagged, dtype="float32")
    np.testing.assert_array_equal(back, sf.read(plain, dtype="float32")[0])
    assert sf.SoundFile(tagged).title == "x"  # other readers still find everything
    fields = riff.bext(tagged)
    assert fields["version"] == 2 and fields["originator"] == "audiolab"
    assert fields["description"] == "prompt: cafe"
    assert (fields["origination_date"], fields["origination_time"]) == ("2024-05-01", "12:30:05")
    assert fields["loudness_value"] == -16.0 and fields["loudness_range"] == 5.46
    assert fields["max_true_peak_level"] == -1.02 and fields["max_momentary_loudness"] == -12.5
    assert fields["max_short_term_loudness"] is None and fields["time_reference"] == 0
    assert fields["umid"] == bytes(64) and fields["reserved"] == bytes(180)
    assert str(fields["coding_history"]).startswith("A=PCM,F=44100,W=24,M=stereo,T=audiolab")


def test_bext_values_that_cannot_be_measured_are_marked_unknown() -> None:
    chunk = bext_chunk(description="", rate=8000, bits=16, channels=1,
                       loudness_lufs=float("-inf"), true_peak_dbtp=float("nan"))  # fmt: skip
    values = struct.unpack("<5h", chunk[8 + 412 : 8 + 422])
    assert values == (BEXT_UNKNOWN,) * 5
    assert len(chunk) % 2 == 0 and struct.unpack("<I", chunk[4:8])[0] == len(chunk) - 8


def test_a_long_description_is_cut_to_256_bytes() -> None:
    chunk = bext_chunk(description="x" * 1000, rate=8000, bits=16, channels=1)
    assert chunk[8 : 8 + 256] == b"x" * 256 and chunk[8 + 256 : 8 + 264] == b"audiolab"


def test_splitting_a_file_that_is_not_wav_is_an_audio_error() -> None:
    for raw in (b"OggS" + bytes(100), b"RIFF" + bytes(4) + b"WAVEfmt " + bytes(20), b"RIFF"):
        with pytest.raises(AudioError, match=r"a\.wav: not a RIFF/WAVE file with a data chunk"):
            split_before_data(raw, 8, "a.wav")


def test_a_wav_file_with_its_chunk_stays_under_the_4_gib_of_riff(tmp_path) -> None:
    _write_wav(tmp_path / "a.wav", np.zeros((10, 1), np.int16), 8000, "PCM_16")
    raw = (tmp_path / "a.wav").read_bytes()
    largest = 0xFFFFFFFF - (len(raw) - 8)  # the RIFF size field is 32 bits
    head, rest = split_before_data(raw, largest, "a.wav")
    assert struct.unpack("<I", head[4:8])[0] == 0xFFFFFFFF and bytes(rest[:4]) == b"data"
    with pytest.raises(AudioError, match=r"a\.wav: a WAV file holds at most 4 GiB"):
        split_before_data(raw, largest + 2, "a.wav")


# ------------------------------------------------------------------ files
def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(TEMPORARY_PREFIX)]


def test_temporaries_are_removed_on_failure_and_committed_ones_kept(tmp_path) -> None:
    final = tmp_path / "deep" / "x.wav"
    with pytest.raises(RuntimeError), Temporaries(final) as temporaries:
        first, fd = temporaries.new()
        os.close(fd)
        second, fd = temporaries.new()
        os.write(fd, b"data")
        os.close(fd)
        temporaries.commit(second)
        assert first.exists()
        raise RuntimeError("later failure")
    assert final.read_bytes() == b"data" and _leftovers(final.parent) == []


def test_a_legal_255_byte_name_works_and_a_longer_one_is_enametoolong(tmp_path) -> None:
    name = "é" * 125 + "a.wav"  # 255 bytes in UTF-8
    assert len(os.fsencode(name)) == 255
    with Temporaries(check_destination(tmp_path / name)) as temporaries:
        temporary, fd = temporaries.new()
        os.close(fd)
        temporaries.commit(temporary)
    assert (tmp_path / name).exists()
    with pytest.raises(OSError) as excinfo:
        check_destination(tmp_path / ("a" * 252 + ".wav"))
    err = excinfo.value
    assert err.errno == errno.ENAMETOOLONG and err.filename == str(tmp_path / ("a" * 252 + ".wav"))
    assert "File name too long" in str(err)


@pytest.mark.parametrize(
    ("path", "message"),
    [("a\0b.wav", "NUL byte"), (b"a.wav", "str or os.PathLike"), ("  ", "must name a file")],
)
def test_paths_no_file_can_have_are_audio_errors(path, message) -> None:
    with pytest.raises(AudioError, match=message):
        check_destination(path)


def test_a_file_where_a_folder_should_be_is_enotdir(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as excinfo, Temporaries(tmp_path / "file" / "a.wav"):
        pass
    assert excinfo.value.errno == errno.ENOTDIR


def test_libsndfile_system_errors_become_enospc_or_eio_naming_the_path(tmp_path) -> None:
    path = tmp_path / "a.wav"
    full = from_libsndfile(RuntimeError("Error: System error."), path, 2**62)
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC
    assert full.filename == str(path) and "No space left on device" in str(full)
    other = from_libsndfile(RuntimeError("System error."), path, 1)
    assert isinstance(other, OSError) and other.errno == errno.EIO
    codec = from_libsndfile(RuntimeError("Bad sample rate"), path, 1)
    assert isinstance(codec, AudioError) and str(path) in str(codec)


def test_naming_keeps_the_subclass_and_errno() -> None:
    err = naming(PermissionError(errno.EACCES, "Permission denied", "/x/.tmp-1"), "/x/a.wav")
    assert isinstance(err, PermissionError) and err.filename == "/x/a.wav"
