"""Files written whole or not at all, and errors that say which file and why.

A file is written under a short temporary name beside its final one
(:func:`audiolab.policy.temporary_path`), checked, and renamed into place:
no half-written file ever has the final name, an existing file there is
left intact or replaced whole, and no temporary file is left behind when
anything fails.

Failures of the operating system stay :class:`OSError` (its subclasses:
:class:`PermissionError` for EACCES, ...) with their ``errno`` and its words,
and name the final path, not the temporary one. libsndfile reports every
system failure as "System error."; a full disk is told apart by the free
space left, and comes out as ENOSPC.

Examples
--------
>>> import tempfile, os
>>> final = os.path.join(tempfile.mkdtemp(), "take.wav")
>>> with Temporaries(final) as temporaries:
...     temporary, fd = temporaries.new()
...     _ = os.write(fd, b"whole"); os.close(fd)
...     temporaries.commit(temporary)
>>> open(final, "rb").read(), os.listdir(os.path.dirname(final))
(b'whole', ['take.wav'])
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import TracebackType

from audiolab.errors import AudioError
from audiolab.policy import temporary_path

__all__ = ["Temporaries", "check_destination", "from_libsndfile", "naming", "write_at"]

#: Longest file name (bytes) where the file system cannot say (POSIX NAME_MAX of ext4, xfs, tmpfs).
_NAME_MAX = 255


def naming(err: OSError, path: str | os.PathLike[str]) -> OSError:
    """``err`` again (same errno and words, same subclass), naming ``path``.

    Examples
    --------
    >>> naming(OSError(errno.ENOSPC, "No space left on device"), "a.wav")
    OSError(28, 'No space left on device')
    >>> str(naming(PermissionError(errno.EACCES, "Permission denied", ".tmp-1"), "a.wav"))
    "[Errno 13] Permission denied: 'a.wav'"
    """
    if err.errno is None:
        return err
    return OSError(err.errno, err.strerror or os.strerror(err.errno), os.fspath(path))


def check_destination(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, refused before anything is written when no file can have it.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Path

    Raises
    ------
    AudioError
        Not a path, a NUL byte in it, an existing folder.
    OSError
        ENAMETOOLONG: the file name is longer than the file system allows.

    Examples
    --------
    >>> check_destination("takes/a.wav").name
    'a.wav'
    >>> check_destination("bad\\0name.wav")
    Traceback (most recent call last):
    ...
    audiolab.AudioError: path 'bad\\x00name.wav' contains a NUL byte: no file system accepts it
    """
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise AudioError(f"path must be a str or os.PathLike of str, got {path!r}")
    text = os.fspath(path)
    if "\0" in text:
        raise AudioError(f"path {text!r} contains a NUL byte: no file system accepts it")
    if not text.strip():
        raise AudioError(f"path must name a file, got {text!r}")
    target = Path(text)
    if target.is_dir():
        raise AudioError(f"{text!r} is a folder; give the file's path")
    limit = _NAME_MAX
    folder = next((p for p in (target.parent, *target.parent.parents) if p.is_dir()), None)
    if folder is not None:
        try:
            limit = os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError):  # pragma: no cover - the file system does not say
            pass
    too_long = [p for p in target.parts if len(os.fsencode(p)) > limit]
    if too_long:
        raise OSError(
            errno.ENAMETOOLONG,
            f"{os.strerror(errno.ENAMETOOLONG)} ({len(os.fsencode(too_long[0]))} bytes; "
            f"the file system allows {limit})",
            text,
        )
    return target


def from_libsndfile(err: Exception, path: Path, needed_bytes: int) -> Exception:
    """The error to raise for a libsndfile failure while writing ``path``.

    "System error." is the operating system failing: ENOSPC when the folder
    has less free space than the file needs, EIO otherwise (libsndfile does
    not pass the errno on). Any other libsndfile error is an
    :class:`AudioError` naming the path.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> err = from_libsndfile(RuntimeError("System error."), folder / "a.wav", 2**62)
    >>> err.errno == errno.ENOSPC, err.filename == str(folder / "a.wav")
    (True, True)
    """
    message = str(err)
    if "System error" not in message:
        return AudioError(f"{path}: libsndfile could not write it: {message}")
    try:
        stats = os.statvfs(path.parent)
        free = stats.f_bavail * stats.f_frsize
    except OSError:  # pragma: no cover - the folder went away
        free = needed_bytes
    code = errno.ENOSPC if free < needed_bytes else errno.EIO
    return OSError(code, f"{os.strerror(code)} (libsndfile: {message})", str(path))


def write_at(fd: int, data: bytes | memoryview, offset: int) -> None:
    """Write all of ``data`` into an open file at ``offset`` (``pwrite`` until done).

    Parameters
    ----------
    fd : int
        Open for writing.
    data : bytes-like
    offset : int

    Raises
    ------
    OSError
        As the system reports it (the caller names the path).

    Examples
    --------
    >>> import tempfile, os
    >>> fd, path = tempfile.mkstemp()
    >>> write_at(fd, b"cd", 2); write_at(fd, b"ab", 0); os.close(fd)
    >>> open(path, "rb").read()
    b'abcd'
    """
    view = memoryview(data).cast("B")
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


class Temporaries:
    """Temporary files beside one final path, removed on exit unless committed.

    Parameters
    ----------
    final : str or PathLike
        The path the finished file gets; its folder is created.

    Examples
    --------
    >>> import tempfile, os
    >>> final = os.path.join(tempfile.mkdtemp(), "new", "x.flac")
    >>> with Temporaries(final) as temporaries:
    ...     temporary, fd = temporaries.new()
    ...     os.close(fd)
    >>> os.listdir(os.path.dirname(final))  # nothing committed, nothing left
    []
    """

    def __init__(self, final: str | os.PathLike[str]) -> None:
        self.final = Path(final)
        self._paths: list[Path] = []

    def __enter__(self) -> Temporaries:
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as err:  # a file where a folder should be
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), err.filename) from err
        return self

    def new(self) -> tuple[Path, int]:
        """A fresh temporary file, open for reading and writing: ``(path, fd)``.

        The caller closes the descriptor; the file is removed on exit unless
        committed.
        """
        temporary = temporary_path(self.final)
        try:
            fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except OSError as err:
            raise naming(err, self.final) from err
        self._paths.append(temporary)
        return temporary, fd

    def discard(self, temporary: Path) -> None:
        """Remove one temporary file now."""
        temporary.unlink(missing_ok=True)
        if temporary in self._paths:
            self._paths.remove(temporary)

    def commit(self, temporary: Path) -> None:
        """Rename ``temporary`` into place (atomically: same folder, same file system)."""
        try:
            os.replace(temporary, self.final)
        except OSError as err:
            raise naming(err, self.final) from err
        self._paths.remove(temporary)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for temporary in self._paths:
            temporary.unlink(missing_ok=True)
        self._paths.clear()
