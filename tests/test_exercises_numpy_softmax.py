"""The notebook 02 checkers accept correct answers, reject the usual wrong ones, and spot stubs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab import naive_softmax, softmax
from softmax_lab.exercises.numpy_softmax import check_batched_softmax, check_is_distribution
from tests.conftest import stub

# --- Exercise 2.1: a batched softmax -----------------------------------------------


def shifted_softmax(x, axis=-1):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def torch_softmax(x, axis=-1):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return torch.softmax(torch.from_numpy(x), dim=axis).numpy()


@pytest.mark.parametrize(
    "solution",
    [
        shifted_softmax,
        softmax,
        torch_softmax,
        lambda x, axis=-1: scipy.special.softmax(x, axis=axis),
    ],
    ids=["by-hand", "softmax_lab", "torch", "scipy-with-axis"],
)
def test_batched_accepts_correct_solutions(solution):
    report = check_batched_softmax(solution)
    assert report.passed, str(report)


def test_batched_rejects_the_wrong_axis_and_says_which_axis_sums_to_1():
    report = check_batched_softmax(lambda x, axis=-1: shifted_softmax(x, axis=0))
    assert not report.passed
    assert any("sums to 1 along axis 0 instead" in line for line in report.failures)


def test_batched_rejects_scipys_default_axis_none():
    report = check_batched_softmax(lambda x, axis=-1: scipy.special.softmax(x))
    assert not report.passed
    assert any("axis=None" in line for line in report.failures)


def test_batched_rejects_the_missing_max_shift():
    report = check_batched_softmax(naive_softmax)
    assert not report.passed
    lines = report.failures
    assert len(lines) == 2
    assert "no overflow for x = [1000.0, 0.0]" in lines[0]
    assert "no underflow for x = [-1000.0, -1001.0]" in lines[1]


def test_batched_rejects_float64_output_for_float32_input():
    report = check_batched_softmax(lambda x, axis=-1: shifted_softmax(np.asarray(x, float), axis))
    assert report.failures == [
        "float32 input gives float32 output (no silent doubling of memory) (got float64)"
    ]


def test_batched_rejects_integer_output_for_integer_input():
    def keeps_int_dtype(x, axis=-1):
        return shifted_softmax(x, axis).astype(np.asarray(x).dtype)

    report = check_batched_softmax(keeps_int_dtype)
    assert any("integer scores" in line for line in report.failures)


def test_batched_rejects_a_missing_keepdims_even_on_a_square_batch():
    def without_keepdims(x, axis=-1):
        x = np.asarray(x, dtype=float)
        e = np.exp(x - x.max())
        return e / e.sum(axis=axis)

    report = check_batched_softmax(without_keepdims)
    lines = report.failures
    assert any("raised ValueError" in line for line in lines)  # (4, 3) / (4,) does not broadcast
    assert any("divides column j by the sum of row j" in line for line in lines)  # (3, 3) does


def test_batched_rejects_a_flattened_result():
    report = check_batched_softmax(lambda x, axis=-1: softmax(np.ravel(x)))
    assert "keeps the shape (4, 3)" in report.failures[0]


def test_batched_stub_is_not_finished():
    report = check_batched_softmax(stub)
    assert report.unfinished and not report.passed


# --- Exercise 2.2: the row-sum check -----------------------------------------------


def is_distribution(p, axis=-1):
    p = np.asarray(p)
    in_range = bool(np.all((p >= 0) & (p <= 1)))
    return in_range and bool(np.allclose(p.sum(axis=axis), 1, rtol=0, atol=1e-5))


def test_row_sum_check_accepts_a_correct_check():
    report = check_is_distribution(is_distribution)
    assert report.passed, str(report)


def test_row_sum_check_rejects_sums_without_a_range_check():
    report = check_is_distribution(lambda p, axis=-1: bool(np.allclose(p.sum(axis=axis), 1)))
    assert report.failures == [
        "rejects a row [1.5, -0.5] that sums to 1 but has a negative entry (got True; "
        "check the range of each entry and the sums along the given axis)"
    ]


def test_row_sum_check_rejects_exact_equality():
    report = check_is_distribution(
        lambda p, axis=-1: bool(np.all((p >= 0) & (p.sum(axis=axis) == 1)))
    )
    assert not report.passed
    assert any("float32 softmax output" in line for line in report.failures)


def test_row_sum_check_rejects_a_check_that_ignores_axis():
    report = check_is_distribution(lambda p, axis=-1: is_distribution(p))
    assert report.failures == [
        "accepts softmax taken over axis 0, checked with axis=0 (got False; allow for rounding: "
        "compare sums with np.allclose(..., atol=1e-5), not == 1)"
    ]


def test_row_sum_check_rejects_a_check_of_the_total_only():
    report = check_is_distribution(lambda p, axis=-1: bool(np.isclose(np.sum(p), 1)))
    assert not report.passed


def test_row_sum_check_needs_a_boolean_answer():
    report = check_is_distribution(lambda p, axis=-1: np.asarray(p).sum(axis=axis))
    assert not report.passed
    assert all(line.startswith("answers True or False") for line in report.failures)


def test_row_sum_check_stub_is_not_finished():
    assert check_is_distribution(stub).unfinished
