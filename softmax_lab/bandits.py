r"""The 10-armed Gaussian bandit testbed, vectorised over many independent runs in NumPy.

Each run is one bandit problem: arm :math:`a` has a true value :math:`q_*(a) \sim
\mathcal{N}(\mu, 1)` and pulling it pays :math:`q_*(a) + \mathcal{N}(0, 1)` (the testbed
of Sutton and Barto, *Reinforcement Learning: An Introduction*, 2nd ed., section 2.3).
All runs advance together, one step at a time, so 2000 runs cost little more than one.

Every agent is written as a policy: a probability vector over arms for each run, sampled
with :func:`softmax_lab.policies.sample_actions`. Greedy, epsilon-greedy and Boltzmann
agents act on sample-average value estimates; the gradient bandit agent learns
preferences :math:`H` through a softmax, updated with :math:`\nabla \log \pi =
\text{one-hot} - \pi` times the reward minus a baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._shared import check_count, check_flag, check_positive_int, check_real
from .policies import (
    boltzmann_probabilities,
    epsilon_greedy_probabilities,
    grad_log_probability,
    greedy_probabilities,
    sample_actions,
)

__all__ = ["BanditResult", "run_bandit", "BANDIT_METHODS"]

BANDIT_METHODS = ("greedy", "epsilon-greedy", "softmax", "gradient")


@dataclass(frozen=True)
class BanditResult:
    """What a testbed experiment returns, averaged over runs.

    Attributes
    ----------
    average_reward : ndarray, shape (steps,)
        Mean reward at each step.
    optimal_action : ndarray, shape (steps,)
        Fraction of runs (0..1) that pulled the truly best arm at each step.
    run_reward : ndarray, shape (runs,)
        Each run's mean reward over the last ``tail`` steps: one number per problem,
        for spreads and paired comparisons (runs are independent problems).
    run_optimal : ndarray, shape (runs,)
        Fraction of the last ``tail`` steps in which each run pulled its best arm.
    """

    average_reward: NDArray[np.float64]
    optimal_action: NDArray[np.float64]
    run_reward: NDArray[np.float64]
    run_optimal: NDArray[np.float64]


def run_bandit(
    method: str,
    *,
    runs: int = 2000,
    steps: int = 1000,
    arms: int = 10,
    seed: int = 0,
    epsilon: float = 0.1,
    temperature: float = 1.0,
    step_size: float = 0.1,
    baseline: bool = True,
    true_mean: float = 0.0,
    tail: int | None = None,
) -> BanditResult:
    r"""Run one agent on ``runs`` independent bandit problems for ``steps`` steps.

    Parameters
    ----------
    method : {"greedy", "epsilon-greedy", "softmax", "gradient"}
        ``"softmax"`` is the Boltzmann policy over the sample-average estimates at
        ``temperature``; ``"gradient"`` is the gradient bandit algorithm.
    runs, steps, arms : int, optional
    seed : int, optional
        An int >= 0. Seeds one ``numpy.random.Generator`` that draws the problems, the rewards and
        the actions: the same arguments give the same result, bit for bit. Problems are
        drawn first, so every method sees the same problems for the same seed.
    epsilon : float, optional
        Exploration rate of ``"epsilon-greedy"``.
    temperature : float, optional
        Temperature of ``"softmax"`` (and of the gradient bandit's policy).
    step_size : float, optional
        :math:`\alpha` of the gradient bandit's preference update.
    baseline : bool, optional
        Whether the gradient bandit subtracts the running mean reward.
    true_mean : float, optional
        :math:`\mu`, the mean of the true arm values (Sutton and Barto use 4 to show
        why the gradient bandit needs its baseline).
    tail : int, optional
        How many final steps ``run_reward`` and ``run_optimal`` average over; all
        ``steps`` by default. At most ``steps``.

    Returns
    -------
    BanditResult

    Examples
    --------
    >>> result = run_bandit("epsilon-greedy", runs=200, steps=300, seed=1)
    >>> result.average_reward.shape, result.optimal_action.shape
    ((300,), (300,))
    >>> bool(result.optimal_action[-50:].mean() > result.optimal_action[:10].mean())
    True
    >>> per_run = run_bandit("softmax", temperature=0.2, runs=200, steps=300, tail=100)
    >>> per_run.run_reward.shape, per_run.run_optimal.shape
    ((200,), (200,))
    """
    if method not in BANDIT_METHODS:
        raise ValueError(f"method must be one of {BANDIT_METHODS}; got {method!r}")
    runs = check_positive_int(runs, "runs")
    steps = check_positive_int(steps, "steps")
    arms = check_positive_int(arms, "arms")
    temperature = check_real(temperature, "temperature", low=0.0, low_open=True)
    step_size = check_real(step_size, "step_size", low=0.0, low_open=True)
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    true_mean = check_real(true_mean, "true_mean")
    baseline = check_flag(baseline, "baseline")
    seed = check_count(seed, "seed")
    tail = steps if tail is None else check_positive_int(tail, "tail")
    if tail > steps:
        raise ValueError(f"tail must be at most steps = {steps}; got {tail}")

    rng = np.random.default_rng(seed)
    q_true = rng.normal(true_mean, 1.0, size=(runs, arms))
    best_arm = q_true.argmax(axis=1)
    every_run = np.arange(runs)

    estimates = np.zeros((runs, arms))  # sample averages (value methods) or preferences H
    pulls = np.zeros((runs, arms))
    mean_reward = np.zeros(runs)  # the gradient bandit's baseline
    average_reward = np.empty(steps)
    optimal_action = np.empty(steps)
    run_reward = np.zeros(runs)
    run_optimal = np.zeros(runs)

    for t in range(steps):
        if method == "greedy":
            pi = greedy_probabilities(estimates)
        elif method == "epsilon-greedy":
            pi = epsilon_greedy_probabilities(estimates, epsilon)
        else:
            pi = boltzmann_probabilities(estimates, temperature)
        action = sample_actions(pi, rng)
        reward = q_true[every_run, action] + rng.normal(size=runs)

        if method == "gradient":
            # The baseline is the mean of the rewards before this one (the first reward
            # is its own baseline), as in Sutton and Barto's section 2.8.
            if t == 0:
                mean_reward = reward.copy()
            advantage = reward - mean_reward if baseline else reward
            estimates += (
                step_size
                * advantage[:, None]
                * grad_log_probability(estimates, action, temperature)
            )
            mean_reward += (reward - mean_reward) / (t + 1)
        else:
            pulls[every_run, action] += 1
            chosen = estimates[every_run, action]
            estimates[every_run, action] = chosen + (reward - chosen) / pulls[every_run, action]

        average_reward[t] = reward.mean()
        optimal_action[t] = np.mean(action == best_arm)
        if t >= steps - tail:
            run_reward += reward
            run_optimal += action == best_arm
    return BanditResult(average_reward, optimal_action, run_reward / tail, run_optimal / tail)
