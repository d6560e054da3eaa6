"""Softmax policies: probabilities, sampling, log-probabilities and their gradients vs torch."""

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmax_lab import (
    boltzmann_probabilities,
    discounted_returns,
    epsilon_greedy_probabilities,
    grad_log_probability,
    greedy_probabilities,
    log_probability,
    policy_entropy,
    reinforce_update,
    sample_actions,
)

preference_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(2, 8)),
    elements=st.floats(-300, 300, allow_nan=False, allow_infinity=False),
)
temperatures = st.floats(0.05, 20.0)


@settings(max_examples=100, deadline=None)
@given(preference_rows, temperatures)
def test_boltzmann_matches_scipy_softmax_of_scaled_values(values, temperature):
    expected = scipy.special.softmax(values / temperature, axis=-1)
    np.testing.assert_allclose(
        boltzmann_probabilities(values, temperature), expected, rtol=1e-9, atol=1e-300
    )


def test_temperature_extremes_give_greedy_and_uniform():
    values = np.array([0.5, 2.0, 1.0])
    np.testing.assert_allclose(boltzmann_probabilities(values, 1e-3), [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(boltzmann_probabilities(values, 1e6), np.full(3, 1 / 3), atol=1e-6)


@pytest.mark.parametrize("temperature", [0.0, -1.0, np.inf, np.nan])
def test_bad_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature"):
        boltzmann_probabilities([1.0, 2.0], temperature)


def test_greedy_shares_ties_and_epsilon_greedy_spreads_epsilon():
    np.testing.assert_array_equal(greedy_probabilities([1.0, 3.0, 3.0, 0.0]), [0.0, 0.5, 0.5, 0.0])
    # hand-derived: 0.8 on the best, 0.2 / 4 = 0.05 on each of the four arms
    np.testing.assert_allclose(
        epsilon_greedy_probabilities([1.0, 3.0, 2.0, 0.0], 0.2), [0.05, 0.85, 0.05, 0.05]
    )
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy_probabilities([1.0, 2.0], 1.5)


def test_sampling_is_deterministic_under_a_seed_and_matches_the_probabilities():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    batch = np.tile(p, (40_000, 1))
    first = sample_actions(batch, np.random.default_rng(3))
    np.testing.assert_array_equal(first, sample_actions(batch, np.random.default_rng(3)))
    assert not np.array_equal(first, sample_actions(batch, np.random.default_rng(4)))
    counts = np.bincount(first, minlength=4)
    assert counts[1] == 0  # a zero-probability action is never drawn
    # chi-square goodness of fit over the actions with positive probability
    keep = p > 0
    result = scipy.stats.chisquare(counts[keep], len(first) * p[keep])
    assert result.pvalue > 1e-3


def test_sampling_needs_a_generator():
    with pytest.raises(TypeError, match="rng"):
        sample_actions([0.5, 0.5], 0)


@settings(max_examples=60, deadline=None)
@given(preference_rows, st.data(), temperatures)
def test_log_probability_and_its_gradient_match_torch_autograd(preferences, data, temperature):
    rows, n = preferences.shape
    actions = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=rows, max_size=rows)))
    h = torch.tensor(preferences, requires_grad=True)
    log_pi = torch.log_softmax(h / temperature, dim=-1)[
        torch.arange(rows), torch.from_numpy(actions)
    ]
    log_pi.sum().backward()
    np.testing.assert_allclose(
        log_probability(preferences, actions, temperature),
        log_pi.detach().numpy(),
        rtol=1e-9,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        grad_log_probability(preferences, actions, temperature),
        h.grad.numpy(),
        rtol=1e-9,
        atol=1e-12,
    )


def test_gradient_is_one_hot_minus_pi_by_hand():
    # softmax([0, ln 3]) = [0.25, 0.75], so the gradient for action 0 is [0.75, -0.75]
    np.testing.assert_allclose(grad_log_probability([0.0, np.log(3.0)], 0), [0.75, -0.75])


@pytest.mark.parametrize("action", [3, -1, [0, 5]])
def test_invalid_actions_raise_value_error_naming_action(action):
    with pytest.raises(ValueError, match="action"):
        grad_log_probability([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]], action)


def test_non_integer_action_is_a_type_error():
    with pytest.raises(TypeError, match="action"):
        log_probability([0.0, 1.0], 0.5)


def test_entropy_matches_scipy_and_handles_zeros():
    p = np.array([[0.2, 0.5, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_allclose(policy_entropy(p), scipy.stats.entropy(p, axis=-1))
    assert policy_entropy([1.0, 0.0, 0.0]) == 0.0


def test_discounted_returns_by_hand():
    # G_2 = 3, G_1 = 2 + 0.5 * 3 = 3.5, G_0 = 1 + 0.5 * 3.5 = 2.75
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], gamma=0.5), [2.75, 3.5, 3.0])
    np.testing.assert_allclose(discounted_returns([-1.0, -1.0, -1.0]), [-3.0, -2.0, -1.0])
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns([1.0], gamma=1.5)


@pytest.mark.parametrize(("entropy_bonus", "temperature"), [(0.0, 1.0), (0.3, 1.0), (0.3, 0.5)])
def test_reinforce_update_is_gradient_ascent_on_the_torch_objective(entropy_bonus, temperature):
    rng = np.random.default_rng(5)
    table = rng.normal(size=(4, 3))
    states = np.array([0, 2, 2, 1, 0, 3])
    actions = np.array([1, 0, 2, 2, 1, 0])
    returns = rng.normal(size=6)
    baselines = rng.normal(size=6)
    learning_rate = 0.1

    h = torch.tensor(table, requires_grad=True)
    log_pi = torch.log_softmax(h / temperature, dim=-1)
    pi = log_pi.exp()
    entropy = -(pi * log_pi).sum(dim=-1)
    advantage = torch.from_numpy(returns - baselines)
    objective = (advantage * log_pi[torch.from_numpy(states), torch.from_numpy(actions)]).sum()
    objective = objective + entropy_bonus * entropy[torch.from_numpy(states)].sum()
    objective.backward()
    expected = table + learning_rate * h.grad.numpy()

    got = reinforce_update(
        table,
        states,
        actions,
        returns,
        learning_rate=learning_rate,
        baselines=baselines,
        entropy_bonus=entropy_bonus,
        temperature=temperature,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert not np.shares_memory(got, table)


def test_reinforce_update_refuses_mismatched_input():
    table = np.zeros((3, 2))
    with pytest.raises(ValueError, match="states"):
        reinforce_update(table, [0, 3], [0, 1], [1.0, 1.0], learning_rate=0.1)
    with pytest.raises(ValueError, match="returns"):
        reinforce_update(table, [0, 1], [0, 1], [1.0], learning_rate=0.1)
    with pytest.raises(ValueError, match="action"):
        reinforce_update(table, [0, 1], [0, 2], [1.0, 1.0], learning_rate=0.1)
    with pytest.raises(ValueError, match="entropy_bonus"):
        reinforce_update(table, [0], [0], [1.0], learning_rate=0.1, entropy_bonus=-1.0)
