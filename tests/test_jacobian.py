"""The softmax Jacobian and its O(n) products, checked against autograd and finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmax_lab import softmax, softmax_jacobian, softmax_jvp, softmax_vjp

vectors = st.integers(1, 10).flatmap(
    lambda n: arrays(np.float64, n, elements=st.floats(-30, 30, allow_nan=False))
)


@settings(max_examples=100, deadline=None)
@given(vectors)
def test_structure_symmetric_rows_sum_to_zero_psd(x):
    J = softmax_jacobian(x)
    np.testing.assert_allclose(J, J.T, atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)
    assert np.linalg.eigvalsh(J).min() >= -1e-14


@settings(max_examples=100, deadline=None)
@given(vectors, st.data())
def test_products_match_the_matrix(x, data):
    v = data.draw(arrays(np.float64, x.shape, elements=st.floats(-10, 10)))
    J = softmax_jacobian(x)
    np.testing.assert_allclose(softmax_jvp(x, v), J @ v, atol=1e-12)
    np.testing.assert_allclose(softmax_vjp(x, v), v @ J, atol=1e-12)


def test_matches_torch_autograd_jacobian():
    x = np.random.default_rng(0).normal(size=6) * 3
    expected = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, -1), torch.from_numpy(x)
    )
    np.testing.assert_allclose(softmax_jacobian(x), expected.numpy(), atol=1e-15)


def test_matches_central_finite_differences():
    x = np.random.default_rng(1).normal(size=5)
    h = 1e-6
    numeric = np.stack(
        [(softmax(x + h * e) - softmax(x - h * e)) / (2 * h) for e in np.eye(5)], axis=1
    )
    np.testing.assert_allclose(softmax_jacobian(x), numeric, atol=1e-9)


def test_vjp_matches_torch_backward_on_a_batch_along_axis_0():
    x = np.random.default_rng(2).normal(size=(4, 3))
    v = np.random.default_rng(3).normal(size=(4, 3))
    xt = torch.from_numpy(x).requires_grad_()
    torch.softmax(xt, 0).backward(torch.from_numpy(v))
    np.testing.assert_allclose(softmax_vjp(x, v, axis=0), xt.grad.numpy(), atol=1e-14)


def test_batched_shape_puts_the_matrix_last():
    x = np.zeros((2, 5, 3))
    assert softmax_jacobian(x).shape == (2, 5, 3, 3)
    assert softmax_jacobian(x, axis=1).shape == (2, 3, 5, 5)


def test_rank_is_n_minus_one():
    J = softmax_jacobian(np.array([0.3, -1.2, 2.0, 0.0]))
    assert np.linalg.matrix_rank(J) == 3


def test_saturation_makes_the_jacobian_vanish():
    norms = [np.linalg.norm(softmax_jacobian([gap, 0.0, 0.0])) for gap in (0, 5, 20, 40)]
    assert norms == sorted(norms, reverse=True) and norms[-1] < 1e-16


def test_errors():
    with pytest.raises(ValueError, match="v of shape"):
        softmax_jvp(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="complex"):
        softmax_vjp(np.zeros(3), np.ones(3, complex))
