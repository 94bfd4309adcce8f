"""Helpers of the reliability suite: the command line in a subprocess, tmpfs mounts."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def audiolab(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """The command line in a real subprocess (offline)."""
    return subprocess.run(
        [sys.executable, "-m", "audiolab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        timeout=300,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of a command that failed (never a traceback)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("audiolab: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def _can_mount() -> str | None:
    """None when this process can mount a tmpfs, else why not."""
    if os.name != "posix" or os.geteuid() != 0:
        return "mounting a small tmpfs needs root (the suite runs as a user)"
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder], capture_output=True
        )
        if done.returncode != 0:
            return f"mount -t tmpfs is refused here ({done.stderr.decode().strip()})"
        subprocess.run(["umount", folder], check=True)
    return None


CANNOT_MOUNT = _can_mount()


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (e.g. ``"2m"``), unmounted afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder], check=True)
        try:
            yield Path(folder)
        finally:
            subprocess.run(["umount", "-l", folder], check=False)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` made read-only for this process: a read-only bind mount as root
    (root ignores permission bits), permission bits otherwise."""
    if CANNOT_MOUNT is None:
        with tempfile.TemporaryDirectory() as view:
            subprocess.run(["mount", "--bind", str(folder), view], check=True)
            subprocess.run(["mount", "-o", "remount,bind,ro", view], check=True)
            try:
                yield Path(view)
            finally:
                subprocess.run(["umount", "-l", view], check=False)
        return
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if not p.is_symlink()}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield folder
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
