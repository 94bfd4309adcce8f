"""Sampling MusicGen's tokens with one random stream per take.

transformers samples a batch from torch's one global generator, so a take's
tokens depend on which takes shared its batch, and no seed reproduces one take
alone (audiocraft #402, #111, #373 are this). :class:`SeededSampler` is a
logits processor that samples every take from its own ``torch.Generator``,
seeded with that take's seed: take ``i`` of a batch is the take that
``seed=seeds[i]`` gives alone, token for token.

It does what the sampling step does (classifier-free guidance, temperature,
top-k, top-p, a draw from what is left) by the Gumbel-max rule: the token
maximising ``logit + Gumbel noise`` is a draw from ``softmax(logit)``. It
returns scores in which only the drawn token is possible, so that
``generate(do_sample=False)`` takes exactly that token and the global
generator is never used.

Examples
--------
>>> import torch
>>> sampler = SeededSampler([7], rows_per_take=1, guidance_scale=1.0, top_k=2)
>>> scores = sampler(torch.zeros(1, 1, dtype=torch.long), torch.tensor([[0.0, 5.0, 4.0, -9.0]]))
>>> int(scores.argmax()) in (1, 2)
True
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["SeededSampler", "in_notebook", "progress_processor", "show_progress"]


def _processor_base() -> Any:
    from transformers import LogitsProcessor

    return LogitsProcessor


class SeededSampler:
    """A logits processor drawing each take's tokens from its own seeded generator.

    Parameters
    ----------
    seeds : sequence of int
        One per take, in batch order.
    rows_per_take : int
        Score rows of one take (its codebooks).
    guidance_scale : float
        Classifier-free guidance: applied here when the scores still hold the
        unconditional half (then both halves get the drawn token, so the
        guidance that transformers applies after is a no-op).
    temperature : float
    top_k : int
        0: no top-k cut.
    top_p : float
        0: no nucleus cut; else keep the most likely tokens whose mass reaches it.
    device : str

    Examples
    --------
    >>> import torch
    >>> a = SeededSampler([1, 2], rows_per_take=1, guidance_scale=1.0, top_k=0)
    >>> b = SeededSampler([2], rows_per_take=1, guidance_scale=1.0, top_k=0)
    >>> logits = torch.randn(2, 50)
    >>> picks = a(torch.zeros(2, 1, dtype=torch.long), logits).argmax(-1)
    >>> bool(picks[1] == b(torch.zeros(1, 1, dtype=torch.long), logits[1:]).argmax(-1)[0])
    True
    """

    def __init__(
        self,
        seeds: Sequence[int],
        *,
        rows_per_take: int,
        guidance_scale: float,
        temperature: float = 1.0,
        top_k: int = 250,
        top_p: float = 0.0,
        device: str = "cpu",
    ) -> None:
        import torch

        self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
        self.rows_per_take = rows_per_take
        self.guidance_scale = float(guidance_scale)
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.top_p = float(top_p)
        self.device = device
        self.steps = 0

    def _uniform(self, width: int) -> Any:
        import torch

        shape = (self.rows_per_take, width)
        draws = [
            torch.rand(shape, generator=g, device=self.device, dtype=torch.float32)
            for g in self.generators
        ]
        return draws[0] if len(draws) == 1 else torch.cat(draws)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        """Scores in which only each row's drawn token is possible."""
        import torch

        rows = int(input_ids.shape[0])
        logits = scores.float()
        guided = logits.shape[0] == 2 * rows
        if guided:  # conditional half first, as MusicGen builds the batch
            conditional, unconditional = logits.split(rows)
            logits = unconditional + (conditional - unconditional) * self.guidance_scale
        if self.temperature != 1.0:
            logits = logits / self.temperature
        index = None
        if 0 < self.top_k < logits.shape[-1]:
            logits, index = logits.topk(self.top_k)  # sorted, most likely first
        elif self.top_p > 0:
            logits, index = logits.sort(descending=True)
        if 0 < self.top_p < 1:
            probs = logits.softmax(-1)
            before = probs.cumsum(-1) - probs  # mass of the more likely tokens
            logits = logits.masked_fill(before >= self.top_p, -math.inf)
        uniform = self._uniform(int(logits.shape[-1])).clamp_(min=1e-20)
        pick = (logits - torch.log(-torch.log(uniform))).argmax(-1, keepdim=True)
        token = pick if index is None else index.gather(-1, pick)
        low = torch.finfo(scores.dtype).min
        out = torch.full((rows, scores.shape[-1]), low, dtype=scores.dtype, device=scores.device)
        out.scatter_(1, token, 0.0)
        self.steps += 1
        return torch.cat([out, out]) if guided else out


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel.

    Examples
    --------
    >>> in_notebook()
    False
    """
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ipython = shell.get_ipython()
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


def show_progress(progress: bool) -> bool:
    """Whether to draw a bar: asked for, and a terminal or a notebook to draw it in.

    Examples
    --------
    >>> show_progress(False)
    False
    """
    return bool(progress) and (sys.stderr.isatty() or in_notebook())


def progress_processor(total: int, desc: str) -> Any:
    """A logits processor that ticks a progress bar once per generated token.

    Examples
    --------
    >>> import torch
    >>> tick = progress_processor(3, "MusicGen")
    >>> _ = tick(None, torch.zeros(1, 2)); tick.bar.n
    1
    >>> tick.bar.close()
    """
    from tqdm.auto import tqdm

    class Tick(_processor_base()):  # type: ignore[misc]
        def __init__(self) -> None:
            self.bar = tqdm(total=total, desc=desc, unit="token", leave=False)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            self.bar.update()
            return scores

    return Tick()
