"""Checkers for the exercises of notebook 09 (beyond softmax).

* :func:`check_sparsemax` - sparsemax along the last axis of a batch of scores;
* :func:`check_gumbel_max` - sampling from ``softmax(logits)`` by the Gumbel-max trick;
* :func:`check_sparsemax_loss` - the sparsemax loss of Martins & Astudillo, one value per row.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.alternatives import sparsemax
>>> check_sparsemax(sparsemax).passed
True
>>> from softmax_lab import softmax
>>> print(check_sparsemax(softmax))  # doctest: +ELLIPSIS
Exercise 9.1 - sparsemax: 2 of 7 checks passed
  FAIL  [2.0, 1.0, 0.1] gives [1, 0, 0] (this is softmax: sparsemax subtracts a threshold ...)
  FAIL  matches the reference on a random (4, 6) batch (this is softmax: ...)
  FAIL  ties share the mass: [1, 1, 1, -1] and [3, 0, 3] (this is softmax: ...)
  FAIL  every entry in the support: [1, 0.9, 0.95], [0.1, 0.2, 0.15], [0.5, 0.5, 0.5] (...)
  ok    each row sums to 1
  FAIL  scores below the threshold get exactly 0 (...)
  ok    adding 1000 to every score changes nothing
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import chi2

from ..alternatives import _threshold, sparsemax, sparsemax_loss
from ..core import softmax
from . import Report, array_problem, as_floats, call, describe, differ, exercise, show

__all__ = ["check_sparsemax", "check_gumbel_max", "check_sparsemax_loss"]


def _sparsemax_variant(x: np.ndarray, *, k_from: int) -> np.ndarray:
    """Section 2's recipe with k counted from ``k_from``, as a learner might get it wrong."""
    ordered = np.sort(x, axis=-1)[..., ::-1]
    cumulative = np.cumsum(ordered, axis=-1)
    k = np.arange(k_from, k_from + x.shape[-1])
    support = np.maximum(np.sum(1 + k * ordered > cumulative, axis=-1, keepdims=True), 1)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def _support_from_first_failure(x: np.ndarray) -> np.ndarray:
    """Support size as the index of the first k where 1 + k z_k > cumsum fails (np.argmin).

    Right whenever some entry is outside the support; when none is, argmin returns 0 and
    the support shrinks to 1 (or 0), so the row comes back unnormalised.
    """
    ordered = np.sort(x, axis=-1)[..., ::-1]
    cumulative = np.cumsum(ordered, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support = np.maximum(np.argmin(1 + k * ordered > cumulative, axis=-1)[..., None], 1)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def _sparsemax_mistake(x: np.ndarray, got: np.ndarray) -> str:
    """Name the usual mistake behind a wrong sparsemax, when it is one of the usual ones."""
    n = x.shape[-1]
    tau_all = (x.sum(axis=-1, keepdims=True) - 1) / n
    tau = (x - sparsemax(x)).max(axis=-1, keepdims=True)  # x - p = tau on the support
    mistakes = [
        (softmax(x), "this is softmax: sparsemax subtracts a threshold and clips at 0"),
        (
            np.swapaxes(sparsemax(np.swapaxes(x, 0, -1)), 0, -1),
            "sparsemax must run along the last axis (each row), not the first",
        ),
        (_sparsemax_variant(x, k_from=0), "k counts from 1: k = 1, 2, ..., n"),
        (
            np.maximum(x - tau_all, 0),
            "the threshold averages the k largest scores (sorted in decreasing order), not all n",
        ),
        (x - tau, "clip at 0: entries below the threshold must be 0, not negative"),
        (
            _support_from_first_failure(x),
            "every entry is in the support here, so k = n: count the k with "
            "1 + k z_k > cumsum (np.sum of the condition); the index of the first failure "
            "(np.argmin) is 0 when nothing fails",
        ),
    ]
    for wrong, message in mistakes:
        if np.allclose(wrong, got, atol=1e-6) and not np.allclose(sparsemax(x), got, atol=1e-6):
            return message
    return ""


@exercise("Exercise 9.1 - sparsemax")
def check_sparsemax(report: Report, candidate: Callable[[Any], Any]) -> None:
    r"""Exercise 9.1: ``candidate(x)`` returns sparsemax of ``x`` along its last axis.

    Checks a worked example, a random batch against :func:`softmax_lab.sparsemax`, ties,
    rows whose every entry is in the support (a support size taken from the first failing
    index, ``np.argmin``, is wrong only there), rows summing to 1, exact zeros (and no negative entries), and invariance to adding
    a constant (no overflow for scores around 1000).
    """

    def attempt(x: np.ndarray) -> tuple[Any, np.ndarray | None]:
        result = call(candidate, x)
        got = as_floats(result)
        return result, got if got is not None and got.shape == x.shape else None

    def hint_for(x: np.ndarray, result: Any, got: np.ndarray | None) -> str:
        if got is None:
            batch_hint = ""
            if x.ndim > 1 and one_row_works:
                batch_hint = (
                    ": it works for one vector but not for a batch; sort, cumsum and sum "
                    "along axis=-1 (np.cumsum without axis= flattens the batch)"
                )
            return f"expected an array of shape {x.shape}, got {describe(result)}{batch_hint}"
        reference = sparsemax(x)
        if x.ndim > 1 and np.allclose(got[0], reference[0]) and not np.allclose(got, reference):
            return (
                "row 0 is right, later rows are not: work along axis=-1 everywhere "
                "(np.cumsum without axis= flattens the batch)"
            )
        return array_problem(result) or _sparsemax_mistake(x, got) or differ(reference, got)

    example = np.array([2.0, 1.0, 0.1])
    result, got = attempt(example)
    one_row_works = got is not None and np.allclose(got, [1.0, 0.0, 0.0])
    report.expect(
        one_row_works and not array_problem(result),
        "[2.0, 1.0, 0.1] gives [1, 0, 0]",
        hint=hint_for(example, result, got),
    )
    batch = np.random.default_rng(9).normal(size=(4, 6)) * np.array([[0.3], [1.0], [2.0], [5.0]])
    result, got = attempt(batch)
    report.expect(
        got is not None
        and np.allclose(got, sparsemax(batch), atol=1e-9)
        and not array_problem(result),
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
    full = np.array([[1.0, 0.9, 0.95], [0.1, 0.2, 0.15], [0.5, 0.5, 0.5]])
    result, got = attempt(full)
    expected = np.array([[23, 17, 20], [17, 23, 20], [20, 20, 20]]) / 60  # tau = (sum - 1) / 3
    report.expect(
        got is not None and np.allclose(got, expected),
        "every entry in the support: [1, 0.9, 0.95], [0.1, 0.2, 0.15], [0.5, 0.5, 0.5]",
        hint=hint_for(full, result, got),
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
        problem = describe(result)
        if isinstance(result, ValueError) and "probabilities" in str(result).lower():
            problem += ": exp of logits near 1000 overflows; the Gumbel-max trick needs no exp"
        return None, problem
    if isinstance(result, list | tuple):
        return None, array_problem(result)
    samples = np.asarray(result)
    if samples.shape == (n_samples, n_classes):
        return None, (
            f"got shape {samples.shape}: return class indices (argmax over axis=1), "
            "not one-hot rows or noisy scores"
        )
    if samples.shape == (n_classes,):
        return None, f"got shape {samples.shape}: take the argmax over the classes (axis=1)"
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


def _chi_square(counts: np.ndarray, probabilities: np.ndarray) -> tuple[float, float, bool]:
    """Pearson's statistic, its 0.1 % limit, and whether the counts fit the probabilities."""
    n = counts.sum()
    used = probabilities > 1e-9  # classes of probability ~0 must simply never appear
    expected = n * probabilities[used]
    statistic = float(np.sum((counts[used] - expected) ** 2 / expected))
    limit = float(chi2.ppf(0.999, df=max(int(used.sum()) - 1, 1)))
    return statistic, limit, statistic < limit and counts[~used].sum() == 0


def _wrong_samplers(logits: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Class frequencies of the usual wrong samplers (by simulation), with their names."""
    rng = np.random.default_rng(12345)
    gumbel = rng.gumbel(size=(200_000, len(logits)))
    uniform = rng.random(size=(200_000, len(logits)))
    samplers = [
        (np.argmax(logits - gumbel, axis=1), "the noise has the wrong sign: g = -log(-log(u))"),
        (np.argmin(logits + gumbel, axis=1), "take the argmax of logits + noise, not the argmin"),
        (
            np.argmax(logits + uniform, axis=1),
            "the noise must be Gumbel, -log(-log(u)), not uniform",
        ),
        (
            np.argmax(softmax(logits) + gumbel, axis=1),
            "add the noise to the logits, not to the probabilities",
        ),
    ]
    k = len(logits)
    return [(np.bincount(draws, minlength=k) / len(draws), name) for draws, name in samplers]


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
    probabilities = softmax(logits)
    statistic, limit, ok = _chi_square(counts, probabilities)
    hint = (
        f"sample frequencies {show(counts / n_samples, digits=3)} vs softmax "
        f"{show(probabilities, digits=3)} (chi-square {statistic:.1f}, limit {limit:.1f})"
    )
    named = not ok and next(
        (
            name
            for frequencies, name in _wrong_samplers(logits)
            if np.count_nonzero(frequencies) > 1 and _chi_square(counts, frequencies)[2]
        ),
        "",
    )
    if named:
        hint = f"{named} ({hint})"
    elif not ok and np.count_nonzero(counts) == 1:
        hint = (
            f"every sample is class {int(np.argmax(counts))}: each sample needs its own Gumbel "
            f"noise, an array of shape (n, {len(logits)})"
        )
    report.expect(ok, label, hint=hint)


def _check_gumbel_coupling(
    report: Report, candidate: Callable[..., Any], logits: np.ndarray
) -> None:
    """The trick itself: with the same noise, raising one logit only turns samples into it.

    argmax(z + g) can only switch to class k when z_k grows; a sampler that walks the
    cumulative probabilities (``rng.choice(p=...)``, inverse CDF) moves samples between
    other classes too.
    """
    raised = logits + np.eye(len(logits))[2] * 0.7
    before = call(candidate, logits, np.random.default_rng(4), 2000)
    after = call(candidate, raised, np.random.default_rng(4), 2000)
    if isinstance(before, Exception) or isinstance(after, Exception):
        report.expect(False, "uses the Gumbel-max trick", hint=describe(after))
        return
    before, after = np.asarray(before), np.asarray(after)
    changed = before != after
    ok = before.shape == after.shape and bool(np.all(after[changed] == 2))
    report.expect(
        ok,
        "uses the Gumbel-max trick (same noise, class 2's logit raised: samples only move to 2)",
        hint="samples moved between other classes: that is sampling from the probabilities "
        "(rng.choice or a cumulative sum), not argmax(logits + Gumbel noise)",
    )


@exercise("Exercise 9.2 - the Gumbel-max trick")
def check_gumbel_max(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 9.2: ``candidate(logits, rng, n)`` draws ``n`` classes from ``softmax(logits)``.

    ``logits`` is a 1-D array, ``rng`` a ``numpy.random.Generator`` (all randomness must
    come from it) and the result ``n`` integer class indices. Checks the shape, that
    equal seeds give equal samples, that other seeds give other samples and that the
    generator passed in is the one used, and that the sample frequencies match the
    softmax probabilities (Pearson's chi-square test at the 0.1 % level, fixed seeds),
    also for logits around 1000, where computing ``exp`` overflows. The usual wrong
    samplers (noise sign, argmin, uniform noise, noise on the probabilities, one noise
    draw for all samples) are named.
    """
    logits = np.array([1.0, 0.5, 0.0, -0.5])
    result = call(candidate, logits, np.random.default_rng(0), 10)
    counts, problem = _counts(result, 10, len(logits))
    report.expect(
        counts is not None and not array_problem(result),
        "returns 10 class indices in 0..3 for n = 10",
        hint=problem or array_problem(result),
    )
    if counts is None:
        return
    again = call(candidate, logits, np.random.default_rng(0), 10)
    report.expect(
        not isinstance(again, Exception) and np.array_equal(np.asarray(again), np.asarray(result)),
        "the same seed gives the same samples",
        hint="draw all randomness from rng (e.g. rng.gumbel or rng.random), not np.random",
    )
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state["state"]["state"]
    other = [call(candidate, logits, np.random.default_rng(seed), 50) for seed in (2, 3)]
    call(candidate, logits, rng, 50)
    used = rng.bit_generator.state["state"]["state"] != before
    differs = not any(isinstance(o, Exception) for o in other) and not np.array_equal(
        np.asarray(other[0]), np.asarray(other[1])
    )
    report.expect(
        used and differs,
        "takes its random numbers from the rng passed in (other seeds, other samples)",
        hint="it ignores the rng argument (a new or re-seeded generator inside, or np.random): "
        "call rng.random(...) or rng.gumbel(...) on the rng you are given",
    )
    _check_gumbel_coupling(report, candidate, logits)
    _frequencies_match(report, candidate, logits, 1, "frequencies match softmax([1, 0.5, 0, -0.5])")
    _frequencies_match(
        report,
        candidate,
        np.array([1000.0, 999.0, 0.0]),
        2,
        "frequencies match softmax([1000, 999, 0]) (no exp, no overflow)",
    )


def _loss_mistake(z: np.ndarray, y: np.ndarray, got: np.ndarray) -> str:
    """Name the usual mistake behind a wrong sparsemax loss, when it is one of the usual ones."""
    rows = np.arange(len(y))
    tau = _threshold(z, -1)
    support = z > tau
    z_y = z[rows, y]
    on_support = np.sum(np.where(support, z**2 - tau**2, 0.0), axis=1)
    with np.errstate(divide="ignore"):
        log_sparsemax = -np.log(sparsemax(z)[rows, y])
    log_softmax = np.log(np.sum(np.exp(z - z.max(axis=1, keepdims=True)), axis=1)) + z.max(axis=1)
    mistakes = [
        (
            log_sparsemax,
            "that is cross-entropy on sparsemax, -log p[y]: infinite where p[y] = 0; "
            "use the scores, -z_y + 1/2 sum over S of (z_j^2 - tau^2) + 1/2",
        ),
        (
            log_softmax - z_y,
            "that is softmax cross-entropy (logsumexp - z_y), not the sparsemax loss",
        ),
        (-z_y + 0.5 * on_support, "the constant + 1/2 is missing"),
        (
            -z_y + 0.5 * np.sum(z**2 - tau**2, axis=1) + 0.5,
            "the sum runs over every class; sum over the support S only (z_j > tau)",
        ),
        (
            -z_y + 0.5 * np.sum(np.where(support, z**2, 0.0), axis=1) + 0.5,
            "the tau^2 term is missing: sum z_j^2 - tau^2 over the support",
        ),
        (z_y + 0.5 * on_support + 0.5, "the sign of z_y is flipped: the loss starts with -z_y"),
    ]
    for wrong, message in mistakes:
        if wrong.shape == got.shape and np.allclose(wrong, got, equal_nan=True):
            return message
    return ""


@exercise("Exercise 9.3 - the sparsemax loss")
def check_sparsemax_loss(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 9.3: ``candidate(z, y)`` returns one sparsemax loss per row of ``z``.

    ``z`` of shape ``(n, k)``, ``y`` integer labels of shape ``(n,)``; the result has
    shape ``(n,)``: :math:`-z_y + \tfrac12 \sum_{j \in S}(z_j^2 - \tau^2) + \tfrac12`.
    """
    rng = np.random.default_rng(11)
    random_z = rng.normal(size=(4, 5)) * 2
    cases = [
        ("[0.8, 0.6, 0.1] with target 1 gives 0.36", np.array([[0.8, 0.6, 0.1]]), np.array([1])),
        (
            "finite when the target gets probability 0: [2, 0, 0] with target 2 gives 2",
            np.array([[2.0, 0.0, 0.0]]),
            np.array([2]),
        ),
        (
            "exactly 0 with a margin of at least 1: [3, 1, 0] with target 0",
            np.array([[3.0, 1.0, 0.0]]),
            np.array([0]),
        ),
        (
            "matches the reference on a random (4, 5) batch, one loss per row",
            random_z,
            rng.integers(0, 5, size=4),
        ),
        ("adding 100 to every score changes nothing", random_z + 100, np.array([0, 1, 2, 3])),
    ]
    for message, z, y in cases:
        expected = sparsemax_loss(z, y)
        got = call(candidate, z, y)
        result = as_floats(got)
        hint = ""
        if result is not None and result.shape == ():
            hint = f"returned one number for {len(y)} rows: return one loss per row (no mean)"
        elif result is not None and result.shape == expected.shape:
            hint = _loss_mistake(z, y, result)
        problem = array_problem(got)
        if (
            problem
            and result is not None
            and result.shape == expected.shape
            and np.allclose(result, expected)
        ):
            report.expect(False, message, hint=problem)  # right numbers, wrong type
            continue
        report.close(message, expected, got, rtol=1e-7, atol=1e-9, hint=hint)
