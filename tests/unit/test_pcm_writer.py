"""The lossless writer: WAV files are libsndfile's with a bext chunk; the PCM_16 dither is TPDF."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
import soundfile as sf

from audiolab._files import Temporaries
from audiolab._formats import FORMATS
from audiolab._pcm import quantize, write_lossless
from audiolab._tags import file_tags
from tests import riff

SR = 32000
READ_AS = {"PCM_16": "int16", "PCM_24": "int32", "PCM_32": "int32", "FLOAT": "float32"}


def _without_peak_time(raw: bytes) -> bytes:
    """The file with the PEAK chunk's timestamp (seconds since 1970, libsndfile's clock) zeroed."""
    at = raw.find(b"PEAK")
    if at < 0:
        return raw
    return raw[: at + 12] + bytes(4) + raw[at + 16 :]


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
@pytest.mark.parametrize(("channels", "frames"), [(1, 4001), (2, 4000), (3, 999), (6, 1)])
def test_a_wav_file_is_libsndfiles_own_with_the_bext_chunk_before_its_data(
    tmp_path, subtype, channels, frames
) -> None:
    rng = np.random.default_rng(channels)
    x = rng.uniform(-0.7, 0.7, (channels, frames))
    x[:, -1] = -0.9  # the PEAK chunk (FLOAT) gives the first frame of each channel's peak
    x[:, 0] = 0.9
    tags = file_tags(
        "WAV", prompt="Café ♪ " + "strings " * 40, seed=3, date="2024-05-01",
        metadata={"artist": "odd", "genre": "ambient", "tracknumber": "7", "mood": "calm"},
    )  # fmt: skip
    final = tmp_path / "ours.wav"
    with Temporaries(final) as temporaries:
        written = write_lossless(
            x.copy(), SR, FORMATS["WAV"], subtype, temporaries, tags=tags,
            description=tags["comment"],
        )  # fmt: skip
        temporaries.commit(written.temporary)
    ours = final.read_bytes()
    held, _ = sf.read(final, dtype=READ_AS[subtype], always_2d=True)
    # libsndfile writing the same samples with the same tags to a file on disk
    reference = tmp_path / "libsndfile.wav"
    with sf.SoundFile(reference, "w", SR, channels, subtype, format="WAV") as f:
        for name, text in tags.items():
            setattr(f, name, text)
        f.write(held)
    theirs = reference.read_bytes()
    data_at = next(offset for cid, offset, _ in riff.chunks(reference) if cid == b"data") - 8
    bext_at, bext_size = next((o, s) for cid, o, s in riff.chunks(final) if cid == b"bext")
    bext = ours[bext_at - 8 : bext_at + bext_size]
    expected = (
        b"RIFF" + struct.pack("<I", len(theirs) - 8 + len(bext)) + theirs[8:data_at]
        + bext + theirs[data_at:]
    )  # fmt: skip
    assert _without_peak_time(ours) == _without_peak_time(expected)
    fields = riff.bext(final)  # with the values measured on the file
    assert fields["max_true_peak_level"] == round(written.measured.true_peak_dbtp, 2)
    bits = {"PCM_16": 16, "PCM_24": 24}.get(subtype, 32)
    assert str(fields["coding_history"]).startswith(f"A=PCM,F={SR},W={bits},")


def test_the_bext_values_are_the_measured_ones_once_known(tmp_path) -> None:
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 4 * SR))
    with Temporaries(tmp_path / "a.wav") as temporaries:
        written = write_lossless(x, SR, FORMATS["WAV"], "PCM_24", temporaries)
        temporaries.commit(written.temporary)
    fields, m = riff.bext(tmp_path / "a.wav"), written.measured
    assert m.lufs is not None and m.loudness_range_lu is not None
    assert fields["loudness_value"] == round(m.lufs, 2)
    assert fields["loudness_range"] == round(m.loudness_range_lu, 2)
    assert fields["max_momentary_loudness"] == round(m.max_momentary_lufs or math.nan, 2)
    assert fields["max_short_term_loudness"] == round(m.max_short_term_lufs or math.nan, 2)


# ------------------------------------------------------------------ the dither
def _pcm16(x: np.ndarray, seed: int = 0) -> np.ndarray:
    data, clipped = quantize(x.copy(), "PCM_16", seed)
    assert clipped == 0
    return data.T.astype(np.float64)


def _triangular_cdf(d: float) -> float:
    """P(D <= d) for D triangular on (-1, 1)."""
    d = min(max(d, -1.0), 1.0)
    return (d + 1) ** 2 / 2 if d < 0 else 1 - (1 - d) ** 2 / 2


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95])
def test_the_dither_is_triangular_over_two_steps(fraction) -> None:
    # x = k + f steps, dither d: the file holds at least k + 1 when f + d >= 0.5,
    # k + 2 when f + d >= 1.5, k - 1 when f + d < -0.5
    k = 3
    held = _pcm16(np.full((2, 100_000), (k + fraction) / 32768)) - k
    assert set(np.unique(held)) <= {-1.0, 0.0, 1.0, 2.0}
    assert np.mean(held >= 1) == pytest.approx(1 - _triangular_cdf(0.5 - fraction), abs=0.006)
    assert np.mean(held >= 2) == pytest.approx(1 - _triangular_cdf(1.5 - fraction), abs=0.003)
    assert np.mean(held <= -1) == pytest.approx(_triangular_cdf(-0.5 - fraction), abs=0.003)


def test_the_dither_is_independent_between_samples_and_channels() -> None:
    # half a step: the file holds 1 exactly when the dither is positive (probability 1/2)
    held = _pcm16(np.full((2, 200_000), 0.5 / 32768))
    up = held - held.mean()
    assert abs(np.mean(up[:, 1:] * up[:, :-1])) / up.var() < 0.01  # successive samples
    assert abs(np.mean(up[0] * up[1])) / up.var() < 0.01  # the two channels
    assert np.mean(held) == pytest.approx(0.5, abs=0.005)


def test_the_dither_depends_on_the_seed_alone() -> None:
    x = np.random.default_rng(5).uniform(-0.5, 0.5, (2, 40_000))
    first, again, other = _pcm16(x, seed=9), _pcm16(x, seed=9), _pcm16(x, seed=10)
    np.testing.assert_array_equal(first, again)
    assert 0.2 < np.mean(first != other) < 0.8  # a different seed moves many samples
    assert np.abs(first - other).max() <= 2  # by at most the width of the dither


def test_digital_silence_stays_silent_and_only_it() -> None:
    x = np.zeros((2, 50_000))
    x[:, 1::2] = 1e-12  # not silence: dithered like any sample
    held = _pcm16(x)
    assert not held[:, ::2].any()
    # |d| > 0.5 moves it a step: probability 2 * 0.5**2 / 2
    assert np.mean(held[:, 1::2] != 0) == pytest.approx(0.25, abs=0.01)
