"""Checkers for the exercises of notebook 02 (a NumPy softmax for real arrays).

* :func:`check_batched_softmax` - a softmax for arrays of any shape, over any axis;
* :func:`check_is_distribution` - the row-sum check that catches a softmax taken over
  the wrong axis.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> import numpy as np
>>> def batched(x, axis=-1):
...     x = np.asarray(x)
...     x = x if x.dtype.kind == "f" else x.astype(float)
...     e = np.exp(x - x.max(axis=axis, keepdims=True))
...     return e / e.sum(axis=axis, keepdims=True)
>>> check_batched_softmax(batched).passed
True
>>> def forgets_keepdims(x, axis=-1):
...     e = np.exp(np.asarray(x, dtype=float))
...     return e / e.sum(axis=axis)
>>> print(check_batched_softmax(forgets_keepdims))  # doctest: +ELLIPSIS
Exercise 2.1 - a batched softmax: ... checks passed
  FAIL  keeps the shape (4, 3) of a batch of 4 rows with 3 scores each (raised ValueError: ...)
...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import softmax as scipy_softmax

from ..core import softmax
from . import (
    Report,
    array_problem,
    as_array,
    call,
    close_to,
    describe,
    differ,
    exercise,
    show,
    torch_use,
)

__all__ = ["check_batched_softmax", "check_is_distribution"]


def _sum_diagnosis(got: np.ndarray, axis: int) -> str:
    """Say which normalisation the learner's output actually has."""
    if not np.all(np.isfinite(got)):
        return "the output contains NaN or inf"
    if got.ndim > 1 and np.allclose(got.sum(), 1):
        return (
            "the whole array sums to 1: you normalised over every axis at once (scipy's axis=None)"
        )
    for other in range(got.ndim):
        if other != axis % got.ndim and np.allclose(got.sum(axis=other), 1):
            return (
                f"it sums to 1 along axis {other} instead: sum over axis={axis} with keepdims=True"
            )
    sums = got.sum(axis=axis)
    return f"sums along axis {axis}: {show(sums.ravel()[:4], sums)}"


def _values_hint(expected: np.ndarray, result: Any, got: np.ndarray | None, advice: str) -> str:
    text = differ(expected, result) if got is not None else f"got {describe(result)}"
    return f"{text}: {advice}" if advice else text


@exercise("Exercise 2.1 - a batched softmax")
def check_batched_softmax(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 2.1: ``candidate(x, axis=-1)`` returns the softmax of ``x`` along ``axis``,
    as a NumPy array, computed with NumPy (not torch).

    Reports, each on its own line: a NumPy array comes back (not a list or a tensor) and
    torch was not used, the output shape, whether each row sums to 1 (and along which
    axis it sums to 1 instead), the values (a square batch catches a missing
    ``keepdims``), another axis of a 3-D array, a plain list, dtypes (float32 stays
    float32, as the task text asks, float64 stays float64, integers give floats, unsigned
    integers do not wrap around), a row far below another (one maximum for the whole
    batch underflows it) and overflow/underflow for [2000, 0], [0, 2000], [-5, 1000, 3]
    and [-1000, -1001] (a shift by the mean or the minimum overflows on [2000, 0]; a
    shift by the first entry overflows once the largest score is not first). A result
    of the wrong shape is reported, never a crash.
    """
    rng = np.random.default_rng(2)
    batch = rng.normal(size=(4, 3))
    square = rng.normal(size=(3, 3)) * 2
    cube = rng.normal(size=(2, 3, 4))
    expected = softmax(batch)
    with torch_use() as seen:
        result = call(candidate, batch)
    problem = array_problem(result)
    if seen.used or not isinstance(result, Exception):  # an error is reported just below
        report.expect(
            not problem and not seen.used,
            "returns a NumPy array, computed with NumPy",
            hint=problem or seen.problem,
        )
    got = as_array(result)
    shaped = got is not None and got.shape == batch.shape
    report.expect(
        shaped,
        "keeps the shape (4, 3) of a batch of 4 rows with 3 scores each",
        hint=describe(result) if got is None else f"got shape {got.shape}",
    )
    rows_ok = shaped and np.allclose(got.sum(axis=-1), 1)
    report.expect(
        rows_ok,
        "every row (the last axis, by default) sums to 1",
        hint=_sum_diagnosis(got, -1) if shaped else "no array of the right shape to check",
    )
    report.expect(
        rows_ok and np.allclose(got, expected, rtol=1e-6, atol=0),
        "matches softmax_lab.softmax on the batch",
        hint=f"first row: {differ(expected[0], got[0])}" if shaped else "see above",
    )
    expected = softmax(square)
    result = call(candidate, square)
    got = as_array(result)
    report.expect(
        got is not None and got.shape == (3, 3) and np.allclose(got, expected, rtol=1e-6),
        "a square 3 x 3 batch comes out right too",
        hint="without keepdims=True, e / e.sum(axis=-1) divides column j by the sum of row j"
        if got is not None and got.shape == (3, 3)
        else describe(result),
    )
    expected = softmax(cube, axis=0)
    result = call(candidate, cube, axis=0)
    got = as_array(result)
    report.expect(
        got is not None and got.shape == cube.shape and np.allclose(got, expected),
        "axis=0 on a (2, 3, 4) array normalises over the first axis",
        hint=_sum_diagnosis(got, 0) + " (did you use the axis argument everywhere?)"
        if got is not None and got.shape == cube.shape
        else describe(result),
    )
    expected = softmax([2.0, 1.0, 0.1])
    result = call(candidate, [2.0, 1.0, 0.1])
    got = as_array(result)
    report.expect(
        got is not None and got.shape == (3,) and np.allclose(got, expected, rtol=1e-9),
        "a plain list [2.0, 1.0, 0.1] gives about [0.659, 0.242, 0.099]",
        hint=_values_hint(
            expected,
            result,
            got,
            "x may be a list: convert it with np.asarray first"
            if isinstance(result, TypeError | AttributeError)
            else "",
        ),
    )
    for dtype in (np.float32, np.float64):
        result = call(candidate, batch.astype(dtype))
        got = as_array(result)
        name = np.dtype(dtype).name
        report.expect(
            got is not None and got.dtype == dtype,
            f"{name} input gives {name} output",
            hint=describe(result)
            if got is None
            else f"got {got.dtype}: "
            + (
                "float32 doubled to float64; the task asks you to keep float32 as float32 "
                "(§3.2: half the memory): convert only non-float input"
                if dtype == np.float32
                else "you cast float64 down to float32: keep floating input as it is"
            ),
        )
    expected = softmax([[3.0, 1.0, 0.0]])
    result = call(candidate, np.array([[3, 1, 0]]))
    got = as_array(result)
    report.expect(
        got is not None and got.dtype.kind == "f" and close_to(got, expected, rtol=1e-6, atol=0),
        "integer scores [[3, 1, 0]] give floating probabilities",
        hint=_values_hint(expected, result, got, "" if got is None else f"dtype {got.dtype}"),
    )
    result = call(candidate, np.array([3, 1, 0], dtype=np.uint8))
    got = as_array(result)
    report.expect(
        got is not None and got.dtype.kind == "f" and close_to(got, expected[0], rtol=1e-6, atol=0),
        "uint8 scores [3, 1, 0] give the same probabilities",
        hint=_values_hint(
            expected[0],
            result,
            got,
            "in uint8, 1 - 3 wraps around to 254: convert to float before subtracting the maximum",
        ),
    )
    far_apart = np.array([[0.0, -1.0], [-2000.0, -2001.0]])
    expected = softmax(far_apart)
    result = call(candidate, far_apart)
    got = as_array(result)
    report.expect(
        got is not None and got.shape == (2, 2) and np.allclose(got, expected),
        "rows far apart: [[0, -1], [-2000, -2001]] gives [0.7311, 0.2689] twice",
        hint=_values_hint(
            expected,
            result,
            got,
            "the second row underflows to 0 / 0: subtract each row's own maximum "
            "(x.max(axis=axis, keepdims=True)), not one maximum of the whole array"
            if got is not None
            and got.shape == (2, 2)
            and np.allclose(got[0], expected[0])
            and not np.all(np.isfinite(got[1]))
            else "",
        ),
    )
    max_first_ok = False  # [2000, 0] passed: a shift by x[0] is then the shift by the max
    for scores, what in [
        ([2000.0, 0.0], "overflow"),
        ([0.0, 2000.0], "overflow"),
        ([-5.0, 1000.0, 3.0], "overflow"),
        ([-1000.0, -1001.0], "underflow"),
    ]:
        expected = softmax(scores)
        result = call(candidate, np.array(scores))
        got = as_array(result)
        finite = got is not None and bool(np.all(np.isfinite(got)))
        ok = finite and close_to(got, expected, rtol=1e-5, atol=1e-12)
        if scores[0] == max(scores) and what == "overflow":
            max_first_ok = ok
        if finite:
            advice = ""
        elif max_first_ok and scores[0] != max(scores):
            advice = (
                "[2000, 0] worked, but here the largest score is not first: you shifted by "
                "the first entry, not the max; subtract x.max(axis=axis, keepdims=True)"
            )
        else:
            advice = "subtract each row's maximum before exp" + (
                "; the mean or the minimum leaves scores far above it" if what == "overflow" else ""
            )
        report.expect(
            ok,
            f"no {what} for x = {scores}: gives about {np.round(expected, 4).tolist()}",
            hint=_values_hint(expected, result, got, advice),
        )


@exercise("Exercise 2.2 - the row-sum check")
def check_is_distribution(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 2.2: ``candidate(p, axis=-1)`` says (True/False) whether every slice of
    ``p`` along ``axis`` is a probability distribution: entries in [0, 1], summing to 1
    up to rounding. A Python ``bool`` or a NumPy ``bool_`` is accepted as the answer.

    Fed: correct softmax output (along the last axis and along axis 0), a one-hot row
    (0 and 1 are probabilities too), float32 rows whose sums are 1 only up to rounding,
    output normalised over the wrong axis and over the whole array (scipy's
    ``axis=None``), rows with a negative entry that still sum to 1 (one above 1, one
    with every entry <= 1), a row whose absolute values sum to 1, rows summing to 1.1
    and 0.9 (right total and mean, wrong rows), rows summing to 1.01 and a NaN. Each
    wrong answer's feedback names the usual cause.
    """
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(5, 4))
    float32_table = softmax(rng.normal(size=(50, 100)).astype(np.float32))
    with_nan = softmax(scores)
    with_nan[2] = np.nan
    cases = [
        (
            "softmax output, rows along the last axis",
            (softmax(scores),),
            True,
            "check each entry with 0 <= p <= 1 and each row's sum along the given axis",
        ),
        (
            "softmax taken over axis 0, checked with axis=0",
            (softmax(scores, axis=0), 0),
            True,
            "you ignored the axis argument: sum along axis, not always along the last one",
        ),
        (
            "a one-hot row [0, 1, 0] (0 and 1 are probabilities too)",
            (np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]),),
            True,
            "a probability can be exactly 0 or 1: use 0 <= p <= 1, not strict < and >",
        ),
        (
            "float32 softmax output, 50 rows of 100 (they sum to 1 only up to rounding)",
            (float32_table,),
            True,
            "float32 sums are 1 only up to rounding: compare with np.allclose(..., atol=1e-5), "
            "not == 1",
        ),
        (
            "softmax over the wrong axis (the columns sum to 1, the rows do not)",
            (softmax(scores, axis=0),),
            False,
            "sum along the given axis (axis=-1 here), one sum per row",
        ),
        (
            "scipy.special.softmax with its default axis=None (the whole array sums to 1)",
            (scipy_softmax(scores),),
            False,
            "the total of the whole array is 1, but no row sums to 1: sum along axis, not p.sum()",
        ),
        (
            "a row [1.5, -0.5] that sums to 1 but has a negative entry",
            (np.array([[0.5, 0.5], [1.5, -0.5]]),),
            False,
            "summing to 1 is not enough: check that every entry is between 0 and 1",
        ),
        (
            "a row [0.6, 0.6, -0.2]: it sums to 1 and no entry is above 1, but one is negative",
            (np.array([[0.2, 0.3, 0.5], [0.6, 0.6, -0.2]]),),
            False,
            "p <= 1 alone lets a negative entry through: check p >= 0 as well",
        ),
        (
            "a row [0.5, -0.5] whose absolute values sum to 1",
            (np.array([[0.5, 0.5], [0.5, -0.5]]),),
            False,
            "np.abs hides the sign: this row sums to 0; check p >= 0 and sum p itself",
        ),
        (
            "rows summing to 1.1 and 0.9 (their total is the number of rows, their mean is 1)",
            (np.array([[0.7, 0.4], [0.2, 0.7]]),),
            False,
            "the grand total (2, the number of rows) and the mean of the row sums (1) look "
            "right, but no row sums to 1: test every row, np.allclose(p.sum(axis=axis), 1)",
        ),
        (
            "rows that sum to 1.01",
            (np.array([[0.505, 0.505], [0.51, 0.5]]),),
            False,
            "your tolerance is too loose: rounding errors are near 1e-7 (float32), not 1e-2",
        ),
        (
            "a table with a row of NaN",
            (with_nan,),
            False,
            "NaN is not a probability: make NaN fail your checks (p >= 0 is False for NaN; "
            "np.nansum and not (p < 0) let it through)",
        ),
    ]
    for what, args, expected, advice in cases:
        result = call(candidate, *args)
        if isinstance(result, np.ndarray) and result.shape == () and result.dtype == np.bool_:
            result = result[()]  # a 0-d boolean array is one answer too, as np.bool_
        if isinstance(result, Exception) or not isinstance(result, (bool, np.bool_)):
            shaped = as_array(result)
            hint = describe(result)
            if shaped is not None and shaped.size > 1:
                hint = "you returned one answer per row: combine them into one with np.all(...)"
            report.expect(False, f"answers True or False for {what}", hint=hint)
            continue
        report.expect(
            bool(result) == expected,
            f"{'accepts' if expected else 'rejects'} {what}",
            hint=f"got {bool(result)}; {advice}",
        )
