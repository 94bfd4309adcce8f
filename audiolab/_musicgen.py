"""Loading MusicGen checkpoints: the device, the dtype, the cache, and what was loaded.

One loaded model is a :class:`Loaded`: the network, its tokenizer, the facts
generation needs (sample rate, frame rate, codebooks, window) and the facts
provenance records (class, revision). :func:`load` keeps one per (model,
device, dtype) for the life of the process.

Two classes are told apart by the checkpoint's ``model_type``:
``MusicgenForConditionalGeneration`` (text, and an audio prompt) and
``MusicgenMelodyForConditionalGeneration`` (text, an audio prompt and a melody).
The text goes through the checkpoint's tokenizer; audio prompts and melodies
are prepared here (see :mod:`audiolab._windowed`), so nothing needs torchaudio.

Each loaded network decodes its takes one at a time
(:class:`TakeByTakeDecoder`): a take's samples then depend on its tokens
alone, not on how many takes shared the batch, and the tokens are kept for
windowed continuation (:mod:`audiolab._decoding`).

Examples
--------
>>> resolve_device("cpu"), resolve_dtype("auto", "cpu")
('cpu', 'float32')
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiolab._decoding import TakeByTakeDecoder
from audiolab.errors import AudioError, ModelNotAvailableError

__all__ = [
    "DEFAULT_WINDOW_S",
    "Loaded",
    "TakeByTakeDecoder",
    "check_available",
    "clear_cache",
    "load",
    "load_count",
    "model_available",
    "resolve_device",
    "resolve_dtype",
]

#: What MusicGen was trained on, and so the window when a checkpoint says nothing.
DEFAULT_WINDOW_S = 30.0
_HUB_TIMEOUT_S = 5.0
_DTYPES = ("float32", "float16", "bfloat16")
_DEFAULT_MAX_LENGTH = 20  # transformers' GenerationConfig default: "not set"

_CACHE: dict[tuple[str, str, str], Loaded] = {}
_LOADS = 0
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Loaded:
    """A loaded checkpoint and the facts generation and provenance need.

    Attributes
    ----------
    network : transformers model
        On its device, in eval mode, decoding through :class:`TakeByTakeDecoder`.
    tokenizer : transformers tokenizer
    model : str
        As asked (hub id or folder).
    revision : str or None
        The commit of the hub snapshot it came from, when known.
    model_class : str
        ``MusicgenForConditionalGeneration`` or ``MusicgenMelodyForConditionalGeneration``.
    device, dtype : str
    sample_rate : int
    frame_rate : float
        Codec frames a second.
    hop : int
        Samples a frame.
    codebooks : int
        Codebooks of one take (both channels for stereo).
    channels : int
        Audio channels (1, or 2 for the stereo checkpoints).
    window_frames : int
        Frames the model generates in one window (its training length).
    max_frames : int
        The most frames one window can hold (position embeddings).
    chroma : dict or None
        The melody models' chroma settings (``preprocessor_config.json``).
    """

    network: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    model: str
    revision: str | None
    model_class: str
    device: str
    dtype: str
    sample_rate: int
    frame_rate: float
    hop: int
    codebooks: int
    channels: int
    window_frames: int
    max_frames: int
    chroma: dict[str, Any] | None = None
    decoder: TakeByTakeDecoder | None = field(default=None, repr=False)

    @property
    def melody(self) -> bool:
        """Whether the model follows a melody."""
        return self.chroma is not None

    @property
    def delay(self) -> int:
        """Extra tokens a window needs: MusicGen delays codebook k of a channel by k steps."""
        return self.codebooks // self.channels - 1


def load_count() -> int:
    """How many times a model was loaded in this process (the cache's misses).

    Examples
    --------
    >>> load_count() >= 0
    True
    """
    return _LOADS


def clear_cache() -> None:
    """Forget the loaded models (the next generation loads again).

    Examples
    --------
    >>> clear_cache()
    """
    with _LOCK:
        _CACHE.clear()


def resolve_device(device: Any) -> str:
    """``"auto"`` (or None) as cuda, then mps, then cpu; any other name as given.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or device == "auto":
        import torch

        if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():  # pragma: no cover - no Apple GPU in CI
            return "mps"
        return "cpu"
    if not isinstance(device, str) or not device.strip():
        raise AudioError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
    return device


def resolve_dtype(dtype: Any, device: str) -> str | None:
    """The dtype's name: ``"auto"`` is float16 on cuda, float32 elsewhere; None keeps the saved one.

    Examples
    --------
    >>> resolve_dtype("auto", "cuda"), resolve_dtype("half", "cpu"), resolve_dtype(None, "cpu")
    ('float16', 'float16', None)
    """
    if dtype is None:
        return None
    if dtype == "auto":
        return "float16" if device.startswith("cuda") else "float32"
    if isinstance(dtype, str):
        name = {"half": "float16", "float": "float32"}.get(dtype, dtype)
    else:
        import torch

        name = str(dtype).replace("torch.", "") if isinstance(dtype, torch.dtype) else ""
    if name not in _DTYPES:
        raise AudioError(
            f"dtype must be 'auto', a torch float dtype or one of {', '.join(_DTYPES)}, "
            f"got {dtype!r}"
        )
    return name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _cache_folder() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _is_path(model: str) -> bool:
    return Path(model).expanduser().is_dir() or model.startswith((".", "/", "~"))


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
    if _is_path(model) or model.count("/") > 1:
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


def not_available(model: str, reason: str) -> ModelNotAvailableError:
    """The error for weights that are not here, naming the model, the cache and the way to get them.

    Examples
    --------
    >>> "hf download x/y" in str(not_available("x/y", "offline"))
    True
    """
    return ModelNotAvailableError(
        f"MusicGen weights for {model!r} are not available: {reason}. "
        f"They are looked for in a local folder of that name and in the Hugging Face cache "
        f"{_cache_folder()!r}. To get them, run `hf download {model}` on a "
        "connected machine and copy the cache here, or pass the path of a folder holding "
        "the model (save_pretrained) as model=..."
    )


def check_available(model: str) -> None:
    """Raise :class:`ModelNotAvailableError` at once when ``model`` can be neither read nor fetched.

    Without torch or transformers: a folder that is not there, a hub id not in
    the local cache with ``HF_HUB_OFFLINE`` set, or a hub that does not answer
    are said in well under a second, before the seconds of importing torch.

    Examples
    --------
    >>> try:
    ...     check_available("/no/such/folder")
    ... except ModelNotAvailableError as err:
    ...     print(str(err)[:60])
    MusicGen weights for '/no/such/folder' are not available: no
    """
    if model_available(model):
        return
    folder = Path(model).expanduser()
    if folder.is_dir():
        return  # a folder without config.json: loading says what is wrong with it
    if _is_path(model) or model.count("/") > 1:
        raise not_available(model, "no such folder")
    if _offline():
        raise not_available(model, "not in the local cache, and HF_HUB_OFFLINE is set")
    hub = _hub_reachable(model)
    if hub is not None:
        raise not_available(model, f"not in the local cache, and {hub}")


def _hub_reachable(model: str) -> str | None:
    """None when the hub answers for ``model`` within the timeout, else why not."""
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(model, timeout=_HUB_TIMEOUT_S)
    except Exception as err:
        return f"the Hugging Face hub did not answer ({type(err).__name__}: {str(err)[:200]})"
    return None


_SNAPSHOT = re.compile(r"[/\\]snapshots[/\\]([0-9a-f]{40})(?:[/\\]|$)")


def snapshot_revision(model: str) -> str | None:
    """The commit hash of the local hub snapshot ``model`` loads from, when there is one.

    A hub id resolves through the local cache; a folder counts when it is
    itself a snapshot folder of a hub cache (``.../snapshots/<commit>``).

    Examples
    --------
    >>> snapshot_revision("/cache/models--facebook--musicgen-small/snapshots/" + "ab" * 20)
    'abababababababababababababababababababab'
    >>> snapshot_revision("/tmp/my-model") is None
    True
    """
    where = str(Path(model).expanduser().resolve()) if _is_path(model) else None
    if where is None:
        from huggingface_hub import try_to_load_from_cache

        try:
            found = try_to_load_from_cache(model, "config.json")
        except Exception:
            found = None
        where = found if isinstance(found, str) else None
    if where is None:
        return None
    match = _SNAPSHOT.search(where)
    return match.group(1) if match else None


def _read_json(source: str, name: str) -> dict[str, Any] | None:
    """A JSON file of the checkpoint (folder or local cache), or None."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        path: Any = folder / name
    else:
        from huggingface_hub import try_to_load_from_cache

        try:
            path = try_to_load_from_cache(source, name)
        except Exception:
            path = None
        if not isinstance(path, str):
            return None
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _from_pretrained(model: str, dtype: str | None) -> tuple[Any, Any]:
    """(network, tokenizer) of ``model``: local files first, the hub when it answers."""
    import torch
    from transformers import (
        AutoConfig,
        AutoTokenizer,
        MusicgenForConditionalGeneration,
        MusicgenMelodyForConditionalGeneration,
    )

    folder = Path(model).expanduser()
    source = str(folder) if folder.is_dir() else model
    options = {} if dtype is None else {"dtype": getattr(torch, dtype)}

    def build(local: bool) -> tuple[Any, Any]:
        config = AutoConfig.from_pretrained(source, local_files_only=local)
        kind = getattr(config, "model_type", None)
        classes: dict[str, Any] = {
            "musicgen": MusicgenForConditionalGeneration,
            "musicgen_melody": MusicgenMelodyForConditionalGeneration,
        }
        if kind not in classes:
            raise AudioError(
                f"{model!r} is a {kind!r} checkpoint, not MusicGen "
                "(model_type 'musicgen' or 'musicgen_melody')"
            )
        network = classes[kind].from_pretrained(source, local_files_only=local, **options)
        return network, AutoTokenizer.from_pretrained(source, local_files_only=local)

    try:
        return build(local=True)
    except (OSError, ValueError) as err:
        if isinstance(err, AudioError):
            raise
        if _is_path(model):
            raise not_available(model, f"the folder does not hold a model ({err})") from None
        if _offline():
            why = "not in the local cache, and HF_HUB_OFFLINE is set"
            raise not_available(model, why) from None
        hub = _hub_reachable(model)
        if hub is not None:
            raise not_available(model, f"not in the local cache, and {hub}") from None
        return build(local=False)


def _facts(network: Any) -> dict[str, Any]:
    encoder = network.config.audio_encoder
    decoder = network.config.decoder
    sample_rate = int(encoder.sampling_rate)
    frame_rate = float(encoder.frame_rate)
    hop = round(sample_rate / frame_rate)
    codebooks = int(decoder.num_codebooks)
    channels = int(getattr(decoder, "audio_channels", 1))
    delay = codebooks // channels - 1
    max_frames = int(decoder.max_position_embeddings) - delay - 1
    max_length = getattr(network.generation_config, "max_length", None)
    if isinstance(max_length, int) and max_length > _DEFAULT_MAX_LENGTH:
        window = max_length
    else:  # the checkpoint does not say: MusicGen's 30 s
        window = round(DEFAULT_WINDOW_S * frame_rate)
    return {
        "sample_rate": sample_rate,
        "frame_rate": frame_rate,
        "hop": hop,
        "codebooks": codebooks,
        "channels": channels,
        "window_frames": min(window, max_frames),
        "max_frames": max_frames,
    }


def load(model: str, device: str, dtype: str | None) -> Loaded:
    """The checkpoint ``model`` on ``device`` in ``dtype``, loaded once per process.

    Raises
    ------
    ModelNotAvailableError
        The weights are not here and cannot be downloaded now.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_musicgen
    >>> loaded = load(str(tiny_musicgen(tempfile.mkdtemp())), "cpu", "float32")
    >>> loaded.sample_rate, loaded.frame_rate, loaded.window_frames, loaded.melody
    (32000, 50.0, 1500, False)
    """
    global _LOADS
    key = (model, device, str(dtype))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        check_available(model)
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # no load reports or bars in notebooks
        hf_logging.disable_progress_bar()
        try:
            network, tokenizer = _from_pretrained(model, dtype)
        finally:
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()
        network = network.to(device).eval()
        decoder = TakeByTakeDecoder(network.audio_encoder.decode)
        network.audio_encoder.decode = decoder
        source = str(Path(model).expanduser()) if _is_path(model) else model
        chroma = None
        if type(network).__name__.startswith("MusicgenMelody"):
            chroma = _read_json(source, "preprocessor_config.json") or {}
        loaded = Loaded(
            network=network,
            tokenizer=tokenizer,
            model=model,
            revision=snapshot_revision(model),
            model_class=type(network).__name__,
            device=device,
            dtype=str(network.dtype).replace("torch.", ""),
            chroma=chroma,
            decoder=decoder,
            **_facts(network),
        )
        _LOADS += 1
        _CACHE[key] = loaded
        return loaded
