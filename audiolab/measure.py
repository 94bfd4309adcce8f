"""Everything about a clip in one call: file facts, statistics, loudness, tempo, key.

:func:`measure` takes a path (WAV, FLAC, OGG, MP3: whatever soundfile reads)
or audio (an array or tensor, with its sample rate) and returns a
:class:`Measurement`. Its :meth:`~Measurement.to_dict` carries the seed's
fields under the seed's names (``duration_seconds``, ``sample_rate``,
``channels``, ``file_size_bytes``, ``bit_depth``, ``bpm``, ``key``,
``peak_amplitude``, ``rms_energy``, ``dynamic_range_db``) beside the loudness
(``integrated_lufs``, ``true_peak_dbtp``, ``loudness_range_lu``, ...) and
``key_confidence``, and is JSON-safe (no NaN or Infinity: those become None).

What each field means:

* ``peak_amplitude``: the largest absolute sample over all channels (full
  scale is 1.0); ``rms_energy``: the root mean square over all samples of all
  channels; ``dynamic_range_db``: their ratio in dB, ``20 log10(peak / rms)``
  (the crest factor: 3.01 dB for a sine, more for punchy material), None for
  digital silence.
* ``bit_depth``: soundfile's subtype of the file (``"PCM_16"``, ``"PCM_24"``,
  ``"FLOAT"``, ``"VORBIS"``, ...), None for audio given as an array.
* loudness: :func:`audiolab.loudness.report` (BS.1770-4 / EBU R128); None
  for clips shorter than 400 ms (and ``loudness_range_lu`` below 3 s) and for
  files with more than 5 channels (BS.1770 needs to know which is which).
* ``bpm``, ``tempo_confidence``, ``bpm_alternatives`` (the runner-up metrical
  levels as ``(bpm, weight)`` pairs) and the tempo curve:
  :func:`audiolab.analysis.tempo.estimate`; ``key`` and ``key_confidence``:
  :func:`audiolab.analysis.key.estimate`. The built-in backend reads the tempo
  from the mono mix at its own rate (at most 48 kHz) and the key from the mix
  decimated to about 8 kHz; ``backend="madmom"`` uses
  madmom's trained models instead (CC BY-NC-SA 4.0).

Only numpy and the standard library are imported with this module; soundfile
when a function needs it. Nothing here needs scipy.

Examples
--------
>>> import json
>>> from audiolab import synth
>>> from audiolab.measure import measure
>>> ref = synth.reference(128, "A minor", duration=8.0, sr=16000)
>>> m = measure(ref.audio, 16000)
>>> round(m.bpm), m.key, m.channels
(128, 'A minor', 2)
>>> json.loads(json.dumps(m.to_dict(), allow_nan=False))["key"]
'A minor'
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab import audiofile
from audiolab._audio import as_audio, check_sample_rate
from audiolab._json import json_safe
from audiolab.batch import Errors
from audiolab.errors import AudioError

__all__ = ["Measurement", "measure", "measure_many"]

#: Loudness needs at least one 400 ms gating block; BS.1770 weighs at most 5 channels.
_LOUDNESS_MIN_SECONDS = 0.4
_LOUDNESS_MAX_CHANNELS = 5

# The seed's fields first, in the seed's order, then audiolab's.
_FIELDS = (
    "duration_seconds",
    "sample_rate",
    "channels",
    "file_size_bytes",
    "bit_depth",
    "bpm",
    "key",
    "peak_amplitude",
    "rms_energy",
    "dynamic_range_db",
    "integrated_lufs",
    "true_peak_dbtp",
    "loudness_range_lu",
    "key_confidence",
    "tempo_confidence",
    "bpm_alternatives",
    "max_momentary_lufs",
    "max_short_term_lufs",
    "sample_peak_dbfs",
    "frames",
    "format",
    "path",
)


@dataclass(frozen=True, eq=False)
class Measurement:
    """What :func:`measure` found out about a clip.

    Fields that were not asked for (or cannot be told) are None. Loudness
    values are ``-inf`` for digital silence; :meth:`to_dict` writes those as
    None. The analysis objects behind the numbers are kept (not in the
    dict): ``loudness_report``, ``tempo_estimate``, ``key_estimate``.

    Examples
    --------
    >>> import numpy as np
    >>> m = measure(np.zeros(8000), 8000, bpm=False, key=False)
    >>> m.peak_amplitude, m.dynamic_range_db, m.to_dict()["integrated_lufs"]
    (0.0, None, None)
    """

    duration_seconds: float
    sample_rate: int
    channels: int
    frames: int
    file_size_bytes: int | None = None
    bit_depth: str | None = None
    format: str | None = None
    path: str | None = None
    bpm: float | None = None
    key: str | None = None
    key_confidence: float | None = None
    tempo_confidence: float | None = None
    bpm_alternatives: tuple[tuple[float, float], ...] = ()
    peak_amplitude: float | None = None
    rms_energy: float | None = None
    dynamic_range_db: float | None = None
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    loudness_range_lu: float | None = None
    max_momentary_lufs: float | None = None
    max_short_term_lufs: float | None = None
    sample_peak_dbfs: float | None = None
    curves: bool = False
    seams: tuple[Any, ...] | None = None
    loudness_report: Any = field(default=None, repr=False)
    tempo_estimate: Any = field(default=None, repr=False)
    key_estimate: Any = field(default=None, repr=False)

    @property
    def tempo_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times_s, bpm)`` of the tempo curve (empty without a tempo).

        Examples
        --------
        >>> import numpy as np
        >>> times, bpm = measure(np.zeros(8000), 8000).tempo_curve
        >>> len(times), len(bpm)
        (0, 0)
        """
        t = self.tempo_estimate
        if t is None or t.bpm is None:
            return np.zeros(0), np.zeros(0)
        return t.curve_times_s, t.curve_bpm

    @property
    def beat_times_s(self) -> np.ndarray:
        """Beat times in seconds (empty without a tempo).

        Examples
        --------
        >>> import numpy as np
        >>> measure(np.zeros(8000), 8000).beat_times_s.size
        0
        """
        t = self.tempo_estimate
        return np.zeros(0) if t is None or t.bpm is None else t.beat_times_s

    def to_dict(self, *, curves: bool | None = None) -> dict[str, Any]:
        """A JSON-safe dict: the seed's fields first; NaN and infinities become None.

        Parameters
        ----------
        curves : bool, optional
            Add the momentary and short-term loudness curves
            (``momentary_times_s``, ``momentary_lufs``, ``short_term_times_s``,
            ``short_term_lufs``), the tempo curve (``tempo_times_s``,
            ``tempo_bpm``) and ``beat_times_s`` as lists. Default: as
            :func:`measure` was asked (its ``curves``).

        Returns
        -------
        dict

        Examples
        --------
        >>> import json, numpy as np
        >>> d = measure(np.zeros(8000), 8000).to_dict()
        >>> d["sample_rate"], d["bpm"], d["key"], d["file_size_bytes"]
        (8000, None, None, None)
        >>> json.dumps(d, allow_nan=False).startswith('{"duration_seconds": 1.0')
        True
        """
        out = {name: json_safe(getattr(self, name)) for name in _FIELDS}
        if self.seams is not None:  # asked for with measure(..., seams_s=...)
            out["seams"] = [seam.to_dict() for seam in self.seams]
        if self.curves if curves is None else curves:
            report = self.loudness_report
            for name in (
                "momentary_times_s",
                "momentary_lufs",
                "short_term_times_s",
                "short_term_lufs",
            ):
                out[name] = [] if report is None else json_safe(getattr(report, name))
            times, bpm = self.tempo_curve
            out["tempo_times_s"] = json_safe(times)
            out["tempo_bpm"] = json_safe(bpm)
            out["beat_times_s"] = json_safe(self.beat_times_s)
        return out


# -------------------------------------------------------------- measuring
def _stats(x: np.ndarray) -> tuple[float, float, float | None]:
    peak = max(float(x.max()), -float(x.min()))
    rms = math.sqrt(float(np.einsum("ij,ij->", x, x)) / x.size)
    crest = 20.0 * math.log10(peak / rms) if rms > 0 else None
    return peak, rms, crest


def measure(
    source: Any,
    sample_rate: int | None = None,
    *,
    bpm: bool = True,
    key: bool = True,
    stats: bool = True,
    loudness: bool = True,
    curves: bool = False,
    backend: str = "builtin",
    seams_s: Sequence[float] | None = None,
) -> Measurement:
    """Measure a file or a clip: facts, statistics, loudness, tempo and key.

    Parameters
    ----------
    source : str, os.PathLike, numpy.ndarray or torch.Tensor
        A path to an audio file (anything soundfile reads: WAV, FLAC, OGG,
        MP3, ...; the format is told by the content, not the extension), or
        audio through the input gate (mono or ``(channels, samples)``).
    sample_rate : int, optional
        Required for audio; for a path it may be given only if it matches
        the file.
    bpm, key, stats, loudness : bool
        What to compute. With all four False a file is not decoded: its
        facts come from the header.
    curves : bool
        Keep the loudness and tempo curves and the beats in
        :meth:`Measurement.to_dict`.
    backend : {"builtin", "madmom", "auto"}
        Tempo, beats and key by the built-in estimators (default, numpy
        only), by madmom's trained models (``pip install "audiolab[mir]"``;
        the models are licensed CC BY-NC-SA 4.0, non-commercial), or by
        madmom when it is installed (``"auto"``).
    seams_s : sequence of float, optional
        Seam times of a windowed take (``Generation.seams_s``): fills
        :attr:`Measurement.seams` with the loudness jump, tempo break and key
        change at each (:func:`audiolab.analysis.seams.seams`).

    Returns
    -------
    Measurement

    Raises
    ------
    AudioError
        A missing path, a directory, an empty, truncated, corrupt or non-audio
        file (the message names it); invalid audio; audio without
        ``sample_rate``, or a ``sample_rate`` that contradicts the file.

    See Also
    --------
    audiolab.loudness.report, audiolab.analysis.tempo.estimate, audiolab.analysis.key.estimate

    Examples
    --------
    >>> import os, tempfile, soundfile
    >>> from audiolab import synth
    >>> ref = synth.reference(100, "D major", duration=6.0, sr=22050)
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.wav")
    >>> soundfile.write(path, ref.audio.T, 22050, subtype="PCM_24")
    >>> m = measure(path, bpm=False, key=False, stats=False, loudness=False)  # header only
    >>> m.duration_seconds, m.channels, m.bit_depth, m.bpm
    (6.0, 2, 'PCM_24', None)
    >>> m = measure(path)
    >>> round(m.bpm), m.key, round(m.peak_amplitude, 2)
    (100, 'D major', 0.89)
    """
    from audiolab.analysis._signal import check_backend

    backend = check_backend(backend)
    facts: dict[str, Any] = {}
    decode = bpm or key or stats or loudness or curves or seams_s is not None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):  # pragma: no cover - bytes paths are rare
            path = os.fsdecode(path)
        info = audiofile.info(path)
        if sample_rate is not None and check_sample_rate(sample_rate) != info.samplerate:
            raise AudioError(
                f"{path}: sample_rate={sample_rate!r} given, the file is at {info.samplerate} Hz"
            )
        rate = int(info.samplerate)
        facts = {
            "path": path,
            "format": str(info.format),
            "bit_depth": str(info.subtype),
            "file_size_bytes": os.path.getsize(path),
        }
        if not decode:
            return Measurement(
                duration_seconds=float(info.frames) / rate,
                sample_rate=rate,
                channels=int(info.channels),
                frames=int(info.frames),
                **facts,
            )
        data, _ = audiofile.read(path, info)
        x = as_audio(
            data,
            max_channels=max(data.shape[0], _LOUDNESS_MAX_CHANNELS),
            check_finite=str(info.subtype) not in audiofile.INTEGER_SUBTYPES,  # always finite
        )
    else:
        if sample_rate is None:
            raise AudioError("sample_rate is required when measuring audio (not a path)")
        rate = check_sample_rate(sample_rate)
        x = as_audio(source)
    channels, frames = x.shape
    values: dict[str, Any] = {}
    if stats:
        values["peak_amplitude"], values["rms_energy"], values["dynamic_range_db"] = _stats(x)
    if loudness and frames >= _LOUDNESS_MIN_SECONDS * rate and channels <= _LOUDNESS_MAX_CHANNELS:
        from audiolab import loudness as meter

        report = meter.report(x, rate)
        values |= {
            "loudness_report": report,
            "integrated_lufs": report.integrated_lufs,
            "true_peak_dbtp": report.true_peak_dbtp,
            "loudness_range_lu": report.loudness_range_lu,
            "max_momentary_lufs": report.max_momentary_lufs,
            "max_short_term_lufs": report.max_short_term_lufs,
            "sample_peak_dbfs": report.sample_peak_dbfs,
        }
    signal = None
    if bpm or key or curves:
        from audiolab.analysis._signal import analysis_signal, onset_signal

        # the mono mix, decimated once for the key
        # (more channels than loudness weighs are mixed here: the gate expects at most 5)
        mix = x if channels <= _LOUDNESS_MAX_CHANNELS else x.mean(axis=0)
        # madmom's models want the full band: they get the mix at its own rate
        mono, analysis_rate = signal = (
            analysis_signal(mix, rate) if backend == "builtin" else (mix, rate)
        )
        if bpm or curves:
            from audiolab.analysis import tempo

            # onsets live in the whole band: the tempo reads the mix at its own rate
            estimate = tempo.estimate(*onset_signal(mix, rate), backend=backend)
            values |= {"tempo_estimate": estimate, "bpm": estimate.bpm if bpm else None}
            if bpm and estimate.bpm is not None:
                values |= {
                    "tempo_confidence": estimate.confidence,
                    "bpm_alternatives": estimate.alternatives,
                }
        if key:
            from audiolab.analysis import key as key_module

            found = key_module.estimate(mono, analysis_rate, backend=backend)
            values |= {
                "key_estimate": found,
                "key": found.key,
                "key_confidence": found.confidence if found.key is not None else None,
            }
    if seams_s is not None:
        values["seams"] = _seams(x, rate, seams_s, values, signal)
    return Measurement(
        duration_seconds=frames / rate,
        sample_rate=rate,
        channels=channels,
        frames=frames,
        curves=curves,
        **facts,
        **values,
    )


def _seams(
    x: np.ndarray, rate: int, seams_s: Sequence[float], values: dict[str, Any], signal: Any
) -> tuple[Any, ...]:
    """The seams of a windowed take, reusing the curves already measured."""
    from audiolab.analysis.seams import seams

    report, estimate = values.get("loudness_report"), values.get("tempo_estimate")
    short_term = None if report is None else (report.short_term_times_s, report.short_term_lufs)
    curve = None  # not measured: seams() reads it
    if estimate is not None:
        curve = (estimate.curve_times_s, estimate.curve_bpm)
        curve = curve if estimate.bpm is not None else (np.zeros(0), np.zeros(0))
    mix = x if x.shape[0] <= _LOUDNESS_MAX_CHANNELS else x.mean(axis=0)
    return seams(mix, rate, seams_s, short_term=short_term, tempo_curve=curve, mono=signal)


def measure_many(
    paths: Sequence[Any],
    *,
    jobs: int | None = None,
    client: Any = None,
    errors: Errors = "raise",
    progress: bool | None = False,
    **options: Any,
) -> list[Measurement | Exception]:
    """:func:`measure` over many files; a file that fails never loses the others.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The files.
    jobs : int, optional
        Processes (default: one per core; 1 measures in this process).
    client : dask.distributed.Client, optional
        Measure on this Dask cluster instead.
    errors : {"raise", "return"}
        ``"raise"``: :class:`audiolab.BatchError` after every file is measured
        when some failed (its ``results`` hold every Measurement or error);
        ``"return"``: a bad file's error (an :class:`AudioError`) in its place.
    progress : bool or None
        A progress bar on stderr (None: when stderr is a terminal).
    **options
        Keyword arguments of :func:`measure` (``bpm=False``, ...).

    Returns
    -------
    list
        One :class:`Measurement` (or, with ``errors="return"``, exception)
        per path, in order.

    Raises
    ------
    BatchError
        With ``errors="raise"``, when some file could not be measured.

    Examples
    --------
    >>> results = measure_many(["no-such-file.wav"], jobs=1, errors="return")
    >>> type(results[0]).__name__
    'AudioError'
    """
    from functools import partial

    from audiolab.batch import run

    return run(
        partial(measure, **options),
        [os.fspath(p) for p in paths],
        jobs=jobs,
        client=client,
        errors=errors,
        progress=progress,
        desc="measure",
    )
