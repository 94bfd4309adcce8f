"""Helpers that tests, benchmarks and notebooks share.

Nothing here is needed to use audiolab; it builds inputs with known
properties so that the rest can be checked against them.

Examples
--------
>>> from audiolab import testing
>>> testing.programme(2.0, 16000).shape
(2, 32000)
"""

from __future__ import annotations

import json as _json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["model_or_tiny", "programme", "sine", "tiny_musicgen"]


def sine(
    frequency_hz: float,
    seconds: float,
    sr: int,
    *,
    amplitude_dbfs: float = -20.0,
    channels: int = 1,
    phase: float = 0.0,
) -> np.ndarray:
    """A sine of a given peak level, shape ``(channels, samples)``.

    Parameters
    ----------
    frequency_hz : float
        Frequency in Hz.
    seconds : float
        Duration.
    sr : int
        Sample rate in Hz.
    amplitude_dbfs : float
        Peak amplitude in dBFS (EBU Tech 3341 states its tones this way).
    channels : int
        Number of identical channels.
    phase : float
        Start phase in radians.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> sine(1000, 0.01, 48000, amplitude_dbfs=-6.0).max().round(3)
    np.float64(0.501)
    """
    n = round(seconds * sr)
    tone = 10 ** (amplitude_dbfs / 20) * np.sin(
        2 * np.pi * frequency_hz * np.arange(n) / sr + phase
    )
    return np.tile(tone, (channels, 1))


def programme(
    seconds: float,
    sr: int,
    *,
    channels: int = 2,
    bpm: float = 120.0,
    peak_dbfs: float = -1.0,
    seed: int = 0,
) -> np.ndarray:
    """Music-like test programme: kick, snare, hi-hat, bass and chords.

    Decaying one-shots on a beat grid over a bass line and chords, with a
    slow level swell, so that loudness, loudness range and true peak all have
    something to measure. Deterministic for a seed.

    Parameters
    ----------
    seconds : float
        Duration.
    sr : int
        Sample rate in Hz.
    channels : int
        1 or 2 (the second channel is mixed slightly differently).
    bpm : float
        Tempo of the beat grid.
    peak_dbfs : float
        Sample peak of the result.
    seed : int
        Seed of the noise in the snare and hi-hat.

    Returns
    -------
    numpy.ndarray
        Shape ``(channels, round(seconds * sr))``.

    Examples
    --------
    >>> x = programme(1.0, 8000, channels=1)
    >>> x.shape, float(abs(x).max()).__round__(3)
    ((1, 8000), 0.891)
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    beat = max(round(sr * 60.0 / bpm), 8)
    t = np.arange(beat) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 8)
    snare = rng.standard_normal(beat) * np.exp(-t * 25) * 0.5
    hat_length = beat // 4
    hat = np.diff(rng.standard_normal(hat_length + 1)) * np.exp(-t[:hat_length] * 60) * 0.15
    bar = np.zeros(4 * beat)
    for i in range(4):
        bar[i * beat : (i + 1) * beat] += kick if i % 2 == 0 else snare
        for offset in (0, beat // 2):
            bar[i * beat + offset : i * beat + offset + hat_length] += hat
    drums = np.tile(bar, n // len(bar) + 1)[:n]
    roots = np.repeat([55.0, 43.65, 49.0, 41.2], 4 * beat)  # A, F, G, E
    root = np.tile(roots, n // len(roots) + 1)[:n]
    phase = 2 * np.pi * np.cumsum(root) / sr
    bass = 0.35 * np.tanh(2 * np.sin(phase))
    chords = 0.08 * sum(np.sin(ratio * phase * 4) for ratio in (1.0, 1.26, 1.5))
    swell = 0.7 + 0.3 * np.sin(2 * np.pi * np.arange(n) / sr / 40.0)
    mixes = [swell * (drums + bass + chords), swell * (0.9 * drums + bass + 1.1 * chords)]
    out = np.stack(mixes[:channels])
    return 10 ** (peak_dbfs / 20) * out / np.max(np.abs(out))


#: Words the tiny model's tokenizer knows; anything else maps to <unk>.
_TINY_VOCABULARY = (
    "a an and at beat beats bass bpm chords dark drum drums for heavy hip hop house in "
    "jazz lofi loud of piano pads quiet rock slow soft techno the uplifting with 808 90 "
    "120 124 140 174 ambient guitar synth strings melody groove"
).split()


#: MusicGen's training length: what the tiny models' generation config calls the window.
_WINDOW_S = 30


def _upsampling_ratios(hop: int) -> list[int]:
    """EnCodec stride factors (each 2 to 10, largest first) whose product is ``hop``."""
    ratios = []
    for factor in (8, 5, 4, 4, 10, 2, 3, 6, 7, 9):
        if hop % factor == 0 and hop > 1:
            ratios.append(factor)
            hop //= factor
    if hop != 1:
        raise ValueError(f"no EnCodec strides for a hop of {hop} samples")
    return sorted(ratios, reverse=True)


def _tiny_kind(folder: Path) -> tuple[str, int, float] | None:
    """(model_type, audio channels, frame rate) of the tiny model in ``folder``, or None."""
    import json

    try:
        config = json.loads((folder / "config.json").read_text())
        encoder = config["audio_encoder"]
        ratios = encoder["upsampling_ratios"]
        hop = 1
        for ratio in ratios:
            hop *= ratio
        channels = int(config["decoder"]["audio_channels"])
        return str(config["model_type"]), channels, encoder["sampling_rate"] / hop
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fill_codebooks(codec: Any, sample_rate: int) -> None:
    """Codebooks drawn from the codec's own encodings of music-like signals.

    EnCodec's codebooks start at zero (training fills them by k-means), which
    would give every token the same sound and every audio the same tokens.
    Each residual stage here gets 64 of the residual frames of a few seconds of
    :func:`programme`, tones and noise, as k-means would start: distinct audio
    then encodes to distinct tokens, and distinct tokens decode differently.
    """
    import torch

    rng = np.random.default_rng(0)
    signals = [programme(3.0, sample_rate, channels=1, seed=seed)[0] for seed in range(3)]
    signals += [sine(f, 0.5, sample_rate, amplitude_dbfs=-10)[0] for f in (55, 220, 880, 3520)]
    signals.append(0.1 * rng.standard_normal(sample_rate))
    audio = torch.from_numpy(np.concatenate(signals).astype(np.float32))[None, None]
    with torch.no_grad():
        residual = codec.encoder(audio)[0].T  # (frames, dimensions)
        for layer in codec.quantizer.layers:
            codebook = layer.codebook
            size, frames = codebook.embed.shape[0], residual.shape[0]
            chosen = rng.choice(frames, size=size, replace=frames < size)  # low frame rates
            codebook.embed.copy_(residual[torch.from_numpy(chosen)])
            codebook.embed_avg.copy_(codebook.embed)
            codebook.cluster_size.fill_(1.0)
            residual = residual - layer.decode(layer.encode(residual.T[None]))[0].T


def tiny_musicgen(
    path: str | os.PathLike[str],
    stereo: bool = False,
    *,
    melody: bool = False,
    frame_rate: int = 50,
) -> Path:
    """Save a tiny randomly initialised MusicGen and its processor to a folder.

    The model has MusicGen's real structure and rates (32 kHz audio, 50 frames
    a second, 4 codebooks; 8 for stereo, as the stereo checkpoints; a 30 s
    window in its generation config, as the real checkpoints) with tiny
    layers, and a word-level tokenizer built offline, so that
    ``generate(model=path)`` runs the same ``from_pretrained`` path as
    ``facebook/musicgen-small`` in about a second. Its music is noise-like
    but not silent. Deterministic, and reused when the folder already holds
    one of the same kind.

    Parameters
    ----------
    path : str or Path
        The folder (created).
    stereo : bool
        Two audio channels, as ``facebook/musicgen-stereo-*``.
    melody : bool
        A ``MusicgenMelodyForConditionalGeneration``, as
        ``facebook/musicgen-melody``: it follows the chroma of a melody. Its
        ``preprocessor_config.json`` holds the real checkpoint's chroma
        settings (a 16384-point STFT every 4096 samples, 12 bins).
    frame_rate : int
        Codec frames a second (50 as MusicGen). A lower rate (such as 5)
        keeps every length and window in seconds while generating ten times
        fewer tokens: long takes in fast tests. 32000 must be a multiple of it.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> folder = tiny_musicgen(tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())[:2]
    ['config.json', 'generation_config.json']
    """
    sample_rate = 32000
    if isinstance(frame_rate, bool) or not isinstance(frame_rate, int) or frame_rate <= 0:
        raise ValueError(f"frame_rate must be a positive integer, got {frame_rate!r}")
    if sample_rate % frame_rate:
        raise ValueError(f"frame_rate must divide {sample_rate}, got {frame_rate}")
    folder = Path(path)
    channels = 2 if stereo else 1
    kind = ("musicgen_melody" if melody else "musicgen", channels, float(frame_rate))
    if (folder / "model.safetensors").is_file() and _tiny_kind(folder) == kind:
        return folder
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        GenerationConfig,
        MusicgenConfig,
        MusicgenForConditionalGeneration,
        MusicgenMelodyConfig,
        MusicgenMelodyForConditionalGeneration,
        MusicgenProcessor,
        PreTrainedTokenizerFast,
        T5Config,
    )
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        codebook_size = 64
        audio_encoder = EncodecConfig(
            sampling_rate=sample_rate,
            audio_channels=1,
            hidden_size=16,
            num_filters=4,
            num_residual_layers=1,
            upsampling_ratios=_upsampling_ratios(sample_rate // frame_rate),
            codebook_size=codebook_size,
            codebook_dim=16,
            num_lstm_layers=1,
            # 4 codebooks of 6 bits at the frame rate (1.2 kbps at 50 Hz)
            target_bandwidths=[4 * 6 * frame_rate / 1000],
            normalize=False,
        )
        text_encoder = T5Config(
            vocab_size=len(_TINY_VOCABULARY) + 3,
            d_model=16,
            d_kv=4,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
        )
        decoder = {
            "vocab_size": codebook_size,
            "max_position_embeddings": 2048,
            "num_hidden_layers": 1,
            "ffn_dim": 32,
            "num_attention_heads": 2,
            "hidden_size": 16,
            "num_codebooks": audio_encoder.num_quantizers * channels,
            "audio_channels": channels,
            "pad_token_id": codebook_size,
            "bos_token_id": codebook_size,
        }
        torch.manual_seed(0)
        model: Any
        config: Any
        if melody:
            config = MusicgenMelodyConfig(
                text_encoder=text_encoder.to_dict(),
                audio_encoder=audio_encoder.to_dict(),
                decoder={**decoder, "model_type": "musicgen_melody_decoder"},
                num_chroma=12,
                chroma_length=235,  # 30 s of chroma frames, as the real checkpoint
            )
            model = MusicgenMelodyForConditionalGeneration(config)
            # a wider chroma projection than the 0.02 of random init: the melody matters
            model.audio_enc_to_dec_proj.weight.data.normal_(0.0, 4.0)
        else:
            config = MusicgenConfig(
                text_encoder=text_encoder.to_dict(),
                audio_encoder=audio_encoder.to_dict(),
                decoder=decoder,
            )
            model = MusicgenForConditionalGeneration(config)
        _fill_codebooks(model.audio_encoder, sample_rate)
        # Random init is 0.02 wide: near-uniform logits that no conditioning (text,
        # audio prompt, melody) would move. Wider heads make conditioning matter.
        for head in model.decoder.lm_heads:
            head.weight.data.normal_(0.0, 1.0)
        # the real checkpoints' generation settings, and their 30 s window
        model.generation_config = GenerationConfig(
            bos_token_id=codebook_size,
            pad_token_id=codebook_size,
            decoder_start_token_id=codebook_size,
            do_sample=True,
            guidance_scale=3.0,
            top_k=250,
            max_length=_WINDOW_S * frame_rate,
        )
        words = ["<pad>", "</s>", "<unk>", *_TINY_VOCABULARY]
        tokenizer = Tokenizer(
            models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>")
        )
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
        )
        folder.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(folder)
        if melody:
            # MusicgenMelodyFeatureExtractor needs torchaudio to be built; its
            # settings are plain JSON (those of facebook/musicgen-melody).
            fast.save_pretrained(folder)
            features = _json.dumps(_MELODY_FEATURES, indent=2)
            (folder / "preprocessor_config.json").write_text(features)
        else:
            MusicgenProcessor(
                feature_extractor=EncodecFeatureExtractor(
                    feature_size=channels, sampling_rate=sample_rate
                ),
                tokenizer=fast,
            ).save_pretrained(folder)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return folder


#: facebook/musicgen-melody's chroma settings (its preprocessor_config.json).
_MELODY_FEATURES = {
    "feature_extractor_type": "MusicgenMelodyFeatureExtractor",
    "processor_class": "MusicgenMelodyProcessor",
    "feature_size": 12,
    "num_chroma": 12,
    "sampling_rate": 32000,
    "n_fft": 16384,
    "hop_length": 4096,
    "chunk_length": 30,
    "padding_side": "right",
    "padding_value": 0.0,
    "return_attention_mask": True,
    "stem_indices": [3, 2],
}


def model_or_tiny(model: str, folder: str | os.PathLike[str] | None = None, **tiny: Any) -> str:
    """``model`` when its weights are here, else the tiny MusicGen, saying so in one line.

    What the notebooks' parameter cells call: a researcher with the weights
    gets the real model; CI and offline machines get :func:`tiny_musicgen`
    (saved once to ``folder``, by default a folder in the temporary directory).

    Parameters
    ----------
    model : str
        Hub id or folder.
    folder : str or Path, optional
        Where the tiny model goes.
    **tiny
        Options of :func:`tiny_musicgen` (``frame_rate=5`` for long takes in seconds).

    Returns
    -------
    str
        What to pass to ``generate(model=...)``.

    Examples
    --------
    >>> import tempfile
    >>> chosen = model_or_tiny("/no/such/model", tempfile.mkdtemp())  # doctest: +ELLIPSIS
    MusicGen weights for '/no/such/model' are not available here: using the tiny random ...
    """
    import tempfile

    from audiolab.policy import fallback_notice

    kind = "".join(f"-{name}{value}" for name, value in sorted(tiny.items()))
    where = (
        Path(folder)
        if folder is not None
        else Path(tempfile.gettempdir()) / f"audiolab-tiny-musicgen{kind}"
    )
    notice = fallback_notice(
        model,
        f"the tiny random MusicGen in {where} (its audio is noise-like; "
        "set AUDIOLAB_MODEL to a model you have)",
    )
    if notice is None:
        return model
    print(notice)
    return str(tiny_musicgen(where, **tiny))
