"""cross_entropy and its gradient against torch.nn.functional.cross_entropy and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from softmax_lab import cross_entropy, cross_entropy_grad

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(6, 4)) * 3
LABELS = rng.integers(0, 4, size=6)
PROBS = rng.dirichlet(np.ones(4), size=6)


def torch_loss(logits, target, **kwargs):
    target_t = torch.from_numpy(np.asarray(target))
    return F.cross_entropy(torch.from_numpy(logits), target_t, **kwargs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("target", [LABELS, PROBS], ids=["indices", "probabilities"])
def test_loss_and_gradient_match_torch(reduction, smoothing, target):
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    expected = torch_loss(LOGITS, target, **kwargs)
    np.testing.assert_allclose(
        cross_entropy(LOGITS, target, **kwargs), expected.numpy(), rtol=1e-12
    )
    logits_t = torch.from_numpy(LOGITS).requires_grad_()
    F.cross_entropy(logits_t, torch.from_numpy(np.asarray(target)), **kwargs).sum().backward()
    np.testing.assert_allclose(
        cross_entropy_grad(LOGITS, target, **kwargs), logits_t.grad.numpy(), atol=1e-14
    )


def test_gradient_is_softmax_minus_one_hot():
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    np.testing.assert_allclose(
        cross_entropy_grad(LOGITS, LABELS, reduction="sum"), p - np.eye(4)[LABELS], atol=1e-14
    )


def test_class_axis_1_like_torch_for_sequences():
    logits = rng.normal(size=(2, 3, 5))  # (batch, classes, positions)
    labels = rng.integers(0, 3, size=(2, 5))
    expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    assert cross_entropy(logits, labels, axis=1) == pytest.approx(expected.item(), rel=1e-12)


def test_extreme_logits_stay_finite():
    assert cross_entropy([[1000.0, -1000.0]], [1]) == pytest.approx(2000.0)
    assert cross_entropy([[0.0, -np.inf]], [0]) == 0.0  # a zero-target term with -inf adds 0


def test_worked_example():
    assert cross_entropy([[2.0, 1.0, 0.1]], [0]) == pytest.approx(-np.log(0.6590011388859679))


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (np.array([0, 1, 2, 4, 0, 1]), "class indices"),
        (np.array([0, -1, 2, 3, 0, 1]), "class indices"),
        (np.array([0.0, 1, 2, 3, 0, 1]), "target must be integer"),
        (np.full((6, 4), 0.5), "sum to 1"),
        (-PROBS, ">= 0"),
    ],
)
def test_bad_target_is_named(target, words):
    with pytest.raises(ValueError, match=words):
        cross_entropy(LOGITS, target)
    with pytest.raises(ValueError, match=words):
        cross_entropy_grad(LOGITS, target)


def test_bad_reduction_and_smoothing():
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy(LOGITS, LABELS, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(LOGITS, LABELS, label_smoothing=1.5)


# --- vocab_parallel_cross_entropy: exactness and dtype -------------------------------------


def exact_cross_entropy(row, label):
    import mpmath

    with mpmath.workdps(50):
        values = [mpmath.mpf(float(v)) for v in row]
        return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in values)) - values[label]


@pytest.mark.parametrize(("dtype", "offset"), [(np.float32, 1e4), (np.float64, 1e6)])
def test_vocab_parallel_loss_keeps_relative_accuracy_for_large_logits(dtype, offset):
    from softmax_lab import split_vocab, vocab_parallel_cross_entropy

    logits = (np.random.default_rng(5).normal(size=(8, 50)) + offset).astype(dtype)
    labels = np.random.default_rng(6).integers(0, 50, size=8)
    losses = vocab_parallel_cross_entropy(split_vocab(logits, 3), labels, reduction="none")
    assert losses.dtype == dtype
    exact = np.array(
        [float(exact_cross_entropy(r, y)) for r, y in zip(logits, labels, strict=True)]
    )
    # (m + log S) - z_y carried |m| * eps: about 3000 eps in float32 here, 3e5 in float64
    assert np.max(np.abs(losses - exact) / exact) / np.finfo(dtype).eps < 8


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_vocab_parallel_loss_returns_the_logits_dtype(dtype):
    from softmax_lab import vocab_parallel_cross_entropy

    logits = np.random.default_rng(7).normal(size=(4, 9)).astype(dtype)
    for reduction in ("mean", "sum", "none"):
        loss = vocab_parallel_cross_entropy(
            np.array_split(logits, 2, axis=-1), [0, 1, 2, 8], reduction=reduction
        )
        assert loss.dtype == dtype
        expected = F.cross_entropy(
            torch.from_numpy(logits.astype(np.float64)),
            torch.tensor([0, 1, 2, 8]),
            reduction=reduction,
        ).numpy()
        np.testing.assert_allclose(loss, expected, rtol=4 * np.finfo(dtype).eps)


# --- weight= and ignore_index=, as torch ---------------------------------------------------


def torch_loss_and_grad(logits, target, **kwargs):
    """torch's loss and autograd gradient (of the sum of the result) for numpy inputs."""
    if kwargs.get("weight") is not None:
        kwargs["weight"] = torch.from_numpy(np.asarray(kwargs["weight"], dtype=logits.dtype))
    logits_t = torch.from_numpy(logits).requires_grad_()
    loss = F.cross_entropy(logits_t, torch.from_numpy(np.asarray(target)), **kwargs)
    loss.sum().backward()
    return loss.detach().numpy(), logits_t.grad.numpy()


@st.composite
def index_problems(draw):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    logits = draw(
        st.lists(st.floats(-30, 30, allow_nan=False), min_size=n * c, max_size=n * c).map(
            lambda v: np.array(v).reshape(n, c)
        )
    )
    ignore_index = draw(st.sampled_from([-100, 0, c - 1, 7]))
    labels = np.array(
        draw(st.lists(st.sampled_from([*range(c), ignore_index]), min_size=n, max_size=n))
    )
    weight = draw(
        st.one_of(
            st.none(),
            # a class weight is 0 or a real weight: a mean divided by summed weights like 4e-170
            # magnifies the rounding of the sum without bound (and torch's gradient overflows)
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-3, 5, allow_nan=False)),
                min_size=c,
                max_size=c,
            ).map(np.array),
        )
    )
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.37]))
    return logits, labels, dict(weight=weight, ignore_index=ignore_index, label_smoothing=smoothing)


@settings(max_examples=300, deadline=None)
@given(index_problems(), st.sampled_from(["mean", "sum", "none"]))
def test_weight_ignore_index_and_smoothing_match_torch(problem, reduction):
    logits, labels, kwargs = problem
    expected, expected_grad = torch_loss_and_grad(logits, labels, reduction=reduction, **kwargs)
    loss = cross_entropy(logits, labels, reduction=reduction, **kwargs)
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)  # NaN where torch's is
    grad = cross_entropy_grad(logits, labels, reduction=reduction, **kwargs)
    if not np.isnan(expected).any():
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_weight_with_probability_targets_matches_torch(reduction, smoothing):
    weight = np.array([0.5, 2.0, 0.0, 1.5])
    kwargs = dict(weight=weight, reduction=reduction, label_smoothing=smoothing)
    expected, expected_grad = torch_loss_and_grad(LOGITS, PROBS, **kwargs)
    np.testing.assert_allclose(cross_entropy(LOGITS, PROBS, **kwargs), expected, rtol=1e-12)
    np.testing.assert_allclose(
        cross_entropy_grad(LOGITS, PROBS, **kwargs), expected_grad, rtol=1e-10, atol=1e-14
    )


def test_padding_positions_in_sequences_like_torch():
    logits = rng.normal(size=(2, 5, 6))  # (batch, classes, positions)
    labels = rng.integers(0, 5, size=(2, 6))
    labels[:, 4:] = -100  # padding
    weight = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    for kwargs in ({}, {"weight": weight}, {"weight": weight, "label_smoothing": 0.1}):
        expected, expected_grad = torch_loss_and_grad(logits, labels, **kwargs)
        assert cross_entropy(logits, labels, axis=1, **kwargs) == pytest.approx(
            float(expected), rel=1e-12
        )
        np.testing.assert_allclose(
            cross_entropy_grad(logits, labels, axis=1, **kwargs), expected_grad, atol=1e-14
        )
        # the padding is exactly as if those positions were not there
        kept = cross_entropy(logits[:, :, :4], labels[:, :4], axis=1, **kwargs)
        assert cross_entropy(logits, labels, axis=1, **kwargs) == pytest.approx(kept, rel=1e-13)


def test_mean_divides_by_the_summed_weights_by_hand():
    logits = np.zeros((3, 2))  # every loss is log 2 before weighting
    loss = cross_entropy(logits, [0, 1, 1], weight=[3.0, 1.0])
    assert loss == pytest.approx((3 + 1 + 1) * np.log(2) / 5, rel=1e-15)
    assert cross_entropy(logits, [0, 1, 1], weight=[3.0, 1.0], reduction="sum") == pytest.approx(
        5 * np.log(2), rel=1e-15
    )


def test_everything_ignored_gives_nan_for_the_mean_as_torch():
    labels = np.full(6, -100)
    assert np.isnan(cross_entropy(LOGITS, labels))
    assert np.isnan(torch_loss(LOGITS, labels).item())
    assert cross_entropy(LOGITS, labels, reduction="sum") == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_keeps_the_logits_dtype(dtype):
    loss = cross_entropy(LOGITS.astype(dtype), LABELS, weight=[1, 2, 3, 4])  # integer weights
    assert loss.dtype == dtype
    assert cross_entropy_grad(LOGITS.astype(dtype), LABELS, weight=[1, 2, 3, 4]).dtype == dtype


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(weight=[1.0, 2.0, 3.0]), ValueError, "weight must hold one number per class"),
        (dict(weight=np.ones((4, 1))), ValueError, "weight must hold one number per class"),
        (dict(weight=[1.0, -1.0, 1.0, 1.0]), ValueError, "weight must be finite and >= 0"),
        (dict(weight=[1.0, np.nan, 1.0, 1.0]), ValueError, "weight must be finite and >= 0"),
        (dict(weight=[1.0, np.inf, 1.0, 1.0]), ValueError, "weight must be finite and >= 0"),
        (dict(weight=["a", "b", "c", "d"]), TypeError, "weight"),
        (dict(ignore_index=1.5), TypeError, "ignore_index must be an int"),
        (dict(ignore_index=True), TypeError, "ignore_index must be an int"),
    ],
)
def test_bad_weight_and_ignore_index_are_named(kwargs, error, words):
    for f in (cross_entropy, cross_entropy_grad):
        with pytest.raises(error, match=words):
            f(LOGITS, LABELS, **kwargs)


def test_ignore_index_with_probability_targets_is_refused():
    for f in (cross_entropy, cross_entropy_grad):
        with pytest.raises(ValueError, match="ignore_index=0 applies to class-index targets"):
            f(LOGITS, PROBS, ignore_index=0)
    # the default is fine: probability targets have nothing to ignore
    assert np.isfinite(cross_entropy(LOGITS, PROBS))


def test_a_label_out_of_range_is_still_an_error_with_ignore_index():
    with pytest.raises(ValueError, match="ignore_index=-1"):
        cross_entropy(LOGITS, [0, 1, 2, 3, -2, -1], ignore_index=-1)
    assert np.isfinite(cross_entropy(LOGITS, [0, 1, 2, 3, -1, -1], ignore_index=-1))


def test_target_weights_summing_to_zero_give_nan_for_the_mean_as_torch():
    # label smoothing still adds a positive term: the mean is (positive) / 0, which torch makes NaN
    kwargs = dict(weight=np.array([0.0, 0.0, 1.0]), label_smoothing=0.1)
    expected, _ = torch_loss_and_grad(np.zeros((1, 3)), np.array([0]), **kwargs)
    assert np.isnan(expected)
    assert np.isnan(cross_entropy(np.zeros((1, 3)), [0], **kwargs))
    assert np.all(np.isnan(cross_entropy_grad(np.zeros((1, 3)), [0], **kwargs)))
