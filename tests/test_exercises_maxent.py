"""Notebook 12's checkers accept correct answers in several styles, reject the typical
mistakes with feedback that names them, and spot stubs and missing returns."""

import math

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


def _logaddexp(q, alpha):  # another style: np.logaddexp.reduce
    return alpha * np.logaddexp.reduce(np.asarray(q, dtype=float) / alpha, axis=-1)


def _torch_then_numpy(q, alpha):  # another style: torch.logsumexp, then .numpy()
    import torch

    z = torch.as_tensor(np.asarray(q, dtype=float)) / alpha
    return (alpha * torch.logsumexp(z, dim=-1)).numpy()


@pytest.mark.parametrize(
    "answer", [_by_hand, _row_by_row, _scipy, soft_value, _logaddexp, _torch_then_numpy]
)
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


def _first_entry_shift(q, alpha):  # exp((Q - Q[0]) / alpha) overflows when the max is later
    q = np.asarray(q, dtype=float)
    m = q[..., :1]
    return m[..., 0] + alpha * np.log(np.exp((q - m) / alpha).sum(axis=-1))


def _mean_shift(q, alpha):  # overflows when the max lies more than 709 alpha above the mean
    q = np.asarray(q, dtype=float)
    m = q.mean(axis=-1, keepdims=True)
    return m[..., 0] + alpha * np.log(np.exp((q - m) / alpha).sum(axis=-1))


def _batch_max_shift(q, alpha):  # one max for the whole batch: a far-below row gives log(0)
    q = np.asarray(q, dtype=float)
    m = q.max()
    return m + alpha * np.log(np.exp((q - m) / alpha).sum(axis=-1))


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
        (_first_entry_shift, "shifted by the first entry, not the max"),
        (_mean_shift, "shifted by the mean, not the max"),
        (_batch_max_shift, "subtract each row's max (axis=-1, keepdims=True)"),
        (_in_place, "modified its input"),
        (_returns_list, "return a NumPy array"),
    ],
)
def test_soft_value_names_each_mistake(mistake, feedback):
    report = check_soft_value(mistake)
    assert not report.passed
    assert says(report, feedback), report.failures


def _float32(q, alpha):  # almost right: the formula in float32, an error of about 1e-7
    z = np.asarray(q, dtype=np.float32) / np.float32(alpha)
    m = z.max(axis=-1, keepdims=True)
    return np.float32(alpha) * (m[..., 0] + np.log(np.exp(z - m).sum(axis=-1)))


# With alpha = 1, multiplying by alpha gives the right value; with gamma = 0, V of the
# current state does; with a cold alpha, the hard max does to within 1e-6. Such a
# "mistake" must not be named for an answer that is only off by rounding.
MISLEADING = [
    "alpha was multiplied",
    "hard max",
    "hard backup",
    "current state",
    "gamma is missing",
]


def test_soft_value_names_no_mistake_for_a_float32_answer():
    report = check_soft_value(_float32)
    assert not report.passed
    assert report.failures
    assert all("off by" in line for line in report.failures), report.failures
    assert not any(says(report, text) for text in MISLEADING), report.failures


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


def _backup_pure_python(V, P, R, gamma, alpha):  # another style: math and plain sums
    new = np.empty(len(V))
    for s in range(P.shape[0]):
        q = [
            R[s, a] + gamma * sum(P[s, a, t] * V[t] for t in range(P.shape[2]))
            for a in range(P.shape[1])
        ]
        m = max(q)
        new[s] = m + alpha * math.log(sum(math.exp((x - m) / alpha) for x in q))
    return new


def _backup_tensordot(V, P, R, gamma, alpha):  # another style: tensordot and logaddexp
    q = R + gamma * np.tensordot(P, V, axes=([2], [0]))
    return alpha * np.logaddexp.reduce(q / alpha, axis=-1)


@pytest.mark.parametrize(
    "answer",
    [_backup_by_hand, _backup_einsum, _backup_loops, _backup_pure_python, _backup_tensordot],
)
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


def _backup_float32(V, P, R, gamma, alpha):  # almost right: float32 rounding
    return _float32(R + gamma * P @ V, alpha)


def test_backup_names_no_mistake_for_a_float32_answer():
    report = check_soft_backup(_backup_float32)
    assert not report.passed
    assert report.failures
    assert all("off by" in line for line in report.failures), report.failures
    assert not any(says(report, text) for text in MISLEADING), report.failures


def test_backup_stub_and_missing_return():
    assert unfinished(check_soft_backup(stub))
    assert none_reported(check_soft_backup(forgets_return))
