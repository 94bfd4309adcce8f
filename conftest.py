"""Run the whole suite (tests, doctests, notebooks) with one thread per process.

The tiny models and short clips of the suite spend more in the threads' hand-offs
than they gain (a tiny MusicGen is several times slower on two threads of a
loaded 2-core machine). Set before torch or numpy load; children (notebook
kernels, CLI subprocesses, pool workers) inherit it. A value the caller set
stays.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
