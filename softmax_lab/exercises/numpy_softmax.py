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
from . import Report, as_array, call, describe, differ, exercise, show

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


@exercise("Exercise 2.1 - a batched softmax")
def check_batched_softmax(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 2.1: ``candidate(x, axis=-1)`` returns the softmax of ``x`` along ``axis``.

    Reports, each on its own line: the output shape, whether each row sums to 1 (and
    along which axis it sums to 1 instead), the values (a square batch catches a missing
    ``keepdims``), another axis of a 3-D array, a 1-D vector, dtypes (float32 stays
    float32, integers give floats) and overflow/underflow for [1000, 0] and [-1000, -1001].
    """
    rng = np.random.default_rng(2)
    batch = rng.normal(size=(4, 3))
    square = rng.normal(size=(3, 3)) * 2
    cube = rng.normal(size=(2, 3, 4))
    result = call(candidate, batch)
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
        rows_ok and np.allclose(got, softmax(batch), rtol=1e-6, atol=0),
        "matches softmax_lab.softmax on the batch",
        hint=f"first row: {differ(softmax(batch)[0], got[0])}" if shaped else "see above",
    )
    result = call(candidate, square)
    got = as_array(result)
    report.expect(
        got is not None and got.shape == (3, 3) and np.allclose(got, softmax(square), rtol=1e-6),
        "a square 3 x 3 batch comes out right too",
        hint="without keepdims=True, e / e.sum(axis=-1) divides column j by the sum of row j"
        if got is not None and got.shape == (3, 3)
        else describe(result),
    )
    result = call(candidate, cube, axis=0)
    got = as_array(result)
    report.expect(
        got is not None and got.shape == cube.shape and np.allclose(got, softmax(cube, axis=0)),
        "axis=0 on a (2, 3, 4) array normalises over the first axis",
        hint=_sum_diagnosis(got, 0)
        if got is not None and got.shape == cube.shape
        else describe(result),
    )
    result = call(candidate, [2.0, 1.0, 0.1])
    got = as_array(result)
    report.expect(
        got is not None
        and got.shape == (3,)
        and np.allclose(got, [0.659, 0.242, 0.099], atol=5e-4),
        "a single vector [2.0, 1.0, 0.1] gives about [0.659, 0.242, 0.099]",
        hint=f"got {show(got, result)}",
    )
    result = call(candidate, batch.astype(np.float32))
    got = as_array(result)
    report.expect(
        got is not None and got.dtype == np.float32,
        "float32 input gives float32 output (no silent doubling of memory)",
        hint=describe(result) if got is None else f"got {got.dtype}",
    )
    result = call(candidate, np.array([[3, 1, 0]]))
    got = as_array(result)
    report.expect(
        got is not None and got.dtype.kind == "f" and np.allclose(got, softmax([[3.0, 1.0, 0.0]])),
        "integer scores [[3, 1, 0]] give floating probabilities",
        hint=f"got {show(got, result)}" + ("" if got is None else f" of dtype {got.dtype}"),
    )
    for scores, expected, what in [
        ([1000.0, 0.0], [1.0, 0.0], "overflow"),
        ([-1000.0, -1001.0], [0.7311, 0.2689], "underflow"),
    ]:
        result = call(candidate, np.array(scores))
        got = as_array(result)
        finite = got is not None and bool(np.all(np.isfinite(got)))
        report.expect(
            finite and np.allclose(got, expected, atol=1e-4),
            f"no {what} for x = {scores}: gives about {expected}",
            hint=f"got {show(got, result)}"
            + ("" if finite else "; subtract each row's maximum before exp"),
        )


@exercise("Exercise 2.2 - the row-sum check")
def check_is_distribution(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 2.2: ``candidate(p, axis=-1)`` says (True/False) whether every slice of
    ``p`` along ``axis`` is a probability distribution: entries in [0, 1], summing to 1
    up to rounding.

    Fed: correct softmax output (along the last axis and along axis 0), output
    normalised over the wrong axis and over the whole array (scipy's ``axis=None``),
    a row with a negative entry that still sums to 1, a NaN, and float32 rows whose
    sums are 1 only up to rounding.
    """
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(5, 4))
    float32_table = softmax(rng.normal(size=(50, 100)).astype(np.float32))
    with_nan = softmax(scores)
    with_nan[2] = np.nan
    cases = [
        ("softmax output, rows along the last axis", (softmax(scores),), True),
        ("softmax taken over axis 0, checked with axis=0", (softmax(scores, axis=0), 0), True),
        (
            "float32 softmax output, 50 rows of 100 (they sum to 1 only up to rounding)",
            (float32_table,),
            True,
        ),
        (
            "softmax over the wrong axis (the columns sum to 1, the rows do not)",
            (softmax(scores, axis=0),),
            False,
        ),
        (
            "scipy.special.softmax with its default axis=None (the whole array sums to 1)",
            (scipy_softmax(scores),),
            False,
        ),
        (
            "a row [1.5, -0.5] that sums to 1 but has a negative entry",
            (np.array([[0.5, 0.5], [1.5, -0.5]]),),
            False,
        ),
        ("a table with a row of NaN", (with_nan,), False),
    ]
    for what, args, expected in cases:
        result = call(candidate, *args)
        if isinstance(result, Exception) or not isinstance(result, (bool, np.bool_)):
            report.expect(False, f"answers True or False for {what}", hint=describe(result))
            continue
        advice = {
            True: "allow for rounding: compare sums with np.allclose(..., atol=1e-5), not == 1",
            False: "check the range of each entry and the sums along the given axis",
        }[expected]
        report.expect(
            bool(result) == expected,
            f"{'accepts' if expected else 'rejects'} {what}",
            hint=f"got {bool(result)}; {advice}",
        )
