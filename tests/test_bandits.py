"""The 10-armed testbed: seeded determinism, input checks, and the textbook's qualitative results."""

import numpy as np
import pytest

from softmax_lab import run_bandit
from softmax_lab.bandits import BANDIT_METHODS


@pytest.mark.parametrize("method", BANDIT_METHODS)
def test_same_seed_same_result_other_seed_other_result(method):
    first = run_bandit(method, runs=50, steps=40, seed=7)
    again = run_bandit(method, runs=50, steps=40, seed=7)
    other = run_bandit(method, runs=50, steps=40, seed=8)
    np.testing.assert_array_equal(first.average_reward, again.average_reward)
    np.testing.assert_array_equal(first.optimal_action, again.optimal_action)
    assert not np.array_equal(first.average_reward, other.average_reward)
    assert first.average_reward.shape == first.optimal_action.shape == (40,)
    assert np.all((first.optimal_action >= 0) & (first.optimal_action <= 1))


def test_one_arm_is_always_optimal():
    result = run_bandit("softmax", runs=20, steps=5, arms=1)
    np.testing.assert_array_equal(result.optimal_action, np.ones(5))


def test_first_step_is_uniform_for_every_method():
    # all estimates start equal, so every agent picks uniformly: about 1 run in 10 is optimal
    for method in BANDIT_METHODS:
        first = run_bandit(method, runs=4000, steps=1, seed=2).optimal_action[0]
        assert 0.08 < first < 0.12, (method, first)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "ucb"}, ValueError, "method"),
        ({"method": "greedy", "runs": 0}, ValueError, "runs must be an int >= 1"),
        ({"method": "greedy", "steps": 2.5}, TypeError, "steps must be an int >= 1"),
        ({"method": "softmax", "temperature": 0.0}, ValueError, "temperature"),
        ({"method": "epsilon-greedy", "epsilon": -0.1}, ValueError, "epsilon"),
        ({"method": "gradient", "step_size": -1.0}, ValueError, "step_size"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        run_bandit(**kwargs)


def test_exploration_beats_greedy_as_in_sutton_and_barto_figure_2_2():
    # Sutton and Barto (2nd ed., fig. 2.2): after 1000 steps greedy finds the best arm
    # about a third of the time and epsilon = 0.1 about 80 %; rewards near 1.0 and 1.4.
    greedy = run_bandit("greedy", runs=1000, steps=1000, seed=0)
    explore = run_bandit("epsilon-greedy", epsilon=0.1, runs=1000, steps=1000, seed=0)
    assert 0.25 < greedy.optimal_action[-100:].mean() < 0.45
    assert 0.72 < explore.optimal_action[-100:].mean() < 0.88
    assert 0.9 < greedy.average_reward[-100:].mean() < 1.15
    assert 1.25 < explore.average_reward[-100:].mean() < 1.5


def test_gradient_bandit_needs_its_baseline_when_rewards_are_offset():
    # Sutton and Barto (fig. 2.5): with true values around +4, the baseline matters a lot.
    kwargs = {"runs": 500, "steps": 500, "step_size": 0.1, "true_mean": 4.0, "seed": 0}
    with_baseline = run_bandit("gradient", baseline=True, **kwargs)
    without = run_bandit("gradient", baseline=False, **kwargs)
    assert with_baseline.optimal_action[-100:].mean() > without.optimal_action[-100:].mean() + 0.2


def test_per_run_results_average_the_tail_of_each_run():
    result = run_bandit("epsilon-greedy", runs=50, steps=30, seed=3, tail=10)
    assert result.run_reward.shape == result.run_optimal.shape == (50,)
    # the mean over runs of each run's tail is the tail of the mean over runs
    assert np.isclose(result.run_reward.mean(), result.average_reward[-10:].mean())
    assert np.isclose(result.run_optimal.mean(), result.optimal_action[-10:].mean())
    assert set(np.unique(result.run_optimal * 10)) <= set(range(11))  # counts out of 10 steps
    everything = run_bandit("epsilon-greedy", runs=50, steps=30, seed=3)
    assert np.isclose(everything.run_reward.mean(), everything.average_reward.mean())


@pytest.mark.parametrize("tail", [0, 31, 2.5])
def test_tail_must_be_a_count_up_to_steps(tail):
    with pytest.raises((ValueError, TypeError), match="tail"):
        run_bandit("greedy", runs=5, steps=30, tail=tail)
