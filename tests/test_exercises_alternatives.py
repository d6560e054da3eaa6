"""The notebook 09 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from softmax_lab import softmax
from softmax_lab.alternatives import gumbel_max_sample, sparsemax
from softmax_lab.exercises.alternatives import check_gumbel_max, check_sparsemax
from tests.conftest import stub

# --- Exercise 9.1 ----------------------------------------------------------------------


def _sparsemax_by_bisection(x):
    """An independent correct answer: find the threshold tau with sum(max(x - tau, 0)) = 1."""
    x = np.asarray(x, dtype=float)
    low = x.max(axis=-1, keepdims=True) - 1.0  # sum >= 1 here
    high = x.max(axis=-1, keepdims=True)  # sum = 0 here
    for _ in range(200):
        middle = (low + high) / 2
        too_much = np.maximum(x - middle, 0).sum(axis=-1, keepdims=True) > 1
        low, high = np.where(too_much, middle, low), np.where(too_much, high, middle)
    p = np.maximum(x - (low + high) / 2, 0)
    return p / p.sum(axis=-1, keepdims=True)


def _ascending_sort(x):
    z = np.sort(x, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cumulative = np.cumsum(z, axis=-1)
    support = (1 + k * z > cumulative).sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def _mean_over_all(x):
    return np.maximum(x - (x.sum(axis=-1, keepdims=True) - 1) / x.shape[-1], 0)


def _no_clipping(x):
    tau = (x - sparsemax(x)).max(axis=-1, keepdims=True)
    return x - tau


def _first_row_only(x):
    return sparsemax(np.atleast_2d(x)[0])


def test_sparsemax_checker_accepts_references():
    assert check_sparsemax(sparsemax).passed
    assert check_sparsemax(_sparsemax_by_bisection).passed


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (softmax, "this is softmax"),
        (_ascending_sort, "sorted in decreasing order"),  # its support is all n entries
        (_mean_over_all, "averages the k largest scores"),
        (_no_clipping, "clip at 0"),
        (_first_row_only, "expected an array of shape (4, 6)"),
    ],
)
def test_sparsemax_checker_rejects_known_mistakes(wrong, feedback):
    report = check_sparsemax(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_sparsemax_checker_reports_stub_as_unfinished():
    report = check_sparsemax(stub)
    assert report.unfinished and not report.passed
    assert "not finished yet" in str(report)


# --- Exercise 9.2 ----------------------------------------------------------------------


def _library(logits, rng, n):
    return gumbel_max_sample(logits, rng, num_samples=n)


def _from_uniforms(logits, rng, n):
    u = rng.random(size=(n, len(logits)))
    return np.argmax(logits - np.log(-np.log(u)), axis=-1)


def _inverse_cdf(logits, rng, n):
    """Correct too, by another route: stable probabilities (torch) and inverse-CDF sampling."""
    p = torch.softmax(torch.as_tensor(logits), 0).numpy()
    return np.minimum(np.searchsorted(np.cumsum(p), rng.random(n)), len(p) - 1)


def _gaussian_noise(logits, rng, n):
    return np.argmax(logits + rng.normal(size=(n, len(logits))), axis=-1)


def _exponential_noise(logits, rng, n):  # -log(u) instead of -log(-log(u))
    return np.argmax(logits - np.log(rng.random(size=(n, len(logits)))), axis=-1)


def _no_noise(logits, rng, n):
    return np.full(n, np.argmax(logits))


def _naive_probabilities(logits, rng, n):
    p = np.exp(logits) / np.exp(logits).sum()
    return rng.choice(len(logits), size=n, p=p)


def _global_random_state(logits, rng, n):
    u = np.random.default_rng().random(size=(n, len(logits)))
    return np.argmax(logits - np.log(-np.log(u)), axis=-1)


def _floats(logits, rng, n):
    return _library(logits, rng, n).astype(float)


def test_gumbel_max_checker_accepts_references():
    for correct in (_library, _from_uniforms, _inverse_cdf):
        assert check_gumbel_max(correct).passed, correct.__name__


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_gaussian_noise, "chi-square"),
        (_exponential_noise, "chi-square"),
        (_no_noise, "chi-square"),
        (_naive_probabilities, "raised ValueError"),
        (_global_random_state, "draw all randomness from rng"),
        (_floats, "integer class indices"),
    ],
)
def test_gumbel_max_checker_rejects_known_mistakes(wrong, feedback):
    report = check_gumbel_max(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_gumbel_max_checker_reports_stub_as_unfinished():
    report = check_gumbel_max(stub)
    assert report.unfinished and not report.passed
