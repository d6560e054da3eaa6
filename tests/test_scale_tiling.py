"""Flash attention's forward (query tiles, causal skipping) and backward, chunked linear +
cross-entropy: against torch's SDPA, logsumexp, cross_entropy and autograd in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from softmax_lab.scale import (
    chunked_linear_cross_entropy,
    flash_attention_backward,
    flash_attention_forward,
)


def _torch_attention(q, k, v, grad_output, is_causal):
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=is_causal)
    out.backward(torch.tensor(grad_output))
    return out.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize(
    ("n_q", "n_k", "block_q", "block_k"),
    [(9, 9, 4, 3), (6, 11, 6, 5), (7, 7, 1, 7), (5, 8, 16, 16)],
)
def test_flash_forward_and_backward_equal_torch_autograd(is_causal, n_q, n_k, block_q, block_k):
    rng = np.random.default_rng(n_q * 100 + n_k)
    q, k = rng.normal(size=(n_q, 4)) * 3, rng.normal(size=(n_k, 4)) * 3
    v, grad_output = rng.normal(size=(n_k, 3)), rng.normal(size=(n_q, 3))
    out, dq, dk, dv = _torch_attention(q, k, v, grad_output, is_causal)
    fwd = flash_attention_forward(q, k, v, is_causal=is_causal, block_q=block_q, block_k=block_k)
    assert np.abs(fwd.output - out).max() < 1e-12
    scores = torch.tensor(q @ k.T / 2.0)  # scale 1/sqrt(4)
    if is_causal:
        scores = scores.masked_fill(~torch.ones(n_q, n_k, dtype=torch.bool).tril(), -torch.inf)
    assert np.abs(fwd.logsumexp - torch.logsumexp(scores, dim=-1).numpy()).max() < 1e-12
    grads = flash_attention_backward(
        q, k, v, fwd.output, fwd.logsumexp, grad_output,
        is_causal=is_causal, block_q=block_k, block_k=block_q,  # other tiles than forward
    )  # fmt: skip
    for ours, theirs in zip(grads, (dq, dk, dv), strict=True):
        assert np.abs(ours - theirs).max() < 1e-11


@pytest.mark.parametrize(
    ("n", "block", "skipped"),
    [(8, 2, 6), (8, 8, 0), (8, 1, 28), (9, 4, 3)],  # strictly upper blocks: B(B-1)/2 for B blocks
)
def test_causal_forward_skips_the_blocks_above_the_diagonal(n, block, skipped):
    x = np.random.default_rng(0).normal(size=(n, 2))
    fwd = flash_attention_forward(x, x, x, is_causal=True, block_q=block, block_k=block)
    blocks = -(-n // block)
    assert (fwd.blocks_skipped, fwd.blocks_computed) == (skipped, blocks * blocks - skipped)
    full = flash_attention_forward(x, x, x, block_q=block, block_k=block)
    assert (full.blocks_skipped, full.blocks_computed) == (0, blocks * blocks)


def test_no_keys_give_zero_output_and_minus_inf_logsumexp():
    fwd = flash_attention_forward(
        np.ones((2, 3)), np.ones((0, 3)), np.ones((0, 1)), block_q=1, block_k=1
    )
    assert np.all(fwd.output == 0) and np.all(fwd.logsumexp == -np.inf)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"block_q": 0, "block_k": 1}, ValueError, "block_q"),
        ({"block_q": 1, "block_k": 1.5}, TypeError, "block_k"),
    ],
)
def test_flash_bad_blocks_name_themselves(kwargs, error, message):
    with pytest.raises(error, match=message):
        flash_attention_forward(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 1)), **kwargs)


def test_flash_refuses_batched_input_and_wrong_saved_shapes():
    with pytest.raises(ValueError, match="query must be 2-D"):
        flash_attention_forward(
            np.ones((1, 2, 2)), np.ones((2, 2)), np.ones((2, 1)), block_q=1, block_k=1
        )
    with pytest.raises(ValueError, match=r"logsumexp must have shape \(2,\)"):
        flash_attention_backward(
            np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 1)), np.ones((2, 1)), np.ones(3),
            np.ones((2, 1)), block_q=1, block_k=1,
        )  # fmt: skip


def _torch_linear_ce(hidden, weight, target):
    h, w = (torch.tensor(a, requires_grad=True) for a in (hidden, weight))
    loss = F.cross_entropy(h @ w.T, torch.tensor(target))
    loss.backward()
    return loss.item(), h.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("chunk_size", [1, 7, 50, 64])
def test_chunked_linear_cross_entropy_equals_torch_autograd(chunk_size):
    rng = np.random.default_rng(chunk_size)
    hidden, weight = rng.normal(size=(6, 5)) * 3, rng.normal(size=(50, 5)) * 3
    target = np.array([0, 49, -100, 7, 13, 6])  # chunk edges for chunk_size 7, a padding row
    expected = _torch_linear_ce(hidden, weight, target)
    loss, grad_hidden, grad_weight = chunked_linear_cross_entropy(
        hidden, weight, target, chunk_size=chunk_size
    )
    assert abs(loss - expected[0]) < 1e-12
    assert np.abs(grad_hidden - expected[1]).max() < 1e-12
    assert np.abs(grad_weight - expected[2]).max() < 1e-12
    assert np.all(grad_hidden[2] == 0)  # the padding row gets no gradient


def test_chunked_linear_cross_entropy_keeps_only_a_chunk_of_logits():
    import tracemalloc

    rng = np.random.default_rng(1)
    hidden, weight = rng.normal(size=(64, 8)), rng.normal(size=(4096, 8))
    target = rng.integers(0, 4096, size=64)
    tracemalloc.start()
    chunked_linear_cross_entropy(hidden, weight, target, chunk_size=256)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    logits_bytes = 64 * 4096 * 8  # what one (N, V) float64 array would take
    assert peak < logits_bytes  # (the gradient of weight, V x d, is 1/8 of it)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((np.ones((2, 3)), np.ones((4, 2)), [0, 1]), {"chunk_size": 2}, ValueError, "same d"),
        ((np.ones((2, 3)), np.ones((4, 3)), [0, 4]), {"chunk_size": 2}, ValueError, r"0\.\.3"),
        ((np.ones((2, 3)), np.ones((4, 3)), [0.0, 1.0]), {"chunk_size": 2}, TypeError, "integer"),
        ((np.ones((2, 3)), np.ones((4, 3)), [0, 1]), {"chunk_size": 0}, ValueError, "chunk_size"),
    ],
)
def test_chunked_linear_cross_entropy_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        chunked_linear_cross_entropy(*args, **kwargs)
