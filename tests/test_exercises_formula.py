"""The notebook 01 checkers accept correct answers, reject the usual wrong ones, and spot stubs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab import softmax
from softmax_lab.exercises.formula import (
    check_sigmoid_via_softmax,
    check_softmax_by_hand,
    check_temperature_for_top,
)
from tests.conftest import forgets_return, none_reported, stub, unfinished

# --- Exercise 1.1: softmax by hand ------------------------------------------------


def by_hand(x):
    e = [math.exp(v) for v in x]
    return [v / sum(e) for v in e]


@pytest.mark.parametrize(
    "solution",
    [by_hand, softmax, lambda x: torch.softmax(torch.tensor(x, dtype=torch.float64), 0).numpy()],
    ids=["pure-python", "softmax_lab", "torch"],
)
def test_by_hand_accepts_correct_solutions(solution):
    report = check_softmax_by_hand(solution)
    assert report.passed, str(report)


def test_by_hand_rejects_plain_normalisation_and_names_the_mistake():
    report = check_softmax_by_hand(lambda x: np.asarray(x) / np.sum(x))
    assert not report.passed
    assert any("sum(exp(x))" in line for line in report.failures)


def test_by_hand_rejects_exponentials_without_normalising():
    report = check_softmax_by_hand(lambda x: np.exp(x))
    assert not report.passed
    assert any("sum to 1" in line for line in report.failures)


def test_by_hand_rejects_a_function_that_drops_a_score():
    report = check_softmax_by_hand(lambda x: softmax(x[:-1]))
    assert not report.passed
    assert "returns one number per score" in report.failures[0]


def test_by_hand_reports_a_stub_as_not_finished_and_a_none_per_check():
    assert unfinished(check_softmax_by_hand(stub))
    assert none_reported(check_softmax_by_hand(forgets_return))


def test_by_hand_turns_a_learner_exception_into_feedback():
    report = check_softmax_by_hand(lambda x: 1 / 0)
    assert not report.passed
    assert "ZeroDivisionError" in str(report)


# --- Exercise 1.2: the temperature for a target probability -----------------------


def bisect_temperature(scores, top):
    """Top probability falls as T grows: bisect on log T (independent of the library)."""
    x = np.asarray(scores, dtype=float)
    low, high = math.log(1e-4), math.log(1e4)
    for _ in range(200):
        mid = (low + high) / 2
        z = x / math.exp(mid)
        p = np.exp(z - z.max())
        if p.max() / p.sum() > top:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2)


def test_temperature_accepts_bisection():
    report = check_temperature_for_top(bisect_temperature)
    assert report.passed, str(report)


def test_temperature_accepts_the_closed_form_for_two_classes():
    # Two classes with gap d: top = sigmoid(d / T), so T = d / log(top / (1 - top)).
    def closed_form_or_bisect(scores, top):
        if len(scores) == 2:
            return abs(scores[0] - scores[1]) / math.log(top / (1 - top))
        return bisect_temperature(scores, top)

    report = check_temperature_for_top(closed_form_or_bisect)
    assert report.passed, str(report)


def test_temperature_rejects_a_constant_and_says_which_way_to_go():
    report = check_temperature_for_top(lambda scores, top: 1.0)
    assert not report.passed
    lines = report.failures
    assert any("smaller temperature sharpens" in line for line in lines)
    assert any("larger temperature flattens" in line for line in lines)


def test_temperature_rejects_the_inverse_temperature():
    report = check_temperature_for_top(lambda s, t: 1 / bisect_temperature(s, t))
    assert not report.passed


def test_temperature_rejects_non_positive_and_non_numbers():
    assert not check_temperature_for_top(lambda s, t: -1.0).passed
    assert not check_temperature_for_top(lambda s, t: "hot").passed


def test_temperature_stub_is_not_finished():
    assert check_temperature_for_top(stub).unfinished


# --- Exercise 1.3: sigmoid as a two-class softmax ---------------------------------


def sigmoid_via_softmax(z):
    z = np.asarray(z, dtype=float)
    return softmax(np.stack([z, np.zeros_like(z)], axis=-1))[..., 0]


def test_sigmoid_accepts_the_two_class_softmax_and_torch_sigmoid():
    assert check_sigmoid_via_softmax(sigmoid_via_softmax).passed
    assert check_sigmoid_via_softmax(lambda z: torch.sigmoid(torch.as_tensor(z)).numpy()).passed


def test_sigmoid_rejects_the_flipped_class_with_a_hint():
    report = check_sigmoid_via_softmax(lambda z: 1 - sigmoid_via_softmax(z))
    assert not report.passed
    assert any("sigmoid(-z)" in line for line in report.failures)


def test_sigmoid_rejects_an_overflowing_formula():
    report = check_sigmoid_via_softmax(lambda z: np.exp(z) / (np.exp(z) + 1))
    assert not report.passed
    assert report.failures == [
        "gives 0 and 1 (no NaN) for z = -1000 and 1000 (got [ 0. nan]; exp(1000) overflows - "
        "use softmax_lab.softmax, which shifts by the maximum)"
    ]


def test_sigmoid_rejects_a_function_returning_both_classes():
    report = check_sigmoid_via_softmax(lambda z: softmax(np.stack([z, np.zeros_like(z)], axis=-1)))
    assert not report.passed
    assert "same shape as z" in report.failures[0]


def test_sigmoid_stub_is_not_finished():
    assert check_sigmoid_via_softmax(stub).unfinished
