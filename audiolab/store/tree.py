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

from audiolab.errors import AudioError, StoreError
from audiolab.policy import is_temporary
from audiolab.store.schema import CATALOG_NAME, JOB_ID, as_utc, check_job_id

__all__ = [
    "AUDIO_EXTENSIONS",
    "DATE_DIR",
    "audiolab_named",
    "check_root",
    "day_folder",
    "inside",
    "is_catalog_file",
    "path_for",
    "refuse_catalog_file",
    "relative",
    "remove_empty_folders",
    "tree_files",
]

DATE_DIR = re.compile(r"\d{4}/\d{2}/\d{2}")
#: Extensions of the audio files audiolab writes (what cleanup may delete as an orphan).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3")
_DATE_PARTS = re.compile(r"\d{4}(/\d{2}(/\d{2})?)?")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


def check_root(root: str | os.PathLike[str]) -> Path:
    """The absolute root of a store, or :class:`StoreError` saying why it cannot be one.

    A store's root is a folder of its own: new, empty, holding an audiolab
    catalog, or holding only a date tree (``YYYY/...``, as the seed's file
    manager left it). The file system's root, the home folder and an empty
    path are refused, and so is a file or a folder of other things: a
    cleanup there could delete what is not the store's.

    Examples
    --------
    >>> check_root("/")
    Traceback (most recent call last):
    ...
    audiolab.StoreError: /: refusing the file system's root as a store: give it a folder of its own, such as data/outputs
    """  # noqa: E501
    text = os.fspath(root) if isinstance(root, (str, os.PathLike)) else None
    if not isinstance(text, str) or not text.strip():
        raise StoreError(f"a store's root must be a folder such as 'data/outputs', got {root!r}")
    if "\x00" in text:
        raise StoreError(f"a store's root cannot hold a NUL byte, got {text!r}")
    path = Path(os.path.normpath(Path(text).expanduser().absolute()))
    if path == Path(path.anchor):
        raise StoreError(
            f"{path}: refusing the file system's root as a store: give it a folder of its own, "
            "such as data/outputs"
        )
    if path.resolve() == Path.home().resolve():
        raise StoreError(
            f"{path}: refusing the home folder as a store: give it a folder of its own, "
            "such as ~/audiolab-outputs"
        )
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path}: not a folder, so it cannot be a store's root")
    if path.is_dir() and not (path / CATALOG_NAME).exists():
        try:
            entries = os.listdir(path)
        except OSError as err:
            raise OSError(err.errno, err.strerror, str(path)) from None
        others = [n for n in entries if not is_temporary(n) and not re.fullmatch(r"\d{4}", n)]
        if others:
            raise StoreError(
                f"{path}: not an audiolab store: the folder holds other files "
                f"({', '.join(sorted(others)[:3])}{', ...' if len(others) > 3 else ''}) "
                f"and no {CATALOG_NAME}; give the store an empty or new folder"
            )
    return path


def _catalog_family(root: Path) -> list[Path]:
    """The catalog, its ``-wal``/``-shm``/``-journal`` files and its backups that exist."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    return [root / n for n in names if n.startswith(CATALOG_NAME)]


def is_catalog_file(root: Path, path: Path) -> bool:
    """Whether ``path`` is the catalog or one of its files, by name or by inode.

    Examples
    --------
    >>> is_catalog_file(Path("/data"), Path("/data/catalog.sqlite-wal"))
    True
    """
    if path.parent == root and path.name.startswith(CATALOG_NAME):
        return True
    try:
        mine = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    for member in _catalog_family(root):
        try:
            theirs = os.stat(member, follow_symlinks=False)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
            return True
    return False


def refuse_catalog_file(root: Path, path: Path) -> Path:
    """``path``, or :class:`StoreError` when it is the catalog or one of its files.

    Examples
    --------
    >>> refuse_catalog_file(Path("/data"), Path("/data/catalog.sqlite"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.StoreError: /data/catalog.sqlite: the catalog is not a file of the file API: ...
    """
    if is_catalog_file(root, path):
        raise StoreError(
            f"{path}: the catalog is not a file of the file API: its rows are read and "
            "changed with the store's methods, and a copy is made with sqlite3's backup"
        )
    return path


def audiolab_named(path: Path) -> bool:
    """Whether ``path`` is named as audiolab names takes: a job id and an audio extension.

    Examples
    --------
    >>> audiolab_named(Path("2026/01/01/gen_0a1b2c3d.wav")), audiolab_named(Path("notes.pdf"))
    (True, False)
    """
    return path.suffix.lower() in AUDIO_EXTENSIONS and bool(JOB_ID.fullmatch(path.stem))


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
