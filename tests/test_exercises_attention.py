"""The notebook 07 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab import softmax
from softmax_lab.attention import attention_weights
from softmax_lab.exercises.attention import (
    check_attention_entropy,
    check_masked_attention,
    check_off_by_one_softmax,
)
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 7.1 ----------------------------------------------------------------------


def _by_torch(q, k, v, mask):
    """An independent correct answer: -inf fill, torch.softmax, NaN rows set to 0."""
    scores = torch.from_numpy(q @ k.T / math.sqrt(q.shape[-1]))
    scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0).numpy()
    return weights @ v, weights


def _library(q, k, v, mask):
    weights = attention_weights(q, k, mask)
    return weights @ v, weights


def _no_scaling(q, k, v, mask):
    weights = attention_weights(q, k, mask, scale=1.0)
    return weights @ v, weights


def _mask_with_zero(q, k, v, mask):
    scores = np.where(mask, q @ k.T / math.sqrt(q.shape[-1]), 0.0)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    return weights @ v, weights


def _wrong_axis(q, k, v, mask):
    scores = np.where(mask, q @ k.T / math.sqrt(q.shape[-1]), -np.inf)
    weights = np.exp(scores) / np.exp(scores).sum(axis=0, keepdims=True)
    return weights @ v, weights


def _nan_on_fully_masked(q, k, v, mask):
    scores = torch.from_numpy(q @ k.T / math.sqrt(q.shape[-1])).masked_fill(
        ~torch.from_numpy(mask), -torch.inf
    )
    weights = torch.softmax(scores, dim=-1).numpy()
    return weights @ v, weights


def _only_weights(q, k, v, mask):
    return attention_weights(q, k, mask)


def _swapped(q, k, v, mask):
    output, weights = _library(q, k, v, mask)
    return weights, output


def _divides_by_d(q, k, v, mask):
    weights = attention_weights(q, k, mask, scale=1 / q.shape[-1])
    return weights @ v, weights


def _d_from_number_of_keys(q, k, v, mask):
    weights = softmax(q @ k.T / math.sqrt(len(k)), where=mask)
    return weights @ v, weights


def _inverted_mask(q, k, v, mask):  # nn.MultiheadAttention's convention
    weights = attention_weights(q, k, ~mask)
    return weights @ v, weights


def _one_max_for_the_batch(q, k, v, mask):
    scores = np.where(mask, q @ k.T / math.sqrt(q.shape[-1]), -np.inf)
    e = np.exp(scores - scores.max())  # one max for every row
    weights = np.nan_to_num(e / e.sum(axis=-1, keepdims=True))
    return weights @ v, weights


def _no_max_shift(q, k, v, mask):
    e = np.where(mask, np.exp(q @ k.T / math.sqrt(q.shape[-1])), 0.0)
    weights = np.nan_to_num(e / e.sum(axis=-1, keepdims=True))
    return weights @ v, weights


def _minus_1e9(q, k, v, mask):
    scores = np.where(mask, q @ k.T / math.sqrt(q.shape[-1]), -1e9)
    return (weights := softmax(scores)) @ v, weights


def _scales_q_in_place(q, k, v, mask):
    q /= math.sqrt(q.shape[-1])
    weights = softmax(q @ k.T, where=mask)
    return weights @ v, weights


def _no_mask(q, k, v, mask):
    weights = softmax(q @ k.T / math.sqrt(q.shape[-1]))
    return weights @ v, weights


def _loop_per_query(q, k, v, mask):  # another correct style: one query at a time
    weights = np.zeros((len(q), len(k)))
    for i, (query, allowed) in enumerate(zip(q, mask, strict=True)):
        if allowed.any():
            scores = k[allowed] @ query / np.sqrt(len(query))
            e = np.exp(scores - scores.max())
            weights[i, allowed] = e / e.sum()
    return weights @ v, weights


def _transposed_when_square(q, k, v, mask):
    """The reviewer's answer: k @ q.T, turned back only when the shapes disagree."""
    scores = k @ q.T / math.sqrt(q.shape[-1])
    if scores.shape != mask.shape:
        scores = scores.T
    weights = softmax(scores, where=mask)
    return weights @ v, weights


def _sqrt_of_value_width(q, k, v, mask):
    weights = softmax(q @ k.T / math.sqrt(v.shape[-1]), where=mask)
    return weights @ v, weights


def _output_from_unmasked_weights(q, k, v, mask):
    scores = q @ k.T / math.sqrt(q.shape[-1])
    return softmax(scores) @ v, softmax(scores, where=mask)  # the output ignores the mask


def _renormalised(q, k, v, mask):
    """The reviewer's correct answer: exp of shifted scores times the mask, renormalised."""
    scores = q @ k.T / math.sqrt(q.shape[-1])
    peak = np.where(mask, scores, -np.inf).max(-1, keepdims=True).clip(-1e300)
    e = np.where(mask, np.exp(scores - peak), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return weights @ v, weights


def test_masked_attention_accepts_references():
    assert check_masked_attention(_library).passed
    assert check_masked_attention(_by_torch).passed
    assert check_masked_attention(_loop_per_query).passed
    assert check_masked_attention(_renormalised).passed


def _divides_by_three(q, k, v, mask):  # a scale no diagnosis names
    weights = softmax(q @ k.T / 3.0, where=mask)
    return weights @ v, weights


def _output_doubled(q, k, v, mask):
    weights = attention_weights(q, k, mask)
    return 2 * weights @ v, weights


def test_right_weights_and_a_wrong_output_blame_the_output():
    """With every key allowed, masking with 0 gives the right weights: no false diagnosis."""
    report = check_masked_attention(_output_doubled)
    assert len(report.failures) == 5, str(report)
    assert all("the weights are right, the output is not" in f for f in report.failures), report
    assert not says(report, "masked scores set to 0"), str(report)


def test_masked_attention_shows_the_row_that_is_off():
    """Row 0 of a causal mask is [1, 0, 0, 0, 0] whatever the scale: show a row that differs."""
    report = check_masked_attention(_divides_by_three)
    causal = next(line for line in report.failures if "with a causal mask (" in line)
    assert "row 0" not in causal and "row 1 of the weights" in causal, causal
    assert all("off by 0)" not in line for line in report.failures), str(report)


MASKED_ATTENTION_MISTAKES = [
    (_no_scaling, "forgot to divide the scores by sqrt(d)"),
    (_divides_by_d, "divide by sqrt(d), not by d"),
    (_mask_with_zero, "masked scores set to 0 still get weight: use -inf"),
    (_wrong_axis, "softmax must run over the keys"),
    (_nan_on_fully_masked, "got NaN"),
    (_only_weights, "returns (output, weights)"),
    (_swapped, "(weights, output) the wrong way round"),
    (_inverted_mask, "the mask is inverted"),
    (_d_from_number_of_keys, "not the number of keys"),
    (_one_max_for_the_batch, "one max for the whole batch"),
    (_no_max_shift, "overflowed"),
    (_minus_1e9, "a large negative number (-1e9) instead of -inf"),
    (_scales_q_in_place, "modified its input q in place"),
    (_no_mask, "masked keys get weight"),
    (_transposed_when_square, "the scores are transposed"),
    (_sqrt_of_value_width, "not of the values (v.shape[-1])"),
    (_output_from_unmasked_weights, "the weights are right, the output is not"),
    (_output_from_unmasked_weights, "the weights are 0 but the output is"),
]


@pytest.mark.parametrize(("wrong", "feedback"), MASKED_ATTENTION_MISTAKES)
def test_masked_attention_rejects_known_mistakes(wrong, feedback):
    report = check_masked_attention(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_masked_attention_reports_stub_as_unfinished():
    report = check_masked_attention(stub)
    assert report.unfinished and not report.passed
    assert "not finished yet" in str(report)


# --- Exercise 7.2 ----------------------------------------------------------------------


def _entropy(weights):
    w = np.asarray(weights, dtype=float)
    return -np.sum(w * np.log(np.where(w > 0, w, 1.0)), axis=-1)


def _entropy_torch(weights):
    return torch.special.entr(torch.as_tensor(weights, dtype=torch.float64)).sum(-1).numpy()


def _entropy_nan(weights):
    w = np.asarray(weights, dtype=float)
    with np.errstate(all="ignore"):
        return -np.sum(w * np.log(w), axis=-1)


def _entropy_wrong_axis(weights):
    return _entropy(np.swapaxes(np.asarray(weights, dtype=float), -1, 0))


def _entropy_axis_1(weights):
    w = np.asarray(weights, dtype=float)
    return -np.sum(w * np.log(np.where(w > 0, w, 1.0)), axis=1)


def _entropy_bits(weights):
    return _entropy(weights) / math.log(2)


def _entropy_sign(weights):
    return -_entropy(weights)


def _entropy_mean(weights):
    w = np.asarray(weights, dtype=float)
    return -np.mean(w * np.log(np.where(w > 0, w, 1.0)), axis=-1)


def _entropy_in_place(weights):
    weights[weights == 0] = 1.0  # log(1) = 0, but the caller's weights change
    return -np.sum(np.where(weights == 1.0, 0.0, weights * np.log(weights)), axis=-1)


def _entropy_list(weights):
    return _entropy(weights).tolist()


def _entropy_everything(weights):
    return _entropy(weights).sum()


def _entropy_scipy(weights):
    from scipy.stats import entropy

    w = np.asarray(weights, dtype=float)
    return np.where(
        w.sum(axis=-1) > 0, entropy(np.where(w.sum(-1, keepdims=True) > 0, w, 1.0), axis=-1), 0.0
    )


def _entropy_as_rows(weights):
    """The reviewer's answer: reshape to (-1, n), so one row gives shape (1,), not ()."""
    w = np.asarray(weights, dtype=float).reshape(-1, np.shape(weights)[-1])
    return _entropy(w)


def test_entropy_accepts_references():
    assert check_attention_entropy(_entropy).passed
    assert check_attention_entropy(_entropy_torch).passed
    assert check_attention_entropy(_entropy_scipy).passed


ENTROPY_MISTAKES = [
    (_entropy_nan, "0 * log(0) gives NaN"),
    (_entropy_wrong_axis, "sum over the last axis"),
    (_entropy_bits, "that is in bits (log2)"),
    (_entropy_axis_1, "not over axis 1"),
    (_entropy_sign, "the sign is flipped"),
    (_entropy_mean, "that is the mean over the keys"),
    (_entropy_in_place, "modified its input weights in place"),
    (_entropy_list, "returned a list; return a NumPy array"),
    (_entropy_everything, "sum over the last axis"),
    (_entropy_as_rows, "expected one number for one row, got shape (1,)"),
]


@pytest.mark.parametrize(("wrong", "feedback"), ENTROPY_MISTAKES)
def test_entropy_rejects_known_mistakes(wrong, feedback):
    report = check_attention_entropy(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_entropy_reports_stub_as_unfinished():
    assert check_attention_entropy(stub).unfinished


def test_none_is_reported_per_check():
    assert none_reported(check_masked_attention(forgets_return))
    assert none_reported(check_attention_entropy(forgets_return))


# --- Exercise 7.3 ----------------------------------------------------------------------


def _stable(x):
    x = np.asarray(x, dtype=float)
    m = np.maximum(x.max(axis=-1, keepdims=True), 0.0)  # the implicit zero logit counts too
    e = np.exp(x - m)
    return e / (np.exp(-m) + e.sum(axis=-1, keepdims=True))


def _softmax_with_a_zero(x):
    """Another style: softmax over [0, x], then drop the zero logit's weight."""
    x = np.asarray(x, dtype=float)
    padded = np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], axis=-1)
    return softmax(padded, axis=-1)[..., 1:]


def _via_logaddexp(x):
    """A third: log-space, log(1 + sum e^x) = logaddexp(0, logsumexp(x))."""
    from scipy.special import logsumexp

    x = np.asarray(x, dtype=float)
    return np.exp(x - np.logaddexp(0.0, logsumexp(x, axis=-1, keepdims=True)))


def _torch_padded(x):
    """The reviewer's answer: pad a zero logit in torch, softmax, drop it, back to NumPy."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    return torch.softmax(torch.nn.functional.pad(t, (1, 0)), dim=-1)[..., 1:].numpy()


def _padded_by_hand(x):
    """The reviewer's answer: pad a zero logit, shift by the max, normalise, drop it."""
    x = np.asarray(x, dtype=float)
    z = np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], axis=-1)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True))[..., 1:]


@pytest.mark.parametrize(
    "candidate", [_stable, _softmax_with_a_zero, _via_logaddexp, _torch_padded, _padded_by_hand]
)
def test_off_by_one_accepts_correct_answers(candidate):
    report = check_off_by_one_softmax(candidate)
    assert report.passed, report


def _plain_softmax(x):
    return softmax(np.asarray(x, dtype=float), axis=-1)


def _one_not_rescaled(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / (1 + e.sum(axis=-1, keepdims=True))


def _no_shift(x):
    e = np.exp(x)
    return e / (1 + e.sum(axis=-1, keepdims=True))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _axis_0(x):
    e = np.exp(x - np.maximum(x.max(), 0))
    return e / (np.exp(-np.maximum(x.max(), 0)) + e.sum(axis=0, keepdims=True))


def _whole_array(x):
    m = np.maximum(x.max(), 0)
    e = np.exp(x - m)
    return e / (np.exp(-m) + e.sum())


def _flat_max(x):
    """The reviewer's 7.3-a: m = max(0, x.max()) over the whole array, not per row."""
    m = max(0.0, float(x.max()))
    e = np.exp(x - m)
    return e / (np.exp(-m) + e.sum(axis=-1, keepdims=True))


def _mean_shift(x):
    """The reviewer's 7.3-b: shift by max(0, mean) instead of max(0, max)."""
    m = np.maximum(0.0, x.mean(axis=-1, keepdims=True))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x - m)
        return e / (np.exp(-m) + e.sum(axis=-1, keepdims=True))


def _nan_patched(x):
    """The reviewer's 7.3-c: the naive formula, NaN patched to 0.5."""
    with np.errstate(all="ignore"):
        e = np.exp(x)
        return np.nan_to_num(e / (1 + e.sum(axis=-1, keepdims=True)), nan=0.5)


def _clipped(x):
    """The reviewer's 7.3-d: scores clipped to +-500, then the naive formula."""
    e = np.exp(np.clip(x, -500, 500))
    return e / (1 + e.sum(axis=-1, keepdims=True))


def _extra_slot(x):
    padded = np.concatenate([np.zeros(x.shape[:-1] + (1,)), x], axis=-1)
    return softmax(padded, axis=-1)


def _as_list(x):
    return _stable(x).tolist()


def _in_place(x):
    x -= np.maximum(x.max(axis=-1, keepdims=True), 0)  # changes the caller's array
    return np.exp(x) / (np.exp(x).sum(axis=-1, keepdims=True) + 1)


@pytest.mark.parametrize(
    ("candidate", "feedback"),
    [
        (_plain_softmax, "that is the plain softmax: add 1"),
        (_one_not_rescaled, "the 1 must become exp(-m) too"),
        (_no_shift, "exp overflowed; subtract m = max(0, max(x)) first"),
        (_sigmoid, "that is a sigmoid of each score"),
        (_axis_0, "the sum runs over axis 0"),
        (_whole_array, "the sum runs over the whole array"),
        (_extra_slot, "returned one weight too many"),
        (_as_list, "returned a list; return a NumPy array"),
        (_in_place, "modified its input x in place"),
        (_flat_max, "one m for the whole array"),
        (_mean_shift, "not its mean (0) or first entry"),
        (_nan_patched, "the naive formula with its NaN replaced"),
        (_clipped, "scores 1000 and 600 got weights 0.5 and 0.5"),
    ],
)
def test_off_by_one_names_the_typical_mistakes(candidate, feedback):
    report = check_off_by_one_softmax(candidate)
    assert not report.passed and says(report, feedback), report


def test_off_by_one_stub_and_missing_return():
    assert unfinished(check_off_by_one_softmax(stub))
    assert none_reported(check_off_by_one_softmax(forgets_return))
