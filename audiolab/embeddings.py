"""Audio embeddings for the metrics: MusicGen's own EnCodec encoder, CLAP, or your own.

An :class:`Embedding` turns audio into a ``(frames, dim)`` array of vectors
and says which model made them, at which revision, so that every score
computed from it can be reproduced (:mod:`audiolab.evaluate` records both).

* ``"encodec"``: the continuous output of the EnCodec encoder inside a
  MusicGen checkpoint (before quantization), 50 vectors a second. It is
  loaded through :func:`audiolab.generate.load_musicgen`, the cache
  generation uses, so it works wherever generation works and costs no
  second copy of the model.
* ``"clap"``: the audio tower of a CLAP model (transformers ``ClapModel``,
  default ``laion/clap-htsat-unfused``), one unit vector per window of the
  model's length (10 s), windows laid end to end (deterministic, where the
  feature extractor alone would crop long clips at random).
* any callable ``f(audio, sample_rate) -> (frames, dim)``; give it
  ``model_id``, ``revision`` and ``sample_rate`` attributes to have them
  recorded and used.

Weights are read from a local folder or the Hugging Face cache; the hub is
asked only when it answers within a few seconds. Otherwise
:class:`~audiolab.errors.ModelNotAvailableError` says what to do.
:func:`audiolab.testing.tiny_clap` and :func:`audiolab.testing.tiny_musicgen`
save tiny random models that test the plumbing offline.

Examples
--------
>>> import numpy as np
>>> from audiolab.embeddings import embedding_for
>>> frames = embedding_for(lambda audio, sr: audio.T)  # any callable
>>> frames(np.ones((1, 4)), 8000).shape
(4, 1)
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiolab._audio import as_audio, check_sample_rate
from audiolab.errors import AudioError, ModelNotAvailableError

__all__ = [
    "DEFAULT_CLAP",
    "Embedding",
    "clap_embedding",
    "clap_text_embedding",
    "embedding_for",
    "encodec_embedding",
    "load_clap",
    "resample",
    "weights_revision",
]

DEFAULT_CLAP = "laion/clap-htsat-unfused"
_HUB_TIMEOUT_S = 5.0
_CLAP_CACHE: dict[tuple[str, str], tuple[Any, Any]] = {}
_REVISIONS: dict[tuple[str, float], str | None] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Embedding:
    """A way to turn audio into vectors, and the model it comes from.

    Attributes
    ----------
    name : str
        ``"encodec"``, ``"clap"`` or the callable's name.
    model : str or None
        Hub id or folder of the model.
    revision : str or None
        The hub commit, or ``sha256:...`` of a folder's weights.
    sample_rate : int or None
        The rate the model wants (audio is resampled to it); None: as given.
    mono : bool
        Whether channels are mixed to one first.
    function : callable
        ``function(audio (channels, samples), sample_rate) -> (frames, dim)``.
    """

    name: str
    model: str | None
    revision: str | None
    sample_rate: int | None
    mono: bool
    function: Callable[[np.ndarray, int], Any] = field(repr=False)

    def __call__(self, audio: Any, sample_rate: int) -> np.ndarray:
        """The vectors of ``audio``: float64 ``(frames, dim)``.

        Examples
        --------
        >>> import numpy as np
        >>> rms = lambda audio, sr: [[float(np.sqrt((audio**2).mean()))]]
        >>> e = Embedding("rms", None, None, None, True, rms)
        >>> e(np.ones((2, 100)), 8000)
        array([[1.]])
        """
        x = as_audio(audio, max_channels=2)
        rate = check_sample_rate(sample_rate)
        if self.mono and x.shape[0] > 1:
            x = x.mean(axis=0, keepdims=True)
        if self.sample_rate is not None and rate != self.sample_rate:
            x, rate = resample(x, rate, self.sample_rate), self.sample_rate
        vectors = np.asarray(self.function(x, rate), dtype=np.float64)
        if vectors.ndim == 1:
            vectors = vectors[np.newaxis, :]
        if vectors.ndim != 2 or vectors.size == 0 or not np.isfinite(vectors).all():
            raise AudioError(
                f"embedding {self.name!r} must give finite (frames, dim) vectors, "
                f"got shape {vectors.shape}"
            )
        return vectors


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Polyphase resampling (scipy's Kaiser-windowed FIR), ``(channels, samples)``.

    Parameters
    ----------
    audio : numpy.ndarray
        ``(channels, samples)``.
    sr_from, sr_to : int
        Hz.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> resample(np.zeros((1, 32000)), 32000, 48000).shape
    (1, 48000)
    """
    from scipy.signal import resample_poly

    common = math.gcd(sr_from, sr_to)
    return np.asarray(resample_poly(audio, sr_to // common, sr_from // common, axis=-1))


# ------------------------------------------------------------------ models
def weights_revision(model: str) -> str | None:
    """Which weights ``model`` names: the hub commit, or the sha256 of a folder's weights.

    A folder (``save_pretrained``) is identified by its weight files'
    content, so a score made with a retrained model never passes for one of
    the old. A hub id is identified by the commit of its local snapshot.

    Parameters
    ----------
    model : str
        Folder or hub id.

    Returns
    -------
    str or None
        ``"sha256:<16 hex digits>"``, a commit hash, or None when unknown.

    Examples
    --------
    >>> import hashlib, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "model.safetensors").write_bytes(b"weights")
    >>> weights_revision(str(folder)) == "sha256:" + hashlib.sha256(b"weights").hexdigest()[:16]
    True
    """
    folder = Path(model).expanduser()
    if folder.is_dir():
        files = sorted(
            p for p in folder.iterdir() if p.suffix in {".safetensors", ".bin"} and p.is_file()
        )
        if not files:
            return None
        stamp = max(p.stat().st_mtime for p in files)
        key = (str(folder.resolve()), stamp)
        with _LOCK:
            if key in _REVISIONS:
                return _REVISIONS[key]
        digest = hashlib.sha256()
        for path in files:
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        revision = f"sha256:{digest.hexdigest()[:16]}"
        with _LOCK:
            _REVISIONS[key] = revision
        return revision
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json")
    except Exception:  # not a hub id either
        return None
    if isinstance(found, str) and "/snapshots/" in Path(found).as_posix():
        return Path(found).as_posix().split("/snapshots/", 1)[1].split("/", 1)[0]
    return None


def _not_available(model: str, what: str, reason: str) -> ModelNotAvailableError:
    from huggingface_hub import constants

    return ModelNotAvailableError(
        f"{what} weights for {model!r} are not available: {reason}. They are looked for in a "
        f"local folder of that name and in the Hugging Face cache {str(constants.HF_HUB_CACHE)!r}. "
        f"To get them, run `hf download {model}` on a connected machine and copy "
        "the cache here, or pass model= a folder holding the model (save_pretrained; "
        "audiolab.testing.tiny_clap saves a tiny random one for tests)"
    )


def load_clap(model: str = DEFAULT_CLAP, *, device: str = "cpu") -> tuple[Any, Any]:
    """A CLAP model and its processor, loaded once per process.

    Parameters
    ----------
    model : str
        Hub id or folder.
    device : str
        torch device.

    Returns
    -------
    (ClapModel, ClapProcessor)

    Raises
    ------
    ModelNotAvailableError
        Neither a folder nor in the cache, and the hub cannot be reached.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_clap
    >>> network, processor = load_clap(str(tiny_clap(tempfile.mkdtemp())))
    >>> processor.feature_extractor.sampling_rate
    48000
    """
    key = (model, device)
    with _LOCK:
        if key in _CLAP_CACHE:
            return _CLAP_CACHE[key]
    from transformers import ClapModel, ClapProcessor
    from transformers.utils import logging as hf_logging

    folder = Path(model).expanduser()
    source = str(folder) if folder.is_dir() else model
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        try:
            network = ClapModel.from_pretrained(source, local_files_only=True)
            processor = ClapProcessor.from_pretrained(source, local_files_only=True)
        except (OSError, ValueError) as err:
            if folder.is_dir() or model.startswith((".", "/", "~")):
                raise _not_available(model, "CLAP", f"the folder holds no model ({err})") from None
            if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
                raise _not_available(
                    model, "CLAP", "not in the cache, and HF_HUB_OFFLINE is set"
                ) from None
            from huggingface_hub import HfApi

            try:
                HfApi().model_info(model, timeout=_HUB_TIMEOUT_S)
            except Exception as hub_error:
                raise _not_available(
                    model, "CLAP", f"not in the cache, and the hub did not answer ({hub_error})"
                ) from None
            network = ClapModel.from_pretrained(source)  # pragma: no cover - needs the hub
            processor = ClapProcessor.from_pretrained(source)  # pragma: no cover
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    loaded = (network.to(device).eval(), processor)  # type: ignore[arg-type]
    with _LOCK:
        _CLAP_CACHE[key] = loaded
    return loaded


def _pooled(output: Any) -> Any:
    """The embedding tensor of ``get_*_features`` (a tensor, or an output with pooler_output)."""
    return getattr(output, "pooler_output", output)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def encodec_embedding(model: Any = None, *, device: str = "cpu") -> Embedding:
    """MusicGen's EnCodec encoder as an embedding: 50 vectors a second.

    Parameters
    ----------
    model : str or MusicgenForConditionalGeneration or EncodecModel, optional
        Hub id or folder of a MusicGen checkpoint (default
        ``facebook/musicgen-small``), loaded through
        :func:`audiolab.generate.load_musicgen`; or a loaded model.
    device : str
        torch device.

    Returns
    -------
    Embedding

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from audiolab.testing import tiny_musicgen
    >>> encodec = encodec_embedding(str(tiny_musicgen(tempfile.mkdtemp())))
    >>> encodec(np.zeros(32000), 32000).shape  # 1 s: 50 frames of the tiny model's 16 values
    (50, 16)
    """
    from audiolab.generate import DEFAULT_MODEL, load_musicgen

    if model is None or isinstance(model, str):
        name = model or DEFAULT_MODEL
        network, _ = load_musicgen(name, device=device)
    else:
        network = model
        name = str(getattr(network, "name_or_path", "") or type(network).__name__)
    encoder = getattr(network, "audio_encoder", network)
    config = encoder.config
    channels = int(getattr(config, "audio_channels", 1))
    hop = int(np.prod(config.upsampling_ratios))

    def encode(audio: np.ndarray, sr: int) -> np.ndarray:
        import torch

        if audio.shape[1] < hop:
            raise AudioError(f"audio of {audio.shape[1]} samples is shorter than one EnCodec frame")
        x = torch.from_numpy(np.repeat(audio, channels, axis=0).astype(np.float32))[None]
        parameter = next(encoder.parameters())
        with torch.inference_mode():
            out = encoder.encoder(x.to(device=parameter.device, dtype=parameter.dtype))
        return out[0].T.to(dtype=torch.float64, device="cpu").numpy()

    return Embedding(
        "encodec", name, weights_revision(name), int(config.sampling_rate), True, encode
    )


def clap_embedding(model: str = DEFAULT_CLAP, *, device: str = "cpu") -> Embedding:
    """The audio tower of CLAP as an embedding: a unit vector per window (10 s for LAION's).

    Parameters
    ----------
    model : str
        Hub id or folder (default ``laion/clap-htsat-unfused``).
    device : str
        torch device.

    Returns
    -------
    Embedding

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from audiolab.testing import programme, tiny_clap
    >>> clap = clap_embedding(str(tiny_clap(tempfile.mkdtemp())))  # windows of 2 s
    >>> vectors = clap(programme(5.0, 16000), 16000)
    >>> vectors.shape, bool(np.allclose(np.linalg.norm(vectors, axis=1), 1.0))
    ((3, 16), True)
    """
    network, processor = load_clap(model, device=device)
    extractor = processor.feature_extractor
    rate = int(extractor.sampling_rate)
    window = round(float(extractor.max_length_s) * rate)

    def embed(audio: np.ndarray, sr: int) -> np.ndarray:
        import torch

        y = audio[0].astype(np.float32)
        starts = range(
            0, max(1, len(y) - rate // 2), window
        )  # a last piece under 0.5 s is left out
        pieces = [y[s : s + window] for s in starts]
        inputs = processor(audio=pieces, sampling_rate=rate, return_tensors="pt").to(device)
        with torch.inference_mode():
            vectors = _pooled(network.get_audio_features(**inputs))
        return _unit(vectors.to(dtype=torch.float64, device="cpu").numpy())

    return Embedding("clap", model, weights_revision(model), rate, True, embed)


def clap_text_embedding(
    prompt: str, model: str = DEFAULT_CLAP, *, device: str = "cpu"
) -> np.ndarray:
    """The unit vector of a text prompt in CLAP's joint space.

    Parameters
    ----------
    prompt : str
        The text.
    model : str
        Hub id or folder.
    device : str
        torch device.

    Returns
    -------
    numpy.ndarray
        ``(dim,)``, norm 1.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from audiolab.testing import tiny_clap
    >>> v = clap_text_embedding("techno drums", str(tiny_clap(tempfile.mkdtemp())))
    >>> v.shape, round(float(np.linalg.norm(v)), 6)
    ((16,), 1.0)
    """
    import torch

    if not isinstance(prompt, str) or not prompt.strip():
        raise AudioError(f"the prompt must be non-empty text, got {prompt!r}")
    network, processor = load_clap(model, device=device)
    inputs = processor(text=[prompt], return_tensors="pt", padding=True).to(device)
    with torch.inference_mode():
        vector = _pooled(network.get_text_features(**inputs))
    return _unit(vector.to(dtype=torch.float64, device="cpu").numpy()[0])


def embedding_for(embedding: Any, *, model: Any = None, device: str = "cpu") -> Embedding:
    """An :class:`Embedding` from a name (``"encodec"``, ``"clap"``) or a callable.

    Parameters
    ----------
    embedding : str or callable or Embedding
        What to use.
    model : str or model, optional
        The model of ``"encodec"`` or ``"clap"`` (their defaults otherwise).
    device : str
        torch device.

    Returns
    -------
    Embedding

    Examples
    --------
    >>> embedding_for("mfcc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.AudioError: embedding must be 'encodec', 'clap' or a callable ..., got 'mfcc'
    """
    if isinstance(embedding, Embedding):
        return embedding
    if embedding == "encodec":
        return encodec_embedding(model, device=device)
    if embedding == "clap":
        return clap_embedding(model or DEFAULT_CLAP, device=device)
    if callable(embedding):
        rate = getattr(embedding, "sample_rate", None)
        return Embedding(
            str(getattr(embedding, "__name__", type(embedding).__name__)),
            getattr(embedding, "model_id", None),
            getattr(embedding, "revision", None),
            None if rate is None else check_sample_rate(rate),
            bool(getattr(embedding, "mono", False)),
            embedding,
        )
    raise AudioError(
        "embedding must be 'encodec', 'clap' or a callable (audio, sample_rate) -> "
        f"(frames, dim), got {embedding!r}"
    )
