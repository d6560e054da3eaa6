r"""Chapter 04: the derivative of softmax, and cross-entropy with its gradient.

**The Jacobian, and its products with a vector in O(n).** With
:math:`s = \mathrm{softmax}(x)`, :math:`\partial s_i / \partial x_j = s_i(\delta_{ij} - s_j)`,
so :math:`J = \operatorname{diag}(s) - s s^\top`: symmetric, rows summing to 0, positive
semidefinite of rank n - 1. Because of that structure, :math:`Jv = s \odot (v - s \cdot v)`,
and since J is symmetric the vector-Jacobian product is the same expression: neither
needs the n x n matrix.

**Cross-entropy of softmax probabilities, and its gradient ``softmax - target``.**
For logits :math:`z` and a target distribution :math:`q`, the loss is
:math:`-\sum_i q_i \log \mathrm{softmax}(z)_i`, computed through :func:`log_softmax` (never
``log(softmax(z))``, which turns an underflowed probability into ``inf``). Its gradient
with respect to the logits collapses to :math:`\mathrm{softmax}(z) - q`.

Conventions follow ``torch.nn.functional.cross_entropy``: ``target`` holds integer class
indices (shape of ``logits`` without ``axis``) or probabilities (shape of ``logits``);
``label_smoothing`` mixes the target with the uniform distribution; ``reduction`` is
``"mean"`` over samples, ``"sum"`` or ``"none"``. A term whose target probability is 0
contributes 0, even where the log-probability is ``-inf``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import Reduction, as_real_array, as_vector_for, check_axis, check_reduction, reduce
from .core import log_softmax, softmax

__all__ = [
    "softmax_jacobian",
    "softmax_jvp",
    "softmax_vjp",
    "cross_entropy",
    "cross_entropy_grad",
]


def softmax_jacobian(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""The Jacobian :math:`J = \operatorname{diag}(s) - s s^\top` of softmax, one per slice.

    Parameters
    ----------
    x : array_like
        Scores; softmax is taken along ``axis``.
    axis : int, optional
        The softmax axis (default -1).

    Returns
    -------
    ndarray
        Shape ``batch + (n, n)`` where ``batch`` is ``x``'s shape without ``axis`` and
        ``n = x.shape[axis]``: ``J[..., i, j] = d softmax_i / d x_j``. It costs n² memory
        per slice; :func:`softmax_jvp` and :func:`softmax_vjp` avoid forming it.

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> softmax_jacobian(np.zeros((5, 3))).shape
    (5, 3, 3)
    """
    array, result_dtype = as_real_array(x)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension; got a scalar")
    axis = check_axis(axis, array.ndim)
    s = np.moveaxis(softmax(array, axis=axis), axis, -1).astype(result_dtype, copy=False)
    jacobian = -s[..., :, None] * s[..., None, :]
    diagonal = np.einsum("...ii->...i", jacobian)
    diagonal += s
    return jacobian


def _product(x: ArrayLike, v: ArrayLike, axis: int) -> NDArray[np.floating]:
    array, result_dtype = as_real_array(x)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension; got a scalar")
    axis = check_axis(axis, array.ndim)
    vector = as_vector_for(v, array.shape)
    s = softmax(array, axis=axis)
    product = vector - (s * vector).sum(axis=axis, keepdims=True)
    product *= s
    return product.astype(result_dtype, copy=False)


def softmax_jvp(x: ArrayLike, v: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Jacobian-vector product :math:`Jv = s \odot (v - s \cdot v)` in O(n) time and memory.

    Parameters
    ----------
    x : array_like
        Scores; softmax is taken along ``axis``.
    v : array_like
        Tangent vector(s), broadcastable against ``x``: how the scores move.
    axis : int, optional
        The softmax axis (default -1).

    Returns
    -------
    ndarray
        How the probabilities move to first order; same shape as ``x`` and ``v``
        broadcast together. Its entries along ``axis`` sum to 0.

    Examples
    --------
    >>> softmax_jvp([0.0, 0.0], [1.0, 0.0])  # raising one of two equal scores
    array([ 0.25, -0.25])
    >>> softmax_jvp([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]).round(12)  # a shift changes nothing
    array([0., 0., 0.])
    """
    return _product(x, v, axis)


def softmax_vjp(x: ArrayLike, v: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Vector-Jacobian product :math:`v^\top J` in O(n): the backward pass of softmax.

    J is symmetric, so this equals :func:`softmax_jvp`; it is named separately because
    backpropagation asks for this one: given the gradient of a loss with respect to
    the probabilities, it returns the gradient with respect to the scores.

    Parameters
    ----------
    x : array_like
        Scores; softmax is taken along ``axis``.
    v : array_like
        Cotangent: the gradient of the loss with respect to ``softmax(x)``.
    axis : int, optional
        The softmax axis (default -1).

    Returns
    -------
    ndarray
        The gradient of the loss with respect to ``x``.

    Examples
    --------
    >>> softmax_vjp([0.0, 0.0], [1.0, 0.0])
    array([ 0.25, -0.25])
    """
    return _product(x, v, axis)


def _target_distribution(
    logits: NDArray, target: ArrayLike, axis: int, label_smoothing: float
) -> NDArray[np.floating]:
    """The target as a probability array of ``logits``' shape, smoothing applied."""
    if not (isinstance(label_smoothing, (int, float)) and 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"label_smoothing must be a number in [0, 1]; got {label_smoothing!r}")
    n = logits.shape[axis]
    labels = np.asarray(target)
    index_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    if labels.dtype.kind in "iu" and labels.shape == index_shape:
        if labels.size and (labels.min() < 0 or labels.max() >= n):
            bad = labels[(labels < 0) | (labels >= n)].flat[0]
            raise ValueError(f"target holds class indices in [0, {n}); found {bad}")
        one_hot = np.expand_dims(labels, axis) == np.expand_dims(
            np.arange(n), tuple(range(1, logits.ndim - axis))
        )
        probabilities = one_hot.astype(logits.dtype)
    elif labels.dtype.kind == "f" and labels.shape == logits.shape:
        probabilities = labels.astype(logits.dtype)
        if not np.all(np.isfinite(probabilities)) or np.any(probabilities < 0):
            raise ValueError("target probabilities must be finite and >= 0")
        sums = probabilities.sum(axis=axis)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-4 if logits.dtype == np.float32 else 1e-8):
            raise ValueError(
                f"target probabilities must sum to 1 along axis {axis}; found sums like {sums.flat[0]:.6g}"
            )
    else:
        raise ValueError(
            f"target must be integer class indices of shape {index_shape} or float probabilities of shape "
            f"{logits.shape}; got dtype {labels.dtype} and shape {labels.shape}"
        )
    if label_smoothing:
        probabilities = (1 - label_smoothing) * probabilities + label_smoothing / n
    return probabilities


def _prepare(
    logits: ArrayLike, target: ArrayLike, axis: int, reduction: str, label_smoothing: float
) -> tuple[NDArray, np.dtype, int, NDArray]:
    """Checked logits, the result dtype, the class axis and the target distribution."""
    check_reduction(reduction)
    array, result_dtype = as_real_array(logits, name="logits")
    if array.ndim == 0:
        raise ValueError(
            "logits must have at least one dimension (a score per class); got a scalar"
        )
    axis = check_axis(axis, array.ndim)
    return array, result_dtype, axis, _target_distribution(array, target, axis, label_smoothing)


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    *,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating] | np.floating:
    r"""Softmax cross-entropy, :math:`-\sum_i q_i \log \mathrm{softmax}(z)_i`, per sample then reduced.

    Parameters
    ----------
    logits : array_like
        Unnormalised scores, classes along ``axis``.
    target : array_like
        Integer class indices (``logits``' shape without ``axis``; values in
        ``[0, n)``) or probabilities (``logits``' shape; non-negative, summing to 1).
    axis : int, optional
        The class axis (default -1; torch uses dimension 1 for its input).
    reduction : {"mean", "sum", "none"}, optional
        Mean over samples (default), sum, or the per-sample losses.
    label_smoothing : float, optional
        In [0, 1]: the target becomes ``(1 - eps) * target + eps / n``, as in torch.

    Returns
    -------
    ndarray or scalar
        The loss; with ``reduction="none"`` one value per sample.

    Raises
    ------
    ValueError
        ``target`` with the wrong shape or dtype, an index out of range, probabilities
        that are negative or do not sum to 1; a bad ``reduction`` or ``label_smoothing``.

    Examples
    --------
    >>> round(float(cross_entropy([[2.0, 1.0, 0.1]], [0])), 4)  # -log(0.659)
    0.417
    >>> cross_entropy([[0.0, 0.0], [0.0, 9.0]], [1, 1], reduction="none").round(4)
    array([0.6931, 0.0001])
    """
    array, result_dtype, axis, q = _prepare(logits, target, axis, reduction, label_smoothing)
    log_p = log_softmax(array, axis=axis)
    with np.errstate(invalid="ignore"):  # 0 * -inf: such terms are defined as 0 below
        terms = np.where(q == 0, 0.0, q * log_p)
    per_sample = -terms.sum(axis=axis)
    return np.asarray(reduce(per_sample, reduction)).astype(result_dtype)[()]


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    *,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating]:
    r"""Gradient of :func:`cross_entropy` with respect to the logits: ``softmax(z) - q``.

    Scaled by ``1 / number_of_samples`` for ``reduction="mean"``; for ``"none"`` it is
    the gradient of the sum of the per-sample losses. Arguments as in :func:`cross_entropy`.

    Examples
    --------
    >>> cross_entropy_grad([[2.0, 1.0, 0.1]], [0]).round(4)  # p - one_hot
    array([[-0.341 ,  0.2424,  0.0986]])
    """
    array, result_dtype, axis, q = _prepare(logits, target, axis, reduction, label_smoothing)
    grad = softmax(array, axis=axis) - q
    if reduction == "mean":
        grad /= math.prod(array.shape[:axis] + array.shape[axis + 1 :]) or 1
    return grad.astype(result_dtype, copy=False)
