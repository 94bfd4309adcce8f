"""Writing audio files: normalized, in the format asked for, tagged, and verified.

:func:`export` normalizes to the loudness target under the true-peak
ceiling (:mod:`audiolab.normalize`), writes WAV, FLAC, Ogg Vorbis, Opus or
MP3 (:mod:`audiolab._formats`: the format from ``format=`` or the extension)
to a temporary file in the target folder and renames it into place (no
half-written file ever has the final name, an existing file there is left
intact or replaced whole, and nothing is left behind when anything fails),
after checking what the file holds: the returned :class:`ExportResult` says
what the file measures, not what was intended.

* WAV and FLAC (:mod:`audiolab._pcm`): the quantized samples are measured
  while the file is written, and the file must read back as exactly those
  samples. Integer PCM never clips: audio beyond full scale written as it is
  (``normalize=False``) is refused, and a ceiling above 0 dBTP is refused
  for integer PCM. WAV files carry a BWF ``bext`` chunk (version 2) with
  their loudness values.
* Ogg Vorbis, Opus and MP3 (:mod:`audiolab._lossy`): the file is decoded and
  the decoded samples are measured; when they miss the target or cross the
  ceiling, the audio is encoded again with a lower pre-encoder ceiling (up to
  five encodes). The result is what a listener's decoder plays.
* Tags (:mod:`audiolab._tags`): title, comment, software and date, with the
  prompt, model, seed and audiolab version when given.

Every option is checked before anything is written: a target outside -70 to
0 LUFS, a non-finite tolerance or ceiling, a format libsndfile cannot write
here, are :class:`~audiolab.errors.AudioError`. Failures of the operating
system stay :class:`OSError` (ENOSPC, EACCES, ENAMETOOLONG, ...) naming the
path.

Examples
--------
>>> import tempfile, os
>>> from audiolab.export import export
>>> from audiolab.testing import programme
>>> folder = tempfile.mkdtemp()
>>> result = export(programme(3.0, 32000), os.path.join(folder, "clip.flac"), 32000)
>>> round(result.output_lufs, 1), result.true_peak_dbtp <= -1.0, result.within_tolerance
(-16.0, True, True)
>>> result.format, result.bit_depth
('FLAC', 'PCM_16')
>>> path, size = result  # the seed's (path, file_size_bytes)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from audiolab._audio import MAX_EXPORT_CHANNELS, as_audio
from audiolab._export_result import ExportResult
from audiolab.batch import Errors
from audiolab.errors import AudioError, BatchError
from audiolab.policy import BIT_DEPTHS

__all__ = [
    "BIT_DEPTHS",
    "BatchExportError",
    "ExportResult",
    "export",
    "export_batch",
    "export_wav",
    "export_wav_batch",
    "format_of",
]

Gain = Literal["each", "shared"]


class BatchExportError(BatchError):
    """Some items of :func:`export_batch` failed; the others were written.

    Attributes
    ----------
    results : list
        One entry per item: its :class:`ExportResult`, or the exception.
    errors : dict
        Item index -> exception, for the failed ones.

    Examples
    --------
    >>> print(BatchExportError([AudioError("empty audio")]))
    1 of 1 export items failed (item 0: empty audio)
    """

    def __init__(self, results: list[Any]) -> None:
        super().__init__(results, what="export")


# ------------------------------------------------------------------ export
def export(
    audio: Any,
    path: str | os.PathLike[str],
    sample_rate: int,
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
) -> ExportResult:
    """Write audio as WAV, FLAC, Ogg Vorbis, Opus or MP3 at a loudness target, and verify it.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples) with 1 or 2 channels; a (1, C, T) batch of
        one, as MusicGen returns it, is fine. Any float dtype, or integer PCM.
    path : str or Path
        The file; parent folders are created.
    sample_rate : int
        Of ``audio``, 8000 to 192000 Hz. Opus files are written at 48 kHz and
        MP3 files at an MPEG rate: the audio is resampled first when needed.
    format : {'wav', 'flac', 'ogg', 'opus', 'mp3'}, optional
        Default: from the extension of ``path``.
    normalize : bool
        Bring the loudness to ``target_lufs`` under ``true_peak_db``. Without
        it the samples are written as they are.
    target_lufs : float
        Integrated loudness of the file (BS.1770-4), -70 to 0 LUFS.
    true_peak_db : float
        True-peak ceiling in dBTP, at most 0 (FLOAT WAV: at most +24).
    bit_depth : str, optional
        soundfile subtype: ``'PCM_16'``, ``'PCM_24'``, ``'PCM_32'``,
        ``'FLOAT'`` for WAV; ``'PCM_16'``, ``'PCM_24'`` for FLAC; None for
        lossy formats. Default: ``'PCM_16'``.
    tolerance_lu : float
        How far from the target still counts as ``within_tolerance``.
    dither_seed : int
        Seed of the PCM_16 dither.
    prompt, model : str, optional
        What made the audio: written into the tags.
    seed : int, optional
        The generation seed, written into the tags.
    metadata : mapping, optional
        More tags: ``title``, ``artist``, ``album``, ``comment``, ``date``,
        ``copyright``, ``license``, ``genre``, ``tracknumber`` set those fields;
        other keys become lines of the comment.
    compression_level : float, optional
        Lossy formats: soundfile's 0 (best quality) to 1 (smallest file).
    ideal_peak : bool
        Hold the ceiling by the ideal (sinc) true peak as well as by the
        BS.1770 meter's (:mod:`audiolab.loudness.ideal`): material with content
        near the Nyquist frequency can crest up to about 1.3 dB over the
        meter's reading between its samples. False holds it by the meter
        only, as BS.1770 delivery checks measure it: four to six times
        faster.

    Returns
    -------
    ExportResult
        Measured from the file as written (decoded, for lossy formats).
        Unpacks as ``(path, file_size_bytes)``.

    Raises
    ------
    AudioError
        Bad audio, rate, format, bit depth or options; silent audio or audio
        shorter than 400 ms with ``normalize=True``; samples beyond full scale
        for integer PCM with ``normalize=False``. Nothing is written then.
    OSError
        The file system failed (ENOSPC, EACCES, ENAMETOOLONG, ...), naming
        the path; nothing is left behind.

    See Also
    --------
    export_wav : the same, always WAV.
    export_batch : many files, each at its own gain or all at one.

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> target = os.path.join(tempfile.mkdtemp(), "takes", "a.opus")
    >>> result = export(programme(3.0, 32000), target, 32000, prompt="drums", seed=1)
    >>> result.sample_rate, result.within_tolerance, result.true_peak_dbtp <= -1.0
    (48000, True, True)
    """
    from audiolab._writing import export_file

    fields = export_file(
        audio, path, sample_rate, None, format=format, normalize=normalize,
        target_lufs=target_lufs, true_peak_db=true_peak_db, bit_depth=bit_depth,
        tolerance_lu=tolerance_lu, dither_seed=dither_seed, prompt=prompt, model=model,
        seed=seed, metadata=metadata, compression_level=compression_level,
        ideal_peak=ideal_peak,
    )  # fmt: skip
    return ExportResult(**fields)


def export_wav(
    audio: Any,
    path: str | os.PathLike[str],
    sample_rate: int = 32000,
    *,
    normalize: bool = True,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.0,
    bit_depth: str = "PCM_16",
    tolerance_lu: float = 0.5,
    dither_seed: int = 0,
    prompt: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    ideal_peak: bool = True,
) -> ExportResult:
    """:func:`export` as a WAV file, whatever the extension of ``path``.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples) with 1 or 2 channels.
    path : str or Path
        The WAV file; parent folders are created.
    sample_rate : int
        8000 to 192000 Hz.
    normalize, target_lufs, true_peak_db, tolerance_lu, dither_seed, ideal_peak
        As :func:`export` takes them.
    bit_depth : {'PCM_16', 'PCM_24', 'PCM_32', 'FLOAT'}
        soundfile subtype.
    prompt, model, seed, metadata
        Tags, as :func:`export` takes them.

    Returns
    -------
    ExportResult
        Measured from the file as written. Unpacks as ``(path, file_size_bytes)``.

    Raises
    ------
    AudioError
        Bad audio, rate, bit depth or options; silent audio or audio shorter
        than 400 ms with ``normalize=True``. Nothing is written then.
    OSError
        The file system failed, naming the path.

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> target = os.path.join(tempfile.mkdtemp(), "takes", "a.wav")
    >>> result = export_wav(programme(2.0, 48000), target, 48000, target_lufs=-23,
    ...                     bit_depth="PCM_24")
    >>> round(result.output_lufs, 1), result.bit_depth, result.path.parent.name
    (-23.0, 'PCM_24', 'takes')
    """
    return export(
        audio, path, sample_rate, format="wav", normalize=normalize, target_lufs=target_lufs,
        true_peak_db=true_peak_db, bit_depth=bit_depth, tolerance_lu=tolerance_lu,
        dither_seed=dither_seed, prompt=prompt, model=model, seed=seed, metadata=metadata,
        ideal_peak=ideal_peak,
    )  # fmt: skip


# ------------------------------------------------------------------ batches
def _export_batch_item(
    audio: np.ndarray, path: str, sample_rate: int, gain_db: float | None, options: dict[str, Any]
) -> ExportResult:
    from audiolab._writing import export_item

    return ExportResult(**export_item(audio, path, sample_rate, gain_db, options))


def export_batch(
    audios: Sequence[Any],
    paths: Sequence[str | os.PathLike[str]],
    sample_rate: int,
    *,
    gain: Gain = "each",
    jobs: int | None = None,
    client: Any = None,
    errors: Errors = "raise",
    progress: bool | None = False,
    **options: Any,
) -> list[ExportResult | Exception]:
    """:func:`export` for many clips; one bad clip does not lose the others.

    Parameters
    ----------
    audios : sequence of audio
        Each as :func:`export` takes it (a (N, C, T) batch is a sequence).
    paths : sequence of str or Path
        One per clip (each its own format, from its extension or ``format=``).
    sample_rate : int
        Of every clip.
    gain : {"each", "shared"}
        ``"each"``: every clip to the target. ``"shared"``: one gain for all
        (sections of a piece, stems of a mix, takes of one prompt): the loudest
        clip meets the target and none crosses the ceiling, so their relative
        loudness is kept.
    jobs : int, optional
        Processes: one per core by default (None); 1 exports in this process.
    client : dask.distributed.Client, optional
        Export as Dask tasks instead.
    errors : {"raise", "return"}
        ``"raise"``: :class:`BatchExportError` after every other clip is
        written, when some failed; ``"return"``: a failed clip's exception in
        its place in the list.
    progress : bool or None
        A progress bar on stderr (None: when it is a terminal).
    **options
        Keyword arguments of :func:`export`.

    Returns
    -------
    list of ExportResult
        In the order of the inputs.

    Raises
    ------
    BatchExportError
        With ``errors="raise"``, after every other clip is written, when some
        failed; its ``results`` holds the ExportResult or the exception of each.

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> folder = tempfile.mkdtemp()
    >>> clips = [programme(2.0, 16000), 0.5 * programme(2.0, 16000)]
    >>> paths = [os.path.join(folder, n) for n in ("a.flac", "b.flac")]
    >>> a, b = export_batch(clips, paths, 16000, jobs=1)
    >>> round(a.output_lufs, 1), round(b.output_lufs, 1)
    (-16.0, -16.0)
    """
    from audiolab.batch import check_errors, run

    errors = check_errors(errors)
    if gain not in ("each", "shared"):
        raise AudioError(f"gain must be 'each' or 'shared', got {gain!r}")
    if len(audios) != len(paths):
        raise AudioError(f"got {len(audios)} clips but {len(paths)} paths")
    items: list[Any] = []
    for audio in audios:
        try:  # validate here: bad items fail without a trip to a worker
            items.append(as_audio(audio, max_channels=MAX_EXPORT_CHANNELS))
        except AudioError as err:
            items.append(err)
    work = [i for i, item in enumerate(items) if not isinstance(item, Exception)]
    gain_db = None
    if gain == "shared" and options.get("normalize", True):
        from audiolab._writing import shared_gain

        gain_db = shared_gain(items, sample_rate, options)
    done = run(
        _export_batch_item,
        [(items[i], os.fspath(paths[i]), sample_rate, gain_db, options) for i in work],
        jobs=jobs,
        client=client,
        progress=progress,
        desc="export",
    )
    results: list[Any] = list(items)
    for i, result in zip(work, done, strict=True):
        results[i] = result
    if errors == "raise" and any(isinstance(r, Exception) for r in results):
        raise BatchExportError(results)
    return results


def export_wav_batch(
    audios: Sequence[Any],
    paths: Sequence[str | os.PathLike[str]],
    sample_rate: int = 32000,
    *,
    jobs: int | None = None,
    client: Any = None,
    errors: Errors = "raise",
    progress: bool | None = False,
    **options: Any,
) -> list[ExportResult | Exception]:
    """:func:`export_batch` of WAV files (:func:`export_wav` for many clips).

    Parameters
    ----------
    audios, paths, sample_rate, jobs, client, errors, progress
        As :func:`export_batch` takes them.
    **options
        Keyword arguments of :func:`export_wav`, and ``gain=``.

    Returns
    -------
    list of ExportResult

    Raises
    ------
    BatchExportError
        With ``errors="raise"``, when some failed (after the others are written).

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from audiolab.testing import programme
    >>> folder = tempfile.mkdtemp()
    >>> clips = [programme(1.0, 16000), np.full(16000, np.nan)]
    >>> try:
    ...     paths = [os.path.join(folder, n) for n in ("a.wav", "b.wav")]
    ...     export_wav_batch(clips, paths, 16000, jobs=1)
    ... except BatchExportError as err:
    ...     print(sorted(err.errors), err.results[0].path.name)
    [1] a.wav
    """
    options.setdefault("bit_depth", "PCM_16")
    return export_batch(audios, paths, sample_rate, jobs=jobs, client=client, errors=errors,
                        progress=progress, format="wav", **options)  # fmt: skip


def format_of(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The ``(format, bit_depth)`` to rewrite an existing file in, keeping what it is.

    WAV (also WAVEX and RF64), FLAC, Ogg Vorbis, Opus and MP3 keep their
    format and subtype; subtypes export does not write map to the nearest one
    that loses nothing audible (``DOUBLE`` to ``FLOAT``, 8-bit, companded and
    ADPCM to ``PCM_16``). ``--in-place`` and every rewrite use it.

    Parameters
    ----------
    path : str or PathLike
        An audio file.

    Returns
    -------
    tuple of str
        As :func:`export` takes them: ``export(..., format=f, bit_depth=b)``.

    Raises
    ------
    AudioError
        A container export does not write (AIFF, ...).

    Examples
    --------
    >>> import tempfile, os, numpy as np, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "a.flac")
    >>> sf.write(path, np.zeros(800), 8000, subtype="PCM_24")
    >>> format_of(path)
    ('FLAC', 'PCM_24')
    """
    from audiolab._formats import format_of as of

    return of(path)
