"""Checkers for the exercises of notebook 10 (softmax at scale).

* :func:`check_merge_states` - merge two partial softmax normalisers ``(max, sum)``;
* :func:`check_shard_partials` - the part of vocabulary-parallel cross-entropy that one
  rank computes on its own shard of the logits.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.scale import merge_states
>>> check_merge_states(lambda m_a, d_a, m_b, d_b: merge_states((m_a, d_a), (m_b, d_b))).passed
True
>>> def no_rescale(m_a, d_a, m_b, d_b):
...     return np.maximum(m_a, m_b), d_a + d_b
>>> print(check_merge_states(no_rescale))  # doctest: +ELLIPSIS
Exercise 10.1 - merge two (max, sum) states: 4 of 7 checks passed
  ok    returns a pair (max, sum)
  FAIL  merges [1, 2] with [3] into (3, 1.503) (got sum 2: ... rescale each sum by exp(m_old - m_new) first)
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
from . import Report, as_pair, call, describe, exercise

__all__ = ["check_merge_states", "check_shard_partials"]


def _show(result: Any, pair: tuple[np.ndarray, np.ndarray] | None) -> str:
    if pair is None or pair[0].size != 1 or pair[1].size != 1:
        return describe(result)
    return f"({float(pair[0]):.6g}, {float(pair[1]):.6g})"


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
        return result, as_pair(result)

    result, pair = merged(_state([1.0, 2.0]), _state([3.0]))
    if not report.expect(
        pair is not None, "returns a pair (max, sum)", hint=f"got {describe(result)}"
    ):
        return
    expected = _state([1.0, 2.0, 3.0])
    ok = np.isclose(pair[0], expected[0]) and np.isclose(pair[1], expected[1])
    hint = f"got ({float(pair[0]):.4g}, {float(pair[1]):.4g})"
    if np.isclose(pair[1], _state([1.0, 2.0])[1] + 1.0):
        hint = "got sum 2: the sums were added as they are; rescale each sum by exp(m_old - m_new) first"
    elif np.isclose(pair[1], _state([1.0, 2.0])[1] * math.e + 1.0):
        hint = "the rescaling goes the wrong way: multiply by exp(m_old - m_new), which is <= 1"
    report.expect(ok, "merges [1, 2] with [3] into (3, 1.503)", hint=hint)

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
    bc = as_pair(merged(b, c)[0])
    a_bc = None if bc is None else as_pair(call(candidate, *a, *bc))
    ba = as_pair(merged(b, a)[0])
    ab = as_pair(merged(a, b)[0])
    ab_c = None if ab is None else as_pair(call(candidate, *ab, *c))
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
        pair = as_pair(call(candidate, *state, *_state(list(chunk))))
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


def _reference_partials(
    shard: np.ndarray, start: int, target: np.ndarray, global_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    local_sum = np.exp(shard - global_max[:, None]).sum(axis=-1)
    owns = (target >= start) & (target < start + shard.shape[-1])
    index = np.clip(target - start, 0, shard.shape[-1] - 1)
    picked = shard[np.arange(len(shard)), index]
    return local_sum, np.where(owns, picked, 0.0)


@exercise("Exercise 10.2 - one rank's share of vocab-parallel cross-entropy")
def check_shard_partials(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 10.2: ``candidate(shard, start, target, global_max)`` -> ``(local_sum, target_logit)``.

    ``shard`` is ``(batch, V_r)``, the logits of vocabulary entries ``start .. start+V_r-1``;
    ``target`` holds the ``batch`` class indices over the whole vocabulary and ``global_max``
    the ``batch`` row maxima after the all-reduce. The result is, per row, the sum of
    ``exp(shard - global_max)`` and the target's logit if this shard owns it, else 0.
    Checks shapes, each shard's sums and target logits, the combined loss against
    :func:`softmax_lab.cross_entropy`, and large logits.
    """
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(4, 12)) * 3
    target = np.array([0, 6, 11, 4])
    widths = [5, 4, 3]
    starts = [0, 5, 9]
    shards = [logits[:, s : s + w] for s, w in zip(starts, widths, strict=True)]
    global_max = logits.max(axis=-1)

    results = [
        call(candidate, shard, start, target, global_max)
        for shard, start in zip(shards, starts, strict=True)
    ]
    pairs = [as_pair(result) for result in results]
    shapes_ok = all(p is not None and p[0].shape == p[1].shape == (4,) for p in pairs)
    bad = next((r for r, p in zip(results, pairs, strict=True) if p is None), results[0])
    report.expect(
        shapes_ok,
        "returns (local_sum, target_logit), one value per row: shapes (4,) and (4,)",
        hint=f"got {describe(bad) if any(p is None for p in pairs) else [p[0].shape for p in pairs]}",
    )
    if not shapes_ok:
        return
    expected = [
        _reference_partials(shard, start, target, global_max)
        for shard, start in zip(shards, starts, strict=True)
    ]
    sums_ok = all(np.allclose(p[0], e[0]) for p, e in zip(pairs, expected, strict=True))
    hint = "expected sum(exp(shard - global_max)) over the shard's columns, for each row"
    own_max = [np.exp(s - s.max(axis=-1, keepdims=True)).sum(-1) for s in shards]
    if all(np.allclose(p[0], o) for p, o in zip(pairs, own_max, strict=True)):
        hint = "subtract the global max, not the shard's own max: the sums must share one scale"
    report.expect(sums_ok, "local sums of exp(logit - global max) are right", hint=hint)

    logits_ok = all(np.allclose(p[1], e[1]) for p, e in zip(pairs, expected, strict=True))
    hint = (
        f"shard 2 (start 5) gave {np.round(pairs[1][1], 3)}, expected {np.round(expected[1][1], 3)}"
    )
    rows = np.arange(len(target))
    no_offset, no_owner_test = [], []
    for shard, start in zip(shards, starts, strict=True):
        owns = (target >= start) & (target < start + shard.shape[-1])
        last = shard.shape[-1] - 1
        no_offset.append(np.where(owns, shard[rows, np.clip(target, 0, last)], 0.0))
        no_owner_test.append(shard[rows, np.clip(target - start, 0, last)])
    if all(np.allclose(p[1], w) for p, w in zip(pairs, no_offset, strict=True)):
        hint = "the shard's column j is class start + j: index with target - start"
    elif all(np.allclose(p[1], w) for p, w in zip(pairs, no_owner_test, strict=True)):
        hint = "a shard that does not own the target must contribute 0"
    report.expect(
        logits_ok,
        "the target logit comes from the shard that owns it, 0 from the others",
        hint=hint,
    )

    with np.errstate(divide="ignore", invalid="ignore"):
        total = sum(p[0] for p in pairs)
        target_logit = sum(p[1] for p in pairs)
        losses = global_max + np.log(total) - target_logit
    reference = cross_entropy(logits, target, reduction="none")
    report.expect(
        np.allclose(losses, reference),
        "all-reduced, the partials give the same loss as cross_entropy on all logits",
        hint=f"expected {np.round(reference, 4)}, got {np.round(losses, 4)}",
    )

    big = logits + 1000.0
    big_shards = [big[:, s : s + w] for s, w in zip(starts, widths, strict=True)]
    big_max = big.max(axis=-1)
    big_pairs = [
        as_pair(call(candidate, shard, start, target, big_max))
        for shard, start in zip(big_shards, starts, strict=True)
    ]
    ok = all(p is not None and np.all(np.isfinite(p[0])) for p in big_pairs)
    if ok:
        with np.errstate(divide="ignore", invalid="ignore"):
            big_losses = (
                big_max + np.log(sum(p[0] for p in big_pairs)) - sum(p[1] for p in big_pairs)
            )
        ok = np.allclose(big_losses, reference)
    report.expect(
        ok,
        "logits around 1000 do not overflow",
        hint="subtract global_max before exponentiating",
    )
