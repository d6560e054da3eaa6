"""Online softmax, tiled attention and vocab-parallel cross-entropy (softmax_lab.scale).

Every result is compared with an independent reference: torch.softmax, scipy's
logsumexp, torch's scaled_dot_product_attention and torch's cross_entropy, or numbers
derived by hand.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import logsumexp as scipy_logsumexp

from softmax_lab import cross_entropy, softmax
from softmax_lab.attention import causal_mask, padding_mask, scaled_dot_product_attention
from softmax_lab.scale import (
    NormaliserState,
    chunk_state,
    merge_states,
    online_logsumexp,
    online_softmax,
    split_vocab,
    tiled_attention,
    vocab_parallel_cross_entropy,
)

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def _torch_softmax(x, axis=-1):
    return torch.softmax(torch.from_numpy(np.asarray(x, dtype=float)), dim=axis).numpy()


# --- states and merging ----------------------------------------------------------------


def test_chunk_state_by_hand():
    state = chunk_state([0.0, math.log(2.0), math.log(3.0)])
    assert state.max == pytest.approx(math.log(3.0))
    assert state.sum == pytest.approx((1 + 2 + 3) / 3)


def test_empty_chunk_is_the_identity():
    empty = chunk_state(np.zeros(0))
    assert empty.max == -np.inf and empty.sum == 0
    state = chunk_state([1.0, 5.0])
    for merged in (merge_states(state, empty), merge_states(empty, state)):
        assert merged.max == state.max and merged.sum == state.sum
    both = merge_states(empty, empty)
    assert both.max == -np.inf and both.sum == 0 and not np.isnan(both.sum)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(finite, max_size=5), min_size=3, max_size=3))
def test_merge_is_associative_and_commutative(chunks):
    a, b, c = (chunk_state(np.array(chunk, dtype=float)) for chunk in chunks)
    left = merge_states(merge_states(a, b), c)
    right = merge_states(a, merge_states(b, c))
    swapped = merge_states(c, merge_states(b, a))
    for other in (right, swapped):
        assert other.max == left.max
        assert other.sum == pytest.approx(left.sum, rel=1e-12)
    everything = np.concatenate([np.array(chunk, dtype=float) for chunk in chunks])
    assert left.logsumexp() == pytest.approx(scipy_logsumexp(everything), rel=1e-12, abs=1e-12)


def test_merge_handles_large_values_without_overflow():
    merged = merge_states(chunk_state([1000.0]), chunk_state([999.0, 1000.0]))
    assert merged.max == 1000.0
    assert merged.sum == pytest.approx(2 + math.exp(-1))


def test_merge_rejects_non_pairs():
    with pytest.raises(TypeError, match="b must be a"):
        merge_states(chunk_state([1.0]), 3.0)


# --- online logsumexp and softmax -------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 12)), elements=finite),
    st.integers(1, 14),
)
def test_online_softmax_equals_softmax_for_any_chunk_size(x, chunk_size):
    expected = _torch_softmax(x)
    np.testing.assert_allclose(online_softmax(x, chunk_size), expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(online_softmax(x, chunk_size), softmax(x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_online_softmax_any_axis_and_dtype(axis):
    x = np.random.default_rng(0).normal(size=(4, 5, 6)) * 30
    result = online_softmax(x, 2, axis=axis)
    np.testing.assert_allclose(result, _torch_softmax(x, axis), rtol=1e-12)
    as_float32 = online_softmax(x.astype(np.float32), 4, axis=axis)
    assert as_float32.dtype == np.float32
    np.testing.assert_allclose(as_float32, _torch_softmax(x, axis), rtol=1e-5, atol=1e-7)


def test_online_softmax_large_values_do_not_overflow():
    np.testing.assert_allclose(online_softmax([1000.0, 1000.0, -1000.0], 1), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(online_softmax([-1000.0, -1001.0], 1), _torch_softmax([0.0, -1.0]))


def test_online_softmax_non_finite_rows_as_softmax():
    x = np.array(
        [
            [0.0, -np.inf, 1.0, -np.inf],  # -inf entries: exactly 0 there
            [-np.inf] * 4,  # nothing to normalise: NaN
            [np.inf, 0.0, np.inf, 5.0],  # +inf entries share the mass
            [np.nan, 0.0, 1.0, 2.0],  # NaN spreads
        ]
    )
    for chunk_size in (1, 3, 4):
        result = online_softmax(x, chunk_size)
        np.testing.assert_allclose(result[0], _torch_softmax([0.0, -np.inf, 1.0, -np.inf]))
        assert result[0, 1] == 0.0 and result[0, 3] == 0.0
        assert np.isnan(result[1]).all() and np.isnan(result[3]).all()
        np.testing.assert_array_equal(result[2], [0.5, 0.0, 0.5, 0.0])
        np.testing.assert_array_equal(result, softmax(x))


def test_online_softmax_empty_axis():
    assert online_softmax(np.zeros((3, 0)), 2).shape == (3, 0)


@pytest.mark.parametrize(
    ("chunk_size", "error", "message"),
    [
        (0, ValueError, "chunk_size must be an int >= 1"),
        (-3, ValueError, "chunk_size must be an int >= 1"),
        (1.5, TypeError, "chunk_size must be an int >= 1"),
        (True, TypeError, "chunk_size must be an int >= 1"),
    ],
)
def test_online_softmax_rejects_bad_chunk_size(chunk_size, error, message):
    with pytest.raises(error, match=message):
        online_softmax([1.0, 2.0], chunk_size)


def test_online_softmax_rejects_scalar():
    with pytest.raises(ValueError, match="x must have at least one dimension"):
        online_softmax(3.0, 1)


def test_online_logsumexp_matches_scipy_and_handles_empty_chunks():
    x = np.random.default_rng(1).normal(size=(3, 17)) * 100
    for pieces in (1, 4, 17, 30):  # 30 pieces: some are empty
        chunks = np.array_split(x, pieces, axis=1)
        np.testing.assert_allclose(online_logsumexp(chunks), scipy_logsumexp(x, axis=1), rtol=1e-13)
    assert online_logsumexp(iter([[-np.inf], [], [-np.inf]])) == -np.inf
    assert online_logsumexp([[np.inf, 0.0]]) == np.inf
    assert online_logsumexp([[1e308, 1e308]]) == pytest.approx(1e308)


def test_online_logsumexp_errors():
    with pytest.raises(ValueError, match="at least one chunk"):
        online_logsumexp([])
    with pytest.raises(ValueError, match=r"chunks\[1\]"):
        online_logsumexp([np.zeros((2, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"chunks\[0\] must have at least one dimension"):
        online_logsumexp([1.0])


def test_state_logsumexp_of_empty_state_is_minus_inf():
    assert NormaliserState(np.float64(-np.inf), np.float64(0.0)).logsumexp() == -np.inf


# --- tiled attention --------------------------------------------------------------------


def _qkv(seed, batch=(2,), n_q=7, n_k=9, d=8, d_v=3):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(*batch, n_q, d)),
        rng.normal(size=(*batch, n_k, d)),
        rng.normal(size=(*batch, n_k, d_v)),
    )


def _sdpa(q, k, v, mask=None, is_causal=False):
    t = [torch.from_numpy(np.ascontiguousarray(a)) for a in (q, k, v)]
    m = None if mask is None else torch.from_numpy(np.ascontiguousarray(mask))
    return F.scaled_dot_product_attention(*t, attn_mask=m, is_causal=is_causal).numpy()


@pytest.mark.parametrize("tile_size", [1, 2, 3, 8, 9, 50])
def test_tiled_attention_without_mask(tile_size):
    q, k, v = _qkv(tile_size)
    result = tiled_attention(q, k, v, tile_size=tile_size)
    np.testing.assert_allclose(result, _sdpa(q, k, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result, scaled_dot_product_attention(q, k, v), atol=1e-12)


@pytest.mark.parametrize("tile_size", [1, 3, 4, 9])
def test_tiled_attention_causal(tile_size):
    q, k, v = _qkv(10 + tile_size, n_q=9, n_k=9)
    expected = _sdpa(q, k, v, is_causal=True)
    np.testing.assert_allclose(
        tiled_attention(q, k, v, tile_size=tile_size, is_causal=True), expected, atol=1e-12
    )
    np.testing.assert_allclose(
        tiled_attention(q, k, v, causal_mask(9), tile_size=tile_size), expected, atol=1e-12
    )


@pytest.mark.parametrize("tile_size", [1, 2, 5])
def test_tiled_attention_fully_masked_rows_are_zero(tile_size):
    q, k, v = _qkv(3, batch=(2,), n_q=4, n_k=5)
    mask = np.broadcast_to(padding_mask([5, 0], 5)[:, None, :], (2, 4, 5)).copy()
    mask[0, 2] = False  # one fully masked query in the first sequence too
    result = tiled_attention(q, k, v, mask, tile_size=tile_size)
    assert not np.isnan(result).any()
    assert np.all(result[1] == 0) and np.all(result[0, 2] == 0)
    np.testing.assert_allclose(result, _sdpa(q, k, v, mask), atol=1e-12)
    np.testing.assert_allclose(result, scaled_dot_product_attention(q, k, v, mask), atol=1e-12)


def test_tiled_attention_large_scores_and_broadcast_batch():
    q, k, v = _qkv(5, batch=(3, 1), n_q=4, n_k=6)
    k = k[0]  # (1, 6, 8): broadcasts against q's batch (3, 1)
    v = v[0]
    result = tiled_attention(q * 100, k, v, tile_size=4)
    assert result.shape == (3, 1, 4, 3)
    np.testing.assert_allclose(result, scaled_dot_product_attention(q * 100, k, v), atol=1e-12)


def test_tiled_attention_custom_scale():
    q, k, v = _qkv(6)
    expected = scaled_dot_product_attention(q, k, v, scale=0.5)
    np.testing.assert_allclose(
        tiled_attention(q, k, v, tile_size=2, scale=0.5), expected, atol=1e-12
    )


def test_tiled_attention_errors():
    q, k, v = _qkv(0)
    with pytest.raises(ValueError, match="tile_size must be an int >= 1"):
        tiled_attention(q, k, v, tile_size=0)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        tiled_attention(q, k, v, np.ones((7, 9), bool), tile_size=2, is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be boolean"):
        tiled_attention(q, k, v, np.ones((7, 9)), tile_size=2)
    with pytest.raises(ValueError, match="attn_mask must broadcast"):
        tiled_attention(q, k, v, np.ones((7, 8), bool), tile_size=2)
    with pytest.raises(ValueError, match="key must have shape"):
        tiled_attention(q, k[..., :5], v, tile_size=2)


# --- vocab-parallel cross-entropy -------------------------------------------------------


@pytest.mark.parametrize("num_shards", [1, 2, 3, 4, 7])
def test_vocab_parallel_matches_torch_and_softmax_lab(num_shards):
    rng = np.random.default_rng(num_shards)
    logits = rng.normal(size=(6, 50)) * 5
    target = rng.integers(0, 50, size=6)
    shards = split_vocab(logits, num_shards)
    assert sum(shard.shape[-1] for shard in shards) == 50
    loss = vocab_parallel_cross_entropy(shards, target)
    reference = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target)).item()
    assert loss == pytest.approx(reference, rel=1e-12)
    assert loss == pytest.approx(cross_entropy(logits, target), rel=1e-12)
    per_row = vocab_parallel_cross_entropy(shards, target, reduction="none")
    expected_rows = F.cross_entropy(
        torch.from_numpy(logits), torch.from_numpy(target), reduction="none"
    ).numpy()
    np.testing.assert_allclose(per_row, expected_rows, rtol=1e-12)
    total = vocab_parallel_cross_entropy(shards, target, reduction="sum")
    assert total == pytest.approx(expected_rows.sum(), rel=1e-12)


def test_vocab_parallel_uneven_and_empty_shards():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 10)) + 500  # large logits: no overflow
    target = np.array([0, 9, 4])
    shards = [logits[:, :1], logits[:, 1:1], logits[:, 1:7], logits[:, 7:]]  # one empty
    expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target)).item()
    assert vocab_parallel_cross_entropy(shards, target) == pytest.approx(expected, rel=1e-12)
    more_shards_than_classes = split_vocab(logits, 13)
    assert vocab_parallel_cross_entropy(more_shards_than_classes, target) == pytest.approx(
        expected, rel=1e-12
    )


def test_vocab_parallel_batched_leading_axes():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 3, 11))
    target = rng.integers(0, 11, size=(2, 3))
    expected = F.cross_entropy(
        torch.from_numpy(logits.reshape(6, 11)), torch.from_numpy(target.reshape(6))
    ).item()
    assert vocab_parallel_cross_entropy(split_vocab(logits, 3), target) == pytest.approx(expected)


def test_vocab_parallel_every_shard_order_of_ownership():
    logits = np.array([[1.0, 2.0, 3.0, 4.0]])
    for target in range(4):
        for cut in itertools.combinations(range(1, 4), 2):
            shards = np.split(logits, cut, axis=-1)
            loss = vocab_parallel_cross_entropy(shards, [target])
            by_hand = math.log(sum(math.exp(z) for z in logits[0])) - logits[0, target]
            assert loss == pytest.approx(by_hand, rel=1e-13)


def test_vocab_parallel_errors():
    shards = split_vocab(np.zeros((2, 6)), 2)
    with pytest.raises(ValueError, match="class indices in \\[0, 6\\); found 6"):
        vocab_parallel_cross_entropy(shards, [0, 6])
    with pytest.raises(ValueError, match="target must have shape \\(2,\\)"):
        vocab_parallel_cross_entropy(shards, [0, 1, 2])
    with pytest.raises(TypeError, match="target must hold integer"):
        vocab_parallel_cross_entropy(shards, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"logit_shards\[1\] must have shape"):
        vocab_parallel_cross_entropy([np.zeros((2, 3)), np.zeros((3, 3))], [0, 1])
    with pytest.raises(ValueError, match="at least one shard"):
        vocab_parallel_cross_entropy([], [0])
    with pytest.raises(ValueError, match="reduction must be"):
        vocab_parallel_cross_entropy(shards, [0, 1], reduction="avg")
    with pytest.raises(ValueError, match="num_shards must be an int >= 1"):
        split_vocab(np.zeros((2, 6)), 0)
