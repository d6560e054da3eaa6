"""Checkers for notebook 08 (softmax policies in reinforcement learning).

* :func:`check_boltzmann_probabilities` - action probabilities from values at a temperature;
* :func:`check_grad_log_probability` - the gradient of log pi(a) for a softmax policy,
  compared with ``torch.autograd``.

Examples
--------
>>> from softmax_lab import boltzmann_probabilities, grad_log_probability
>>> check_boltzmann_probabilities(boltzmann_probabilities).passed
True
>>> check_grad_log_probability(grad_log_probability).passed
True
>>> def stub(values, temperature):
...     raise NotImplementedError("your code here")
>>> print(check_boltzmann_probabilities(stub))  # doctest: +ELLIPSIS
Exercise 8.1 - Boltzmann action probabilities: not finished yet - ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from scipy.special import softmax as scipy_softmax

from . import (
    Report,
    array_problem,
    as_array,
    as_floats,
    call,
    close_to,
    differ,
    exercise,
    torch_use,
)

__all__ = ["check_boltzmann_probabilities", "check_grad_log_probability"]


def _boltzmann_mistake(
    values: np.ndarray, temperature: float, got: np.ndarray, max_first_ok: bool = False
) -> str:
    """Name the usual mistake behind wrong probabilities, when it is one of the usual ones.

    ``max_first_ok`` says that an overflow case with the largest value first passed: a
    shift by the first value then overflows only where the largest value is not first.
    """
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(got)):
            z = np.atleast_2d(values / temperature)
            broken = ~np.all(np.isfinite(np.atleast_2d(got)), axis=-1)
            first_overflows = (z - z[:, :1]).max(axis=-1) > 709  # exp(z - z[0]) is inf
            if max_first_ok and np.any(broken & first_overflows):
                return (
                    "got NaN or inf: [1000, 999, 0] worked, but here the largest value is not "
                    "first: you shifted by the first value, not the max; subtract "
                    "z.max(axis=-1, keepdims=True)"
                )
            top = z.max(axis=-1) == z.max()
            if np.any(broken & top):
                return (
                    "got NaN or inf: exp overflowed; subtract the max after dividing by T "
                    "(a shift by the mean is not enough)"
                )
            return (
                "got NaN in a row far below the batch's largest value: one max for the whole "
                "batch underflows it to 0/0; subtract each row's own max (keepdims=True)"
            )
        mistakes = [
            (scipy_softmax(values), "the temperature is ignored: divide the values by T"),
            (
                scipy_softmax(values * temperature, axis=-1),
                "the values were multiplied by T: divide by it",
            ),
            (
                scipy_softmax(values / temperature, axis=None),
                "one softmax over the whole batch: normalise each row (axis=-1, keepdims=True)",
            ),
            (
                scipy_softmax(values / temperature, axis=0),
                "softmax over the wrong axis: use the last axis (axis=-1)",
            ),
            (
                scipy_softmax(-values / temperature, axis=-1),
                "the sign is flipped: larger values must get larger probabilities",
            ),
        ]
        best = values == values.max(axis=-1, keepdims=True)
        one_hot = best / best.sum(axis=-1, keepdims=True)
        first_only = np.eye(values.shape[-1])[values.argmax(axis=-1)]
    for wrong, message in mistakes:
        if wrong.shape == got.shape and np.allclose(wrong, got, atol=1e-8):
            return message
    if got.shape == values.shape and np.allclose(got, first_only) and not np.allclose(one_hot, got):
        return "tied values must share the probability: argmax picks only one of them"
    if got.shape == values.shape and np.allclose(got, one_hot):
        return (
            "a one-hot at the argmax is not the softmax, even at a tiny T: values "
            f"{np.ptp(values, axis=-1).min():g} apart at T = {temperature:g} still share the "
            "probability; compute exp((v - max) / T) for every temperature"
        )
    return ""


@exercise("Exercise 8.1 - Boltzmann action probabilities")
def check_boltzmann_probabilities(
    report: Report, candidate: Callable[[np.ndarray, float], np.ndarray]
) -> None:
    """Check ``candidate(values, temperature) -> probabilities`` over the last axis.

    Cases: a plain vector at T = 1 (against ``scipy.special.softmax``), a hot and a cold
    temperature, values large enough to overflow ``exp`` without the max shift (the
    largest first, last and in the middle, so a shift by the first value or by the
    mean overflows), a tiny temperature that overflows even small values, close and
    tied values at T = 0.01 and T = 0.001 (a hard argmax below some T fails), a batch
    of rows, and a batch whose rows lie 2000 apart (one max for the whole batch
    underflows the lower row). The result must be a NumPy array (the task says so);
    torch is reported.
    """
    cases = [
        ("values [1, 2, 3] at temperature 1", np.array([1.0, 2.0, 3.0]), 1.0),
        ("a hot temperature (T = 100): nearly uniform", np.array([1.0, 2.0, 3.0]), 100.0),
        ("a cold temperature (T = 0.05): nearly greedy", np.array([1.0, 2.0, 3.0]), 0.05),
        ("large values [1000, 999, 0]", np.array([1000.0, 999.0, 0.0]), 1.0),
        ("values [2000, 0] (a shift by the mean still overflows)", np.array([2000.0, 0.0]), 1.0),
        ("values [0, 2000] (the largest value last)", np.array([0.0, 2000.0]), 1.0),
        ("values [-5, 1000, 3] (the largest in the middle)", np.array([-5.0, 1000.0, 3.0]), 1.0),
        ("small values at T = 0.001 (values / T = 2000)", np.array([2.0, 1.0, 0.5]), 0.001),
        (
            "tied values [2, 2, 1] at T = 0.01 share the probability",
            np.array([2.0, 2.0, 1.0]),
            0.01,
        ),
        (
            "close values [0.001, 0] at T = 0.001 (values / T = [1, 0])",
            np.array([0.001, 0.0]),
            0.001,
        ),
        (
            "tied values [1, 1, 0] at T = 0.001 share the probability",
            np.array([1.0, 1.0, 0.0]),
            0.001,
        ),
        (
            "a batch of two rows: each row is its own distribution (softmax over the last axis)",
            np.array([[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]),
            0.5,
        ),
        (
            "a batch whose rows lie 2000 apart: each row shifted by its own max",
            np.array([[2000.0, 1999.0, 0.0], [0.0, 1.0, 2.0]]),
            1.0,
        ),
    ]
    used_torch = ""
    max_first_ok = False  # [1000, 999, 0] passed: a shift by the first value works there
    for label, values, temperature in cases:
        expected = scipy_softmax(values / temperature, axis=-1)
        with torch_use() as seen:
            result = call(candidate, values, temperature)
        used_torch = used_torch or seen.problem
        ok = report.compare(
            f"{label} -> {np.round(expected, 4).tolist()}",
            expected,
            result,
            rtol=1e-6,
            atol=1e-8,
            problem=array_problem(result),
            diagnose=partial(_boltzmann_mistake, values, temperature, max_first_ok=max_first_ok),
            show_values=False,
        )
        if label.startswith("large values"):
            max_first_ok = ok
    report.expect(not used_torch, "uses NumPy only", hint=used_torch)


def _autograd_grad(preferences: np.ndarray, action: int) -> np.ndarray:
    import torch  # imported here so the package does not need torch to import

    h = torch.tensor(preferences, dtype=torch.float64, requires_grad=True)
    torch.log_softmax(h, dim=-1)[action].backward()
    return h.grad.numpy()


def _gradient_mistake(
    preferences: np.ndarray, action: int, got: np.ndarray, max_first_ok: bool = False
) -> str:
    """Name the usual mistake behind a wrong gradient, when it is one of the usual ones."""
    if not np.all(np.isfinite(got)):
        if max_first_ok and (preferences - preferences[0]).max() > 709:  # exp overflows
            return (
                "got NaN or inf: [800, 0, -5, 799] worked, but here the largest preference is "
                "not first: you shifted by the first preference, not the max; subtract "
                "preferences.max()"
            )
        return (
            "got NaN or inf: exp overflowed; subtract the max of the preferences before exp "
            "(the mean is not enough for [2000, 0])"
        )
    pi = scipy_softmax(preferences)
    one_hot = np.eye(len(preferences))[action]
    mistakes = [
        (pi - one_hot, "the sign is flipped: it is one_hot(action) - pi, not pi - one_hot"),
        (one_hot, "that is only the one-hot vector: subtract pi = softmax(preferences)"),
        (pi, "that is pi itself: the gradient is one_hot(action) - pi"),
        (-pi, "add the one-hot vector of the action: one_hot(action) - pi"),
        (
            pi[action] * (one_hot - pi),
            "that is the gradient of pi(a); log pi(a) divides it by pi(a): one_hot - pi",
        ),
        (
            np.eye(len(preferences))[preferences.argmax()] - pi,
            "the one-hot vector marks the action taken, not the best action",
        ),
    ]
    for wrong, message in mistakes:
        if np.allclose(wrong, got, atol=1e-10):
            return message
    return ""


def _gradient_problem(result: object) -> str:
    """Why a result of the right shape is not a gradient vector ("" for a NumPy array or a list
    of numbers; text and complex numbers are never judged by their values, see ``as_floats``)."""
    if isinstance(result, list | tuple):
        return ""  # the task allows a list: the gradient is just numbers
    problem = array_problem(result)
    return problem.replace("return a NumPy array", "return a NumPy array (or a list)")


def _tolerance(result: object) -> tuple[float, float, float]:
    """(rtol, atol, tolerance of the sum) for the result's precision: float32 gets float32's."""
    got = as_array(result)
    if got is not None and got.dtype == np.float32:
        return 1e-5, 1e-7, 1e-6
    return 1e-6, 1e-10, 1e-10


@exercise("Exercise 8.2 - the gradient of log pi")
def check_grad_log_probability(
    report: Report, candidate: Callable[[np.ndarray, int], np.ndarray]
) -> None:
    """Check ``candidate(preferences, action) -> d log pi(action) / d preferences``.

    The reference is ``torch.autograd`` through ``torch.log_softmax``, on uniform,
    skewed and large preferences (also ``[2000, 0]``, which a shift by the mean does not
    survive, and ``[0, 2000]`` and ``[-5, 1000, 3]``, which a shift by the first
    preference does not survive) and on every action of a 4-action policy, whose
    gradients must also sum to 0. The result may be a NumPy array or a list of numbers;
    a float32 result is held to float32's precision, anything else to float64's.
    """
    cases = [
        ("uniform preferences [0, 0, 0], action 1", np.zeros(3), 1),
        ("preferences [1, 2, 3], action 2 (the likeliest)", np.array([1.0, 2.0, 3.0]), 2),
        ("preferences [1, 2, 3], action 0 (the least likely)", np.array([1.0, 2.0, 3.0]), 0),
        (
            "large preferences [800, 0, -5, 799], action 3",
            np.array([800.0, 0.0, -5.0, 799.0]),
            3,
        ),
        ("preferences [2000, 0], action 1", np.array([2000.0, 0.0]), 1),
        ("preferences [0, 2000], action 0 (the largest last)", np.array([0.0, 2000.0]), 0),
        (
            "preferences [-5, 1000, 3], action 2 (the largest in the middle)",
            np.array([-5.0, 1000.0, 3.0]),
            2,
        ),
    ]
    max_first_ok = False  # [800, 0, -5, 799] passed: a shift by the first entry works there
    for label, preferences, action in cases:
        expected = _autograd_grad(preferences, action)
        result = call(candidate, preferences, action)
        rtol, atol, _ = _tolerance(result)
        ok = report.compare(
            f"{label} matches torch.autograd: {np.round(expected, 4).tolist()}",
            expected,
            result,
            rtol=rtol,
            atol=atol,
            problem=_gradient_problem(result),
            diagnose=partial(_gradient_mistake, preferences, action, max_first_ok=max_first_ok),
            show_values=False,
        )
        if label.startswith("large preferences"):
            max_first_ok = ok
    rng = np.random.default_rng(8)
    preferences = rng.normal(size=4)
    hint = ""
    for action in range(4):
        expected = _autograd_grad(preferences, action)
        result = call(candidate, preferences, action)
        rtol, atol, sum_tolerance = _tolerance(result)
        if not close_to(result, expected, rtol=rtol, atol=atol) or _gradient_problem(result):
            hint = f"action {action}: " + (_gradient_problem(result) or differ(expected, result))
            break
        total = float(np.sum(as_floats(result)))
        if abs(total) > sum_tolerance:
            hint = (
                f"action {action}: the gradient sums to {total:.2g}, more than rounding "
                f"({sum_tolerance:g}) allows: one_hot sums to 1 and pi sums to 1, so "
                "one_hot - pi sums to 0; compute pi in float64 (or float32)"
            )
            break
    report.expect(
        not hint,
        "random preferences, every action: correct, and each gradient sums to 0",
        hint=hint,
    )
