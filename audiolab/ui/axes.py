"""The Axes every plot draws on: the caller's, or a new figure of notebook width."""

from __future__ import annotations

from typing import Any

__all__ = ["FIGSIZE", "axes_or_new"]

#: Figure size of a new figure: fits a notebook column without overlapping text.
FIGSIZE = (9.0, 3.4)


def axes_or_new(ax: Any, height: float = FIGSIZE[1]) -> Any:
    """``ax``, or the Axes of a new constrained-layout figure ``FIGSIZE[0]`` wide.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> axes_or_new(None, height=2.0).figure.get_size_inches().tolist()
    [9.0, 2.0]
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(FIGSIZE[0], height), layout="constrained")
    return ax
