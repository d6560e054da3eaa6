"""One rule for count arguments across the package: a non-integer is a TypeError, an integer
below the minimum a ValueError, and the message names the argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import softmax_lab
from softmax_lab.calibration import expected_calibration_error

P = np.array([[0.9, 0.1], [0.2, 0.8]])

CALLS = {
    "n_bins": lambda value: expected_calibration_error(P, [0, 1], n_bins=value),
    "chunk_size": lambda value: softmax_lab.online_softmax([1.0, 2.0], chunk_size=value),
    "tile_size": lambda value: softmax_lab.tiled_attention(P, P, P, tile_size=value),
    "num_shards": lambda value: softmax_lab.split_vocab(P, value),
    "runs": lambda value: softmax_lab.run_bandit("greedy", runs=value, steps=1),
    "max_steps": lambda value: softmax_lab.GridWorld(max_steps=value),
    "n_hidden": lambda value: softmax_lab.make_mlp(4, value, 3),
    "epochs": lambda value: softmax_lab.train(
        softmax_lab.make_mlp(2, 2, 2), torch.zeros(2, 2), torch.tensor([0, 1]), epochs=value
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError), ("3", TypeError)],
)
def test_count_arguments_follow_one_rule(name, value, error):
    with pytest.raises(error, match=f"{name} must be an int >= 1; got"):
        CALLS[name](value)


def test_numpy_integers_are_accepted():
    assert softmax_lab.split_vocab(P, np.int64(2))[0].shape == (2, 1)


def test_check_real_names_the_argument_and_the_range():
    from softmax_lab._shared import check_real

    assert check_real(np.float32(0.5), "p", low=0.0, high=1.0) == 0.5
    assert check_real(np.array(2), "n") == 2.0
    for value in (True, "1", 1j, [1.0], np.array([1.0, 2.0]), None):
        with pytest.raises(TypeError, match="p must be a number in \\[0, 1\\); got"):
            check_real(value, "p", low=0.0, high=1.0, high_open=True)
    for value in (float("nan"), float("inf"), -0.1, 1.0):
        with pytest.raises(ValueError, match="p must be a number in \\[0, 1\\); got"):
            check_real(value, "p", low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        check_real(0.0, "lr", low=0.0, low_open=True)


def test_check_flag_takes_only_booleans():
    from softmax_lab._shared import check_flag

    assert check_flag(np.bool_(True), "hard") is True
    assert check_flag(np.asarray(False), "hard") is False  # as notebook 07 passes it
    for value in (1, 0, "yes", None, np.array([True])):
        with pytest.raises(TypeError, match="hard must be True or False"):
            check_flag(value, "hard")


def test_check_distributions_points_at_the_bad_row():
    from softmax_lab._shared import check_distributions

    check_distributions(np.array([[0.5, 0.5], [1.0, 0.0]]), "p")
    with pytest.raises(ValueError, match="each row of p must sum to 1; row 1 sums to 0.9"):
        check_distributions(np.array([[0.5, 0.5], [0.9, 0.0]]), "p")
    with pytest.raises(ValueError, match="row \\(1, 0\\) sums to 2"):
        check_distributions(np.array([[[1.0, 0.0]], [[1.0, 1.0]]]), "p")
    with pytest.raises(ValueError, match="p must be finite and lie in \\[0, 1\\]"):
        check_distributions(np.array([[1.5, -0.5]]), "p")


def test_as_indices_takes_integers_and_an_empty_sequence_only() -> None:
    from softmax_lab._shared import as_indices

    assert as_indices([], "target").dtype == np.intp  # np.asarray([]) alone is float64
    assert as_indices(np.array([2, 0], dtype=np.uint8), "target").tolist() == [2, 0]
    for bad in ([1.5, 0.0], [True, False], ["1"]):
        with pytest.raises(TypeError, match="target must hold integer class indices; got dtype"):
            as_indices(bad, "target")
