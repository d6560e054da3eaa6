"""softmax_lab.maxent against independent references: scipy's logsumexp and optimiser,
torch autograd, GridWorld.step itself and hand-derived values."""

import numpy as np
import pytest
import scipy.optimize
import scipy.special
import torch

from softmax_lab import GridWorld
from softmax_lab.maxent import (
    exact_policy_gradient,
    soft_value,
    soft_value_iteration,
    transition_model,
)


def test_soft_value_is_alpha_times_scipy_logsumexp():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(5, 4)) * 3
    for alpha in [0.01, 0.3, 1.0, 50.0]:
        expected = alpha * scipy.special.logsumexp(q / alpha, axis=-1)
        np.testing.assert_allclose(soft_value(q, alpha), expected, rtol=1e-12)


def test_soft_value_is_the_optimum_of_value_plus_entropy():
    q, alpha = np.array([1.0, 0.3, -0.5, 0.8]), 0.4

    def negative_objective(p):
        p = np.clip(p, 1e-300, None)
        return -(p @ q - alpha * np.sum(p * np.log(p)))

    result = scipy.optimize.minimize(
        negative_objective,
        np.full(4, 0.25),
        method="SLSQP",
        bounds=[(0, 1)] * 4,
        constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1}],
        options={"ftol": 1e-14},
    )
    assert -result.fun == pytest.approx(float(soft_value(q, alpha)), abs=1e-8)
    np.testing.assert_allclose(result.x, scipy.special.softmax(q / alpha), atol=1e-4)


def test_soft_value_limits_and_bounds():
    q = np.array([2.0, -1.0, 0.5])
    assert float(soft_value(q, 1e-3)) == pytest.approx(2.0, abs=1e-9)
    big = 1e4  # mean + alpha log n, up to a term of order 1 / alpha
    assert float(soft_value(q, big)) - big * np.log(3) == pytest.approx(q.mean(), abs=1e-3)
    for alpha in [0.1, 1.0, 10.0]:
        v = float(soft_value(q, alpha))
        assert q.max() <= v <= q.max() + alpha * np.log(3)


def test_soft_value_does_not_overflow_or_underflow():
    np.testing.assert_allclose(soft_value([1000.0, 1000.0], 1.0), 1000.0 + np.log(2))
    np.testing.assert_allclose(soft_value([-1000.0, -1000.0], 1.0), -1000.0 + np.log(2))
    np.testing.assert_allclose(soft_value([10.0, 9.0], 0.01), 10.0)


@pytest.mark.parametrize("alpha", [0.0, -1.0, np.inf, np.nan])
def test_soft_value_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        soft_value([1.0, 2.0], alpha)


def test_soft_value_rejects_empty_and_non_numbers():
    with pytest.raises(ValueError, match="q must have a last axis"):
        soft_value(np.zeros((3, 0)), 1.0)
    with pytest.raises(TypeError, match="alpha"):
        soft_value([1.0], "hot")


@pytest.mark.parametrize("slip", [0.0, 0.3])
def test_transition_model_matches_gridworld_step(slip):
    env = GridWorld(slip=slip)
    P, R, terminal = transition_model(env)
    np.testing.assert_allclose(P[~terminal].sum(axis=-1), 1.0)
    assert not P[terminal].any() and terminal.sum() == 1 + env.walls.sum()
    if slip == 0:  # deterministic: replay every move with the environment itself
        for state in np.flatnonzero(~terminal):
            for action in range(4):
                env.reset(seed=0)
                env._position = env.position_of(state)  # teleport (test only)
                next_state, reward, *_ = env.step(action)
                assert P[state, action, next_state] == 1.0 and R[state, action] == reward
    else:  # up from the start: 0.7 + 0.3/4 up, 0.3/4 right, the rest (down, left) stays
        assert P[15, 0, 10] == pytest.approx(0.775)
        assert P[15, 0, 16] == pytest.approx(0.075)
        assert P[15, 0, 15] == pytest.approx(0.15)


def test_transition_model_rejects_other_environments():
    with pytest.raises(TypeError, match="env must be a softmax_lab.GridWorld"):
        transition_model("grid")


def test_hard_value_iteration_gives_discounted_shortest_paths():
    env = GridWorld(goal_reward=0.0)
    P, R, terminal = transition_model(env)
    gamma = 0.9
    result = soft_value_iteration(P, R, gamma=gamma, alpha=0.0, terminal=terminal)
    # 7 moves from S to G, the last one pays 0: -(1 + 0.9 + ... + 0.9**5)
    assert result.values[15] == pytest.approx(-sum(gamma**k for k in range(6)))
    assert result.values[env.state_of(env.goal)] == 0.0
    assert result.values[3] == 0.0  # one move right, onto the goal


def test_soft_value_iteration_reaches_the_soft_bellman_fixed_point():
    P, R, terminal = transition_model(GridWorld(slip=0.1))
    gamma, alpha = 0.9, 0.5
    result = soft_value_iteration(P, R, gamma=gamma, alpha=alpha, terminal=terminal)
    q = R + gamma * np.einsum("san,n->sa", P, result.values)
    expected = alpha * scipy.special.logsumexp(q / alpha, axis=1)
    np.testing.assert_allclose(result.values[~terminal], expected[~terminal], atol=1e-9)
    np.testing.assert_allclose(result.q_values, q, atol=1e-9)
    residuals = result.residuals
    assert residuals[-1] < 1e-10
    assert np.all(residuals[1:] <= gamma * residuals[:-1] + 1e-12)  # a contraction
    hard = soft_value_iteration(P, R, gamma=gamma, alpha=0.0, terminal=terminal).values
    gap = (result.values - hard)[~terminal]
    assert np.all(gap >= 0) and np.all(gap <= alpha * np.log(4) / (1 - gamma))


def test_soft_value_iteration_rejects_bad_arguments():
    P, R, terminal = transition_model(GridWorld())
    with pytest.raises(ValueError, match="gamma"):
        soft_value_iteration(P, R, gamma=1.0, alpha=1.0)
    with pytest.raises(ValueError, match="alpha"):
        soft_value_iteration(P, R, gamma=0.9, alpha=-0.1)
    with pytest.raises(ValueError, match="P must have shape"):
        soft_value_iteration(P[0], R, gamma=0.9, alpha=1.0)
    with pytest.raises(ValueError, match="R must have shape"):
        soft_value_iteration(P, R.T, gamma=0.9, alpha=1.0)
    with pytest.raises(ValueError, match="terminal must have shape"):
        soft_value_iteration(P, R, gamma=0.9, alpha=1.0, terminal=terminal[:3])


def _autograd_step(rewards, logits, tau, eta):
    theta = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    log_pi = torch.log_softmax(theta, dim=-1)
    pi = log_pi.exp()
    objective = (pi * torch.tensor(rewards)).sum() - tau * (pi * log_pi).sum()
    objective.backward()
    return torch.softmax(theta + eta * theta.grad, dim=-1).detach().numpy()


@pytest.mark.parametrize("tau", [0.0, 0.3])
def test_one_plain_step_follows_torch_autograd(tau):
    rewards, logits = np.array([1.0, 0.5, 0.0]), np.array([-3.0, 2.0, 0.1])
    history = exact_policy_gradient(rewards, logits, steps=1, learning_rate=0.4, entropy_bonus=tau)
    np.testing.assert_allclose(history[0], scipy.special.softmax(logits), rtol=1e-12)
    np.testing.assert_allclose(history[1], _autograd_step(rewards, logits, tau, 0.4), rtol=1e-10)


def test_natural_step_moves_the_logits_by_eta_times_g():
    rewards, logits, tau, eta = np.array([1.0, 0.5, 0.0]), np.array([-3.0, 2.0, 0.1]), 0.2, 0.7
    history = exact_policy_gradient(
        rewards, logits, steps=1, learning_rate=eta, entropy_bonus=tau, natural=True
    )
    log_pi = scipy.special.log_softmax(logits)
    expected = scipy.special.softmax(logits + eta * (rewards - tau * log_pi))
    np.testing.assert_allclose(history[1], expected, rtol=1e-10)


def test_policy_gradient_batch_and_no_mutation():
    logits = np.array([[0.0, 0.0], [-5.0, 5.0]])
    kept = logits.copy()
    history = exact_policy_gradient([1.0, 0.0], logits, steps=200, learning_rate=0.4)
    assert history.shape == (201, 2, 2)
    np.testing.assert_array_equal(logits, kept)
    assert np.all(np.diff(history[:, :, 0], axis=0) > 0)  # the best arm only gains
    assert history[-1, 0, 0] > history[-1, 1, 0]  # the bad start is behind


def test_policy_gradient_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rewards"):
        exact_policy_gradient([[1.0]], [0.0], steps=1, learning_rate=1.0)
    with pytest.raises(ValueError, match="logits must have a last axis of 2"):
        exact_policy_gradient([1.0, 0.0], [0.0, 0.0, 0.0], steps=1, learning_rate=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        exact_policy_gradient([1.0, 0.0], [0.0, 0.0], steps=1, learning_rate=0.0)
    with pytest.raises(ValueError, match="entropy_bonus"):
        exact_policy_gradient([1.0, 0.0], [0.0, 0.0], steps=1, learning_rate=1, entropy_bonus=-1)
    with pytest.raises(ValueError, match="steps"):
        exact_policy_gradient([1.0, 0.0], [0.0, 0.0], steps=0, learning_rate=1.0)
