"""softmax, log_softmax and naive_softmax: properties, the edge-case table, strict input checks."""

import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softmax_lab import log_softmax, naive_softmax, softmax

finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 12)),
    elements=st.floats(-500, 500, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(finite_rows)
def test_probabilities_lie_in_0_1_and_sum_to_1(x):
    p = softmax(x)
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(finite_rows, st.floats(-100, 100))
def test_adding_a_constant_changes_nothing(x, c):
    np.testing.assert_allclose(softmax(x + c), softmax(x), rtol=1e-9, atol=1e-300)


@settings(max_examples=200, deadline=None)
@given(finite_rows)
def test_agrees_with_scipy_and_torch(x):
    np.testing.assert_allclose(
        softmax(x), scipy.special.softmax(x, axis=-1), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        softmax(x), torch.softmax(torch.from_numpy(x), -1).numpy(), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        log_softmax(x), scipy.special.log_softmax(x, axis=-1), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(finite_rows, st.floats(0.05, 20))
def test_temperature_divides_the_scores(x, t):
    np.testing.assert_allclose(softmax(x, temperature=t), softmax(x / t), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(
        log_softmax(x, temperature=t), log_softmax(x / t), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(finite_rows)
def test_order_is_preserved(x):
    p = softmax(x)
    order = np.argsort(x, axis=-1, kind="stable")
    assert np.all(np.diff(np.take_along_axis(p, order, axis=-1), axis=-1) >= 0)


def test_worked_example_from_the_curriculum():
    np.testing.assert_allclose(softmax([2.0, 1.0, 0.1]), [0.659001, 0.242433, 0.098566], atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_any_axis_matches_scipy(axis):
    x = np.random.default_rng(1).normal(size=(3, 4, 5)) * 10
    np.testing.assert_allclose(
        softmax(x, axis=axis), scipy.special.softmax(x, axis=axis), rtol=1e-13
    )
    np.testing.assert_allclose(
        log_softmax(x, axis=axis), scipy.special.log_softmax(x, axis=axis), rtol=1e-13, atol=1e-13
    )


def test_many_blocks_of_rows_give_the_same_as_scipy():
    x = np.random.default_rng(2).normal(size=(5000, 37)).astype(np.float32)
    np.testing.assert_allclose(softmax(x), scipy.special.softmax(x, axis=-1), rtol=2e-6)


# --- dtypes -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_are_kept(dtype):
    x = np.array([1.0, 2.0, 3.0], dtype=dtype)
    assert softmax(x).dtype == dtype and log_softmax(x).dtype == dtype


def test_float16_is_computed_in_float32_and_returned_as_float16():
    x = np.array([10.0, 0.0, -10.0], dtype=np.float16)
    p = softmax(x)
    assert p.dtype == np.float16
    expected = scipy.special.softmax(x.astype(np.float64)).astype(np.float16)
    np.testing.assert_array_equal(p, expected)


@pytest.mark.parametrize("x", [[1, 2, 3], np.array([True, False, True])])
def test_int_and_bool_promote_to_float64(x):
    assert softmax(x).dtype == np.float64
    np.testing.assert_allclose(softmax(x), scipy.special.softmax(np.asarray(x, float)))


# --- the edge-case table ------------------------------------------------------------------


def test_nan_makes_its_row_nan_and_leaves_others_alone():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]])
    for f in (softmax, log_softmax):
        out = f(x)
        assert np.all(np.isnan(out[0]))
        assert np.all(np.isfinite(out[1]))


def test_positive_infinities_share_the_mass():
    x = [np.inf, 1.0, np.inf, -np.inf]
    np.testing.assert_array_equal(softmax(x), [0.5, 0.0, 0.5, 0.0])
    np.testing.assert_array_equal(log_softmax(x), [-np.log(2), -np.inf, -np.log(2), -np.inf])
    assert np.all(np.isnan(scipy.special.softmax(x)))  # what we improve on


def test_negative_infinity_gets_exactly_zero():
    np.testing.assert_array_equal(softmax([0.0, -np.inf]), [1.0, 0.0])
    np.testing.assert_array_equal(log_softmax([0.0, -np.inf]), [0.0, -np.inf])


def test_all_negative_infinity_without_where_is_nan_like_scipy_and_torch():
    x = np.full(3, -np.inf)
    assert np.all(np.isnan(softmax(x))) and np.all(np.isnan(log_softmax(x)))
    assert np.all(np.isnan(scipy.special.softmax(x)))
    assert torch.isnan(torch.softmax(torch.from_numpy(x), -1)).all()


def test_where_excludes_entries_and_empty_rows_are_zero():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    where = np.array([[True, True, False], [False, False, False]])
    p = softmax(x, where=where)
    np.testing.assert_allclose(p[0], [*scipy.special.softmax([1.0, 2.0]), 0.0])
    np.testing.assert_array_equal(p[1], [0.0, 0.0, 0.0])
    lp = log_softmax(x, where=where)
    np.testing.assert_allclose(lp[0, :2], scipy.special.log_softmax([1.0, 2.0]))
    assert lp[0, 2] == -np.inf and np.all(lp[1] == -np.inf)


def test_where_broadcasts_like_an_attention_mask():
    x = np.zeros((2, 4))
    p = softmax(x, where=np.array([True, True, False, False]))
    np.testing.assert_array_equal(p, [[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0]])


@pytest.mark.parametrize(
    ("x", "expected"),
    [([1000.0, 1000.0], [0.5, 0.5]), ([-1000.0, -1001.0], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)])],
)
def test_large_magnitudes_are_exact(x, expected):
    np.testing.assert_allclose(softmax(x), expected, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(x), np.log(expected), rtol=1e-15)


def test_naive_softmax_overflows_as_documented():
    with np.errstate(all="ignore"):
        assert np.isnan(naive_softmax([1000.0, 0.0])[0])
        assert np.all(np.isnan(naive_softmax([-1000.0, -1000.0])))  # 0 / 0
    np.testing.assert_allclose(naive_softmax([2.0, 1.0, 0.1]), softmax([2.0, 1.0, 0.1]))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
def test_empty_arrays_keep_their_shape(shape):
    assert softmax(np.zeros(shape)).shape == shape
    assert log_softmax(np.zeros(shape)).shape == shape


def test_log_softmax_stays_finite_where_log_of_softmax_does_not():
    x = [0.0, -800.0]
    with np.errstate(divide="ignore"):
        assert np.log(softmax(x))[1] == -np.inf
    assert log_softmax(x)[1] == -800.0


def test_log_softmax_of_a_dominant_entry_keeps_relative_accuracy():
    # log(1 - tiny) ~ -1e-20: log1p keeps it, log(1 + s) would round it to 0
    assert log_softmax([0.0, -46.0])[0] == pytest.approx(-np.exp(-46.0), rel=1e-12)


# --- out= ---------------------------------------------------------------------------------


def test_out_is_filled_and_returned():
    x = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    out = np.empty_like(x)
    assert softmax(x, out=out) is out
    np.testing.assert_allclose(out, scipy.special.softmax(x, axis=-1), rtol=1e-6)
    out0 = np.empty_like(x)
    softmax(x, axis=0, out=out0)
    np.testing.assert_allclose(out0, scipy.special.softmax(x, axis=0), rtol=1e-6)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.0, -1.0, np.inf, np.nan])
def test_bad_temperature_is_named(temperature):
    for f in (softmax, log_softmax):
        with pytest.raises(ValueError, match="temperature"):
            f([1.0, 2.0], temperature=temperature)


@pytest.mark.parametrize("f", [softmax, log_softmax])
def test_bad_axis_is_named(f):
    with pytest.raises(np.exceptions.AxisError, match="axis"):
        f(np.zeros((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="axis"):
        f(np.zeros((2, 3)), axis=(0, 2))  # out of range inside a tuple
    with pytest.raises(ValueError, match="axis"):
        f(np.zeros((2, 3)), axis=(1, -1))  # the same axis twice
    with pytest.raises(TypeError, match="axis"):
        f(np.zeros((2, 3)), axis=1.0)
    with pytest.raises(TypeError, match="axis"):
        f(np.zeros((2, 3)), axis=(0, "1"))


@pytest.mark.parametrize(
    ("x", "error", "words"),
    [
        (np.array([1 + 1j, 2]), TypeError, "complex"),
        (np.array(["a", "b"]), TypeError, "dtype"),
        (np.array([object(), object()]), TypeError, "dtype"),
        ([[1.0, 2.0], [3.0]], ValueError, "ragged"),
    ],
)
def test_bad_x_is_explained(x, error, words):
    for f in (softmax, log_softmax):
        with pytest.raises(error, match=words):
            f(x)


def test_where_that_does_not_broadcast_is_rejected():
    with pytest.raises(ValueError, match="where"):
        softmax(np.zeros((2, 3)), where=np.ones(2, bool))
    with pytest.raises(TypeError, match="where"):
        softmax(np.zeros(3), where=np.ones(3))


@pytest.mark.parametrize("out", [np.empty((2, 2)), np.empty((2, 3), np.float32)])
def test_out_of_wrong_shape_or_dtype_is_rejected(out):
    with pytest.raises(ValueError, match="out"):
        softmax(np.zeros((2, 3)), out=out)


def test_a_temperature_that_overflows_the_scores_is_an_error_not_a_tie():
    x = np.array([1e308, 0.99e308])  # x / 0.5 is inf for both: a silent [0.5, 0.5] would be wrong
    for f in (softmax, log_softmax):
        with pytest.raises(ValueError, match="temperature"):
            f(x, temperature=0.5)
    np.testing.assert_array_equal(softmax(x, temperature=2.0), [1.0, 0.0])


def test_where_with_only_negative_infinities_included_is_nan_as_without_where():
    # an all-True mask is not a no-op otherwise: log_softmax used to give -inf here
    x = np.array([[-np.inf, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
    included = np.array([[True, True, False], [True, True, True]])
    lp = log_softmax(x, where=included)
    assert np.all(np.isnan(lp[0, :2])) and lp[0, 2] == -np.inf
    assert np.all(np.isnan(lp[1]))
    assert np.all(np.isnan(log_softmax(x[1]))) and np.all(
        np.isnan(softmax(x[1], where=included[1]))
    )
    # nothing included at all is still all -inf
    assert np.all(log_softmax(x, where=np.zeros((2, 3), bool)) == -np.inf)


# --- axes: a tuple and None, as scipy ------------------------------------------------------


def axis_specs(ndim):
    """An int, a tuple of distinct axes (possibly negative, any order), or None."""
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda axes: st.tuples(*(st.sampled_from([a, a - ndim]) for a in axes))
    )
    return st.one_of(st.none(), single, several)


nd_arrays = st.integers(1, 4).flatmap(
    lambda ndim: st.tuples(
        arrays(
            np.float64,
            st.tuples(*[st.integers(1, 4)] * ndim),
            elements=st.floats(-300, 300, allow_nan=False, allow_infinity=False),
        ),
        axis_specs(ndim),
    )
)


@settings(max_examples=200, deadline=None)
@given(nd_arrays)
def test_tuples_of_axes_and_none_agree_with_scipy(case):
    x, axis = case
    np.testing.assert_allclose(
        softmax(x, axis=axis), scipy.special.softmax(x, axis=axis), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        log_softmax(x, axis=axis), scipy.special.log_softmax(x, axis=axis), rtol=1e-12, atol=1e-12
    )


def test_axis_none_normalises_the_whole_array_and_where_still_applies():
    x = np.random.default_rng(4).normal(size=(3, 4, 2))
    p = softmax(x, axis=None)
    assert p.sum() == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum(), rtol=1e-13)
    where = x > 0
    masked = softmax(x, axis=(0, 1, 2), where=where)
    np.testing.assert_allclose(masked[where], scipy.special.softmax(x[where]), rtol=1e-13)
    assert np.all(masked[~where] == 0)


def test_out_with_a_tuple_of_axes():
    x = np.random.default_rng(5).normal(size=(2, 3, 4)).astype(np.float32)
    out = np.empty_like(x)
    assert softmax(x, axis=(0, 2), out=out) is out
    np.testing.assert_allclose(out, scipy.special.softmax(x, axis=(0, 2)), rtol=2e-6)


# --- 0-d input: one score --------------------------------------------------------------------


@pytest.mark.parametrize("value", [3.0, -1e300, np.float32(7.0), 2])
def test_a_scalar_is_one_score_as_in_scipy_and_torch(value):
    assert softmax(value) == scipy.special.softmax(value) == 1.0
    assert log_softmax(value) == scipy.special.log_softmax(value) == 0.0
    assert torch.softmax(torch.tensor(float(value), dtype=torch.float64), 0).item() == 1.0
    assert np.ndim(softmax(value)) == 0 and np.ndim(log_softmax(value)) == 0
    for axis in (0, -1, None):
        assert softmax(value, axis=axis) == 1.0
    with pytest.raises(np.exceptions.AxisError):
        softmax(value, axis=1)


def test_scalar_edge_values_and_out():
    assert np.isnan(softmax(np.nan)) and np.isnan(softmax(-np.inf))  # 0/0, as torch
    assert torch.isnan(torch.softmax(torch.tensor(-np.inf), 0))
    assert softmax(np.inf) == 1.0  # the one +inf entry takes all the mass
    out = np.empty(())
    assert softmax(5.0, out=out) is out and out == 1.0
    assert softmax(5.0, where=False) == 0.0  # nothing included


# --- dtype=, as torch ------------------------------------------------------------------------

TORCH_DTYPES = {np.float16: torch.float16, np.float32: torch.float32, np.float64: torch.float64}


@pytest.mark.parametrize("source", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("target", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 0])
def test_dtype_casts_first_and_returns_that_dtype_like_torch(source, target, axis):
    x = (np.random.default_rng(6).normal(size=(5, 7)) * 4).astype(source)
    xt = torch.from_numpy(x)
    eps = np.finfo(target).eps
    for ours, theirs in ((softmax, torch.softmax), (log_softmax, torch.log_softmax)):
        result = ours(x, axis=axis, dtype=target)
        expected = theirs(xt, axis, dtype=TORCH_DTYPES[target])
        assert result.dtype == target
        # torch's float16 kernel rounds more than once; ours rounds a float32 result once
        tolerance = 2 * eps if target == np.float16 else 8 * eps
        np.testing.assert_allclose(result, expected.numpy(), rtol=tolerance, atol=tolerance)


@settings(max_examples=100, deadline=None)
@given(finite_rows, st.sampled_from([np.float16, np.float32, np.float64]))
def test_dtype_is_the_same_as_casting_first(x, target):
    with np.errstate(over="ignore"):
        cast = x.astype(target)
    np.testing.assert_array_equal(softmax(x, dtype=target), softmax(cast))
    np.testing.assert_array_equal(log_softmax(x, dtype=target), log_softmax(cast))


def test_dtype_must_be_floating():
    for bad in (np.int32, "complex64", bool):
        with pytest.raises(TypeError, match="dtype"):
            softmax([1.0, 2.0], dtype=bad)
        with pytest.raises(TypeError, match="dtype"):
            log_softmax([1.0, 2.0], dtype=bad)
    with pytest.raises(TypeError, match="complex"):
        softmax(np.array([1j]), dtype=np.float64)  # not silently dropping the imaginary part
    with pytest.raises(ValueError, match="out"):
        softmax(np.zeros(3), dtype=np.float32, out=np.empty(3))  # out must have the dtype


# --- float16 attention (built on softmax) returns float16, as torch ------------------------


def test_float16_attention_returns_float16_like_torch():
    from softmax_lab import attention_weights, scaled_dot_product_attention

    rng = np.random.default_rng(8)
    q, k, v = (rng.normal(size=(2, 3, 4)).astype(np.float16) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(t) for t in (q, k, v))
    )
    assert out.dtype == np.float16 and expected.dtype == torch.float16
    np.testing.assert_allclose(out, expected.numpy(), rtol=4e-3, atol=4e-3)
    assert attention_weights(q, k).dtype == np.float16
    assert attention_weights(q.astype(np.float32), k).dtype == np.float32
