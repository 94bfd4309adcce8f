"""Tiny randomly initialised models, saved to a folder that the real loading code reads.

Reached as :func:`audiolab.testing.tiny_musicgen` and
:func:`audiolab.testing.tiny_clap`: weights cannot be downloaded in CI, so
tests and notebooks build these (a few MB, seconds) and load them through
the same ``from_pretrained`` path as a real checkpoint.

Examples
--------
>>> import tempfile
>>> (tiny_musicgen(tempfile.mkdtemp()) / "config.json").is_file()
True
"""

from __future__ import annotations

import json as _json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["tiny_clap", "tiny_musicgen"]


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

    from audiolab.testing import programme, sine  # signals with known properties

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


def tiny_clap(path: str | os.PathLike[str]) -> Path:
    """Save a tiny randomly initialised CLAP model and its processor to a folder.

    The structure of ``laion/clap-htsat-unfused`` (an HTSAT audio tower on
    48 kHz log-mel frames, a RoBERTa text tower, 16-dimensional joint space)
    with tiny layers, 2 s windows instead of 10 s, and a word-level tokenizer
    built offline, so that ``audiolab.evaluate.clap_score(..., model=path)``
    runs the same ``from_pretrained`` path as the real model in well under a
    second. Its scores mean nothing; the plumbing is what it tests.
    Deterministic, and reused when the folder already holds one.

    Parameters
    ----------
    path : str or Path
        The folder (created).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> folder = tiny_clap(tempfile.mkdtemp())
    >>> (folder / "model.safetensors").is_file()
    True
    """
    folder = Path(path)
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapProcessor,
        ClapTextConfig,
        PreTrainedTokenizerFast,
    )
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        words = ["<s>", "<pad>", "</s>", "<unk>", *_TINY_VOCABULARY]
        text = ClapTextConfig(
            vocab_size=len(words),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            projection_dim=16,
        )
        # 16 mel bands, a 64 x 64 "image" of 2 s (201 frames of 10 ms fit its 256 x 16)
        audio = ClapAudioConfig(
            window_size=4,
            num_mel_bins=16,
            spec_size=64,
            patch_size=4,
            patch_stride=(4, 4),
            hidden_size=32,
            depths=[1, 1],
            num_attention_heads=[2, 2],
            patch_embeds_hidden_size=16,
            projection_dim=16,
            num_classes=4,
        )
        config = ClapConfig(
            text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16
        )
        torch.manual_seed(0)
        model = ClapModel(config)
        tokenizer = Tokenizer(
            models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>")
        )
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        processor = ClapProcessor(
            feature_extractor=ClapFeatureExtractor(
                feature_size=16,
                sampling_rate=48000,
                hop_length=480,
                max_length_s=2,
                truncation="rand_trunc",
                padding="repeatpad",
            ),
            tokenizer=PreTrainedTokenizerFast(
                tokenizer_object=tokenizer,
                bos_token="<s>",
                pad_token="<pad>",
                eos_token="</s>",
                unk_token="<unk>",
            ),
        )
        folder.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
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
