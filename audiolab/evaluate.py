"""Objective metrics of takes: Fréchet distance, CLAP score, chroma similarity.

Every metric returns a :class:`Score` that records the embedding, the model
and its revision (hub commit or hash of the weights), so a number can be
traced to what made it and reproduced; ``Score.to_dict()`` is what
``Store.annotate(job_id, metrics=...)`` keeps in the catalog.

* :func:`frechet_distance`: the distance between Gaussians fitted to the
  embeddings of two sets of takes (FAD, Kilgour et al. 2019), with
  pluggable embeddings (:mod:`audiolab.embeddings`: MusicGen's own EnCodec
  encoder, CLAP, or any callable). The estimate is biased upward for small
  sets; ``extrapolate=True`` fits it against ``1 / N`` over subsets and
  reports the value at ``N -> infinity`` (FAD∞, after Chong & Forsyth's FID∞).
* :func:`clap_score`: the cosine similarity of a take and its prompt in
  CLAP's joint space (text adherence).
* :func:`chroma_similarity`: the mean cosine similarity of two chromagrams
  frame by frame (melody adherence), from :func:`audiolab.analysis.key.chromagram`.

Examples
--------
>>> import numpy as np
>>> from audiolab.evaluate import frechet_distance
>>> from audiolab.testing import programme
>>> takes = [(programme(1.0, 8000, seed=s), 8000) for s in range(4)]
>>> frames = lambda audio, sr: audio[0].reshape(-1, 100)  # any callable embeds
>>> score = frechet_distance(takes, takes, embedding=frames)
>>> abs(score.value) < 1e-9, score.metric, score.n_candidates
(True, 'frechet_distance', 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from audiolab._takes import as_clip, as_clips
from audiolab.embeddings import DEFAULT_CLAP, clap_embedding, clap_text_embedding, embedding_for
from audiolab.errors import AudioError

__all__ = [
    "Score",
    "chroma_similarity",
    "clap_score",
    "frechet_distance",
    "frechet_distance_of_embeddings",
]


@dataclass(frozen=True)
class Score:
    """A metric's value and what it was computed with.

    Attributes
    ----------
    metric : str
        ``"frechet_distance"``, ``"frechet_distance_inf"``, ``"clap_score"``,
        ``"chroma_similarity"``.
    value : float
    embedding : str
        ``"encodec"``, ``"clap"``, ``"chroma"`` or the callable's name.
    model : str or None
        Hub id or folder of the embedding model.
    revision : str or None
        Hub commit, or ``sha256:...`` of the weights.
    n_reference, n_candidates : int or None
        Takes in each set (Fréchet distance).
    details : dict
        Metric-specific figures (frames, the extrapolation's points).
    """

    metric: str
    value: float
    embedding: str
    model: str | None
    revision: str | None
    n_reference: int | None = None
    n_candidates: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (what the catalog keeps).

        Examples
        --------
        >>> score = Score("clap_score", 0.31, "clap", "laion/clap-htsat-unfused", "abc123")
        >>> score.to_dict()["revision"]
        'abc123'
        """
        from audiolab._json import json_safe

        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}


def frechet_distance_of_embeddings(x: Any, y: Any) -> float:
    """Fréchet distance between Gaussians fitted to two sets of vectors.

    ``|mu_x - mu_y|^2 + tr(S_x) + tr(S_y) - 2 tr((S_x^1/2 S_y S_x^1/2)^1/2)``,
    the square root taken through symmetric eigendecompositions (exact for
    the positive semi-definite covariances, with no complex round-off).

    Parameters
    ----------
    x, y : array_like
        ``(n, dim)`` vectors, at least two each.

    Returns
    -------
    float
        At least 0; 0 for a set and itself.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(frechet_distance_of_embeddings(x, x + [2.0, 0, 0]), 6)  # a shift of 2: 2**2
    4.0
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise AudioError(
            f"need two sets of at least 2 vectors of one dimension, got {a.shape} and {b.shape}"
        )
    mean = a.mean(axis=0) - b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    distance = float(mean @ mean + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross)
    return max(distance, 0.0)


def _embed_all(clips: list[Any], embed: Any) -> np.ndarray:
    return np.concatenate([embed(c.audio, c.sample_rate) for c in clips], axis=0)


def frechet_distance(
    reference: Any,
    candidates: Any,
    *,
    embedding: Any = "encodec",
    model: Any = None,
    sample_rate: int | None = None,
    extrapolate: bool = False,
    device: str = "cpu",
    seed: int = 0,
) -> Score:
    """Fréchet distance between the embeddings of two sets of takes (FAD).

    Every frame of every take is one sample of its set's Gaussian.

    Parameters
    ----------
    reference, candidates : sequence of takes
        Paths, Records, Generations, ``(audio, sample_rate)`` pairs...
        (see :mod:`audiolab._takes`).
    embedding : {'encodec', 'clap'} or callable
        See :mod:`audiolab.embeddings`.
    model : str or model, optional
        The embedding model (MusicGen checkpoint for ``"encodec"``, CLAP for ``"clap"``).
    sample_rate : int, optional
        For takes given as bare audio.
    extrapolate : bool
        Report FAD∞: the distances of random subsets of the candidates' frames
        (from a quarter to all of them, 8 sizes, 3 draws each, from ``seed``),
        fitted as ``a + b / N``, and ``a`` reported (``details`` has the points).
    device : str
        torch device of the model.
    seed : int
        Of the subsets.

    Returns
    -------
    Score

    Raises
    ------
    ModelNotAvailableError
        The embedding model's weights are not here.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import programme, tiny_musicgen
    >>> tiny = str(tiny_musicgen(tempfile.mkdtemp()))
    >>> takes = [(programme(1.0, 32000, seed=s), 32000) for s in range(3)]
    >>> score = frechet_distance(takes, takes, embedding="encodec", model=tiny)
    >>> score.value < 1e-6, score.embedding, score.revision.startswith("sha256:")
    (True, 'encodec', True)
    """
    embed = embedding_for(embedding, model=model, device=device)
    ref_clips, cand_clips = as_clips(reference, sample_rate), as_clips(candidates, sample_rate)
    x, y = _embed_all(ref_clips, embed), _embed_all(cand_clips, embed)
    value = frechet_distance_of_embeddings(x, y)
    details: dict[str, Any] = {"reference_frames": len(x), "candidate_frames": len(y)}
    metric = "frechet_distance"
    if extrapolate:
        rng = np.random.default_rng(seed)
        sizes = np.unique(np.linspace(max(2, len(y) // 4), len(y), 8).round().astype(int))
        if len(sizes) < 2:
            raise AudioError(f"{len(y)} candidate frames are too few to extrapolate")
        means = [
            float(
                np.mean(
                    [
                        frechet_distance_of_embeddings(x, y[rng.choice(len(y), n, replace=False)])
                        for _ in range(3)
                    ]
                )
            )
            for n in sizes
        ]
        slope, intercept = np.polyfit(1.0 / sizes, means, 1)
        details.update(
            sizes=sizes.tolist(),
            distances=means,
            slope=float(slope),
            frechet_distance=value,
        )
        value, metric = float(intercept), "frechet_distance_inf"
    return Score(
        metric,
        value,
        embed.name,
        embed.model,
        embed.revision,
        len(ref_clips),
        len(cand_clips),
        details,
    )


def clap_score(
    audio: Any,
    prompt: str,
    *,
    sample_rate: int | None = None,
    model: str = DEFAULT_CLAP,
    device: str = "cpu",
) -> Score:
    """How well a take matches its prompt: cosine similarity in CLAP's joint space.

    The take's windows (10 s for LAION's CLAP) are embedded, their unit
    vectors averaged and renormalized, and compared with the prompt's.

    Parameters
    ----------
    audio : take
        A path, Record, Generation, ``(audio, sample_rate)`` or audio with ``sample_rate``.
    prompt : str
        The text.
    sample_rate : int, optional
        For bare audio.
    model : str
        CLAP hub id or folder.
    device : str
        torch device.

    Returns
    -------
    Score
        ``value`` from -1 to 1.

    Raises
    ------
    ModelNotAvailableError
        The CLAP weights are not here.

    Examples
    --------
    >>> import tempfile
    >>> from audiolab.testing import programme, tiny_clap
    >>> tiny = str(tiny_clap(tempfile.mkdtemp()))
    >>> score = clap_score((programme(3.0, 16000), 16000), "techno drums", model=tiny)
    >>> -1.0 <= score.value <= 1.0, score.details["windows"]
    (True, 2)
    """
    clip = as_clip(audio, sample_rate)
    embed = clap_embedding(model, device=device)
    windows = embed(clip.audio, clip.sample_rate)
    mean = windows.mean(axis=0)
    text = clap_text_embedding(prompt, model, device=device)
    value = float(mean @ text / max(float(np.linalg.norm(mean)), 1e-12))
    return Score(
        "clap_score",
        value,
        "clap",
        embed.model,
        embed.revision,
        details={"prompt": prompt, "windows": len(windows)},
    )


def chroma_similarity(audio: Any, melody: Any, *, sample_rate: int | None = None) -> Score:
    """How closely a take follows a melody: frame-by-frame cosine similarity of chroma.

    Both chromagrams come from :func:`audiolab.analysis.key.chromagram`
    (tonal peaks of a 1 s STFT every 0.25 s, treble and bass added). Frames
    are compared over the shorter of the two; frames where either has no
    tonal peak are left out. Loudness does not matter, transposition does.

    Parameters
    ----------
    audio, melody : take
        The take and the melody (audio of it), as for :func:`clap_score`.
    sample_rate : int, optional
        For bare audio.

    Returns
    -------
    Score
        ``value`` from 0 (no common pitch class) to 1 (the same chroma);
        NaN when no frame has pitch in both.

    Examples
    --------
    >>> from audiolab import synth
    >>> song = synth.reference(100, "C major", duration=6.0, sr=16000)
    >>> same = chroma_similarity(song, song).value
    >>> other = synth.reference(100, "F# major", duration=6.0, sr=16000)
    >>> round(same, 6), chroma_similarity(song, other).value < 0.5
    (1.0, True)
    """
    from audiolab import __version__
    from audiolab.analysis.key import chromagram

    take, tune = as_clip(audio, sample_rate), as_clip(melody, sample_rate)
    a = chromagram(take.audio, take.sample_rate)
    b = chromagram(tune.audio, tune.sample_rate)
    n = min(a.treble.shape[1], b.treble.shape[1])
    ca = (a.treble + a.bass)[:, :n]
    cb = (b.treble + b.bass)[:, :n]
    norms = np.linalg.norm(ca, axis=0) * np.linalg.norm(cb, axis=0)
    voiced = norms > 0
    per_frame = (ca * cb).sum(axis=0)[voiced] / norms[voiced]
    value = float(per_frame.mean()) if per_frame.size else float("nan")
    return Score(
        "chroma_similarity",
        value,
        "chroma",
        "audiolab.analysis.key.chromagram",
        f"audiolab {__version__}",
        details={"frames": int(voiced.sum()), "frames_compared": int(n)},
    )
