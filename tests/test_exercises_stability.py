"""The notebook 03 checkers accept correct solutions and reject the classic mistakes."""

import numpy as np
import pytest

from softmax_lab import log_softmax, logsumexp, softmax
from softmax_lab.exercises.stability import check_stable_log_softmax, check_stable_logsumexp
from tests.conftest import fails, fails_only, forgets_return, none_reported, stub, unfinished


def max_shift_logsumexp(x):
    m = np.max(x)
    if m == -np.inf:
        return -np.inf
    return m + np.log(np.sum(np.exp(x - m)))


@pytest.mark.parametrize("solution", [lambda x: logsumexp(x), max_shift_logsumexp])
def test_logsumexp_accepts_correct_solutions(solution):
    report = check_stable_logsumexp(solution)
    assert report.passed, str(report)


def test_logsumexp_rejects_the_naive_formula():
    report = check_stable_logsumexp(lambda x: np.log(np.sum(np.exp(x))))
    assert not report.passed
    assert any("[1000, 1000]" in line for line in report.failures)
    assert any("[-1000, -1001]" in line for line in report.failures)
    assert "subtract the maximum" in str(report)


def test_logsumexp_rejects_a_shift_that_forgets_the_all_minus_inf_row():
    def shift_only(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    report = check_stable_logsumexp(shift_only)
    assert fails_only(report, "a row of only -inf gives -inf (the log of an empty sum)")


def test_logsumexp_rejects_the_wrong_formula():
    report = check_stable_logsumexp(lambda x: np.max(x) + np.log(len(x)))
    assert not report.passed


def test_logsumexp_reports_a_vector_result_as_wrong_shape():
    report = check_stable_logsumexp(lambda x: np.log(softmax(x)))
    assert not report.lines[0][0]


def test_logsumexp_stub_is_not_finished_and_none_is_reported_per_check():
    assert unfinished(check_stable_logsumexp(stub))
    assert none_reported(check_stable_logsumexp(forgets_return))


def test_log_softmax_accepts_correct_solutions():
    assert check_stable_log_softmax(lambda x: log_softmax(x)).passed
    report = check_stable_log_softmax(lambda x: x - max_shift_logsumexp(x))
    assert report.passed, str(report)


def test_log_softmax_rejects_log_of_softmax():
    report = check_stable_log_softmax(lambda x: np.log(softmax(x)))
    assert fails_only(report, "stays finite: [0, -800] gives [0, -800]")
    assert "log(softmax(x))" in str(report)


def test_log_softmax_rejects_the_unshifted_formula():
    report = check_stable_log_softmax(lambda x: x - np.log(np.sum(np.exp(x))))
    assert fails(report, "no overflow: [1000, 1000] gives [-0.6931, -0.6931]")


def test_log_softmax_rejects_the_wrong_normaliser():
    report = check_stable_log_softmax(lambda x: x - np.max(x))
    assert not report.passed


def test_log_softmax_stub_is_not_finished():
    report = check_stable_log_softmax(stub)
    assert not report.passed
    assert "not finished yet" in str(report)
