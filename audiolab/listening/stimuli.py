"""Stimuli of a listening test: loudness-matched under a ceiling, and the MUSHRA anchors.

:func:`match_loudness` brings every condition through :func:`audiolab.normalize`
to one integrated loudness under a true-peak ceiling and measures the result:
the stimuli of a test measure within 0.1 LU of each other, or it refuses.
:func:`low_pass` makes the anchors of ITU-R BS.1534-3 (section 5.1).

Examples
--------
>>> from audiolab._takes import as_clips
>>> from audiolab.listening.stimuli import match_loudness
>>> from audiolab.testing import programme
>>> clips = as_clips([(0.01 * programme(1, 8000), 8000), (programme(1, 8000, seed=1), 8000)])
>>> [round(s.lufs, 1) for s in match_loudness(clips, target_lufs=-23)]
[-23.0, -23.0]
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from audiolab._takes import Clip
from audiolab.errors import AudioError

__all__ = ["MATCH_LU", "Stimulus", "low_pass", "match_loudness", "wav_bytes"]

#: Stimuli of one test measure within this of each other.
MATCH_LU = 0.1
#: The automatic level: at most this, lower when a stimulus's peaks need it.
DEFAULT_LEVEL_LUFS = -16.0
#: Room under the ceiling for the players' 16-bit rounding.
_PLAYER_MARGIN_DB = 0.05


@dataclass(frozen=True, eq=False)
class Stimulus:
    """A loudness-matched stimulus: what the listener hears of one condition.

    Attributes
    ----------
    name : str
        The condition (never shown to the listener).
    audio : numpy.ndarray
        float64 ``(channels, samples)``, at the matched loudness.
    sample_rate : int
    lufs : float
        Its integrated loudness, measured.
    true_peak_dbtp : float
        Its true peak, measured.
    limited : bool
        Whether the limiter had to act (only with an explicit, too-high level).
    """

    name: str
    audio: np.ndarray = field(repr=False)
    sample_rate: int
    lufs: float
    true_peak_dbtp: float
    limited: bool = False


def low_pass(audio: np.ndarray, sr: int, cutoff_hz: float, *, order: int = 8) -> np.ndarray:
    """Zero-phase Butterworth low-pass (the MUSHRA anchors).

    Run forward and backward, so it adds no delay and its slope is that of
    a Butterworth of twice the order: about 100 dB down an octave above the
    cut-off with the default order.

    Parameters
    ----------
    audio : numpy.ndarray
        ``(channels, samples)``.
    sr : int
        Hz; the cut-off must be under half of it.
    cutoff_hz : float
        -6 dB point (two passes of a -3 dB Butterworth).
    order : int
        Of the Butterworth filter (each pass).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from audiolab.testing import sine
    >>> tone = sine(8000, 1.0, 32000)  # away from its abrupt start and end:
    >>> float(abs(low_pass(tone, 32000, 3500.0)[:, 3200:-3200]).max()) < 1e-4 * 0.1
    True
    """
    from scipy.signal import butter, sosfiltfilt

    if not 0 < cutoff_hz < sr / 2:
        raise AudioError(
            f"a {cutoff_hz:g} Hz low-pass needs a sample rate over {2 * cutoff_hz:g} Hz, got {sr}"
        )
    sos = butter(order, cutoff_hz, fs=sr, output="sos")
    # Silence before and after, not filtfilt's odd extension (which would pin the
    # first and last samples to their values, whatever their frequency).
    pad = max(64, round(0.05 * sr))
    padded = np.pad(audio, ((0, 0), (pad, pad)))
    return np.ascontiguousarray(sosfiltfilt(sos, padded, axis=-1, padtype=None)[:, pad:-pad])


def match_loudness(
    clips: Sequence[Clip],
    *,
    target_lufs: float | None = None,
    true_peak_db: float = -1.0,
) -> list[Stimulus]:
    """Bring clips to one integrated loudness under a true-peak ceiling, and check it.

    Parameters
    ----------
    clips : sequence of Clip
        The conditions (``audiolab._takes.as_clips``), at one sample rate.
    target_lufs : float, optional
        The common level. Default: the loudest level every clip reaches by
        gain alone under the ceiling, at most -16 LUFS.
    true_peak_db : float
        The ceiling, dBTP.

    Returns
    -------
    list of Stimulus

    Raises
    ------
    AudioError
        Silent or too short clips, several sample rates, or stimuli that do
        not measure within 0.1 LU of each other.

    Examples
    --------
    >>> from audiolab._takes import as_clips
    >>> from audiolab.testing import programme
    >>> clips = as_clips({"soft": (0.1 * programme(2, 16000), 16000),
    ...                   "loud": (programme(2, 16000), 16000)})
    >>> [round(s.lufs, 1) for s in match_loudness(clips, target_lufs=-20)]
    [-20.0, -20.0]
    """
    from audiolab import loudness
    from audiolab.normalize import normalize

    rates = {c.sample_rate for c in clips}
    if len(rates) > 1:
        listed = ", ".join(f"{c.name!r} {c.sample_rate} Hz" for c in clips)
        raise AudioError(f"the takes of a test must share one sample rate, got {listed}")
    levels = []
    for clip in clips:
        if clip.audio.shape[1] < 0.4 * clip.sample_rate:
            raise AudioError(f"take {clip.name!r} is shorter than 0.4 s: too short to listen to")
        lufs = loudness.integrated(clip.audio, clip.sample_rate)
        if not math.isfinite(lufs):
            raise AudioError(f"take {clip.name!r} is silent: nothing to loudness-match")
        levels.append((lufs, loudness.true_peak(clip.audio, clip.sample_rate)))
    ceiling = true_peak_db - _PLAYER_MARGIN_DB
    if target_lufs is None:
        reachable = min(lufs + ceiling - 0.05 - peak for lufs, peak in levels)
        target_lufs = min(DEFAULT_LEVEL_LUFS, math.floor(reachable * 10) / 10)
    stimuli = []
    for clip in clips:
        out, info = normalize(clip.audio, clip.sample_rate, target_lufs, ceiling)
        limited = info.limited
        if abs(info.output_lufs - target_lufs) > 0.02 and not info.limited:
            out, info = normalize(out, clip.sample_rate, target_lufs, ceiling)  # the gate moved
        stimuli.append(
            Stimulus(
                clip.name, out, clip.sample_rate, info.output_lufs, info.true_peak_dbtp, limited
            )
        )
    spread = max(s.lufs for s in stimuli) - min(s.lufs for s in stimuli)
    if not spread <= MATCH_LU:
        listed = ", ".join(f"{s.name!r} {s.lufs:.2f} LUFS" for s in stimuli)
        raise AudioError(
            f"the stimuli could not be matched within {MATCH_LU} LU at {target_lufs:g} LUFS "
            f"under {true_peak_db:g} dBTP: {listed}; ask for a lower target_lufs"
        )
    return stimuli


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    """A 16-bit WAV file of ``audio`` in memory (what a player gets).

    Examples
    --------
    >>> import numpy as np
    >>> wav_bytes(np.zeros((1, 800)), 8000)[:4]
    b'RIFF'
    """
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio.T, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
