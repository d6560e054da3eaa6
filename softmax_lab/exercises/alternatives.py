"""Checkers for the exercises of notebook 09 (beyond softmax).

* :func:`check_sparsemax` - sparsemax along the last axis of a batch of scores;
* :func:`check_gumbel_max` - sampling from ``softmax(logits)`` by the Gumbel-max trick.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.alternatives import sparsemax
>>> check_sparsemax(sparsemax).passed
True
>>> from softmax_lab import softmax
>>> print(check_sparsemax(softmax))  # doctest: +ELLIPSIS
Exercise 9.1 - sparsemax: 2 of 6 checks passed
  FAIL  [2.0, 1.0, 0.1] gives [1, 0, 0] (this is softmax: sparsemax subtracts a threshold ...)
  FAIL  matches the reference on a random (4, 6) batch (this is softmax: ...)
  FAIL  ties share the mass: [1, 1, 1, -1] and [3, 0, 3] (this is softmax: ...)
  ok    each row sums to 1
  FAIL  scores below the threshold get exactly 0 (...)
  ok    adding 1000 to every score changes nothing
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import chi2

from ..alternatives import sparsemax
from ..core import softmax
from . import Report, as_floats, call, describe, differ, exercise, show

__all__ = ["check_sparsemax", "check_gumbel_max"]


def _sparsemax_mistake(x: np.ndarray, got: np.ndarray) -> str:
    """Name the usual mistake behind a wrong sparsemax, when it is one of the usual ones."""
    n = x.shape[-1]
    tau_all = (x.sum(axis=-1, keepdims=True) - 1) / n
    tau = (x - sparsemax(x)).max(axis=-1, keepdims=True)  # x - p = tau on the support
    mistakes = [
        (softmax(x), "this is softmax: sparsemax subtracts a threshold and clips at 0"),
        (
            np.maximum(x - tau_all, 0),
            "the threshold averages the k largest scores (sorted in decreasing order), not all n",
        ),
        (x - tau, "clip at 0: entries below the threshold must be 0, not negative"),
    ]
    for wrong, message in mistakes:
        if np.allclose(wrong, got, atol=1e-6):
            return message
    return ""


@exercise("Exercise 9.1 - sparsemax")
def check_sparsemax(report: Report, candidate: Callable[[Any], Any]) -> None:
    r"""Exercise 9.1: ``candidate(x)`` returns sparsemax of ``x`` along its last axis.

    Checks a worked example, a random batch against :func:`softmax_lab.sparsemax`, ties,
    rows summing to 1, exact zeros (and no negative entries), and invariance to adding
    a constant (no overflow for scores around 1000).
    """

    def attempt(x: np.ndarray) -> tuple[Any, np.ndarray | None]:
        result = call(candidate, x)
        got = as_floats(result)
        return result, got if got is not None and got.shape == x.shape else None

    def hint_for(x: np.ndarray, result: Any, got: np.ndarray | None) -> str:
        if got is None:
            return f"expected an array of shape {x.shape}, got {describe(result)}"
        return _sparsemax_mistake(x, got) or differ(sparsemax(x), got)

    example = np.array([2.0, 1.0, 0.1])
    result, got = attempt(example)
    report.expect(
        got is not None and np.allclose(got, [1.0, 0.0, 0.0]),
        "[2.0, 1.0, 0.1] gives [1, 0, 0]",
        hint=hint_for(example, result, got),
    )
    batch = np.random.default_rng(9).normal(size=(4, 6)) * np.array([[0.3], [1.0], [2.0], [5.0]])
    result, got = attempt(batch)
    report.expect(
        got is not None and np.allclose(got, sparsemax(batch), atol=1e-9),
        "matches the reference on a random (4, 6) batch",
        hint=hint_for(batch, result, got),
    )
    ties = np.array([[1.0, 1.0, 1.0, -1.0], [3.0, 0.0, 3.0, 0.0]])
    result, got = attempt(ties)
    expected = np.array([[1 / 3, 1 / 3, 1 / 3, 0.0], [0.5, 0.0, 0.5, 0.0]])
    report.expect(
        got is not None and np.allclose(got, expected),
        "ties share the mass: [1, 1, 1, -1] and [3, 0, 3]",
        hint=hint_for(ties, result, got),
    )
    result, got = attempt(batch)
    sums = None if got is None else got.sum(axis=-1)
    report.expect(
        sums is not None and np.allclose(sums, 1.0),
        "each row sums to 1",
        hint=f"got {describe(result)}" if sums is None else f"row sums are {show(sums, digits=3)}",
    )
    sparse = np.array([0.8, 0.6, 0.1, -2.0])
    result, got = attempt(sparse)
    exact = got is not None and got[2] == 0.0 and got[3] == 0.0 and np.all(got >= 0)
    if got is None:
        hint = f"got {describe(result)}"
    elif np.any(got < 0):
        hint = f"got negative entries {show(got, digits=3)}: clip at 0"
    else:
        hint = f"for {show(sparse, digits=3)} got {show(got, digits=3)}; expected [0.6, 0.4, 0, 0]"
    report.expect(exact, "scores below the threshold get exactly 0", hint=hint)
    _, unshifted = attempt(batch)
    result, got = attempt(batch + 1000.0)
    same = (
        got is not None
        and unshifted is not None
        and np.all(np.isfinite(got))
        and np.allclose(got, unshifted, atol=1e-9)
    )
    report.expect(
        same,
        "adding 1000 to every score changes nothing",
        hint=f"got {describe(result)}" if got is None else f"row 0 became {show(got[0], digits=3)}",
    )


def _counts(result: Any, n_samples: int, n_classes: int) -> tuple[np.ndarray | None, str]:
    """Class counts of the samples, or None and what is wrong with them."""
    if isinstance(result, Exception):
        return None, describe(result)
    samples = np.asarray(result)
    if samples.shape != (n_samples,):
        return (
            None,
            f"expected {n_samples} samples (shape ({n_samples},)), got shape {samples.shape}",
        )
    if samples.dtype.kind not in "iu":
        return None, f"expected integer class indices, got dtype {samples.dtype}"
    if samples.min() < 0 or samples.max() >= n_classes:
        return None, f"class indices must lie in 0..{n_classes - 1}"
    return np.bincount(samples, minlength=n_classes), ""


def _frequencies_match(
    report: Report, candidate: Callable[..., Any], logits: np.ndarray, seed: int, label: str
) -> None:
    """Pearson's chi-square test of the sample counts against softmax(logits)."""
    n_samples = 20_000
    result = call(candidate, logits, np.random.default_rng(seed), n_samples)
    counts, problem = _counts(result, n_samples, len(logits))
    if counts is None:
        report.expect(False, label, hint=problem)
        return
    expected = n_samples * softmax(logits)
    used = expected > 1e-9  # classes of probability ~0 must simply never appear
    statistic = float(np.sum((counts[used] - expected[used]) ** 2 / expected[used]))
    limit = float(chi2.ppf(0.999, df=int(used.sum()) - 1))
    ok = statistic < limit and counts[~used].sum() == 0
    report.expect(
        ok,
        label,
        hint=f"sample frequencies {show(counts / n_samples, digits=3)} vs softmax {show(softmax(logits), digits=3)} "
        f"(chi-square {statistic:.1f}, limit {limit:.1f})",
    )


@exercise("Exercise 9.2 - the Gumbel-max trick")
def check_gumbel_max(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 9.2: ``candidate(logits, rng, n)`` draws ``n`` classes from ``softmax(logits)``.

    ``logits`` is a 1-D array, ``rng`` a ``numpy.random.Generator`` (all randomness must
    come from it) and the result ``n`` integer class indices. Checks the shape, that
    equal seeds give equal samples, and that the sample frequencies match the softmax
    probabilities (Pearson's chi-square test at the 0.1 % level, fixed seeds), also for
    logits around 1000, where computing ``exp`` overflows.
    """
    logits = np.array([1.5, 0.5, 0.0, -1.0])
    result = call(candidate, logits, np.random.default_rng(0), 10)
    counts, problem = _counts(result, 10, len(logits))
    report.expect(counts is not None, "returns 10 class indices in 0..3 for n = 10", hint=problem)
    if counts is None:
        return
    again = call(candidate, logits, np.random.default_rng(0), 10)
    report.expect(
        not isinstance(again, Exception) and np.array_equal(np.asarray(again), np.asarray(result)),
        "the same seed gives the same samples",
        hint="draw all randomness from rng (e.g. rng.gumbel or rng.random), not np.random",
    )
    _frequencies_match(report, candidate, logits, 1, "frequencies match softmax([1.5, 0.5, 0, -1])")
    _frequencies_match(
        report,
        candidate,
        np.array([1000.0, 999.0, 0.0]),
        2,
        "frequencies match softmax([1000, 999, 0]) (no exp, no overflow)",
    )
