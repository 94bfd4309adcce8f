"""Listening tests: matched stimuli, blind randomized trials, and statistics that find the truth."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import soundfile as sf

from audiolab import loudness
from audiolab.errors import AudioError
from audiolab.listening import (
    ANCHOR,
    HIDDEN_REFERENCE,
    MID_ANCHOR,
    ListeningTest,
    MemoryRecorder,
    TrialAnswer,
)
from audiolab.listening.stats import binomial_p_value, bradley_terry, mean_interval
from audiolab.testing import programme

SR = 16000


def _takes(levels_db=(-30.0, -1.0), seconds=1.5):
    """Different music at very different levels (the second one hot, near full scale)."""
    return {
        f"take {k}": (10 ** (level / 20) * programme(seconds, SR, seed=k, bpm=100 + 10 * k), SR)
        for k, level in enumerate(levels_db, 1)
    }


def _decoded_lufs(test, trial, label):
    audio, rate = sf.read(io.BytesIO(test.wav(trial, label)), always_2d=True)
    return loudness.integrated(audio.T, rate), loudness.true_peak(audio.T, rate)


def _brightness(audio):
    """Spectral centroid in Hz: what the simulated listener hears."""
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=0)))
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / SR)
    return float((spectrum * freqs).sum() / spectrum.sum())


# ------------------------------------------------------------------ matching
@pytest.mark.parametrize("kind", ["abx", "pairwise", "mushra"])
def test_the_stimuli_of_every_test_measure_within_a_tenth_of_a_lu(kind) -> None:
    takes = _takes((-35.0, -1.0, -12.0)) if kind != "abx" else _takes((-35.0, -1.0))
    test = ListeningTest(takes, kind, seed=3, trials=2 if kind == "abx" else None)
    pyloudnorm = pytest.importorskip("pyloudnorm")
    meter = pyloudnorm.Meter(SR)
    levels, peaks, independent = [], [], []
    for trial in test.trials:  # what the players get, decoded
        for label in trial.labels:
            lufs, peak = _decoded_lufs(test, trial, label)
            levels.append(lufs)
            peaks.append(peak)
            audio, _ = sf.read(io.BytesIO(test.wav(trial, label)))
            independent.append(meter.integrated_loudness(audio))
    assert max(levels) - min(levels) <= 0.1
    assert max(independent) - min(independent) <= 0.1  # pyloudnorm agrees
    assert max(peaks) <= -1.0  # under the ceiling
    assert not any(s.limited for s in test.stimuli.values())  # gain alone: nothing altered
    # the loudest level every take reaches by gain alone, at most -16 LUFS
    assert -16.0 - 0.1 <= np.mean(levels) or max(peaks) > -1.2


def test_an_explicit_level_is_met_with_the_limiter_when_a_take_needs_it() -> None:
    test = ListeningTest(_takes((-30.0, -1.0)), "abx", target_lufs=-9.0, seed=0)
    levels = [s.lufs for s in test.stimuli.values()]
    assert all(abs(v + 9.0) <= 0.1 for v in levels)
    assert any(s.limited for s in test.stimuli.values())
    assert all(s.true_peak_dbtp <= -1.0 for s in test.stimuli.values())


# ------------------------------------------------------------------ blind and randomized
def test_the_order_comes_from_the_seed_and_the_listener() -> None:
    takes = _takes((-20.0, -20.0, -20.0))
    first = ListeningTest(takes, "pairwise", seed=5, listener="ann")
    again = ListeningTest(takes, "pairwise", seed=5, listener="ann")
    other = ListeningTest(takes, "pairwise", seed=5, listener="bob")
    assert [t.stimuli for t in first.trials] == [t.stimuli for t in again.trials]
    assert [t.stimuli for t in first.trials] != [t.stimuli for t in other.trials]
    assert first.test_id == other.test_id  # same takes: one test, two listeners
    # every pair twice, once on each side
    pairs = [t.stimuli for t in first.trials]
    assert len(pairs) == 6 and len(set(pairs)) == 6
    assert {frozenset(p) for p in pairs} == {
        frozenset(p) for p in [("take 1", "take 2"), ("take 1", "take 3"), ("take 2", "take 3")]
    }


def test_abx_puts_x_on_either_side_about_half_the_time() -> None:
    test = ListeningTest(_takes((-20.0, -20.0)), "abx", trials=200, seed=1)
    x_is_a = [t.stimuli[2] == t.stimuli[0] for t in test.trials]
    first_is_take_1 = [t.stimuli[0] == "take 1" for t in test.trials]
    assert 70 < sum(x_is_a) < 130 and 70 < sum(first_is_take_1) < 130  # binomial(200, 1/2)
    assert all(t.labels == ("A", "B", "X") for t in test.trials)


def test_the_app_shows_labels_never_condition_names() -> None:
    pytest.importorskip("ipywidgets")
    takes = {"model-big": _takes()["take 1"], "model-small": _takes()["take 2"]}
    test = ListeningTest(takes, "abx", trials=3, seed=2)
    app = test._app if hasattr(test, "_app") else None
    assert app is None
    widget = test.widget
    texts = []

    def walk(w):
        for attr in ("value", "description"):
            value = getattr(w, attr, None)
            if isinstance(value, str):
                texts.append(value)
        for child in getattr(w, "children", ()):
            walk(child)

    walk(widget)
    shown = " ".join(texts)
    assert "model-big" not in shown and "model-small" not in shown
    assert "X is A" in shown and "trial 1 of 3" in shown


# ------------------------------------------------------------------ ABX
def test_a_listener_who_hears_the_difference_passes_abx_and_a_guesser_does_not() -> None:
    clean = programme(1.5, SR, seed=1)
    dull = _lowpassed(clean, 2000.0)  # the same music, duller
    takes = {"clean": (clean, SR), "dull": (0.3 * dull, SR)}  # and quieter: matching undoes it
    rng = np.random.default_rng(0)
    hearing = ListeningTest(takes, "abx", seed=11, listener="hears")
    while (trial := hearing.current) is not None:
        # compares X's brightness with A's and B's, through 10 % perceptual noise
        heard = {k: _brightness(hearing.audio(trial, k)) * rng.normal(1, 0.1) for k in "ABX"}
        hearing.answer(min("AB", key=lambda k: abs(heard[k] - heard["X"])))
    guessing = ListeningTest(takes, "abx", seed=11, listener="guesses", store=hearing.recorder)
    while guessing.current is not None:
        guessing.answer(str(rng.choice(["A", "B"])))
    table = hearing.results().table.set_index("listener")
    assert table.loc["hears", "trials"] == 16 and table.loc["hears", "p_value"] < 0.01
    assert table.loc["guesses", "p_value"] >= 0.01


def test_guessing_listeners_pass_abx_no_more_often_than_one_in_a_hundred() -> None:
    rng = np.random.default_rng(1)
    guesses = rng.random((2000, 16)) < 0.5
    passed = [binomial_p_value(int(g.sum()), 16) < 0.01 for g in guesses]
    assert np.mean(passed) <= 0.01  # P(14 or more of 16) = 0.0021


def test_binomial_p_value_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for correct, total, chance in [(12, 16, 0.5), (0, 10, 0.5), (30, 40, 0.5), (5, 9, 0.3)]:
        expected = stats.binomtest(correct, total, chance, alternative="greater").pvalue
        assert math.isclose(binomial_p_value(correct, total, chance), expected, rel_tol=1e-9)
    with pytest.raises(AudioError, match="correct must be"):
        binomial_p_value(5, 4)


def _lowpassed(audio, hz):
    from audiolab.listening import low_pass

    return low_pass(audio, SR, hz)


# ------------------------------------------------------------------ pairwise
def test_bradley_terry_recovers_the_order_of_simulated_strengths() -> None:
    truth = {"take 1": -1.2, "take 2": -0.2, "take 3": 0.4, "take 4": 1.0}  # log-odds, mean 0
    takes = _takes((-20.0, -20.0, -20.0, -20.0), seconds=1.0)
    recorder, rng = MemoryRecorder(), np.random.default_rng(4)
    for listener in range(8):
        test = ListeningTest(
            takes, "pairwise", seed=9, listener=f"l{listener}", trials=4, store=recorder
        )
        while (trial := test.current) is not None:
            a, b = trial.stimuli
            p_a = 1 / (1 + math.exp(truth[b] - truth[a]))
            test.answer("A" if rng.random() < p_a else "B")
    table = test.results().table
    assert list(table["condition"]) == sorted(truth, key=truth.get, reverse=True)
    assert table["comparisons"].tolist() == [96] * 4  # 8 listeners x 3 pairs x 4
    covered = [row.ci_low <= truth[row.condition] <= row.ci_high for row in table.itertuples()]
    assert sum(covered) >= 3  # 95 % intervals


def test_bradley_terry_of_two_conditions_is_the_log_odds() -> None:
    bt = bradley_terry([0] * 30 + [1] * 10, [1] * 30 + [0] * 10, 2, prior_sd=1e6)
    assert math.isclose(bt.strengths[0] - bt.strengths[1], math.log(3), rel_tol=1e-6)
    # the Wald standard error of a log-odds: sqrt(1 / 30 + 1 / 10)
    se_difference = math.sqrt(bt.standard_errors[0] ** 2 * 4)
    assert math.isclose(se_difference, math.sqrt(1 / 30 + 1 / 10), rel_tol=1e-6)


def test_a_take_that_always_wins_gets_a_finite_strength_and_a_wide_interval() -> None:
    bt = bradley_terry([0] * 10, [1] * 10, 3)
    assert np.all(np.isfinite(bt.strengths)) and bt.strengths[0] > bt.strengths[2] > bt.strengths[1]
    assert bt.ci_high[0] - bt.ci_low[0] > 5


# ------------------------------------------------------------------ MUSHRA
def test_mushra_hides_the_reference_and_a_low_passed_anchor_among_the_conditions() -> None:
    takes = {
        "original": (programme(1.5, SR, seed=1), SR),
        "codec": (programme(1.5, SR, seed=2), SR),
    }
    test = ListeningTest(takes, "mushra", seed=0, mid_anchor=True)
    (trial,) = test.trials
    assert trial.labels == ("reference", "1", "2", "3", "4")
    assert trial.stimuli[0] == "original"
    assert sorted(trial.stimuli[1:]) == sorted([HIDDEN_REFERENCE, ANCHOR, MID_ANCHOR, "codec"])
    reference = test.audio(trial, "reference")
    hidden = test.audio(trial, trial.labels[trial.stimuli.index(HIDDEN_REFERENCE)])
    np.testing.assert_array_equal(hidden, reference)

    def share_above(audio, hz):
        spectrum = np.abs(np.fft.rfft(audio.mean(axis=0))) ** 2
        return spectrum[np.fft.rfftfreq(audio.shape[1], 1 / SR) > hz].sum() / spectrum.sum()

    anchor = test.stimuli[ANCHOR].audio
    assert share_above(reference, 4000) > 1e-3
    assert share_above(anchor, 4000) < 1e-3 * share_above(reference, 4000)
    assert share_above(test.stimuli[MID_ANCHOR].audio, 8000) < 1e-4


def test_mushra_means_intervals_and_post_screening() -> None:
    items = [
        {
            "original": (programme(1.0, SR, seed=s), SR),
            "codec": (0.5 * programme(1.0, SR, seed=s + 9), SR),
        }
        for s in (1, 2)
    ]
    recorder = MemoryRecorder()
    scores = {  # listener -> condition -> score (the same for both items)
        "ann": {HIDDEN_REFERENCE: 100, ANCHOR: 20, "codec": 70},
        "bob": {HIDDEN_REFERENCE: 95, ANCHOR: 30, "codec": 60},
        "cat": {HIDDEN_REFERENCE: 92, ANCHOR: 10, "codec": 80},
        "dan": {HIDDEN_REFERENCE: 50, ANCHOR: 30, "codec": 90},  # cannot find the reference
    }
    for listener, given in scores.items():
        test = ListeningTest(items, "mushra", seed=1, listener=listener, store=recorder)
        while (trial := test.current) is not None:
            conditions = [s.split("/", 1)[1] for s in trial.stimuli[1:]]
            test.answer([given[c] for c in conditions], seconds=20.0)
    results = test.results()
    assert results.excluded == {"dan": "rated the hidden reference under 90 in 2 of 2 items"}
    table = results.table.set_index("condition")
    for condition in (HIDDEN_REFERENCE, ANCHOR, "codec"):
        kept = [scores[name][condition] for name in ("ann", "bob", "cat")] * 2
        assert mean_interval(kept)[0] == np.mean(kept)
        assert table.loc[condition, "ratings"] == 6
        assert math.isclose(table.loc[condition, "mean"], np.mean(kept))
        stats = pytest.importorskip("scipy.stats")
        half = stats.t.ppf(0.975, 5) * np.std(kept, ddof=1) / math.sqrt(6)
        assert math.isclose(table.loc[condition, "ci_high"], np.mean(kept) + half)
    assert list(results.table["condition"]) == [HIDDEN_REFERENCE, "codec", ANCHOR]
    assert "3 listeners kept, 1 excluded" in results.summary()


def test_mushra_answers_are_checked() -> None:
    takes = {"original": (programme(1.0, SR), SR), "codec": (programme(1.0, SR, seed=3), SR)}
    test = ListeningTest(takes, "mushra", seed=0)
    with pytest.raises(AudioError, match="3 scores from 0 to 100"):
        test.answer([50, 50])
    with pytest.raises(AudioError, match="3 scores from 0 to 100"):
        test.answer([50, 50, 101])
    answer = test.answer({"1": 10, "2": 20, "3": 30})
    assert answer.answer == (10.0, 20.0, 30.0) and test.done


# ------------------------------------------------------------------ recording
def test_a_listener_who_comes_back_resumes_where_they_stopped() -> None:
    recorder, takes = MemoryRecorder(), _takes((-20.0, -20.0))
    first = ListeningTest(takes, "abx", trials=4, seed=7, listener="ann", store=recorder)
    first.answer("A", seconds=1.0)
    first.answer("B", seconds=2.0)
    again = ListeningTest(takes, "abx", trials=4, seed=7, listener="ann", store=recorder)
    assert again.answered == 2 and again.current.index == 3
    with pytest.raises(AudioError, match="another order"):
        ListeningTest(takes, "abx", trials=4, seed=8, listener="ann", store=recorder)


def test_answers_record_the_stimuli_and_the_time_taken() -> None:
    test = ListeningTest(_takes((-20.0, -20.0)), "abx", trials=2, seed=0, listener="ann")
    trial = test.current
    answer = test.answer("B")
    assert answer.stimuli == trial.stimuli and answer.trial == 1 and answer.listener == "ann"
    assert 0.0 <= answer.seconds < 60.0
    frame = test.results().trials
    assert list(frame.columns[:7]) == [
        "test_id",
        "kind",
        "listener",
        "trial",
        "stimuli",
        "answer",
        "seconds",
    ]
    assert frame.loc[0, "correct"] == (trial.stimuli[1] == trial.stimuli[2])


# ------------------------------------------------------------------ bad input
def test_bad_tests_are_refused_with_what_is_wrong() -> None:
    takes = _takes((-20.0, -20.0, -20.0))
    with pytest.raises(AudioError, match="ABX test compares two takes, got 3"):
        ListeningTest(takes, "abx")
    with pytest.raises(AudioError, match="kind must be one of"):
        ListeningTest(takes, "triangle")
    with pytest.raises(AudioError, match="share one sample rate"):
        ListeningTest([(programme(1, 8000), 8000), (programme(1, 16000), 16000)], "abx")
    with pytest.raises(AudioError, match="silent"):
        ListeningTest([(np.zeros(16000), 16000), (programme(1, 16000), 16000)], "abx")
    with pytest.raises(AudioError, match="needs sample_rate"):
        ListeningTest([np.zeros(16000), np.zeros(16000)], "abx")
    with pytest.raises(AudioError, match="reference 'x' is not one"):
        ListeningTest(takes, "mushra", reference="x")
    test = ListeningTest(_takes((-20.0, -20.0)), "abx", trials=1)
    with pytest.raises(AudioError, match="answer 'A' or 'B'"):
        test.answer("X")
    test.answer("A")
    with pytest.raises(AudioError, match="every trial"):
        test.answer("A")


def test_the_app_runs_a_mushra_session_by_its_sliders() -> None:
    pytest.importorskip("ipywidgets")
    from audiolab.ui.listening_app import ListeningApp

    takes = {"original": (programme(1.0, SR), SR), "codec": (programme(1.0, SR, seed=3), SR)}
    test = ListeningTest(takes, "mushra", seed=0)
    app = ListeningApp(test)
    for slider, value in zip(app.sliders, (100, 40, 70), strict=True):
        slider.value = value
    app.buttons[0].click()
    assert test.done and app.buttons[0].disabled
    assert "MUSHRA" in app.message.value and "done" in app.header.value
    recorded = test.results().trials.loc[0, "answer"]
    assert recorded == [100.0, 40.0, 70.0]


def test_memory_recorder_replaces_an_answer_to_the_same_trial() -> None:
    recorder = MemoryRecorder()
    for answer in ("A", "B"):
        recorder.record_trial(TrialAnswer("t", "abx", "ann", 1, ("a", "b", "a"), answer, 1.0))
    assert [a.answer for a in recorder.trials("t")] == ["B"] and recorder.trials("u") == []
