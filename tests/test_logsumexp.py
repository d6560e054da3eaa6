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
    with pytest.raises(np.exceptions.AxisError):
        logsumexp(np.zeros(3), axis=1)
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
