"""Attention (softmax_lab.attention) against torch's scaled_dot_product_attention."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from softmax_lab.attention import (
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    torch_attention_with_weights,
)


def _inputs(seed: int, batch: tuple[int, ...] = (2,), n_q: int = 4, n_k: int = 6, d: int = 8):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(*batch, n_q, d))
    k = rng.normal(size=(*batch, n_k, d))
    v = rng.normal(size=(*batch, n_k, 3))
    return q, k, v


def _sdpa(q, k, v, mask=None, is_causal=False):
    t = [torch.from_numpy(np.ascontiguousarray(a)) for a in (q, k, v)]
    m = None if mask is None else torch.from_numpy(np.ascontiguousarray(mask))
    return F.scaled_dot_product_attention(*t, attn_mask=m, is_causal=is_causal).numpy()


def _attend(q, k, v, mask=None, **kwargs):
    """The NumPy output and weights for the same arguments."""
    return scaled_dot_product_attention(q, k, v, mask, **kwargs), attention_weights(
        q, k, mask, **kwargs
    )


def _torch_weights(q, k, mask=None):
    """Reference weights from torch.softmax with -inf at masked scores."""
    scores = torch.from_numpy(q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(np.ascontiguousarray(mask)), float("-inf"))
    return torch.softmax(scores, dim=-1).numpy()


# --- helpers ---------------------------------------------------------------------------


def test_causal_mask_is_lower_triangular():
    expected = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(causal_mask(4), expected)
    assert causal_mask(0).shape == (0, 0)


def test_padding_mask_marks_real_tokens():
    expected = np.array([[1, 1, 0], [0, 0, 0], [1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(padding_mask([2, 0, 3], 3), expected)


@pytest.mark.parametrize(
    ("lengths", "n", "error"),
    [
        ([4], 3, ValueError),
        ([-1], 3, ValueError),
        ([1.5], 3, TypeError),
        ([1], -2, ValueError),
        ([1], 2.0, TypeError),
    ],
)
def test_mask_helpers_reject_bad_input(lengths, n, error):
    with pytest.raises(error):
        padding_mask(lengths, n)


def test_causal_mask_rejects_non_int():
    with pytest.raises(TypeError, match="n must be an int >= 0"):
        causal_mask(3.0)


# --- NumPy attention vs torch SDPA -----------------------------------------------------


def test_matches_torch_sdpa_without_mask():
    q, k, v = _inputs(0)
    output, weights = _attend(q, k, v)
    np.testing.assert_allclose(output, _sdpa(q, k, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights, _torch_weights(q, k), rtol=1e-12, atol=1e-15)


def test_matches_torch_sdpa_with_causal_mask():
    q, k, v = _inputs(1, n_q=5, n_k=5)
    output, weights = _attend(q, k, v, causal_mask(5))
    np.testing.assert_allclose(output, _sdpa(q, k, v, is_causal=True), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(output, _sdpa(q, k, v, mask=causal_mask(5)), rtol=1e-12, atol=1e-12)
    assert np.all(weights[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_matches_torch_sdpa_with_padding_mask():
    q, k, v = _inputs(2, batch=(2,), n_q=4, n_k=6)
    mask = padding_mask([6, 3], 6)[:, None, :]  # (batch, 1, n_k): broadcasts over queries
    output, weights = _attend(q, k, v, mask)
    np.testing.assert_allclose(output, _sdpa(q, k, v, mask=mask), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights, _torch_weights(q, k, mask), rtol=1e-12, atol=1e-15)
    assert np.all(weights[1, :, 3:] == 0)


def test_is_causal_matches_torch_and_the_explicit_mask():
    q, k, v = _inputs(9, n_q=5, n_k=5)
    output, weights = _attend(q, k, v, is_causal=True)
    np.testing.assert_allclose(output, _sdpa(q, k, v, is_causal=True), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(weights, attention_weights(q, k, causal_mask(5)))
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(q, k, v, causal_mask(5), is_causal=True)


def test_output_is_the_weighted_average_of_the_values():
    q, k, v = _inputs(10, batch=(3,), n_q=2, n_k=7)
    np.testing.assert_allclose(
        scaled_dot_product_attention(q, k, v), attention_weights(q, k) @ v, rtol=1e-15
    )


def test_weights_rows_are_distributions():
    q, k, v = _inputs(3, batch=(3, 2))
    _, weights = _attend(q, k, v, causal_mask(6)[:4])
    assert weights.shape == (3, 2, 4, 6)
    assert np.all(weights >= 0) and np.all(weights <= 1)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)


def test_scale_argument_and_hand_computed_example():
    q, k, v = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[10.0], [20.0]])
    _, weights = _attend(q, k, v)
    p = 1 / (1 + math.exp(-1 / math.sqrt(2)))  # two-key softmax is a sigmoid of the difference
    np.testing.assert_allclose(weights, [[p, 1 - p]], rtol=1e-14)
    _, unscaled = _attend(q, k, v, scale=1.0)
    np.testing.assert_allclose(
        unscaled, [[1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]], rtol=1e-14
    )


def test_fully_masked_row_is_zero_and_torch_sdpa_agrees():
    q, k, v = _inputs(4, batch=(), n_q=3, n_k=5)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    output, weights = _attend(q, k, v, mask)
    assert np.all(weights[1] == 0) and np.all(output[1] == 0)
    # torch >= 2.5: SDPA returns zeros for a query row with no key allowed ...
    reference = _sdpa(q, k, v, mask=mask)
    assert np.all(reference[1] == 0)
    np.testing.assert_allclose(output, reference, rtol=1e-12, atol=1e-12)
    # ... while plain torch.softmax over that row of -inf gives NaN.
    assert np.all(np.isnan(_torch_weights(q, k, mask)[1]))


def test_float32_stays_float32():
    q, k, v = (a.astype(np.float32) for a in _inputs(5))
    output, weights = _attend(q, k, v)
    assert output.dtype == np.float32 and weights.dtype == np.float32


@settings(max_examples=25, deadline=None)
@given(
    n_q=st.integers(1, 5),
    n_k=st.integers(1, 5),
    d=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_random_masks_match_sdpa(n_q, n_k, d, seed):
    q, k, v = _inputs(seed, batch=(2,), n_q=n_q, n_k=n_k, d=d)
    mask = np.random.default_rng(seed).random((2, n_q, n_k)) < 0.6
    output, weights = _attend(q, k, v, mask)
    np.testing.assert_allclose(output, _sdpa(q, k, v, mask=mask), rtol=1e-10, atol=1e-12)
    assert np.all(weights[~mask] == 0)
    rows = mask.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[rows], 1.0, rtol=1e-12)
    assert np.all(weights.sum(axis=-1)[~rows] == 0)


# --- shape errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shapes", "match"),
    [
        (((4, 8), (6, 7), (6, 3)), r"key must have shape \(\.\.\., n_k, d\) with d = 8"),
        (((4, 8), (6, 8), (5, 3)), r"value must have shape \(\.\.\., n_k, d_v\) with n_k = 6"),
        (((8,), (6, 8), (6, 3)), r"query must have shape \(\.\.\., n_q, d\)"),
        (((2, 4, 8), (3, 6, 8), (3, 6, 3)), "batch dimensions"),
    ],
)
def test_shape_errors_name_the_argument(shapes, match):
    q, k, v = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match=match):
        scaled_dot_product_attention(q, k, v)
    with pytest.raises(ValueError, match=match):
        torch_attention_with_weights(*(torch.from_numpy(a) for a in (q, k, v)))


def test_mask_shape_and_dtype_errors():
    q, k, v = _inputs(6, batch=(), n_q=4, n_k=6)
    with pytest.raises(
        ValueError,
        match=r"attn_mask must broadcast to the scores' shape .* \(4, 6\); got shape \(6, 4\)",
    ):
        scaled_dot_product_attention(q, k, v, np.ones((6, 4), dtype=bool))
    with pytest.raises(TypeError, match="attn_mask must be boolean"):
        scaled_dot_product_attention(q, k, v, np.ones((4, 6)))
    t = [torch.from_numpy(a) for a in (q, k, v)]
    with pytest.raises(ValueError, match="attn_mask must broadcast"):
        torch_attention_with_weights(*t, torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="not both"):
        torch_attention_with_weights(*t, torch.ones(4, 6, dtype=torch.bool), is_causal=True)


# --- torch version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["none", "causal", "is_causal", "padding", "float", "fully_masked", "float_fully_masked"],
)
def test_torch_version_matches_sdpa(case):
    q, k, v = (torch.from_numpy(a) for a in _inputs(7, batch=(2, 3), n_q=5, n_k=5))
    mask, is_causal = None, False
    if case == "causal":
        mask = torch.from_numpy(causal_mask(5))
    elif case == "is_causal":
        is_causal = True
    elif case == "padding":
        mask = torch.from_numpy(padding_mask([5, 2], 5))[:, None, None, :]
    elif case == "float":
        mask = torch.from_numpy(np.random.default_rng(7).normal(size=(5, 5)))
    elif case == "fully_masked":
        mask = torch.from_numpy(padding_mask([5, 0], 5))[:, None, None, :]
    elif case == "float_fully_masked":  # an additive mask with a row of -inf: SDPA gives 0 too
        mask = torch.zeros(5, 5, dtype=torch.float64)
        mask[2] = float("-inf")
        mask[3, 1:] = float("-inf")
    output, weights = torch_attention_with_weights(q, k, v, mask, is_causal=is_causal)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
    torch.testing.assert_close(output, expected, rtol=1e-12, atol=1e-12)
    assert not torch.isnan(weights).any()
    if case in ("fully_masked", "float_fully_masked"):
        assert torch.all(expected.flatten(0, -3).isnan().logical_not())
    if mask is not None and mask.dtype == torch.bool:
        np_out, np_weights = _attend(q.numpy(), k.numpy(), v.numpy(), mask.numpy())
        np.testing.assert_allclose(weights.numpy(), np_weights, rtol=1e-12, atol=1e-15)


def test_torch_version_fully_masked_gradient_is_finite():
    q, k, v = (torch.from_numpy(a).requires_grad_() for a in _inputs(8, batch=(), n_q=3, n_k=4))
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[0] = False
    output, weights = torch_attention_with_weights(q, k, v, mask)
    assert torch.all(weights[0] == 0) and torch.all(output[0] == 0)
    output.sum().backward()
    for tensor in (q, k, v):
        assert torch.isfinite(tensor.grad).all()
    assert torch.all(q.grad[0] == 0)  # a query that sees nothing gets no gradient


# --- softmax with an implicit zero logit ------------------------------------------------


def test_off_by_one_softmax_is_softmax_with_an_extra_zero_logit():
    from scipy.special import softmax as scipy_softmax

    from softmax_lab.attention import off_by_one_softmax

    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 5)) * 3
    padded = np.concatenate([np.zeros((4, 1)), x], axis=1)
    assert np.allclose(off_by_one_softmax(x), scipy_softmax(padded, axis=1)[:, 1:])
    assert np.allclose(off_by_one_softmax(x.T, axis=0), off_by_one_softmax(x).T)
    assert np.all(off_by_one_softmax(x).sum(axis=1) < 1)


def test_off_by_one_softmax_extremes():
    from softmax_lab.attention import off_by_one_softmax

    assert np.allclose(off_by_one_softmax([1000.0, 1000.0]), [0.5, 0.5])  # no overflow
    assert np.all(off_by_one_softmax([-800.0, -900.0]) == 0)  # nothing attended to
    assert np.allclose(off_by_one_softmax([0.0, -np.inf]), [0.5, 0.0])
    assert off_by_one_softmax(np.float32([0.0])).dtype == np.float32
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        off_by_one_softmax([np.inf, 0.0])
    with pytest.raises(ValueError, match="scalar"):
        off_by_one_softmax(0.0)
