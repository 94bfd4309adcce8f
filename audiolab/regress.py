"""Regression baselines: compare a run's numbers with a saved baseline, within tolerances.

A run's *results* are cases (a grid point: prompt, seed, target...) each
with named values (loudness, tempo, key, metrics). A baseline is the same
in a JSON file, with the tolerances and what made it (``meta``).
:func:`compare` checks every value: numbers within their tolerance, text
equal, nothing missing and nothing new; :func:`update_baseline` writes a new
baseline from a run, the one explicit call that accepts a change.

Tolerances go by value name: a number is absolute (``{"integrated_lufs":
0.05}``), a percentage is relative to the baseline's value
(``{"frechet_distance": "1%"}``, for values whose scale is the model's);
``"*"`` covers the others. Without one a number must match to a relative
``1e-9`` (round-off).

Examples
--------
>>> import tempfile, pathlib
>>> from audiolab import regress
>>> path = pathlib.Path(tempfile.mkdtemp()) / "baseline.json"
>>> run = {"techno/seed1": {"integrated_lufs": -16.01, "key": "A minor"}}
>>> _ = regress.update_baseline(run, path, tolerances={"integrated_lufs": 0.05})
>>> regress.compare({"techno/seed1": {"integrated_lufs": -16.03, "key": "A minor"}}, path).ok
True
>>> moved = regress.compare({"techno/seed1": {"integrated_lufs": -16.2, "key": "A minor"}}, path)
>>> print(moved.summary())  # doctest: +NORMALIZE_WHITESPACE
1 of 2 values drifted: techno/seed1 integrated_lufs -16.2 (baseline -16.01, drift -0.19,
tolerance 0.05)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audiolab._json import json_safe
from audiolab.errors import AudioError
from audiolab.policy import temporary_path

__all__ = [
    "BASELINE_FORMAT",
    "Comparison",
    "Drift",
    "RegressionError",
    "compare",
    "load_baseline",
    "update_baseline",
]

#: The ``audiolab_baseline`` version of the files this module writes.
BASELINE_FORMAT = 1
_ROUND_OFF = 1e-9


class RegressionError(AssertionError):
    """A run drifted from its baseline (an ``AssertionError``, so a notebook cell fails).

    Examples
    --------
    >>> issubclass(RegressionError, AssertionError)
    True
    """


@dataclass(frozen=True)
class Drift:
    """One value compared with its baseline.

    Attributes
    ----------
    case, name : str
        Where (the grid point) and what (the value's name).
    baseline, value : Any
        The baseline's value and the run's (None when absent).
    tolerance : float or None
        The absolute tolerance used (a percentage turned into one; None for text).
    drift : float or None
        ``value - baseline`` for numbers.
    ok : bool
    reason : str or None
        Why not: ``"over tolerance"``, ``"changed"``, ``"missing in the run"``,
        ``"not in the baseline"``.
    """

    case: str
    name: str
    baseline: Any
    value: Any
    tolerance: float | None
    drift: float | None
    ok: bool
    reason: str | None = None

    def describe(self) -> str:
        """One line about this value.

        Examples
        --------
        >>> Drift("c", "bpm", 120.0, 121.0, 0.5, 1.0, False, "over tolerance").describe()
        'c bpm 121.0 (baseline 120.0, drift 1, tolerance 0.5)'
        """
        if self.reason in ("missing in the run", "not in the baseline"):
            return f"{self.case} {self.name}: {self.reason}"
        if self.drift is None:
            return f"{self.case} {self.name} {self.value!r} (baseline {self.baseline!r})"
        return (
            f"{self.case} {self.name} {self.value!r} (baseline {self.baseline!r}, "
            f"drift {self.drift:.3g}, tolerance {self.tolerance:g})"
        )


@dataclass(frozen=True)
class Comparison:
    """Every value of a run against its baseline.

    Attributes
    ----------
    baseline_path : Path
    drifts : tuple of Drift
        One per value of the run or the baseline, in case and name order.
    meta_changes : dict
        ``name -> (baseline, run)`` where the baseline's ``meta`` (model,
        revision, versions) differs from the run's: the likely reason for a drift.
    """

    baseline_path: Path
    drifts: tuple[Drift, ...]
    meta_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every value is within its tolerance."""
        return all(d.ok for d in self.drifts)

    @property
    def failures(self) -> list[Drift]:
        """The values that drifted."""
        return [d for d in self.drifts if not d.ok]

    def summary(self) -> str:
        """One line: all within tolerance, or what drifted (the first five).

        Examples
        --------
        >>> Comparison(Path("b.json"), (Drift("c", "bpm", 1.0, 1.0, 0.5, 0.0, True),)).summary()
        'all 1 values within tolerance of b.json'
        """
        if self.ok:
            return f"all {len(self.drifts)} values within tolerance of {self.baseline_path.name}"
        failures = self.failures
        listed = "; ".join(d.describe() for d in failures[:5])
        more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
        text = f"{len(failures)} of {len(self.drifts)} values drifted: {listed}{more}"
        if self.meta_changes:
            changed = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in self.meta_changes.items())
            text += f" (since the baseline: {changed})"
        return text

    def assert_ok(self) -> None:
        """Raise :class:`RegressionError` naming what drifted (what a notebook's check cell calls).

        Examples
        --------
        >>> Comparison(Path("b.json"), ()).assert_ok()
        """
        if not self.ok:
            raise RegressionError(self.summary())

    def to_frame(self) -> Any:
        """The drifts as a pandas DataFrame, a row per value.

        Examples
        --------
        >>> drift = Drift("c", "bpm", 1.0, 1.1, 0.5, 0.1, True)
        >>> list(Comparison(Path("b.json"), (drift,)).to_frame().columns)[:4]
        ['case', 'name', 'baseline', 'value']
        """
        import pandas as pd

        return pd.DataFrame([asdict(d) for d in self.drifts])

    def write_report(self, path: str | os.PathLike[str]) -> Path:
        """Save this comparison as JSON (``audiolab regress`` reads it back).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.json"
        >>> Comparison(Path("b.json"), ()).write_report(out).name
        'report.json'
        """
        report = {
            "baseline": str(self.baseline_path),
            "ok": self.ok,
            "summary": self.summary(),
            "drifts": [asdict(d) for d in self.drifts],
            "meta_changes": {k: list(v) for k, v in self.meta_changes.items()},
        }
        return _write_json(Path(path), report)


def _write_json(path: Path, value: Any) -> Path:
    """``value`` as JSON at ``path``, written to a temporary name and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        temporary.write_text(json.dumps(json_safe(value), indent=1, sort_keys=True) + "\n")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _cases(results: Any) -> dict[str, dict[str, Any]]:
    """Results as ``{case: {name: value}}`` (a mapping, or a DataFrame with a ``case`` column)."""
    if hasattr(results, "to_dict") and hasattr(results, "columns"):  # a pandas DataFrame
        frame = results.set_index("case") if "case" in results.columns else results
        results = {str(k): v for k, v in frame.to_dict(orient="index").items()}
    if not isinstance(results, Mapping) or not all(
        isinstance(v, Mapping) for v in results.values()
    ):
        raise AudioError(
            "results must map each case to its values, {case: {name: value}}, "
            f"or be a DataFrame with a 'case' column; got {type(results).__name__}"
        )
    return {str(case): dict(json_safe(dict(values))) for case, values in results.items()}


def load_baseline(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A baseline file: ``{"cases": ..., "tolerances": ..., "meta": ...}``.

    Raises
    ------
    AudioError
        No such file (with how to make one), or not a baseline.

    Examples
    --------
    >>> load_baseline("/no/such/baseline.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audiolab.AudioError: no baseline at '/no/such/baseline.json': make one with ...
    """
    where = Path(path)
    if not where.is_file():
        raise AudioError(
            f"no baseline at {str(where)!r}: make one with "
            "audiolab.regress.update_baseline(results, path) (or audiolab regress --update)"
        )
    try:
        baseline = json.loads(where.read_text())
    except json.JSONDecodeError as err:
        raise AudioError(f"{str(where)!r} is not JSON: {err}") from None
    if not isinstance(baseline, dict) or "cases" not in baseline:
        raise AudioError(f"{str(where)!r} is not an audiolab baseline (no 'cases')")
    return baseline


def _tolerance(name: str, expected: float, tolerances: Mapping[str, Any]) -> float:
    """The absolute tolerance of ``name``: a number as it is, ``"x%"`` of ``expected``."""
    spec = tolerances.get(name, tolerances.get("*", 0.0))
    if isinstance(spec, str) and spec.strip().endswith("%"):
        try:
            return abs(expected) * float(spec.strip()[:-1]) / 100.0
        except ValueError:
            pass
    elif isinstance(spec, (int, float)) and not isinstance(spec, bool) and spec >= 0:
        return float(spec)
    raise AudioError(f"tolerance of {name!r} must be a number >= 0 or a percentage, got {spec!r}")


def _compare_value(
    case: str, name: str, expected: Any, actual: Any, tolerances: Mapping[str, Any]
) -> Drift:
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in (expected, actual)
    )
    if not numbers:
        same = expected == actual
        return Drift(case, name, expected, actual, None, None, same, None if same else "changed")
    if math.isnan(expected) or math.isnan(actual):
        same = math.isnan(expected) and math.isnan(actual)
        return Drift(case, name, expected, actual, None, None, same, None if same else "changed")
    tolerance = _tolerance(name, float(expected), tolerances)
    drift = float(actual) - float(expected)
    allowed = tolerance + _ROUND_OFF * max(abs(expected), abs(actual))
    ok = abs(drift) <= allowed
    return Drift(
        case, name, expected, actual, tolerance, drift, ok, None if ok else "over tolerance"
    )


def compare(
    results: Any,
    baseline_path: str | os.PathLike[str],
    tolerances: Mapping[str, Any] | None = None,
    *,
    meta: Mapping[str, Any] | None = None,
) -> Comparison:
    """Compare a run's results with the baseline at ``baseline_path``.

    Parameters
    ----------
    results : mapping or DataFrame
        ``{case: {name: value}}``, or a DataFrame with a ``case`` column.
    baseline_path : str or Path
        The baseline (JSON, from :func:`update_baseline`).
    tolerances : mapping, optional
        Tolerance by value name: absolute numbers, or percentages of the
        baseline (``"1%"``); ``"*"``: the others. Default: the baseline's own.
    meta : mapping, optional
        What made this run (model, revision...); differences from the
        baseline's are reported with the drifts.

    Returns
    -------
    Comparison
        ``.ok``, ``.failures``, ``.summary()``, ``.assert_ok()``, ``.to_frame()``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = update_baseline({"a": {"bpm": 120.0}}, pathlib.Path(tempfile.mkdtemp()) / "b.json")
    >>> [d.reason for d in compare({"a": {"bpm": 120.0}, "b": {"bpm": 90.0}}, path).drifts]
    [None, 'not in the baseline']
    """
    baseline = load_baseline(baseline_path)
    run = _cases(results)
    limits = dict(baseline.get("tolerances") or {}) if tolerances is None else dict(tolerances)
    drifts = []
    expected_cases: dict[str, dict[str, Any]] = baseline["cases"]
    for case in sorted(set(expected_cases) | set(run)):
        expected, actual = expected_cases.get(case, {}), run.get(case, {})
        for name in sorted(set(expected) | set(actual)):
            if name not in actual:
                drifts.append(
                    Drift(case, name, expected[name], None, None, None, False, "missing in the run")
                )
            elif name not in expected:
                drifts.append(
                    Drift(case, name, None, actual[name], None, None, False, "not in the baseline")
                )
            else:
                drifts.append(_compare_value(case, name, expected[name], actual[name], limits))
    changes = {}
    before = baseline.get("meta") or {}
    for key, value in json_safe(dict(meta or {})).items():
        if key in before and before[key] != value:
            changes[key] = (before[key], value)
    return Comparison(Path(baseline_path), tuple(drifts), changes)


def update_baseline(
    results: Any,
    baseline_path: str | os.PathLike[str],
    *,
    tolerances: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``results`` as the new baseline (the one explicit call that accepts a change).

    Parameters
    ----------
    results : mapping or DataFrame
        As for :func:`compare`.
    baseline_path : str or Path
        Written atomically (a temporary file renamed into place).
    tolerances : mapping, optional
        Kept in the file (default: those of the baseline it replaces, if any).
    meta : mapping, optional
        What made the run (kept in the file).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "b.json"
    >>> update_baseline({"a": {"key": "C major"}}, path, meta={"model": "tiny"}).name
    'b.json'
    >>> load_baseline(path)["cases"]
    {'a': {'key': 'C major'}}
    """
    where = Path(baseline_path)
    if tolerances is None and where.is_file():
        tolerances = load_baseline(where).get("tolerances")
    document = {
        "audiolab_baseline": BASELINE_FORMAT,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "meta": dict(meta or {}),
        "tolerances": dict(tolerances or {}),
        "cases": _cases(results),
    }
    return _write_json(where, document)
