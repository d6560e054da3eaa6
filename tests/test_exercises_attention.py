"""The notebook 07 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab.attention import attention_weights
from softmax_lab.exercises.attention import check_attention_entropy, check_masked_attention
from tests.conftest import stub

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


def test_masked_attention_accepts_references():
    assert check_masked_attention(_library).passed
    assert check_masked_attention(_by_torch).passed


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_no_scaling, "forgot to divide the scores by sqrt(d)"),
        (_mask_with_zero, "masked scores set to 0 still get weight: use -inf"),
        (_wrong_axis, "softmax must run over the keys"),
        (_nan_on_fully_masked, "got NaN"),
        (_only_weights, "returns (output, weights)"),
    ],
)
def test_masked_attention_rejects_known_mistakes(wrong, feedback):
    report = check_masked_attention(wrong)
    assert not report.passed
    assert feedback in str(report)


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


def _entropy_bits(weights):
    return _entropy(weights) / math.log(2)


def test_entropy_accepts_references():
    assert check_attention_entropy(_entropy).passed
    assert check_attention_entropy(_entropy_torch).passed


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_entropy_nan, "0 * log(0) gives NaN"),
        (_entropy_wrong_axis, "sum over the last axis"),
        (_entropy_bits, "log(4) = 1.386"),
    ],
)
def test_entropy_rejects_known_mistakes(wrong, feedback):
    report = check_attention_entropy(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_entropy_reports_stub_as_unfinished():
    assert check_attention_entropy(stub).unfinished
