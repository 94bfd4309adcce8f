"""The exceptions of audiolab, in one place.

* :class:`AudioError` (a :class:`ValueError`): bad audio or bad arguments,
  raised before anything is written.
* :class:`StoreError` (a :class:`RuntimeError`): the catalog or the store's
  folder tree cannot be used as asked (a damaged catalog, a root that is not a
  store, a take that would be overwritten).
* :class:`ModelNotAvailableError` (an :class:`AudioError` and a
  :class:`LookupError`): a model's weights are neither here nor downloadable.
* :class:`BatchError` (an :class:`AudioError`): some items of a batch
  (``measure_many``, ``export_batch`` with ``errors="raise"``) failed after
  the others were done; it carries every result. ``export``'s batches raise
  its subclass ``BatchExportError``.

Operating-system failures (a full disk, a folder without write permission)
stay :class:`OSError` with their ``errno``, and name the path.

Examples
--------
>>> from audiolab.errors import AudioError, ModelNotAvailableError
>>> issubclass(ModelNotAvailableError, (AudioError, LookupError))
True
"""

from __future__ import annotations

__all__ = ["AudioError", "BatchError", "ModelNotAvailableError", "StoreError"]


class AudioError(ValueError):
    """Bad audio or bad audio parameters.

    Raised by every audiolab entry point for input it cannot use: NaN or Inf
    samples, empty audio, the wrong rank or layout, a sample rate that is not a
    positive integer, an unknown bit depth, audio too short for what was asked.
    The message names the problem and the offending value. It is a
    :class:`ValueError`, so existing ``except ValueError`` code keeps working.

    Examples
    --------
    >>> import numpy as np, audiolab
    >>> try:
    ...     audiolab.loudness.integrated(np.zeros((32000, 2)), 32000)
    ... except audiolab.AudioError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    expected (channels, samples) with 1 to 5 channels, got shape (32000, 2): pass audio.T...
    """


class StoreError(RuntimeError):
    """The catalog or the store's tree cannot be used as asked.

    Raised for a catalog that is not an audiolab catalog (empty, truncated,
    another database), a root that is not a store, and an operation that would
    lose a take or a row. The message names the path and what to do.

    Examples
    --------
    >>> raise StoreError("data/outputs/catalog.sqlite: not an SQLite database")
    Traceback (most recent call last):
    ...
    audiolab.StoreError: data/outputs/catalog.sqlite: not an SQLite database
    """


class ModelNotAvailableError(AudioError, LookupError):
    """The model's weights are neither in a local folder or cache nor downloadable now.

    Examples
    --------
    >>> issubclass(ModelNotAvailableError, LookupError)
    True
    """


class BatchError(AudioError):
    """Some items of a batch failed; every other item was done.

    Attributes
    ----------
    results : list
        One entry per item, in input order: its result, or the exception it raised.
    errors : dict
        Item index -> exception, for the failed ones.

    Examples
    --------
    >>> err = BatchError([1.0, ValueError("math domain error")], what="sqrt")
    >>> print(err)
    1 of 2 sqrt items failed (item 1: math domain error)
    >>> list(err.errors)
    [1]
    """

    def __init__(self, results: list[object], *, what: str = "batch") -> None:
        self.results = results
        self.errors = {i: r for i, r in enumerate(results) if isinstance(r, BaseException)}
        lines = "; ".join(f"item {i}: {err}" for i, err in self.errors.items())
        super().__init__(f"{len(self.errors)} of {len(results)} {what} items failed ({lines})")

    def __reduce__(self) -> tuple[object, ...]:  # picklable (raised in workers, Dask)
        return (type(self), (self.results,))


# Tracebacks and reprs name them as users import them: ``audiolab.AudioError``.
for _error in (AudioError, BatchError, StoreError, ModelNotAvailableError):
    _error.__module__ = "audiolab"
