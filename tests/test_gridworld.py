"""The gridworld: the reset/step contract, walls, termination, truncation, seeds, bad input."""

import numpy as np
import pytest

from softmax_lab import GridWorld, rollout

UP, RIGHT, DOWN, LEFT = range(4)


def test_reset_returns_the_start_state_and_info():
    env = GridWorld()
    state, info = env.reset(seed=0)
    assert (state, info) == (15, {"position": (3, 0)})  # row 3, col 0 of a 5-wide grid
    assert env.n_states == 20 and env.n_actions == 4


def test_a_shortest_path_reaches_the_goal_in_seven_steps():
    env = GridWorld()
    env.reset(seed=0)
    path = [UP, UP, UP, RIGHT, RIGHT, RIGHT, RIGHT]  # up column 0, then along row 0
    outcomes = [env.step(action) for action in path]
    assert [o[2] for o in outcomes] == [False] * 6 + [True]
    assert all(o[3] is False for o in outcomes)
    assert sum(o[1] for o in outcomes) == -7.0
    assert outcomes[-1][0] == 4 and outcomes[-1][4] == {"position": (0, 4)}


def test_walls_and_edges_block_moves():
    env = GridWorld()
    env.reset()
    assert env.step(DOWN)[0] == 15  # bottom edge
    assert env.step(RIGHT)[0] == 16  # (3, 1) is free
    state, reward, *_ = env.step(UP)  # (2, 1) is a wall
    assert (state, reward) == (16, -1.0)


def test_episodes_are_truncated_at_max_steps():
    env = GridWorld(max_steps=5)
    env.reset()
    outcomes = [env.step(LEFT) for _ in range(5)]
    assert [o[3] for o in outcomes] == [False] * 4 + [True]
    assert not any(o[2] for o in outcomes)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(LEFT)


@pytest.mark.parametrize("action", [4, -1, 1.0, True, "up", None])
def test_invalid_actions_raise_value_error_naming_action(action):
    env = GridWorld()
    env.reset()
    with pytest.raises(ValueError, match="action"):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = GridWorld()
    env.reset()
    assert env.step(np.int64(UP))[0] == 10


def test_step_before_reset_is_an_error():
    with pytest.raises(RuntimeError, match="reset"):
        GridWorld().step(UP)


def trajectory(env, seed, steps=30):
    env.reset(seed=seed)
    return walk(env, steps)


def walk(env, steps):
    """Press RIGHT until the episode ends or ``steps`` moves; the states visited."""
    states = []
    for _ in range(steps):
        state, _, terminated, truncated, _ = env.step(RIGHT)
        states.append(state)
        if terminated or truncated:
            break
    return states


def test_slippery_world_is_deterministic_under_a_seed():
    env = GridWorld(slip=0.5, max_steps=100)
    first = trajectory(env, seed=1)
    assert trajectory(env, seed=1) == first
    assert trajectory(GridWorld(slip=0.5, max_steps=100), seed=1) == first
    assert trajectory(env, seed=2) != first


def test_reset_without_seed_continues_the_generator():
    env = GridWorld(slip=0.5, max_steps=100)
    trajectory(env, seed=1)
    env.reset()
    continued = walk(env, 30)
    assert continued != trajectory(env, seed=1)


def test_slip_probability_is_honoured():
    # a commanded move is replaced with probability slip, and the random replacement
    # differs from the command 3 times in 4, so 0.4 * 3/4 = 30 % of moves go astray
    env = GridWorld(["S" + "." * 8 + "G"], slip=0.4, max_steps=10)
    env.reset(seed=0)
    astray = 0
    trials = 4000
    for _ in range(trials):
        env.reset()
        state, *_ = env.step(RIGHT)
        astray += state != 1
    # from the left edge, up/down/left all leave the agent at 0
    assert abs(astray / trials - 0.3) < 0.03


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (["S..", "..."], "'G'"),
        (["S.G", ".."], "equal length"),
        (["S.G", "x.."], "only contain"),
        (["S.G", "S.."], "'S'"),
    ],
)
def test_bad_layouts_are_refused(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


def test_rollout_records_one_entry_per_step():
    env = GridWorld()
    path = iter([UP, UP, UP, RIGHT, RIGHT, RIGHT, RIGHT])
    states, actions, rewards = rollout(env, lambda state: next(path), seed=0)
    assert states.tolist() == [15, 10, 5, 0, 1, 2, 3]
    assert actions.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert rewards.tolist() == [-1.0] * 7
