"""logsumexp: shift identity, agreement with scipy/torch, edge cases and errors."""

import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmax_lab import logsumexp

finite = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 12)),
    elements=st.floats(-500, 500, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(finite, st.floats(-1000, 1000))
def test_shifting_the_input_shifts_the_output(x, c):
    np.testing.assert_allclose(logsumexp(x + c), logsumexp(x) + c, rtol=1e-12, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(finite)
def test_agrees_with_scipy_and_torch(x):
    # absolute tolerance: near 0 ours keeps relative accuracy (log1p) where they round
    np.testing.assert_allclose(
        logsumexp(x), scipy.special.logsumexp(x, axis=-1), rtol=1e-13, atol=1e-13
    )
    np.testing.assert_allclose(
        logsumexp(x), torch.logsumexp(torch.from_numpy(x), -1).numpy(), rtol=1e-13, atol=1e-13
    )


def test_bounds_max_and_max_plus_log_n():
    x = np.random.default_rng(0).normal(size=(10, 7))
    value = logsumexp(x)
    assert np.all(value >= x.max(-1)) and np.all(value <= x.max(-1) + np.log(7) + 1e-12)


def test_large_values_do_not_overflow():
    assert logsumexp([1000.0, 1000.0]) == pytest.approx(1000 + np.log(2), rel=1e-15)
    assert logsumexp([-1000.0, -1001.0]) == pytest.approx(-1000 + np.log1p(np.exp(-1)), rel=1e-15)


def test_one_dominant_entry_is_exact_to_the_last_bit():
    # log(e^0 + e^-40) = log1p(e^-40): adding 1 first would round the small term away
    assert logsumexp([0.0, -40.0]) == np.log1p(np.exp(-40.0))


def test_keepdims_and_axis():
    x = np.random.default_rng(1).normal(size=(3, 4))
    assert logsumexp(x, axis=0, keepdims=True).shape == (1, 4)
    np.testing.assert_allclose(logsumexp(x, axis=0), scipy.special.logsumexp(x, axis=0), rtol=1e-14)


def test_edge_cases():
    assert logsumexp([np.inf, 1.0]) == np.inf
    assert logsumexp([-np.inf, -np.inf]) == -np.inf
    assert np.isnan(logsumexp([np.nan, 1.0])) and np.isnan(logsumexp([np.inf, np.nan]))
    assert logsumexp(np.zeros(0)) == -np.inf
    np.testing.assert_array_equal(logsumexp(np.zeros((3, 0))), [-np.inf] * 3)
    assert logsumexp(np.zeros((0, 3))).shape == (0,)


def test_where():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    where = np.array([[True, True, False], [False, False, False]])
    value = logsumexp(x, where=where)
    assert value[0] == pytest.approx(np.logaddexp(1.0, 2.0))
    assert value[1] == -np.inf


def test_dtypes():
    assert logsumexp(np.ones(3, np.float32)).dtype == np.float32
    assert logsumexp(np.ones(3, np.float16)).dtype == np.float16
    assert logsumexp([1, 2]).dtype == np.float64


def test_errors():
    with pytest.raises(np.exceptions.AxisError, match="axis"):
        logsumexp(np.zeros(3), axis=1)
    with pytest.raises(np.exceptions.AxisError, match="axis"):
        logsumexp(np.zeros((2, 3)), axis=(0, 5))
    with pytest.raises(ValueError, match="axis"):
        logsumexp(np.zeros((2, 3)), axis=(0, -2))
    with pytest.raises(ValueError, match="b of shape"):
        logsumexp(np.zeros((2, 3)), b=np.ones(2))
    with pytest.raises(TypeError, match="b must be real"):
        logsumexp(np.zeros(2), b=np.ones(2, complex))
    with pytest.raises(TypeError, match="complex"):
        logsumexp(np.ones(2, complex))
    with pytest.raises(ValueError, match="where"):
        logsumexp(np.zeros((2, 3)), where=np.ones(2, bool))


# --- online_logsumexp and merge_states keep the dtype --------------------------------------


@pytest.mark.parametrize("pieces", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_online_logsumexp_keeps_the_dtype_for_any_number_of_chunks(pieces, dtype):
    from softmax_lab import online_logsumexp

    x = np.random.default_rng(2).normal(size=(3, 20)).astype(dtype)
    value = online_logsumexp(np.array_split(x, pieces, axis=1))
    assert value.dtype == dtype
    expected = scipy.special.logsumexp(x.astype(np.float64), axis=-1)
    np.testing.assert_allclose(value, expected, rtol=4 * np.finfo(dtype).eps)


def test_merge_states_keeps_float32_and_adapts_python_floats():
    from softmax_lab import chunk_state, merge_states

    state = chunk_state(np.float32([1.0, 2.0]))
    merged = merge_states(state, (-np.inf, 0.0))  # the empty state as Python floats
    assert merged.max.dtype == np.float32 and merged.sum.dtype == np.float32
    assert merge_states((1, 2), (0, 1)).sum.dtype == np.float64  # integers compute in float64


# --- b= and return_sign=, axis tuples and None, as scipy ---------------------------------------


def weighted_cases():
    return st.integers(1, 3).flatmap(
        lambda ndim: st.tuples(
            arrays(
                np.float64,
                st.tuples(*[st.integers(1, 4)] * ndim),
                elements=st.floats(-50, 50, allow_nan=False, allow_infinity=False),
            ),
            arrays(
                np.float64,
                st.tuples(*[st.integers(1, 4)] * ndim),
                elements=st.sampled_from([0.0, 1.0, -1.0, 2.5, -0.3, 1e-3]),
            ),
            st.one_of(st.none(), st.integers(-ndim, ndim - 1)),
        )
    )


def broadcastable(case):
    a, b, _ = case
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(weighted_cases().filter(broadcastable))
def test_weights_and_sign_agree_with_scipy(case):
    a, b, axis = case
    value, sign = logsumexp(a, axis=axis, b=b, return_sign=True)
    ref_value, ref_sign = scipy.special.logsumexp(a, axis=axis, b=b, return_sign=True)
    # compare where the sum is well conditioned: sum |terms| / |sum| below 1e3
    a_full, b_full = np.broadcast_arrays(a, b)
    axes = tuple(range(a_full.ndim)) if axis is None else axis
    peak = a_full.max(axis=axes, keepdims=True)
    terms = b_full * np.exp(a_full - peak)
    magnitude = np.abs(terms).sum(axis=axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        condition = magnitude / np.abs(terms.sum(axis=axes))
    fine = np.asarray((condition < 1e3) | (magnitude == 0))  # all weights 0: -inf, sign 0
    np.testing.assert_array_equal(np.asarray(sign)[fine], np.asarray(ref_sign)[fine])
    np.testing.assert_allclose(
        np.asarray(value)[fine], np.asarray(ref_value)[fine], rtol=1e-12, atol=1e-11
    )
    plain = logsumexp(a, axis=axis, b=b)  # without return_sign a negative sum is NaN
    np.testing.assert_array_equal(
        np.isnan(np.asarray(plain))[fine], (np.asarray(ref_sign) < 0)[fine]
    )


@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2), (1, 3), (0, 1, 2, 3), -1])
def test_axes_and_keepdims_match_scipy(axis):
    a = np.random.default_rng(3).normal(size=(2, 3, 4, 5)) * 5
    b = np.random.default_rng(4).uniform(0.1, 2, size=(3, 1, 5))  # broadcasts against a
    for kwargs in ({}, {"b": b}):
        for keepdims in (False, True):
            ours = logsumexp(a, axis=axis, keepdims=keepdims, **kwargs)
            theirs = scipy.special.logsumexp(a, axis=axis, keepdims=keepdims, **kwargs)
            assert np.shape(ours) == np.shape(theirs)
            np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_scipy_edge_cases_of_weights_and_signs():
    # from scipy's own tests (test_logsumexp.py): sign, sign zero, zero weight, gh-22903, gh-23548
    value, sign = logsumexp([1.0, 1.0, 1.0], b=[1, -1, -1], return_sign=True)
    assert value == pytest.approx(1.0, rel=1e-15) and sign == -1.0
    value, sign = logsumexp([1.0, 1.0], b=[1, -1], return_sign=True)
    assert value == -np.inf and sign == 0.0
    assert logsumexp([1.0, 10000.0], b=[1, 0]) == pytest.approx(1.0, rel=1e-15)
    assert logsumexp([1.0, np.inf, np.nan], b=[1, 0, 0]) == 1.0  # weight 0 drops inf and NaN
    a = np.array([3.06409428, 0.37251854, 3.87471931])
    b = np.array([1.88190708, 2.84174795, -0.85016884])
    assert logsumexp(a, b=b) == pytest.approx(scipy.special.logsumexp(a, b=b), rel=1e-14)
    assert np.isnan(logsumexp(a, b=[1.88190708, 2.84174795, -3.85016884]))
    for b_inf, sign_ref in ((None, 1.0), ([-1.0], -1.0)):
        value, sign = logsumexp([np.inf], b=b_inf, return_sign=True)
        assert value == np.inf and sign == sign_ref
    assert np.isnan(logsumexp([np.inf, np.inf], b=[1.0, -1.0]))  # inf - inf
    value, sign = logsumexp(np.zeros(0), return_sign=True)
    assert value == -np.inf and sign == 0.0  # an empty sum is 0 (scipy 1.17 says -1)
    assert logsumexp(np.zeros((4, 1, 2, 1)), b=np.ones((3, 1, 5)), axis=None) == pytest.approx(
        np.log(120), rel=1e-15
    )


def test_weights_keep_relative_accuracy_with_a_dominant_term():
    # log(2 e^0 - e^-40): the small term must survive, as in the unweighted log1p path
    expected = np.log(2.0) + np.log1p(-np.exp(-40.0) / 2)
    assert logsumexp([0.0, -40.0], b=[2.0, -1.0]) == pytest.approx(expected, rel=1e-15)


def test_weights_with_where_and_dtypes():
    a = np.float32([1.0, 2.0, 3.0])
    value = logsumexp(a, b=np.float32([1.0, 2.0, 5.0]), where=[True, True, False])
    assert value.dtype == np.float32
    assert value == pytest.approx(np.log(np.e + 2 * np.e**2), rel=1e-6)
    assert logsumexp(a, b=[1.0, 1.0, 1.0]).dtype == np.float64  # float64 weights promote
    assert logsumexp(np.float16([0.0, 0.0]), b=np.float16([1, 1])).dtype == np.float16
    value, sign = logsumexp(np.float32([0.0]), b=np.float32([-2.0]), return_sign=True)
    assert value.dtype == sign.dtype == np.float32 and sign == -1


def test_scalar_input_is_one_term():
    assert logsumexp(3.0) == scipy.special.logsumexp(3.0) == 3.0
    assert logsumexp(3.0, b=2.0) == pytest.approx(3.0 + np.log(2.0), rel=1e-15)
    assert logsumexp(np.ones((2, 3)), axis=()).shape == (2, 3)  # no axis reduced
