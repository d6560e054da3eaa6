"""The notebook 01 checkers accept correct answers in several styles, reject the typical
mistakes of each task with feedback that names the mistake, and spot stubs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.special

from softmax_lab.exercises.formula import (
    check_sigmoid_via_softmax,
    check_softmax_by_hand,
    check_temperature_for_top,
)
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 1.1: softmax by hand ------------------------------------------------
# Correct answers are written here from the formula, independently of softmax_lab.


def by_hand(scores):
    exps = [math.exp(z) for z in scores]
    total = sum(exps)
    return [e / total for e in exps]


def by_hand_numpy(scores):
    e = np.exp(np.asarray(scores, dtype=float))
    return e / e.sum()


def by_hand_shifted(scores):
    top = max(scores)
    exps = [math.exp(z - top) for z in scores]
    return [e / math.fsum(exps) for e in exps]


def by_hand_via_logsumexp(scores):
    """The reviewer's style: probabilities as exp(z - logsumexp)."""
    top = max(scores)
    log_total = top + math.log(sum(math.exp(z - top) for z in scores))
    return [math.exp(z - log_total) for z in scores]


def one_over_sum_of_ratios(scores):
    """softmax_i = 1 / sum_j exp(z_j - z_i), one loop per entry."""
    return [1.0 / sum(math.exp(y - z) for y in scores) for z in scores]


def mean_shifted_numpy(scores):
    a = np.asarray(scores, dtype=float)
    e = np.exp(a - a.mean())
    return e / e.sum()


@pytest.mark.parametrize(
    "solution",
    [
        by_hand,
        by_hand_numpy,
        by_hand_shifted,
        by_hand_via_logsumexp,
        one_over_sum_of_ratios,
        mean_shifted_numpy,
        scipy.special.softmax,
    ],
)
def test_by_hand_accepts_correct_answers_in_different_styles(solution):
    report = check_softmax_by_hand(solution)
    assert report.passed, str(report)


def mutates_its_input(scores):
    for i, z in enumerate(scores):
        scores[i] = math.exp(z)
    total = sum(scores)
    return [e / total for e in scores]


def drops_the_last_score(scores):
    exps = [math.exp(scores[i]) for i in range(len(scores) - 1)]
    return [e / sum(exps) for e in exps]


BY_HAND_MISTAKES = [
    ("plain normalisation", lambda x: np.asarray(x) / np.sum(x), "plain normalisation"),
    ("exp over sum of scores", lambda x: np.exp(x) / np.sum(x), "sum of the scores"),
    ("no normalisation", lambda x: np.exp(x), "not normalised"),
    ("divides by the max", lambda x: np.exp(x) / np.exp(x).max(), "largest exponential"),
    ("sign error exp(-z)", lambda x: by_hand([-z for z in x]), "exp(-z) instead of exp(z)"),
    ("hard-coded example", lambda x: [0.659, 0.2424, 0.0986], "hard-code the worked example"),
    ("off-by-one loop", drops_the_last_score, "left out of a loop"),
    ("in-place mutation", mutates_its_input, "it wrote into the caller's list"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), BY_HAND_MISTAKES, ids=[m[0] for m in BY_HAND_MISTAKES]
)
def test_by_hand_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_softmax_by_hand(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_by_hand_reports_a_stub_as_not_finished_and_a_none_per_check():
    assert unfinished(check_softmax_by_hand(stub))
    assert none_reported(check_softmax_by_hand(forgets_return))


def test_by_hand_turns_a_learner_exception_into_feedback():
    report = check_softmax_by_hand(lambda x: 1 / 0)
    assert not report.passed
    assert says(report, "ZeroDivisionError")


# --- Exercise 1.2: the temperature for a target probability -----------------------


def top_probability(scores, temperature):
    z = np.asarray(scores, dtype=float) / temperature
    p = np.exp(z - z.max())
    return p.max() / p.sum()


def bisect_temperature(scores, top):
    """Top probability falls as T grows: bisect on log T (independent of the library)."""
    low, high = math.log(1e-4), math.log(1e4)
    for _ in range(200):
        mid = (low + high) / 2
        if top_probability(scores, math.exp(mid)) > top:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2)


def brentq_temperature(scores, top):
    """A root finder on log T, returned as a length-1 array."""
    log_t = scipy.optimize.brentq(
        lambda s: top_probability(scores, math.exp(s)) - top, -10.0, 10.0, xtol=1e-12
    )
    return np.array([math.exp(log_t)])


def closed_form_or_bisect(scores, top):
    # Two classes with gap d: top = sigmoid(d / T), so T = d / log(top / (1 - top)).
    if len(scores) == 2:
        return np.float64(abs(scores[0] - scores[1]) / math.log(top / (1 - top)))
    return bisect_temperature(scores, top)


def expanding_bracket(scores, top):
    """Double or halve T until the target is bracketed, then bisect on log T."""
    low = high = 1.0
    while top_probability(scores, low) <= top:
        low /= 2
    while top_probability(scores, high) > top:
        high *= 2
    for _ in range(100):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if top_probability(scores, mid) > top else (low, mid)
    return mid


@pytest.mark.parametrize(
    "solution",
    [bisect_temperature, brentq_temperature, closed_form_or_bisect, expanding_bracket],
    ids=["bisection", "brentq-length-1-array", "closed-form", "expanding-bracket"],
)
def test_temperature_accepts_correct_answers_in_different_styles(solution):
    report = check_temperature_for_top(solution)
    assert report.passed, str(report)


def narrow_bracket(scores, top):
    low, high = 0.1, 10.0
    for _ in range(60):
        mid = (low + high) / 2
        if top_probability(scores, mid) > top:
            low = mid
        else:
            high = mid
    return (low + high) / 2  # stuck at 0.1 or 10 when the answer lies outside


def tunes_the_first_entry(scores, top):
    low, high = math.log(1e-3), math.log(1e3)
    for _ in range(60):
        mid = (low + high) / 2
        z = np.asarray(scores) / math.exp(mid)
        first = np.exp(z - z.max())[0] / np.exp(z - z.max()).sum()
        if first > top:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2)


def stops_early(scores, top):
    low, high = math.log(1e-3), math.log(1e3)
    while True:
        mid = (low + high) / 2
        reached = top_probability(scores, math.exp(mid))
        if abs(reached - top) < 5e-3:
            return math.exp(mid)
        low, high = (mid, high) if reached > top else (low, mid)


def inverted_bisection(scores, top):
    """Moves the wrong way: ends at the top of its bracket, T = 1000."""
    low, high = math.log(1e-3), math.log(1e3)
    for _ in range(60):
        mid = (low + high) / 2
        if top_probability(scores, math.exp(mid)) > top:
            high = mid
        else:
            low = mid
    return math.exp((low + high) / 2)


def forgets_to_exponentiate(scores, top):
    return math.log(bisect_temperature(scores, top))


TEMPERATURE_MISTAKES = [
    ("inverse temperature", lambda s, t: 1 / bisect_temperature(s, t), "inverse temperature"),
    ("returns log T", forgets_to_exponentiate, "returned log T"),
    ("hard-coded answer", lambda s, t: 0.4320, "do not hard-code it"),
    ("first entry, not the max", tunes_the_first_entry, "use max(p), not p[0]"),
    ("loose stopping rule", stops_early, "not within 0.001"),
    ("search range too narrow", narrow_bracket, "edge of your search range"),
    ("bisection moves the wrong way", inverted_bisection, "check which way you move"),
    ("negative temperature", lambda s, t: -bisect_temperature(s, t), "finite and > 0"),
    ("not a number", lambda s, t: "hot", "expected one number"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), TEMPERATURE_MISTAKES, ids=[m[0] for m in TEMPERATURE_MISTAKES]
)
def test_temperature_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_temperature_for_top(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_temperature_blames_p0_only_when_the_other_cases_pass():
    """An inverted bisection also fails [0.1, 2.0, 1.0]; max(p) vs p[0] is not its mistake."""
    assert says(check_temperature_for_top(tunes_the_first_entry), "use max(p), not p[0]")
    assert not says(check_temperature_for_top(inverted_bisection), "use max(p), not p[0]")


def writes_into_scores_and_returns_it(scores):
    """The reviewer's answer: right values, but the caller's list now holds them."""
    for i, z in enumerate(scores):
        scores[i] = math.exp(z)
    total = sum(scores)
    for i in range(len(scores)):
        scores[i] /= total
    return scores


def test_by_hand_in_place_feedback_is_about_the_list():
    report = check_softmax_by_hand(writes_into_scores_and_returns_it)
    assert not report.passed
    assert says(report, "leaves the caller's scores unchanged (it wrote into the caller's list")
    assert not says(report, "scores -= m")


def test_temperature_says_which_way_to_go():
    report = check_temperature_for_top(lambda scores, top: 1.0)
    assert says(report, "a smaller T sharpens") and says(report, "a larger T flattens")


@pytest.mark.parametrize("temperature", [800.0, 1e308, 2.0**70, 1e-300, 5e-324])
def test_temperature_reports_huge_and_tiny_answers_without_crashing(temperature):
    """T above about 709 overflowed math.exp in the log-T diagnosis; T = 5e-324 makes
    scores / T overflow. Both are wrong answers to report, not a checker crash."""
    report = check_temperature_for_top(lambda scores, top: temperature)
    assert not report.passed
    assert says(report, "a smaller T sharpens" if temperature > 1 else "a larger T flattens")


def test_temperature_stub_is_not_finished_and_none_is_reported():
    assert unfinished(check_temperature_for_top(stub))
    assert none_reported(check_temperature_for_top(forgets_return))


# --- Exercise 1.3: sigmoid as a two-class softmax ---------------------------------


def two_class_softmax(z):
    z = np.asarray(z, dtype=float)
    pairs = np.stack([z, np.zeros_like(z)], axis=-1)
    e = np.exp(pairs - pairs.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True))[..., 0]


def via_exp_of_minus_abs(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def via_tanh(z):
    return 0.5 * (1 + np.tanh(np.asarray(z, dtype=float) / 2))


def via_logaddexp(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def pairs_on_axis_0(z):
    z = np.asarray(z, dtype=float)
    pairs = np.stack([z, np.zeros_like(z)])  # the pair is axis 0 here
    e = np.exp(pairs - pairs.max(axis=0))
    return (e / e.sum(axis=0))[0]


def in_float32(z):
    """float32 is not asked for, and it is accurate enough (about 1e-7)."""
    return scipy.special.expit(np.asarray(z, dtype=np.float32))


@pytest.mark.parametrize(
    "solution",
    [
        two_class_softmax,
        via_exp_of_minus_abs,
        scipy.special.expit,
        via_tanh,
        via_logaddexp,
        pairs_on_axis_0,
        in_float32,
    ],
)
def test_sigmoid_accepts_correct_answers_in_different_styles(solution):
    report = check_sigmoid_via_softmax(solution)
    assert report.passed, str(report)


def softmax_across_all_values(z):
    pairs = np.stack([z, np.zeros_like(z)])  # shape (2, n): softmax over the n values
    e = np.exp(pairs - pairs.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True))[0]


def one_number_at_a_time(z):
    return 1 / (1 + math.exp(-z))


def naive_formula(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))  # right values, but exp(1000) overflows


def where_computes_both_branches(z):
    z = np.asarray(z, dtype=float)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def clipped_at_30(z):
    z = np.clip(np.asarray(z, dtype=float), -30, 30)
    return 1 / (1 + np.exp(-z))


def flattened(z):
    return scipy.special.expit(np.asarray(z, dtype=float).ravel())


def flat_list(z):
    return [float(scipy.special.expit(v)) for v in np.ravel(z)]


SIGMOID_MISTAKES = [
    ("the other class", lambda z: 1 - two_class_softmax(z), "sigmoid(-z)"),
    (
        "overflowing formula, NaN",
        lambda z: np.exp(z) / (np.exp(z) + 1),
        "above float64's largest number",
    ),
    ("naive 1 / (1 + exp(-z)), right values", naive_formula, "the task asks for no overflow"),
    ("np.where over both branches", where_computes_both_branches, "computes both branches"),
    ("z clipped to +-30", clipped_at_30, "sigma(-30), did you clip z?"),
    ("flattened output", flattened, "you flattened z"),
    ("a flat list", flat_list, "returned a list; return a NumPy array"),
    (
        "both columns",
        lambda z: np.stack([two_class_softmax(z), 1 - two_class_softmax(z)], -1),
        "[..., 0]",
    ),
    ("wrong axis", softmax_across_all_values, "normalised on its own"),
    ("second score 1", lambda z: two_class_softmax(np.asarray(z) - 1), "second score must be 0"),
    ("scalar-only code", one_number_at_a_time, "one number at a time"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), SIGMOID_MISTAKES, ids=[m[0] for m in SIGMOID_MISTAKES]
)
def test_sigmoid_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_sigmoid_via_softmax(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_sigmoid_rejects_in_place_changes_to_z():
    def mutates(z):
        z -= 0.0  # harmless in value, but it writes into the caller's array
        z *= -1
        return scipy.special.expit(-z)

    assert says(check_sigmoid_via_softmax(mutates), "it wrote into the caller's z")


def test_sigmoid_stub_is_not_finished():
    assert unfinished(check_sigmoid_via_softmax(stub))
    assert none_reported(check_sigmoid_via_softmax(forgets_return))
