"""Lossless files (WAV, FLAC): quantized, written, measured, tagged and read back.

Quantization: ``PCM_16`` gets TPDF dither (the difference of two uniform
random values of one LSB each, from a seeded generator, so exports are
reproducible; samples that are exactly zero, digital silence, stay zero);
``PCM_24`` and ``PCM_32`` are rounded (their noise floor is far below
anything audible); ``FLOAT`` is written as 32-bit float. A sample at +1.0
is written as the largest positive integer (the usual reading of full
scale); any sample beyond full scale would be clipped and is counted: the
writer refuses to clip audio it was given as it is, and a normalized signal
never gets there (its true peak is under a ceiling of at most 0 dBTP).

The file is written while its samples are measured (in a second thread).
A WAV file is written once: libsndfile makes it in memory, and it goes to
disk with room before its ``data`` for the BWF ``bext`` chunk, which is
filled in with the file's loudness values once they are measured
(:func:`audiolab._tags.split_before_data`). Then the file is read back: it
must hold exactly the quantized samples, or what it holds is measured
instead.

Examples
--------
>>> import numpy as np
>>> data, clipped = quantize(np.array([[0.5, -1.0, 1.0, 1.5]]), "PCM_16", seed=0)
>>> data[:, 0].tolist(), clipped
([16384, -32768, 32767, 32767], 1)
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audiolab import loudness
from audiolab._files import Temporaries, from_libsndfile, naming, write_at
from audiolab._formats import FORMATS, Format, encode
from audiolab._tags import bext_chunk, split_before_data
from audiolab.loudness.gating import to_db
from audiolab.policy import BIT_DEPTHS

__all__ = ["Measured", "Written", "measure_file_samples", "quantize", "write_lossless"]

#: Frames quantized at a time: every step of the chunk stays in cache.
_QUANTIZE_FRAMES = 1 << 14
#: What soundfile is given (and reads back) for each bit depth.
_SAMPLE_TYPES = {"PCM_16": np.int16, "PCM_24": np.int32, "PCM_32": np.int32, "FLOAT": np.float32}
_BITS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32}


def quantize(
    audio: np.ndarray, bit_depth: str, seed: int, *, peak: float = np.inf
) -> tuple[np.ndarray, int]:
    """The samples of the file: soundfile's (frames, channels) data, and the clipped count.

    ``audio`` (float64, channels-first, the caller's own copy) is overwritten
    with the same samples as soundfile will read them back (full scale 1.0),
    which is what the file's loudness is then measured on. ``peak``, the
    largest sample magnitude when the caller knows it, spares the search for
    samples to clip where none can reach full scale.

    The frames are converted a cache-sized chunk at a time: scaled, dithered
    (PCM_16), rounded, written back, and interleaved into the output. The
    dither of a sample is the difference of two independent uniform 16-bit
    integers from the seeded PCG64 generator, divided by 65536: triangular
    between -1 and 1 LSB (the sum of two uniform values of one LSB each).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.25, -0.5], [0.0, 1.0]])
    >>> data, clipped = quantize(x, "PCM_24", seed=0)
    >>> (data // 256).tolist(), clipped
    ([[2097152, 0], [-4194304, 8388607]], 0)
    """
    scale = BIT_DEPTHS[bit_depth]
    channels, n = audio.shape
    data = np.empty((n, channels), dtype=_SAMPLE_TYPES[bit_depth])
    chunk = _QUANTIZE_FRAMES
    # rounding and the dither move a sample by at most 1.5 steps
    may_clip = scale is not None and peak * scale + 1.5 >= scale - 1
    dithered = bit_depth == "PCM_16"
    # PCM_16: the samples are scaled 65536 times further, so that the dither is
    # added as the integer it is drawn as (scaling by powers of 2 is exact)
    gain = 1.0 if scale is None else scale * (65536.0 if dithered else 1.0)
    scratch = np.empty((channels, chunk))
    dither = np.empty(channels * chunk, dtype=np.int32)
    bits = np.random.PCG64(seed)
    clipped = 0
    for start in range(0, n, chunk):
        frames = slice(start, min(start + chunk, n))
        m = frames.stop - start
        block = scratch[:, :m]
        np.multiply(audio[:, frames], gain, out=block)
        if dithered:  # TPDF dither: two uniform 16-bit integers per sample
            count = channels * m
            uniform = bits.random_raw(-(-count // 2)).view(np.uint16)
            drawn = dither[:count].reshape(channels, m)
            np.subtract(
                uniform[:count], uniform[count : 2 * count], out=drawn.reshape(-1), dtype=np.int32
            )
            if not block.all():
                drawn[block == 0.0] = 0  # digital silence stays silent
            block += drawn
            block *= 1.0 / 65536.0
        if scale is None:  # 32-bit float: what float32 holds
            rounded: np.ndarray = block.astype(np.float32)
            audio[:, frames] = rounded
        else:
            np.rint(block, out=block)
            if may_clip and (block.max() > scale - 1 or block.min() < -scale):
                # +full scale (+1.0) is the largest integer; beyond either end is a clip
                clipped += int(np.count_nonzero(block > scale))
                clipped += int(np.count_nonzero(block < -scale))
                np.clip(block, -scale, scale - 1, out=block)
            np.multiply(block, 1.0 / scale, out=audio[:, frames])
            if bit_depth == "PCM_24":  # soundfile takes them in the top bits of an int32
                block *= 256.0
            rounded = block
        for c in range(channels):  # cast as written into the interleaved frames
            data[frames, c] = rounded[c]
    return data, clipped


@dataclass(frozen=True)
class Measured:
    """The loudness values of a file's samples (None where they cannot be measured)."""

    lufs: float | None
    true_peak_dbtp: float
    loudness_range_lu: float | None = None
    max_momentary_lufs: float | None = None
    max_short_term_lufs: float | None = None


def measure_file_samples(
    samples: np.ndarray, rate: int, signal: Any = None, bits: str | None = None
) -> Measured:
    """Measure the samples a file holds (float, full scale 1.0).

    Parameters
    ----------
    samples : numpy.ndarray
        (channels, samples), as the file reads back.
    rate : int
    signal : loudness.Analysis, optional
        The analysis of these samples before quantization, when there is one:
        its energies give the loudness values (quantization moves them by less
        than 0.001 LU above the absolute gate); the true peak is always
        measured on ``samples``, from the blocks the limiter's bounds leave
        (when it made the signal: ``signal.point_bounds``).
    bits : str, optional
        The subtype the samples were quantized to (for those bounds).

    Returns
    -------
    Measured

    Examples
    --------
    >>> import numpy as np
    >>> m = measure_file_samples(0.5 * np.hanning(801)[np.newaxis], 8000)  # 0.1 s
    >>> round(m.true_peak_dbtp, 2), m.lufs
    (-6.02, None)
    """
    if signal is not None and signal.point_bounds is not None and bits is not None:
        # the limiter bounded every block of points: the file's true peak, exact, from
        # the few blocks that can hold it (quantization moves a point by at most the
        # interpolator's gain times the largest error of a sample)
        scale = BIT_DEPTHS[bits]
        error = 2.0**-24 if scale is None else (1.5 if bits == "PCM_16" else 0.5) / scale
        slack = error * (loudness.truepeak.interpolation_gain(rate) + 1.0)
        reached = signal.peaks()[1] - slack  # the file's true peak reaches at least this
        peaks = loudness.truepeak.bounded_peaks(
            samples, rate, signal.point_bounds + slack, at_least=reached
        )
    else:
        peaks = loudness.truepeak.peaks(samples, rate)
    if samples.shape[1] < round(loudness.MOMENTARY_S * rate):
        return Measured(None, to_db(peaks[1]))
    if signal is None:
        signal = loudness.analyse(samples, rate)
    # the analysis's energies, with the peaks of the file's own samples
    of_file = loudness.Analysis(samples, rate, signal.bounds, signal.energy, peaks=peaks)
    report = loudness.report_of(of_file)
    return Measured(
        report.integrated_lufs,
        report.true_peak_dbtp,
        report.loudness_range_lu,
        report.max_momentary_lufs,
        report.max_short_term_lufs,
    )


@dataclass(frozen=True)
class Written:
    """A lossless file written under a temporary name, and what it measures."""

    temporary: Path
    frames: int
    channels: int
    measured: Measured
    clipped: int


def _encode(
    temporaries: Temporaries,
    data: np.ndarray,
    rate: int,
    fmt: Format,
    subtype: str,
    tags: Mapping[str, str] | None,
) -> Path:
    import soundfile as sf

    temporary, fd = temporaries.new()
    try:
        encode(fd, data, rate, fmt, subtype, tags=tags)
    except sf.LibsndfileError as err:
        raise from_libsndfile(err, temporaries.final, data.nbytes + (1 << 16)) from err
    finally:
        os.close(fd)
    return temporary


def _bext(
    description: str, rate: int, subtype: str, channels: int, measured: Measured | None
) -> bytes:
    """The bext chunk of a file (its length does not depend on the values)."""
    values = Measured(None, math.nan) if measured is None else measured
    return bext_chunk(
        description=description,
        rate=rate,
        bits=_BITS[subtype],
        channels=channels,
        loudness_lufs=values.lufs,
        loudness_range_lu=values.loudness_range_lu,
        true_peak_dbtp=values.true_peak_dbtp,
        max_momentary_lufs=values.max_momentary_lufs,
        max_short_term_lufs=values.max_short_term_lufs,
        floating=subtype == "FLOAT",
    )


def _encode_wav(
    temporaries: Temporaries,
    data: np.ndarray,
    rate: int,
    subtype: str,
    tags: Mapping[str, str] | None,
    chunk_length: int,
) -> tuple[Path, bytes]:
    """libsndfile's WAV file, made in memory and written once, with room for a chunk.

    Everything from the ``data`` chunk on is written, after ``chunk_length``
    bytes left for the chunk; the head that goes before the chunk is returned.
    """
    import soundfile as sf

    memory = io.BytesIO()
    try:
        encode(memory, data, rate, FORMATS["WAV"], subtype, tags=tags)
    except sf.LibsndfileError as err:  # pragma: no cover - in memory, not on a disk
        raise from_libsndfile(err, temporaries.final, data.nbytes + (1 << 16)) from err
    head, rest = split_before_data(memory.getbuffer(), chunk_length, temporaries.final)
    temporary, fd = temporaries.new()
    try:
        write_at(fd, rest, len(head) + chunk_length)
    except OSError as err:
        raise naming(err, temporaries.final) from err
    finally:
        os.close(fd)
    return temporary, head


def _finish_wav(
    temporaries: Temporaries, temporary: Path, head: bytes, chunk: bytes, room: int
) -> None:
    """Write the head and the chunk that :func:`_encode_wav` left ``room`` for."""
    if len(chunk) != room:  # pragma: no cover - the bext chunk has a fixed length
        raise RuntimeError(f"{temporaries.final}: a {len(chunk)}-byte chunk in {room} bytes")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CLOEXEC)
        try:
            write_at(fd, head + chunk, 0)
        finally:
            os.close(fd)
    except OSError as err:
        raise naming(err, temporaries.final) from err


def write_lossless(
    samples: np.ndarray,
    rate: int,
    fmt: Format,
    subtype: str,
    temporaries: Temporaries,
    *,
    dither_seed: int = 0,
    tags: Mapping[str, str] | None = None,
    description: str = "",
    signal: Any = None,
) -> Written:
    """Quantize ``samples`` (overwritten) and write them as ``fmt``, tagged and verified.

    Parameters
    ----------
    samples : numpy.ndarray
        float64 (channels, samples), the caller's own copy.
    rate : int
    fmt : Format
        WAV or FLAC.
    subtype : str
        Its bit depth.
    temporaries : Temporaries
        Where the file is made (the caller commits :attr:`Written.temporary`).
    dither_seed : int
        Of the PCM_16 dither.
    tags : mapping, optional
        soundfile string fields.
    description : str
        The bext description (WAV).
    signal : loudness.Analysis, optional
        The analysis of ``samples`` before quantization (see
        :func:`measure_file_samples`).

    Returns
    -------
    Written

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab._formats import FORMATS
    >>> from audiolab.testing import programme
    >>> with Temporaries(os.path.join(tempfile.mkdtemp(), "a.wav")) as temporaries:
    ...     written = write_lossless(programme(1.0, 8000), 8000, FORMATS["WAV"], "PCM_16",
    ...                              temporaries)
    ...     temporaries.commit(written.temporary)
    >>> written.frames, written.channels, written.clipped
    (8000, 2, 0)
    """
    import soundfile as sf

    known = None if signal is None else signal.peaks_if_known()
    data, clipped = quantize(
        samples, subtype, dither_seed, peak=np.inf if known is None else known[0]
    )
    if clipped:  # the file is not the analysed signal quantized: measure what it holds
        signal = None
    wav = fmt.name == "WAV"
    channels = data.shape[1]
    with ThreadPoolExecutor(1) as pool:  # written while its samples are measured
        writing: Future[Any]
        if wav:  # written once, with room for the bext chunk and its measured values
            room = len(_bext(description, rate, subtype, channels, None))
            writing = pool.submit(_encode_wav, temporaries, data, rate, subtype, tags, room)
        else:
            writing = pool.submit(_encode, temporaries, data, rate, fmt, subtype, tags)
        measured = measure_file_samples(samples, rate, signal, subtype)
        made = writing.result()
    if wav:
        temporary, head = made
        chunk = _bext(description, rate, subtype, channels, measured)
        _finish_wav(temporaries, temporary, head, chunk, room)
    else:
        temporary = made
    with sf.SoundFile(temporary) as f:  # read back: it must hold what was measured
        facts = (f.samplerate, f.channels, f.subtype, f.frames)
        back = f.read(dtype=data.dtype, always_2d=True)
    if facts != (rate, data.shape[1], subtype, data.shape[0]):  # pragma: no cover
        raise OSError(f"{temporaries.final}: reads back as {facts}, not as written")
    if not np.array_equal(back, data):  # it would be a bug in libsndfile or the disk
        held = np.ascontiguousarray(sf.read(temporary, always_2d=True)[0].T)
        measured = measure_file_samples(held, rate)
    return Written(temporary, data.shape[0], data.shape[1], measured, clipped)
