"""Run the whole suite (tests, doctests, notebooks) with one thread per process,
and give each pytest-xdist worker its own numba cache.

The tiny models and short clips of the suite spend more in the threads' hand-offs
than they gain (a tiny MusicGen is several times slower on two threads of a
loaded 2-core machine). numba's on-disk cache (librosa compiles into it) is not
safe for two processes compiling the same function at once: in a fresh
environment two workers crashed a librosa call that read the other's half-written
entry. Set before torch, numpy or numba load; children (notebook kernels, CLI
subprocesses, pool workers) inherit both. A value the caller set stays.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"audiolab-numba-{_worker}")
    )
