"""SIGKILL at random points of an export, a save and ``normalize --in-place``.

Each trial starts a worker (from a fork server that has audiolab imported,
so a trial costs milliseconds, not an interpreter start), lets it repeat its
operation, kills it at a random moment within about two operations, and
checks what a crash may leave: the final file is a whole take (the old one
or the new one) or absent, never a part; every take the catalog called
complete is there and whole; every row is there; and after
``verify(repair=True, grace_seconds=0)`` no temporary file is left.

Trials: ``AUDIOLAB_KILL_TRIALS`` per operation (default 10; the closing
table of issue 14 used 50: ``AUDIOLAB_KILL_TRIALS=50 python benchmarks/reliability.py``).
"""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiolab import audiofile, loudness
from audiolab.store import Store
from tests.reliability import _workers
from tests.reliability._cases import case, seen, trials

pytestmark = pytest.mark.slow

TRIALS = trials("kill", 10)
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["numpy", "soundfile", "audiolab.store", "audiolab.ui.cli"])


def kill_at_random(target, args: tuple, ready: Path, seconds: float, rng: random.Random) -> None:
    """Start ``target(*args)``, wait until it is ready, kill it within ``seconds``."""
    ready.unlink(missing_ok=True)
    worker = CONTEXT.Process(target=target, args=args, daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert worker.is_alive(), f"the worker ended with code {worker.exitcode} before the kill"
        assert time.monotonic() < deadline, "the worker never got ready"
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, seconds))
    worker.kill()
    worker.join()


def operation_seconds(action) -> float:
    """How long one operation takes here (warm): the span the kills are spread over."""
    action()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def no_temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def test_sigkill_during_saves_loses_no_take_and_no_row(tmp_path: Path) -> None:
    root, log, ready = tmp_path / "outputs", tmp_path / "log", tmp_path / "ready"
    a, _ = _workers.clips()
    span = 2 * operation_seconds(
        lambda: Store(tmp_path / "warm").save(a, _workers.SR, measure_options=_workers.FAST)
    )
    rng = random.Random(14)
    for _ in range(TRIALS):
        with case("kill: Store.save"):
            kill_at_random(
                _workers.save_forever, (str(root), str(log), str(ready)), ready, span, rng
            )
            store = Store(root)
            logged = log.read_text().split() if log.exists() else []
            rows = {r.job_id: r for r in store.records()}  # the catalog opens and reads
            for record in rows.values():
                if record.status == "pending":
                    on_disk = record.absolute_path is not None and record.absolute_path.exists()
                    seen(
                        "kill: Store.save",
                        "pending row, file " + ("written" if on_disk else "not yet"),
                    )
            if no_temporaries(root):
                seen("kill: Store.save", "temporary file left")
            assert set(logged) <= set(rows), "a take the worker saw saved has no row"
            for record in rows.values():
                if record.status == "complete":
                    assert record.absolute_path is not None
                    assert audiofile.info(record.absolute_path).frames == _workers.SR
            complete = {j for j, r in rows.items() if r.status == "complete"}
            store.verify(repair=True, grace_seconds=0)
            after = {r.job_id: r for r in store.records()}
            assert set(after) == set(rows) and complete <= {
                j for j, r in after.items() if r.status == "complete"
            }
            assert no_temporaries(root) == [] and store.verify(grace_seconds=0).ok
            store.close()


def test_sigkill_during_exports_leaves_a_whole_take_or_none(tmp_path: Path) -> None:
    from audiolab.export import export_wav

    store = Store(tmp_path / "outputs")
    store.schema_version()
    folder = store.root / "2026" / "01" / "01"
    folder.mkdir(parents=True)
    target, ready = folder / "take.wav", tmp_path / "ready"
    a, b = _workers.clips()
    expected = []
    for clip in (a, b):  # what a whole export of each holds
        export_wav(clip, tmp_path / "expected.wav", _workers.SR)
        expected.append(sf.read(tmp_path / "expected.wav", dtype="int16")[0])
    span = 2 * operation_seconds(lambda: export_wav(a, tmp_path / "w.wav", _workers.SR))
    rng = random.Random(15)
    for _ in range(TRIALS):
        with case("kill: export_wav"):
            target.unlink(missing_ok=True)
            kill_at_random(_workers.export_forever, (str(target), str(ready)), ready, span, rng)
            if target.exists():
                data = sf.read(target, dtype="int16")[0]
                assert any(np.array_equal(data, e) for e in expected), "a part of a take"
            leftovers = no_temporaries(store.root)
            seen("kill: export_wav", "take there" if target.exists() else "no take yet")
            if leftovers:
                seen("kill: export_wav", "temporary file left")
            assert all(p.parent == folder for p in leftovers)
            store.verify(repair=True, grace_seconds=0)
            assert no_temporaries(store.root) == []
            if target.exists():
                store.delete(target)  # the adopted take and its row: the next trial starts clean


def test_sigkill_during_normalize_in_place_keeps_the_original_or_its_whole_result(
    tmp_path: Path,
) -> None:
    from audiolab.synth import reference
    from audiolab.ui.cli import main

    store = Store(tmp_path / "outputs")
    store.schema_version()
    folder = store.root / "2026" / "01" / "01"
    folder.mkdir(parents=True)
    original = tmp_path / "original.wav"
    clip = 0.1 * reference(90, "A minor", 3.0, sr=_workers.SR).audio.T
    sf.write(original, clip, _workers.SR, subtype="PCM_24")
    target, scratch, ready = folder / "song.wav", store.root / "scratch.wav", tmp_path / "ready"
    first = original.read_bytes()
    warm = tmp_path / "warm.wav"

    def one() -> None:
        warm.write_bytes(first)
        main(["normalize", str(warm), "--in-place", "--jobs", "1", "-q"])

    span = 3 * operation_seconds(one)  # the worker normalizes twice per round
    rng = random.Random(16)
    args = (str(target), str(original), str(scratch), str(ready))
    for _ in range(TRIALS):
        with case("kill: normalize --in-place"):
            target.write_bytes(first)
            kill_at_random(_workers.normalize_in_place_forever, args, ready, span, rng)
            if target.read_bytes() != first:  # then it is the whole normalized take
                audio, facts = audiofile.read(target)
                assert facts.subtype == "PCM_24" and facts.frames == 3 * _workers.SR
                assert abs(loudness.integrated(audio, facts.samplerate) + 16) <= 0.5
                seen("kill: normalize --in-place", "normalized take")
            else:
                seen("kill: normalize --in-place", "original")
            if no_temporaries(store.root):
                seen("kill: normalize --in-place", "temporary file left")
            assert all(p.parent in (folder, store.root) for p in no_temporaries(store.root))
            store.verify(repair=True, grace_seconds=0)
            assert no_temporaries(store.root) == []
            store.delete(target)  # the adopted take and its row: the next trial starts clean
