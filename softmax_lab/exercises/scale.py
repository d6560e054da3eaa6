"""Checkers for the exercises of notebook 10 (softmax at scale).

* :func:`check_merge_states` - merge two partial softmax normalisers ``(max, sum)``;
* :func:`check_shard_partials` - the part of vocabulary-parallel cross-entropy that one
  rank computes on its own shard of the logits;
* :func:`check_shard_gradient` - that rank's columns of the loss's gradient, from the
  all-reduced max and sum, with no further communication.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.scale import merge_states
>>> check_merge_states(lambda m_a, d_a, m_b, d_b: merge_states((m_a, d_a), (m_b, d_b))).passed
True
>>> def no_rescale(m_a, d_a, m_b, d_b):
...     return np.maximum(m_a, m_b), d_a + d_b
>>> print(check_merge_states(no_rescale))  # doctest: +ELLIPSIS
Exercise 10.1 - merge two (max, sum) states: 5 of 8 checks passed
  ok    returns a pair (max, sum)
  FAIL  merges [1, 2] with [3] into (3, 1.503) (got sum 2: ... rescale each sum by exp(m_old - m_new) first)
  ok    merges two chunks with the same max (a tie)
  FAIL  merges states with maxima 1000 and 990 without overflow (expected (1000, 1.000045), got (1000, 2))
  ok    an empty chunk (-inf, 0) on either side changes nothing
  ok    two empty chunks give (-inf, 0), not NaN
  ok    is associative and commutative: (a+b)+c == a+(b+c) and a+b == b+a
  FAIL  streaming a row in 8 chunks gives max + log(sum) == logsumexp(row) (expected 46.269132, ...)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import logsumexp
from ..gradients import cross_entropy
from . import (
    Report,
    ReturnedNone,
    array_problem,
    as_floats,
    as_pair,
    call,
    describe,
    differ,
    exercise,
)

__all__ = ["check_merge_states", "check_shard_gradient", "check_shard_partials"]


def _show(result: Any, pair: tuple[np.ndarray, np.ndarray] | None) -> str:
    if pair is None or pair[0].size != 1 or pair[1].size != 1:
        return describe(result)
    return f"({float(pair[0]):.6g}, {float(pair[1]):.6g})"


def _as_state(result: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A result ``(m, d)`` of two single numbers, as 0-d float arrays, or None."""
    pair = as_pair(result)
    if pair is None or pair[0].size != 1 or pair[1].size != 1:
        return None
    return pair[0].reshape(()), pair[1].reshape(())


def _state(chunk: list[float]) -> tuple[float, float]:
    """The (max, sum of exp(x - max)) of a chunk, worked out directly for the checks."""
    if not chunk:
        return -math.inf, 0.0
    peak = max(chunk)
    return peak, sum(math.exp(x - peak) for x in chunk)


@exercise("Exercise 10.1 - merge two (max, sum) states")
def check_merge_states(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 10.1: ``candidate(m_a, d_a, m_b, d_b)`` returns the merged ``(m, d)``.

    ``(m_a, d_a)`` is the running max and the sum of ``exp(x - m_a)`` of one chunk, likewise
    ``(m_b, d_b)``; the result must be the state of both chunks together. Checks a small
    case, large values (no overflow), empty chunks ``(-inf, 0)`` on either side and on both
    (no NaN), associativity and commutativity, agreement with logsumexp over a row streamed
    in 8 chunks.
    """

    def merged(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
        result = call(candidate, a[0], a[1], b[0], b[1])
        return result, _as_state(result)

    result, pair = merged(_state([1.0, 2.0]), _state([3.0]))
    arrays = as_pair(result)
    hint = f"got {describe(result)}"
    if arrays is not None:
        hint = f"got arrays of shapes {arrays[0].shape} and {arrays[1].shape}: return two numbers"
    if not report.expect(pair is not None, "returns a pair (max, sum)", hint=hint):
        return
    expected = _state([1.0, 2.0, 3.0])
    ok = np.isclose(pair[0], expected[0]) and np.isclose(pair[1], expected[1])
    hint = f"got ({float(pair[0]):.4g}, {float(pair[1]):.4g})"
    if np.isclose(pair[1], _state([1.0, 2.0])[1] + 1.0):
        hint = "got sum 2: the sums were added as they are; rescale each sum by exp(m_old - m_new) first"
    elif np.isclose(pair[1], _state([1.0, 2.0])[1] * math.e + 1.0):
        hint = "the rescaling goes the wrong way: multiply by exp(m_old - m_new), which is <= 1"
    report.expect(ok, "merges [1, 2] with [3] into (3, 1.503)", hint=hint)

    result, pair = merged(_state([2.0, 1.0]), _state([2.0, 0.0]))  # a tie: both maxima 2
    expected = _state([2.0, 1.0, 2.0, 0.0])
    ok = pair is not None and np.allclose(pair, expected)
    hint = f"expected (2, {expected[1]:.6f}), got {_show(result, pair)}"
    if pair is not None and any(
        np.isclose(pair[1], _state(c)[1]) for c in ([2.0, 1.0], [2.0, 0.0])
    ):
        hint += ": with equal maxima (a tie) both sums count in full, d_a + d_b; one was dropped"
    report.expect(ok, "merges two chunks with the same max (a tie)", hint=hint)

    result, pair = merged(_state([1000.0, 0.0]), _state([990.0]))
    expected = _state([1000.0, 0.0, 990.0])
    ok = pair is not None and np.allclose(pair, expected)
    hint = f"expected (1000, {expected[1]:.6f}), got {_show(result, pair)}"
    if pair is not None and not np.all(np.isfinite(pair)):
        hint += ": only ever exponentiate a difference m_old - m_new <= 0"
    report.expect(ok, "merges states with maxima 1000 and 990 without overflow", hint=hint)

    some = _state([2.0, 0.5])
    empty = _state([])
    results = [merged(empty, some), merged(some, empty)]
    ok = all(p is not None and np.allclose(p, some) for _, p in results)
    report.expect(
        ok,
        "an empty chunk (-inf, 0) on either side changes nothing",
        hint=f"got {_show(*results[0])} and {_show(*results[1])}",
    )
    result, pair = merged(empty, empty)
    ok = pair is not None and pair[0] == -np.inf and pair[1] == 0
    hint = f"got {_show(result, pair)}"
    if pair is not None and np.isnan(pair).any():
        hint = "got NaN: exp(-inf - (-inf)) is exp(nan); when the new max is -inf, the sum is 0"
    report.expect(ok, "two empty chunks give (-inf, 0), not NaN", hint=hint)

    rng = np.random.default_rng(10)
    a, b, c = (_state(list(rng.normal(size=3) * 5)) for _ in range(3))
    bc = _as_state(merged(b, c)[0])
    a_bc = None if bc is None else _as_state(call(candidate, *a, *bc))
    ba = _as_state(merged(b, a)[0])
    ab = _as_state(merged(a, b)[0])
    ab_c = None if ab is None else _as_state(call(candidate, *ab, *c))
    ok = (
        ab_c is not None
        and a_bc is not None
        and ab is not None
        and ba is not None
        and np.allclose(ab_c, a_bc)
        and np.allclose(ab, ba)
    )
    report.expect(
        ok,
        "is associative and commutative: (a+b)+c == a+(b+c) and a+b == b+a",
        hint="different merge orders disagree",
    )

    row = rng.normal(size=40) * 30
    state = _state([])
    pair = None
    for chunk in np.array_split(row, 8):
        pair = _as_state(call(candidate, *state, *_state(list(chunk))))
        if pair is None:
            break
        state = (pair[0], pair[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        got = None if pair is None else float(pair[0] + np.log(pair[1]))
    expected_lse = float(logsumexp(row))
    report.expect(
        got is not None and math.isclose(got, expected_lse, rel_tol=1e-10),
        "streaming a row in 8 chunks gives max + log(sum) == logsumexp(row)",
        hint=f"expected {expected_lse:.6f}, got {got if got is None else f'{got:.6f}'}",
    )


# --- Exercises 10.2 and 10.3: one rank of the vocabulary-parallel loss -----------------------

_WIDTHS = (5, 4, 3)  # three uneven shards of a vocabulary of 12
_STARTS = (0, 5, 9)


def _raised(result: Any) -> str:
    """Feedback for a learner's function that raised: the error, and for the usual one, its fix.

    "" when ``result`` is not an error (a missing ``return`` is reported elsewhere).
    """
    if not isinstance(result, Exception) or isinstance(result, ReturnedNone):
        return ""
    text = f"your function raised {type(result).__name__}: {result}"
    if isinstance(result, ValueError) and "broadcast" in str(result):
        text += (
            ": a (batch,) array such as global_max lines up with the columns of a "
            "(batch, V_r) shard, not its rows; make it a column: shard - global_max[:, None]"
        )
    return text


def _logits(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, sum(_WIDTHS))) * 3


def _shards(logits: np.ndarray) -> list[np.ndarray]:
    return [logits[:, s : s + w] for s, w in zip(_STARTS, _WIDTHS, strict=True)]


def _owned(shard: np.ndarray, start: int, target: np.ndarray, *, stop_inclusive: bool = False):
    """(owns, column): which rows' targets fall in the shard, and their column there."""
    stop = start + shard.shape[1]
    owns = (target >= start) & ((target <= stop) if stop_inclusive else (target < stop))
    return owns, np.clip(target - start, 0, shard.shape[1] - 1)


def _name(index: int) -> str:
    start, width = _STARTS[index], _WIDTHS[index]
    return f"shard {index} (classes {start}..{start + width - 1})"


def _first_wrong(results: list[Any], expected: list[np.ndarray]) -> int | None:
    for index, (got, want) in enumerate(zip(results, expected, strict=True)):
        values = as_floats(got)
        if values is None or values.shape != want.shape or not np.allclose(values, want):
            return index
    return None


def _matches(results: list[Any], candidates: list[np.ndarray]) -> bool:
    values = [as_floats(r) for r in results]
    return all(
        v is not None and v.shape == c.shape and np.allclose(v, c)
        for v, c in zip(values, candidates, strict=True)
    )


def _partial_mistake(
    shards: list[np.ndarray], target: np.ndarray, results: list[Any], global_max: np.ndarray
) -> str:
    """Name the usual mistake behind wrong target logits, or ""."""
    rows = np.arange(len(target))
    variants = {
        "the shard's column j is class start + j: index the shard with target - start": [
            np.where(_owned(s, st, target)[0], s[rows, np.clip(target, 0, s.shape[1] - 1)], 0.0)
            for s, st in zip(shards, _STARTS, strict=True)
        ],
        "a shard that does not own the target must contribute 0 (check start <= target < start + width)": [
            s[rows, _owned(s, st, target)[1]] for s, st in zip(shards, _STARTS, strict=True)
        ],
        "a target on a shard boundary was claimed twice: shard r owns start <= target < start + width "
        "(the end is excluded; class start + width is column 0 of the next shard)": [
            np.where(
                _owned(s, st, target, stop_inclusive=True)[0],
                s[rows, _owned(s, st, target)[1]],
                0.0,
            )
            for s, st in zip(shards, _STARTS, strict=True)
        ],
        "a shard owns its first class too: start <= target, not start < target": [
            np.where(
                _owned(s, st, target)[0] & (target != st), s[rows, _owned(s, st, target)[1]], 0.0
            )
            for s, st in zip(shards, _STARTS, strict=True)
        ],
        "a shard that does not own the target contributes 0, not -inf: the ranks add "
        "their target logits (all-reduce sum)": [
            np.where(_owned(s, st, target)[0], s[rows, _owned(s, st, target)[1]], -np.inf)
            for s, st in zip(shards, _STARTS, strict=True)
        ],
        "returned the target logit minus global_max; return the logit itself": [
            np.where(_owned(s, st, target)[0], s[rows, _owned(s, st, target)[1]] - global_max, 0.0)
            for s, st in zip(shards, _STARTS, strict=True)
        ],
    }
    for hint, candidate in variants.items():
        if _matches(results, candidate):
            return hint
    return ""


@exercise("Exercise 10.2 - one rank's share of vocab-parallel cross-entropy")
def check_shard_partials(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 10.2: ``candidate(shard, start, target, global_max)`` -> ``(local_sum, target_logit)``.

    ``shard`` is ``(batch, V_r)``, the logits of vocabulary entries ``start .. start+V_r-1``;
    ``target`` holds the ``batch`` class indices over the whole vocabulary and ``global_max``
    the ``batch`` row maxima after the all-reduce. The result is, per row, the sum of
    ``exp(shard - global_max)`` and the target's logit if this shard owns it, else 0, as two
    NumPy arrays. Three uneven shards (5, 4 and 3 classes); targets on every shard boundary.
    Checks types and shapes, each shard's sums (naming the shard and the mistake: the
    shard's own max, no shift), each shard's target logits (no offset, no ownership test,
    a boundary claimed twice), the combined loss against :func:`softmax_lab.cross_entropy`
    and logits around 1000.

    Examples
    --------
    >>> def own_max(shard, start, target, global_max):
    ...     local_sum = np.exp(shard - shard.max(axis=1, keepdims=True)).sum(axis=1)
    ...     column = np.clip(target - start, 0, shard.shape[1] - 1)
    ...     owns = (target >= start) & (target < start + shard.shape[1])
    ...     return local_sum, np.where(owns, shard[np.arange(len(shard)), column], 0.0)
    >>> print(check_shard_partials(own_max).failures[0])  # doctest: +ELLIPSIS
    local sums of exp(logit - global max) are right (shard 0 (classes 0..4): expected ...: subtract the global max, not the shard's own max: ...)
    """
    logits = _logits(6, 11)
    target = np.array([0, 5, 9, 4, 11, 8])  # 4|5 and 8|9 are shard boundaries
    shards = _shards(logits)
    global_max = logits.max(axis=-1)
    expected_sums = [np.exp(s - global_max[:, None]).sum(axis=1) for s in shards]
    rows = np.arange(len(target))
    expected_logits = [
        np.where(_owned(s, st, target)[0], s[rows, _owned(s, st, target)[1]], 0.0)
        for s, st in zip(shards, _STARTS, strict=True)
    ]
    reference = cross_entropy(logits, target, reduction="none")

    results = [
        call(candidate, s, st, target, global_max) for s, st in zip(shards, _STARTS, strict=True)
    ]
    pairs = [as_pair(r) for r in results]
    problem = ""
    for result, pair in zip(results, pairs, strict=True):
        if _raised(result):
            problem = _raised(result)
        elif pair is None:
            problem = f"got {describe(result)}: return a pair (local_sum, target_logit)"
        else:
            problems = [p for p in (array_problem(part) for part in result) if p]
            problem = "; ".join(dict.fromkeys(problems))  # each problem once
            if not problem and (pair[0].shape != (6,) or pair[1].shape != (6,)):
                problem = (
                    f"got shapes {pair[0].shape} and {pair[1].shape}: one value per row "
                    "(sum over the shard's columns, axis=1)"
                )
        if problem:
            break
    if not report.expect(
        not problem,
        "returns (local_sum, target_logit) as two NumPy arrays of shape (6,), one value per row",
        hint=problem,
    ):
        return

    sums = [p[0] for p in pairs]
    wrong = _first_wrong(sums, expected_sums)
    hint = ""
    if wrong is not None:
        hint = f"{_name(wrong)}: {differ(expected_sums[wrong], sums[wrong])}"
        own_max = [np.exp(s - s.max(axis=1, keepdims=True)).sum(axis=1) for s in shards]
        no_shift = [np.exp(s).sum(axis=1) for s in shards]
        logs = [np.log(e) for e in expected_sums]
        if _matches(sums, logs):
            hint += ": return the sum itself, not its log: the ranks add their sums first"
        elif _matches(sums, own_max):
            hint += (
                ": subtract the global max, not the shard's own max: the sums must share one scale"
            )
        elif _matches(sums, no_shift):
            hint += ": subtract global_max before exponentiating (all ranks measure against it)"
    report.expect(wrong is None, "local sums of exp(logit - global max) are right", hint=hint)

    picked = [p[1] for p in pairs]
    wrong = _first_wrong(picked, expected_logits)
    hint = ""
    if wrong is not None:
        hint = f"{_name(wrong)}: {differ(expected_logits[wrong], picked[wrong])}"
        mistake = _partial_mistake(shards, target, picked, global_max)
        hint += f": {mistake}" if mistake else ""
    report.expect(
        wrong is None,
        "the target logit comes from the shard that owns it (targets on shard boundaries too), 0 from the others",
        hint=hint,
    )

    with np.errstate(all="ignore"):
        losses = global_max + np.log(sum(sums)) - sum(picked)
    report.close(
        "all-reduced, the partials give the same loss as cross_entropy on all logits",
        reference,
        losses,
        rtol=1e-9,
    )

    big = logits + 1000.0
    big_max = big.max(axis=-1)
    big_pairs = [
        as_pair(call(candidate, s, st, target, big_max))
        for s, st in zip(_shards(big), _STARTS, strict=True)
    ]
    finite = all(p is not None and np.all(np.isfinite(p[0])) for p in big_pairs)
    if finite:
        with np.errstate(all="ignore"):
            big_losses = (
                big_max + np.log(sum(p[0] for p in big_pairs)) - sum(p[1] for p in big_pairs)
            )
        report.close(
            "logits around 1000 give the same loss (no overflow)",
            reference,
            big_losses,
            rtol=1e-9,
            atol=1e-9,
        )
    else:
        report.expect(
            False,
            "logits around 1000 give the same loss (no overflow)",
            hint="the local sums overflow: exponentiate shard - global_max, never a raw logit",
        )


def _reference_gradient(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(softmax - one-hot) / counted rows, padding rows zero: worked out on all logits."""
    counted = target != -100
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    grad = e / e.sum(axis=1, keepdims=True)
    grad[np.flatnonzero(counted), target[counted]] -= 1.0
    return grad * counted[:, None] / counted.sum()


@exercise("Exercise 10.3 - one rank's columns of the loss gradient")
def check_shard_gradient(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 10.3: ``candidate(shard, start, target, global_max, global_sum)`` -> gradient.

    The gradient of the mean cross-entropy (over the rows whose target is not -100) with
    respect to this rank's ``(batch, V_r)`` logits: ``(softmax - one-hot) / n_counted`` on
    the shard's columns, the softmax from the all-reduced ``global_max`` and ``global_sum``,
    1 subtracted only where the shard owns the target, padding rows (target -100) zero. No
    communication is needed. Checks the type and shape, padding rows, each shard against
    the gradient on all logits (naming the shard and the mistake: the one-hot forgotten, no
    offset, no ownership test, a local softmax, dividing by the batch or not at all), that
    each row of the whole gradient sums to 0, and logits around 1000.

    Examples
    --------
    >>> def no_one_hot(shard, start, target, global_max, global_sum):
    ...     grad = np.exp(shard - global_max[:, None]) / global_sum[:, None]
    ...     counted = target != -100
    ...     return grad * counted[:, None] / counted.sum()
    >>> check_shard_gradient(no_one_hot).passed
    False
    """
    logits = _logits(6, 12)
    target = np.array([0, 5, -100, 4, 11, 9])  # a padding row; boundaries 4|5, 8|9
    shards = _shards(logits)
    global_max = logits.max(axis=1)
    global_sum = np.exp(logits - global_max[:, None]).sum(axis=1)
    full = _reference_gradient(logits, target)
    expected = _shards(full)

    results = [
        call(candidate, s, st, target, global_max, global_sum)
        for s, st in zip(shards, _STARTS, strict=True)
    ]
    problem = next((_raised(r) for r in results if _raised(r)), "")
    problem = problem or next((array_problem(r) for r in results if array_problem(r)), "")
    bad_shape = next(
        (i for i, r in enumerate(results) if not problem and np.shape(r) != expected[i].shape), None
    )
    if bad_shape is not None:
        problem = (
            f"{_name(bad_shape)} gave shape {np.shape(results[bad_shape])}, expected "
            f"{expected[bad_shape].shape}: one gradient entry per logit of the shard"
        )
    if not report.expect(
        not problem, "returns a NumPy array shaped like the shard, (6, V_r)", hint=problem
    ):
        return
    grads = [np.asarray(r, dtype=float) for r in results]

    padding = [g[2] for g in grads]
    report.expect(
        all(np.all(row == 0) for row in padding),
        "rows whose target is -100 (padding) get a zero gradient",
        hint=f"row 2 of {_name(next(i for i, row in enumerate(padding) if np.any(row != 0)))} is "
        f"not zero: multiply by (target != -100)"
        if not all(np.all(row == 0) for row in padding)
        else "",
    )

    wrong = _first_wrong(grads, expected)
    hint = ""
    if wrong is not None:
        hint = f"{_name(wrong)}: {differ(expected[wrong], grads[wrong])}"
        mistake = _gradient_mistake(logits, target, shards, grads, global_max, global_sum)
        hint += f": {mistake}" if mistake else ""
    report.expect(
        wrong is None,
        "each shard's columns equal (softmax - one-hot) / 5 counted rows",
        hint=hint,
    )

    whole = np.concatenate(grads, axis=1)
    sums = whole.sum(axis=1)
    report.expect(
        bool(np.allclose(sums, 0.0, atol=1e-12)),
        "side by side, each row of the gradient sums to 0 (softmax sums to 1, one-hot to 1)",
        hint=f"row sums {np.round(sums, 4)}: exactly one shard subtracts 1 per counted row",
    )

    big = logits + 1000.0
    big_max = big.max(axis=1)
    big_sum = np.exp(big - big_max[:, None]).sum(axis=1)
    big_results = [
        call(candidate, s, st, target, big_max, big_sum)
        for s, st in zip(_shards(big), _STARTS, strict=True)
    ]
    values = [as_floats(r) for r in big_results]
    finite = all(v is not None and np.all(np.isfinite(v)) for v in values)
    wrong = _first_wrong(big_results, expected)
    if not finite:
        hint = "got inf or NaN: exponentiate shard - global_max, never a raw logit"
    elif wrong is not None:
        hint = f"{_name(wrong)}: {differ(expected[wrong], big_results[wrong])}"
    else:
        hint = ""
    report.expect(
        finite and wrong is None,
        "logits around 1000 give the same gradient (no overflow)",
        hint=hint,
    )


def _gradient_mistake(
    logits: np.ndarray,
    target: np.ndarray,
    shards: list[np.ndarray],
    grads: list[np.ndarray],
    global_max: np.ndarray,
    global_sum: np.ndarray,
) -> str:
    counted = target != -100
    n = counted.sum()
    keep = counted[:, None]
    rows = np.arange(len(target))

    def variant(local_softmax=False, one_hot="owned", divide=n, zero_padding=True):
        out = []
        for s, st in zip(shards, _STARTS, strict=True):
            if local_softmax:
                e = np.exp(s - s.max(axis=1, keepdims=True))
                g = e / e.sum(axis=1, keepdims=True)
            else:
                g = np.exp(s - global_max[:, None]) / global_sum[:, None]
            owns, column = _owned(s, st, target)
            if one_hot == "owned":
                g[rows[owns & counted], column[owns & counted]] -= 1.0
            elif one_hot == "no offset":
                hit = owns & counted
                g[rows[hit], np.clip(target[hit], 0, s.shape[1] - 1)] -= 1.0
            elif one_hot == "every shard":
                g[rows[counted], column[counted]] -= 1.0
            out.append(g * (keep if zero_padding else 1.0) / divide)
        return out

    diagnoses = [
        (
            variant(one_hot="none"),
            "subtract 1 at the target's column: the gradient is softmax - one-hot",
        ),
        (
            variant(one_hot="no offset"),
            "the shard's column j is class start + j: subtract 1 at column target - start",
        ),
        (
            variant(one_hot="every shard"),
            "only the shard that owns the target subtracts 1 (start <= target < start + width)",
        ),
        (
            variant(local_softmax=True),
            "use global_max and global_sum: a softmax over the shard alone is not the model's softmax",
        ),
        (
            variant(divide=len(target)),
            f"divide by the {n} counted rows, not the batch of {len(target)}: padding rows do not count",
        ),
        (variant(divide=1), f"the loss is the mean over the {n} counted rows: divide by {n}"),
        (
            variant(zero_padding=False),
            "rows whose target is -100 count for nothing: multiply by (target != -100)",
        ),
    ]
    for candidate, hint in diagnoses:
        if _matches(grads, candidate):
            return hint
    return ""
