"""A small gridworld with the usual reset/step API, for REINFORCE with a softmax policy.

The agent starts on ``S`` and must reach ``G``; ``#`` cells are walls. Each move costs
``step_reward`` (-1 by default), reaching the goal ends the episode (``terminated``), and
an episode that hits ``max_steps`` is cut off (``truncated``). So the return of an episode
is minus the number of steps it took: a shorter path is a better policy.

With ``slip > 0`` a move goes in a uniformly random direction with that probability;
that randomness, and only that, comes from the Generator seeded by ``reset(seed=...)``.

The API follows gymnasium's without depending on it::

    state, info = env.reset(seed=0)
    state, reward, terminated, truncated, info = env.step(action)

States are integers ``row * n_cols + col``; actions are 0 up, 1 right, 2 down, 3 left.

Examples
--------
>>> env = GridWorld()
>>> state, info = env.reset(seed=0)
>>> state, info["position"]
(15, (3, 0))
>>> env.step(0)  # up
(10, -1.0, False, False, {'position': (2, 0)})
>>> env.step(3)  # left, into the edge: the agent stays put and still pays
(10, -1.0, False, False, {'position': (2, 0)})
>>> env.step(4)
Traceback (most recent call last):
...
ValueError: action must be an int in 0..3 (0 up, 1 right, 2 down, 3 left); got 4
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._shared import as_int, check_count, check_positive_int, check_real

__all__ = ["GridWorld", "DEFAULT_LAYOUT", "ACTION_NAMES", "MOVES", "rollout"]

DEFAULT_LAYOUT = (
    "....G",
    ".##..",
    ".#...",
    "S..#.",
)
ACTION_NAMES = ("up", "right", "down", "left")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # (d_row, d_col) for each action


class GridWorld:
    """A deterministic-by-seed gridworld.

    Parameters
    ----------
    layout : sequence of str, optional
        Rows of equal length: ``.`` free, ``#`` wall, ``S`` start (exactly one),
        ``G`` goal (exactly one).
    max_steps : int, optional
        Episodes are truncated after this many steps.
    step_reward, goal_reward : float, optional
        Reward of an ordinary move, and of the move that reaches the goal.
    slip : float, optional
        Probability in [0, 1) that a move goes in a random direction instead.

    Attributes
    ----------
    n_states, n_actions : int
        Sizes for a tabular policy (wall cells count as states that are never visited).
    """

    n_actions = len(MOVES)

    def __init__(
        self,
        layout: Sequence[str] = DEFAULT_LAYOUT,
        *,
        max_steps: int = 50,
        step_reward: float = -1.0,
        goal_reward: float = -1.0,
        slip: float = 0.0,
    ) -> None:
        if isinstance(layout, np.ndarray) and layout.ndim == 1 and layout.dtype.kind == "U":
            layout = [str(row) for row in layout]  # np.array(["S..", "..G"]) is rows too
        if isinstance(layout, str) or not isinstance(layout, Sequence):
            raise TypeError(
                f"layout must be a sequence of row strings such as ('S..', '..G'); got {layout!r}"
            )
        if not all(isinstance(row, str) for row in layout):
            raise TypeError(f"layout must be a sequence of row strings; got {list(layout)!r}")
        rows = list(layout)
        if not rows or len({len(row) for row in rows}) != 1 or not rows[0]:
            raise ValueError(f"layout must be non-empty rows of equal length; got {list(layout)!r}")
        if set("".join(rows)) - set(".#SG"):
            raise ValueError(f"layout may only contain '.', '#', 'S' and 'G'; got {list(layout)!r}")
        for mark in "SG":
            if "".join(rows).count(mark) != 1:
                raise ValueError(f"layout must contain exactly one {mark!r}; got {list(layout)!r}")
        check_positive_int(max_steps, "max_steps")
        slip = check_real(slip, "slip", low=0.0, high=1.0, high_open=True)
        step_reward = check_real(step_reward, "step_reward")
        goal_reward = check_real(goal_reward, "goal_reward")
        self.layout = tuple(rows)
        self.n_rows, self.n_cols = len(rows), len(rows[0])
        self.n_states = self.n_rows * self.n_cols
        self.walls = np.array([[c == "#" for c in row] for row in rows])
        self.start = next(
            (r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S"
        )
        self.goal = next(
            (r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "G"
        )
        self.max_steps = int(max_steps)
        self.step_reward, self.goal_reward = float(step_reward), float(goal_reward)
        self.slip = float(slip)
        self._rng: np.random.Generator | None = None
        self._position: tuple[int, int] | None = None
        self._steps = 0
        self._done = False

    def state_of(self, position: tuple[int, int]) -> int:
        """The integer state of a ``(row, col)`` position."""
        return position[0] * self.n_cols + position[1]

    def position_of(self, state: int) -> tuple[int, int]:
        """The ``(row, col)`` position of an integer state."""
        return divmod(int(state), self.n_cols)

    def reset(self, seed: int | None = None) -> tuple[int, dict[str, Any]]:
        """Start a new episode at ``S``; returns ``(state, info)``.

        ``seed`` re-seeds the environment's Generator (used only when ``slip > 0``);
        without it the Generator carries on from the previous episode (a fresh,
        unseeded one on the very first reset).
        """
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)
        self._position, self._steps, self._done = self.start, 0, False
        return self.state_of(self.start), {"position": self.start}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Move once; returns ``(state, reward, terminated, truncated, info)``.

        Raises
        ------
        ValueError
            ``action`` is not an int in 0..3.
        RuntimeError
            ``reset`` was not called, or the episode is over.
        """
        index = as_int(action)  # NumPy integers and 0-d integer arrays too, never bools
        if index is None or not 0 <= index < 4:
            raise ValueError(
                f"action must be an int in 0..3 (0 up, 1 right, 2 down, 3 left); got {action!r}"
            )
        action = index
        if self._position is None or self._rng is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError(
                "the episode is over (terminated or truncated): call reset() to start another"
            )
        if self.slip and self._rng.random() < self.slip:
            action = int(self._rng.integers(len(MOVES)))
        d_row, d_col = MOVES[int(action)]
        row, col = self._position[0] + d_row, self._position[1] + d_col
        if 0 <= row < self.n_rows and 0 <= col < self.n_cols and not self.walls[row, col]:
            self._position = (row, col)
        self._steps += 1
        terminated = self._position == self.goal
        truncated = not terminated and self._steps >= self.max_steps
        self._done = terminated or truncated
        reward = self.goal_reward if terminated else self.step_reward
        return (
            self.state_of(self._position),
            reward,
            terminated,
            truncated,
            {"position": self._position},
        )


def rollout(
    env: GridWorld, choose_action: Callable[[int], int], *, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play one episode; return the visited states, the actions taken and the rewards.

    ``states[t]`` is where action ``actions[t]`` was taken and ``rewards[t]`` what it
    earned, so all three have one entry per step. ``choose_action(state)`` must return
    an int in 0..3 (a NumPy integer will do); a float, a bool or anything else raises
    ``ValueError`` rather than being rounded. ``seed`` is None or an int >= 0.

    Examples
    --------
    >>> states, actions, rewards = rollout(GridWorld(), lambda state: 0, seed=0)
    >>> states[:4].tolist(), actions[:4].tolist(), float(rewards.sum())
    ([15, 10, 5, 0], [0, 0, 0, 0], -50.0)
    """
    if not isinstance(env, GridWorld):
        raise TypeError(f"env must be a softmax_lab.GridWorld; got {type(env).__name__}")
    if not callable(choose_action):
        raise TypeError(
            f"choose_action must be a function of the state; got {type(choose_action).__name__}"
        )
    if seed is not None:
        seed = check_count(seed, "seed")
    state, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    done = False
    while not done:
        action = _action_from(choose_action, state, env.n_actions)
        next_state, reward, terminated, truncated, _ = env.step(action)
        states.append(state)
        actions.append(action)
        rewards.append(reward)
        state, done = next_state, terminated or truncated
    return np.array(states), np.array(actions), np.array(rewards)


def _action_from(choose_action: Callable[[int], int], state: int, n_actions: int) -> int:
    """``choose_action(state)``, which must be an int in 0..n_actions-1 (a NumPy int too)."""
    action = choose_action(state)
    try:
        if isinstance(action, (bool, np.bool_)):
            raise TypeError
        index = operator.index(action)
    except TypeError:
        index = None
    if index is None or not 0 <= index < n_actions:
        raise ValueError(
            f"choose_action must return an int in 0..{n_actions - 1} (0 up, 1 right, 2 down, "
            f"3 left); it returned {action!r} in state {state}"
        )
    return index
