"""Checkers for the exercises of notebook 01 (the softmax formula).

* :func:`check_softmax_by_hand` - softmax of one vector, written from the formula;
* :func:`check_temperature_for_top` - the temperature that gives the top class a
  chosen probability;
* :func:`check_sigmoid_via_softmax` - the sigmoid, computed as a two-class softmax.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.
Where a wrong answer matches a known mistake (plain normalisation, ``exp(-z)``, an
inverse temperature, the wrong class...), the feedback names that mistake.

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
  FAIL  gives about [0.659, 0.242, 0.099] for [2.0, 1.0, 0.1] (...: you divided the scores by their sum (plain normalisation); exponentiate first)
  ...
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from ..core import softmax
from . import (
    Report,
    array_problem,
    as_floats,
    as_number,
    call,
    describe,
    differ,
    exercise,
    show,
)

__all__ = ["check_softmax_by_hand", "check_temperature_for_top", "check_sigmoid_via_softmax"]

_WORKED = softmax([2.0, 1.0, 0.1])


def _same(got: np.ndarray | None, expected: np.ndarray, rtol: float = 1e-9) -> bool:
    wanted = np.asarray(expected, dtype=float)
    if got is None or got.shape != wanted.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, wanted, rtol=rtol, atol=1e-12))


def _softmax_mistake(x: list[float], got: np.ndarray | None) -> str:
    """Name the usual mistake whose output ``got`` is, for the scores ``x`` ("" if none)."""
    if got is None:
        return ""
    z = np.asarray(x, dtype=float)
    e = np.exp(z)
    with np.errstate(all="ignore"):
        mistakes = [
            (
                z / z.sum(),
                "you divided the scores by their sum (plain normalisation); exponentiate first",
            ),
            (
                e / z.sum(),
                "you divided by the sum of the scores; divide by the sum of the exponentials",
            ),
            (e, "the exponentials are not normalised: divide each by their sum"),
            (e / e.max(), "you divided by the largest exponential; divide by their sum"),
            (
                softmax(-z),
                "the smallest score got the largest probability: exp(-z) instead of exp(z)?",
            ),
        ]
    if len(z) != 3 and got.shape == (3,) and np.allclose(got, _WORKED, atol=1e-3):
        return "the same answer as for [2.0, 1.0, 0.1]: did you hard-code the worked example?"
    for values, name in mistakes:
        if _same(got, values):
            return name
    if got.shape != z.shape:
        return f"{len(z)} scores should give {len(z)} probabilities; is a score left out of a loop?"
    return ""


@exercise("Exercise 1.1 - softmax by hand")
def check_softmax_by_hand(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 1.1: ``candidate(x)`` returns the softmax of the list of scores ``x``.

    Checks the worked example, the two defining properties (every output in (0, 1),
    sum 1), negative scores (where plain normalisation ``x / sum(x)`` breaks) and that
    adding a constant to every score changes nothing. A list or an array is accepted.
    """
    report.in_place_hint = (
        "it wrote into the caller's list: build a new one, [math.exp(z) for z in scores], "
        "and divide that, leaving scores as it is"
    )
    example = [2.0, 1.0, 0.1]
    expected = softmax(example)
    result = call(candidate, example)
    got = as_floats(result)
    shaped = got is not None and got.shape == (3,)
    report.expect(
        shaped,
        "returns one number per score",
        hint=describe(result) if got is None else _softmax_mistake(example, got),
    )
    report.expect(
        shaped and _same(got, expected, rtol=1e-6),
        "gives about [0.659, 0.242, 0.099] for [2.0, 1.0, 0.1]",
        hint=f"{differ(expected, result)}: {_softmax_mistake(example, got)}".rstrip(": "),
    )
    negative = [-1.0, 0.5, -3.0, 2.0]
    expected = softmax(negative)
    result = call(candidate, negative)
    got = as_floats(result)
    fine = got is not None and got.shape == (4,) and bool(np.all(np.isfinite(got)))
    report.expect(
        fine and bool(np.all((got > 0) & (got < 1))) and abs(got.sum() - 1) < 1e-9,
        "every output is strictly between 0 and 1 and they sum to 1, "
        "also for negative scores [-1.0, 0.5, -3.0, 2.0]",
        hint=f"got {show(got, result)}"
        + (f": {_softmax_mistake(negative, got)}" if _softmax_mistake(negative, got) else ""),
    )
    report.expect(
        fine and _same(got, expected),
        "matches softmax_lab.softmax on [-1.0, 0.5, -3.0, 2.0]",
        hint=f"{differ(expected, result)}: {_softmax_mistake(negative, got)}".rstrip(": "),
    )
    shifted = [x + 10.0 for x in negative]
    result = call(candidate, shifted)
    report.expect(
        _same(as_floats(result), expected),
        "adding 10 to every score changes nothing",
        hint=f"{differ(expected, result)}: softmax(x + c) should equal softmax(x), "
        "exponentials turn + c into a common factor that cancels",
    )


def _top(scores: list[float], temperature: float) -> float:
    """The largest probability of ``softmax(scores / temperature)``; NaN when that is not a
    number (a temperature so small that ``scores / T`` overflows, or not finite and > 0)."""
    try:
        return float(softmax(scores, temperature=temperature).max())
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _temperature_mistake(scores: list[float], top: float, temperature: float) -> str:
    """Name the usual mistake behind a wrong temperature ("" if none is recognised).

    Never raises: any finite ``temperature`` > 0 (1e-300, 800, 1e308) gets an answer.
    """
    if temperature > 0 and abs(_top(scores, 1 / temperature) - top) < 1e-6:
        return "you returned 1/T (an inverse temperature): softmax(scores / T) divides by T"
    if temperature < 700 and abs(_top(scores, math.exp(temperature)) - top) < 1e-6:
        return "you returned log T: exponentiate it (return exp of the midpoint)"
    if temperature > 0 and abs(_top(scores, temperature) - top) < 1e-2:
        return "close, but not within 0.001: iterate longer or tighten your stopping rule"
    decade = math.log10(temperature) if temperature > 0 else 0.0
    if round(decade) != 0 and abs(decade - round(decade)) < 1e-6:
        return (
            f"T = {temperature:.6g} is a power of ten: the edge of your search range? "
            "Widen the bracket (bisect on log T) and check which way you move"
        )
    return ""


@exercise("Exercise 1.2 - the temperature for a target probability")
def check_temperature_for_top(report: Report, candidate: Callable[[Any, float], Any]) -> None:
    """Exercise 1.2: ``candidate(scores, top)`` returns a temperature T > 0 such that
    ``softmax(scores / T)`` gives its largest entry the probability ``top`` (within 0.001).

    Any real number is accepted as the answer: a float, a NumPy scalar, a 0-d or a
    length-1 array. The cases need temperatures from about 0.02 to about 20, and one
    has its largest score in the middle.
    """
    cases = [
        ([2.0, 1.0, 0.1], 0.9, ""),
        ([2.0, 1.0, 0.1], 0.5, ""),
        ([3.0, 0.0], 0.75, ""),
        ([0.5, 0.4, 0.3, -1.0], 0.99, ""),
        ([0.1, 2.0, 1.0], 0.35, " (largest score not first)"),
    ]
    answers = []
    first_line = len(report.lines)
    for scores, top, note in cases:
        result = call(candidate, scores, top)
        temperature = as_number(result)
        message = f"scores {scores}{note}: the top class gets {top}"
        if temperature is None:
            report.expect(False, message, hint=f"expected one number, got {describe(result)}")
            continue
        answers.append(temperature)
        if not (math.isfinite(temperature) and temperature > 0):
            report.expect(
                False, message, hint=f"a temperature must be finite and > 0; got {temperature!r}"
            )
            continue
        reached = _top(scores, temperature)
        if math.isnan(reached):
            report.expect(
                False,
                message,
                hint=f"T = {temperature!r} is so small that scores / T overflows float64: "
                "a larger T flattens",
            )
            continue
        direction = "a smaller T sharpens" if reached < top else "a larger T flattens"
        mistake = _temperature_mistake(scores, top, temperature)
        if note and all(ok for ok, _ in report.lines[first_line:]):
            # only the case whose largest score is not first fails: p[0] was tuned
            mistake = "the largest score is not the first one here: use max(p), not p[0]"
        report.expect(
            abs(reached - top) < 1e-3,
            message,
            hint=f"at T = {temperature:.6g} it gets {reached:.6f}; {direction}"
            + (f"; {mistake}" if mistake else ""),
        )
    report.expect(
        len(set(answers)) > 1 or len(answers) < 2,
        "gives different temperatures for different targets",
        hint=f"it returned {answers[0]!r} every time: compute T from scores and top, do not hard-code it"
        if answers
        else "",
    )


def _sigmoid_mistake(z: np.ndarray, got: np.ndarray) -> str:
    pairs = np.stack([z, np.zeros_like(z)])
    with np.errstate(all="ignore"):
        mistakes = [
            (
                expit(-z),
                "you returned sigmoid(-z): take the first entry of softmax([z, 0]), the class whose score is z",
            ),
            (
                expit(z - 1),
                "the second score must be 0 (the difference between the two scores is z)",
            ),
            (
                softmax(pairs, axis=-1)[0],
                "each pair [z, 0] must be normalised on its own: you took the softmax across all the z values",
            ),
        ]
    for values, name in mistakes:
        if _same(got, values):
            return name
    return ""


_Z_IN_PLACE = (
    "it wrote into the caller's z (z *= -1, z -= ..., np.exp(z, out=z)): compute new arrays "
    "(-z, np.stack([z, np.zeros_like(z)], axis=-1)) and leave z as it is"
)


def _strict_overflow(candidate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``candidate`` with NumPy's overflow made an error (FloatingPointError).

    :func:`call` silences NumPy's warnings, and ``1 / (1 + np.exp(-z))`` still returns 0 at
    z = -1000 (1 / (1 + inf) is 0) while it overflows. The innermost ``np.errstate``
    wins, so inside this wrapper the overflow raises and is reported by name.
    """

    @functools.wraps(candidate)  # the same argument names in the feedback
    def strict(z: Any) -> Any:
        with np.errstate(over="raise"):
            return candidate(z)

    return strict


def _far_hint(result: Any, got: np.ndarray | None) -> str:
    """Feedback for a wrong answer at z = [-1000, 1000]."""
    if isinstance(result, FloatingPointError | OverflowError):
        return (
            f"{describe(result)}: exp(1000) (exp(-z) at z = -1000, or exp(z) at z = 1000) is "
            "above float64's largest number, about 1.8e308. Even where the result rounds right "
            "(1 / (1 + inf) is 0), the task asks for no overflow, and np.where(z >= 0, ..., ...) "
            "computes both branches, so it overflows too: take the first entry of softmax([z, 0]), "
            "which softmax_lab.softmax shifts by the maximum, or use exp(-|z|)"
        )
    text = differ([0.0, 1.0], result)
    if got is None or got.shape != (2,):
        return text
    if not np.all(np.isfinite(got)):
        return text + "; exp(1000) overflows - use softmax_lab.softmax, which shifts by the maximum"
    if 0 < got[0] < 0.5 or 0.5 < got[1] < 1:
        p = got[0] if 0 < got[0] < 0.5 else got[1]
        with np.errstate(all="ignore"):
            edge = float(np.log(p / (1 - p)))
        return (
            f"{text}: that is sigma({edge:.0f}), did you clip z? sigma(-1000) = e^-1000 is 0 in "
            "float64 and sigma(1000) is exactly 1; shifted by the maximum, the two-class "
            "softmax needs no clipping"
        )
    return text


@exercise("Exercise 1.3 - sigmoid as a two-class softmax")
def check_sigmoid_via_softmax(report: Report, candidate: Callable[[Any], Any]) -> None:
    """Exercise 1.3: ``candidate(z)`` returns ``sigmoid(z)`` for an array ``z`` of score
    differences, as a NumPy array of z's shape (the notebook suggests ``softmax([z, 0])[0]``).

    Compared with ``scipy.special.expit`` on a grid (to float32 accuracy: computing in
    float32 is accepted) and on a 2-D array (a flattened result is named); at z = -1000
    and 1000 the answer must be exactly 0 and 1 (float64's values: a clipped z is named)
    and no NumPy overflow may happen on the way (``1 / (1 + np.exp(-z))`` is named, though
    its result rounds to 0).
    """
    report.in_place_hint = _Z_IN_PLACE
    grid = np.linspace(-8.0, 8.0, 33)
    result = call(candidate, grid)
    got = as_floats(result)
    shaped = got is not None and got.shape == grid.shape
    hint = describe(result)
    if isinstance(result, TypeError):
        hint += ": your function handles one number at a time; z is an array, use NumPy operations"
    elif got is not None and got.shape == (*grid.shape, 2):
        hint = "you returned both probabilities of each pair: keep the first column, [..., 0]"
    elif got is not None and not shaped:
        hint = f"for z of shape {grid.shape} got shape {got.shape}"
    elif shaped:
        hint = array_problem(result)
    report.expect(
        shaped and not array_problem(result),
        "returns a NumPy array with one probability per score difference (same shape as z)",
        hint=hint,
    )
    if not shaped:
        return
    report.expect(
        abs(float(got[16]) - 0.5) < 1e-12,
        "gives 0.5 at z = 0",
        hint=f"{differ(0.5, got[16])}: {_sigmoid_mistake(grid, got)}".rstrip(": "),
    )
    report.expect(
        _same(got, expit(grid), rtol=1e-6),
        "matches scipy.special.expit on a grid from -8 to 8",
        hint=f"{differ(expit(grid)[::8], got[::8])} at z = -8, -4, 0, 4, 8: {_sigmoid_mistake(grid, got)}".rstrip(
            ": "
        ),
    )
    square = np.array([[-2.0, 0.0, 2.0], [4.0, -4.0, 0.5]])
    expected = expit(square)
    result = call(candidate, square)
    got = as_floats(result)
    hint = differ(expected, result)
    if got is not None and got.shape == (square.size,):
        hint += ": you flattened z (ravel, flatten or a loop over np.ravel(z)); keep z's shape"
    elif got is not None and got.shape == square.shape and array_problem(result):
        hint = array_problem(result)
    report.expect(
        _same(got, expected, rtol=1e-6) and not array_problem(result),
        "keeps the shape of a 2-D z: a (2, 3) array gives sigma of each entry in a (2, 3) array",
        hint=hint,
    )
    far = np.array([-1000.0, 1000.0])
    result = call(_strict_overflow(candidate), far)
    got = as_floats(result)
    report.expect(
        got is not None and got.shape == (2,) and got[0] == 0.0 and got[1] == 1.0,
        "gives exactly 0 and 1 for z = -1000 and 1000, with no overflow on the way",
        hint=_far_hint(result, got),
    )
