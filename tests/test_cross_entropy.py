"""cross_entropy and its gradient against torch.nn.functional.cross_entropy and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

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
