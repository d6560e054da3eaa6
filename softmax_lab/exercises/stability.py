"""Checkers for the exercises of notebook 03 (numerical stability).

* :func:`check_stable_logsumexp` - ``log(sum(exp(x)))`` for a 1-D row, without overflow;
* :func:`check_stable_log_softmax` - ``log(softmax(x))`` for a 1-D row, finite where
  ``np.log(softmax(x))`` gives ``-inf``;
* :func:`check_half_softmax` - softmax of a float16 or bfloat16 tensor, in the input's dtype,
  computed in float32 and rounded once (torch is imported only when this check runs).

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> import numpy as np
>>> def stable(x):
...     x = np.asarray(x, dtype=float)
...     m = x.max()
...     if m == -np.inf:
...         return -np.inf
...     return m + np.log(np.sum(np.exp(x - m)))
>>> check_stable_logsumexp(stable).passed
True
>>> naive = lambda x: np.log(np.sum(np.exp(x)))
>>> print(check_stable_logsumexp(naive))  # doctest: +ELLIPSIS
Exercise 3.1 - a stable logsumexp: 4 of 11 checks passed
  ok    returns one number for a row of scores
  ok    matches scipy.special.logsumexp on ordinary scores
  FAIL  no overflow: [1000, 1000] gives 1000 + log 2 = 1000.6931 (expected 1000.69, got inf: ...)
  ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import logsumexp as scipy_logsumexp

from . import Report, as_floats, call, describe, differ, exercise, same_number, show

__all__ = ["check_stable_logsumexp", "check_stable_log_softmax", "check_half_softmax"]

_SHIFT_HINT = "exp overflows or underflows; subtract the maximum before exponentiating"
_FIRST_ENTRY = (
    "[2000, 0] worked, but here the largest score is not first: you shifted by the first "
    "entry, not the max (x - x[0] leaves the largest score far above 0); subtract np.max(x)"
)


def _scalar(candidate: Callable[..., Any], x: list[float] | np.ndarray) -> tuple[Any, float | None]:
    """The candidate's answer for ``x`` as a float (None when it is not one number)."""
    result = call(candidate, np.asarray(x, dtype=float))
    values = as_floats(result)
    if values is None or values.size != 1:
        return result, None
    return result, float(values.reshape(()))


def _lse_mistake(x: np.ndarray, got: float) -> str:
    """Name the usual logsumexp mistake whose answer ``got`` is, for the row ``x``."""
    finite = x[np.isfinite(x)]
    if finite.size == 0 or not math.isfinite(got):
        return ""
    m = float(finite.max())
    rest = float(scipy_logsumexp(x - m))
    mistakes = [
        (rest, "you forgot to add the maximum back: m + log(sum(exp(x - m)))"),
        (m, "that is the maximum alone: add log(sum(exp(x - m)))"),
        (m - rest, "sign error: it is m + log(sum(exp(x - m))), not m - ..."),
        (m + rest / math.log(10), "np.log10 is the base-10 log: use the natural log np.log"),
        (m + rest / math.log(2), "np.log2 is the base-2 log: use the natural log np.log"),
    ]
    for value, name in mistakes:
        if math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9):
            return name
    return ""


def _hint(expected: float, got: float | None, result: Any, x: np.ndarray | None = None) -> str:
    if got is None:
        return f"got {describe(result)}"
    text = differ(expected, got)
    if not math.isfinite(got):
        text += f": {_SHIFT_HINT}"
        if x is not None and np.ptp(x[np.isfinite(x)]) >= 2000:
            text += " (the mean or the minimum leaves scores far above it, and exp overflows)"
    elif x is not None and _lse_mistake(x, got):
        text += f": {_lse_mistake(x, got)}"
    return text


@exercise("Exercise 3.1 - a stable logsumexp")
def check_stable_logsumexp(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 3.1: ``candidate(x)`` returns ``log(sum(exp(x)))`` of a 1-D float array.

    Fed ordinary scores, overflow ([1000, 1000]), underflow ([-1000, -1001]), mixed
    magnitudes, a spread of 2000 with the largest score first, last and in the middle
    (a shift by the first entry is named), ``-inf`` entries, a row of only ``-inf`` and a
    long row of large scores. One number may be a float, a NumPy scalar, a 0-d or a
    length-1 array (as the task text says).
    """
    rng = np.random.default_rng(3)
    ordinary = rng.standard_normal(10)
    result, got = _scalar(candidate, ordinary)
    report.expect(
        got is not None,
        "returns one number for a row of scores",
        hint=f"got {describe(result)}",
    )
    expected = float(scipy_logsumexp(ordinary))
    report.expect(
        same_number(got, expected),
        "matches scipy.special.logsumexp on ordinary scores",
        hint=_hint(expected, got, result, ordinary),
    )
    cases = [
        ("no overflow: [1000, 1000] gives 1000 + log 2 = 1000.6931", [1000.0, 1000.0]),
        ("no underflow: [-1000, -1001] gives -999.6867", [-1000.0, -1001.0]),
        ("mixed magnitudes: [1000, -1000, 0] gives 1000.0", [1000.0, -1000.0, 0.0]),
        ("a spread of 2000: [2000, 0] gives 2000.0", [2000.0, 0.0]),
        ("the largest score last: [0, 2000] gives 2000.0", [0.0, 2000.0]),
        ("the largest score in the middle: [-5, 1000, 3] gives 1000.0", [-5.0, 1000.0, 3.0]),
        ("-inf entries add nothing: [-inf, 0, 1] gives 1.3133", [-np.inf, 0.0, 1.0]),
    ]
    spread_ok = False  # [2000, 0] passed: a shift by the mean or the minimum overflows there
    for message, x in cases:
        expected = float(scipy_logsumexp(x))
        result, got = _scalar(candidate, x)
        ok = same_number(got, expected)
        hint = _hint(expected, got, result, np.array(x))
        if x == [2000.0, 0.0]:
            spread_ok = ok
        elif spread_ok and np.argmax(x) != 0 and max(x) >= 1000 and got is not None:
            if not math.isfinite(got):  # so the shift depends on where the largest score is
                hint = f"{differ(expected, got)}: {_FIRST_ENTRY}"
        report.expect(ok, message, hint=hint)
    result, got = _scalar(candidate, [-np.inf, -np.inf])
    report.expect(
        got == -np.inf,
        "a row of only -inf gives -inf (the log of an empty sum)",
        hint=f"{_hint(-np.inf, got, result)}; when the maximum is -inf, x - max is -inf - (-inf) = nan: "
        "return -inf for that case",
    )
    long_row = 700.0 + 30.0 * rng.standard_normal(1000)
    expected = float(scipy_logsumexp(long_row))
    result, got = _scalar(candidate, long_row)
    report.expect(
        same_number(got, expected),
        f"a long row of large scores (1000 entries near 700) gives {expected:.4f}",
        hint=_hint(expected, got, result, long_row),
    )


def _log_softmax_mistake(x: np.ndarray, got: np.ndarray) -> str:
    """Name the usual log_softmax mistake whose answer ``got`` is, for the row ``x`` ("" if none)."""
    shifted = x - x.max()
    log_sum = float(np.log(np.sum(np.exp(shifted))))
    mistakes = [
        (shifted, "you returned x - max: subtract log(sum(exp(x - max))) as well"),
        (
            np.exp(shifted - log_sum),
            "those are probabilities: return their logs, x - max - log(sum(...))",
        ),
        (log_sum - shifted, "sign error: it is (x - max) - log(sum(exp(x - max)))"),
        (
            shifted - log_sum / math.log(10),
            "np.log10 is the base-10 log: use the natural log np.log",
        ),
    ]
    for values, name in mistakes:
        if np.allclose(got, values, rtol=1e-9, atol=1e-12):
            return f": {name}"
    return ""


@exercise("Exercise 3.2 - a stable log_softmax")
def check_stable_log_softmax(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 3.2: ``candidate(x)`` returns ``log(softmax(x))`` of a 1-D float array.

    It must stay finite where the probability underflows (``[0, -800]``), survive
    [1000, 1000], [-1000, -1001] and a spread of 2000 with the largest score first, last
    and in the middle (a shift by the first entry is named), exponentiate to
    probabilities summing to 1, and give ``-inf`` exactly at ``-inf`` scores.
    """
    example = np.array([2.0, 1.0, 0.1])
    result = call(candidate, example)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (3,),
        "returns one log-probability per score",
        hint=f"for 3 scores got {describe(result) if got is None else f'shape {got.shape}'}",
    )
    cases = [
        ("gives about [-0.417, -1.417, -2.317] for [2.0, 1.0, 0.1]", example),
        ("stays finite: [0, -800] gives [0, -800]", np.array([0.0, -800.0])),
        ("no overflow: [1000, 1000] gives [-0.6931, -0.6931]", np.array([1000.0, 1000.0])),
        ("no underflow: [-1000, -1001] gives [-0.3133, -1.3133]", np.array([-1000.0, -1001.0])),
        ("a spread of 2000: [2000, 0] gives [0, -2000]", np.array([2000.0, 0.0])),
        ("the largest score last: [0, 2000] gives [-2000, 0]", np.array([0.0, 2000.0])),
        (
            "the largest score in the middle: [-5, 1000, 3] gives [-1005, 0, -997]",
            np.array([-5.0, 1000.0, 3.0]),
        ),
    ]
    spread_ok = False  # [2000, 0] passed: a shift by the mean or the minimum overflows there
    for message, x in cases:
        expected = scipy_log_softmax(x)
        result = call(candidate, x)
        got = as_floats(result)
        good = got is not None and got.shape == x.shape
        good = good and np.allclose(got, expected, rtol=1e-12, atol=1e-12)
        hint = differ(expected, result)
        finite = got is not None and got.shape == x.shape and bool(np.all(np.isfinite(got)))
        if x.tolist() == [2000.0, 0.0]:
            spread_ok = good
        if (
            spread_ok
            and np.argmax(x) != 0
            and got is not None
            and got.shape == x.shape
            and not finite
        ):
            hint += f": {_FIRST_ENTRY}"  # the shift depends on where the largest score is
        elif got is not None and got.shape == x.shape and not np.all(np.isfinite(got)):
            hint += (
                ": log(softmax(x)) turns an underflowed probability into -inf, and "
                "exp(1000) overflows; compute x - max - log(sum(exp(x - max)))"
            )
            if np.ptp(x) >= 2000:
                hint += (
                    " (shift by the maximum: the mean or the minimum leaves scores far above it)"
                )
        elif got is not None and got.shape == x.shape and not good:
            hint += _log_softmax_mistake(x, got)
        report.expect(good, message, hint=hint)
    rng = np.random.default_rng(4)
    row = 10.0 * rng.standard_normal(50)
    result = call(candidate, row)
    got = as_floats(result)
    total = float(np.exp(got).sum()) if got is not None and got.shape == row.shape else None
    report.expect(
        total is not None and math.isclose(total, 1.0, rel_tol=1e-12),
        "exp of the result sums to 1 on a random row of 50 scores",
        hint=f"the sum is {total:.6f}" if total is not None else f"got {show(got, result)}",
    )
    x = np.array([0.0, -np.inf, 1.0])
    result = call(candidate, x)
    got = as_floats(result)
    good = got is not None and got.shape == (3,)
    good = good and got[1] == -np.inf and np.allclose(got[[0, 2]], scipy_log_softmax(x)[[0, 2]])
    report.expect(
        good,
        "a -inf score gives -inf, the others stay finite: [0, -inf, 1]",
        hint=f"got {show(got, result)}",
    )


def _half_row(values: Any, dtype: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(values, dtype=np.float64)).to(dtype)


def _half_error_in_eps(result: Any, x: Any) -> float | None:
    """The worst relative error of ``result`` against float64 softmax of ``x``, in eps of x.dtype.

    Entries whose exact value is below the dtype's smallest normal number are compared in
    absolute terms against that number instead. ``None`` when ``result`` is not a tensor
    of x's shape.
    """
    import torch

    if not isinstance(result, torch.Tensor) or result.shape != x.shape:
        return None
    info = torch.finfo(x.dtype)
    exact = torch.softmax(x.double(), dim=-1).numpy()
    got = result.detach().double().numpy()
    with np.errstate(all="ignore"):
        error = np.abs(got - exact) / np.maximum(exact, info.tiny)
    if not np.all(np.isfinite(got)):
        return math.inf
    return float(error.max() / info.eps)


def _in_half(x: Any) -> Any:
    """The usual mistake: exp, sum and division all in the half dtype."""
    e = (x - x.max()).exp()
    return e / e.sum()


def _half_problem(result: Any, dtype: Any) -> str:
    """Why ``result`` is not a tensor of ``dtype`` ("" when it is one)."""
    import torch

    name = str(dtype).removeprefix("torch.")
    if isinstance(result, Exception):
        return f"got {describe(result)}"
    if isinstance(result, np.ndarray | list | tuple):
        return f"returned a {type(result).__name__}; return a torch tensor of dtype {name}"
    if not isinstance(result, torch.Tensor):
        return f"returned {describe(result)}; return a torch tensor of dtype {name}"
    if result.dtype != dtype:
        got = str(result.dtype).removeprefix("torch.")
        if result.dtype in (torch.float16, torch.bfloat16):
            return f"returned {got} for a {name} input: round to x.dtype, not a fixed half type"
        return f"returned {got}: round the result back to the input's dtype once, .to(x.dtype)"
    return ""


@exercise("Exercise 3.3 - softmax for half-precision inputs")
def check_half_softmax(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 3.3: ``candidate(x)`` for a 1-D float16 or bfloat16 tensor returns its softmax in x.dtype.

    Every entry must be within 1 eps (of x.dtype) of the exact softmax, which a float32
    computation rounded once achieves (0.5 eps) and a computation in the half type does
    not on a long row; scores like [100, 99, 0], [200, 0, 0] (a shift by the mean
    overflows there) and [-5, 1000, 3] (so does a shift by the first entry) must not
    overflow float32's exp.

    Examples
    --------
    >>> import torch
    >>> check_half_softmax(lambda x: torch.softmax(x.float(), dim=-1).to(x.dtype)).passed
    True
    >>> def in_half(x):
    ...     e = (x - x.max()).exp()
    ...     return e / e.sum()
    >>> print(check_half_softmax(in_half).failures[0])  # doctest: +ELLIPSIS
    within 1 eps of the exact softmax on a float16 row of 2000 N(0, 1) scores (...computed in float16...)
    """
    import torch

    for dtype in (torch.float16, torch.bfloat16):
        name = str(dtype).removeprefix("torch.")
        x = _half_row([2.0, 1.0, 0.1], dtype)
        result = call(candidate, x)
        problem = _half_problem(result, dtype)
        report.expect(not problem, f"returns a {name} tensor for a {name} input", hint=problem)
    for dtype in (torch.float16, torch.bfloat16):
        name = str(dtype).removeprefix("torch.")
        x = _half_row(np.random.default_rng(3).standard_normal(2000), dtype)
        result = call(candidate, x)
        error = _half_error_in_eps(result, x)
        if error is None:
            hint = _half_problem(result, dtype) or f"got {describe(result)}"
        else:
            hint = f"the worst entry is off by {error:.1f} eps of {name}"
            if isinstance(result, torch.Tensor) and torch.equal(result, _in_half(x)):
                hint += (
                    f": computed in {name}, every exp, the sum and the division round to {name}; "
                    "convert to float32 first (x.float()) and round once at the end"
                )
        report.expect(
            error is not None and error <= 1.0,
            f"within 1 eps of the exact softmax on a {name} row of 2000 N(0, 1) scores",
            hint=hint,
        )
    cases = [
        ("no overflow: float16 [100, 99, 0] gives [0.7311, 0.2689, 0]", [100.0, 99.0, 0.0]),
        ("no overflow: float16 [200, 0, 0] gives [1, 0, 0]", [200.0, 0.0, 0.0]),
        (
            "the largest score in the middle: float16 [-5, 1000, 3] gives [0, 1, 0]",
            [-5.0, 1000.0, 3.0],
        ),
    ]
    passed = []
    for message, scores in cases:
        x = _half_row(scores, torch.float16)
        result = call(candidate, x)
        error = _half_error_in_eps(result, x)
        if error is None:
            hint = _half_problem(result, torch.float16) or f"got {describe(result)}"
        elif error == math.inf and scores[0] == 200.0 and passed[0]:
            hint = (
                "got nan or inf: [100, 99, 0] worked, but here a shift by the mean (66.7) "
                "leaves 200 - 66.7 = 133 above float32's exp limit of 88.7: subtract the "
                "maximum, not the mean"
            )
        elif error == math.inf and scores[0] == -5.0 and passed[1]:
            hint = (
                "got nan or inf: [200, 0, 0] worked, but here the largest score is not first: "
                "you shifted by the first entry, not the max (x - x[0] leaves 1000 - (-5) = "
                "1005, far above float32's exp limit of 88.7); subtract the maximum"
            )
        elif error == math.inf:
            hint = (
                f"got nan or inf: exp({max(scores):.0f}) overflows even in float32 (above 88.7); "
                "subtract the maximum before exponentiating"
            )
        else:
            hint = f"the worst entry is off by {error:.1f} eps"
        passed.append(error is not None and error <= 1.0)
        report.expect(passed[-1], message, hint=hint)
