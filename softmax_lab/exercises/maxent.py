"""Checkers for notebook 12 (maximum-entropy policies).

* :func:`check_soft_value` - the soft value alpha * logsumexp(Q / alpha) over the last axis;
* :func:`check_soft_backup` - one soft Bellman backup of a tabular value function.

The references are ``scipy.special.logsumexp``, so no code under test computes them.

Examples
--------
>>> from softmax_lab import soft_value
>>> check_soft_value(soft_value).passed
True
>>> def stub(q, alpha):
...     raise NotImplementedError("your code here")
>>> print(check_soft_value(stub))  # doctest: +ELLIPSIS
Exercise 12.1 - the soft value: not finished yet - ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from scipy.special import logsumexp

from . import Report, array_problem, call, exercise

__all__ = ["check_soft_value", "check_soft_backup"]


def _soft(q: np.ndarray, alpha: float, axis: int = -1) -> np.ndarray:
    return alpha * logsumexp(q / alpha, axis=axis)


def _matches(wrong: np.ndarray, got: np.ndarray) -> bool:
    return wrong.shape == got.shape and bool(
        np.allclose(wrong, got, rtol=1e-6, atol=1e-8, equal_nan=True)
    )


def _named(mistakes: list[tuple[np.ndarray, str]], got: np.ndarray, expected: np.ndarray) -> str:
    """The first mistake that explains ``got`` and that differs from ``expected``.

    A mistake that gives the right value on this case (alpha * Q equals Q / alpha when
    alpha = 1, say) explains nothing, so it is skipped.
    """
    for wrong, message in mistakes:
        wrong = np.asarray(wrong)
        if _matches(wrong, got) and not _matches(wrong, expected):
            return message
    return ""


def _shifted(z: np.ndarray, m: np.ndarray, alpha: float) -> np.ndarray:
    """alpha * (m + log sum exp(z - m)) over the last axis, for a shift ``m`` that is not the max."""
    return alpha * (m[..., 0] + np.log(np.sum(np.exp(z - m), axis=-1)))


def _value_mistake(q: np.ndarray, alpha: float, got: np.ndarray, expected: np.ndarray) -> str:
    """Name the usual mistake behind a wrong soft value, when it is one of the usual ones."""
    with np.errstate(all="ignore"):
        z = q / alpha
        top = z.max(axis=-1, keepdims=True)
        if not np.all(np.isfinite(got)):
            unstable = [
                (
                    _shifted(z, z[..., :1], alpha),
                    "got inf or NaN: you shifted by the first entry, not the max; an entry "
                    "far above the first one overflows exp; subtract each row's max of Q / alpha",
                ),
                (
                    _shifted(z, z.mean(axis=-1, keepdims=True), alpha),
                    "got inf or NaN: you shifted by the mean, not the max; an entry far above "
                    "the mean overflows exp; subtract each row's max of Q / alpha",
                ),
                (
                    _shifted(z, np.full_like(top, z.max()), alpha),
                    "got inf or NaN: one max for the whole batch underflows a row far below "
                    "it to log(0); subtract each row's max (axis=-1, keepdims=True)",
                ),
            ]
            naive = alpha * np.log(np.sum(np.exp(z), axis=-1))
            # Without a shift the same inf may come out: then name no shift in particular.
            named = "" if _matches(naive, got) else _named(unstable, got, expected)
            return named or (
                "got inf or NaN: exp(Q / alpha) overflowed or underflowed to 0; subtract "
                "each row's max of Q / alpha (axis=-1, keepdims=True) before exp and add "
                "it back after the log"
            )
        mistakes = [
            (np.max(q, axis=-1), "that is the hard max of Q: the alpha -> 0 limit only"),
            (
                q.mean(axis=-1) + alpha * np.log(q.shape[-1]),
                "that is mean(Q) + alpha log n: the alpha -> infinity limit only",
            ),
            (
                alpha * logsumexp(q * alpha, axis=-1),
                "alpha was multiplied instead of divided: exp(Q / alpha)",
            ),
            (
                logsumexp(z, axis=-1),
                "multiply the log-sum-exp by alpha: alpha * log sum exp(Q/alpha)",
            ),
            (alpha * logsumexp(q, axis=-1), "divide Q by alpha inside exp: exp(Q / alpha)"),
            (
                alpha * np.log(np.sum(np.exp(z - top), axis=-1)),
                "add the max you subtracted back after the log",
            ),
            (
                alpha * np.log(np.sum(np.exp(z - top), axis=-1)) + top[..., 0],
                "the max you add back must be multiplied by alpha too: alpha * (m + log sum)",
            ),
        ]
    return _named(mistakes, got, expected)


@exercise("Exercise 12.1 - the soft value")
def check_soft_value(report: Report, candidate: Callable[[np.ndarray, float], np.ndarray]) -> None:
    """Check ``candidate(q, alpha) -> alpha * logsumexp(q / alpha)`` over the last axis.

    Cases: a plain vector, cold and hot alphas, values whose ``exp`` overflows or
    underflows without the max shift (also only after dividing by a small alpha), the
    max last (a shift by the first entry overflows), the max far above the mean (a shift
    by the mean overflows), a batch of rows (also rows far apart, so one max for the
    whole batch fails).
    """
    cases = [
        ("Q = [1, 2, 3], alpha = 1", np.array([1.0, 2.0, 3.0]), 1.0),
        ("Q = [1, 2, 3], alpha = 0.5", np.array([1.0, 2.0, 3.0]), 0.5),
        ("a hot alpha = 100: about mean(Q) + alpha log 3", np.array([1.0, 2.0, 3.0]), 100.0),
        ("large Q = [1000, 999, 0], alpha = 1", np.array([1000.0, 999.0, 0.0]), 1.0),
        ("very negative Q = [-1000, -1001], alpha = 1", np.array([-1000.0, -1001.0]), 1.0),
        ("a cold alpha = 0.01 with the max last: Q = [-5, 5]", np.array([-5.0, 5.0]), 0.01),
        (
            "Q = [500, -1500], alpha = 1: the max 1000 above the mean",
            np.array([500.0, -1500.0]),
            1.0,
        ),
        (
            "a cold alpha = 0.01 with Q = [10, 9.5, 0] (Q / alpha = 1000)",
            np.array([10.0, 9.5, 0.0]),
            0.01,
        ),
        (
            "a batch of two rows: one soft value per row",
            np.array([[0.0, 1.0, 2.0], [5.0, 5.0, 4.0]]),
            0.5,
        ),
        (
            "a batch whose rows lie 2000 apart, alpha = 2",
            np.array([[2000.0, 1999.0, 1990.0], [0.0, 1.0, 2.0]]),
            2.0,
        ),
    ]
    for label, q, alpha in cases:
        expected = _soft(q, alpha)
        result = call(candidate, q, alpha)
        report.compare(
            f"{label} -> {np.round(expected, 4).tolist()}",
            expected,
            result,
            rtol=1e-9,
            atol=1e-9,
            problem=array_problem(result) if q.ndim == 2 else "",
            diagnose=partial(_value_mistake, q, alpha, expected=expected),
            show_values=False,
            wrong_shape=partial(_batch_shape_mistake, q, alpha),
        )


def _batch_shape_mistake(q: np.ndarray, alpha: float, got: np.ndarray) -> str:
    if q.ndim != 2:
        return ""
    if _matches(_soft(q, alpha, axis=None), got):
        return "one soft value for the whole batch; reduce each row (axis=-1)"
    return "reduce over the last axis only (axis=-1), one value per row"


def _backup_mistake(
    V: np.ndarray, P: np.ndarray, R: np.ndarray, gamma: float, alpha: float, got: np.ndarray
) -> str:
    if not np.all(np.isfinite(got)):
        return (
            "got inf or NaN: exp(Q / alpha) overflowed or underflowed; subtract each "
            "state's max of Q / alpha before exp and add it back"
        )
    with np.errstate(all="ignore"):
        q = R + gamma * P @ V
        mistakes = [
            (
                q.max(axis=1),
                "that is the hard backup (max over actions): use alpha * logsumexp(Q / alpha)",
            ),
            (
                alpha * logsumexp(q * alpha, axis=1),
                "alpha was multiplied instead of divided: Q / alpha",
            ),
            (logsumexp(q / alpha, axis=1), "multiply the log-sum-exp by alpha"),
            (_soft(R + P @ V, alpha, axis=1), "the discount gamma is missing: Q = R + gamma P V"),
            (
                _soft(R + gamma * V[:, None], alpha, axis=1),
                "that uses V of the current state; average V over the next states, "
                "sum over s2 of P[s, a, s2] V[s2] (P @ V)",
            ),
            (
                _soft(R + gamma * np.einsum("sat,s->ta", P, V), alpha, axis=1),
                "P is contracted over the wrong index: sum over the last axis, P @ V",
            ),
            (_soft(R, alpha, axis=1), "the future is missing: Q = R + gamma P V"),
        ]
    return _named(mistakes, got, _soft(q, alpha, axis=1))


def _mdp(seed: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(3), size=(3, 2))  # 3 states, 2 actions
    R = scale * rng.normal(size=(3, 2))
    V = scale * rng.normal(size=3)
    return V, P, R


@exercise("Exercise 12.2 - a soft Bellman backup")
def check_soft_backup(report: Report, candidate: Callable[..., np.ndarray]) -> None:
    """Check ``candidate(V, P, R, gamma, alpha) -> new V`` on random 3-state, 2-action MDPs.

    ``P[s, a, s2]`` is a transition probability, ``R[s, a]`` a reward; the new value of
    ``s`` is ``alpha * logsumexp((R + gamma * P @ V)[s] / alpha)``. Cases: moderate,
    hot and cold alphas, rewards large enough that ``exp`` overflows or underflows
    without the max shift, and gamma = 0.
    """
    cases = [
        ("alpha = 1, gamma = 0.9", _mdp(0, 1.0), 0.9, 1.0),
        ("alpha = 0.3, gamma = 0.5", _mdp(1, 2.0), 0.5, 0.3),
        ("a hot alpha = 20", _mdp(2, 1.0), 0.9, 20.0),
        (
            "a cold alpha = 0.01 with rewards around +-10 (Q / alpha ~ 1000)",
            _mdp(3, 10.0),
            0.9,
            0.01,
        ),
        (
            "values V around -1000 (Q / alpha ~ -950)",
            (np.array([-1000.0, -999.0, -1001.0]),) + _mdp(4, 1.0)[1:],
            0.95,
            1.0,
        ),
        ("gamma = 0: the soft value of R alone", _mdp(5, 1.0), 0.0, 0.5),
    ]
    for label, (V, P, R), gamma, alpha in cases:
        expected = _soft(R + gamma * P @ V, alpha, axis=1)
        result = call(candidate, V, P, R, gamma, alpha)
        report.compare(
            f"{label} -> {np.round(expected, 4).tolist()}",
            expected,
            result,
            rtol=1e-9,
            atol=1e-9,
            problem=array_problem(result),
            diagnose=partial(_backup_mistake, V, P, R, gamma, alpha),
            show_values=False,
            wrong_shape=lambda got, actions=R.shape: (
                "that has one value per state and action (Q); reduce over the actions (axis=1)"
                if got.shape == actions
                else "one value per state, the soft max over the actions (axis=1)"
            ),
        )
