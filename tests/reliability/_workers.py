"""What the processes of the fault-injection tests do until they are killed.

Each worker prepares, touches its ``ready`` file, then repeats one operation
forever; the test kills it with SIGKILL at a random moment. Kept apart from
the tests so that a fork-server child imports only this and audiolab.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

SR = 16000
FAST = {"bpm": False, "key": False}


def quiet() -> None:
    """No output from a worker (it runs the CLI too)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def clips() -> tuple[np.ndarray, np.ndarray]:
    """Two different takes (A and B) of one second."""
    from audiolab.testing import programme

    return programme(1.0, SR, seed=1), programme(1.0, SR, seed=2)


def save_forever(root: str, log: str, ready: str) -> None:
    """Store.save again and again; each finished take's id goes to ``log``."""
    from audiolab.store import Store

    quiet()
    a, b = clips()
    Store(Path(root).parent / "warm-save").save(a, SR, measure_options=FAST)  # imports done
    store = Store(root)
    Path(ready).touch()
    i = 0
    while True:
        record = store.save(a if i % 2 else b, SR, prompt=f"take {i}", measure_options=FAST)
        with open(log, "a") as handle:
            handle.write(record.job_id + "\n")
        i += 1


def export_forever(path: str, ready: str) -> None:
    """export_wav of A, then B, then A, ... to the same path."""
    from audiolab.export import export_wav

    quiet()
    a, b = clips()
    export_wav(a, Path(ready).with_suffix(".wav"), SR)  # warm: the first export imports
    Path(ready).touch()
    i = 0
    while True:
        export_wav(a if i % 2 == 0 else b, path, SR)
        i += 1


def normalize_in_place_forever(path: str, original: str, scratch: str, ready: str) -> None:
    """Put the original back (atomically), then ``audiolab normalize --in-place`` twice; again."""
    from audiolab.ui.cli import main

    quiet()
    warm = Path(ready).with_suffix(".wav")
    shutil.copyfile(original, warm)
    main(["normalize", str(warm), "--in-place", "--jobs", "1", "-q"])  # the first one imports
    Path(ready).touch()
    while True:
        shutil.copyfile(original, scratch)
        os.replace(scratch, path)
        for _ in range(2):  # the original rewritten, then a normalized take rewritten
            main(["normalize", path, "--in-place", "--jobs", "1", "-q"])


def save_many(root: str, worker: int, count: int) -> None:
    """``count`` saves of short clips (the concurrency test's writers)."""
    from audiolab.store import Store
    from audiolab.testing import programme

    store = Store(root)
    audio = programme(0.5, 8000, channels=1, seed=worker)
    for i in range(count):
        store.save(audio, 8000, prompt=f"w{worker}-{i}", measure_options=FAST)
