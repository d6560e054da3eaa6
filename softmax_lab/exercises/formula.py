"""Checkers for the exercises of notebook 01 (the softmax formula).

* :func:`check_softmax_by_hand` - softmax of one vector, written from the formula;
* :func:`check_temperature_for_top` - the temperature that gives the top class a
  chosen probability;
* :func:`check_sigmoid_via_softmax` - the sigmoid, computed as a two-class softmax.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> import numpy as np
>>> def by_hand(x):
...     e = np.exp(np.asarray(x, dtype=float))
...     return e / e.sum()
>>> check_softmax_by_hand(by_hand).passed
True
>>> print(check_softmax_by_hand(lambda x: np.asarray(x) / np.sum(x)))  # doctest: +ELLIPSIS
Exercise 1.1 - softmax by hand: 1 of 5 checks passed
  ok    returns one number per score
  FAIL  gives about [0.659, 0.242, 0.099] for [2.0, 1.0, 0.1] (got [0.6452 0.3226 0.0323]...)
  ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from ..core import softmax
from . import Report, as_floats, call, describe, exercise, show

__all__ = ["check_softmax_by_hand", "check_temperature_for_top", "check_sigmoid_via_softmax"]


@exercise("Exercise 1.1 - softmax by hand")
def check_softmax_by_hand(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 1.1: ``candidate(x)`` returns the softmax of the 1-D list of scores ``x``.

    Checks the worked example, the two defining properties (every output in (0, 1),
    sum 1), negative scores (where plain normalisation ``x / sum(x)`` breaks) and that
    adding a constant to every score changes nothing.
    """
    example = [2.0, 1.0, 0.1]
    result = call(candidate, example)
    got = as_floats(result)
    shaped = got is not None and got.shape == (3,)
    report.expect(
        shaped,
        "returns one number per score",
        hint=f"for 3 scores got {describe(result) if got is None else f'shape {got.shape}'}",
    )
    report.expect(
        shaped and np.allclose(got, softmax(example), atol=5e-4),
        "gives about [0.659, 0.242, 0.099] for [2.0, 1.0, 0.1]",
        hint=f"got {show(got, result)}",
    )
    negative = [-1.0, 0.5, -3.0, 2.0]
    result = call(candidate, negative)
    got = as_floats(result)
    fine = got is not None and got.shape == (4,) and np.all(np.isfinite(got))
    report.expect(
        fine and bool(np.all((got > 0) & (got < 1))) and abs(got.sum() - 1) < 1e-9,
        "every output is strictly between 0 and 1 and they sum to 1, "
        "also for negative scores [-1.0, 0.5, -3.0, 2.0]",
        hint=f"got {show(got, result)}"
        + ("; did you divide by sum(x) instead of sum(exp(x))?" if fine and got.min() < 0 else ""),
    )
    report.expect(
        fine and np.allclose(got, softmax(negative), rtol=1e-9, atol=0),
        "matches softmax_lab.softmax on [-1.0, 0.5, -3.0, 2.0]",
        hint=f"got {show(got, result)}, expected {show(softmax(negative), None)}",
    )
    shifted = as_floats(call(candidate, [x + 10.0 for x in negative]))
    report.expect(
        fine and shifted is not None and np.allclose(shifted, got, rtol=1e-9, atol=0),
        "adding 10 to every score changes nothing",
        hint="softmax(x + c) should equal softmax(x): exponentials turn + c into a common factor",
    )


@exercise("Exercise 1.2 - the temperature for a target probability")
def check_temperature_for_top(report: Report, candidate: Callable[[Any, float], Any]) -> None:
    """Exercise 1.2: ``candidate(scores, top)`` returns a temperature T > 0 such that
    ``softmax(scores / T)`` gives its largest entry the probability ``top`` (within 0.001).
    """

    cases = [
        ([2.0, 1.0, 0.1], 0.9),
        ([2.0, 1.0, 0.1], 0.5),
        ([3.0, 0.0], 0.75),
        ([0.5, 0.4, 0.3, -1.0], 0.99),
    ]
    for scores, top in cases:
        result = call(candidate, scores, top)
        try:
            temperature = float(result)
        except (TypeError, ValueError):
            report.expect(
                False, f"returns a number for scores {scores}, top {top}", hint=describe(result)
            )
            continue
        if not (np.isfinite(temperature) and temperature > 0):
            report.expect(
                False,
                f"scores {scores}, top {top}: a finite temperature > 0",
                hint=f"got {temperature!r}",
            )
            continue
        reached = float(softmax(scores, temperature=temperature).max())
        direction = (
            "a smaller temperature sharpens" if reached < top else "a larger temperature flattens"
        )
        report.expect(
            abs(reached - top) < 1e-3,
            f"scores {scores}: the top class gets {top}",
            hint=f"at T = {temperature:.4g} it gets {reached:.4f}; {direction}",
        )


@exercise("Exercise 1.3 - sigmoid as a two-class softmax")
def check_sigmoid_via_softmax(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 1.3: ``candidate(z)`` returns ``sigmoid(z)`` for an array ``z`` of score
    differences, computed with a two-class softmax (``softmax([z, 0])[0]``).

    Compared with ``scipy.special.expit`` on a grid, including large ``|z|``.
    """
    grid = np.linspace(-8.0, 8.0, 33)
    result = call(candidate, grid)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == grid.shape,
        "returns one probability per score difference (same shape as z)",
        hint=f"for z of shape {grid.shape} got {describe(result) if got is None else f'shape {got.shape}'}",
    )
    if got is None or got.shape != grid.shape:
        return
    at_zero = float(got[16])
    report.expect(abs(at_zero - 0.5) < 1e-12, "gives 0.5 at z = 0", hint=f"got {at_zero:.4f}")
    flipped = np.allclose(got, expit(-grid), rtol=1e-9)
    report.expect(
        np.allclose(got, expit(grid), rtol=1e-9, atol=1e-15),
        "matches scipy.special.expit on a grid from -8 to 8",
        hint="you returned sigmoid(-z): take the first entry of softmax([z, 0]), the class whose score is z"
        if flipped
        else f"got {show(got[::8], result)} at z = -8, -4, 0, 4, 8",
    )
    far = np.array([-1000.0, 1000.0])
    result = call(candidate, far)
    got = as_floats(result)
    overflowed = got is not None and not np.all(np.isfinite(got))
    report.expect(
        got is not None and got.shape == (2,) and np.allclose(got, [0.0, 1.0], atol=1e-12),
        "gives 0 and 1 (no NaN) for z = -1000 and 1000",
        hint=f"got {show(got, result)}"
        + (
            "; exp(1000) overflows - use softmax_lab.softmax, which shifts by the maximum"
            if overflowed
            else ""
        ),
    )
