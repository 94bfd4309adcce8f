"""Windowed generation: takes past the model's window, continuations and melodies.

MusicGen generates at most one window (30 s) of tokens at a time. A longer
take is generated the way audiocraft's ``extend_stride`` does it: each window
after the first is conditioned on the last ``overlap`` frames of *tokens* of
the one before (the tokens themselves, not a re-encoding of their audio), and
generates the rest of its window. The windows' audio is joined at each seam
(where a window's new audio starts) by a raised-cosine crossfade of
``crossfade`` samples ending at the seam, from the previous window's audio to
the new window's decoding of the same tokens, so no seam clicks.

A continuation is the same with the audio prompt as the first context: its
last ``overlap`` seconds are encoded with the model's own EnCodec and the
prompt's samples are kept as given, up to the crossfade into the model's
audio at the prompt's end.

A melody conditions every window with the chroma of its own span of the
melody (the melody repeats when shorter than the take), as audiocraft does; the
chroma is computed as transformers' ``MusicgenMelodyFeatureExtractor``
computes it (the same STFT, filter bank and one-hot of the strongest pitch
class), without torchaudio.

Examples
--------
>>> plan(frames=3750, window=1500, overlap=500)  # 75 s at 50 frames a second
[(0, 1500), (500, 1000), (500, 1000), (500, 250)]
>>> plan(frames=100, window=1500, overlap=500, prompt=200)  # a continuation
[(200, 100)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audiolab.errors import AudioError

__all__ = ["Request", "Result", "chroma", "plan", "resample", "run"]


def plan(frames: int, window: int, overlap: int, prompt: int = 0) -> list[tuple[int, int]]:
    """The windows of a take: ``(context frames, new frames)`` each.

    Parameters
    ----------
    frames : int
        New frames to generate.
    window : int
        Frames a window holds (context and new).
    overlap : int
        Frames of context a window after the first gets (less when fewer exist).
    prompt : int
        Frames of the audio prompt's context (0: none).

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> plan(10, window=4, overlap=2)
    [(0, 4), (2, 2), (2, 2), (2, 2)]
    """
    if not 0 <= overlap < window:
        raise AudioError(f"the overlap must be shorter than the window: {overlap} >= {window}")
    windows: list[tuple[int, int]] = []
    done = 0
    while done < frames:
        context = min(prompt, window - 1) if not windows else min(overlap, prompt + done)
        new = min(frames - done, window - context)
        windows.append((context, new))
        done += new
    return windows


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``audio`` (channels, samples) from ``rate`` to ``target`` Hz (polyphase, scipy).

    Examples
    --------
    >>> resample(np.ones((1, 441)), 44100, 32000).shape
    (1, 320)
    """
    if rate == target:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    return np.asarray(resample_poly(audio, target // g, rate // g, axis=-1), dtype=np.float32)


def chroma(melody: np.ndarray, settings: dict[str, Any]) -> Any:
    """The one-hot chroma (1, frames, bins) of a mono melody, as MusicGen-Melody reads it.

    Parameters
    ----------
    melody : numpy.ndarray
        Mono float samples at ``settings["sampling_rate"]``.
    settings : dict
        The checkpoint's ``preprocessor_config.json`` (``n_fft``,
        ``hop_length``, ``num_chroma``, ``sampling_rate``); missing keys take
        facebook/musicgen-melody's values.

    Examples
    --------
    >>> t = np.arange(32000) / 32000
    >>> c = chroma(np.sin(2 * np.pi * 440 * t), {})  # an A
    >>> c.shape, int(c[0, 3].argmax())  # pitch classes from C: A is 9
    (torch.Size([1, 8, 12]), 9)
    """
    import torch
    from transformers.audio_utils import chroma_filter_bank

    n_fft = int(settings.get("n_fft", 16384))
    hop = int(settings.get("hop_length", 4096))
    bins = int(settings.get("num_chroma", 12))
    rate = int(settings.get("sampling_rate", 32000))
    wave = torch.as_tensor(np.asarray(melody, dtype=np.float32))
    if wave.shape[-1] < n_fft:  # as the feature extractor: centred in zeros
        pad = n_fft - wave.shape[-1]
        wave = torch.nn.functional.pad(wave, (pad // 2, pad - pad // 2))
    spectrum = torch.stft(
        wave,
        n_fft,
        hop_length=hop,
        win_length=n_fft,
        window=torch.hann_window(n_fft),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    filters = torch.from_numpy(chroma_filter_bank(n_fft, bins, rate, tuning=0)).float()
    strongest = (filters @ spectrum.abs().square()).argmax(0)  # one pitch class a frame
    return torch.nn.functional.one_hot(strongest, bins).float()[None]


@dataclass
class Request:
    """A validated generation: B takes (prompts and seeds) and how to make them."""

    prompts: list[str]
    seeds: list[int]
    frames: int
    samples: int
    window: int
    overlap: int
    crossfade: int
    guidance_scale: float
    temperature: float
    top_k: int
    top_p: float
    prompt_audio: np.ndarray | None = field(default=None, repr=False)
    include_prompt: bool = True
    melody: np.ndarray | None = field(default=None, repr=False)
    progress: bool = False


@dataclass
class Result:
    """The takes' audio (B, channels, samples) and how they were made."""

    audio: Any = field(repr=False)
    seams: list[int]
    windows: list[tuple[int, int]]
    tokens: int
    seconds: float


def _encode(loaded: Any, audio: np.ndarray, takes: int) -> Any:
    """EnCodec codes (takes, codebooks, frames) of (channels, samples), in MusicGen's order."""
    import torch

    network = loaded.network
    x = torch.from_numpy(np.ascontiguousarray(audio)).to(loaded.device, network.dtype)
    per_channel = [
        network.audio_encoder.encode(x[c][None, None]).audio_codes[0] for c in range(len(x))
    ]
    codes = per_channel[0] if len(per_channel) == 1 else torch.stack(per_channel, 2).flatten(1, 2)
    return codes.expand(takes, -1, -1)  # stereo: left and right codebooks interleaved


def _codes_of(captured: list[Any]) -> Any:
    """The codes ``generate`` decoded: one call, or left then right for stereo."""
    import torch

    if len(captured) == 1:
        return captured[0][0]
    left, right = captured[0][0], captured[1][0]
    return torch.stack([left, right], 2).flatten(1, 2)


def _melody_span(melody: np.ndarray, start: int, length: int) -> np.ndarray:
    """``length`` samples of the melody from ``start`` (negative too), repeating it."""
    return np.take(melody, np.arange(start, start + length), mode="wrap")


def _config(loaded: Any, request: Request) -> Any:
    import copy

    config = copy.deepcopy(loaded.network.generation_config)
    # The sampler draws the tokens; generate only takes the one it leaves. Its own
    # sampling settings are unused then: transformers' neutral values (None would be
    # filled in from the checkpoint's, and warned about).
    config.update(do_sample=False, temperature=1.0, top_k=50, top_p=1.0)
    config.guidance_scale = request.guidance_scale
    return config


def run(loaded: Any, request: Request) -> Result:
    """Generate the request's takes window by window and join them at the seams.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab._musicgen import load
    >>> from audiolab.testing import tiny_musicgen
    >>> loaded = load(str(tiny_musicgen(tempfile.mkdtemp())), "cpu", "float32")
    >>> request = Request(["techno"], [1], frames=50, samples=32000, window=30, overlap=10,
    ...                   crossfade=1600, guidance_scale=3.0, temperature=1.0, top_k=250, top_p=0.0)
    >>> result = run(loaded, request)
    >>> result.audio.shape, result.seams, result.windows
    (torch.Size([1, 1, 32000]), [19200], [(0, 30), (10, 20)])
    """
    import time

    import torch
    from transformers import LogitsProcessorList

    from audiolab._sampling import SeededSampler, progress_processor, show_progress

    network, hop = loaded.network, loaded.hop
    takes = len(request.prompts)
    prompt = request.prompt_audio
    prompt_samples = 0 if prompt is None else int(prompt.shape[-1])
    prompt_frames = min(request.overlap, prompt_samples // hop)
    if prompt is not None and prompt_frames == 0:
        raise AudioError(
            f"the audio prompt is shorter than one codec frame ({hop} samples at "
            f"{loaded.sample_rate} Hz): give at least {hop / loaded.sample_rate:g} s"
        )
    windows = plan(request.frames, request.window, request.overlap, prompt_frames)
    tokens = sum(new + loaded.delay for _, new in windows)
    inputs = loaded.tokenizer(request.prompts, padding=True, return_tensors="pt").to(loaded.device)
    sampler = SeededSampler(
        request.seeds,
        rows_per_take=loaded.codebooks,
        guidance_scale=request.guidance_scale,
        temperature=request.temperature,
        top_k=request.top_k,
        top_p=request.top_p,
        device=loaded.device,
    )
    processors: list[Any] = [sampler]
    if show_progress(request.progress):
        processors.append(progress_processor(tokens, "MusicGen"))
    config = _config(loaded, request)
    start = prompt_samples if request.include_prompt else 0
    out = torch.zeros(takes, loaded.channels, start + request.samples)
    if prompt is not None and request.include_prompt:
        out[:, :, :prompt_samples] = torch.from_numpy(prompt)
    stream: Any = None  # the codes so far: the prompt's context, then every window's
    if prompt is not None:
        stream = _encode(loaded, prompt[:, -prompt_frames * hop :], takes)
    position, done, seams = start, 0, []
    started = time.perf_counter()
    try:
        for context, new in windows:
            options: dict[str, Any] = {}
            if context:
                options["decoder_input_ids"] = stream[..., -context:].reshape(-1, context)
            if request.melody is not None:
                rate = int(loaded.chroma.get("sampling_rate", loaded.sample_rate))
                span = _melody_span(
                    request.melody,
                    round((done - context) * rate / loaded.frame_rate),
                    round(request.window * rate / loaded.frame_rate),
                )
                features = chroma(span, loaded.chroma).to(loaded.device, network.dtype)
                options["input_features"] = features.expand(takes, -1, -1)
            config.max_new_tokens = new + loaded.delay
            with torch.inference_mode(), loaded.decoder.capture() as captured:
                audio = network.generate(
                    **inputs,
                    **options,
                    generation_config=config,
                    logits_processor=LogitsProcessorList(processors),
                )
            codes = _codes_of(captured)
            stream = codes if stream is None else torch.cat([stream, codes[..., context:]], -1)
            audio = audio.to(device="cpu", dtype=torch.float32)
            head = context * hop
            if context and position:  # a seam: crossfade into the new window's audio
                fade = min(request.crossfade, head, position)
                ramp = 0.5 - 0.5 * torch.cos(torch.pi * (torch.arange(fade) + 0.5) / fade)
                tail = out[..., position - fade : position]
                tail.mul_(1 - ramp).add_(audio[..., head - fade : head] * ramp)
                seams.append(position)
            keep = min(new * hop, out.shape[-1] - position)
            out[..., position : position + keep] = audio[..., head : head + keep]
            position += keep
            done += new
    finally:
        for processor in processors[1:]:
            processor.bar.close()
    return Result(out, seams, windows, tokens, time.perf_counter() - started)
