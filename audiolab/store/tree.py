"""The store's folder tree: where files go, which paths are inside, what the tree holds.

Plain functions of a root folder and a path; nothing here touches the
catalog. Files live at ``root/YYYY/MM/DD/<job_id><extension>`` (UTC days).
Every path handed to the store goes through :func:`inside` first: it must
stay inside the root, and no symbolic link on the way may lead out of it.

Examples
--------
>>> from pathlib import Path
>>> from audiolab.store.tree import path_for
>>> path_for(Path("/data"), "take-1", "2026-01-31T23:59:59-01:00").as_posix()
'/data/2026/02/01/take-1.wav'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from audiolab.errors import AudioError
from audiolab.store.schema import as_utc, check_job_id

__all__ = [
    "DATE_DIR",
    "day_folder",
    "inside",
    "path_for",
    "relative",
    "remove_empty_folders",
    "tree_files",
]

DATE_DIR = re.compile(r"\d{4}/\d{2}/\d{2}")
_DATE_PARTS = re.compile(r"\d{4}(/\d{2}(/\d{2})?)?")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


def day_folder(root: Path, day: datetime | date | str) -> Path:
    """``root/YYYY/MM/DD`` of the UTC day of ``day``.

    Examples
    --------
    >>> day_folder(Path("/data"), "2026-03-04").as_posix()
    '/data/2026/03/04'
    """
    moment = as_utc(day)
    return root / f"{moment:%Y}" / f"{moment:%m}" / f"{moment:%d}"


def path_for(root: Path, job_id: str, day: datetime | date | str, extension: str = ".wav") -> Path:
    """``root/YYYY/MM/DD/<job_id><extension>``, the id and extension checked.

    Examples
    --------
    >>> path_for(Path("/data"), "a", "2026-03-04", ".flac").as_posix()
    '/data/2026/03/04/a.flac'
    """
    check_job_id(job_id)
    if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
        raise AudioError(f"extension must look like '.wav', got {extension!r}")
    return day_folder(root, day) / f"{job_id}{extension}"


def inside(root: Path, path: str | os.PathLike[str]) -> Path:
    """``path`` (relative to root, or absolute) as an absolute path inside ``root``.

    Raises :class:`AudioError` for a path outside the root, the root itself,
    a NUL byte, and a path whose folders lead out of the root through a link.

    Examples
    --------
    >>> inside(Path("/data"), "2026/01/01/a.wav").as_posix()
    '/data/2026/01/01/a.wav'
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = Path(os.path.normpath(candidate))
    if "\x00" in str(path) or not resolved.is_relative_to(root) or resolved == root:
        raise AudioError(f"path {str(path)!r} is not inside the store's root {str(root)!r}")
    # a symbolic link on the way could lead outside: refuse those too
    if not resolved.parent.resolve().is_relative_to(root.resolve()):
        raise AudioError(f"path {str(path)!r} leads outside the store's root through a link")
    return resolved


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators (as the catalog stores it).

    Examples
    --------
    >>> relative(Path("/data"), Path("/data/2026/01/01/a.wav"))
    '2026/01/01/a.wav'
    """
    return path.relative_to(root).as_posix()


def tree_files(root: Path) -> Iterator[Path]:
    """Regular files in the date tree (``YYYY/MM/DD/*``), never through links.

    Examples
    --------
    >>> list(tree_files(Path("/no/such/root")))
    []
    """
    if not root.is_dir():
        return
    for directory, subdirs, files in os.walk(root, followlinks=False):
        here = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if not (here / d).is_symlink())
        if not DATE_DIR.fullmatch(relative(root, here)):
            continue
        for name in sorted(files):
            path = here / name
            if not path.is_symlink() and path.is_file():
                yield path


def remove_empty_folders(root: Path) -> list[Path]:
    """Remove empty folders of the date tree (never root, never through links).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "2020" / "01" / "02").mkdir(parents=True)
    >>> [relative(root, p) for p in remove_empty_folders(root)]
    ['2020/01/02', '2020/01', '2020']
    """
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for directory, _, _ in os.walk(root, topdown=False, followlinks=False):
        here = Path(directory)
        if here == root or here.is_symlink():
            continue
        if not _DATE_PARTS.fullmatch(relative(root, here)):
            continue
        try:
            here.rmdir()  # only succeeds when empty
        except OSError:
            continue
        removed.append(here)
    return removed
