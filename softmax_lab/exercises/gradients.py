"""Checkers for the exercises of notebook 04 (the Jacobian and gradients).

* :func:`check_softmax_vjp` - the vector-Jacobian product ``v @ J`` of softmax, in O(n)
  memory, checked against ``torch.autograd``;
* :func:`check_cross_entropy_grad` - the gradient of ``-log softmax(z)[label]`` with
  respect to the logits ``z``: ``softmax(z) - one_hot(label)``;
* :func:`check_numerical_gradient` - the central-difference gradient of a function, one
  coordinate at a time, as used in a gradient check.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> import numpy as np
>>> def vjp(x, v):
...     e = np.exp(x - x.max())
...     s = e / e.sum()
...     return s * (v - s @ v)
>>> check_softmax_vjp(vjp).passed
True
>>> print(check_softmax_vjp(lambda x, v: -vjp(x, v)))  # doctest: +ELLIPSIS
Exercise 4.1 - the softmax VJP without the Jacobian: 3 of 6 checks passed
  ok    returns one number per score
  FAIL  matches torch.autograd on 5 random (x, v) pairs (...)
  ...
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch

from . import Report, as_floats, call, describe, differ, exercise, peak_memory

__all__ = [
    "check_softmax_vjp",
    "check_cross_entropy_grad",
    "check_numerical_gradient",
    "peak_memory",
]

MEMORY_N = 3000  # the memory check's row length: its n x n float64 Jacobian is 72 MB


def _first_entry(x: str) -> str:
    """Feedback for a shift by the first entry, the input called ``x``."""
    return (
        "the same scores with the largest first worked, so you shifted by the first entry, "
        f"not the max ({x} - {x}[0] leaves the largest score far above 0, and exp "
        f"overflows); subtract np.max({x})"
    )


def _large_score_mistake(
    mistake: Callable[[np.ndarray], str], x: str, scores: str, first_ok: bool, got: np.ndarray
) -> str:
    """Name the mistake behind a wrong answer for large scores: an overflow (after the same
    scores with the largest first passed: ``first_ok``, a shift by the first entry), else
    what ``mistake(got)`` names."""
    if np.all(np.isfinite(got)):
        return mistake(got)
    if first_ok:
        return _first_entry(x)
    return (
        f"use a stable softmax, shifted by the maximum (the mean or the minimum leaves {scores} "
        "far above it, and exp overflows)"
    )


def _torch_vjp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    scores = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.softmax(scores, dim=-1).backward(torch.tensor(v, dtype=torch.float64))
    return scores.grad.numpy()


def _torch_cross_entropy_grad(logits: np.ndarray, label: int) -> np.ndarray:
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([label])).backward()
    return z.grad.numpy()


def _stable_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _vjp_mistake(x: np.ndarray, v: np.ndarray, got: np.ndarray) -> str:
    """Name the usual VJP mistake whose answer ``got`` is ("" if none is recognised)."""
    s = _stable_softmax(x)
    mistakes = [
        (-(s * (v - s @ v)), "the sign is flipped: it is s * (v - s @ v)"),
        (
            s * v,
            "that is diag(s) v alone: you left out the - s (s . v) term of J = diag(s) - s s^T",
        ),
        (v - s @ v, "multiply by s: the product is s * (v - s @ v)"),
        (s * (v - s * v), "s @ v is one number (the dot product), not the elementwise s * v"),
        (s * (v - v.sum()), "subtract s @ v (the dot product with s), not the plain sum of v"),
    ]
    for values, name in mistakes:
        if got.shape == values.shape and np.allclose(got, values):
            return name
    return ""


@exercise("Exercise 4.1 - the softmax VJP without the Jacobian")
def check_softmax_vjp(report: Report, candidate: Callable[[Any, Any], Any]) -> None:
    """Exercise 4.1: ``candidate(x, v)`` returns ``v @ J`` for 1-D float arrays, J never formed.

    Compared with ``torch.autograd`` on random inputs and on large scores, the largest
    first and last (a shift by the first entry is named); then run at
    n = 3000 under :func:`peak_memory` (NumPy and torch): a peak above 1 MB means an n x n array was built
    (the Jacobian alone is 72 MB there).
    """
    rng = np.random.default_rng(5)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    result = call(candidate, x, v)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (5,),
        "returns one number per score",
        hint=f"for 5 scores got {describe(result) if got is None else f'shape {got.shape}'}",
    )
    worst = None
    for n in (2, 3, 5, 10, 50):
        x, v = 3.0 * rng.standard_normal(n), rng.standard_normal(n)
        result = call(candidate, x, v)
        got = as_floats(result)
        expected = _torch_vjp(x, v)
        if got is None or got.shape != expected.shape or not np.allclose(got, expected):
            worst = (x, v, got, result, expected)
            break
    hint = ""
    if worst is not None:
        x, v, got, result, expected = worst
        hint = f"for n = {len(x)}: {differ(expected, result)}"
        if got is not None and _vjp_mistake(x, v, got):
            hint += f": {_vjp_mistake(x, v, got)}"
    report.expect(worst is None, "matches torch.autograd on 5 random (x, v) pairs", hint=hint)
    first_ok = False  # the largest score first passed
    for x, v, message in (
        (
            [2000.0, 1999.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            "for large scores x = [2000, 1999, 0, 0]",
        ),
        (
            [0.0, 0.0, 1999.0, 2000.0],
            [0.0, 0.0, 0.0, 1.0],
            "when the largest score is last: x = [0, 0, 1999, 2000]",
        ),
    ):
        x, v = np.array(x), np.array(v)
        expected = _torch_vjp(x, v)
        result = call(candidate, x, v)
        first_ok = report.compare(
            f"stays finite {message}",
            expected,
            result,
            rtol=1e-5,
            atol=1e-8,
            diagnose=partial(
                _large_score_mistake, partial(_vjp_mistake, x, v), "x", "scores", first_ok
            ),
        )
    x, v = rng.standard_normal(10), np.ones(10)
    result = call(candidate, x, v)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (10,) and np.allclose(got, 0.0, atol=1e-12),
        "v = all ones gives 0 (the rows and columns of J sum to 0)",
        hint=differ(np.zeros(10), result),
    )
    x, v = rng.standard_normal(MEMORY_N), rng.standard_normal(MEMORY_N)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result, peak = peak_memory(lambda: call(candidate, x, v))
    megabytes = peak / 1e6
    report.expect(
        peak < 1_000_000,
        f"uses O(n) memory: under 1 MB at n = {MEMORY_N}",
        hint=f"the peak was {megabytes:.0f} MB; the {MEMORY_N} x {MEMORY_N} Jacobian is "
        f"{8 * MEMORY_N**2 / 1e6:.0f} MB, so an n x n array was built (np.outer, np.diag, "
        "J itself, or a torch Jacobian): compute s * (v - s @ v) instead",
    )


def _cross_entropy_mistakes(z: np.ndarray, label: int) -> list[tuple[np.ndarray, str]]:
    """The usual cross-entropy-gradient mistakes for ``(z, label)``: (their answer, name)."""
    p, n = _stable_softmax(z), len(z)
    y = np.eye(n)[label]
    return [
        (y - p, "the sign is flipped: it is p - y (p = softmax(z)), not y - p"),
        (p, "that is p alone; subtract the one-hot target y"),
        (
            p - np.eye(n)[int(np.argmax(z))],
            "you subtracted 1 at argmax(z), the largest logit: subtract it at label, the true "
            "class, whichever logit is largest",
        ),
        (p - np.eye(n)[(label - 1) % n], "the -1 is one place too early: the label indexes from 0"),
        (p - np.eye(n)[(label + 1) % n], "the -1 is one place too late: the label indexes from 0"),
        ((p - y) / n, "do not divide by the number of classes: one example's gradient is p - y"),
        (-y / np.where(p > 0, p, 1.0), "that is dL/dp; push it through softmax: dL/dz = p - y"),
    ]


def _cross_entropy_mistake(answers: list[tuple[np.ndarray, int, np.ndarray | None]]) -> str:
    """Name the usual mistake that every answer ``(z, label, got)`` matches ("" if none).

    Several cases, not only the first failing one: subtracting 1 at argmax(z) can look like
    an index off by one on a single case.
    """
    named = [_cross_entropy_mistakes(z, label) for z, label, _ in answers]
    for k, (_, name) in enumerate(named[0]):
        if all(
            got is not None
            and got.shape == mistakes[k][0].shape
            and np.allclose(got, mistakes[k][0])
            for (_, _, got), mistakes in zip(answers, named, strict=True)
        ):
            return name
    return ""


def _one_answer_mistake(z: np.ndarray, label: int, got: np.ndarray) -> str:
    """The usual cross-entropy-gradient mistake whose answer for ``(z, label)`` is ``got``."""
    return _cross_entropy_mistake([(z, label, got)])


@exercise("Exercise 4.2 - the cross-entropy gradient")
def check_cross_entropy_grad(report: Report, candidate: Callable[[Any, int], Any]) -> None:
    """Exercise 4.2: ``candidate(z, label)`` returns d/dz of ``-log softmax(z)[label]``.

    Compared with ``torch.autograd`` through ``torch.nn.functional.cross_entropy`` (to
    ``np.allclose``'s default tolerance, so an answer computed in float32 passes too); then
    the gradient must sum to 0 (within 1e-6) and stay finite for logits like [2000, 0, 0],
    where a shift by the mean still overflows, and [0, 0, 2000], where a shift by the
    first entry does. Wrong answers that match a usual mistake on every case (sign, p
    alone, the -1 at argmax(z) or in the wrong place, dividing by n, dL/dp) are named.
    """
    rng = np.random.default_rng(6)
    z = rng.standard_normal(4)
    result = call(candidate, z, 1)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (4,),
        "returns one number per logit",
        hint=f"for 4 logits got {describe(result) if got is None else f'shape {got.shape}'}"
        + (
            ": one number is the loss; return its gradient"
            if got is not None and got.size == 1
            else ""
        ),
    )
    failure = None
    answers = []
    for n, label in ((3, 0), (3, 2), (5, 1), (10, 7), (10, 0)):
        z = 2.0 * rng.standard_normal(n)
        result = call(candidate, z, label)
        got = as_floats(result)
        answers.append((z, label, got))
        expected = _torch_cross_entropy_grad(z, label)
        if failure is None and (
            got is None or got.shape != expected.shape or not np.allclose(got, expected)
        ):
            failure = (z, label, got, result, expected)
    hint = ""
    if failure is not None:
        z, label, got, result, expected = failure
        hint = f"for label {label}: {differ(expected, result)}"
        if got is not None and got.shape == expected.shape and _cross_entropy_mistake(answers):
            hint += f": {_cross_entropy_mistake(answers)}"
        elif got is not None and got.size == 1:
            hint += ": one number is the loss; return its gradient, one number per logit"
    report.expect(
        failure is None, "matches torch.autograd on 5 random (logits, label) pairs", hint=hint
    )
    z = 3.0 * rng.standard_normal(6)
    result = call(candidate, z, 4)
    got = as_floats(result)
    total = float(got.sum()) if got is not None and got.shape == (6,) else None
    report.expect(
        total is not None and abs(total) < 1e-6,
        "the gradient sums to 0 (p and y both sum to 1)",
        hint=f"the sum is {total:.3g}" if total is not None else differ(np.zeros(6), result),
    )
    spread_ok = False
    for logits, label, expected in (
        ([2000.0, 0.0, 0.0], 2, [1.0, 0.0, -1.0]),
        ([0.0, 0.0, 2000.0], 0, [-1.0, 0.0, 1.0]),
    ):
        z = np.array(logits)
        result = call(candidate, z, label)
        spread_ok = report.compare(
            f"stays finite for logits {[int(v) for v in logits]} with label {label}: "
            f"{[int(v) for v in expected]}",
            expected,
            result,
            rtol=1e-5,
            atol=1e-8,
            diagnose=partial(
                _large_score_mistake,
                partial(_one_answer_mistake, z, label),
                "z",
                "logits",
                spread_ok,
            ),
        )


def _differences(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float
) -> dict[str, np.ndarray]:
    """The usual finite-difference formulas, right and wrong, one entry per coordinate."""
    steps = h * np.eye(len(x))
    up = np.array([f(x + step) for step in steps])
    down = np.array([f(x - step) for step in steps])
    here, ones = f(x), np.ones_like(x)
    return {
        "central": (up - down) / (2 * h),
        "forward": (up - here) / h,
        "backward": (here - down) / h,
        "over h": (up - down) / h,
        "half forward": (up - here) / (2 * h),
        "all at once": (f(x + h * ones) - f(x - h * ones)) / (2 * h) * ones,
    }


_DIFFERENCE_MISTAKES = {
    "forward": "that is the forward difference (f(x + h e_i) - f(x)) / h, whose error is O(h): "
    "use the central difference (f(x + h e_i) - f(x - h e_i)) / 2h",
    "backward": "that is the backward difference (f(x) - f(x - h e_i)) / h, whose error is O(h): "
    "use the central difference (f(x + h e_i) - f(x - h e_i)) / 2h",
    "over h": "divide by 2h, not h: the two points x + h e_i and x - h e_i are 2h apart",
    "half forward": "the lower point was x itself, not x - h e_i: after x[i] += h, step down by 2h "
    "(or restore x[i] and subtract h)",
    "all at once": "every coordinate was moved at once (x + h for all i): move one coordinate at a "
    "time, x + h e_i",
}


def _difference_mistake(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float, got: np.ndarray
) -> str:
    """Name the finite-difference mistake whose answer ``got`` is ("" if none is recognised)."""
    variants = _differences(f, x, h)
    for key, name in _DIFFERENCE_MISTAKES.items():
        if got.shape == variants[key].shape and np.allclose(
            got, variants[key], rtol=1e-9, atol=1e-12
        ):
            return name
    return ""


def _mutation_hint(before: np.ndarray, after: Any, h: float) -> str:
    """Why ``x`` came back changed from a central difference with step ``h``."""
    copy = "or perturb a copy (x + h * e_i) and leave x alone"
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return f"x came back as {describe(after)}: perturb a copy (x + h * e_i) and leave x alone"
    change = float(np.max(np.abs(after - before)))
    if 0 < change < 1e-3 * h:
        return (
            f"x came back off by {change:.1g}: stepping x[i] up by h and back down does not "
            "restore it exactly in floating point; save old = x[i] and write it back "
            f"(x[i] = old), {copy}"
        )
    return (
        f"x came back with an entry moved by {change:.2g} (h = {h:g}): x[i] was perturbed in "
        f"place and never put back; save old = x[i] and restore it after the two calls of f, "
        f"{copy}"
    )


def _in_place_hint(h: float) -> Callable[[str, np.ndarray, Any], str]:
    """The report's ``in_place_hint`` for a call with step ``h`` (see :func:`_mutation_hint`)."""
    return lambda name, before, after: _mutation_hint(before, after, h)


@exercise("Exercise 4.3 - a central-difference gradient")
def check_numerical_gradient(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 4.3: ``candidate(f, x, h)`` returns the central differences of ``f`` at ``x``.

    Entry ``i`` must be ``(f(x + h e_i) - f(x - h e_i)) / 2h``. Checked against exact
    derivatives (``sin``, ``x0 * x1``, ``x**3``, where the central difference of ``x**3`` is
    exactly ``3 x**2 + h**2``, which catches forward differences, a wrong denominator and an
    ``h`` that is not used); wrong answers matching a usual mistake are named, and the
    caller's ``x`` must come back unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> def gradient(f, x, h):
    ...     return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    >>> check_numerical_gradient(gradient).passed
    True
    >>> def forward(f, x, h):
    ...     return np.array([(f(x + h * e) - f(x)) / h for e in np.eye(len(x))])
    >>> print(check_numerical_gradient(forward).failures[0])  # doctest: +ELLIPSIS
    matches the exact gradient of sum(sin x) + x0 x1 ... that is the forward difference ...
    """

    def wavy(x: np.ndarray) -> float:
        return float(np.sum(np.sin(x)) + x[0] * x[1])

    def cubic(x: np.ndarray) -> float:
        return float(np.sum(x**3))

    def product(x: np.ndarray) -> float:
        return float(x[0] * x[1])

    x = np.array([0.5, -1.25, 2.0])
    exact = np.cos(x) + np.array([x[1], x[0], 0.0])
    report.in_place_hint = _in_place_hint(1e-5)
    result = call(candidate, wavy, x, 1e-5)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (3,),
        "returns one number per coordinate of x",
        hint=f"for 3 coordinates got {describe(result) if got is None else f'shape {got.shape}'}"
        + (
            ": one number is f(x) or a slope along one direction; return d f / d x_i for every i"
            if got is not None and got.size == 1
            else ""
        ),
    )
    report.compare(
        "matches the exact gradient of sum(sin x) + x0 x1 to 1e-8 with h = 1e-5",
        exact,
        result,
        rtol=1e-8,
        atol=1e-9,
        diagnose=partial(_difference_mistake, wavy, x, 1e-5),
    )
    x = np.array([1.0, -2.0, 0.5])
    h = 0.1
    expected = 3 * x**2 + h**2  # the central difference of x**3, exactly
    report.in_place_hint = _in_place_hint(h)
    result = call(candidate, cubic, x, h)

    def exact_derivative(got: np.ndarray) -> str:
        if np.allclose(got, 3 * x**2, rtol=1e-6) and not np.allclose(got, expected, rtol=1e-9):
            return (
                "that is 3 x**2, the exact derivative, without the h**2 that the central "
                "difference with h = 0.1 has: you used a smaller step than the h you are "
                "given, or subtracted h**2; return (f(x + h e_i) - f(x - h e_i)) / 2h as it is"
            )
        return _difference_mistake(cubic, x, h, got)

    report.compare(
        "is the central difference: for sum(x**3) with h = 0.1 it gives 3 x**2 + h**2 exactly",
        expected,
        result,
        rtol=1e-9,
        atol=1e-12,
        diagnose=exact_derivative,
    )
    x = np.array([2.0, 3.0])
    report.in_place_hint = _in_place_hint(1e-5)
    result = call(candidate, product, x, 1e-5)
    report.compare(
        "moves one coordinate at a time: x0 x1 at [2, 3] gives [3, 2]",
        [3.0, 2.0],
        result,
        rtol=1e-8,
        atol=1e-8,
        diagnose=partial(_difference_mistake, product, x, 1e-5),
    )
