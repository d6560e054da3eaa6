r"""Softmax (Boltzmann) policies: from action values or preferences to action probabilities.

A policy :math:`\pi(a)` is a probability distribution over actions. The Boltzmann policy
turns real-valued action values (or learned preferences) :math:`h_a` into one with a
softmax at temperature :math:`T`:

.. math:: \pi(a) = \frac{e^{h_a / T}}{\sum_b e^{h_b / T}}.

Small :math:`T` approaches the greedy policy, large :math:`T` the uniform one. The
gradient of :math:`\log \pi(a)` with respect to the preferences is the one-hot vector of
``a`` minus :math:`\pi`, divided by :math:`T`: that single line is the heart of the
gradient bandit algorithm and of REINFORCE (:func:`reinforce_update`).

Greedy and epsilon-greedy policies are here too, written as probability vectors so all
three can be sampled the same way with :func:`sample_actions`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_array,
    as_indices,
    as_real_array,
    check_distributions,
    check_generator,
    check_real,
    check_temperature,
    sum_tolerance,
)
from .core import log_softmax, softmax

__all__ = [
    "boltzmann_probabilities",
    "greedy_probabilities",
    "epsilon_greedy_probabilities",
    "sample_actions",
    "log_probability",
    "grad_log_probability",
    "policy_entropy",
    "discounted_returns",
    "reinforce_update",
]


def _action_values(values: ArrayLike, name: str = "values") -> NDArray[np.float64]:
    array = as_real_array(values, name)[0].astype(np.float64, copy=False)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(
            f"{name} must have a last axis with one entry per action; got shape {array.shape}"
        )
    return array


def _actions(
    actions: ArrayLike, batch_shape: tuple[int, ...], n_actions: int, name: str = "action"
) -> NDArray[np.intp]:
    array = as_indices(actions, name, "action indices")
    if np.any(array < 0) or np.any(array >= n_actions):
        raise ValueError(f"{name} must be in 0..{n_actions - 1}; got {array.tolist()}")
    try:
        return np.broadcast_to(array, batch_shape).astype(np.intp)
    except ValueError as error:
        raise ValueError(
            f"{name} of shape {array.shape} does not match the batch shape {batch_shape}"
        ) from error


def _probabilities(probabilities: ArrayLike) -> NDArray[np.float64]:
    # float32 (torch.softmax's) and float16 rows sum to 1 less exactly than float64 ones
    _, dtype = as_real_array(probabilities, "probabilities")
    p = _action_values(probabilities, "probabilities")
    check_distributions(
        p,
        "probabilities",
        tolerance=sum_tolerance(dtype),
        hint=" (pass boltzmann_probabilities(...), not values)",
    )
    return p


def boltzmann_probabilities(values: ArrayLike, temperature: float = 1.0) -> NDArray[np.float64]:
    """Softmax action probabilities at a temperature, over the last axis.

    Parameters
    ----------
    values : array_like, shape (..., n_actions)
        Action values or preferences; any leading axes are a batch (runs, states).
    temperature : float, optional
        Finite and > 0. As it goes to 0 the policy becomes greedy; as it grows the
        policy becomes uniform.

    Returns
    -------
    ndarray, shape (..., n_actions)
        Each row sums to 1.

    Examples
    --------
    >>> boltzmann_probabilities([1.0, 2.0, 3.0]).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> boltzmann_probabilities([1.0, 2.0, 3.0], temperature=0.1).round(4)
    array([0., 0., 1.])
    >>> boltzmann_probabilities([1.0, 2.0, 3.0], temperature=100.0).round(4)
    array([0.33  , 0.3333, 0.3367])
    """
    return softmax(_action_values(values), axis=-1, temperature=temperature)


def greedy_probabilities(values: ArrayLike) -> NDArray[np.float64]:
    """The greedy policy as probabilities: ties for the best value share the mass equally.

    Sharing ties (rather than always taking the first maximum) is how the greedy agent
    breaks ties at random when its estimates all start equal.

    Examples
    --------
    >>> greedy_probabilities([0.0, 2.0, 1.0])
    array([0., 1., 0.])
    >>> greedy_probabilities([[0.0, 0.0], [1.0, 3.0]])
    array([[0.5, 0.5],
           [0. , 1. ]])
    """
    array = _action_values(values)
    best = array == array.max(axis=-1, keepdims=True)
    return best / best.sum(axis=-1, keepdims=True)


def epsilon_greedy_probabilities(values: ArrayLike, epsilon: float) -> NDArray[np.float64]:
    """Greedy with probability ``1 - epsilon``, uniformly random with probability ``epsilon``.

    Examples
    --------
    >>> epsilon_greedy_probabilities([0.0, 2.0, 1.0, 0.5], epsilon=0.1).round(4)
    array([0.025, 0.925, 0.025, 0.025])
    """
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    greedy = greedy_probabilities(values)
    return (1.0 - epsilon) * greedy + epsilon / greedy.shape[-1]


def sample_actions(probabilities: ArrayLike, rng: np.random.Generator) -> NDArray[np.intp]:
    """Draw one action per row of ``probabilities`` (inverse-CDF sampling, vectorised).

    Parameters
    ----------
    probabilities : array_like, shape (..., n_actions)
        Each row a probability vector: entries in [0, 1] that sum to 1 (within 1e-6; for
        float32 input within 1e-4, for float16 within 1e-2).
        Anything else (logits, unnormalised weights, NaN) raises ``ValueError``.
    rng : numpy.random.Generator
        The source of randomness; the same seed gives the same actions.

    Returns
    -------
    ndarray of int, shape (...)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample_actions([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], rng)
    array([1, 0])
    >>> draws = sample_actions(np.tile([0.2, 0.8], (10_000, 1)), rng)
    >>> print(f"{np.mean(draws == 1):.2f}")
    0.80
    """
    rng = check_generator(rng)
    p = _probabilities(probabilities)
    cumulative = np.cumsum(p, axis=-1)
    # Scale u by the row total so rounding in the sum can never leave u past the last bin.
    u = rng.random(p.shape[:-1] + (1,)) * cumulative[..., -1:]
    actions = (cumulative <= u).sum(axis=-1)
    return np.minimum(actions, p.shape[-1] - 1)


def log_probability(
    preferences: ArrayLike, action: ArrayLike, temperature: float = 1.0
) -> NDArray[np.float64]:
    r"""Log-probability :math:`\log \pi(a)` of ``action`` under the Boltzmann policy.

    Computed with :func:`softmax_lab.log_softmax`, so a very unlikely action gets a large
    negative number instead of ``log(0) = -inf``.

    Examples
    --------
    >>> print(f"{float(log_probability([1.0, 2.0, 3.0], 2)):.4f}")
    -0.4076
    >>> print(f"{float(log_probability([0.0, 1000.0], 0)):.1f}")
    -1000.0
    """
    h = _action_values(preferences, "preferences")
    a = _actions(action, h.shape[:-1], h.shape[-1])
    log_pi = log_softmax(h, axis=-1, temperature=temperature)
    return np.take_along_axis(log_pi, a[..., None], axis=-1)[..., 0]


def grad_log_probability(
    preferences: ArrayLike, action: ArrayLike, temperature: float = 1.0
) -> NDArray[np.float64]:
    r"""Gradient of :math:`\log \pi(a)` with respect to the preferences: (one-hot(a) - pi) / T.

    Parameters
    ----------
    preferences : array_like, shape (..., n_actions)
    action : int or array_like of int, shape (...)
        The action taken (one per row of ``preferences``).
    temperature : float, optional

    Returns
    -------
    ndarray, shape (..., n_actions)
        Each row sums to 0: raising every preference by the same amount changes nothing.

    Examples
    --------
    >>> grad_log_probability([1.0, 2.0, 3.0], 2).round(4)
    array([-0.09  , -0.2447,  0.3348])
    """
    temperature = check_temperature(temperature)
    h = _action_values(preferences, "preferences")
    a = _actions(action, h.shape[:-1], h.shape[-1])
    one_hot = np.zeros_like(h)
    np.put_along_axis(one_hot, a[..., None], 1.0, axis=-1)
    return (one_hot - softmax(h, axis=-1, temperature=temperature)) / temperature


def policy_entropy(probabilities: ArrayLike) -> NDArray[np.float64]:
    r"""Entropy :math:`-\sum_a \pi(a) \log \pi(a)` in nats, over the last axis (0 log 0 = 0).

    ``probabilities`` must hold probability vectors along the last axis (entries in
    [0, 1] summing to 1 within 1e-6, or 1e-4 for float32 and 1e-2 for float16 input);
    anything else raises ``ValueError``: the entropy
    of logits or of unnormalised weights would be a meaningless number.

    Examples
    --------
    >>> print(f"{float(policy_entropy([0.25, 0.25, 0.25, 0.25])):.4f}")  # log 4
    1.3863
    >>> print(f"{float(policy_entropy([1.0, 0.0])):.1f}")
    0.0
    """
    p = _probabilities(probabilities)
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=-1)


def discounted_returns(rewards: ArrayLike, gamma: float = 1.0) -> NDArray[np.float64]:
    r"""Returns :math:`G_t = r_{t+1} + \gamma G_{t+1}` for every step of one episode.

    Examples
    --------
    >>> discounted_returns([0.0, 0.0, 1.0], gamma=0.5)
    array([0.25, 0.5 , 1.  ])
    """
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0)
    r = as_real_array(rewards, "rewards")[0].astype(np.float64, copy=False)
    if r.ndim != 1:
        raise ValueError(f"rewards must be one episode, a 1-D array; got shape {r.shape}")
    returns = np.empty_like(r)
    running = 0.0
    for t in range(len(r) - 1, -1, -1):
        running = r[t] + gamma * running
        returns[t] = running
    return returns


def reinforce_update(
    preferences: ArrayLike,
    states: ArrayLike,
    actions: ArrayLike,
    returns: ArrayLike,
    *,
    learning_rate: float,
    baselines: ArrayLike | float = 0.0,
    entropy_bonus: float = 0.0,
    temperature: float = 1.0,
) -> NDArray[np.float64]:
    r"""One REINFORCE step for a tabular softmax policy; returns the new preference table.

    For every step :math:`t` of an episode, the row of the visited state moves along

    .. math:: (G_t - b_t)\,\nabla \log \pi(a_t \mid s_t) + \beta\,\nabla H(\pi(\cdot \mid s_t)),

    with :math:`\nabla \log \pi = (\text{one-hot} - \pi)/T` and the entropy gradient
    :math:`\nabla H = -\pi \odot (\log \pi + H) / T`. The whole episode's gradient is
    computed with the policy that generated it, then applied at once. (The
    :math:`\gamma^t` factor of the textbook update is left out, as in most practice.)

    Parameters
    ----------
    preferences : array_like, shape (n_states, n_actions)
        The policy's table of preferences (logits); not modified.
    states, actions : array_like of int, shape (steps,)
        The states visited and the actions taken in them.
    returns : array_like, shape (steps,)
        The return that followed each step (see :func:`discounted_returns`).
    learning_rate : float
    baselines : float or array_like, shape (steps,), optional
        Subtracted from the returns; a learned state value cuts the variance without
        biasing the gradient.
    entropy_bonus : float, optional
        :math:`\beta \ge 0`: pushes each visited state's policy towards higher entropy,
        which keeps it exploring.
    temperature : float, optional

    Examples
    --------
    >>> table = np.zeros((2, 3))
    >>> reinforce_update(table, [0], [2], [1.0], learning_rate=0.3).round(4)
    array([[-0.1, -0.1,  0.2],
           [ 0. ,  0. ,  0. ]])
    """
    temperature = check_temperature(temperature)
    table = _action_values(preferences, "preferences")
    if table.ndim != 2:
        raise ValueError(
            f"preferences must be a (n_states, n_actions) table; got shape {table.shape}"
        )
    learning_rate = check_real(learning_rate, "learning_rate")
    entropy_bonus = check_real(entropy_bonus, "entropy_bonus", low=0.0)
    s = as_array(states, "states")
    if s.ndim != 1 or s.dtype.kind not in "iu" or np.any(s < 0) or np.any(s >= table.shape[0]):
        raise ValueError(
            f"states must be a 1-D array of ints in 0..{table.shape[0] - 1}; got {s.tolist()}"
        )
    actions = as_array(actions, "actions")
    if actions.shape != s.shape:
        raise ValueError(
            f"actions must have one entry per step, shape {s.shape} as states; got {actions.shape}"
        )
    a = _actions(actions, s.shape, table.shape[1], "actions")
    g = as_real_array(returns, "returns")[0].astype(np.float64, copy=False)
    if g.shape != s.shape:
        raise ValueError(
            f"returns must have one entry per step, shape {s.shape} as states; got {g.shape}"
        )
    b = as_real_array(baselines, "baselines")[0].astype(np.float64, copy=False)
    if b.shape not in ((), s.shape):
        raise ValueError(
            f"baselines must be a number or one per step, shape {s.shape} as states; got {b.shape}"
        )
    advantages = g - b
    rows = table[s]
    step_grads = advantages[:, None] * grad_log_probability(rows, a, temperature)
    if entropy_bonus:
        pi = softmax(rows, axis=-1, temperature=temperature)
        log_pi = log_softmax(rows, axis=-1, temperature=temperature)
        h = -(pi * log_pi).sum(axis=-1, keepdims=True)
        step_grads += entropy_bonus * (-pi * (log_pi + h) / temperature)
    gradient = np.zeros_like(table)
    np.add.at(gradient, s, step_grads)
    return table + learning_rate * gradient
