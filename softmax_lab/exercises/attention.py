"""Checkers for the exercises of notebook 07 (attention).

* :func:`check_masked_attention` - scaled dot-product attention with a boolean mask,
  returning ``(output, weights)``;
* :func:`check_attention_entropy` - the entropy of each row of attention weights;
* :func:`check_off_by_one_softmax` - softmax with a 1 added to the denominator (an implicit
  zero logit), stable for large and very negative scores.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.attention import attention_weights
>>> def masked_attention(q, k, v, mask):
...     weights = attention_weights(q, k, mask)
...     return weights @ v, weights
>>> check_masked_attention(masked_attention).passed
True
>>> def no_scaling(q, k, v, mask):
...     weights = attention_weights(q, k, mask, scale=1.0)
...     return weights @ v, weights
>>> print(check_masked_attention(no_scaling))  # doctest: +ELLIPSIS
Exercise 7.1 - masked attention: 4 of 9 checks passed
  ok    returns (output, weights) with shapes (3, 2) and (3, 5)
  FAIL  matches the reference with every key allowed (it looks like you forgot to divide ...)
  FAIL  matches the reference with the last 2 keys masked as padding (it looks like ...)
  ok    padding keys get weight exactly 0
  FAIL  matches the reference with a causal mask (it looks like you forgot to divide ...)
  ok    each row of weights sums to 1
  FAIL  matches the reference with 5 queries, 5 keys and a causal mask (square) (...)
  FAIL  queries whose scores differ by about 2000 (...) (it looks like you forgot to divide ...)
  ok    a query with every key masked gets zero weights and a zero output
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..attention import attention_weights, causal_mask, off_by_one_softmax, padding_mask
from ..core import softmax
from . import (
    Report,
    array_problem,
    as_floats,
    as_pair,
    call,
    close_to,
    describe,
    differ,
    exercise,
    show,
)

__all__ = ["check_masked_attention", "check_attention_entropy", "check_off_by_one_softmax"]


def _attention_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three queries, five keys, d = 4 (so sqrt(d) = 2 is visible), two value columns."""
    rng = np.random.default_rng(7)
    return rng.normal(size=(3, 4)) * 2.0, rng.normal(size=(5, 4)), rng.normal(size=(5, 2))


def _wrong_output(expected: np.ndarray, got: np.ndarray) -> str:
    """Feedback for right weights and a wrong output."""
    return (
        f"the weights are right, the output is not: output = weights @ v ({differ(expected, got)})"
    )


def _worst_row(expected: np.ndarray, got: np.ndarray) -> str:
    """``row i of the weights: expected ..., got ...`` for the row that is furthest off."""
    with np.errstate(invalid="ignore"):
        error = np.where(np.isnan(got), np.inf, np.abs(got - expected)).max(axis=-1)
    row = int(np.argmax(error))
    return f"row {row} of the weights: {differ(expected[row], got[row])}"


def _diagnose(
    q: np.ndarray, k: np.ndarray, weights: np.ndarray, mask: np.ndarray, d_v: int = 2
) -> str:
    """Name the usual mistake behind wrong weights, when it is one of the usual ones."""
    scores = q @ k.T
    d = q.shape[-1]
    masked_with_zero = np.where(mask, scores / math.sqrt(d), 0.0)
    scaled = scores / math.sqrt(d)
    mistakes = [
        (softmax(scores, where=mask), "it looks like you forgot to divide the scores by sqrt(d)"),
        (softmax(scores / d, where=mask), "divide by sqrt(d), not by d"),
        (
            softmax(scores / math.sqrt(len(q)), where=mask),
            "d is the length of each query (q.shape[-1]), not the number of queries",
        ),
        (
            softmax(scores / math.sqrt(len(k)), where=mask),
            "d is the length of each query (q.shape[-1]), not the number of keys",
        ),
        (softmax(scores * math.sqrt(d), where=mask), "divide the scores by sqrt(d), not multiply"),
        (
            softmax(scores / math.sqrt(d_v), where=mask),
            "d is the length of each query and key (q.shape[-1]), not of the values (v.shape[-1])",
        ),
        (softmax(scaled, axis=0), "softmax must run over the keys (the last axis)"),
        (softmax(scaled, axis=0, where=mask), "softmax must run over the keys (the last axis)"),
        (softmax(masked_with_zero), "masked scores set to 0 still get weight: use -inf"),
        (
            softmax(scaled, where=~mask),
            "the mask is inverted: here True means 'may attend' (SDPA's convention; "
            "nn.MultiheadAttention's is the opposite)",
        ),
        (softmax(scaled), "masked keys get weight: set their scores to -inf before the softmax"),
    ]
    if len(q) == len(k):  # only a square case shows scores computed as k @ q.T
        mistakes.append(
            (
                softmax(scaled.T, where=mask),
                "the scores are transposed: row i, column j must be q_i . k_j (q @ k.T, "
                "queries down, keys across), not k @ q.T",
            )
        )
    right = softmax(scaled, where=mask)
    for wrong, message in mistakes:
        if (
            wrong.shape == weights.shape
            and np.allclose(wrong, weights, atol=1e-6)
            and not np.allclose(right, weights, atol=1e-6)
        ):
            return message
    return ""


@exercise("Exercise 7.1 - masked attention")
def check_masked_attention(report: Report, candidate: Callable[..., Any]) -> None:
    """Exercise 7.1: ``candidate(q, k, v, mask)`` returns ``(output, weights)``.

    ``q`` is ``(n_q, d)``, ``k`` is ``(n_k, d)``, ``v`` is ``(n_k, d_v)`` and ``mask`` a
    boolean ``(n_q, n_k)`` array, True where a query may attend to a key. Checks shapes,
    every key allowed (catches a missing sqrt(d) and a softmax over the wrong axis), a
    padding mask (masked keys get exactly 0), a causal mask, a square causal case
    (``n_q == n_k``, where scores computed as ``k @ q.T`` still have the right shape),
    weights summing to 1, rows far apart in scale, and a fully-masked query row (all
    zeros, not NaN). A wrong row is shown where it is furthest off.
    """
    q, k, v = _attention_inputs()
    n_q, n_k = len(q), len(k)

    def attempt(mask: np.ndarray) -> tuple[Any, tuple[np.ndarray, np.ndarray] | None]:
        result = call(candidate, q, k, v, mask)
        return result, as_pair(result)

    everything = np.ones((n_q, n_k), dtype=bool)
    result, pair = attempt(everything)
    shapes_ok = pair is not None and (pair[0].shape, pair[1].shape) == ((n_q, 2), (n_q, n_k))
    got = describe(result) if pair is None else f"shapes {pair[0].shape} and {pair[1].shape}"
    if pair is not None and (pair[0].shape, pair[1].shape) == ((n_q, n_k), (n_q, 2)):
        got += ": (weights, output) the wrong way round"
    report.expect(
        shapes_ok,
        f"returns (output, weights) with shapes ({n_q}, 2) and ({n_q}, {n_k})",
        hint=f"got {got}",
    )
    if not shapes_ok:
        return

    def compare(
        name: str, mask: np.ndarray, queries: np.ndarray = q
    ) -> tuple[np.ndarray, np.ndarray] | None:
        result = call(candidate, queries, k, v, mask)
        pair = as_pair(result)
        weights = attention_weights(queries, k, mask)
        output = weights @ v
        if pair is None or pair[1].shape != weights.shape:
            got = describe(result) if pair is None else f"weights of shape {pair[1].shape}"
            report.expect(
                False, f"matches the reference {name}", hint=f"expected {weights.shape}, got {got}"
            )
            return None
        right_weights = close_to(pair[1], weights, rtol=1e-5, atol=1e-6)
        close = right_weights and close_to(pair[0], output, rtol=1e-5, atol=1e-6)
        if right_weights and not close:
            hint = _wrong_output(output, pair[0])
        else:
            hint = _diagnose(queries, k, pair[1], mask, v.shape[-1]) or _worst_row(weights, pair[1])
        report.expect(close, f"matches the reference {name}", hint=hint)
        return pair

    compare("with every key allowed", everything)
    padded = np.broadcast_to(padding_mask([3], n_k), (n_q, n_k)).copy()
    pair = compare("with the last 2 keys masked as padding", padded)
    if pair is not None:
        leaked = float(np.abs(pair[1][:, 3:]).max())
        report.expect(
            leaked == 0.0,
            "padding keys get weight exactly 0",
            hint=f"they get up to {leaked:.3g}: masked scores must be -inf before the softmax",
        )
    causal = compare("with a causal mask", causal_mask(n_k)[:n_q])
    if causal is not None:
        sums = causal[1].sum(axis=-1)
        report.expect(
            np.allclose(sums, 1.0),
            "each row of weights sums to 1",
            hint=f"row sums are {show(sums, digits=3)}",
        )
    square = np.random.default_rng(8).normal(size=(n_k, q.shape[1])) * 2.0
    compare(f"with {n_k} queries, {n_k} keys and a causal mask (square)", causal_mask(n_k), square)
    _check_row_scales(report, candidate, k, v)
    fully_masked = everything.copy()
    fully_masked[1] = False
    result, pair = attempt(fully_masked)
    zeros = (
        pair is not None
        and pair[1].shape == (n_q, n_k)
        and pair[0].shape == (n_q, v.shape[1])
        and not np.isnan(pair[1]).any()
        and not np.isnan(pair[0]).any()
        and np.all(pair[1][1] == 0)
        and np.all(pair[0][1] == 0)
    )
    if pair is None:
        hint = f"got {describe(result)}"
    elif np.isnan(pair[1]).any() or np.isnan(pair[0]).any():
        hint = "got NaN: softmax over a row of -inf is 0/0; use softmax(..., where=mask)"
    elif pair[1].shape == (n_q, n_k) and np.allclose(pair[1][1], 1 / n_k):
        hint = (
            "got uniform weights: a large negative number (-1e9) instead of -inf spreads a "
            "fully masked row evenly; that query must get zeros"
        )
    elif (
        pair[1].shape == (n_q, n_k)
        and pair[0].shape == (n_q, v.shape[1])
        and np.all(pair[1][1] == 0)
    ):
        hint = (
            f"the weights are 0 but the output is {show(pair[0][1], digits=3)}: "
            "output = weights @ v"
        )
    elif pair[0].shape != (n_q, v.shape[1]):
        hint = (
            f"the output has shape {pair[0].shape}, not ({n_q}, {v.shape[1]}): output = weights @ v"
        )
    else:
        hint = f"got weights {show(pair[1][1], digits=3)}"
    report.expect(
        zeros, "a query with every key masked gets zero weights and a zero output", hint=hint
    )


def _check_row_scales(
    report: Report, candidate: Callable[..., Any], k: np.ndarray, v: np.ndarray
) -> None:
    """Queries whose scores differ by about 2000: each row needs its own max shift."""
    big = k[0] * (2.0 * 2000.0 / (k[0] @ k[0]))  # its score for key 0 is 2000 (d = 4)
    q = np.stack([big, k[1] * 0.5, k[2]])  # rows 1 and 2 score within a few units of 0
    mask = np.ones((3, len(k)), dtype=bool)
    weights = attention_weights(q, k, mask)
    expected = weights @ v
    result = call(candidate, q, k, v, mask)
    pair = as_pair(result)
    ok = (
        pair is not None
        and pair[1].shape == weights.shape
        and close_to(pair[1], weights, rtol=1e-5, atol=1e-6)
        and close_to(pair[0], expected, rtol=1e-5, atol=1e-6)
    )
    if pair is None or pair[1].shape != weights.shape:
        hint = f"got {describe(result)}"
    elif close_to(pair[1], weights, rtol=1e-5, atol=1e-6):
        hint = _wrong_output(expected, pair[0])
    else:
        broken = [
            row
            for row in range(3)
            if not np.all(np.isfinite(pair[1][row])) or not np.isclose(pair[1][row].sum(), 1.0)
        ]
        if broken == [0]:
            hint = "row 0 overflowed (exp of a score of 2000): subtract each row's max before exp"
        elif broken and 0 not in broken:
            hint = (
                f"rows {broken} became 0/0: one max for the whole batch is far above them; "
                "subtract each row's own max (max(axis=-1, keepdims=True))"
            )
        else:
            hint = _diagnose(q, k, pair[1], mask, v.shape[-1]) or _worst_row(weights, pair[1])
    report.expect(
        ok, "queries whose scores differ by about 2000 (each row shifted by its own max)", hint=hint
    )


def _entropy_mistake(weights: np.ndarray, got: np.ndarray) -> str:
    """Name the usual mistake behind a wrong entropy, when it is one of the usual ones."""
    terms = -weights * np.log(np.where(weights > 0, weights, 1.0))
    entropy = terms.sum(axis=-1)
    mistakes = [
        (-entropy, "the sign is flipped: H = -sum(w log w) is >= 0"),
        (entropy / math.log(2), "that is in bits (log2): use the natural log, for nats"),
        (entropy / math.log(10), "that is log10: use the natural log, for nats"),
        (terms.mean(axis=-1), "that is the mean over the keys: sum them"),
    ]
    if weights.ndim > 1:
        mistakes.append((terms.sum(axis=-2), "sum over the last axis (the keys), not over axis 1"))
    for wrong, message in mistakes:
        if wrong.shape == got.shape and np.allclose(wrong, got) and not np.allclose(entropy, got):
            return message
    return ""


@exercise("Exercise 7.2 - attention entropy")
def check_attention_entropy(report: Report, candidate: Callable[[Any], Any]) -> None:
    r"""Exercise 7.2: ``candidate(weights)`` returns the entropy of each row, in nats.

    :math:`H = -\sum_j w_j \log w_j` over the last axis, with :math:`0 \log 0 = 0`, so a
    row with masked (zero) weights has a finite entropy and an all-zero row has entropy 0.
    The result has the weights' shape without the last axis.
    """
    uniform = np.full(4, 0.25)
    result = as_floats(got := call(candidate, uniform))
    hint = f"got {describe(got)}"
    if result is not None and result.shape != ():
        hint = f"expected one number for one row, got shape {result.shape}"
    elif result is not None and result.shape == ():
        hint = _entropy_mistake(uniform, result) or differ(math.log(4), result)
    report.expect(
        result is not None and result.shape == () and np.isclose(result, math.log(4)),
        "a uniform row over 4 keys has entropy log(4) = 1.386",
        hint=hint,
    )
    one_hot = np.array([0.0, 1.0, 0.0])
    result = as_floats(got := call(candidate, one_hot))
    nan_hint = "0 * log(0) gives NaN in NumPy: treat those terms as 0"
    if result is None:
        hint = f"got {describe(got)}"
    elif np.isnan(result).any():
        hint = nan_hint
    elif result.shape != ():
        hint = f"expected one number for one row, got shape {result.shape}"
    else:
        hint = _entropy_mistake(one_hot, result) or differ(0.0, result)
    report.expect(
        result is not None and result.shape == () and np.isclose(result, 0.0),
        "a one-hot row has entropy 0",
        hint=hint,
    )
    rows = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 0.0]])
    expected = np.array(
        [math.log(2), -(0.2 * math.log(0.2) + 0.3 * math.log(0.3) + 0.5 * math.log(0.5)), 0.0]
    )
    batch = np.stack([rows, rows[::-1]])
    result = as_floats(got := call(candidate, batch))
    ok = (
        result is not None
        and result.shape == (2, 3)
        and np.allclose(result, np.stack([expected, expected[::-1]]))
        and not array_problem(got)
    )
    if result is None:
        hint = f"got {describe(got)}"
    elif result.shape != (2, 3):
        hint = f"for weights of shape (2, 3, 3) expected shape (2, 3), got {result.shape}: sum over the last axis"
    elif np.isnan(result).any():
        hint = nan_hint
    elif array_problem(got):
        hint = array_problem(got)
    else:
        hint = (
            _entropy_mistake(batch, result)
            or f"for the first matrix: {differ(expected, result[0])}"
        )
    report.expect(
        ok,
        "one entropy per row of a (2, 3, 3) batch, masked zeros and an all-zero row included",
        hint=hint,
    )


def _off_by_one_mistake(x: np.ndarray, got: np.ndarray) -> str:
    """Name the usual mistake behind a wrong off-by-one softmax, when it is one of the usual ones."""
    expected = off_by_one_softmax(x)
    with np.errstate(all="ignore"):
        shifted = np.exp(x - x.max(axis=-1, keepdims=True))
        exps = np.exp(x)
        mistakes = [
            (
                softmax(x, axis=-1),
                "that is the plain softmax: add 1 (e^0, the extra zero logit) to the denominator",
            ),
            (
                shifted / (1 + shifted.sum(axis=-1, keepdims=True)),
                "after subtracting m = max, the 1 must become exp(-m) too: "
                "exp(x - m) / (exp(-m) + sum(exp(x - m)))",
            ),
            (
                exps / (1 + exps),
                "that is a sigmoid of each score: the denominator sums over "
                "all the keys of the row",
            ),
            (
                exps / (1 + exps.sum(axis=0, keepdims=True)),
                "the sum runs over axis 0; sum over the last axis (the keys of each row)",
            ),
            (
                exps / (1 + exps.sum()),
                "the sum runs over the whole array; sum over the last "
                "axis only (axis=-1, keepdims=True)",
            ),
        ]
        flat = max(0.0, float(x.max()))  # one m for the whole array
        flat_exps = np.exp(x - flat)
        mistakes.append(
            (
                flat_exps / (np.exp(-flat) + flat_exps.sum(axis=-1, keepdims=True)),
                "one m for the whole array: a row far below it becomes exp(-1000) / ... = 0/0; "
                "take m = max(0, max(x)) for each row (axis=-1, keepdims=True)",
            )
        )
        naive = exps / (1 + exps.sum(axis=-1, keepdims=True))
    finite = bool(np.all(np.isfinite(got)))
    for index, (wrong, message) in enumerate(mistakes):
        if (
            (finite or index == len(mistakes) - 1)  # NaN matches only for the flat max
            and wrong.shape == got.shape
            and np.allclose(wrong, got, equal_nan=True)
            and not np.allclose(expected, got)
        ):
            return message
    if got.shape != expected.shape or not finite or np.allclose(got, expected):
        return ""
    patched = np.isnan(naive)
    if (
        patched.any()
        and (~patched).any()
        and np.allclose(got[~patched], expected[~patched])
        and np.ptp(got[patched]) == 0
    ):
        return (
            "that is the naive formula with its NaN replaced: exp(1000) is inf and inf / inf "
            "is NaN, not a weight; subtract m = max(0, max(x)) before exp instead of patching"
        )
    rows, got_rows = x.reshape(-1, x.shape[-1]), got.reshape(-1, x.shape[-1])
    for row, weights in zip(rows, got_rows, strict=True):
        high, low = int(np.argmax(row)), int(np.argmin(row))
        if (
            row[high] - row[low] > 1
            and weights[high] <= weights[low]
            and weights.min() >= 0
            and weights.sum() <= 1 + 1e-9
        ):
            return (
                f"scores {row[high]:g} and {row[low]:g} got weights {weights[high]:.3g} and "
                f"{weights[low]:.3g}: a larger score must get a larger weight; clipping "
                "the scores changes them: subtract m = max(0, max(x)) instead"
            )
    return ""


@exercise("Exercise 7.3 - off-by-one softmax")
def check_off_by_one_softmax(report: Report, candidate: Callable[[Any], Any]) -> None:
    r"""Exercise 7.3: ``candidate(x)`` returns :math:`e^{x_i} / (1 + \sum_j e^{x_j})` along the last axis.

    For any shape; stable for scores of 1000 (no overflow) and -1000 (no 0/0), unequal
    large scores (where a NaN patched afterwards, a clip or a shift by the mean shows), and
    rows far apart in one batch (where one m for the whole array gives 0/0).
    """
    cases = [
        ("[0, 0, 0] gives [0.25, 0.25, 0.25]", np.zeros(3)),
        (
            "matches the reference on a random (2, 4) batch, row by row",
            np.random.default_rng(3).normal(size=(2, 4)) * 2,
        ),
        (
            "one key: e^x / (1 + e^x) for x = [0.5, -1, 2] as a (3, 1) batch",
            np.array([[0.5], [-1.0], [2.0]]),
        ),
        ("scores of 1000 give [0.5, 0.5] (no overflow)", np.array([1000.0, 1000.0])),
        ("scores of -1000 give [0, 0]: nothing attended to (no 0/0)", np.array([-1000.0, -1000.0])),
        ("unequal large scores [1000, 0] give [1, 0]", np.array([1000.0, 0.0])),
        ("scores [-1000, 1000] give [0, 1] (shift by the max)", np.array([-1000.0, 1000.0])),
        (
            "rows far apart, [[0, 1], [1000, 600]]: each row shifted by its own m",
            np.array([[0.0, 1.0], [1000.0, 600.0]]),
        ),
    ]
    passed: dict[str, bool] = {}
    for message, x in cases:
        expected = off_by_one_softmax(x)
        got = call(candidate, x)
        result = as_floats(got)
        hint = ""
        if result is not None and result.shape == expected.shape[:-1] + (expected.shape[-1] + 1,):
            hint = "returned one weight too many: drop the extra zero logit's weight"
        elif result is not None and result.shape == expected.shape:
            hint = _off_by_one_mistake(x, result)
            if not hint and not np.all(np.isfinite(result)):
                hint = "got inf or NaN: exp overflowed; subtract m = max(0, max(x)) first"
                if x.ndim == 1 and x[0] < 0 < x[-1] and passed.get(cases[3][0]):
                    hint += (
                        ": the row's largest score (1000), not its mean (0) or first entry; "
                        "[1000, 1000] passed because there every shift is 1000"
                    )
        problem = array_problem(got)
        if problem and close_to(got, expected, rtol=1e-7, atol=1e-12):
            report.expect(False, message, hint=problem)  # right numbers, wrong type
            continue
        passed[message] = report.close(message, expected, got, rtol=1e-7, atol=1e-12, hint=hint)
