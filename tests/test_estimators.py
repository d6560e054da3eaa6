"""softmax_lab.estimators against torch autograd, torch's own Gumbel-softmax and statistics.

The exact gradient is checked against autograd of the expected loss; REINFORCE row by row
against autograd's gradient of ``log_softmax``, and in the mean against the exact gradient
(within 4 standard errors); Gumbel-softmax and straight-through row by row against autograd
through the same noise, and in the mean against ``F.gumbel_softmax(hard=True)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from softmax_lab.estimators import (
    exact_choice_gradient,
    gumbel_softmax_gradients,
    reinforce_gradients,
)

THETA = np.array([2.0, 1.0, 0.1])
TARGET = np.array([0.1, 0.7, 0.2])
VALUES = np.array([1.34, 0.14, 1.14])  # |e_k - TARGET|^2, worked out by hand


def _loss_grad(y):
    return 2 * (y - TARGET)


def _autograd_exact(theta, values):
    z = torch.tensor(theta, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.softmax(z, 0) @ torch.tensor(values), z)
    return grad.numpy()


def test_values_are_the_losses_of_the_one_hot_vectors():
    assert np.allclose(((np.eye(3) - TARGET) ** 2).sum(axis=1), VALUES)


@pytest.mark.parametrize(
    ("theta", "values"),
    [(THETA, VALUES), ([0.0, 0.0], [1.0, 0.0]), ([5.0, -3.0, 0.5, 1.0], [0.3, -2.0, 4.0, 1.0])],
)
def test_exact_gradient_matches_autograd(theta, values):
    expected = _autograd_exact(np.array(theta), np.array(values))
    assert np.allclose(exact_choice_gradient(theta, values), expected, rtol=1e-12, atol=1e-15)


def test_exact_gradient_of_a_constant_loss_is_zero():
    assert np.allclose(exact_choice_gradient(THETA, [2.5, 2.5, 2.5]), 0.0, atol=1e-15)


def test_reinforce_rows_are_loss_times_the_autograd_score():
    z = torch.tensor(THETA, requires_grad=True)
    log_p = torch.log_softmax(z, 0)
    scores = [torch.autograd.grad(log_p[k], z, retain_graph=True)[0].numpy() for k in range(3)]
    rows = reinforce_gradients(THETA, VALUES, np.random.default_rng(0), 200, baseline=0.7)
    for row in rows:
        assert any(np.allclose(row, (VALUES[k] - 0.7) * scores[k]) for k in range(3))
    assert np.allclose(rows.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("baseline", [0.0, 1.0, -3.0])
def test_reinforce_is_unbiased_for_any_fixed_baseline(baseline):
    n = 100_000
    rows = reinforce_gradients(THETA, VALUES, np.random.default_rng(1), n, baseline=baseline)
    error = rows.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(rows.mean(axis=0) - _autograd_exact(THETA, VALUES)) < 4 * error)


def test_reinforce_baseline_near_the_mean_loss_lowers_the_variance():
    plain = reinforce_gradients(THETA, VALUES, np.random.default_rng(2), 50_000)
    centred = reinforce_gradients(THETA, VALUES, np.random.default_rng(2), 50_000, baseline=1.0)
    assert centred.var(axis=0).sum() < plain.var(axis=0).sum() / 2


def test_reinforce_samples_follow_the_softmax():
    rows = reinforce_gradients(THETA, [1.0, 2.0, 3.0], np.random.default_rng(3), 50_000)
    p = torch.softmax(torch.tensor(THETA), 0).numpy()
    classes = np.argmax(rows, axis=1)  # the sampled class is the one entry > 0 (loss > 0)
    frequencies = np.bincount(classes, minlength=3) / len(rows)
    assert np.all(np.abs(frequencies - p) < 4 * np.sqrt(p * (1 - p) / len(rows)))


def test_reinforce_is_reproducible_from_the_generator():
    a = reinforce_gradients(THETA, VALUES, np.random.default_rng(5), 50)
    b = reinforce_gradients(THETA, VALUES, np.random.default_rng(5), 50)
    c = reinforce_gradients(THETA, VALUES, np.random.default_rng(6), 50)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _autograd_relaxed(noise, temperature, straight_through):
    """Per-sample gradients of |y - t|^2 through y = softmax((theta + g) / T), by autograd."""
    z = torch.tensor(THETA).repeat(len(noise), 1).requires_grad_()
    y_soft = torch.softmax((z + torch.tensor(noise)) / temperature, dim=1)
    y = y_soft
    if straight_through:
        y = F.one_hot(y_soft.argmax(dim=1), 3).double() - y_soft.detach() + y_soft
    ((y - torch.tensor(TARGET)) ** 2).sum().backward()
    return z.grad.numpy()


@pytest.mark.parametrize("straight_through", [False, True])
@pytest.mark.parametrize("temperature", [2.0, 0.5, 0.1])
def test_relaxed_rows_match_autograd_through_the_same_noise(temperature, straight_through):
    # gumbel_softmax draws its noise as rng.gumbel(size=(num_samples, n)): the same seed
    # gives the same noise here
    noise = np.random.default_rng(7).gumbel(size=(300, 3))
    expected = _autograd_relaxed(noise, temperature, straight_through)
    got = gumbel_softmax_gradients(
        THETA,
        _loss_grad,
        temperature,
        np.random.default_rng(7),
        300,
        straight_through=straight_through,
    )
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_straight_through_agrees_with_torch_gumbel_softmax_in_the_mean():
    n = 40_000
    torch.manual_seed(0)
    z = torch.tensor(THETA).repeat(n, 1).requires_grad_()
    y = F.gumbel_softmax(z, tau=0.5, hard=True)
    ((y - torch.tensor(TARGET)) ** 2).sum().backward()
    theirs = z.grad.numpy()
    ours = gumbel_softmax_gradients(
        THETA, _loss_grad, 0.5, np.random.default_rng(8), n, straight_through=True
    )
    error = np.sqrt(theirs.var(axis=0) / n + ours.var(axis=0) / n)
    assert np.all(np.abs(theirs.mean(axis=0) - ours.mean(axis=0)) < 4 * error)


def test_relaxed_estimators_are_biased():
    n = 40_000
    exact = _autograd_exact(THETA, VALUES)
    for straight_through in (False, True):
        rows = gumbel_softmax_gradients(
            THETA, _loss_grad, 0.5, np.random.default_rng(9), n, straight_through=straight_through
        )
        error = rows.std(axis=0, ddof=1) / np.sqrt(n)
        assert np.max(np.abs(rows.mean(axis=0) - exact) / error) > 10


def test_linear_loss_as_an_array_and_both_variants_coincide():
    c = np.array([1.0, -2.0, 3.0])
    soft = gumbel_softmax_gradients(THETA, c, 0.7, np.random.default_rng(4), 100)
    hard = gumbel_softmax_gradients(
        THETA, c, 0.7, np.random.default_rng(4), 100, straight_through=True
    )
    by_callable = gumbel_softmax_gradients(
        THETA, lambda y: np.broadcast_to(c, y.shape), 0.7, np.random.default_rng(4), 100
    )
    assert np.array_equal(soft, hard) and np.array_equal(soft, by_callable)


def test_straight_through_loss_grad_sees_one_hot_samples():
    seen = []

    def record(y):
        seen.append(y.copy())
        return _loss_grad(y)

    gumbel_softmax_gradients(
        THETA, record, 0.5, np.random.default_rng(0), 50, straight_through=True
    )
    assert np.all(np.isin(seen[0], [0.0, 1.0])) and np.all(seen[0].sum(axis=1) == 1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: exact_choice_gradient([[1.0, 2.0]], [1.0, 2.0]),
            ValueError,
            "logits must be a 1-D",
        ),
        (lambda: exact_choice_gradient([1.0], [1.0]), ValueError, "at least 2 classes"),
        (
            lambda: exact_choice_gradient([1.0, np.nan], [1.0, 2.0]),
            ValueError,
            "logits must contain",
        ),
        (lambda: exact_choice_gradient(["a", "b"], [1.0, 2.0]), TypeError, "logits must be real"),
        (
            lambda: exact_choice_gradient([1.0, 2.0], [1.0, 2.0, 3.0]),
            ValueError,
            "values must hold",
        ),
        (
            lambda: exact_choice_gradient([1.0, 2.0], [1.0, np.inf]),
            ValueError,
            "values must contain",
        ),
        (lambda: reinforce_gradients(THETA, VALUES, 0, 5), TypeError, "rng must be"),
        (
            lambda: reinforce_gradients(THETA, VALUES, np.random.default_rng(), 0),
            ValueError,
            "num_samples",
        ),
        (
            lambda: reinforce_gradients(THETA, VALUES, np.random.default_rng(), 2.0),
            TypeError,
            "num_samples",
        ),
        (
            lambda: reinforce_gradients(THETA, VALUES, np.random.default_rng(), 5, baseline="1"),
            TypeError,
            "baseline must be a finite real number",
        ),
        (
            lambda: reinforce_gradients(THETA, VALUES, np.random.default_rng(), 5, baseline=np.nan),
            ValueError,
            "baseline must be a finite real number",
        ),
        (
            lambda: gumbel_softmax_gradients(THETA, _loss_grad, 0.0, np.random.default_rng(), 5),
            ValueError,
            "temperature",
        ),
        (
            lambda: gumbel_softmax_gradients(THETA, _loss_grad, 1.0, None, 5),
            TypeError,
            "rng must be",
        ),
        (
            lambda: gumbel_softmax_gradients(THETA, [1.0, 2.0], 1.0, np.random.default_rng(), 5),
            ValueError,
            "loss_grad must be a callable or an array of shape (3,)",
        ),
        (
            lambda: gumbel_softmax_gradients(
                THETA, lambda y: y[:, :2], 1.0, np.random.default_rng(), 5
            ),
            ValueError,
            "loss_grad must give gradients of shape (5, 3)",
        ),
        (
            lambda: gumbel_softmax_gradients(
                THETA, lambda y: y * np.nan, 1.0, np.random.default_rng(), 5
            ),
            ValueError,
            "loss_grad gave NaN",
        ),
        (
            lambda: gumbel_softmax_gradients(
                THETA, _loss_grad, 1.0, np.random.default_rng(), 5, straight_through=1
            ),
            TypeError,
            "straight_through must be True or False",
        ),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
