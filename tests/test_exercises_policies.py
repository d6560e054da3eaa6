"""Notebook 08's checkers accept correct answers in several styles, reject the typical
mistakes with feedback that names them, and spot stubs and missing returns."""

import math

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab import boltzmann_probabilities, grad_log_probability, softmax
from softmax_lab.exercises.policies import check_boltzmann_probabilities, check_grad_log_probability
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 8.1 ----------------------------------------------------------------------


def _by_hand(values, temperature):
    z = np.asarray(values, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_space(values, temperature):  # another style: normalise in log space, row by row
    z = np.atleast_2d(np.asarray(values, dtype=float) / temperature)
    out = np.empty_like(z)
    for i, row in enumerate(z):
        log_total = row.max() + np.log(np.sum(np.exp(row - row.max())))
        out[i] = np.exp(row - log_total)
    return out.reshape(np.shape(values))


def _minus_logsumexp(values, temperature):  # a reviewer's answer: exp(z - logsumexp(z))
    z = np.asarray(values, dtype=float) / temperature
    return np.exp(z - scipy.special.logsumexp(z, axis=-1, keepdims=True))


def _python_loop(values, temperature):  # a reviewer's answer: math.exp, row by row
    rows = np.asarray(values, dtype=float).reshape(-1, np.shape(values)[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        top = max(row)
        e = [math.exp((x - top) / temperature) for x in row]
        out[i] = [x / sum(e) for x in e]
    return out.reshape(np.shape(values))


def _no_max_shift(values, temperature):
    e = np.exp(values / temperature)
    return e / e.sum(axis=-1, keepdims=True)


def _ignores_temperature(values, temperature):
    return softmax(values)


def _multiplies_by_temperature(values, temperature):
    return softmax(values * temperature)


def _sums_over_everything(values, temperature):
    z = values / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def _one_max_for_the_batch(values, temperature):
    z = values / temperature
    e = np.exp(z - z.max())  # one max, but each row normalised
    return e / e.sum(axis=-1, keepdims=True)


def _shift_by_mean(values, temperature):
    z = values / temperature
    e = np.exp(z - z.mean(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _argmax_when_cold(values, temperature):  # "greedy below T = 0.1": ties broken
    if temperature < 0.1:
        return np.eye(np.shape(values)[-1])[np.argmax(values, axis=-1)]
    return _by_hand(values, temperature)


def _shift_by_first_value(values, temperature):  # right when the largest value is first
    z = np.asarray(values, dtype=float) / temperature
    e = np.exp(z - z[..., :1])
    return e / e.sum(axis=-1, keepdims=True)


def _hard_argmax_below_001(values, temperature):  # "greedy when T < 0.01": ties broken too
    z = np.asarray(values, dtype=float)
    if temperature < 0.01:
        out = np.zeros_like(z)
        np.put_along_axis(out, z.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out
    return _by_hand(values, temperature)


def _sign_flipped(values, temperature):
    return _by_hand(-np.asarray(values), temperature)


def _in_place(values, temperature):
    values /= temperature
    values -= values.max(axis=-1, keepdims=True)
    e = np.exp(values)
    return e / e.sum(axis=-1, keepdims=True)


def _returns_list(values, temperature):
    return _by_hand(values, temperature).tolist()


def _with_torch(values, temperature):
    return torch.softmax(torch.as_tensor(values) / temperature, dim=-1).numpy()


def test_boltzmann_checker_accepts_correct_answers_in_different_styles():
    for correct in (boltzmann_probabilities, _by_hand, _log_space, _minus_logsumexp, _python_loop):
        assert check_boltzmann_probabilities(correct).passed, correct.__name__


BOLTZMANN_MISTAKES = [
    (_no_max_shift, "exp overflowed"),
    (_ignores_temperature, "the temperature is ignored"),
    (_multiplies_by_temperature, "multiplied by T: divide by it"),
    (_sums_over_everything, "one softmax over the whole batch"),
    (_one_max_for_the_batch, "one max for the whole batch"),
    (_shift_by_mean, "a shift by the mean is not enough"),
    (_argmax_when_cold, "tied values must share the probability"),
    (_shift_by_first_value, "you shifted by the first value, not the max"),
    (_hard_argmax_below_001, "a one-hot at the argmax is not the softmax"),
    (_sign_flipped, "the sign is flipped"),
    (_in_place, "modified its input values in place"),
    (_returns_list, "returned a list; return a NumPy array"),
    (_with_torch, "this exercise asks for NumPy only"),
]


@pytest.mark.parametrize(("wrong", "feedback"), BOLTZMANN_MISTAKES)
def test_boltzmann_checker_rejects_typical_mistakes_by_name(wrong, feedback):
    report = check_boltzmann_probabilities(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_hard_argmax_at_tiny_temperatures_fails_on_close_values_and_on_ties():
    failed = check_boltzmann_probabilities(_hard_argmax_below_001).failures
    assert len(failed) == 2, failed
    assert failed[0].startswith("close values [0.001, 0] at T = 0.001")
    assert failed[1].startswith("tied values [1, 1, 0] at T = 0.001")
    assert "tied values must share the probability" in failed[1]


def test_shift_by_the_first_value_fails_only_where_the_largest_is_not_first():
    failed = check_boltzmann_probabilities(_shift_by_first_value).failures
    assert [line.split(" (")[0] for line in failed] == [
        "values [0, 2000]",
        "values [-5, 1000, 3]",
    ], failed


def test_boltzmann_checker_reports_a_stub_and_a_missing_return():
    assert unfinished(check_boltzmann_probabilities(stub))
    assert none_reported(check_boltzmann_probabilities(forgets_return))


# --- Exercise 8.2 ----------------------------------------------------------------------


def _grad_by_hand(preferences, action):
    preferences = np.asarray(preferences, dtype=float)
    e = np.exp(preferences - preferences.max())
    one_hot = np.zeros_like(e)
    one_hot[action] = 1.0
    return one_hot - e / e.sum()


def _grad_from_log_softmax(preferences, action):  # another style: through log-softmax
    h = np.asarray(preferences, dtype=float)
    log_pi = h - (h.max() + np.log(np.exp(h - h.max()).sum()))
    return (np.arange(len(h)) == action) - np.exp(log_pi)


def _grad_python_list(preferences, action):  # a reviewer's answer: plain Python, a list
    top = max(preferences)
    e = [math.exp(x - top) for x in preferences]
    return [(1.0 if i == action else 0.0) - x / sum(e) for i, x in enumerate(e)]


def _grad_float32(preferences, action):  # a float32 answer: right to float32's precision
    h = np.asarray(preferences, dtype=np.float32)
    e = np.exp(h - h.max())
    g = -e / e.sum()
    g[action] += 1
    return g


def _wrong_sign(preferences, action):
    return -grad_log_probability(preferences, action)


def _overflows(preferences, action):
    e = np.exp(preferences)
    return np.eye(len(preferences))[action] - e / e.sum()


def _shift_by_mean_grad(preferences, action):
    e = np.exp(preferences - preferences.mean())
    return np.eye(len(preferences))[action] - e / e.sum()


def _forgets_pi(preferences, action):
    return np.eye(len(preferences))[action]


def _returns_pi(preferences, action):
    return softmax(preferences)


def _gradient_of_pi(preferences, action):
    pi = softmax(preferences)
    return pi[action] * (np.eye(len(preferences))[action] - pi)


def _best_action_one_hot(preferences, action):
    return np.eye(len(preferences))[np.argmax(preferences)] - softmax(preferences)


def _in_place_grad(preferences, action):
    preferences -= preferences.max()
    e = np.exp(preferences)
    return np.eye(len(preferences))[action] - e / e.sum()


def _grad_list(preferences, action):
    return _grad_by_hand(preferences, action).tolist()


def _shift_by_first_preference(preferences, action):
    e = np.exp(preferences - preferences[0])
    return np.eye(len(preferences))[action] - e / e.sum()


def _epsilon_in_pi(preferences, action):  # "pi + 1e-8 to keep the log finite"
    return _grad_by_hand(preferences, action) - 1e-8


def _grad_as_tensor(preferences, action):
    h = torch.tensor(preferences, requires_grad=True)
    torch.log_softmax(h, dim=0)[action].backward()
    return h.grad


def test_gradient_checker_accepts_correct_answers_in_different_styles():
    for correct in (
        grad_log_probability,
        _grad_by_hand,
        _grad_from_log_softmax,
        _grad_list,
        _grad_python_list,
        _grad_float32,
    ):
        assert check_grad_log_probability(correct).passed, correct.__name__


GRADIENT_MISTAKES = [
    (_wrong_sign, "the sign is flipped"),
    (_overflows, "exp overflowed"),
    (_shift_by_mean_grad, "the mean is not enough"),
    (_forgets_pi, "only the one-hot vector"),
    (_returns_pi, "that is pi itself"),
    (_gradient_of_pi, "that is the gradient of pi(a)"),
    (_best_action_one_hot, "marks the action taken, not the best action"),
    (_in_place_grad, "modified its input preferences in place"),
    (_shift_by_first_preference, "you shifted by the first preference, not the max"),
    (_epsilon_in_pi, "the gradient sums to -4e-08, more than rounding"),
    (_grad_as_tensor, "return a NumPy array (or a list)"),
]


@pytest.mark.parametrize(("wrong", "feedback"), GRADIENT_MISTAKES)
def test_gradient_checker_rejects_typical_mistakes_by_name(wrong, feedback):
    report = check_grad_log_probability(wrong)
    assert not report.passed
    assert says(report, feedback), str(report)


def test_overflow_is_caught_only_by_the_large_cases():
    failed = check_grad_log_probability(_overflows).failures
    assert [line.split(" matches")[0] for line in failed] == [
        "large preferences [800, 0, -5, 799], action 3",
        "preferences [2000, 0], action 1",
        "preferences [0, 2000], action 0 (the largest last)",
        "preferences [-5, 1000, 3], action 2 (the largest in the middle)",
    ], failed


def test_gradient_checker_reports_a_stub_as_unfinished_and_none_per_check():
    assert unfinished(check_grad_log_probability(stub))
    assert none_reported(check_grad_log_probability(forgets_return))
