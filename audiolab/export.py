"""WAV writing: normalized, quantized, written atomically, read back and verified.

:func:`export_wav` normalizes to the loudness target under the true-peak
ceiling (:func:`audiolab.normalize.normalize`), quantizes to the bit depth,
writes a temporary file in the target folder and renames it into place (no
half-written file ever has the final name, and an existing file there is
either left intact or replaced whole), then reads the file back: the
returned :class:`ExportResult` says what the file measures, not what was
intended. The quantized samples are measured while the file is being
written, and the file must read back as exactly those samples; should it
not, what it holds is measured instead.

Quantization: ``PCM_16`` gets TPDF dither (the difference of two uniform
random values of one LSB each, from a seeded generator, so exports are
reproducible; samples that are exactly zero, digital silence, stay zero);
``PCM_24`` and ``PCM_32`` are rounded (their noise floor is far below
anything audible); ``FLOAT`` is written as 32-bit float. Integer formats
clip at full scale; the normalized signal never reaches it.

Examples
--------
>>> import tempfile, os
>>> from audiolab.export import export_wav
>>> from audiolab.testing import programme
>>> folder = tempfile.mkdtemp()
>>> result = export_wav(programme(3.0, 32000), os.path.join(folder, "clip.wav"), 32000)
>>> round(result.output_lufs, 1), result.true_peak_dbtp <= -1.0, result.within_tolerance
(-16.0, True, True)
>>> path, size = result  # the seed's (path, file_size_bytes)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiolab import loudness
from audiolab._audio import MAX_EXPORT_CHANNELS, as_audio, check_sample_rate
from audiolab.errors import AudioError
from audiolab.loudness.gating import to_db
from audiolab.policy import BIT_DEPTHS, temporary_path

__all__ = ["BIT_DEPTHS", "BatchExportError", "ExportResult", "export_wav", "export_wav_batch"]

#: soundfile subtypes audiolab writes, and their full scale for integer PCM.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 192000
#: Temporary files start with this (``Store.verify`` recognizes leftovers by it).


@dataclass(frozen=True)
class ExportResult:
    """What was written, as measured from the file itself.

    Unpacks as the seed's ``(path, file_size_bytes)``.

    Attributes
    ----------
    path : Path
        The file.
    file_size_bytes : int
    sample_rate, channels : int
    bit_depth : str
        ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"`` or ``"FLOAT"``.
    duration_seconds : float
    input_lufs : float or None
        Loudness of the input (None when it is shorter than 400 ms).
    output_lufs : float or None
        Loudness of the file (None when it is shorter than 400 ms).
    gain_db : float
        Gain applied (0 without normalization).
    true_peak_dbtp : float
        True peak of the file.
    limited : bool
        Whether the true-peak limiter acted.
    target_lufs : float or None
        The target (None without normalization).
    within_tolerance : bool or None
        ``|output_lufs - target_lufs| <= tolerance_lu`` and the true peak under
        the ceiling; None without normalization (there is no target).
    clipped_samples : int
        Samples that hit full scale in an integer format.
    message : str or None
        Why the target was not reached, when it was not.
    """

    path: Path
    file_size_bytes: int
    sample_rate: int
    channels: int
    bit_depth: str
    duration_seconds: float
    input_lufs: float | None
    output_lufs: float | None
    gain_db: float
    true_peak_dbtp: float
    limited: bool
    target_lufs: float | None = None
    within_tolerance: bool | None = None
    clipped_samples: int = 0
    message: str | None = field(default=None)

    def __iter__(self) -> Iterator[Any]:
        """The seed's ``(path, file_size_bytes)``."""
        return iter((self.path, self.file_size_bytes))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> Any:
        return (self.path, self.file_size_bytes)[index]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the path as a string, non-finite numbers as None).

        Examples
        --------
        >>> from pathlib import Path
        >>> ExportResult(Path("a.wav"), 44, 8000, 1, "PCM_16", 0.0, None, None, 0.0,
        ...              float("-inf"), False).to_dict()["true_peak_dbtp"] is None
        True
        """
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, float) and not math.isfinite(value):
                value = None
            out[name] = value
        return out


class BatchExportError(AudioError):
    """Some items of :func:`export_wav_batch` failed; the others were written.

    Attributes
    ----------
    results : list
        One entry per item: its :class:`ExportResult`, or the exception.
    errors : dict
        Item index -> exception, for the failed ones.
    """

    def __init__(self, results: list[Any]) -> None:
        self.results = results
        self.errors = {i: r for i, r in enumerate(results) if isinstance(r, Exception)}
        lines = "; ".join(f"item {i}: {err}" for i, err in self.errors.items())
        super().__init__(f"{len(self.errors)} of {len(results)} exports failed ({lines})")


def _check_options(sample_rate: Any, bit_depth: Any, tolerance_lu: Any) -> int:
    rate = check_sample_rate(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample rate must be from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz for WAV export, "
            f"got {sample_rate!r}"
        )
    if bit_depth not in BIT_DEPTHS:
        raise AudioError(f"bit_depth must be one of {', '.join(BIT_DEPTHS)}, got {bit_depth!r}")
    if (
        isinstance(tolerance_lu, bool)
        or not isinstance(tolerance_lu, (int, float))
        or tolerance_lu < 0
    ):
        raise AudioError(f"tolerance_lu must be a non-negative number, got {tolerance_lu!r}")
    return rate


#: A true peak known before quantization stands for the file's when quantization can
#: move it by at most this much (else the file's samples are measured).
_PEAK_WITHIN_DB = 0.002
#: Frames quantized at a time: every step of the chunk stays in cache.
_QUANTIZE_FRAMES = 1 << 14
#: What soundfile is given (and reads back) for each bit depth.
_SAMPLE_TYPES = {"PCM_16": np.int16, "PCM_24": np.int32, "PCM_32": np.int32, "FLOAT": np.float32}


def _quantize(
    audio: np.ndarray, bit_depth: str, seed: int, *, peak: float = np.inf
) -> tuple[np.ndarray, int]:
    """The samples of the file: soundfile's (frames, channels) data, and the clipped count.

    ``audio`` (float64, channels-first, the caller's own copy) is overwritten
    with the same samples as soundfile will read them back (full scale 1.0),
    which is what the file's loudness is then measured on. ``peak``, when the
    caller knows the largest sample magnitude, spares the search for samples to
    clip where none can reach full scale.

    The frames are converted a cache-sized chunk at a time: scaled, dithered
    (PCM_16), rounded, written back, and interleaved into the output. The
    dither of a sample is the difference of the two 16-bit halves of one
    32-bit word from the seeded PCG64 generator, divided by 65536: triangular
    between -1 and 1 LSB.
    """
    scale = BIT_DEPTHS[bit_depth]
    channels, n = audio.shape
    data = np.empty((n, channels), dtype=_SAMPLE_TYPES[bit_depth])
    chunk = _QUANTIZE_FRAMES
    # rounding and the dither move a sample by at most 1.5 steps
    may_clip = scale is not None and peak * scale + 1.5 >= scale - 1

    def convert(stretch: tuple[int, int]) -> int:
        begin, end = stretch
        scratch = np.empty((channels, chunk))
        words = np.empty(channels * chunk, dtype=np.uint32)
        bits = np.random.PCG64(seed)
        bits.advance(begin * channels // 2)  # chunks hold an even number of samples
        clipped = 0
        for start in range(begin, end, chunk):
            frames = slice(start, min(start + chunk, end))
            m = frames.stop - start
            block = scratch[:, :m]
            np.multiply(audio[:, frames], scale or 1.0, out=block)
            if bit_depth == "PCM_16":  # TPDF dither
                drawn = words[: channels * m].reshape(channels, m)
                raw = bits.random_raw(-(-drawn.size // 2)).view(np.uint32)
                drawn.reshape(-1)[...] = raw[: drawn.size]
                dither = (drawn & 0xFFFF).view(np.int32) - (drawn >> 16).view(np.int32)
                silent = block == 0.0
                if silent.any():
                    dither[silent] = 0  # digital silence stays silent
                block += dither * (1.0 / 65536.0)
            if scale is None:  # 32-bit float: what float32 holds
                rounded: np.ndarray = block.astype(np.float32)
                audio[:, frames] = rounded
            else:
                np.rint(block, out=block)
                if may_clip and (block.max() > scale - 1 or block.min() < -scale):
                    clipped += int(np.count_nonzero(block > scale - 1))
                    clipped += int(np.count_nonzero(block < -scale))
                    np.clip(block, -scale, scale - 1, out=block)
                np.multiply(block, 1.0 / scale, out=audio[:, frames])
                if bit_depth == "PCM_24":  # soundfile takes them in the top bits of an int32
                    block *= 256.0
                rounded = block.astype(data.dtype)
            _interleave(rounded, data[frames])
        return clipped

    return data, convert((0, n))


def _interleave(rows: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = rows.T`` for (channels, frames) rows into C-ordered (frames, channels).

    Stereo is packed as pairs into words twice as wide (contiguous, where the
    transposed copy is strided).
    """
    if rows.shape[0] != 2:
        out[...] = rows.T
        return
    half = {2: np.uint16, 4: np.uint32}[rows.itemsize]
    whole = {2: np.uint32, 4: np.uint64}[rows.itemsize]
    packed = rows[0].view(half).astype(whole)
    packed |= rows[1].view(half).astype(whole) << (8 * rows.itemsize)
    out.reshape(-1).view(whole)[...] = packed


def _write_atomically(data: np.ndarray, path: Path, rate: int, bit_depth: str) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        sf.write(temporary, data, rate, subtype=bit_depth, format="WAV")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


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
) -> ExportResult:
    """Write audio as a WAV file at a loudness target, and verify the file.

    Parameters
    ----------
    audio : numpy.ndarray or torch.Tensor
        Mono or (channels, samples) with 1 or 2 channels; a (1, C, T) batch of
        one, as MusicGen returns it, is fine. Any float dtype, or integer PCM.
    path : str or Path
        The WAV file; parent folders are created.
    sample_rate : int
        8000 to 192000 Hz.
    normalize : bool
        Bring the loudness to ``target_lufs`` under ``true_peak_db``. Without
        it the samples are written as they are (and may clip in PCM formats).
    target_lufs : float
        Integrated loudness of the file (BS.1770-4).
    true_peak_db : float
        True-peak ceiling in dBTP.
    bit_depth : {'PCM_16', 'PCM_24', 'PCM_32', 'FLOAT'}
        soundfile subtype.
    tolerance_lu : float
        How far from the target still counts as ``within_tolerance``.
    dither_seed : int
        Seed of the PCM_16 dither.

    Returns
    -------
    ExportResult
        Measured from the file as written. Unpacks as ``(path, file_size_bytes)``.

    Raises
    ------
    AudioError
        Bad audio, rate, bit depth or options; silent audio or audio shorter
        than 400 ms with ``normalize=True``. Nothing is written then.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from audiolab.testing import programme
    >>> target = os.path.join(tempfile.mkdtemp(), "takes", "a.wav")
    >>> clip = programme(2.0, 48000)
    >>> result = export_wav(clip, target, 48000, target_lufs=-23, bit_depth="PCM_24")
    >>> round(result.output_lufs, 1), result.bit_depth, result.path.parent.name
    (-23.0, 'PCM_24', 'takes')
    """
    rate = _check_options(sample_rate, bit_depth, tolerance_lu)
    x = as_audio(audio, max_channels=MAX_EXPORT_CHANNELS)
    target = Path(path)
    if target.is_dir():
        raise AudioError(f"{str(target)!r} is a folder; give the WAV file's path")
    long_enough = x.shape[1] >= round(loudness.MOMENTARY_S * rate)
    limited, gain_db, message, input_lufs = False, 0.0, None, None
    signal: loudness.Analysis | None = None  # what is written, analysed (once)
    if normalize:
        from audiolab.normalize import analyse_input, normalize_analysis

        if not long_enough:
            raise AudioError(
                f"audio is {x.shape[1] / rate:.3f} s long: normalizing needs at least 0.4 s; "
                "pass normalize=False to write it as it is"
            )
        source, dc = analyse_input(x, rate)
        if not math.isfinite(source.integrated()):
            raise AudioError(
                "audio is silent (below the -70 LUFS gate): there is no loudness to normalize; "
                "pass normalize=False to write it as it is"
            )
        signal, info = normalize_analysis(source, target_lufs, true_peak_db, dc_offset=dc,
                                          consume=True)  # fmt: skip
        x = signal.samples  # normalize's own array: _quantize works in place
        limited, gain_db, message, input_lufs = (
            info.limited,
            info.gain_db,
            info.message,
            info.input_lufs,
        )
    else:  # the caller's samples: _quantize works in place on a copy
        x = x.copy()
        if long_enough:
            signal = loudness.analyse(x, rate)
            input_lufs = signal.integrated()
    peak = signal.peaks()[0] if normalize and signal is not None else np.inf
    data, clipped = _quantize(x, bit_depth, dither_seed, peak=peak)
    # normalize measured the peaks; the file's differ by the quantization, which moves
    # the true peak by at most the interpolator's gain times the largest error
    known = normalize and signal is not None and not clipped
    if known and signal is not None:
        scale = BIT_DEPTHS[bit_depth]
        error = (1.5 if bit_depth == "PCM_16" else 0.5) / scale if scale else 2.0**-24
        moved = loudness.truepeak.interpolation_gain(rate) * error / signal.peaks()[1]
        known = 20.0 * math.log10(1.0 + moved) <= _PEAK_WITHIN_DB
    if clipped:  # the file is not the analysed signal quantized: analyse what it holds
        signal = loudness.analyse(x, rate) if long_enough else None
    # The file is written (while what it holds is measured, when that takes a search);
    # then it is read back and must hold exactly the samples that were quantized.
    if known:
        _write_atomically(data, target, rate, bit_depth)
        measured = _measure(x, rate, signal, known_peaks=True)
    else:
        with ThreadPoolExecutor(1) as pool:
            writing = pool.submit(_write_atomically, data, target, rate, bit_depth)
            measured = _measure(x, rate, signal)
            writing.result()
    return _verify(target, rate, bit_depth, data, measured, input_lufs, gain_db, limited,
                   clipped, message, target_lufs if normalize else None, true_peak_db,
                   tolerance_lu)  # fmt: skip


def _measure(
    values: np.ndarray,
    rate: int,
    signal: loudness.Analysis | None = None,
    *,
    known_peaks: bool = False,
) -> tuple[float | None, float]:
    """(integrated loudness or None under 400 ms, true peak) of the file's samples.

    ``signal`` is the analysis of the samples before quantization: a gain and
    the limiter keep its energies and peaks exact, so the file's loudness (and,
    with ``known_peaks``, its true peak) come from it. Quantization moves them
    by little: the loudness by about 1e-5 LU at PCM_16 (the dither is 96 dB
    under full scale); the true peak by at most the interpolator's gain times
    the largest error (1.5 steps at PCM_16: 0.0011 dB at -1 dBTP), which the
    caller checks is under 0.002 dB before it passes ``known_peaks`` (and it is
    well inside the 0.02 dB the normalizer leaves under the ceiling).
    Otherwise the true peak is measured on ``values``, the quantized samples.
    """
    if known_peaks and signal is not None:
        peak = to_db(signal.peaks()[1])
    else:
        peak = to_db(loudness.truepeak.peaks(values, rate)[1])
    if signal is None and values.shape[1] >= round(loudness.MOMENTARY_S * rate):
        signal = loudness.analyse(values, rate)
    return (None if signal is None else signal.integrated()), peak


def _verify(
    path: Path,
    rate: int,
    bit_depth: str,
    data: np.ndarray,
    measured: tuple[float | None, float],
    input_lufs: float | None,
    gain_db: float,
    limited: bool,
    clipped: int,
    message: str | None,
    target_lufs: float | None,
    true_peak_db: float,
    tolerance_lu: float,
) -> ExportResult:
    """Read the file back: it must hold ``data``, whose loudness was ``measured``.

    Should the file read back differently (it would be a soundfile bug), what
    it holds is measured instead: the result always describes the file.
    """
    import soundfile as sf

    with sf.SoundFile(path) as f:
        facts = (f.samplerate, f.channels, f.subtype, f.frames)
        written = f.read(dtype=data.dtype, always_2d=True)
    if facts != (rate, data.shape[1], bit_depth, data.shape[0]):  # pragma: no cover
        raise AudioError(f"{path} reads back as {facts}, not as written")
    if not np.array_equal(written, data):  # it would be a bug in soundfile or the disk
        measured = _measure(np.ascontiguousarray(sf.read(path, always_2d=True)[0].T), rate)
    output_lufs, peak = measured
    within = None
    if target_lufs is not None and output_lufs is not None:
        within = abs(output_lufs - target_lufs) <= tolerance_lu and peak <= true_peak_db
    return ExportResult(
        path=path,
        file_size_bytes=path.stat().st_size,
        sample_rate=rate,
        channels=data.shape[1],
        bit_depth=bit_depth,
        duration_seconds=data.shape[0] / rate,
        input_lufs=input_lufs,
        output_lufs=output_lufs,
        gain_db=gain_db,
        true_peak_dbtp=peak,
        limited=limited,
        target_lufs=target_lufs,
        within_tolerance=within,
        clipped_samples=clipped,
        message=message,
    )


def _export_item(
    audio: np.ndarray, path: str, sample_rate: int, options: dict[str, Any]
) -> ExportResult:
    return export_wav(audio, path, sample_rate, **options)


def export_wav_batch(
    audios: Sequence[Any],
    paths: Sequence[str | os.PathLike[str]],
    sample_rate: int = 32000,
    *,
    jobs: int | None = None,
    client: Any = None,
    progress: bool | None = False,
    **options: Any,
) -> list[ExportResult]:
    """:func:`export_wav` for many clips; one bad clip does not lose the others.

    Parameters
    ----------
    audios : sequence of audio
        Each as :func:`export_wav` takes it (a (N, C, T) batch is a sequence).
    paths : sequence of str or Path
        One per clip.
    sample_rate : int
        Of every clip.
    jobs : int, optional
        Processes: one per core by default (None); 1 exports in this process.
    client : dask.distributed.Client, optional
        Export as Dask tasks instead.
    progress : bool or None
        A progress bar on stderr (None: when it is a terminal).
    **options
        Keyword arguments of :func:`export_wav`.

    Returns
    -------
    list of ExportResult
        In the order of the inputs.

    Raises
    ------
    BatchExportError
        After every other clip is written, when some failed; its ``results``
        holds the ExportResult or the exception of each item.

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
    from audiolab.batch import run

    if len(audios) != len(paths):
        raise AudioError(f"got {len(audios)} clips but {len(paths)} paths")
    items: list[Any] = []
    for audio in audios:
        try:  # validate here: bad items fail without a trip to a worker
            items.append(as_audio(audio, max_channels=MAX_EXPORT_CHANNELS))
        except AudioError as err:
            items.append(err)
    work = [i for i, item in enumerate(items) if not isinstance(item, Exception)]
    done = run(
        _export_item,
        [(items[i], os.fspath(paths[i]), sample_rate, options) for i in work],
        jobs=jobs,
        client=client,
        progress=progress,
        desc="export",
    )
    results: list[Any] = list(items)
    for i, result in zip(work, done, strict=True):
        results[i] = result
    if any(isinstance(r, Exception) for r in results):
        raise BatchExportError(results)
    return results
