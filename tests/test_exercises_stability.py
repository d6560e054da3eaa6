"""The notebook 03 checkers accept correct answers in several styles, reject the typical
mistakes of each task with feedback that names the mistake, and spot stubs."""

import math

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab.exercises.stability import (
    check_half_softmax,
    check_stable_log_softmax,
    check_stable_logsumexp,
)
from tests.conftest import fails_only, forgets_return, none_reported, says, stub, unfinished

# --- Exercise 3.1: a stable logsumexp ----------------------------------------------


def max_shift_logsumexp(x):
    m = np.max(x)
    if m == -np.inf:
        return -np.inf
    return m + np.log(np.sum(np.exp(x - m)))


def log1p_logsumexp(x):
    """Leave the largest term (exactly 1) out of the sum and add it back with log1p."""
    i = int(np.argmax(x))
    m = x[i]
    if m == -np.inf:
        return np.array([-np.inf])  # a length-1 array is one number too
    rest = np.delete(x, i)
    return np.array([m + np.log1p(np.sum(np.exp(rest - m)))])


def pure_python_logsumexp(x):
    m = max(x)
    if m == -math.inf:
        return -math.inf
    return m + math.log(math.fsum(math.exp(v - m) for v in x))


def logaddexp_fold(x):
    total = -np.inf
    for v in x:
        total = np.logaddexp(total, v)
    return total


def torch_float64_item(x):
    return torch.logsumexp(torch.as_tensor(x, dtype=torch.float64), 0).item()


@pytest.mark.parametrize(
    "solution",
    [
        max_shift_logsumexp,
        log1p_logsumexp,
        pure_python_logsumexp,
        scipy.special.logsumexp,
        logaddexp_fold,
        torch_float64_item,
    ],
    ids=["max-shift", "log1p-length-1-array", "pure-python", "scipy", "logaddexp", "torch"],
)
def test_logsumexp_accepts_correct_answers_in_different_styles(solution):
    report = check_stable_logsumexp(solution)
    assert report.passed, str(report)


def shift_by(statistic):
    def answer(x):
        c = statistic(x[np.isfinite(x)]) if np.isfinite(x).any() else -np.inf
        if c == -np.inf:
            return -np.inf
        return c + np.log(np.sum(np.exp(x - c)))

    return answer


def shift_by_first_entry(x):
    m = x[0] if x[0] > -np.inf else np.max(x)  # right whenever the largest score is first
    if m == -np.inf:
        return -np.inf
    return m + np.log(np.sum(np.exp(x - m)))


def shift_only(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def shifts_in_place(x):
    m = np.max(x)
    if m == -np.inf:
        return -np.inf
    x -= m
    return m + np.log(np.sum(np.exp(x)))


LOGSUMEXP_MISTAKES = [
    ("naive formula", lambda x: np.log(np.sum(np.exp(x))), "subtract the maximum"),
    ("shift by the mean", shift_by(np.mean), "the mean or the minimum"),
    ("shift by the min", shift_by(np.min), "the mean or the minimum"),
    ("shift by the first entry", shift_by_first_entry, "shifted by the first entry, not the max"),
    ("forgets to add m back", lambda x: shift_only(x) - np.max(x), "add the maximum back"),
    ("the maximum alone", lambda x: np.max(x), "the maximum alone"),
    ("sign error", lambda x: 2 * np.max(x) - shift_only(x), "sign error"),
    ("log10", lambda x: np.max(x) + np.log10(np.sum(np.exp(x - np.max(x)))), "np.log10"),
    ("all -inf row gives nan", shift_only, "return -inf for that case"),
    ("in-place shift", shifts_in_place, "modified its input x in place"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), LOGSUMEXP_MISTAKES, ids=[m[0] for m in LOGSUMEXP_MISTAKES]
)
def test_logsumexp_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_stable_logsumexp(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_logsumexp_flags_only_the_all_minus_inf_row_when_that_is_the_one_gap():
    assert fails_only(check_stable_logsumexp(shift_only), "a row of only -inf gives -inf")


def test_logsumexp_reports_a_stub_and_a_none():
    assert unfinished(check_stable_logsumexp(stub))
    assert none_reported(check_stable_logsumexp(forgets_return))


# --- Exercise 3.2: a stable log_softmax --------------------------------------------


def max_shift_log_softmax(x):
    shifted = x - np.max(x)
    return shifted - np.log(np.sum(np.exp(shifted)))


def torch_log_softmax(x):
    return torch.log_softmax(torch.from_numpy(np.asarray(x, dtype=float)), dim=-1).numpy()


def minus_logsumexp(x):
    return x - scipy.special.logsumexp(x)


def pure_python_log_softmax(x):
    m = max(x)
    log_total = m + math.log(sum(math.exp(v - m) for v in x))
    return np.array([v - log_total for v in x])


@pytest.mark.parametrize(
    "solution",
    [
        max_shift_log_softmax,
        scipy.special.log_softmax,
        torch_log_softmax,
        minus_logsumexp,
        pure_python_log_softmax,
    ],
    ids=["max-shift", "scipy", "torch", "minus-logsumexp", "pure-python"],
)
def test_log_softmax_accepts_correct_answers_in_different_styles(solution):
    report = check_stable_log_softmax(solution)
    assert report.passed, str(report)


def softmax_by_hand(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def shift_by_mean(x):
    shifted = x - np.mean(x)
    return shifted - np.log(np.sum(np.exp(shifted)))


def shift_by_first_entry_3_2(x):
    shifted = x - x[0]
    return shifted - np.log(np.sum(np.exp(shifted)))


def shifts_in_place_3_2(x):
    x -= np.max(x)
    return x - np.log(np.sum(np.exp(x)))


LOG_SOFTMAX_MISTAKES = [
    (
        "log of softmax",
        lambda x: np.log(softmax_by_hand(x)),
        "log(softmax(x)) turns an underflowed",
    ),
    ("no shift", lambda x: x - np.log(np.sum(np.exp(x))), "exp(1000) overflows"),
    ("shift by the mean", shift_by_mean, "the mean or the minimum"),
    (
        "shift by the first entry",
        shift_by_first_entry_3_2,
        "shifted by the first entry, not the max",
    ),
    ("x - max only", lambda x: x - np.max(x), "you returned x - max"),
    ("probabilities instead of logs", softmax_by_hand, "those are probabilities"),
    ("sign error", lambda x: -max_shift_log_softmax(x), "sign error"),
    ("log10", lambda x: (x - x.max()) - np.log10(np.sum(np.exp(x - x.max()))), "np.log10"),
    ("in-place shift", shifts_in_place_3_2, "modified its input x in place"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), LOG_SOFTMAX_MISTAKES, ids=[m[0] for m in LOG_SOFTMAX_MISTAKES]
)
def test_log_softmax_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_stable_log_softmax(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_log_softmax_reports_a_stub_and_a_none():
    assert unfinished(check_stable_log_softmax(stub))
    assert none_reported(check_stable_log_softmax(forgets_return))


# --- Exercise 3.3: softmax for half-precision inputs ---------------------------------


def float32_then_round(x):
    return torch.softmax(x.float(), dim=-1).to(x.dtype)


def float32_by_hand(x):
    wide = x.to(torch.float32)
    e = torch.exp(wide - wide.max())
    return (e / e.sum()).to(x.dtype)


def float64_through_numpy(x):
    wide = x.double().numpy()
    e = np.exp(wide - wide.max())
    return torch.from_numpy(e / e.sum()).to(x.dtype)


def softmax_with_dtype_argument(x):
    return torch.softmax(x, dim=-1, dtype=torch.float32).to(x.dtype)


def exp_minus_logsumexp(x):
    wide = x.to(torch.float32)
    return torch.exp(wide - torch.logsumexp(wide, 0)).to(x.dtype)


@pytest.mark.parametrize(
    "solution",
    [
        float32_then_round,
        float32_by_hand,
        float64_through_numpy,
        softmax_with_dtype_argument,
        exp_minus_logsumexp,
    ],
)
def test_half_softmax_accepts_correct_answers_in_different_styles(solution):
    report = check_half_softmax(solution)
    assert report.passed, str(report)


def computed_in_half(x):
    e = torch.exp(x - x.max())
    return e / e.sum()


def no_rounding_back(x):
    return torch.softmax(x.float(), dim=-1)


def always_float16(x):
    return torch.softmax(x.float(), dim=-1).half()


def no_shift(x):
    e = torch.exp(x.float())
    return (e / e.sum()).to(x.dtype)


def shift_by_mean(x):
    wide = x.float()
    e = torch.exp(wide - wide.mean())  # right on [100, 99, 0], overflows on [200, 0, 0]
    return (e / e.sum()).to(x.dtype)


def shift_by_first(x):
    wide = x.float()
    e = torch.exp(wide - wide[0])
    return (e / e.sum()).to(x.dtype)


def numpy_result(x):
    return float32_then_round(x).float().numpy()


def shifts_in_place(x):
    x.sub_(x.max())
    return float32_then_round(x)


HALF_MISTAKES = [
    ("computed in the half dtype", computed_in_half, "convert to float32 first"),
    ("float32 result, never rounded back", no_rounding_back, "round the result back"),
    ("hard-coded float16", always_float16, "not a fixed half type"),
    ("no max shift", no_shift, "subtract the maximum"),
    ("shift by the mean", shift_by_mean, "subtract the maximum, not the mean"),
    ("shift by the first entry", shift_by_first, "shifted by the first entry, not the max"),
    ("a NumPy array", numpy_result, "return a torch tensor"),
    ("in-place shift", shifts_in_place, "modified its input x in place"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), HALF_MISTAKES, ids=[m[0] for m in HALF_MISTAKES]
)
def test_half_softmax_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_half_softmax(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_half_softmax_in_half_fails_only_the_accuracy_checks():
    report = check_half_softmax(computed_in_half)
    assert [line.split(" (")[0] for line in report.failures] == [
        "within 1 eps of the exact softmax on a float16 row of 2000 N(0, 1) scores",
        "within 1 eps of the exact softmax on a bfloat16 row of 2000 N(0, 1) scores",
    ]


def test_half_softmax_stub_is_not_finished_and_none_is_reported():
    assert unfinished(check_half_softmax(stub))
    assert none_reported(check_half_softmax(forgets_return))
