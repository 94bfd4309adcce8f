"""The delivery formats: which one a path asks for, what it can hold, how libsndfile writes it.

======  ==========  ===============================  ==============================
format  extensions  bit depth (soundfile subtype)    sample rates
======  ==========  ===============================  ==============================
WAV     .wav .wave  PCM_16, PCM_24, PCM_32, FLOAT    8 to 192 kHz
FLAC    .flac       PCM_16, PCM_24                   8 to 192 kHz
OGG     .ogg .oga   VORBIS (lossy)                   8 to 192 kHz
OPUS    .opus       OPUS (lossy, in an Ogg file)     48 kHz (others resampled)
MP3     .mp3        MPEG_LAYER_III (lossy)           the nine MPEG rates (others
                                                     resampled)
======  ==========  ===============================  ==============================

Opus codes at 48 kHz inside, and every decoder (browsers, ffmpeg) hands out
48 kHz, so audiolab writes Opus at 48 kHz whatever the input rate: the audio
is resampled first, by a band-limited polyphase filter (:func:`resample`: flat
to 90 % of the lower Nyquist frequency, 90 dB down from it on), and
then normalized at the rate the file has. MPEG audio has nine rates (8,
11.025, 12, 16, 22.05, 24, 32, 44.1, 48 kHz): another rate is resampled to
the lowest of them at or above it, or above 48 kHz to 44.1 kHz (multiples of
11025 Hz) or 48 kHz.

Opus needs libsndfile 1.0.29 and MP3 libsndfile 1.1.0, each built with its
codec; a format the installed libsndfile cannot write is an
:class:`~audiolab.errors.AudioError` that says what is missing.

Examples
--------
>>> format_for("take.opus").name, format_for("take.wav", "flac").name
('OPUS', 'FLAC')
>>> subtype_for(format_for("take.flac"), None), delivery_rate(format_for("a.mp3"), 96000)
('PCM_16', 48000)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from audiolab.errors import AudioError
from audiolab.policy import BIT_DEPTHS, DEFAULT_BIT_DEPTH

__all__ = [
    "FORMATS",
    "Format",
    "check_available",
    "decode",
    "delivery_rate",
    "describe",
    "encode",
    "format_for",
    "format_of",
    "resample",
    "subtype_for",
]

_MPEG_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass(frozen=True)
class Format:
    """One delivery format.

    Attributes
    ----------
    name : str
        ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"OPUS"`` or ``"MP3"``.
    container : str
        soundfile's format name.
    subtypes : tuple of str
        What it can hold; the first is the default.
    lossy : bool
        Decoding gives other samples than were encoded.
    extensions : tuple of str
    rates : tuple of int or None
        The sample rates it takes (None: any from 8 to 192 kHz).
    since : str
        The libsndfile version that brought it.
    compression_level : float or None
        What audiolab asks for unless told otherwise (soundfile's scale, 0 is
        the best quality): about 130 to 180 kbit/s for stereo music.

    Examples
    --------
    >>> FORMATS["MP3"].lossy, FORMATS["FLAC"].subtypes
    (True, ('PCM_16', 'PCM_24'))
    """

    name: str
    container: str
    subtypes: tuple[str, ...]
    lossy: bool
    extensions: tuple[str, ...]
    rates: tuple[int, ...] | None = None
    since: str = "1.0"
    compression_level: float | None = None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("WAV", "WAV", tuple(BIT_DEPTHS), False, (".wav", ".wave")),
        Format("FLAC", "FLAC", ("PCM_16", "PCM_24"), False, (".flac",), since="1.0.18"),
        Format("OGG", "OGG", ("VORBIS",), True, (".ogg", ".oga"), since="1.0.18",
               compression_level=0.3),
        Format("OPUS", "OGG", ("OPUS",), True, (".opus",), (48000,), since="1.0.29"),
        Format("MP3", "MP3", ("MPEG_LAYER_III",), True, (".mp3",), _MPEG_RATES, since="1.1.0",
               compression_level=0.1),
    )
}  # fmt: skip
_BY_EXTENSION = {ext: f for f in FORMATS.values() for ext in f.extensions}


def format_for(path: str | os.PathLike[str], format: str | None = None) -> Format:
    """The format to write ``path`` in: ``format`` when given, else the extension's.

    Parameters
    ----------
    path : str or PathLike
    format : str, optional
        ``"wav"``, ``"flac"``, ``"ogg"``, ``"opus"`` or ``"mp3"`` (any case); it
        wins over the extension, as in :func:`soundfile.write`.

    Returns
    -------
    Format

    Raises
    ------
    AudioError
        An unknown format, or no format and an extension that names none.

    Examples
    --------
    >>> format_for("a.FLAC").name, format_for("take", "Mp3").name
    ('FLAC', 'MP3')
    """
    if format is not None:
        if not isinstance(format, str) or format.upper() not in FORMATS:
            raise AudioError(
                f"format must be one of {', '.join(f.lower() for f in FORMATS)}, got {format!r}"
            )
        return FORMATS[format.upper()]
    suffix = Path(path).suffix.lower()
    if suffix not in _BY_EXTENSION:
        known = " ".join(sorted(_BY_EXTENSION))
        raise AudioError(
            f"{os.fspath(path)!r}: cannot tell the format from the extension {suffix or '(none)'}"
            f" (known: {known}); pass format='wav', 'flac', 'ogg', 'opus' or 'mp3'"
        )
    return _BY_EXTENSION[suffix]


def subtype_for(fmt: Format, bit_depth: str | None) -> str:
    """The soundfile subtype to write ``fmt`` with (``None``: its default).

    Raises
    ------
    AudioError
        A bit depth the format cannot hold.

    Examples
    --------
    >>> subtype_for(FORMATS["WAV"], "FLOAT"), subtype_for(FORMATS["OGG"], None)
    ('FLOAT', 'VORBIS')
    """
    if bit_depth is None:
        return DEFAULT_BIT_DEPTH if DEFAULT_BIT_DEPTH in fmt.subtypes else fmt.subtypes[0]
    if bit_depth not in fmt.subtypes:
        if fmt.lossy:
            raise AudioError(
                f"{fmt.name} is lossy: it has no bit depth; pass bit_depth=None, got {bit_depth!r}"
            )
        raise AudioError(
            f"bit_depth must be one of {', '.join(fmt.subtypes)} for {fmt.name}, got {bit_depth!r}"
        )
    return bit_depth


def check_available(fmt: Format, subtype: str) -> None:
    """Raise :class:`AudioError` when this libsndfile cannot write ``fmt`` with ``subtype``.

    Examples
    --------
    >>> check_available(FORMATS["WAV"], "PCM_16")
    """
    import soundfile as sf

    if subtype in sf.available_subtypes(fmt.container):
        return
    raise AudioError(
        f"writing {fmt.name} ({fmt.container}/{subtype}) needs libsndfile {fmt.since} or later "
        f"built with it; this one is libsndfile {sf.__libsndfile_version__}, which lacks it: "
        "install a newer soundfile wheel (it bundles libsndfile) or write WAV or FLAC"
    )


def delivery_rate(fmt: Format, rate: int) -> int:
    """The sample rate ``fmt`` is written at for audio at ``rate``.

    Examples
    --------
    >>> [delivery_rate(FORMATS["MP3"], r) for r in (44100, 10000, 88200, 192000)]
    [44100, 11025, 44100, 48000]
    >>> delivery_rate(FORMATS["OPUS"], 32000), delivery_rate(FORMATS["FLAC"], 96000)
    (48000, 96000)
    """
    if fmt.rates is None or rate in fmt.rates:
        return rate
    above = [r for r in fmt.rates if r >= rate]
    if above:
        return above[0]
    family = [r for r in fmt.rates if r % 11025 == 0] if rate % 11025 == 0 else []
    return max(family or fmt.rates)


def resample(audio: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Band-limited resampling of (channels, samples) audio (polyphase, Kaiser-windowed sinc).

    The filter (Kaiser window, beta 9, 64 zero crossings each side) is flat
    to 90 % of the lower Nyquist frequency and 90 dB down from it on; the
    output is aligned with the input and ``ceil(samples * new_rate / rate)``
    long.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(32000) / 32000
    >>> y = resample(np.sin(2 * np.pi * 1000 * t)[None], 32000, 48000)
    >>> y.shape, round(float(np.sqrt(2 * np.mean(y[:, 4800:-4800] ** 2))), 4)
    ((1, 48000), 1.0)
    """
    if new_rate == rate:
        return audio
    from scipy.signal import firwin, resample_poly

    g = math.gcd(rate, new_rate)
    up, down = new_rate // g, rate // g
    band = max(up, down)
    zero_crossings = 64
    taps = firwin(2 * zero_crossings * band + 1, 0.95 / band, window=("kaiser", 9.0), scale=True)
    return np.ascontiguousarray(resample_poly(audio, up, down, axis=1, window=taps))


def format_of(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The format and bit depth to rewrite an existing file in, keeping what it is.

    WAV (also WAVEX and RF64), FLAC, Ogg Vorbis, Opus and MP3 keep their
    format and subtype. Subtypes audiolab does not write map to the nearest
    one that loses nothing audible: ``DOUBLE`` to ``FLOAT``, 8-bit and
    companded or ADPCM PCM to ``PCM_16``, MPEG layers I and II to layer III.

    Parameters
    ----------
    path : str or PathLike
        An audio file.

    Returns
    -------
    tuple of str
        ``(format, bit_depth)`` as :func:`audiolab.export.export` takes them.

    Raises
    ------
    AudioError
        A container audiolab does not write (AIFF, ...); OSError when the file
        cannot be read.

    Examples
    --------
    >>> import tempfile, os, numpy as np, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> sf.write(path, np.zeros(800), 8000, subtype="PCM_24")
    >>> format_of(path)
    ('WAV', 'PCM_24')
    """
    import soundfile as sf

    info = sf.info(os.fspath(path))
    container, subtype = info.format, info.subtype
    if container in ("WAV", "WAVEX", "RF64"):
        if subtype in BIT_DEPTHS:
            return "WAV", subtype
        return "WAV", "FLOAT" if subtype == "DOUBLE" else "PCM_16"
    if container == "FLAC":
        return "FLAC", subtype if subtype in FORMATS["FLAC"].subtypes else "PCM_16"
    if container == "OGG":
        return ("OPUS", "OPUS") if subtype == "OPUS" else ("OGG", "VORBIS")
    if container == "MP3":
        return "MP3", "MPEG_LAYER_III"
    raise AudioError(
        f"{os.fspath(path)}: audiolab writes WAV, FLAC, Ogg Vorbis, Opus and MP3, "
        f"not {container}; give format= and bit_depth="
    )


def encode(
    file: int | BinaryIO,
    frames: np.ndarray,
    rate: int,
    fmt: Format,
    subtype: str,
    *,
    tags: Mapping[str, str] | None = None,
    compression_level: float | None = None,
) -> None:
    """Write ``frames`` ((frames, channels), as soundfile takes them) to an open file.

    Parameters
    ----------
    file : int or binary file object
        A file descriptor open for reading and writing, at offset 0, or a
        seekable binary file object (an ``io.BytesIO``); it is left open.
    frames : numpy.ndarray
        int16 for PCM_16, int32 (24-bit samples in the top bits) for PCM_24
        and PCM_32, float32 for FLOAT and the lossy formats.
    rate : int
    fmt : Format
    subtype : str
    tags : mapping, optional
        soundfile string fields (see :mod:`audiolab._tags`).
    compression_level : float, optional
        soundfile's, 0 (best) to 1 (smallest); default: the format's.

    Raises
    ------
    soundfile.LibsndfileError
        As libsndfile reports it (the caller names the path and the cause).

    Examples
    --------
    >>> import tempfile, os, numpy as np, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "a.flac")
    >>> fd = os.open(path, os.O_RDWR | os.O_CREAT)
    >>> encode(fd, np.zeros((800, 1), np.int16), 8000, FORMATS["FLAC"], "PCM_16")
    >>> os.close(fd); sf.info(path).format
    'FLAC'
    """
    import soundfile as sf

    level = fmt.compression_level if compression_level is None else compression_level
    with sf.SoundFile(
        file,
        "w",
        rate,
        frames.shape[1],
        subtype,
        format=fmt.container,
        closefd=False,
        compression_level=level if fmt.lossy else None,
    ) as out:
        for name, text in (tags or {}).items():
            setattr(out, name, text)
        out.write(frames)


def decode(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """The samples of a file as float64 (channels, samples), and its rate.

    Examples
    --------
    >>> import tempfile, os, numpy as np, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> sf.write(path, np.zeros((800, 2)), 8000)
    >>> decode(path)[0].shape
    (2, 800)
    """
    import soundfile as sf

    data, rate = sf.read(os.fspath(path), dtype="float64", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


def describe(fmt: Format, subtype: str, rate: int, input_rate: int) -> str:
    """One phrase for messages: ``"OPUS at 48000 Hz (resampled from 32000 Hz)"``.

    Examples
    --------
    >>> describe(FORMATS["WAV"], "PCM_24", 48000, 48000)
    'WAV PCM_24 at 48000 Hz'
    """
    what = fmt.name if fmt.lossy else f"{fmt.name} {subtype}"
    text = f"{what} at {rate} Hz"
    return text if rate == input_rate else f"{text} (resampled from {input_rate} Hz)"
