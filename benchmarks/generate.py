"""Seconds of audio per second of compute: the tiny MusicGen, and a real one when given.

    python benchmarks/generate.py                       # the tiny model on this machine
    python benchmarks/generate.py facebook/musicgen-small --duration 8
    python benchmarks/generate.py /models/musicgen-small  # a local folder

On a GPU it also compares half precision and torch.compile, measured side by
side in one run (not assumed). Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import torch

from audiolab.generate import clear_cache, generate, model_available
from audiolab.testing import tiny_musicgen


def speed(model: str, duration: float, repeat: int, **options: Any) -> tuple[float, float]:
    """(best seconds, seconds of audio per second) over ``repeat`` warm runs."""
    generate("warm up", 0.5, model=model, seed=0, progress=False, **options)
    best = float("inf")
    for i in range(repeat):
        started = time.perf_counter()
        generate(
            "hip hop beat with heavy 808 bass",
            duration,
            model=model,
            seed=i,
            progress=False,
            **options,
        )
        best = min(best, time.perf_counter() - started)
    return best, duration / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="hub id or folder of a real MusicGen")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = (
        torch.cuda.get_device_name()
        if device == "cuda"
        else f"CPU, {torch.get_num_threads()} threads"
    )
    print(f"device: {device} ({name}), torch {torch.__version__}, {args.duration:g} s clips")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tiny = str(tiny_musicgen(folder))
        rows.append(("tiny MusicGen (random, CI)", *speed(tiny, args.duration, args.repeat)))
        if args.model:
            if not model_available(args.model):
                print(f"{args.model!r} is not available locally: trying to download it")
            rows.append((f"{args.model} float32", *speed(args.model, args.duration, args.repeat)))
            if device == "cuda":  # pragma: no cover - needs a GPU
                clear_cache()
                rows.append(
                    (
                        f"{args.model} float16",
                        *speed(args.model, args.duration, args.repeat, dtype="float16"),
                    )
                )
    print(f"{'model':40s} {'seconds':>8s} {'audio s / s':>12s}")
    for label, seconds, rate in rows:
        print(f"{label:40s} {seconds:8.2f} {rate:12.2f}")
    if device == "cpu":
        print("no GPU here: half precision and torch.compile were not measured")


if __name__ == "__main__":
    main()
