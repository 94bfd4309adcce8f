"""An independent RIFF/WAVE and BWF ``bext`` reader for the tests (not audiolab's code).

Written from EBU Tech 3285 v2 and the RIFF layout, byte by byte, so the tests
check audiolab's files against the specification rather than against itself.
"""

from __future__ import annotations

import struct
from pathlib import Path


def chunks(path: Path) -> list[tuple[bytes, int, int]]:
    """``(id, offset of the body, size)`` of every top-level chunk, in file order."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", "not RIFF/WAVE"
    riff_size = struct.unpack("<I", data[4:8])[0]
    assert riff_size + 8 == len(data), f"RIFF size {riff_size} + 8 != file size {len(data)}"
    out, offset = [], 12
    while offset < len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        out.append((chunk_id, offset + 8, size))
        offset += 8 + size + (size & 1)
    assert offset == len(data), "chunks overrun the file"
    return out


def chunk_body(path: Path, chunk_id: bytes) -> bytes:
    data = Path(path).read_bytes()
    for cid, offset, size in chunks(path):
        if cid == chunk_id:
            return data[offset : offset + size]
    raise KeyError(chunk_id)


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii")


def bext(path: Path) -> dict[str, object]:
    """The fields of the ``bext`` chunk, the loudness values in LU/dB (None for 0x7FFF)."""
    body = chunk_body(path, b"bext")
    fields: dict[str, object] = {
        "description": _text(body[0:256]),
        "originator": _text(body[256:288]),
        "originator_reference": _text(body[288:320]),
        "origination_date": _text(body[320:330]),
        "origination_time": _text(body[330:338]),
        "time_reference": struct.unpack("<Q", body[338:346])[0],
        "version": struct.unpack("<H", body[346:348])[0],
        "umid": body[348:412],
        "reserved": body[422:602],
        "coding_history": body[602:].rstrip(b"\0").decode("ascii"),
    }
    names = ("loudness_value", "loudness_range", "max_true_peak_level",
             "max_momentary_loudness", "max_short_term_loudness")  # fmt: skip
    for i, name in enumerate(names):
        (value,) = struct.unpack("<h", body[412 + 2 * i : 414 + 2 * i])
        fields[name] = None if value == 0x7FFF else value / 100
    return fields


def info_list(path: Path) -> dict[str, str]:
    """The ``LIST``/``INFO`` fields (INAM, ICMT, ...) as text."""
    body = chunk_body(path, b"LIST")
    assert body[:4] == b"INFO"
    out, offset = {}, 4
    while offset + 8 <= len(body):
        key = body[offset : offset + 4].decode("ascii")
        (size,) = struct.unpack("<I", body[offset + 4 : offset + 8])
        out[key] = body[offset + 8 : offset + 8 + size].rstrip(b"\0").decode("utf-8")
        offset += 8 + size + (size & 1)
    return out
