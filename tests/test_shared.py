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
