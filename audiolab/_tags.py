"""What a written file says about itself: text tags and the BWF ``bext`` chunk.

Text tags go through libsndfile's string fields (soundfile's ``title``,
``comment``, ``software``, ``date``, ... attributes), which it writes as

* WAV: a RIFF ``LIST``/``INFO`` chunk (``INAM``, ``ICMT``, ``ISFT``, ``ICRD``,
  ``IART``, ``ICOP``, ``IPRD``, ``IGNR``, ``ITRK``; there is no license field);
* FLAC, Ogg Vorbis and Opus: Vorbis comments (``TITLE``, ``COMMENT``,
  ``DATE``, ... every field);
* MP3: an ID3v2.3 tag written by LAME: title, artist, album, comment, year,
  track number and genre. LAME stores its own name as the software and writes
  no copyright or license, and it stores the text bytes as ISO-8859-1, so
  audiolab folds MP3 tags to ASCII (accents dropped, other characters as
  ``?``) rather than let every reader show mangled text.

The prompt, model, seed and audiolab version go into the comment, one
``key: value`` line each (after the caller's own comment), and the prompt is
the title unless a title is given.

WAV files also get a Broadcast Wave ``bext`` chunk, version 2 (EBU Tech
3285 v2), before the ``data`` chunk: the description (the comment's lines,
ASCII, 256 bytes at most), the originator ``audiolab``, the origination date
and time (UTC), a coding history line (EBU R 98) and the five loudness values
of the file as EBU R 128 asks for them (LoudnessValue, LoudnessRange,
MaxTruePeakLevel, MaxMomentaryLoudness, MaxShortTermLoudness, in hundredths
of LU or dB). A value that cannot be measured (silence, or under 3 s for the
short-term ones) is stored as 0x7FFF (327.67, impossible for any of them).
Adding the chunk changes no sample: the file libsndfile writes (in memory) is
written with the chunk before its ``data`` chunk, every other byte as it is.

Examples
--------
>>> tags = file_tags("WAV", prompt="calm piano", seed=3, date="2024-05-01")
>>> tags["title"], tags["date"]
('calm piano', '2024-05-01')
>>> print(tags["comment"])  # doctest: +ELLIPSIS
prompt: calm piano
seed: 3
audiolab: ...
>>> len(bext_chunk(description="calm piano", rate=48000, bits=24, channels=2))
656
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from audiolab.errors import AudioError

if TYPE_CHECKING:
    import datetime as _dt

__all__ = [
    "BEXT_UNKNOWN",
    "TEXT_FIELDS",
    "ascii_text",
    "bext_chunk",
    "file_tags",
    "split_before_data",
]

#: libsndfile's string fields (soundfile attribute names), in the order they are set.
TEXT_FIELDS = (
    "title",
    "artist",
    "album",
    "comment",
    "date",
    "software",
    "copyright",
    "license",
    "genre",
    "tracknumber",
)
#: The fields each format keeps (MP3: what LAME writes; WAV: what RIFF INFO has).
_KEPT = {
    "WAV": set(TEXT_FIELDS) - {"license"},
    "MP3": {"title", "artist", "album", "comment", "date", "genre", "tracknumber"},
}
#: The stored value of a bext loudness field that could not be measured.
BEXT_UNKNOWN = 0x7FFF
#: EBU Tech 3285 v2: the fixed part of the bext chunk, before the coding history.
_BEXT_LAYOUT = struct.Struct("<256s32s32s10s8sIIH64s5h180s")


def ascii_text(text: str) -> str:
    """``text`` in ASCII: accents dropped, other characters as ``?``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> ascii_text("Café — ♪")
    'Cafe ? ?'
    """
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.encode("ascii", "replace").decode("ascii")


def _line(value: Any) -> str:
    return " ".join(str(value).split())


def file_tags(
    format_name: str,
    *,
    prompt: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    date: str | None = None,
) -> dict[str, str]:
    """The string fields to give libsndfile for one file.

    Parameters
    ----------
    format_name : str
        ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"OPUS"`` or ``"MP3"``.
    prompt, model : str, optional
        What made the audio.
    seed : int, optional
    metadata : mapping, optional
        Any of :data:`TEXT_FIELDS` (``title``, ``artist``, ``comment``, ...)
        set those fields; other keys become ``key: value`` lines of the comment.
    date : str, optional
        Default: today (UTC), ``YYYY-MM-DD``.

    Returns
    -------
    dict
        Field name -> text, only the fields the format keeps.

    Raises
    ------
    AudioError
        A metadata key that is not a non-empty string.

    Examples
    --------
    >>> file_tags("MP3", prompt="Café", date="2024-05-01")["title"]
    'Cafe'
    """
    import datetime as _dt

    from audiolab import __version__

    extra = dict(metadata or {})
    for key in extra:
        if not isinstance(key, str) or not key.strip():
            raise AudioError(f"metadata keys must be non-empty strings, got {key!r}")
    fields = {k: str(extra.pop(k)) for k in TEXT_FIELDS if extra.get(k) is not None}
    lines = [fields.pop("comment")] if "comment" in fields else []
    for key, value in (("prompt", prompt), ("model", model), ("seed", seed), *extra.items()):
        if value is not None:
            lines.append(f"{_line(key)}: {_line(value)}")
    lines.append(f"audiolab: {__version__}")
    fields["comment"] = "\n".join(lines)
    if prompt is not None and "title" not in fields:
        fields["title"] = _line(prompt)
    fields.setdefault("date", date or _dt.datetime.now(_dt.timezone.utc).date().isoformat())
    fields.setdefault("software", f"audiolab {__version__}")
    kept = _KEPT.get(format_name, set(TEXT_FIELDS))
    out = {k: v for k, v in fields.items() if k in kept and v}
    if format_name == "MP3":  # ID3v2.3 by LAME: ISO-8859-1 bytes, a four-digit year
        out = {k: ascii_text(v) for k, v in out.items()}
        if out.get("date", "")[:4].isdigit():
            out["date"] = out["date"][:4]
    return out


def _centi(value: float | None) -> int:
    """A bext loudness field: hundredths, or :data:`BEXT_UNKNOWN`."""
    if value is None or not math.isfinite(value):
        return BEXT_UNKNOWN
    return max(-0x8000, min(0x7FFE, round(100 * value)))


def _fixed(text: str, size: int) -> bytes:
    return ascii_text(text).encode("ascii")[:size]


def bext_chunk(
    *,
    description: str,
    rate: int,
    bits: int,
    channels: int,
    loudness_lufs: float | None = None,
    loudness_range_lu: float | None = None,
    true_peak_dbtp: float | None = None,
    max_momentary_lufs: float | None = None,
    max_short_term_lufs: float | None = None,
    when: _dt.datetime | None = None,
    floating: bool = False,
) -> bytes:
    """A complete ``bext`` chunk (id, size and body), version 2.

    Parameters
    ----------
    description : str
        Free text, stored as ASCII, at most 256 bytes (the rest is cut).
    rate, bits, channels : int
        For the coding history line.
    loudness_lufs, loudness_range_lu, true_peak_dbtp, max_momentary_lufs, max_short_term_lufs
        The file's loudness values; None or non-finite: :data:`BEXT_UNKNOWN`.
    when : datetime, optional
        Origination date and time (default: now, UTC).
    floating : bool
        The samples are IEEE floats (said in the coding history).

    Returns
    -------
    bytes
        Of even length, ready to be placed before the ``data`` chunk.

    Examples
    --------
    >>> chunk = bext_chunk(description="take", rate=32000, bits=16, channels=1,
    ...                    loudness_lufs=-16.04, true_peak_dbtp=-1.2)
    >>> chunk[:4], int.from_bytes(chunk[8 + 346:8 + 348], "little", signed=True)
    (b'bext', 2)
    >>> int.from_bytes(chunk[8 + 412:8 + 414], "little", signed=True)
    -1604
    """
    import datetime as _dt

    from audiolab import __version__

    stamp = (when or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    mode = {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")
    history = f"A=PCM,F={rate},W={bits},M={mode},T=audiolab {__version__}"
    history += "; IEEE float\r\n" if floating else "\r\n"
    body = _BEXT_LAYOUT.pack(
        _fixed(" ".join(description.split("\n")), 256),
        b"audiolab",
        b"",
        stamp.strftime("%Y-%m-%d").encode("ascii"),
        stamp.strftime("%H:%M:%S").encode("ascii"),
        0,  # TimeReference: the file starts at sample 0
        0,
        2,  # Version 2: the loudness fields are set
        b"",  # no UMID
        _centi(loudness_lufs),
        _centi(loudness_range_lu),
        _centi(true_peak_dbtp),
        _centi(max_momentary_lufs),
        _centi(max_short_term_lufs),
        b"",
    ) + history.encode("ascii")
    if len(body) % 2:
        body += b"\0"
    return b"bext" + struct.pack("<I", len(body)) + body


def _data_offset(wav: memoryview) -> int | None:
    """Where the ``data`` chunk starts in a RIFF/WAVE file (None: it has none)."""
    offset = 12
    while offset + 8 <= len(wav):
        if wav[offset : offset + 4] == b"data":
            return offset
        (size,) = struct.unpack_from("<I", wav, offset + 4)
        offset += 8 + size + (size & 1)
    return None


def split_before_data(
    wav: bytes | memoryview, chunk_length: int, path: str | os.PathLike[str]
) -> tuple[bytes, memoryview]:
    """A WAV file in memory, cut where a chunk of ``chunk_length`` bytes goes before its ``data``.

    ``head + chunk + rest`` is the file with the chunk before its ``data``:
    every other chunk, and every byte of the samples, as it is; the RIFF size
    grown by the chunk. Written once, so no file is copied to add the chunk.

    Parameters
    ----------
    wav : bytes-like
        A whole RIFF/WAVE file (as libsndfile writes it).
    chunk_length : int
        Of the whole chunk, id and size included; even.
    path : str or PathLike
        The file it is for (named in errors).

    Returns
    -------
    head : bytes
        The file up to its ``data`` chunk, RIFF size updated.
    rest : memoryview
        The ``data`` chunk onward (a view of ``wav``).

    Raises
    ------
    AudioError
        ``wav`` is not a WAV file with a data chunk, or the file with the
        chunk would pass the 4 GiB limit of RIFF.

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buffer = io.BytesIO()
    >>> sf.write(buffer, np.zeros(100), 8000, subtype="PCM_16", format="WAV")
    >>> head, rest = split_before_data(buffer.getvalue(), 8, "a.wav")
    >>> tagged = io.BytesIO(head + b"abcd" + bytes(4) + rest)
    >>> len(tagged.getvalue()) - len(buffer.getvalue()), sf.read(tagged)[0].shape
    (8, (100,))
    """
    view = memoryview(wav).cast("B")
    data_at = _data_offset(view) if view[:4] == b"RIFF" else None
    if view[8:12] != b"WAVE" or data_at is None:
        raise AudioError(f"{path}: not a RIFF/WAVE file with a data chunk")
    total = len(view) - 8 + chunk_length
    if total > 0xFFFFFFFF:
        raise AudioError(f"{path}: a WAV file holds at most 4 GiB; write FLAC or shorter clips")
    head = b"RIFF" + struct.pack("<I", total) + bytes(view[8:data_at])
    return head, view[data_at:]
