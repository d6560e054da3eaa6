"""The notebook 02 checkers accept correct answers in several styles, reject the typical
mistakes of each task with feedback that names the mistake, and spot stubs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab.exercises.numpy_softmax import check_batched_softmax, check_is_distribution
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 2.1: a batched softmax -----------------------------------------------
# Correct answers are written here by hand (and one from scipy), not from softmax_lab.


def as_float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def shifted_softmax(x, axis=-1):
    x = as_float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def moveaxis_softmax(x, axis=-1):
    rows = np.moveaxis(as_float(x), axis, -1)
    e = np.exp(rows - rows.max(axis=-1)[..., None])
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)


def scipy_with_a_cast(x, axis=-1):
    return scipy.special.softmax(as_float(x), axis=axis)


def minus_logsumexp(x, axis=-1):  # a reviewer's answer: exp(x - logsumexp), dtype restored
    x = as_float(x)
    return np.exp(x - scipy.special.logsumexp(x, axis=axis, keepdims=True)).astype(x.dtype)


def apply_along_axis(x, axis=-1):  # a reviewer's answer: one row at a time
    def row_softmax(row):
        e = np.exp(row - row.max())
        return e / e.sum()

    return np.apply_along_axis(row_softmax, axis, as_float(x))


@pytest.mark.parametrize(
    "solution",
    [shifted_softmax, moveaxis_softmax, scipy_with_a_cast, minus_logsumexp, apply_along_axis],
    ids=["by-hand", "moveaxis", "scipy", "minus-logsumexp", "apply_along_axis"],
)
def test_batched_accepts_correct_answers_in_different_styles(solution):
    report = check_batched_softmax(solution)
    assert report.passed, str(report)


def naive(x, axis=-1):
    e = np.exp(as_float(x))
    return e / e.sum(axis=axis, keepdims=True)


def shift_by(statistic):
    def answer(x, axis=-1):
        x = as_float(x)
        e = np.exp(x - statistic(x, axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    return answer


def shift_by_first_entry(x, axis=-1):  # right whenever the largest score comes first
    x = as_float(x)
    e = np.exp(x - np.take(x, [0], axis=axis))
    return e / e.sum(axis=axis, keepdims=True)


def one_max_for_the_batch(x, axis=-1):
    x = as_float(x)
    e = np.exp(x - x.max())
    return e / e.sum(axis=axis, keepdims=True)


def without_keepdims(x, axis=-1):
    x = as_float(x)
    e = np.exp(x - x.max())
    return e / e.sum(axis=axis)


def no_cast(x, axis=-1):
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def shifts_in_place(x, axis=-1):
    x -= x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def ignores_axis(x, axis=-1):
    return shifted_softmax(x)


def no_asarray(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


BATCHED_MISTAKES = [
    ("wrong axis", lambda x, axis=-1: shifted_softmax(x, axis=0), "sums to 1 along axis 0 instead"),
    ("scipy's axis=None", lambda x, axis=-1: scipy.special.softmax(as_float(x)), "axis=None"),
    ("missing keepdims", without_keepdims, "divides column j by the sum of row j"),
    ("no max shift", naive, "subtract each row's maximum"),
    ("shift by the mean", shift_by(np.mean), "the mean or the minimum"),
    ("shift by the min", shift_by(np.min), "the mean or the minimum"),
    ("one max for the batch", one_max_for_the_batch, "not one maximum of the whole array"),
    ("shift by the first entry", shift_by_first_entry, "shifted by the first entry, not the max"),
    ("no float cast (uint8 wraps)", no_cast, "wraps around to 254"),
    (
        "cast down to float32",
        lambda x, axis=-1: shifted_softmax(np.asarray(x, np.float32), axis),
        "cast float64 down",
    ),
    (
        "cast up to float64",
        lambda x, axis=-1: shifted_softmax(np.asarray(x, float), axis),
        "the task asks you to keep float32 as float32",
    ),
    ("in-place shift", shifts_in_place, "modified its input x in place"),
    ("ignores the axis argument", ignores_axis, "use the axis argument"),
    (
        "a list for an array",
        lambda x, axis=-1: shifted_softmax(x, axis).tolist(),
        "return a NumPy array",
    ),
    ("no np.asarray for a list", no_asarray, "convert it with np.asarray"),
    (
        "torch where NumPy is asked",
        lambda x, axis=-1: torch.softmax(torch.from_numpy(as_float(x)), dim=axis).numpy(),
        "asks for NumPy only",
    ),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), BATCHED_MISTAKES, ids=[m[0] for m in BATCHED_MISTAKES]
)
def test_batched_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_batched_softmax(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


@pytest.mark.parametrize(
    "returned",
    [np.array([]), np.array(0.5), np.zeros((5, 5)), np.ones(3, dtype=complex), "abc", {}],
    ids=["empty", "0-d", "5x5", "complex", "str", "dict"],
)
def test_batched_reports_any_shape_or_type_without_crashing(returned):
    report = check_batched_softmax(lambda x, axis=-1: returned)
    assert not report.passed and len(report.failures) >= 14, str(report)


def test_batched_stub_is_not_finished_and_none_is_reported():
    assert unfinished(check_batched_softmax(stub))
    assert none_reported(check_batched_softmax(forgets_return))


# --- Exercise 2.2: the row-sum check -----------------------------------------------


def is_distribution(p, axis=-1):
    p = np.asarray(p)
    in_range = bool(np.all((p >= 0) & (p <= 1)))
    return in_range and bool(np.allclose(p.sum(axis=axis), 1, rtol=0, atol=1e-5))


def is_distribution_numpy_bool(p, axis=-1):
    p = np.asarray(p, dtype=float)
    sums = np.sum(p, axis=axis)
    return np.all(p >= 0) & np.all(p <= 1) & np.all(np.abs(sums - 1) <= 1e-5)


def is_distribution_loop(p, axis=-1):  # a reviewer's answer: plain Python over each slice
    p = np.moveaxis(np.asarray(p, dtype=float), axis, -1)
    for index in np.ndindex(p.shape[:-1]):
        total = 0.0
        for value in p[index]:
            if not 0 <= value <= 1:
                return False
            total += value
        if abs(total - 1) > 1e-5:
            return False
    return True


def is_distribution_float64_sums(p, axis=-1):  # a reviewer's answer: isfinite, float64 sums
    p = np.asarray(p)
    sums = p.sum(axis=axis, dtype=np.float64)
    return bool(np.isfinite(p).all() and (p >= 0).all() and (np.abs(sums - 1) <= 1e-4).all())


@pytest.mark.parametrize(
    "solution",
    [
        is_distribution,
        is_distribution_numpy_bool,
        is_distribution_loop,
        is_distribution_float64_sums,
    ],
)
def test_row_sum_check_accepts_correct_answers_in_different_styles(solution):
    report = check_is_distribution(solution)
    assert report.passed, str(report)


ROW_SUM_MISTAKES = [
    (
        "sums only",
        lambda p, axis=-1: bool(np.allclose(p.sum(axis=axis), 1)),
        "summing to 1 is not enough",
    ),
    (
        "exact equality",
        lambda p, axis=-1: bool(np.all((p >= 0) & (p <= 1)) and np.all(p.sum(axis=axis) == 1)),
        "not == 1",
    ),
    ("ignores axis", lambda p, axis=-1: is_distribution(p), "you ignored the axis argument"),
    (
        "total only",
        lambda p, axis=-1: bool(np.all(p >= 0) and np.isclose(np.sum(p), 1)),
        "sum along",
    ),
    (
        "strict inequalities",
        lambda p, axis=-1: bool(
            np.all((p > 0) & (p < 1)) and np.allclose(p.sum(axis=axis), 1, atol=1e-5)
        ),
        "exactly 0 or 1",
    ),
    (
        "tolerance too loose",
        lambda p, axis=-1: bool(
            np.all((p >= 0) & (p <= 1)) and np.allclose(p.sum(axis=axis), 1, atol=0.05)
        ),
        "tolerance is too loose",
    ),
    (
        "NaN slips through nansum",
        lambda p, axis=-1: bool(
            not np.any(p < 0)
            and np.allclose(np.nansum(p, axis=axis)[~np.isnan(p).all(axis=axis)], 1, atol=1e-5)
        ),
        "NaN is not a probability",
    ),
    (
        "no p >= 0 check",
        lambda p, axis=-1: bool(np.all(p <= 1) and np.allclose(p.sum(axis=axis), 1, atol=1e-5)),
        "check p >= 0 as well",
    ),
    (
        "absolute values sum to 1",
        lambda p, axis=-1: bool(np.allclose(np.abs(p).sum(axis=axis), 1, atol=1e-5)),
        "np.abs hides the sign",
    ),
    (
        "grand total equals the number of rows",
        lambda p, axis=-1: bool(np.all(p >= 0) and abs(p.sum() - p.size // p.shape[axis]) < 1e-5),
        "the grand total (2, the number of rows)",
    ),
    (
        "mean of the row sums is 1",
        lambda p, axis=-1: bool(np.all(p >= 0) and abs(p.sum(axis=axis).mean() - 1) < 1e-5),
        "the mean of the row sums (1) look right, but no row sums to 1",
    ),
    (
        "one answer per row",
        lambda p, axis=-1: np.isclose(np.asarray(p).sum(axis=axis), 1),
        "one answer per row",
    ),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), ROW_SUM_MISTAKES, ids=[m[0] for m in ROW_SUM_MISTAKES]
)
def test_row_sum_check_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_is_distribution(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_row_sum_check_stub_is_not_finished():
    assert unfinished(check_is_distribution(stub))
