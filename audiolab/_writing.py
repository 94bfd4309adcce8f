"""The export pipeline behind :func:`audiolab.export.export`: options, normalization, files.

Package-internal: :func:`export_file` checks every option, validates and
analyses the audio once, normalizes it (at the target, or at a shared gain),
and writes it through :mod:`audiolab._pcm` (WAV, FLAC) or
:mod:`audiolab._lossy` (Ogg Vorbis, Opus, MP3) under a temporary name that
it renames into place; it returns the fields of the
:class:`~audiolab.export.ExportResult`.

Examples
--------
>>> import tempfile, os
>>> from audiolab.testing import programme
>>> fields = export_file(programme(1.0, 16000), os.path.join(tempfile.mkdtemp(), "a.wav"),
...                      16000, None)
>>> fields["format"], fields["within_tolerance"]
('WAV', True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from audiolab import loudness
from audiolab._audio import MAX_EXPORT_CHANNELS, as_audio, check_flag, check_sample_rate
from audiolab._files import Temporaries, check_destination
from audiolab._formats import (
    Format,
    check_available,
    delivery_rate,
    format_for,
    resample,
    subtype_for,
)
from audiolab._tags import file_tags
from audiolab.errors import AudioError
from audiolab.policy import BIT_DEPTHS

__all__ = ["check_number", "export_file", "export_item", "shared_gain"]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 192000
#: Targets audiolab accepts (LUFS): under -70 is below the absolute gate, over 0 is
#: louder than a full-scale sine.
MIN_TARGET_LUFS, MAX_TARGET_LUFS = -70.0, 0.0
#: Ceilings accepted (dBTP); above 0 only for FLOAT WAV, which holds samples over 1.0.
MIN_CEILING_DB, MAX_FLOAT_CEILING_DB = -70.0, 24.0


# ------------------------------------------------------------------ options
def check_number(name: str, value: Any, low: float, high: float, unit: str) -> float:
    """``value`` as a float, or AudioError when it is not a finite number from ``low`` to ``high``.

    Examples
    --------
    >>> check_number("tolerance_lu", 0.5, 0.0, math.inf, "LU")
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AudioError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise AudioError(f"{name} must be from {low:g} to {high:g} {unit}, got {value!r}")
    return float(value)


def _check_options(
    sample_rate: Any,
    fmt: Format,
    subtype: str,
    target_lufs: Any,
    true_peak_db: Any,
    tolerance_lu: Any,
    compression_level: Any,
    dither_seed: Any,
    tagged: Mapping[str, Any],
) -> int:
    rate = check_sample_rate(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample rate must be from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz for export, "
            f"got {sample_rate!r}"
        )
    check_number("target_lufs", target_lufs, MIN_TARGET_LUFS, MAX_TARGET_LUFS, "LUFS")
    ceiling = check_number(
        "true_peak_db", true_peak_db, MIN_CEILING_DB, MAX_FLOAT_CEILING_DB, "dBTP"
    )
    if ceiling > 0 and subtype != "FLOAT":
        raise AudioError(
            f"true_peak_db={true_peak_db!r}: a ceiling above 0 dBTP would clip {fmt.name} "
            f"{subtype} (it holds nothing over full scale); use 0 or less, or FLOAT WAV"
        )
    check_number("tolerance_lu", tolerance_lu, 0.0, math.inf, "LU")
    if compression_level is not None:
        check_number("compression_level", compression_level, 0.0, 1.0, "")
    if isinstance(dither_seed, bool) or not isinstance(dither_seed, (int, np.integer)):
        raise AudioError(f"dither_seed must be an integer, got {dither_seed!r}")
    for name in ("prompt", "model"):
        if tagged[name] is not None and not isinstance(tagged[name], str):
            raise AudioError(f"{name} must be a string, got {tagged[name]!r}")
    seed = tagged["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise AudioError(f"seed must be an integer, got {seed!r}")
    metadata = tagged["metadata"]
    if metadata is not None and not isinstance(metadata, Mapping):
        raise AudioError(f"metadata must be a mapping of names to values, got {metadata!r}")
    return rate


def _normalized(
    source: Any,
    target_lufs: float,
    ceiling_db: float,
    consume: bool,
    shift_db: float = 0.0,
    peak: str = "unchecked",
    ideal_peak: bool = True,
) -> tuple[np.ndarray, Any, Any]:
    """``(samples, info, analysis)``: the analysed input normalized (one K-weighting, none after).

    ``source`` is ``(analysis, dc_offset, shared gain or None)``. ``consume``:
    the source's samples may be overwritten (a lossless file is made once; a
    lossy one may be normalized again at another aim, ``shift_db`` off the
    shared gain). ``peak``: as :func:`audiolab.normalize.normalize_analysis`
    takes it; "unchecked" leaves the limiter's result to the file's own
    measurement (the caller makes it again, "check"ed, should it be over).
    ``ideal_peak``: hold the ceiling by the ideal true peak too (off before an
    encoder: the decoded file is checked instead).
    """
    from audiolab.normalize import normalize_analysis

    analysis, dc, gain_db = source
    fixed = None if gain_db is None else gain_db + shift_db
    signal, info = normalize_analysis(
        analysis, target_lufs, ceiling_db, dc_offset=dc, gain_db=fixed, consume=consume,
        peak=peak, ideal_peak=ideal_peak,
    )  # fmt: skip
    return signal.samples, info, signal


def _missed(
    lufs: float | None, peak: float, clipped: int, target: float, ceiling: float, tol: float
) -> str | None:
    """Why a file is not within tolerance (None when it is)."""
    if clipped:
        return f"{clipped} samples clipped at full scale"
    if peak > ceiling:
        return f"the true peak is {peak:.2f} dBTP, over the {ceiling:g} dBTP ceiling"
    if lufs is not None and abs(lufs - target) > tol:
        return (
            f"the file measures {lufs:.2f} LUFS, {lufs - target:+.2f} LU from the "
            f"{target:g} LUFS target (tolerance {tol:g} LU)"
        )
    return None


def export_file(
    audio: Any,
    path: str | os.PathLike[str],
    sample_rate: int,
    gain_db: float | None,
    *,
    format: str | None = None,
    normalize: bool = True,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.0,
    bit_depth: str | None = None,
    tolerance_lu: float = 0.5,
    dither_seed: int = 0,
    prompt: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    compression_level: float | None = None,
    ideal_peak: bool = True,
) -> dict[str, Any]:
    """:func:`audiolab.export.export`'s work; the fields of its result.

    With ``gain_db`` (a shared gain), that gain instead of the target's: the
    clip's target is then what the gain gives it.

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> path = os.path.join(tempfile.mkdtemp(), "b.flac")
    >>> round(export_file(programme(1.0, 16000), path, 16000, -3.0)["gain_db"], 1)
    -3.0
    """
    destination = check_destination(path)
    fmt = format_for(destination, format)
    subtype = subtype_for(fmt, bit_depth)
    rate = _check_options(
        sample_rate, fmt, subtype, target_lufs, true_peak_db, tolerance_lu,
        compression_level, dither_seed,
        {"prompt": prompt, "model": model, "seed": seed, "metadata": metadata},
    )  # fmt: skip
    ideal_peak = check_flag("ideal_peak", ideal_peak)
    check_available(fmt, subtype)
    tags = file_tags(fmt.name, prompt=prompt, model=model, seed=seed, metadata=metadata)
    x = as_audio(audio, max_channels=MAX_EXPORT_CHANNELS)
    file_rate = delivery_rate(fmt, rate)
    if file_rate != rate:
        x = resample(x, rate, file_rate)
    long_enough = x.shape[1] >= round(loudness.MOMENTARY_S * file_rate)
    if normalize and not long_enough:
        raise AudioError(
            f"audio is {x.shape[1] / file_rate:.3f} s long: normalizing needs at least 0.4 s; "
            "pass normalize=False to write it as it is"
        )
    if not normalize and subtype in BIT_DEPTHS and BIT_DEPTHS[subtype] is not None:
        beyond = int(np.count_nonzero(np.abs(x) > 1.0))
        if beyond:
            raise AudioError(
                f"{beyond} samples are beyond full scale (peak "
                f"{20 * math.log10(float(np.abs(x).max())):+.2f} dBFS): {fmt.name} {subtype} "
                "cannot hold them and audiolab does not clip; scale the audio, normalize it, "
                "or write FLOAT WAV"
            )
    target = float(target_lufs) if normalize else None
    source: Any = None
    if normalize:
        from audiolab.normalize import analyse_input

        signal, dc = analyse_input(x, file_rate)  # the input analysed once, its DC removed
        if not math.isfinite(signal.integrated()):
            raise AudioError(
                "audio is silent (below the -70 LUFS gate): there is no loudness to normalize; "
                "pass normalize=False to write it as it is"
            )
        if gain_db is not None:  # a shared gain: this clip's target is what it gives
            target = signal.scaled(gain_db).integrated()
        source = (signal, dc, gain_db)
    with Temporaries(destination) as temporaries:
        if fmt.lossy:
            result = _export_lossy(
                x, source, file_rate, fmt, subtype, temporaries, tags, target,
                float(true_peak_db), float(tolerance_lu), compression_level, ideal_peak,
            )  # fmt: skip
        else:
            result = _export_lossless(
                x, source, file_rate, fmt, subtype, temporaries, tags, target,
                float(true_peak_db), float(tolerance_lu), int(dither_seed), ideal_peak,
            )  # fmt: skip
        temporaries.commit(result[0])
    return {"path": destination, "file_size_bytes": destination.stat().st_size, **result[1]}


def _export_lossless(
    x: np.ndarray,
    source: Any,
    rate: int,
    fmt: Format,
    subtype: str,
    temporaries: Temporaries,
    tags: Mapping[str, str],
    target: float | None,
    ceiling: float,
    tolerance: float,
    dither_seed: int,
    ideal_peak: bool = True,
) -> tuple[Path, dict[str, Any]]:
    from audiolab._pcm import write_lossless

    facts: dict[str, Any] = {"gain_db": 0.0, "limited": False, "input_lufs": None}
    message, signal, peak = None, None, "unchecked"
    original = x
    while True:
        if target is not None:
            x, info, signal = _normalized(
                source, target, ceiling, consume=True, peak=peak, ideal_peak=ideal_peak
            )
            facts = {"gain_db": info.gain_db, "limited": info.limited,
                     "input_lufs": info.input_lufs}  # fmt: skip
            message = info.message
        else:
            x = original.copy()  # the caller's samples: the quantizer works in place
        written = write_lossless(
            x, rate, fmt, subtype, temporaries, dither_seed=dither_seed, tags=tags,
            description=tags.get("comment", ""), signal=signal,
        )  # fmt: skip
        over = written.measured.true_peak_dbtp > ceiling
        if target is None or peak == "check" or not facts["limited"] or not over:
            break
        # the limiter let a peak through (it aims under the ceiling, unchecked, to save a
        # pass): the file never takes its name; normalize checks the peak this time
        temporaries.discard(written.temporary)
        peak = "check"
    measured = written.measured
    if target is None and measured.lufs is not None:
        facts["input_lufs"] = measured.lufs
    within = None
    if target is not None and measured.lufs is not None:
        missed = _missed(measured.lufs, measured.true_peak_dbtp, written.clipped, target,
                         ceiling, tolerance)  # fmt: skip
        within = missed is None
        message = None if within else (message or missed)
    return written.temporary, {
        "sample_rate": rate,
        "channels": written.channels,
        "bit_depth": subtype,
        "duration_seconds": written.frames / rate,
        "output_lufs": measured.lufs,
        "true_peak_dbtp": measured.true_peak_dbtp,
        "target_lufs": target,
        "within_tolerance": within,
        "clipped_samples": written.clipped,
        "message": message,
        "format": fmt.name,
        **facts,
    }


def _export_lossy(
    x: np.ndarray,
    source: Any,
    rate: int,
    fmt: Format,
    subtype: str,
    temporaries: Temporaries,
    tags: Mapping[str, str],
    target: float | None,
    ceiling: float,
    tolerance: float,
    compression_level: float | None,
    ideal_peak: bool = True,
) -> tuple[Path, dict[str, Any]]:
    from audiolab._lossy import encode_until_it_holds

    normalized = None
    if target is not None:

        def normalized(aim: float, pre_ceiling: float) -> tuple[np.ndarray, Any]:
            # a shared gain moves by the aim's correction (what the codec moved), no more
            shift = aim - target if target is not None else 0.0
            samples, info, _ = _normalized(source, aim, pre_ceiling, False, shift, ideal_peak=False)
            return samples, info

    done = encode_until_it_holds(
        normalized, temporaries=temporaries, fmt=fmt, subtype=subtype, rate=rate,
        target_lufs=target if target is not None else 0.0, ceiling_db=ceiling,
        tolerance_lu=tolerance, audio=x, tags=tags, compression_level=compression_level,
        ideal_peak=ideal_peak,
    )  # fmt: skip
    clipped = int(np.count_nonzero(np.abs(done.audio) > 1.0))
    info = done.info
    within = None
    message = None
    if target is not None and done.lufs is not None:
        message = done.message or _missed(done.lufs, done.true_peak_dbtp, clipped, target,
                                          ceiling, tolerance)  # fmt: skip
        within = message is None
    return done.temporary, {
        "sample_rate": done.rate,
        "channels": done.audio.shape[0],
        "bit_depth": subtype,
        "duration_seconds": done.audio.shape[1] / done.rate,
        "input_lufs": info.input_lufs if info is not None else _loudness_of(x, rate),
        "output_lufs": done.lufs,
        "gain_db": info.gain_db if info is not None else 0.0,
        "true_peak_dbtp": done.true_peak_dbtp,
        "limited": bool(info.limited) if info is not None else False,
        "target_lufs": target,
        "within_tolerance": within,
        "clipped_samples": clipped,
        "message": message,
        "format": fmt.name,
        "encodes": done.encodes,
    }


def export_item(
    audio: np.ndarray, path: str, sample_rate: int, gain_db: float | None, options: dict[str, Any]
) -> dict[str, Any]:
    """:func:`export_file` with the options as one mapping (a batch item, pickled to a worker).

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> path = os.path.join(tempfile.mkdtemp(), "c.wav")
    >>> export_item(programme(1.0, 8000), path, 8000, None, {"target_lufs": -20.0})["target_lufs"]
    -20.0
    """
    return export_file(audio, path, sample_rate, gain_db, **options)


def shared_gain(items: list[Any], sample_rate: Any, options: Mapping[str, Any]) -> float | None:
    """The one gain that brings the loudest valid clip to the target (None: all silent).

    Examples
    --------
    >>> from audiolab.testing import programme
    >>> clip = programme(2.0, 16000)
    >>> shared_gain([clip, 0.5 * clip], 16000, {"target_lufs": -20.0}) < 0
    True
    """
    from audiolab.normalize import analyse_input, shared_gain_db

    rate = check_sample_rate(sample_rate)
    target = check_number("target_lufs", options.get("target_lufs", -16.0), MIN_TARGET_LUFS,
                     MAX_TARGET_LUFS, "LUFS")  # fmt: skip
    sources = [analyse_input(x, rate)[0] for x in items if not isinstance(x, Exception)]
    return shared_gain_db(sources, target) if sources else None


def _loudness_of(x: np.ndarray, rate: int) -> float | None:
    """Integrated loudness of validated audio (None under 400 ms)."""
    if x.shape[1] < round(loudness.MOMENTARY_S * rate):
        return None
    return float(loudness.analyse(x, rate).integrated())
