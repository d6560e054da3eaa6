"""The notebook 11 checkers accept correct answers and reject the usual mistakes by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from softmax_lab.exercises.estimators import check_reinforce, check_straight_through
from tests.conftest import fails, forgets_return, none_reported, says, stub, unfinished

# --- Exercise 11.1: REINFORCE with a baseline --------------------------------------------


def _probabilities(logits):
    z = np.exp(logits - np.max(logits))
    return z / z.sum()


def _vectorised(logits, values, rng, n, baseline):
    p = _probabilities(logits)
    k = rng.choice(len(logits), size=n, p=p)
    return (values[k] - baseline)[:, None] * (np.eye(len(logits))[k] - p)


def _loop_with_autograd(logits, values, rng, n, baseline):
    """Another style: Gumbel-max samples, the score from torch autograd, one row at a time."""
    rows = []
    theta = torch.tensor(logits, requires_grad=True)
    log_p = torch.log_softmax(theta, dim=0)
    for _ in range(n):
        k = int(np.argmax(logits + rng.gumbel(size=len(logits))))
        (score,) = torch.autograd.grad(log_p[k], theta, retain_graph=True)
        rows.append((values[k] - baseline) * score.numpy())
    return np.array(rows)


def _inverse_cdf(logits, values, rng, n, baseline):  # a reviewer's answer: searchsorted
    p = _probabilities(logits)
    k = np.minimum(np.searchsorted(np.cumsum(p), rng.random(n), side="right"), len(p) - 1)
    return (values[k] - baseline)[:, None] * (np.eye(len(p))[k] - p)


def _no_score(logits, values, rng, n, baseline):  # forgets the log-prob gradient: no - p
    k = rng.choice(len(logits), size=n, p=_probabilities(logits))
    return (values[k] - baseline)[:, None] * np.eye(len(logits))[k]


def _gradient_of_p(logits, values, rng, n, baseline):  # grad p_k instead of grad log p_k
    p = _probabilities(logits)
    k = rng.choice(len(logits), size=n, p=p)
    return ((values[k] - baseline) * p[k])[:, None] * (np.eye(len(logits))[k] - p)


def _wrong_sign(logits, values, rng, n, baseline):
    return -_vectorised(logits, values, rng, n, baseline)


def _ignores_baseline(logits, values, rng, n, baseline):
    return _vectorised(logits, values, rng, n, 0.0)


def _adds_baseline(logits, values, rng, n, baseline):
    return _vectorised(logits, values, rng, n, -baseline)


def _batch_mean_baseline(logits, values, rng, n, baseline):  # depends on the samples
    p = _probabilities(logits)
    k = rng.choice(len(logits), size=n, p=p)
    return (values[k] - values[k].mean())[:, None] * (np.eye(len(logits))[k] - p)


_OWN_GENERATOR = np.random.default_rng(2026)  # seeded, so the test is not flaky: unseeded,
# two draws of 6 samples coincide by chance about 2% of the time


def _own_rng(logits, values, rng, n, baseline):  # ignores the caller's generator
    return _vectorised(logits, values, _OWN_GENERATOR, n, baseline)


def _fixed_seed(logits, values, rng, n, baseline):
    return _vectorised(logits, values, np.random.default_rng(0), n, baseline)


def _uniform_classes(logits, values, rng, n, baseline):
    p = _probabilities(logits)
    k = rng.integers(0, len(logits), size=n)
    return (values[k] - baseline)[:, None] * (np.eye(len(logits))[k] - p)


def _as_list(logits, values, rng, n, baseline):
    return _vectorised(logits, values, rng, n, baseline).tolist()


@pytest.mark.parametrize("correct", [_vectorised, _loop_with_autograd, _inverse_cdf])
def test_reinforce_checker_accepts_correct_answers(correct):
    report = check_reinforce(correct)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("wrong", "check", "feedback"),
    [
        (_no_score, "each row is", "onehot(k) - p; subtract p"),
        (_gradient_of_p, "each row is", "the gradient of p_k"),
        (_wrong_sign, "each row is", "wrong sign"),
        (_ignores_baseline, "each row is", "the baseline is ignored"),
        (_adds_baseline, "each row is", "the baseline is added"),
        (
            _batch_mean_baseline,
            "each row is",
            "the batch's mean loss, which depends on the samples",
        ),
        (_own_rng, "the same seed gives the same estimates", "not from np.random"),
        (_fixed_seed, "another seed gives other estimates", "ignore the caller's rng"),
        (_uniform_classes, "the sampled classes follow softmax(logits)", "chi-square"),
        (_as_list, "returns a (6, 3) array", "returned a list; return a NumPy array"),
    ],
)
def test_reinforce_checker_names_each_mistake(wrong, check, feedback):
    report = check_reinforce(wrong)
    assert not report.passed
    assert fails(report, check), str(report)
    assert says(report, feedback), str(report)


def test_reinforce_checker_unbiasedness_check_catches_a_biased_mean():
    report = check_reinforce(_no_score)
    assert fails(report, "the mean of 20000 estimates is the exact gradient")


def test_reinforce_checker_stub_and_missing_return():
    assert unfinished(check_reinforce(stub))
    assert none_reported(check_reinforce(forgets_return))


# --- Exercise 11.2: straight-through Gumbel-softmax --------------------------------------


def _straight_through(logits, noise, temperature):
    y_soft = torch.softmax((logits + noise) / temperature, dim=-1)
    y_hard = F.one_hot(y_soft.argmax(dim=-1), y_soft.shape[-1]).to(y_soft.dtype)
    return y_hard - y_soft.detach() + y_soft


def _straight_through_scatter(logits, noise, temperature):
    """Another style: log_softmax, scatter for the one-hot, the correction detached as a whole."""
    y_soft = torch.log_softmax((logits + noise) / temperature, dim=-1).exp()
    index = torch.argmax(logits.detach() + noise, dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter(-1, index, 1.0)
    return (y_hard - y_soft).detach() + y_soft


class _StraightThrough(torch.autograd.Function):
    """A reviewer's answer: the one-hot forward, the soft sample's Jacobian backward."""

    @staticmethod
    def forward(ctx, z, temperature):
        y = torch.softmax(z / temperature, dim=-1)
        ctx.save_for_backward(y)
        ctx.temperature = temperature
        return F.one_hot(y.argmax(dim=-1), y.shape[-1]).to(y.dtype)

    @staticmethod
    def backward(ctx, upstream):
        (y,) = ctx.saved_tensors
        inner = (upstream * y).sum(dim=-1, keepdim=True)
        return y * (upstream - inner) / ctx.temperature, None


def _straight_through_function(logits, noise, temperature):
    return _StraightThrough.apply(logits + noise, temperature)


def _log_softmax_surrogate(logits, noise, temperature):  # one-hot value, log_softmax gradient
    log_soft = torch.log_softmax((logits + noise) / temperature, dim=-1)
    y_hard = F.one_hot(log_soft.argmax(dim=-1), 3).to(log_soft.dtype)
    return y_hard - log_soft.detach() + log_soft


def _no_stop_gradient(logits, noise, temperature):
    y_soft = torch.softmax((logits + noise) / temperature, dim=-1)
    y_hard = F.one_hot(y_soft.argmax(dim=-1), 3).to(y_soft.dtype)
    return y_hard - y_soft + y_soft


def _temperature_multiplied(logits, noise, temperature):
    return _straight_through(logits, noise, 1 / temperature)


def _temperature_ignored(logits, noise, temperature):
    return _straight_through(logits, noise, 1.0)


def _soft_sample(logits, noise, temperature):
    return torch.softmax((logits + noise) / temperature, dim=-1)


def _hard_only(logits, noise, temperature):
    return F.one_hot(torch.argmax(logits + noise), 3).to(logits.dtype)


def _detach_the_wrong_term(logits, noise, temperature):
    y_soft = torch.softmax((logits + noise) / temperature, dim=-1)
    y_hard = F.one_hot(y_soft.argmax(dim=-1), 3).to(y_soft.dtype)
    return y_hard + y_soft.detach() - y_soft


def _ignores_noise(logits, noise, temperature):
    return _straight_through(logits, torch.zeros_like(noise), temperature)


def _numpy_result(logits, noise, temperature):
    return _straight_through(logits, noise, temperature).detach().numpy()


@pytest.mark.parametrize(
    "correct", [_straight_through, _straight_through_scatter, _straight_through_function]
)
def test_straight_through_checker_accepts_correct_answers(correct):
    report = check_straight_through(correct)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("wrong", "check", "feedback"),
    [
        (_no_stop_gradient, "the gradient of", "y_hard - y_soft.detach() + y_soft"),
        (_temperature_multiplied, "the gradient of", "the temperature is multiplied"),
        (_temperature_ignored, "the gradient of", "the temperature is ignored"),
        (_detach_the_wrong_term, "the gradient of", "wrong sign"),
        (_soft_sample, "its value is the one-hot", "this is the soft sample"),
        (_hard_only, "gradients flow back to logits", "a one-hot from argmax has no gradient"),
        (_ignores_noise, "its value is the one-hot", "add the noise before the argmax"),
        (_numpy_result, "returns a tensor of shape (3,)", "return a torch tensor"),
        (_log_softmax_surrogate, "the gradient of", "that is the gradient of log_softmax"),
    ],
)
def test_straight_through_checker_names_each_mistake(wrong, check, feedback):
    report = check_straight_through(wrong)
    assert not report.passed
    assert fails(report, check), str(report)
    assert says(report, feedback), str(report)


def test_straight_through_value_feedback_shows_enough_digits():
    def nearly_one_hot(logits, noise, temperature):  # one-hot plus 1e-6 everywhere
        return _straight_through(logits, noise, temperature) + 1e-6

    report = check_straight_through(nearly_one_hot)
    assert fails(report, "its value is the one-hot"), str(report)
    assert says(report, "expected [1., 0., 0.], got [1.000001e+00, 1.000000e-06, 1.000000e-06]")
    assert says(report, "off by 1e-06"), str(report)


def test_straight_through_log_softmax_surrogate_passes_the_value_check_only():
    # its value is one-hot up to rounding (1 - l + l); only its gradient is wrong
    report = check_straight_through(_log_softmax_surrogate)
    assert not fails(report, "its value is the one-hot"), str(report)
    assert len(report.failures) == 2, str(report)


def test_straight_through_checker_stub_and_missing_return():
    assert unfinished(check_straight_through(stub))
    report = check_straight_through(forgets_return)
    assert not report.passed and says(report, "returned None - missing `return`?")
