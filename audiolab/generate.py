"""MusicGen through Hugging Face transformers, imported only when used.

:func:`generate` loads ``MusicgenForConditionalGeneration`` and its processor
with ``from_pretrained`` (a hub id or a local folder; cached per model, device
and dtype for the life of the process), asks for as many tokens as the
requested duration needs at the audio encoder's frame rate, and returns the
audio trimmed to the duration as a float32 CPU tensor, whatever the model's
dtype. Every result records its seed, so every result can be made again.

Weights that are not in the local cache and cannot be downloaded give a
:class:`ModelNotAvailableError` naming the model, the cache folder and how to
get the weights, quickly: the local cache is tried first, and the hub only when
it answers within a few seconds.

Examples
--------
>>> import tempfile
>>> from audiolab.generate import generate
>>> from audiolab.testing import tiny_musicgen
>>> folder = tiny_musicgen(tempfile.mkdtemp())  # a tiny random MusicGen, offline
>>> take = generate("lofi piano", 1.0, model=str(folder), seed=7, progress=False)
>>> take.audio.shape, take.sample_rate, take.seed
(torch.Size([1, 32000]), 32000, 7)
"""

from __future__ import annotations

import math
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from audiolab.errors import AudioError, ModelNotAvailableError

__all__ = [
    "DEFAULT_MODEL",
    "Generation",
    "ModelNotAvailableError",
    "clear_cache",
    "generate",
    "load_count",
    "load_musicgen",
    "model_available",
]

DEFAULT_MODEL = "facebook/musicgen-small"
MAX_DURATION_S = 300.0
_HUB_TIMEOUT_S = 5.0

_CACHE: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_LOADS = 0


@dataclass(frozen=True, eq=False)
class Generation:
    """One generated clip and everything needed to make it again.

    Attributes
    ----------
    audio : torch.Tensor
        float32 on the CPU, (channels, samples), trimmed to the duration asked for.
    sample_rate : int
    prompt : str
    model : str
        Hub id or folder it came from.
    seed : int
        The seed that reproduces it (on the same device; for a batch, the seed
        reproduces the whole batch).
    parameters : dict
        duration, guidance_scale, temperature, top_k, device, dtype, tokens.
    seconds : float
        Time spent generating (the batch's time, for a batch).

    Examples
    --------
    >>> import torch
    >>> take = Generation(torch.zeros(1, 32000), 32000, "p", "m", 1, {}, 0.5)
    >>> take.duration_seconds, take.to_dict()["channels"]
    (1.0, 1)
    """

    audio: Any = field(repr=False)
    sample_rate: int
    prompt: str
    model: str
    seed: int
    parameters: dict[str, Any]
    seconds: float

    @property
    def duration_seconds(self) -> float:
        """Length of the audio in seconds."""
        return int(self.audio.shape[-1]) / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        """Everything but the audio, JSON-safe.

        Examples
        --------
        >>> import torch
        >>> take = Generation(torch.zeros(2, 8), 8, "p", "m", 1, {"top_k": 250}, 0.1)
        >>> sorted(take.to_dict())[:4]
        ['channels', 'duration_seconds', 'model', 'parameters']
        """
        return {
            "prompt": self.prompt,
            "model": self.model,
            "seed": self.seed,
            "sample_rate": self.sample_rate,
            "channels": int(self.audio.shape[0]),
            "duration_seconds": self.duration_seconds,
            "parameters": dict(self.parameters),
            "seconds": self.seconds,
        }


def load_count() -> int:
    """How many times a model was loaded in this process (the cache's misses).

    Examples
    --------
    >>> load_count() >= 0
    True
    """
    return _LOADS


def clear_cache() -> None:
    """Forget the loaded models (the next :func:`generate` loads again).

    Examples
    --------
    >>> clear_cache()
    """
    _CACHE.clear()


def load_musicgen(
    model: str = DEFAULT_MODEL, *, device: str = "cpu", dtype: Any = None
) -> tuple[Any, Any]:
    """MusicGen's network and processor, from the cache :func:`generate` loads into.

    For code that needs the model itself (``audiolab.evaluate`` embeds audio
    with its EnCodec encoder) without a second copy in memory.

    Parameters
    ----------
    model : str
        Hub id or folder.
    device : str
        ``"cpu"``, ``"cuda"``...
    dtype : torch.dtype or str, optional
        As for :func:`generate`.

    Returns
    -------
    (MusicgenForConditionalGeneration, processor)

    Raises
    ------
    ModelNotAvailableError
        The weights are not here and cannot be downloaded now.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_musicgen
    >>> network, _ = load_musicgen(str(tiny_musicgen(tempfile.mkdtemp())))
    >>> network.config.audio_encoder.sampling_rate
    32000
    """
    return _load(model, device, _resolve_dtype(dtype))


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _cache_folder() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def model_available(model: str) -> bool:
    """Whether the weights of ``model`` are here: a local folder or the local hub cache.

    Never touches the network.

    Parameters
    ----------
    model : str
        Hub id (``"facebook/musicgen-small"``) or folder.

    Returns
    -------
    bool

    Examples
    --------
    >>> model_available("/no/such/folder")
    False
    """
    folder = Path(model).expanduser()
    if folder.is_dir():
        return (folder / "config.json").is_file()
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        return False  # a path that is not there, not a hub id
    from huggingface_hub import try_to_load_from_cache

    try:
        config = try_to_load_from_cache(model, "config.json")
        weights = [
            try_to_load_from_cache(model, n) for n in ("model.safetensors", "pytorch_model.bin")
        ]
    except Exception:  # an id the cache cannot even look up
        return False
    return isinstance(config, str) and any(isinstance(w, str) for w in weights)


def _not_available(model: str, reason: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"MusicGen weights for {model!r} are not available: {reason}. "
        f"They are looked for in a local folder of that name and in the Hugging Face cache "
        f"{_cache_folder()!r}. To get them, run `huggingface-cli download {model}` on a "
        "connected machine and copy the cache here, or pass the path of a folder holding "
        "the model (save_pretrained) as model=..."
    )


def _hub_reachable(model: str) -> str | None:
    """None when the hub answers for ``model`` within the timeout, else why not."""
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(model, timeout=_HUB_TIMEOUT_S)
    except Exception as err:
        return f"the Hugging Face hub did not answer ({type(err).__name__}: {str(err)[:200]})"
    return None


def _resolve_dtype(dtype: Any) -> Any:
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "float16": torch.float16, "half": torch.float16}
    names["bfloat16"] = torch.bfloat16
    if isinstance(dtype, str) and dtype in names:
        return names[dtype]
    raise AudioError(
        f"dtype must be a torch float dtype or one of {', '.join(names)}, got {dtype!r}"
    )


def _load(model: str, device: str, dtype: Any) -> tuple[Any, Any]:
    global _LOADS
    key = (model, device, str(dtype))
    if key in _CACHE:
        return _CACHE[key]
    from transformers import AutoProcessor, MusicgenForConditionalGeneration
    from transformers.utils import logging as hf_logging

    folder = Path(model).expanduser()
    source = str(folder) if folder.is_dir() else model
    options = {} if dtype is None else {"dtype": dtype}
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no load reports or bars in notebooks
    hf_logging.disable_progress_bar()
    try:
        try:
            network = MusicgenForConditionalGeneration.from_pretrained(
                source, local_files_only=True, **options
            )
            processor = AutoProcessor.from_pretrained(source, local_files_only=True)
        except (OSError, ValueError) as err:
            if folder.is_dir() or model.startswith((".", "/", "~")):
                raise _not_available(model, f"the folder does not hold a model ({err})") from None
            if _offline():
                raise _not_available(
                    model, "not in the local cache, and HF_HUB_OFFLINE is set"
                ) from None
            why = _hub_reachable(model)
            if why is not None:
                raise _not_available(model, f"not in the local cache, and {why}") from None
            network = MusicgenForConditionalGeneration.from_pretrained(source, **options)
            processor = AutoProcessor.from_pretrained(source)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    network = network.to(device).eval()  # type: ignore[arg-type]
    _LOADS += 1
    _CACHE[key] = (network, processor)
    return network, processor


def _check(
    prompts: list[Any], duration: Any, guidance_scale: Any, temperature: Any, top_k: Any
) -> None:
    if not prompts:
        raise AudioError("no prompt given: pass a prompt or a list of prompts")
    for prompt in prompts:
        if not isinstance(prompt, str) or not prompt.strip():
            raise AudioError(f"a prompt must be non-empty text, got {prompt!r}")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise AudioError(f"duration must be a number of seconds, got {duration!r}")
    if not 0 < duration <= MAX_DURATION_S:
        raise AudioError(
            f"duration must be more than 0 and at most {MAX_DURATION_S:g} s, got {duration!r}"
        )
    for name, value, low in (
        ("guidance_scale", guidance_scale, 0.0),
        ("temperature", temperature, 1e-6),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
            raise AudioError(f"{name} must be a number of at least {low:g}, got {value!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise AudioError(f"top_k must be a non-negative integer, got {top_k!r}")


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ipython = shell.get_ipython()
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


def _progress_processor(total: int, desc: str) -> Any:
    """A LogitsProcessor that ticks a progress bar once per generated token."""
    from tqdm.auto import tqdm
    from transformers import LogitsProcessor

    class Tick(LogitsProcessor):
        def __init__(self) -> None:
            self.bar = tqdm(total=total, desc=desc, unit="token", leave=False)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            self.bar.update()
            return scores

    return Tick()


@overload
def generate(
    prompt_or_prompts: str,
    duration: float = ...,
    *,
    model: str = ...,
    seed: int | None = ...,
    guidance_scale: float = ...,
    temperature: float = ...,
    top_k: int = ...,
    device: str | None = ...,
    dtype: Any = ...,
    progress: bool = ...,
) -> Generation: ...


@overload
def generate(
    prompt_or_prompts: list[str],
    duration: float = ...,
    *,
    model: str = ...,
    seed: int | None = ...,
    guidance_scale: float = ...,
    temperature: float = ...,
    top_k: int = ...,
    device: str | None = ...,
    dtype: Any = ...,
    progress: bool = ...,
) -> list[Generation]: ...


def generate(
    prompt_or_prompts: str | list[str],
    duration: float = 8.0,
    *,
    model: str = DEFAULT_MODEL,
    seed: int | None = None,
    guidance_scale: float = 3.0,
    temperature: float = 1.0,
    top_k: int = 250,
    device: str | None = None,
    dtype: Any = None,
    progress: bool = True,
) -> Generation | list[Generation]:
    """Generate music from text with MusicGen.

    Parameters
    ----------
    prompt_or_prompts : str or list of str
        One prompt, or several generated together as a batch.
    duration : float
        Seconds of audio (more than 0, at most 300); the result is trimmed to it.
    model : str
        Hub id (default ``facebook/musicgen-small``) or a folder holding a model.
    seed : int, optional
        Makes the result reproducible on the same device; default: a random
        seed, recorded in the result.
    guidance_scale : float
        Classifier-free guidance (above 1 runs the batch twice internally).
    temperature : float
        Sampling temperature.
    top_k : int
        Sample from the k most likely tokens (0: all).
    device : str, optional
        ``"cuda"`` when available, else ``"cpu"``.
    dtype : torch.dtype or str, optional
        The model's dtype (``"float16"``, ``"bfloat16"``); default as saved.
    progress : bool
        A progress bar over tokens, in a terminal or a notebook.

    Returns
    -------
    Generation or list of Generation
        A list when a list of prompts was given. The audio is float32 on the CPU.

    Raises
    ------
    ModelNotAvailableError
        The weights are not here and cannot be downloaded now.
    AudioError
        Empty prompt, bad duration or sampling parameters.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_musicgen
    >>> folder = str(tiny_musicgen(tempfile.mkdtemp(), stereo=True))
    >>> a, b = generate(["techno", "ambient pads"], 0.5, model=folder, seed=1, progress=False)
    >>> a.audio.shape, a.audio.dtype, b.prompt
    (torch.Size([2, 16000]), torch.float32, 'ambient pads')
    """
    prompts = [prompt_or_prompts] if isinstance(prompt_or_prompts, str) else list(prompt_or_prompts)
    _check(prompts, duration, guidance_scale, temperature, top_k)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise AudioError(f"seed must be a non-negative integer, got {seed!r}")
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = _resolve_dtype(dtype)
    network, processor = _load(model, device, dtype)
    encoder = network.config.audio_encoder
    sr = int(encoder.sampling_rate)
    frames = math.ceil(duration * encoder.frame_rate)
    decoder = network.config.decoder
    # MusicGen delays codebook k by k steps: the last frame needs that many more tokens.
    tokens = frames + decoder.num_codebooks // decoder.audio_channels - 1
    seed = secrets.randbelow(2**31) if seed is None else seed
    inputs = processor(text=prompts, padding=True, return_tensors="pt").to(device)
    options: dict[str, Any] = {}
    if progress and (sys.stderr.isatty() or _in_notebook()):
        from transformers import LogitsProcessorList

        options["logits_processor"] = LogitsProcessorList([_progress_processor(tokens, "MusicGen")])
    torch.manual_seed(seed)
    if device.startswith("cuda"):  # pragma: no cover - no GPU in CI
        torch.cuda.manual_seed_all(seed)
    started = time.perf_counter()
    with torch.inference_mode():
        output = network.generate(
            **inputs,
            do_sample=True,
            guidance_scale=guidance_scale,
            temperature=temperature,
            top_k=top_k,
            max_new_tokens=tokens,
            **options,
        )
    seconds = time.perf_counter() - started
    if "logits_processor" in options:
        options["logits_processor"][0].bar.close()
    samples = round(duration * sr)
    audio = output[..., :samples].to(device="cpu", dtype=torch.float32)
    parameters = {
        "duration": float(duration),
        "guidance_scale": float(guidance_scale),
        "temperature": float(temperature),
        "top_k": int(top_k),
        "device": device,
        "dtype": str(network.dtype).replace("torch.", ""),
        "tokens": tokens,
    }
    takes = [
        Generation(audio[i].contiguous(), sr, prompt, model, seed, dict(parameters), seconds)
        for i, prompt in enumerate(prompts)
    ]
    return takes[0] if isinstance(prompt_or_prompts, str) else takes
