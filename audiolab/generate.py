"""MusicGen through Hugging Face transformers, imported only when used.

:func:`generate` makes takes from text, and from text with an audio prompt to
continue (``audio_prompt=``) or a melody to follow (``melody=``, with a
MusicGen-Melody checkpoint). Takes longer than the model's window (30 s) are
generated window by window, each conditioned on the last ``overlap_s`` of the
one before, and crossfaded at the seams (``Generation.seams_s``). ``n`` takes
of a prompt are generated as one batch, each from its own seed: take ``i`` is
what ``seed=seeds[i]`` gives alone, sample for sample.

Every :class:`Generation` carries its provenance in ``parameters``: the model
and its revision, the audiolab, transformers, torch and Python versions, the
device and dtype, every sampling setting, the seeds, the windows and seams,
and each audio input by its SHA-256 (and catalog job id). That is what
:meth:`audiolab.store.Store.regenerate` reads to make a take again.

Checkpoints load with ``from_pretrained`` (a hub id or a local folder; cached
per model, device and dtype for the life of the process, see
:mod:`audiolab._musicgen`). Weights that are not here and cannot be
downloaded give a :class:`ModelNotAvailableError` naming the model, the cache
folder and how to get the weights, within seconds.

Examples
--------
>>> import tempfile
>>> from audiolab.generate import generate
>>> from audiolab.testing import tiny_musicgen
>>> folder = tiny_musicgen(tempfile.mkdtemp())  # a tiny random MusicGen, offline
>>> take = generate("lofi piano", 1.0, model=str(folder), seed=7, progress=False)
>>> take.audio.shape, take.sample_rate, take.seed
(torch.Size([1, 32000]), 32000, 7)
>>> longer = generate("lofi piano", 2.0, audio_prompt=take, seed=8, progress=False,
...                   model=str(folder))
>>> longer.duration_seconds, longer.seams_s
(3.0, (1.0,))
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from audiolab._musicgen import clear_cache, load_count, model_available
from audiolab._settings import MAX_DURATION_S as MAX_DURATION_S
from audiolab._settings import check_settings, windows
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
    "preload",
]

DEFAULT_MODEL = "facebook/musicgen-small"
#: The sampling rule, recorded so that a take is remade by the same one.
SAMPLER = "audiolab.seeded-gumbel/1"


@dataclass(frozen=True, eq=False)
class Generation:
    """One generated take and everything needed to make it again.

    Attributes
    ----------
    audio : torch.Tensor
        float32 on the CPU, (channels, samples): the audio prompt (unless
        ``include_prompt=False``), then ``duration`` seconds of new audio.
    sample_rate : int
    prompt : str
    model : str
        Hub id or folder it came from.
    seed : int
        This take's seed: ``generate(prompt, ..., seed=seed)`` makes it again
        alone, on the same device and versions.
    parameters : dict
        The provenance: every setting, versions, revision, inputs' SHA-256
        (see :func:`generate`).
    seconds : float
        Time spent generating (the batch's time, for a batch).
    seams_s : tuple of float
        Where generated audio joins what came before: the end of the audio
        prompt and each window's start, in seconds from the start of ``audio``.

    Examples
    --------
    >>> import torch
    >>> take = Generation(torch.zeros(1, 32000), 32000, "p", "m", 1, {}, 0.5)
    >>> take.duration_seconds, take.to_dict()["channels"], take.seams_s
    (1.0, 1, ())
    """

    audio: Any = field(repr=False)
    sample_rate: int
    prompt: str
    model: str
    seed: int
    parameters: dict[str, Any]
    seconds: float
    seams_s: tuple[float, ...] = ()

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
        from audiolab._json import json_safe

        return {
            "prompt": self.prompt,
            "model": self.model,
            "seed": self.seed,
            "sample_rate": self.sample_rate,
            "channels": int(self.audio.shape[0]),
            "duration_seconds": self.duration_seconds,
            "seams_s": list(self.seams_s),
            "parameters": json_safe(dict(self.parameters)),
            "seconds": self.seconds,
        }


def preload(
    model: str = DEFAULT_MODEL, *, device: str | None = "auto", dtype: Any = "auto"
) -> None:
    """Load a checkpoint now (once per process), so that a missing one fails before any work.

    :func:`generate` loads the same way; :meth:`audiolab.store.Store.generate`
    calls this first, so that a model that cannot be loaded leaves no row behind.

    Raises
    ------
    ModelNotAvailableError
        The weights are not here and cannot be downloaded now.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_musicgen
    >>> preload(str(tiny_musicgen(tempfile.mkdtemp())))
    """
    from audiolab import _musicgen

    _musicgen.check_available(model)  # before torch is imported: missing weights said at once
    place = _musicgen.resolve_device(device)
    _musicgen.load(model, place, _musicgen.resolve_dtype(dtype, place))


def load_musicgen(
    model: str = DEFAULT_MODEL, *, device: str | None = "cpu", dtype: Any = None
) -> tuple[Any, Any]:
    """MusicGen's network and tokenizer, from the cache :func:`generate` loads into.

    For code that needs the model itself (``audiolab.evaluate`` embeds audio
    with its EnCodec encoder) without a second copy in memory.

    Parameters
    ----------
    model : str
        Hub id or folder.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"auto"``...
    dtype : torch.dtype or str, optional
        As for :func:`generate` (None: as saved).

    Returns
    -------
    (MusicgenForConditionalGeneration, tokenizer)

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
    from audiolab import _musicgen

    place = _musicgen.resolve_device(device)
    loaded = _musicgen.load(model, place, _musicgen.resolve_dtype(dtype, place))
    return loaded.network, loaded.tokenizer


def _fit(audio: Any, rate: int, target_rate: int, channels: int) -> Any:
    """Conditioning audio at the model's rate and channel count."""
    from audiolab._windowed import resample

    if audio.shape[0] != channels:  # mono to stereo by copying, stereo to mono by the mean
        audio = audio.mean(axis=0, keepdims=True) if channels == 1 else audio.repeat(2, axis=0)
    return resample(audio, rate, target_rate)


@overload
def generate(  # type: ignore[overload-overlap]  # n=1 of one prompt: one take
    prompt_or_prompts: str,
    duration: float = ...,
    *,
    model: str = ...,
    seed: int | None = ...,
    audio_prompt: Any = ...,
    melody: Any = ...,
    n: Literal[1] = ...,
    include_prompt: bool = ...,
    guidance_scale: float = ...,
    temperature: float = ...,
    top_k: int = ...,
    top_p: float = ...,
    device: str | None = ...,
    dtype: Any = ...,
    window_s: float | None = ...,
    overlap_s: float = ...,
    crossfade_s: float = ...,
    progress: bool = ...,
) -> Generation: ...


@overload
def generate(
    prompt_or_prompts: str | list[str],
    duration: float = ...,
    *,
    model: str = ...,
    seed: int | None = ...,
    audio_prompt: Any = ...,
    melody: Any = ...,
    n: int = ...,
    include_prompt: bool = ...,
    guidance_scale: float = ...,
    temperature: float = ...,
    top_k: int = ...,
    top_p: float = ...,
    device: str | None = ...,
    dtype: Any = ...,
    window_s: float | None = ...,
    overlap_s: float = ...,
    crossfade_s: float = ...,
    progress: bool = ...,
) -> list[Generation]: ...


def generate(
    prompt_or_prompts: str | list[str],
    duration: float = 8.0,
    *,
    model: str = DEFAULT_MODEL,
    seed: int | None = None,
    audio_prompt: Any = None,
    melody: Any = None,
    n: int = 1,
    include_prompt: bool = True,
    guidance_scale: float = 3.0,
    temperature: float = 1.0,
    top_k: int = 250,
    top_p: float = 0.0,
    device: str | None = "auto",
    dtype: Any = "auto",
    window_s: float | None = None,
    overlap_s: float = 10.0,
    crossfade_s: float = 0.1,
    progress: bool = True,
) -> Generation | list[Generation]:
    """Generate music with MusicGen: from text, continuing audio, following a melody.

    Parameters
    ----------
    prompt_or_prompts : str or list of str
        One prompt, or several generated together as a batch.
    duration : float
        Seconds of new audio (more than 0, at most 300); the result is trimmed
        to it (plus the audio prompt, when it is included).
    model : str
        Hub id (default ``facebook/musicgen-small``) or a folder holding a
        model; a MusicGen-Melody checkpoint for ``melody``.
    seed : int, optional
        The first take's seed; take ``i`` of the batch gets ``seed + i``.
        Default: a random seed, recorded in each take.
    audio_prompt : (audio, sample_rate), path, Generation or catalog Record, optional
        Audio to continue: the model hears its last ``overlap_s`` seconds
        (all of it when shorter), at the model's rate (resampled) and channels.
    melody : (audio, sample_rate), path, Generation or catalog Record, optional
        A melody to follow (MusicGen-Melody only), starting with the first new
        sample: each window gets the chroma of its span of the melody, which
        repeats when shorter than the take.
    n : int
        Takes per prompt, generated as one batch.
    include_prompt : bool
        Whether the result starts with the audio prompt (its samples as given,
        up to the crossfade at its end).
    guidance_scale : float
        Classifier-free guidance (above 1 runs the batch twice internally).
    temperature : float
        Sampling temperature (more than 0).
    top_k : int
        Sample from the k most likely tokens (0: no cut).
    top_p : float
        Sample from the most likely tokens whose probability reaches it (0: no cut).
    device : str
        ``"auto"``: cuda, then mps, then cpu; or a torch device name.
    dtype : str or torch.dtype
        ``"auto"``: float16 on cuda, float32 elsewhere; ``"bfloat16"``, ...;
        None: as saved.
    window_s : float, optional
        Seconds one window generates; default the model's (30 s).
    overlap_s : float
        Seconds of the previous window (or of the audio prompt) each window is
        conditioned on.
    crossfade_s : float
        Length of the raised-cosine crossfade ending at each seam.
    progress : bool
        A progress bar over tokens, in a terminal or a notebook.

    Returns
    -------
    Generation or list of Generation
        One take for one prompt and ``n=1``; else a list, prompt by prompt,
        ``n`` takes each. The audio is float32 on the CPU. ``parameters`` holds
        ``duration``, ``n``, ``include_prompt``, ``guidance_scale``,
        ``temperature``, ``top_k``, ``top_p``, ``seed``, ``seeds`` (the batch's),
        ``take`` (the index in it), ``sampler``, ``device``, ``dtype``,
        ``window_s``, ``overlap_s``, ``crossfade_s``, ``windows``, ``seams_s``,
        ``tokens``, ``model``, ``model_revision``, ``model_class``,
        ``audiolab_version``, ``transformers_version``, ``torch_version``,
        ``python_version``, and ``audio_prompt`` and ``melody`` (None, or
        ``source``, ``sha256``, ``path``, ``job_id``, ``sample_rate``,
        ``channels``, ``seconds``).

    Raises
    ------
    ModelNotAvailableError
        The weights are not here and cannot be downloaded now.
    AudioError
        Empty prompt, bad duration or sampling parameters, a melody for a
        model that cannot follow one, unreadable or bad conditioning audio.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import tiny_musicgen
    >>> folder = str(tiny_musicgen(tempfile.mkdtemp(), stereo=True))
    >>> a, b = generate("techno", 0.5, n=2, model=folder, seed=1, progress=False)
    >>> a.audio.shape, a.audio.dtype, (a.seed, b.seed)
    (torch.Size([2, 16000]), torch.float32, (1, 2))
    >>> import torch
    >>> torch.equal(b.audio, generate("techno", 0.5, model=folder, seed=2, progress=False).audio)
    True
    """
    prompts = [prompt_or_prompts] if isinstance(prompt_or_prompts, str) else list(prompt_or_prompts)
    n, guidance_scale, temperature, top_k, top_p, overlap_s, crossfade_s = check_settings(
        prompts, duration, n=n, seed=seed, guidance_scale=guidance_scale,
        temperature=temperature, top_k=top_k, top_p=top_p, overlap_s=overlap_s,
        crossfade_s=crossfade_s, include_prompt=include_prompt,
    )  # fmt: skip
    from audiolab import _musicgen, _provenance, _windowed

    _musicgen.check_available(model)  # missing weights are said before torch is imported
    prompt_audio = melody_audio = None
    prompt_info = melody_info = None
    if audio_prompt is not None:
        prompt_audio, prompt_rate, prompt_info = _provenance.read_conditioning(
            audio_prompt, "audio_prompt"
        )
    if melody is not None:
        melody_audio, melody_rate, melody_info = _provenance.read_conditioning(melody, "melody")
    place = _musicgen.resolve_device(device)
    loaded = _musicgen.load(model, place, _musicgen.resolve_dtype(dtype, place))
    if melody is not None and not loaded.melody:
        raise AudioError(
            f"{model!r} is a {loaded.model_class}, which cannot follow a melody: use a "
            "MusicGen-Melody checkpoint (such as facebook/musicgen-melody) or drop melody="
        )
    window, overlap, crossfade = windows(loaded, window_s, overlap_s, crossfade_s)
    if prompt_audio is not None:
        prompt_audio = _fit(prompt_audio, prompt_rate, loaded.sample_rate, loaded.channels)
    if melody_audio is not None:
        rate = int((loaded.chroma or {}).get("sampling_rate", loaded.sample_rate))
        melody_audio = _fit(melody_audio, melody_rate, rate, 1)[0]
    first = secrets.randbelow(2**31) if seed is None else seed
    batch = [p for p in prompts for _ in range(n)]
    seeds = [first + i for i in range(len(batch))]
    request = _windowed.Request(
        prompts=batch,
        seeds=seeds,
        frames=math.ceil(duration * loaded.frame_rate - 1e-9),
        samples=round(duration * loaded.sample_rate),
        window=window,
        overlap=overlap,
        crossfade=crossfade,
        guidance_scale=guidance_scale,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        prompt_audio=prompt_audio,
        include_prompt=include_prompt,
        melody=melody_audio,
        progress=progress,
    )
    result = _windowed.run(loaded, request)
    sr = loaded.sample_rate
    seams_s = tuple(position / sr for position in result.seams)
    if prompt_audio is not None and include_prompt:  # the prompt's own seams come along
        end = prompt_audio.shape[-1] / sr
        inherited = [float(t) for t in (prompt_info or {}).get("seams_s") or [] if 0 < t < end]
        seams_s = (*inherited, *seams_s)
    parameters = {
        "duration": float(duration),
        "n": n,
        "include_prompt": include_prompt,
        "guidance_scale": guidance_scale,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "sampler": SAMPLER,
        "seeds": seeds,
        "device": loaded.device,
        "dtype": loaded.dtype,
        "window_s": window / loaded.frame_rate,
        "overlap_s": overlap / loaded.frame_rate,
        "crossfade_s": crossfade / sr,
        "windows": len(result.windows),
        "seams_s": list(seams_s),
        "tokens": result.tokens,
        "model": model,
        "model_revision": loaded.revision,
        "model_class": loaded.model_class,
        **_provenance.versions(),
        "audio_prompt": prompt_info,
        "melody": melody_info,
    }
    takes = [
        Generation(
            result.audio[i].contiguous(),
            sr,
            prompt,
            model,
            seeds[i],
            {**parameters, "seed": seeds[i], "take": i},
            result.seconds,
            seams_s,
        )
        for i, prompt in enumerate(batch)
    ]
    return takes[0] if isinstance(prompt_or_prompts, str) and n == 1 else takes
