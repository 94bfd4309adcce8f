"""The product promise, judged by libebur128 and a 16x band-limited true peak, in every format.

The representative grid of :mod:`sweep` (every material x every format, the
input level, target, rate and channels going round, plus issue 15's cases):
each file is read back (decoded, for lossy formats) and judged by
independent meters. A feasible case must land within ±0.5 LU of its target
(the goal is 0.1 LU) with its true peak under the ceiling; a case the writer
calls infeasible must say why, and which cases those are is pinned below so
that a change in what is reachable shows (the full grid is
``benchmarks/export.py``).

About 45 s on this machine for the 71 cases.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from audiolab.export import export

from . import sweep

#: Inputs under the -70 LUFS absolute gate: BS.1770 measures no loudness in them.
SILENT = {c.id for c in sweep.ci_grid() if c.level < -70}
#: What the writer reports out of reach (the reason is checked): -9 LUFS from material whose
#: limiter output cannot get there under -1 dBTP, or, for lossy files, under the lower
#: pre-encoder ceiling the encoder's own true-peak overshoot asks for.
INFEASIBLE = {
    "bursty@-23->-9-48k-stereo-wav-PCM_16",
    "music@-67.7->-9-8k-mono-opus",
    "transient@-23->-9-48k-stereo-mp3",
    "bursty@0->-9-192k-mono-opus",
    "dc@-67.7->-9-44.1k-mono-mp3",
    "sub_bass@-23->-9-44.1k-mono-opus",
    "speech@-45->-9-192k-mono-opus",
    "speech@-23->-9-96k-stereo-mp3",
}
#: Files whose true peak audiolab's meter reads under the ceiling and the 16x reference over
#: it. The reference is *ideal* interpolation (a brick wall at the Nyquist frequency); the
#: meter's 32-tap Kaiser sinc rolls off from about 82 % of it and read full-band material
#: (bursts, clicks, limited noise-like music) up to 0.8 dB low: six files were over by
#: 0.2 to 0.7 dB. The limiter and the normalizer now hold the ceiling by the ideal true peak
#: too (audiolab.loudness.ideal; benchmarks/truepeak.py), so the set is empty; a case that
#: regresses goes here, pinned as a strict xfail.
METER_MISSES_TRUE_PEAK: set[str] = set()


def _params() -> list[object]:
    out = []
    for case in sweep.ci_grid():
        marks = []
        if case.id in METER_MISSES_TRUE_PEAK:
            marks.append(
                pytest.mark.xfail(
                    strict=True,
                    reason="the meter's true peak reads under the 16x reference's (see above)",
                )
            )
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_every_feasible_export_holds_and_every_other_says_why(
    case: sweep.Case, tmp_path: Path
) -> None:
    outcome = sweep.run_case(case, tmp_path, export)
    if case.id in SILENT:  # refused before anything is written, saying why
        assert outcome.error and "silent (below the -70 LUFS gate)" in outcome.error
        assert list(tmp_path.iterdir()) == []
        return
    assert outcome.error is None
    assert outcome.lufs is not None and outcome.true_peak is not None
    # the result is what the file measures: audiolab's meter agrees with libebur128
    assert outcome.reported_lufs == pytest.approx(outcome.lufs, abs=0.03)
    # the ceiling holds by the 16x band-limited reference, reached or not
    assert outcome.true_peak <= sweep.CEILING
    if case.id in INFEASIBLE:
        assert outcome.within is False
        assert outcome.message and "cannot reach" in outcome.message
        assert outcome.lufs < case.target - 0.5  # it misses by more than the tolerance
        return
    assert outcome.within is True and outcome.message is None
    assert outcome.deviation <= 0.5
    if case.format in ("wav", "flac"):
        assert outcome.deviation <= 0.1  # the goal, held for lossless files


def test_the_pinned_sets_name_cases_of_the_grid() -> None:
    ids = {case.id for case in sweep.ci_grid()}
    assert INFEASIBLE <= ids and METER_MISSES_TRUE_PEAK <= ids
    assert all(math.isfinite(case.target) for case in sweep.ci_grid())
