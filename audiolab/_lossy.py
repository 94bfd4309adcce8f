"""Lossy files that hold the promise once decoded: encode, decode, measure, encode again.

A lossy encoder changes the waveform: its output peaks between and on the
samples can rise by up to about 1 dB over its input (pre-echo, the band
limit, the phase of the bands it codes), and its loudness can move by a few
hundredths of an LU. So the decoded file is what gets measured, and when it
misses the target or crosses the ceiling the audio is normalized again with
a lower pre-encoder ceiling (by what the encoder added, and a little more on
each try) and a corrected aim, and encoded again: at most :data:`MAX_ENCODES`
times. The best file that holds is kept; if none holds, the one nearest to
holding is kept and the message says by how much it misses and why.

Examples
--------
>>> import tempfile, os
>>> from audiolab._files import Temporaries
>>> from audiolab._formats import FORMATS
>>> from audiolab.normalize import normalize
>>> from audiolab.testing import programme
>>> clip = programme(3.0, 48000)
>>> final = os.path.join(tempfile.mkdtemp(), "a.ogg")
>>> with Temporaries(final) as temporaries:
...     done = encode_until_it_holds(
...         lambda aim, ceiling: normalize(clip, 48000, aim, ceiling),
...         temporaries=temporaries, fmt=FORMATS["OGG"], subtype="VORBIS", rate=48000,
...         target_lufs=-16.0, ceiling_db=-1.0, tolerance_lu=0.5)
...     temporaries.commit(done.temporary)
>>> abs(done.lufs + 16.0) <= 0.1, done.true_peak_dbtp <= -1.0, done.message
(True, True, None)
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audiolab import loudness
from audiolab._files import Temporaries, from_libsndfile
from audiolab._formats import Format, decode, encode
from audiolab.loudness import ideal, tails
from audiolab.loudness.gating import to_db

__all__ = ["AIM_LU", "MAX_ENCODES", "Encoded", "encode_until_it_holds", "measure_decoded"]

#: Encodes at most, per file.
MAX_ENCODES = 5
#: The decoded loudness is aimed this close to the target (the promise is the tolerance).
AIM_LU = 0.1
#: The first pre-encoder ceiling sits this far under the ceiling (what encoders
#: typically add at 128-192 kbit/s); later tries use what this encoder added.
FIRST_MARGIN_DB = 0.4
#: Added on each further try, beyond what the encoder added last time.
STEP_MARGIN_DB = 0.05


@dataclass(frozen=True)
class Encoded:
    """The file kept: where it is, what it decodes to and measures, how it was made.

    Attributes
    ----------
    temporary : Path
        The encoded file (the caller renames it into place).
    audio : numpy.ndarray
        The decoded samples, (channels, samples), float64.
    rate : int
        The decoded rate.
    lufs : float or None
        Integrated loudness of the decoded samples (None under 400 ms).
    true_peak_dbtp : float
        True peak of the decoded samples.
    encodes : int
        Encodes made in all (the kept file is one of them).
    pre_ceiling_db : float
        The ceiling the audio was limited to before the encoder, for this file.
    message : str or None
        Why the decoded file misses the target or the ceiling, when it does.
    info : object
        What ``normalized`` said of the kept file's audio (None without it).
    """

    temporary: Path
    audio: np.ndarray
    rate: int
    lufs: float | None
    true_peak_dbtp: float
    encodes: int
    pre_ceiling_db: float
    message: str | None = None
    info: Any = None


def measure_decoded(audio: np.ndarray, rate: int) -> tuple[float | None, float]:
    """(integrated loudness or None under 400 ms, true peak) of decoded samples.

    Examples
    --------
    >>> import numpy as np
    >>> lufs, peak = measure_decoded(np.zeros((1, 800)), 8000)
    >>> lufs, peak
    (None, -inf)
    """
    if audio.shape[1] >= round(loudness.MOMENTARY_S * rate):
        report = loudness.report(audio, rate)
        return report.integrated_lufs, report.true_peak_dbtp
    return None, loudness.true_peak(audio, rate)


def _write(
    temporaries: Temporaries,
    samples: np.ndarray,
    fmt: Format,
    subtype: str,
    rate: int,
    tags: Mapping[str, str] | None,
    compression_level: float | None,
) -> Path:
    import soundfile as sf

    temporary, fd = temporaries.new()
    try:
        encode(fd, np.ascontiguousarray(samples.T, dtype=np.float32), rate, fmt, subtype,
               tags=tags, compression_level=compression_level)  # fmt: skip
    except sf.LibsndfileError as err:
        needed = 2 * samples.size + (1 << 16)  # more than any lossy file of it needs
        raise from_libsndfile(err, temporaries.final, needed) from err
    finally:
        os.close(fd)
    return temporary


def _holds(lufs: float | None, peak: float, target: float, ceiling: float, within: float) -> bool:
    return peak <= ceiling and (lufs is None or abs(lufs - target) <= within)


def encode_until_it_holds(
    normalized: Callable[[float, float], tuple[np.ndarray, Any]] | None,
    *,
    temporaries: Temporaries,
    fmt: Format,
    subtype: str,
    rate: int,
    target_lufs: float,
    ceiling_db: float,
    tolerance_lu: float,
    audio: np.ndarray | None = None,
    tags: Mapping[str, str] | None = None,
    compression_level: float | None = None,
    ideal_peak: bool = True,
) -> Encoded:
    """Encode, decode and measure until the decoded file holds (or :data:`MAX_ENCODES`).

    Parameters
    ----------
    normalized : callable or None
        ``normalized(aim_lufs, ceiling_db)`` -> ``(audio, info)``: (channels,
        samples) float audio brought to ``aim_lufs`` under ``ceiling_db``, and
        the normalizer's :class:`~audiolab.normalize.NormalizeInfo` of it (its
        ``output_lufs``, ``reached_target`` and ``message`` are read). None:
        encode ``audio`` once as it is (there is no target to hold).
    temporaries : Temporaries
        Where the encoded files are made.
    fmt, subtype, rate
        What to write.
    target_lufs, ceiling_db, tolerance_lu : float
        What the decoded file must measure.
    audio : numpy.ndarray, optional
        With ``normalized=None``: the samples to encode.
    tags : mapping, optional
        soundfile string fields.
    compression_level : float, optional
        soundfile's; default: the format's.
    ideal_peak : bool
        Hold the decoded file's ceiling by its ideal true peak too.

    Returns
    -------
    Encoded

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> from audiolab._formats import FORMATS
    >>> with Temporaries(os.path.join(tempfile.mkdtemp(), "a.mp3")) as temporaries:
    ...     done = encode_until_it_holds(None, temporaries=temporaries, fmt=FORMATS["MP3"],
    ...         subtype="MPEG_LAYER_III", rate=32000, target_lufs=0.0, ceiling_db=0.0,
    ...         tolerance_lu=0.5, audio=0.1 * programme(1.0, 32000))
    >>> done.encodes, done.rate, done.audio.shape[0]
    (1, 32000, 2)
    """
    if normalized is None:
        assert audio is not None
        temporary = _write(temporaries, audio, fmt, subtype, rate, tags, compression_level)
        decoded, decoded_rate = decode(temporary)
        lufs, peak = measure_decoded(decoded, decoded_rate)
        return Encoded(temporary, decoded, decoded_rate, lufs, peak, 1, math.inf)

    aim, pre = target_lufs, ceiling_db - FIRST_MARGIN_DB
    best: tuple[tuple[float, ...], Encoded] | None = None
    encodes = 0
    while encodes < MAX_ENCODES:
        encodes += 1
        samples, info = normalized(aim, pre)
        temporary = _write(temporaries, samples, fmt, subtype, rate, tags, compression_level)
        decoded, decoded_rate = decode(temporary)
        lufs, peak = measure_decoded(decoded, decoded_rate)
        # the ceiling holds by the ideal true peak of the decoded file too
        level = 10.0 ** (ceiling_db / 20.0)
        if ideal_peak and not tails.holds(decoded, decoded_rate, level):  # else shown under
            found = ideal.residuals(decoded, decoded_rate)  # one pass serves both questions
            if ideal.exceeds(decoded, decoded_rate, level, found):
                peak = max(peak, to_db(ideal.ideal_peak(decoded, decoded_rate, found)))
        done = Encoded(temporary, decoded, decoded_rate, lufs, peak, encodes, pre, info=info)
        deviation = abs(lufs - target_lufs) if lufs is not None else 0.0
        # the ceiling first, then the loudness: a file over the ceiling never wins
        rank = (max(0.0, peak - ceiling_db), deviation if deviation > AIM_LU else 0.0, deviation)
        if best is None or rank < best[0]:
            if best is not None:
                temporaries.discard(best[1].temporary)
            best = (rank, done)
        else:
            temporaries.discard(temporary)
        if peak <= ceiling_db and (deviation <= AIM_LU or not info.reached_target):
            break  # it holds, or the normalizer cannot go louder under this ceiling
        if peak > ceiling_db:  # lower the pre-encoder ceiling by what the encoder added
            added = peak - min(pre, loudness.true_peak(samples, rate))
            pre = min(pre - STEP_MARGIN_DB, ceiling_db - added - STEP_MARGIN_DB * encodes)
        if lufs is not None and math.isfinite(lufs):  # and aim past what the codec moves
            before = info.output_lufs if math.isfinite(info.output_lufs) else aim
            aim = target_lufs - (lufs - before)
    assert best is not None
    kept = dataclasses.replace(best[1], encodes=encodes)
    return dataclasses.replace(kept, message=_why(kept, fmt, target_lufs, ceiling_db, tolerance_lu))


def _why(kept: Encoded, fmt: Format, target: float, ceiling: float, tolerance: float) -> str | None:
    """Why the kept file misses, or None when it holds."""
    tries = f"after {kept.encodes} encode{'s' if kept.encodes > 1 else ''}"
    if kept.true_peak_dbtp > ceiling:
        return (
            f"the {fmt.name} encoder raises the true peak: the decoded file measures "
            f"{kept.true_peak_dbtp:.2f} dBTP, over the {ceiling:g} dBTP ceiling, {tries} "
            f"(pre-encoder ceiling down to {kept.pre_ceiling_db:.2f} dBTP)"
        )
    if kept.lufs is None or abs(kept.lufs - target) <= tolerance:
        return None
    if kept.info is not None and not kept.info.reached_target:
        return (
            f"cannot reach {target:g} LUFS under {ceiling:g} dBTP as {fmt.name}: its encoder "
            f"adds true peak, so the audio had to be limited to {kept.pre_ceiling_db:.2f} dBTP "
            f"before it, where the limiter reaches {kept.info.output_lufs:.2f} LUFS; the "
            f"decoded file measures {kept.lufs:.2f} LUFS, {tries}"
        )
    return (
        f"the decoded {fmt.name} file measures {kept.lufs:.2f} LUFS, "
        f"{kept.lufs - target:+.2f} LU from the {target:g} LUFS target, {tries}"
    )
