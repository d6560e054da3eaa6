"""The notebook 09 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from softmax_lab import softmax
from softmax_lab.alternatives import gumbel_max_sample, sparsemax
from softmax_lab.exercises.alternatives import (
    check_gumbel_max,
    check_sparsemax,
    check_sparsemax_loss,
)
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

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


def _sparsemax_wrong_axis(x):
    return np.swapaxes(sparsemax(np.swapaxes(np.asarray(x), 0, -1)), 0, -1)


def _k_from_zero(x):
    z = -np.sort(-x, axis=-1)
    k = np.arange(z.shape[-1])  # 0, 1, ..., n - 1
    cumulative = np.cumsum(z, axis=-1)
    support = np.maximum((1 + k * z > cumulative).sum(axis=-1, keepdims=True), 1)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def _cumsum_without_axis(x):
    x = np.asarray(x, dtype=float)
    z = -np.sort(-x, axis=-1)
    cumulative = np.cumsum(z)  # flattens a batch
    k = np.arange(1, x.shape[-1] + 1)
    support = np.sum(1 + k * z > cumulative.reshape(z.shape), axis=-1, keepdims=True)
    tau = (cumulative[support - 1] - 1) / support
    return np.maximum(x - tau, 0)


def _sparsemax_in_place(x):
    p = sparsemax(x)
    x -= x - p  # "reuse the input's memory"
    return x


def _sparsemax_list(x):
    return sparsemax(x).tolist()


def _sparsemax_loop(x):  # another correct style: one row at a time, a threshold per row
    x = np.asarray(x, dtype=float)
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        ordered = sorted(row, reverse=True)
        total, tau = 0.0, None
        for k, value in enumerate(ordered, start=1):
            total += value
            if 1 + k * value > total:
                tau = (total - 1) / k
        out[i] = np.maximum(row - tau, 0)
    return out.reshape(x.shape)


def _support_from_argmin(x):
    """The reviewer's answer: support size = index of the first k where the test fails."""
    x = np.asarray(x, dtype=float)
    z = -np.sort(-x, axis=-1)
    cumulative = np.cumsum(z, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support = np.maximum(np.argmin(1 + k * z > cumulative, axis=-1)[..., None], 1)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def _greater_or_equal(x):
    """The reviewer's correct answer: >= in the support test (equality adds a zero entry)."""
    x = np.asarray(x, dtype=float)
    z = -np.sort(-x, axis=-1)
    cumulative = np.cumsum(z, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support = np.sum(1 + k * z >= cumulative, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def test_sparsemax_checker_accepts_references():
    assert check_sparsemax(sparsemax).passed
    assert check_sparsemax(_sparsemax_by_bisection).passed
    assert check_sparsemax(_sparsemax_loop).passed
    assert check_sparsemax(_greater_or_equal).passed


SPARSEMAX_MISTAKES = [
    (softmax, "this is softmax"),
    (_ascending_sort, "sorted in decreasing order"),  # its support is all n entries
    (_mean_over_all, "averages the k largest scores"),
    (_no_clipping, "clip at 0"),
    (_first_row_only, "it works for one vector but not for a batch"),
    (_sparsemax_wrong_axis, "along the last axis (each row), not the first"),
    (_k_from_zero, "k counts from 1"),
    (_cumsum_without_axis, "np.cumsum without axis= flattens the batch"),
    (_sparsemax_in_place, "modified its input x in place"),
    (_sparsemax_list, "returned a list; return a NumPy array"),
    (_support_from_argmin, "every entry is in the support here"),
]


@pytest.mark.parametrize(("wrong", "feedback"), SPARSEMAX_MISTAKES)
def test_sparsemax_checker_rejects_known_mistakes(wrong, feedback):
    report = check_sparsemax(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


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
    """Right distribution by another route (stable probabilities, inverse CDF): not the trick."""
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


def _own_generator(logits, rng, n):  # ignores the caller's rng: same samples for every seed
    return _library(logits, np.random.default_rng(0), n)


def _reseeds_global(logits, rng, n):
    np.random.seed(0)  # noqa: NPY002 - the legacy global state, as learners use it
    return np.argmax(logits + np.random.gumbel(size=(n, len(logits))), axis=-1)  # noqa: NPY002


def _noise_sign_flipped(logits, rng, n):
    u = rng.random(size=(n, len(logits)))
    return np.argmax(logits + np.log(-np.log(u)), axis=-1)


def _argmin(logits, rng, n):
    return np.argmin(logits + rng.gumbel(size=(n, len(logits))), axis=-1)


def _uniform_noise(logits, rng, n):
    return np.argmax(logits + rng.random(size=(n, len(logits))), axis=-1)


def _noise_on_probabilities(logits, rng, n):
    return np.argmax(softmax(logits) + rng.gumbel(size=(n, len(logits))), axis=-1)


def _one_noise_for_all(logits, rng, n):
    return np.full(n, np.argmax(logits + rng.gumbel(size=len(logits))))


def _one_hot_rows(logits, rng, n):
    return np.eye(len(logits), dtype=int)[_library(logits, rng, n)]


def _argmax_wrong_axis(logits, rng, n):
    return np.argmax(logits + rng.gumbel(size=(n, len(logits))), axis=0)


def _gumbel_list(logits, rng, n):
    return _library(logits, rng, n).tolist()


def _gumbel_in_place(logits, rng, n):
    logits -= logits.max()
    return _library(logits, rng, n)


def _stable_choice(logits, rng, n):  # right distribution, but not the trick the task asks for
    return rng.choice(len(logits), size=n, p=softmax(logits))


def _torch_gumbel(logits, rng, n):  # another correct style: torch, with noise from rng
    noise = torch.from_numpy(rng.gumbel(size=(n, len(logits))))
    return (torch.as_tensor(logits) + noise).argmax(dim=1).numpy()


def test_gumbel_max_checker_accepts_references():
    for correct in (_library, _from_uniforms, _torch_gumbel):
        assert check_gumbel_max(correct).passed, correct.__name__


GUMBEL_MISTAKES = [
    (_gaussian_noise, "chi-square"),
    (_exponential_noise, "chi-square"),
    (_no_noise, "each sample needs its own Gumbel noise"),
    (_naive_probabilities, "the Gumbel-max trick needs no exp"),
    (_global_random_state, "draw all randomness from rng"),
    (_floats, "integer class indices"),
    (_own_generator, "it ignores the rng argument"),
    (_reseeds_global, "it ignores the rng argument"),
    (_noise_sign_flipped, "the noise has the wrong sign"),
    (_argmin, "not the argmin"),
    (_uniform_noise, "not uniform"),
    (_noise_on_probabilities, "not to the probabilities"),
    (_one_noise_for_all, "each sample needs its own Gumbel noise"),
    (_one_hot_rows, "not one-hot rows"),
    (_argmax_wrong_axis, "argmax over the classes (axis=1)"),
    (_gumbel_list, "returned a list; return a NumPy array"),
    (_gumbel_in_place, "modified its input logits in place"),
    (_inverse_cdf, "not argmax(logits + Gumbel noise)"),
    (_stable_choice, "not argmax(logits + Gumbel noise)"),
]


@pytest.mark.parametrize(("wrong", "feedback"), GUMBEL_MISTAKES)
def test_gumbel_max_checker_rejects_known_mistakes(wrong, feedback):
    report = check_gumbel_max(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_gumbel_max_checker_reports_stub_as_unfinished():
    report = check_gumbel_max(stub)
    assert report.unfinished and not report.passed


def test_none_is_reported_per_check():
    assert none_reported(check_sparsemax(forgets_return))
    assert none_reported(check_gumbel_max(forgets_return))


# --- Exercise 9.3 ----------------------------------------------------------------------


def _paper_formula(z, y):
    z = np.asarray(z, dtype=float)
    rows = np.arange(len(y))
    p = sparsemax(z)
    tau = (z - p)[rows, p.argmax(axis=1)]  # on the support, p = z - tau
    support = p > 0
    return (
        -z[rows, y] + 0.5 * np.sum(np.where(support, z**2 - tau[:, None] ** 2, 0.0), axis=1) + 0.5
    )


def _fenchel_young(z, y):
    """Another style: <z, p - onehot> - |p|^2 / 2 + 1/2, with p = sparsemax(z)."""
    p = sparsemax(z)
    onehot = np.eye(z.shape[1])[y]
    return np.sum(z * (p - onehot), axis=1) - 0.5 * np.sum(p**2, axis=1) + 0.5


def _distances(z, y):
    """A third: half the squared distance from z to the target minus that to sparsemax(z)."""
    p = sparsemax(z)
    onehot = np.eye(z.shape[1])[y]
    return 0.5 * np.sum((onehot - z) ** 2, axis=1) - 0.5 * np.sum((p - z) ** 2, axis=1)


@pytest.mark.parametrize("candidate", [_paper_formula, _fenchel_young, _distances])
def test_sparsemax_loss_accepts_correct_answers(candidate):
    report = check_sparsemax_loss(candidate)
    assert report.passed, report


def _cross_entropy_on_sparsemax(z, y):
    with np.errstate(divide="ignore"):
        return -np.log(sparsemax(z)[np.arange(len(y)), y])


def _softmax_cross_entropy(z, y):
    return -np.log(softmax(z, axis=1)[np.arange(len(y)), y])


def _no_half(z, y):
    return _paper_formula(z, y) - 0.5


def _whole_row(z, y):
    p = sparsemax(z)
    tau = (z - p)[np.arange(len(y)), p.argmax(axis=1)]
    return -z[np.arange(len(y)), y] + 0.5 * np.sum(z**2 - tau[:, None] ** 2, axis=1) + 0.5


def _no_tau_squared(z, y):
    p = sparsemax(z)
    return -z[np.arange(len(y)), y] + 0.5 * np.sum(np.where(p > 0, z**2, 0.0), axis=1) + 0.5


def _plus_z_y(z, y):
    return _paper_formula(z, y) + 2 * z[np.arange(len(y)), y]


def _mean(z, y):
    return _paper_formula(z, y).mean()


def _as_list(z, y):
    return _paper_formula(z, y).tolist()


def _in_place(z, y):
    z -= z.max(axis=1, keepdims=True)  # shift invariant, but changes the caller's z
    return _paper_formula(z, y)


@pytest.mark.parametrize(
    ("candidate", "feedback"),
    [
        (_cross_entropy_on_sparsemax, "that is cross-entropy on sparsemax"),
        (_softmax_cross_entropy, "that is softmax cross-entropy"),
        (_no_half, "the constant + 1/2 is missing"),
        (_whole_row, "sum over the support S only"),
        (_no_tau_squared, "the tau^2 term is missing"),
        (_plus_z_y, "the sign of z_y is flipped"),
        (_mean, "return one loss per row"),
        (_as_list, "returned a list; return a NumPy array"),
        (_in_place, "modified its input z in place"),
    ],
)
def test_sparsemax_loss_names_the_typical_mistakes(candidate, feedback):
    report = check_sparsemax_loss(candidate)
    assert not report.passed and says(report, feedback), report


def test_sparsemax_loss_stub_and_missing_return():
    assert unfinished(check_sparsemax_loss(stub))
    assert none_reported(check_sparsemax_loss(forgets_return))
