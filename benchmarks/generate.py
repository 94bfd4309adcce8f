"""audiolab.generate against a bare ``model.generate``: the overhead, one window and past it.

    python benchmarks/generate.py                        # the tiny MusicGen, one thread
    python benchmarks/generate.py --rounds 7 --threads 2
    python benchmarks/generate.py facebook/musicgen-small --duration 8 --long 45

The bare side is what a transformers user writes: ``from_pretrained``, the
processor, ``model.generate(do_sample=True, guidance_scale=3, top_k=250,
max_new_tokens=...)``, on the same weights. The audiolab side is
``generate(...)`` with the model already loaded (its cache), so both time the
generation itself: audiolab's sampler (one seeded stream per take), its
take-by-take decoding, trimming and provenance against transformers' own.

* One window: ``--duration`` seconds each side; overhead = median ratio - 1.
* Past the window: audiolab generates ``--long`` seconds window by window (the
  model's 30 s window, 10 s overlap); the bare side one full window. Both are
  counted per generated second; overhead = median ratio of seconds per
  generated second - 1.

The two sides run alternately, round after round, and the medians of the
paired ratios are reported (timing noise on a shared machine is large). Not a
test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

import torch

PROMPT = "hip hop beat with heavy 808 bass"


def bare_generate(model: Any, processor: Any, seconds: float) -> float:
    """Seconds a plain transformers ``generate`` takes for ``seconds`` of audio."""
    encoder, decoder = model.config.audio_encoder, model.config.decoder
    delay = decoder.num_codebooks // decoder.audio_channels - 1  # MusicGen's codebook delays
    tokens = round(seconds * encoder.frame_rate) + delay
    inputs = processor(text=[PROMPT], padding=True, return_tensors="pt")
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            **inputs, do_sample=True, guidance_scale=3.0, top_k=250, max_new_tokens=tokens
        )
    return time.perf_counter() - started


def audiolab_generate(model: str, seconds: float, seed: int) -> float:
    """Seconds ``audiolab.generate`` takes for ``seconds`` of audio (model already loaded)."""
    from audiolab.generate import generate

    started = time.perf_counter()
    generate(PROMPT, seconds, model=model, seed=seed, progress=False, device="cpu")
    return time.perf_counter() - started


def paired(rounds: int, bare: Any, ours: Any) -> tuple[float, float, float]:
    """(median bare s, median audiolab s, median of the paired ratios ours / bare)."""
    bare_s, ours_s, ratios = [], [], []
    for i in range(rounds):
        first, second = (bare, ours) if i % 2 == 0 else (ours, bare)
        a, b = first(i), second(i)
        b_s, o_s = (a, b) if first is bare else (b, a)
        bare_s.append(b_s)
        ours_s.append(o_s)
        ratios.append(o_s / b_s)
    return statistics.median(bare_s), statistics.median(ours_s), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="hub id or folder (default: the tiny MusicGen)")
    parser.add_argument("--duration", type=float, default=10.0, help="one-window seconds")
    parser.add_argument("--long", type=float, default=75.0, help="seconds past the window")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import AutoProcessor, MusicgenForConditionalGeneration
    from transformers.utils import logging as hf_logging

    from audiolab.generate import generate
    from audiolab.testing import tiny_musicgen

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as folder:
        model = args.model or str(tiny_musicgen(folder))
        network = MusicgenForConditionalGeneration.from_pretrained(model).eval()
        processor = AutoProcessor.from_pretrained(model)
        window = network.generation_config.max_length / network.config.audio_encoder.frame_rate
        generate("warm up", 0.5, model=model, seed=0, progress=False, device="cpu")
        bare_generate(network, processor, 0.5)
        name = "tiny MusicGen (random)" if args.model is None else args.model
        print(f"{name}, CPU, {torch.get_num_threads()} thread(s), torch {torch.__version__}")
        print(f"{args.rounds} alternating rounds a side, medians")

        bare_s, ours_s, ratio = paired(
            args.rounds,
            lambda i: bare_generate(network, processor, args.duration),
            lambda i: audiolab_generate(model, args.duration, i),
        )
        print(f"\none window, {args.duration:g} s of audio")
        print(f"  bare model.generate   {bare_s:7.2f} s")
        print(f"  audiolab.generate     {ours_s:7.2f} s")
        print(f"  overhead              {100 * (ratio - 1):+6.1f} %")

        bare_s, ours_s, ratio = paired(
            args.rounds,
            lambda i: bare_generate(network, processor, window) / window,
            lambda i: audiolab_generate(model, args.long, i) / args.long,
        )
        print(f"\npast the window: {args.long:g} s in {window:g} s windows (10 s overlap)")
        print(f"  bare, one window      {1000 * bare_s:7.1f} ms per generated second")
        print(f"  audiolab, windowed    {1000 * ours_s:7.1f} ms per generated second")
        print(f"  overhead              {100 * (ratio - 1):+6.1f} %")


if __name__ == "__main__":
    main()
