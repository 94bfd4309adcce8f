"""``audiolab normalize --format`` and ``--shared-gain`` through a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from audiolab import loudness
from audiolab.testing import programme

from .sweep import reference_true_peak


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "audiolab", *args], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip


def _loudness(path: Path) -> float:
    audio, rate = sf.read(path, always_2d=True)
    return loudness.integrated(audio.T, rate)


def test_normalize_writes_the_format_asked_for(tmp_path) -> None:
    sf.write(tmp_path / "take.wav", programme(3.0, 32000).T, 32000)
    done = _cli("normalize", str(tmp_path / "take.wav"), "-o", str(tmp_path / "out"),
                "--format", "opus", "--target", "-14")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "take.opus"
    assert sf.info(out).subtype == "OPUS" and abs(_loudness(out) + 14.0) <= 0.5


def test_normalize_with_a_shared_gain_keeps_the_files_apart(tmp_path) -> None:
    clip = programme(3.0, 32000)
    sf.write(tmp_path / "a.wav", clip.T, 32000, subtype="FLOAT")
    sf.write(tmp_path / "b.wav", 0.25 * clip.T, 32000, subtype="FLOAT")
    done = _cli("normalize", str(tmp_path / "a.wav"), str(tmp_path / "b.wav"), "-o",
                str(tmp_path / "out"), "--shared-gain", "--format", "flac")  # fmt: skip
    assert done.returncode == 0, done.stderr
    a, b = _loudness(tmp_path / "out" / "a.flac"), _loudness(tmp_path / "out" / "b.flac")
    assert abs(a + 16.0) <= 0.1 and abs((a - b) - 12.04) <= 0.1


def test_format_with_in_place_is_a_usage_error(tmp_path) -> None:
    sf.write(tmp_path / "a.wav", programme(1.0, 16000).T, 16000)
    done = _cli("normalize", str(tmp_path / "a.wav"), "--in-place", "--format", "mp3")
    assert done.returncode == 2 and "--format is for -o OUTDIR" in done.stderr


def test_meter_peak_holds_the_ceiling_by_the_bs1770_meter_only(tmp_path) -> None:
    # clipped noise: a plain gain to -8 LUFS leaves the meter's true peak under -1 dBTP and
    # the sinc's crests over it; by default the limiter holds those under it too
    sr = 16000
    clip = np.clip(0.8 * np.random.default_rng(1).standard_normal(2 * sr), -1, 1)
    sf.write(tmp_path / "noise.wav", clip, sr, subtype="FLOAT")
    for flag, folder in (([], "ideal"), (["--meter-peak"], "meter")):
        done = _cli("normalize", str(tmp_path / "noise.wav"), "-o", str(tmp_path / folder),
                    "--target", "-8", "--bit-depth", "PCM_24", *flag)  # fmt: skip
        assert done.returncode == 0, done.stderr
    ideal = sf.read(tmp_path / "ideal" / "noise.wav")[0]
    meter = sf.read(tmp_path / "meter" / "noise.wav")[0]
    assert reference_true_peak(ideal) <= -1.0 < -0.5 < reference_true_peak(meter)
    assert loudness.true_peak(meter, sr) <= -1.0  # the meter's ceiling holds
