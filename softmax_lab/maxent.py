r"""Maximum-entropy reinforcement learning: soft values, soft value iteration, exact policy gradients.

Adding :math:`\alpha` times the entropy to the expected value,

.. math:: J(\pi) = \sum_a \pi(a) Q(a) + \alpha H(\pi),

makes the softmax :math:`\pi \propto e^{Q/\alpha}` the best policy, and its value the
**soft value** :math:`\alpha \log \sum_a e^{Q(a)/\alpha}` (:func:`soft_value`). The
soft Bellman backup replaces the max of value iteration with that soft value
(:func:`soft_value_iteration`, on the tabular model of a :class:`~softmax_lab.GridWorld`
from :func:`transition_model`). :func:`exact_policy_gradient` climbs :math:`J` on a
bandit with the exact gradient (no sampling), plain or natural, the tool of notebook 12
for showing where the softmax policy gradient stalls.

Everything here is NumPy; the policy itself is :func:`softmax_lab.boltzmann_probabilities`
at temperature :math:`\alpha`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_array,
    as_real_array,
    check_distributions,
    check_flag,
    check_positive_int,
    check_real,
)
from .core import logsumexp
from .gridworld import MOVES, GridWorld

__all__ = [
    "soft_value",
    "transition_model",
    "SoftValues",
    "soft_value_iteration",
    "exact_policy_gradient",
]


def _values(q: ArrayLike, name: str) -> NDArray[np.float64]:
    array = as_real_array(q, name)[0].astype(np.float64, copy=False)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(
            f"{name} must have a last axis with one entry per action; got shape {array.shape}"
        )
    return array


def _alpha(alpha: float, *, zero_ok: bool) -> float:
    try:  # a real number as check_real takes it (np.asarray(0.0) and torch scalars too)
        return check_real(alpha, "alpha", low=0.0, low_open=not zero_ok)
    except (TypeError, ValueError) as error:
        allowed = ">= 0 (0 is the hard max)" if zero_ok else "> 0"
        raise type(error)(f"alpha must be a finite number {allowed}; got {alpha!r}") from error


def soft_value(q: ArrayLike, alpha: float) -> NDArray[np.float64]:
    r"""The soft value :math:`\alpha \log \sum_a e^{Q(a)/\alpha}` over the last axis.

    It is the largest value of :math:`\sum_a \pi(a) Q(a) + \alpha H(\pi)` over all
    policies, reached by :math:`\pi = \mathrm{softmax}(Q/\alpha)`. It lies between
    :math:`\max_a Q(a)` and :math:`\max_a Q(a) + \alpha \log n`, tends to the max as
    :math:`\alpha \to 0`, and grows like the mean plus :math:`\alpha \log n` as
    :math:`\alpha \to \infty`. Computed with :func:`softmax_lab.logsumexp`, so
    ``Q / alpha`` of any size is safe.

    Parameters
    ----------
    q : array_like, shape (..., n_actions)
        Action values; leading axes are a batch (states).
    alpha : float
        The temperature (entropy weight), finite and > 0. For the hard max use
        ``np.max`` (or :func:`soft_value_iteration` with ``alpha=0``).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> print(f"{float(soft_value([1.0, 2.0, 3.0], 1.0)):.4f}")
    3.4076
    >>> print(f"{float(soft_value([1.0, 2.0, 3.0], 0.01)):.4f}")  # nearly the max
    3.0000
    >>> soft_value([[1000.0, 999.0], [0.0, 0.0]], 1.0).round(4)  # no overflow
    array([1000.3133,    0.6931])
    """
    alpha = _alpha(alpha, zero_ok=False)
    values = _values(q, "q")
    return alpha * logsumexp(values / alpha, axis=-1)


def transition_model(
    env: GridWorld,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    r"""The tabular model of a :class:`~softmax_lab.GridWorld`: transitions, rewards, terminal states.

    Parameters
    ----------
    env : GridWorld
        Its layout, ``slip``, ``step_reward`` and ``goal_reward`` are read; ``max_steps``
        is ignored (the model has no clock).

    Returns
    -------
    P : ndarray, shape (n_states, n_actions, n_states)
        ``P[s, a, s2]`` is the probability that action ``a`` in ``s`` leads to ``s2``
        (with ``slip``, a uniformly random move replaces ``a`` that often).
    R : ndarray, shape (n_states, n_actions)
        The expected reward of action ``a`` in ``s``.
    terminal : ndarray of bool, shape (n_states,)
        The goal and the wall cells: states whose value is 0 and that are never left.

    Examples
    --------
    >>> P, R, terminal = transition_model(GridWorld())
    >>> P.shape, R.shape, int(terminal.sum())
    ((20, 4, 20), (20, 4), 5)
    >>> int(P[15, 0].argmax()), float(R[15, 0])  # up from the start S
    (10, -1.0)
    """
    if not isinstance(env, GridWorld):
        raise TypeError(f"env must be a softmax_lab.GridWorld; got {type(env).__name__}")
    n_states, n_actions = env.n_states, env.n_actions
    moved = np.empty((n_states, n_actions), dtype=np.intp)  # where each intended move lands
    for state in range(n_states):
        row, col = env.position_of(state)
        for action, (d_row, d_col) in enumerate(MOVES):
            r, c = row + d_row, col + d_col
            inside = 0 <= r < env.n_rows and 0 <= c < env.n_cols and not env.walls[r, c]
            moved[state, action] = env.state_of((r, c)) if inside else state
    deterministic = np.zeros((n_states, n_actions, n_states))
    np.put_along_axis(deterministic, moved[..., None], 1.0, axis=-1)
    slipped = deterministic.mean(axis=1, keepdims=True)  # a uniformly random move
    P = (1.0 - env.slip) * deterministic + env.slip * slipped
    goal = env.state_of(env.goal)
    R = env.step_reward + (env.goal_reward - env.step_reward) * P[:, :, goal]
    terminal = env.walls.ravel().copy()
    terminal[goal] = True
    P[terminal] = 0.0
    R[terminal] = 0.0
    return P, R, terminal


class SoftValues(NamedTuple):
    """What :func:`soft_value_iteration` returns: the ``values`` (one per state), the
    ``q_values`` (one per state and action) and the ``residuals``, the largest change of
    the values at each sweep (for convergence plots)."""

    values: NDArray[np.float64]
    q_values: NDArray[np.float64]
    residuals: NDArray[np.float64]


def soft_value_iteration(
    P: ArrayLike,
    R: ArrayLike,
    *,
    gamma: float,
    alpha: float,
    terminal: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iterations: int = 10_000,
) -> SoftValues:
    r"""Soft (``alpha > 0``) or hard (``alpha = 0``) value iteration on a tabular model.

    Each sweep computes :math:`Q(s, a) = R(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V(s')`
    and then :math:`V(s) = \alpha \log \sum_a e^{Q(s, a)/\alpha}` (:func:`soft_value`), or
    :math:`\max_a Q(s, a)` when ``alpha`` is 0. Terminal states keep the value 0. The
    backup is a :math:`\gamma`-contraction for every ``alpha``, so the residuals fall at
    least as fast as :math:`\gamma^k`. The soft-greedy policy is
    ``boltzmann_probabilities(q_values, alpha)``.

    Parameters
    ----------
    P : array_like, shape (n_states, n_actions, n_states)
        ``P[s, a]`` is the distribution of the next state: entries in [0, 1] that sum
        to 1, for every state ``s`` that is not terminal (the rows of terminal states are
        not used; :func:`transition_model` sets them to 0).
    R : array_like, shape (n_states, n_actions)
        Finite rewards.
    gamma : float
        Discount in [0, 1).
    alpha : float
        Entropy weight, finite and >= 0.
    terminal : array_like of bool, shape (n_states,), optional
    tol : float, optional
        Finite and >= 0. Stop when the largest change falls below it (0: always run
        all ``max_iterations`` sweeps).
    max_iterations : int, optional

    Returns
    -------
    SoftValues

    Examples
    --------
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> R = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> terminal = np.array([False, True])
    >>> hard = soft_value_iteration(P, R, gamma=0.9, alpha=0.0, terminal=terminal)
    >>> hard.values.round(4)
    array([1., 0.])
    >>> soft = soft_value_iteration(P, R, gamma=0.9, alpha=1.0, terminal=terminal)
    >>> soft.values.round(4)  # staying (0 now, then again) has value too
    array([2.5064, 0.    ])
    """
    P = as_real_array(P, "P")[0].astype(np.float64, copy=False)
    R = as_real_array(R, "R")[0].astype(np.float64, copy=False)
    if P.ndim != 3 or P.shape[0] != P.shape[2]:
        raise ValueError(f"P must have shape (n_states, n_actions, n_states); got {P.shape}")
    if R.shape != P.shape[:2]:
        raise ValueError(f"R must have shape {P.shape[:2]} (n_states, n_actions); got {R.shape}")
    if not np.all(np.isfinite(R)):
        raise ValueError("R must be finite")
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0, high_open=True)
    alpha = _alpha(alpha, zero_ok=True)
    tol = check_real(tol, "tol", low=0.0)
    if terminal is None:
        done = np.zeros(P.shape[0], bool)
    else:
        done = as_array(terminal, "terminal")
        if done.dtype != np.bool_:
            raise TypeError(f"terminal must be a boolean mask; got dtype {done.dtype}")
    if done.shape != P.shape[:1]:
        raise ValueError(f"terminal must have shape {P.shape[:1]}; got {done.shape}")
    # rows of terminal states are never used (their value stays 0): any stand-in passes
    check_distributions(
        np.where(done[:, None, None], 1.0 / P.shape[2], P),
        "P",
        hint=" (P[s, a] is the distribution of the next state of a non-terminal s)",
    )
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    values = np.zeros(P.shape[0])
    residuals = []
    for _ in range(max_iterations):
        q = R + gamma * (P @ values)
        new = q.max(axis=-1) if alpha == 0 else alpha * logsumexp(q / alpha, axis=-1)
        new[done] = 0.0
        residuals.append(float(np.max(np.abs(new - values))))
        values = new
        if residuals[-1] < tol:
            break
    q = R + gamma * (P @ values)
    return SoftValues(values, q, np.array(residuals))


def exact_policy_gradient(
    rewards: ArrayLike,
    logits: ArrayLike,
    *,
    steps: int,
    learning_rate: float,
    entropy_bonus: float = 0.0,
    natural: bool = False,
) -> NDArray[np.float64]:
    r"""Gradient ascent on a bandit's entropy-regularised value with the exact gradient.

    The objective is :math:`J(\theta) = \pi_\theta \cdot r + \tau H(\pi_\theta)` with
    :math:`\pi_\theta = \mathrm{softmax}(\theta)` and :math:`\tau` = ``entropy_bonus``.
    With :math:`g = r - \tau \log \pi`, its gradient is :math:`\pi \odot (g - \pi \cdot g)`
    (the plain update, ``natural=False``); the natural gradient (the Fisher matrix's
    pseudo-inverse times it) is :math:`g` up to a constant, which a softmax ignores, so
    ``natural=True`` steps :math:`\theta \leftarrow \theta + \eta\, g`.

    Parameters
    ----------
    rewards : array_like, shape (n_actions,)
        The (expected) reward of each arm.
    logits : array_like, shape (..., n_actions)
        Starting preferences; leading axes are independent runs.
    steps : int
    learning_rate : float
        :math:`\eta > 0`.
    entropy_bonus : float, optional
        :math:`\tau \ge 0`.
    natural : bool, optional

    Returns
    -------
    ndarray, shape (steps + 1, ..., n_actions)
        The policy before every step and after the last.

    Examples
    --------
    >>> history = exact_policy_gradient([1.0, 0.0], [0.0, 0.0], steps=50, learning_rate=1.0)
    >>> history.shape, history[0].round(4).tolist(), bool(history[-1, 0] > 0.95)
    ((51, 2), [0.5, 0.5], True)
    """
    r = as_real_array(rewards, "rewards")[0].astype(np.float64, copy=False)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"rewards must be a non-empty 1-D array; got shape {r.shape}")
    # a copy: the caller's logits stay as they are
    theta = as_real_array(logits, "logits")[0].astype(np.float64, copy=True)
    if theta.ndim == 0 or theta.shape[-1] != r.size:
        raise ValueError(
            f"logits must have a last axis of {r.size} entries (one per reward); got {theta.shape}"
        )
    steps = check_positive_int(steps, "steps")
    eta = check_real(learning_rate, "learning_rate", low=0.0, low_open=True)
    tau = check_real(entropy_bonus, "entropy_bonus", low=0.0)
    natural = check_flag(natural, "natural")
    history = np.empty((steps + 1,) + theta.shape)
    # Tens of thousands of tiny steps: the max-shifted softmax is inlined, because
    # softmax_lab.softmax checks its arguments at every call (5x slower here). core's
    # unchecked _shifted_softmax and _log_softmax_block (2-D, extra-precise) were measured
    # too (2026-11-30): 1.6x slower without the entropy term and 5x with it (they shift
    # twice to give pi and log pi), and they move notebook 12's results in the last bits.
    for t in range(steps + 1):
        z = theta - theta.max(axis=-1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=-1, keepdims=True)
        pi = e / total
        history[t] = pi
        if t == steps:
            break
        g = r - tau * (z - np.log(total)) if tau else r
        if natural:
            theta += eta * g
        else:
            theta += eta * pi * (g - np.sum(pi * g, axis=-1, keepdims=True))
    return history
