"""Notebook 12's checkers accept correct answers in several styles, reject the typical
mistakes with feedback that names them, and spot stubs and missing returns."""

import numpy as np
import pytest
import scipy.special

from softmax_lab import soft_value
from softmax_lab.exercises.maxent import check_soft_backup, check_soft_value
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 12.1 ---------------------------------------------------------------------


def _by_hand(q, alpha):
    z = np.asarray(q, dtype=float) / alpha
    m = z.max(axis=-1, keepdims=True)
    return alpha * (m[..., 0] + np.log(np.exp(z - m).sum(axis=-1)))


def _row_by_row(q, alpha):  # another style: a loop over rows, the shift on Q itself
    rows = np.atleast_2d(np.asarray(q, dtype=float))
    out = np.array(
        [row.max() + alpha * np.log(np.sum(np.exp((row - row.max()) / alpha))) for row in rows]
    )
    return out if np.ndim(q) == 2 else out[0]


def _scipy(q, alpha):
    return alpha * scipy.special.logsumexp(np.asarray(q) / alpha, axis=-1)


@pytest.mark.parametrize("answer", [_by_hand, _row_by_row, _scipy, soft_value])
def test_soft_value_accepts_correct_answers(answer):
    report = check_soft_value(answer)
    assert report.passed, report.failures


def _no_shift(q, alpha):
    return alpha * np.log(np.sum(np.exp(q / alpha), axis=-1))


def _multiplies(q, alpha):
    return _by_hand(np.asarray(q) * alpha * alpha, alpha)  # alpha * lse(q * alpha)


def _no_prefactor(q, alpha):
    return _by_hand(q, alpha) / alpha


def _hard_max(q, alpha):
    return np.max(q, axis=-1)


def _hot_limit(q, alpha):
    return np.mean(q, axis=-1) + alpha * np.log(np.shape(q)[-1])


def _forgets_max_back(q, alpha):
    z = q / alpha
    return alpha * np.log(np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1))


def _max_back_without_alpha(q, alpha):
    z = q / alpha
    m = z.max(axis=-1, keepdims=True)
    return alpha * np.log(np.exp(z - m).sum(axis=-1)) + m[..., 0]


def _wrong_axis(q, alpha):
    z = q / alpha
    m = z.max(axis=0, keepdims=True)
    return alpha * (m[0] + np.log(np.exp(z - m).sum(axis=0)))


def _whole_batch(q, alpha):
    return alpha * scipy.special.logsumexp(q / alpha)


def _in_place(q, alpha):
    q /= alpha
    m = q.max(axis=-1, keepdims=True)
    q -= m
    return alpha * (m[..., 0] + np.log(np.exp(q).sum(axis=-1)))


def _returns_list(q, alpha):
    return _by_hand(q, alpha).tolist()


@pytest.mark.parametrize(
    ("mistake", "feedback"),
    [
        (_no_shift, "overflowed or underflowed"),
        (_multiplies, "alpha was multiplied instead of divided"),
        (_no_prefactor, "multiply the log-sum-exp by alpha"),
        (_hard_max, "hard max of Q: the alpha -> 0 limit only"),
        (_hot_limit, "the alpha -> infinity limit only"),
        (_forgets_max_back, "add the max you subtracted back"),
        (_max_back_without_alpha, "must be multiplied by alpha too"),
        (_wrong_axis, "reduce over the last axis only"),
        (_whole_batch, "one soft value for the whole batch"),
        (_in_place, "modified its input"),
        (_returns_list, "return a NumPy array"),
    ],
)
def test_soft_value_names_each_mistake(mistake, feedback):
    report = check_soft_value(mistake)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_soft_value_stub_and_missing_return():
    assert unfinished(check_soft_value(stub))
    assert none_reported(check_soft_value(forgets_return))


# --- Exercise 12.2 ---------------------------------------------------------------------


def _backup_by_hand(V, P, R, gamma, alpha):
    q = R + gamma * P @ V
    return _by_hand(q, alpha)


def _backup_einsum(V, P, R, gamma, alpha):  # another style: einsum and scipy
    q = R + gamma * np.einsum("sat,t->sa", P, V)
    return alpha * scipy.special.logsumexp(q / alpha, axis=1)


def _backup_loops(V, P, R, gamma, alpha):  # another style: loops over states
    new = np.empty(len(V))
    for s in range(len(V)):
        q = np.array([R[s, a] + gamma * np.dot(P[s, a], V) for a in range(R.shape[1])])
        new[s] = float(soft_value(q, alpha))
    return new


@pytest.mark.parametrize("answer", [_backup_by_hand, _backup_einsum, _backup_loops])
def test_backup_accepts_correct_answers(answer):
    report = check_soft_backup(answer)
    assert report.passed, report.failures


def _backup_hard(V, P, R, gamma, alpha):
    return (R + gamma * P @ V).max(axis=1)


def _backup_no_shift(V, P, R, gamma, alpha):
    return alpha * np.log(np.exp((R + gamma * P @ V) / alpha).sum(axis=1))


def _backup_multiplies(V, P, R, gamma, alpha):
    return alpha * scipy.special.logsumexp((R + gamma * P @ V) * alpha, axis=1)


def _backup_no_gamma(V, P, R, gamma, alpha):
    return _by_hand(R + P @ V, alpha)


def _backup_current_state(V, P, R, gamma, alpha):
    return _by_hand(R + gamma * V[:, None], alpha)


def _backup_wrong_contraction(V, P, R, gamma, alpha):
    return _by_hand(R + gamma * np.einsum("sat,s->ta", P, V), alpha)


def _backup_returns_q(V, P, R, gamma, alpha):
    return R + gamma * P @ V


def _backup_wrong_axis(V, P, R, gamma, alpha):
    return alpha * scipy.special.logsumexp((R + gamma * P @ V) / alpha, axis=0)


def _backup_no_prefactor(V, P, R, gamma, alpha):
    return scipy.special.logsumexp((R + gamma * P @ V) / alpha, axis=1)


def _backup_in_place(V, P, R, gamma, alpha):
    V *= gamma
    return _by_hand(R + P @ V, alpha)


@pytest.mark.parametrize(
    ("mistake", "feedback"),
    [
        (_backup_hard, "that is the hard backup"),
        (_backup_no_shift, "overflowed or underflowed"),
        (_backup_multiplies, "alpha was multiplied instead of divided"),
        (_backup_no_gamma, "the discount gamma is missing"),
        (_backup_current_state, "uses V of the current state"),
        (_backup_wrong_contraction, "contracted over the wrong index"),
        (_backup_returns_q, "one value per state and action (Q)"),
        (_backup_wrong_axis, "the soft max over the actions (axis=1)"),
        (_backup_no_prefactor, "multiply the log-sum-exp by alpha"),
        (_backup_in_place, "modified its input V in place"),
    ],
)
def test_backup_names_each_mistake(mistake, feedback):
    report = check_soft_backup(mistake)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_backup_stub_and_missing_return():
    assert unfinished(check_soft_backup(stub))
    assert none_reported(check_soft_backup(forgets_return))
