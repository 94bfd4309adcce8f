"""The settings of :func:`audiolab.generate.generate`, checked before anything is loaded.

A bad prompt, duration, sampling or windowing setting is an
:class:`~audiolab.errors.AudioError` naming the setting and the value, said
before torch is imported (:func:`check_settings`); the window and overlap are
then checked against the loaded model's frame rate and position embeddings
(:func:`windows`).

Examples
--------
>>> settings = check_settings(["piano"], 8.0, n=2, seed=None, guidance_scale=3, temperature=1,
...                           top_k=250, top_p=0, overlap_s=10, crossfade_s=0.1,
...                           include_prompt=True)
>>> settings.n, settings.guidance_scale, settings.top_p
(2, 3.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from audiolab._audio import check_flag
from audiolab.errors import AudioError

__all__ = ["MAX_DURATION_S", "Settings", "check_settings", "windows"]

MAX_DURATION_S = 300.0


class Settings(NamedTuple):
    """The sampling and windowing settings of a generation, checked (numbers as floats)."""

    n: int
    guidance_scale: float
    temperature: float
    top_k: int
    top_p: float
    overlap_s: float
    crossfade_s: float


def _number(name: str, value: Any, low: float, *, strict: bool = False) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if bad or not math.isfinite(value) or value < low or (strict and value == low):
        relation = "more than" if strict else "at least"
        raise AudioError(f"{name} must be a number of {relation} {low:g}, got {value!r}")
    return float(value)


def _integer(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise AudioError(f"{name} must be an integer of at least {low}, got {value!r}")
    return value


def _check(prompts: list[Any], duration: Any) -> None:
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


def check_settings(
    prompts: list[Any],
    duration: Any,
    *,
    n: Any,
    seed: Any,
    guidance_scale: Any,
    temperature: Any,
    top_k: Any,
    top_p: Any,
    overlap_s: Any,
    crossfade_s: Any,
    include_prompt: Any,
) -> Settings:
    """The prompts, duration and sampling settings of a generation, checked.

    Parameters
    ----------
    prompts : list of str
        Non-empty text each.
    duration : float
        Seconds, more than 0 and at most ``MAX_DURATION_S``.
    n, seed, guidance_scale, temperature, top_k, top_p, overlap_s, crossfade_s, include_prompt
        As :func:`audiolab.generate.generate` takes them.

    Returns
    -------
    Settings
        ``n`` and the numbers, as floats where they are floats.

    Raises
    ------
    AudioError
        Naming the first setting that is wrong and its value.

    Examples
    --------
    >>> try:
    ...     check_settings(["piano"], 8.0, n=1, seed=None, guidance_scale=3, temperature=0,
    ...                    top_k=250, top_p=0.0, overlap_s=10, crossfade_s=0.1,
    ...                    include_prompt=True)
    ... except AudioError as err:
    ...     print(err)
    temperature must be a number of more than 0, got 0
    """
    _check(prompts, duration)
    n = _integer("n", n, 1)
    if seed is not None:
        _integer("seed", seed, 0)
    guidance_scale = _number("guidance_scale", guidance_scale, 0.0)
    temperature = _number("temperature", temperature, 0.0, strict=True)
    top_k = _integer("top_k", top_k, 0)
    top_p = _number("top_p", top_p, 0.0)
    if top_p > 1:
        raise AudioError(f"top_p must be from 0 to 1, got {top_p!r}")
    overlap_s = _number("overlap_s", overlap_s, 0.0, strict=True)
    crossfade_s = _number("crossfade_s", crossfade_s, 0.0)
    if crossfade_s > overlap_s:
        raise AudioError(
            f"crossfade_s must be at most overlap_s ({overlap_s:g}), got {crossfade_s!r}"
        )
    check_flag("include_prompt", include_prompt)
    return Settings(n, guidance_scale, temperature, top_k, top_p, overlap_s, crossfade_s)


def windows(loaded: Any, window_s: Any, overlap_s: float, crossfade_s: float) -> tuple[int, ...]:
    """(window, overlap) in frames and the crossfade in samples, checked against the model.

    Parameters
    ----------
    loaded : audiolab._musicgen.Loaded
        The model: its ``frame_rate``, ``window_frames``, ``max_frames``,
        ``sample_rate`` and ``model`` name.
    window_s : float or None
        Seconds a window generates (None: the model's window).
    overlap_s, crossfade_s : float
        As :func:`check_settings` returns them.

    Returns
    -------
    tuple of int
        ``(window, overlap, crossfade)``.

    Raises
    ------
    AudioError
        A window the model cannot hold, an overlap not shorter than the window.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(frame_rate=50.0, window_frames=1500, max_frames=1500,
    ...                         sample_rate=32000, model="m")
    >>> windows(model, None, 10.0, 0.1)
    (1500, 500, 3200)
    """
    rate = loaded.frame_rate
    if window_s is None:
        window = loaded.window_frames
    else:
        window = round(_number("window_s", window_s, 0.0, strict=True) * rate)
        if not 2 <= window <= loaded.max_frames:
            raise AudioError(
                f"window_s must be from {2 / rate:g} s to {loaded.max_frames / rate:g} s "
                f"(the model's position embeddings) for {loaded.model!r}, got {window_s!r}"
            )
    overlap = round(overlap_s * rate)
    if not 1 <= overlap < window:
        raise AudioError(
            f"overlap_s must be at least one frame ({1 / rate:g} s) and less than the window "
            f"({window / rate:g} s), got {overlap_s!r}"
        )
    return window, overlap, round(crossfade_s * loaded.sample_rate)
