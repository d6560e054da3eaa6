"""Checkers for the exercises of notebook 11 (gradients through a random choice).

* :func:`check_reinforce` - REINFORCE estimates with a baseline, one per sample (NumPy);
* :func:`check_straight_through` - a straight-through Gumbel-softmax sample (torch).

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> import numpy as np
>>> from softmax_lab.estimators import reinforce_gradients
>>> def by_library(logits, values, rng, n, baseline):
...     return reinforce_gradients(logits, values, rng, n, baseline)
>>> check_reinforce(by_library).passed
True
>>> def forgets_the_score(logits, values, rng, n, baseline):
...     k = rng.choice(len(logits), size=n, p=np.exp(logits) / np.exp(logits).sum())
...     return (values[k] - baseline)[:, None] * np.eye(len(logits))[k]
>>> print(check_reinforce(forgets_the_score))  # doctest: +ELLIPSIS
Exercise 11.1 - REINFORCE with a baseline: 4 of 6 checks passed
  ok    returns a (6, 3) array: one estimate per sample
  ok    the same seed gives the same estimates
  ok    another seed gives other estimates
  FAIL  each row is (values[k] - baseline) * (onehot(k) - p) for its sampled class k (row 0: (values[k] - baseline) * onehot(k): the score function is the gradient of log p_k, onehot(k) - p; subtract p)
  ok    the sampled classes follow softmax(logits)
  FAIL  the mean of 20000 estimates is the exact gradient within 4 standard errors (expected ...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import softmax
from . import Report, array_problem, as_floats, call, describe, differ, exercise, show

__all__ = ["check_reinforce", "check_straight_through"]

LOGITS = np.array([2.0, 1.0, 0.1])
VALUES = np.array([1.34, 0.14, 1.14])  # f(e_k) = |e_k - t|^2 for t = [0.1, 0.7, 0.2]
BASELINE = 0.5
ROW = "each row is (values[k] - baseline) * (onehot(k) - p) for its sampled class k"


def _directions(p: np.ndarray) -> np.ndarray:
    """Row k: the score onehot(k) - p, the gradient of log p_k."""
    return np.eye(len(p)) - p


def _fit(row: np.ndarray, p: np.ndarray) -> tuple[int, float] | None:
    """(k, c) with row = c * (onehot(k) - p), when the row is such a multiple."""
    for k, direction in enumerate(_directions(p)):
        c = float(row @ direction / (direction @ direction))
        if np.allclose(row, c * direction, rtol=1e-6, atol=1e-9):
            return k, c
    return None


def _coefficient_mistake(k: int, c: float, others: list[tuple[int, float]]) -> str:
    """Name the mistake when a row is c * (onehot(k) - p) with the wrong c."""
    v, b, p = VALUES, BASELINE, softmax(LOGITS)
    right = v[k] - b
    named = [
        (-right, "wrong sign: the gradient of log p_k is onehot(k) - p, not p - onehot(k)"),
        (v[k], "the baseline is ignored: subtract it from the sampled loss, values[k] - baseline"),
        (v[k] + b, "the baseline is added: subtract it, values[k] - baseline"),
        (
            p[k] * right,
            "an extra factor p_k: that is the gradient of p_k; REINFORCE uses the gradient "
            "of log p_k, onehot(k) - p",
        ),
        (0.0, "every estimate is 0: the baseline must not be the sample's own loss"),
    ]
    for wrong, message in named:
        if np.isclose(c, wrong, rtol=1e-6, atol=1e-9):
            return message
    implied = [v[j] - coefficient for j, coefficient in others]  # the baseline each row used
    if len(set(np.round(implied, 9))) > 1 or not np.isclose(implied[0], b):
        batch_mean = float(np.mean([v[j] for j, _ in others]))
        if np.allclose(implied, batch_mean):
            return (
                "the baseline is the batch's mean loss, which depends on the samples: that "
                "biases the estimate (by a factor 1 - 1/n); use the baseline passed in"
            )
        if np.isclose(implied[0], float(p @ v)):
            return "the baseline is the exact expected loss p . values; use the baseline passed in"
    return f"the factor in front of onehot(k) - p should be values[k] - baseline = {right:.4g}, got {c:.4g}"


def _row_mistake(row: np.ndarray, rows: np.ndarray, p: np.ndarray) -> str:
    """Why ``row`` is not (values[k] - baseline) * (onehot(k) - p)."""
    fits = [_fit(r, p) for r in rows]
    fit = _fit(row, p)
    if fit is not None:
        others = [f for f in fits if f is not None]
        return _coefficient_mistake(fit[0], fit[1], others)
    eye = np.eye(len(p))
    for k in range(len(p)):
        for factor, text in (
            (VALUES[k] - BASELINE, "(values[k] - baseline)"),
            (VALUES[k], "values[k]"),
        ):
            if np.allclose(row, factor * eye[k], atol=1e-9):
                return (
                    f"{text} * onehot(k): the score function is the gradient of "
                    "log p_k, onehot(k) - p; subtract p"
                )
    options = show((VALUES - BASELINE)[:, None] * _directions(p), digits=4)
    return f"got {show(row, digits=4)}; each row should be one of the rows of {options}"


@exercise("Exercise 11.1 - REINFORCE with a baseline")
def check_reinforce(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 11.1: ``candidate(logits, values, rng, n, baseline)`` returns (n, classes) estimates.

    Row ``i`` must be :math:`(v_k - b)(e_k - p)` for a class :math:`k` drawn from
    :math:`p = \mathrm{softmax}(\text{logits})` with the caller's ``rng``. Checks the
    shape, that equal seeds give equal and different seeds different estimates, the
    form of every row (naming the usual mistakes: no ``- p``, a factor ``p_k``, a wrong
    sign, the baseline ignored, added or computed from the samples), that the classes
    follow ``p`` (chi-square test at the 0.1 % level) and that the mean of 20000
    estimates is the exact gradient within 4 standard errors.
    """
    from scipy.stats import chi2

    p = softmax(LOGITS)
    n = 6
    result = call(candidate, LOGITS, VALUES, np.random.default_rng(0), n, BASELINE)
    rows = as_floats(result)
    shaped = rows is not None and rows.shape == (n, 3) and not array_problem(result)
    hint = array_problem(result) or (
        f"expected shape ({n}, 3), got shape {rows.shape}" if rows is not None else describe(result)
    )
    if not report.expect(shaped, f"returns a ({n}, 3) array: one estimate per sample", hint=hint):
        return
    again = as_floats(call(candidate, LOGITS, VALUES, np.random.default_rng(0), n, BASELINE))
    report.expect(
        again is not None and np.array_equal(again, rows),
        "the same seed gives the same estimates",
        hint="draw every sample from rng, the generator passed in (rng.choice, rng.random, "
        "rng.gumbel), not from np.random or a generator of your own",
    )
    other = as_floats(call(candidate, LOGITS, VALUES, np.random.default_rng(1), 20, BASELINE))
    first = as_floats(call(candidate, LOGITS, VALUES, np.random.default_rng(0), 20, BASELINE))
    report.expect(
        other is None or first is None or not np.array_equal(other, first),
        "another seed gives other estimates",
        hint="seeds 0 and 1 gave the same 20 estimates: you ignore the caller's rng "
        "(a fixed seed of your own?); draw the samples from rng",
    )
    wrong = [
        i
        for i, row in enumerate(rows)
        if (fit := _fit(row, p)) is None
        or not np.isclose(fit[1], VALUES[fit[0]] - BASELINE, rtol=1e-6, atol=1e-9)
    ]
    report.expect(
        not wrong,
        ROW,
        hint=f"row {wrong[0]}: {_row_mistake(rows[wrong[0]], rows, p)}" if wrong else "",
    )
    many = as_floats(call(candidate, LOGITS, VALUES, np.random.default_rng(2), 20_000, BASELINE))
    if many is None or many.shape != (20_000, 3):
        report.expect(
            False, "the sampled classes follow softmax(logits)", hint="no (20000, 3) result"
        )
        report.expect(False, "the mean of 20000 estimates is the exact gradient", hint="no result")
        return
    directions = _directions(p)  # the class of a row: the direction it is a multiple of
    c = many @ directions.T / np.sum(directions**2, axis=1)
    residual = np.linalg.norm(many[:, None, :] - c[:, :, None] * directions, axis=2)
    classes = np.argmin(residual, axis=1)
    counts = np.bincount(classes, minlength=3)
    statistic = float(np.sum((counts - 20_000 * p) ** 2 / (20_000 * p)))
    limit = float(chi2.ppf(0.999, df=2))
    report.expect(
        statistic < limit,
        "the sampled classes follow softmax(logits)",
        hint=f"class frequencies {show(counts / 20_000, digits=3)}, softmax(logits) is "
        f"{show(p, digits=3)} (chi-square {statistic:.0f} > {limit:.1f}): sample k with "
        "probabilities softmax(logits)",
    )
    exact = p * (VALUES - p @ VALUES)
    mean = many.mean(axis=0)
    error = many.std(axis=0, ddof=1) / np.sqrt(20_000)
    report.expect(
        bool(np.all(np.abs(mean - exact) <= 4 * error + 1e-12)),
        "the mean of 20000 estimates is the exact gradient within 4 standard errors",
        hint=f"{differ(exact, mean)} (4 standard errors: {4 * error.max():.2g})",
    )


T = 0.5
NOISES = ([0.3, 0.1, -0.2], [-0.5, 1.2, 0.3], [0.2, -0.1, 2.5])  # winners 0, 1 and 2
TARGET = np.array([0.1, 0.7, 0.2])


def _soft(noise: np.ndarray, temperature: float) -> np.ndarray:
    return softmax((LOGITS + noise) / temperature)


def _st_gradient(noise: np.ndarray, temperature: float, upstream: np.ndarray) -> np.ndarray:
    """(1/T) J(y_soft)^T upstream: the straight-through gradient."""
    y = _soft(noise, temperature)
    return y * (upstream - y @ upstream) / temperature


def _gradient_mistake(noise: np.ndarray, upstream: np.ndarray, got: np.ndarray) -> str:
    if np.allclose(got, 0.0, atol=1e-12):
        return (
            "the gradient is 0: y_hard - y_soft + y_soft cancels to y_hard; stop the "
            "gradient of the correction, y_hard - y_soft.detach() + y_soft"
        )
    named = [
        (-_st_gradient(noise, T, upstream), "wrong sign: detach y_soft where it is subtracted"),
        (
            _st_gradient(noise, 1 / T, upstream),
            "the temperature is multiplied: divide, softmax((logits + noise) / temperature)",
        ),
        (_st_gradient(noise, 1.0, upstream), "the temperature is ignored: divide by it"),
        (
            (upstream - _soft(noise, T) * upstream.sum()) / T,
            "that is the gradient of log_softmax: the straight-through surrogate is the soft "
            "sample itself, y_soft = softmax((logits + noise) / temperature), not its log",
        ),
    ]
    for wrong, message in named:
        if np.allclose(got, wrong, rtol=1e-6, atol=1e-9):
            return message
    return differ(_st_gradient(noise, T, upstream), got)


@exercise("Exercise 11.2 - straight-through Gumbel-softmax")
def check_straight_through(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 11.2: ``candidate(logits, noise, temperature)`` returns a straight-through sample.

    ``logits`` is a float64 tensor that requires grad, ``noise`` a tensor of Gumbel noise
    of the same shape. The result must be a tensor whose value is the one-hot vector of
    ``argmax(logits + noise)`` (up to rounding, 1e-12: ``y_hard - y_soft + y_soft`` is not
    always exactly 1) and whose gradient is that of the soft sample
    ``softmax((logits + noise) / temperature)``. Checked for three noise draws (each
    class wins once) at temperature 0.5, with a linear loss and with
    :math:`\lVert y - t \rVert^2`, against the formula :math:`\frac1T J(y)^\top u`.
    """
    import torch

    results = []
    for noise in NOISES:
        logits = torch.tensor(LOGITS, dtype=torch.float64, requires_grad=True)
        noise_t = torch.tensor(noise, dtype=torch.float64)
        out = call(lambda noise, logits=logits: candidate(logits, noise, T), noise_t)
        results.append((logits, np.array(noise), out))
    tensors = all(isinstance(out, torch.Tensor) and out.shape == (3,) for _, _, out in results)
    bad = next((out for _, _, out in results if not isinstance(out, torch.Tensor)), None)
    hint = (
        f"got {describe(bad)}"
        if isinstance(bad, Exception)
        else "return a torch tensor of shape (3,), so gradients can flow back to logits"
    )
    if not report.expect(tensors, "returns a tensor of shape (3,)", hint=hint):
        return
    forward_hint = ""
    for _, noise, out in results:
        y = out.detach().numpy()
        winner = int(np.argmax(LOGITS + noise))
        if np.allclose(y, np.eye(3)[winner], rtol=0, atol=1e-12):  # y_hard - y_soft + y_soft
            continue
        if abs(y.sum() - 1) < 1e-9 and np.all(y > 1e-9):  # a distribution, not a one-hot
            forward_hint = "this is the soft sample: the forward value must be one-hot (y_hard)"
        elif np.array_equal(y, np.eye(3)[np.argmax(LOGITS)]):
            forward_hint = "one-hot at argmax(logits): add the noise before the argmax"
        elif np.array_equal(y, np.eye(3)[np.argmax(LOGITS - noise)]):
            forward_hint = "one-hot at argmax(logits - noise): add the noise, do not subtract it"
        else:
            forward_hint = f"for noise {show(noise, digits=2)}: {differ(np.eye(3)[winner], y)}"
        break
    report.expect(
        not forward_hint,
        "its value is the one-hot vector of argmax(logits + noise)",
        hint=forward_hint,
    )
    flows = all(out.requires_grad for _, _, out in results)
    report.expect(
        flows,
        "gradients flow back to logits",
        hint="the result does not depend on logits differentiably (a one-hot from argmax has "
        "no gradient): return y_hard - y_soft.detach() + y_soft",
    )
    if not flows:
        return
    for label, loss, upstream in (
        (
            "w . y with w = [1, -2, 3]",
            lambda y: y @ torch.tensor([1.0, -2.0, 3.0], dtype=y.dtype),
            None,
        ),
        (
            "|y - t|^2 with t = [0.1, 0.7, 0.2]",
            lambda y: ((y - torch.tensor(TARGET, dtype=y.dtype)) ** 2).sum(),
            2.0,
        ),
    ):
        problem = ""
        for i, noise in enumerate(NOISES):  # fresh logits: gradients of one loss only
            noise = np.array(noise)
            hard = np.eye(3)[np.argmax(LOGITS + noise)]
            u = np.array([1.0, -2.0, 3.0]) if upstream is None else 2.0 * (hard - TARGET)
            expected = _st_gradient(noise, T, u)
            logits = torch.tensor(LOGITS, dtype=torch.float64, requires_grad=True)
            out = call(
                lambda noise, logits=logits: candidate(logits, noise, T), torch.tensor(noise)
            )
            try:
                (grad,) = torch.autograd.grad(
                    loss(out.to(torch.float64)), logits, allow_unused=True
                )
            except Exception as error:  # noqa: BLE001 - any failure is feedback
                problem = f"backward failed: {describe(error)}"
                break
            got = np.zeros(3) if grad is None else grad.numpy()
            if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
                problem = f"noise {i}: {_gradient_mistake(noise, u, got)}"
                break
        report.expect(
            not problem, f"the gradient of {label} is the soft sample's gradient", hint=problem
        )
