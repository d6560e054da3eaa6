"""The notebook 04 checkers accept correct solutions and reject the classic mistakes."""

import numpy as np
import pytest

from softmax_lab import cross_entropy_grad, softmax, softmax_jacobian, softmax_vjp
from softmax_lab.exercises.gradients import (
    check_cross_entropy_grad,
    check_softmax_vjp,
    peak_memory,
)
from tests.conftest import fails, fails_only, forgets_return, none_reported, stub, unfinished


def vjp_by_hand(x, v):
    s = softmax(x)
    return s * (v - s @ v)


@pytest.mark.parametrize("solution", [lambda x, v: softmax_vjp(x, v), vjp_by_hand])
def test_vjp_accepts_correct_solutions(solution):
    report = check_softmax_vjp(solution)
    assert report.passed, str(report)


def test_vjp_rejects_the_full_jacobian_for_its_memory():
    report = check_softmax_vjp(lambda x, v: v @ softmax_jacobian(x))
    assert fails_only(report, "uses O(n) memory: under 1 MB at n = 3000")
    assert "72 MB" in str(report)


def test_vjp_rejects_diag_minus_outer_built_by_hand():
    def with_outer(x, v):
        s = softmax(x)
        return v @ (np.diag(s) - np.outer(s, s))

    assert fails_only(check_softmax_vjp(with_outer), "uses O(n) memory: under 1 MB at n = 3000")


def test_vjp_rejects_a_flipped_sign():
    report = check_softmax_vjp(lambda x, v: -vjp_by_hand(x, v))
    assert fails(report, "matches torch.autograd on 5 random (x, v) pairs")
    assert "sign is flipped" in str(report)


def test_vjp_rejects_forgetting_the_mean_term():
    report = check_softmax_vjp(lambda x, v: softmax(x) * v)
    assert not report.passed


def test_vjp_rejects_an_unstable_softmax():
    def naive(x, v):
        e = np.exp(x)
        s = e / e.sum()
        return s * (v - s @ v)

    assert fails_only(check_softmax_vjp(naive), "stays finite for large scores x = [1000, 999, 0]")


def test_vjp_stub_is_not_finished_and_none_is_reported_per_check():
    assert unfinished(check_softmax_vjp(stub))
    assert none_reported(check_softmax_vjp(forgets_return))


def test_peak_memory_sees_an_n_by_n_array():
    _, small = peak_memory(lambda: np.ones(1000) * 2)
    _, large = peak_memory(lambda: np.ones((1000, 1000)) * 2)
    assert small < 100_000
    assert large >= 8_000_000


def grad_by_hand(z, label):
    p = softmax(z)
    p[label] -= 1
    return p


@pytest.mark.parametrize(
    "solution",
    [grad_by_hand, lambda z, label: cross_entropy_grad(z, label)],
)
def test_cross_entropy_grad_accepts_correct_solutions(solution):
    report = check_cross_entropy_grad(solution)
    assert report.passed, str(report)


def test_cross_entropy_grad_rejects_the_wrong_sign():
    report = check_cross_entropy_grad(lambda z, label: -grad_by_hand(z, label))
    assert not report.passed
    assert "sign is flipped" in str(report)


def test_cross_entropy_grad_rejects_p_alone():
    report = check_cross_entropy_grad(lambda z, label: softmax(z))
    assert not report.passed
    assert "subtract the one-hot target" in str(report)


def test_cross_entropy_grad_rejects_an_unstable_softmax():
    def naive(z, label):
        e = np.exp(z)
        p = e / e.sum()
        p[label] -= 1
        return p

    assert fails_only(
        check_cross_entropy_grad(naive),
        "stays finite for logits [1000, 0, -1000] with label 2: [1, 0, -1]",
    )


def test_cross_entropy_grad_stub_is_not_finished():
    report = check_cross_entropy_grad(stub)
    assert not report.passed
    assert "not finished yet" in str(report)
