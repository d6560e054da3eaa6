"""Vocabulary-parallel cross-entropy and sharded attention on real gloo process groups.

Every launch spawns processes that import torch (a few seconds each), so these tests are
marked slow; they still run in ``make test``. The references are torch's own
``F.cross_entropy`` + autograd and ``F.scaled_dot_product_attention`` on the full tensors.
"""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from softmax_lab.distributed import (
    RankError,
    attention_worker,
    cross_entropy_worker,
    free_port,
    launch,
    parallel_attention,
    parallel_cross_entropy,
)


def _reference(logits, target, reduction):
    x = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor(target), reduction=reduction)
    loss.backward(torch.ones_like(loss))
    return loss.detach().numpy(), x.grad.numpy()


def _no_children_left():
    return multiprocessing.active_children() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("world_size", "widths", "reduction"),
    [
        (2, None, "mean"),  # 13 columns: 7 + 6
        (4, [1, 5, 4, 3], "none"),  # uneven, a one-column rank
        (4, None, "sum"),
    ],
)
def test_loss_and_gradient_equal_torch_on_the_full_logits(world_size, widths, reduction):
    rng = np.random.default_rng(world_size)
    logits = rng.normal(size=(7, 13)) * 4
    logits[0] += 1000.0  # large logits: the shifted exponentials must not overflow
    # targets on shard boundaries (0, 6/7, 12), in every shard, and two padding rows
    target = np.array([0, 6, 7, -100, 12, 5, -100])
    loss, grad = parallel_cross_entropy(
        logits, target, world_size, widths=widths, reduction=reduction
    )
    expected_loss, expected_grad = _reference(logits, target, reduction)
    assert np.abs(loss - expected_loss).max() <= 1e-12
    assert np.abs(grad - expected_grad).max() <= 1e-12
    assert np.all(grad[target == -100] == 0)  # padding rows: no gradient at all
    assert _no_children_left()


@pytest.mark.slow
def test_every_row_ignored_gives_nan_mean_as_torch():
    logits = np.zeros((2, 4))
    target = np.array([-100, -100])
    loss, grad = parallel_cross_entropy(logits, target, 2)
    assert np.isnan(loss) and np.isnan(
        F.cross_entropy(torch.tensor(logits), torch.tensor(target)).item()
    )
    assert grad.shape == (2, 4)


@pytest.mark.slow
@pytest.mark.parametrize(("world_size", "n_keys"), [(2, 9), (4, 3)])  # (4, 3): a rank with no key
def test_sharded_attention_equals_full_attention(world_size, n_keys):
    rng = np.random.default_rng(n_keys)
    q, k = rng.normal(size=(5, 8)) * 3, rng.normal(size=(n_keys, 8)) * 3
    v = rng.normal(size=(n_keys, 2))
    output, ranks = parallel_attention(q, k, v, world_size)
    expected = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v))).numpy()
    assert np.abs(output - expected).max() <= 1e-12
    assert [r["keys"] for r in ranks] == [len(s) for s in np.array_split(k, world_size)]
    lse = torch.logsumexp(torch.tensor(q @ k.T / np.sqrt(8)), dim=-1).numpy()
    for rank in ranks:  # every rank ends with the same merged state
        assert np.abs(rank["output"] - expected).max() <= 1e-12
        assert np.abs(rank["logsumexp"] - lse).max() <= 1e-12
    assert _no_children_left()


@pytest.mark.slow
def test_a_rank_that_raises_stops_the_launch_with_its_error():
    logits = np.zeros((3, 6))
    shards = [logits[:, :3], logits[0, 3:]]  # rank 1 got a 1-D shard; rank 0 waits for it
    start = time.monotonic()
    with pytest.raises(
        RankError, match=r"rank 1 of 2 raised ValueError: local_logits must be a 2-D"
    ):
        launch(cross_entropy_worker, 2, shards, np.zeros(3, dtype=int), timeout=30)
    assert time.monotonic() - start < 25  # not the collective's 30 s timeout
    assert _no_children_left()


@pytest.mark.slow
def test_ranks_with_mismatched_batches_are_named():
    shards = [np.zeros((3, 2)), np.zeros((2, 2))]
    with pytest.raises(RankError, match="rank 0 has 3 rows, rank 1 has 2 rows"):
        launch(cross_entropy_worker, 2, shards, np.zeros(3, dtype=int), timeout=30)
    assert _no_children_left()


@pytest.mark.slow
def test_a_rank_without_columns_is_an_error_on_the_launching_side():
    # parallel_cross_entropy refuses such widths before spawning; the ranks check it too
    with pytest.raises(ValueError, match="each of widths must be an int >= 1; got 0"):
        parallel_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), 2, widths=[0, 3])
    shards = [np.zeros((2, 0)), np.zeros((2, 3))]
    with pytest.raises(RankError, match="rank 0 holds no vocabulary column"):
        launch(cross_entropy_worker, 2, shards, np.array([0, 1]))
    assert _no_children_left()


@pytest.mark.slow
def test_a_target_outside_the_vocabulary_is_an_error():
    # parallel_cross_entropy refuses it before spawning; the ranks check it too
    with pytest.raises(ValueError, match=r"class indices in 0\.\.3 or ignore_index=-100; found 4"):
        parallel_cross_entropy(np.zeros((2, 4)), np.array([0, 4]), 2)
    shards = np.array_split(np.zeros((2, 4)), 2, axis=1)
    with pytest.raises(RankError, match=r"class indices in 0\.\.3"):
        launch(cross_entropy_worker, 2, shards, np.array([0, 4]))
    assert _no_children_left()


def test_world_larger_than_the_vocabulary_fails_before_spawning():
    with pytest.raises(ValueError, match="world_size 4 is larger than the vocabulary"):
        parallel_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), 4)
    assert _no_children_left()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"world_size": 0}, ValueError, "world_size"),
        ({"world_size": 2.0}, TypeError, "world_size"),
        ({"world_size": 2, "widths": [1, 1]}, ValueError, "widths must be 2 column counts"),
        ({"world_size": 2, "reduction": "avg"}, ValueError, "reduction"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, message):
    with pytest.raises(error, match=message):
        parallel_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), **kwargs)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="target"):
        parallel_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match="do not fit"):
        parallel_attention(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros((4, 1)), 2)


def test_launch_refuses_a_function_spawned_processes_cannot_import():
    def local_worker(rank, world_size, backend):
        return rank

    with pytest.raises(TypeError, match="module-level function"):
        launch(local_worker, 2)
    with pytest.raises(ValueError, match="timeout"):
        launch(attention_worker, 2, timeout=0)


def test_free_port_can_be_bound():
    import socket

    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
