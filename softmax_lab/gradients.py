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
``weight`` rescales each class; targets equal to ``ignore_index`` (default -100, the
padding label of language models) are skipped; ``label_smoothing`` mixes the target with
the uniform distribution; ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``. With class
indices, the mean divides by the summed weights of the targets that are not ignored (the
number of such samples when there are no weights); with probabilities, by the number of
samples. Every sample's loss is :math:`-\sum_c a_c \log \mathrm{softmax}(z)_c` for
coefficients :math:`a_c` that these options decide, and its gradient is
:math:`(\sum_c a_c)\,\mathrm{softmax}(z) - a`. A term whose coefficient is 0 contributes 0,
even where the log-probability is ``-inf``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    Reduction,
    as_array,
    as_real_array,
    as_vector_for,
    check_axis,
    check_real,
    check_reduction,
)
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
    # not in place: a ``v`` smaller than ``x`` (a scalar, say) broadcasts to x's shape
    product = (vector - (s * vector).sum(axis=axis, keepdims=True)) * s
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


IGNORE_INDEX = -100  # torch's default: the label of padding positions


def _class_weights(weight: ArrayLike | None, n: int, dtype: np.dtype) -> NDArray[np.floating]:
    """``weight`` checked as one finite, non-negative number per class (ones when None)."""
    if weight is None:
        return np.ones(n, dtype)
    values, _ = as_real_array(weight, name="weight")
    if values.shape != (n,):
        raise ValueError(
            f"weight must hold one number per class, shape ({n},); got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"weight must be finite and >= 0; got {values}")
    return values.astype(dtype)


def _coefficients(
    logits: NDArray,
    target: ArrayLike,
    axis: int,
    label_smoothing: float,
    weight: ArrayLike | None,
    ignore_index: int,
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Each sample's loss coefficients ``a`` (``logits``' shape) and the mean's denominator.

    The loss of a sample is ``-sum_c a_c log p_c``, with torch's rules for class weights,
    ignored targets and label smoothing.
    """
    label_smoothing = check_real(label_smoothing, "label_smoothing", low=0.0, high=1.0)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be an int; got {ignore_index!r}")
    n = logits.shape[axis]
    w = _class_weights(weight, n, logits.dtype)
    class_shape = (n,) + (1,) * (logits.ndim - axis - 1)  # broadcasts along the class axis
    labels = as_array(target, "target")
    index_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    smooth = label_smoothing / n
    if labels.dtype.kind in "iu" and labels.shape == index_shape:
        ignored = labels == ignore_index
        outside = ((labels < 0) | (labels >= n)) & ~ignored
        if outside.any():
            raise ValueError(
                f"target holds class indices in [0, {n}) or ignore_index={ignore_index}; "
                f"found {labels[outside].flat[0]}"
            )
        safe = np.where(ignored, 0, labels)
        kept = np.expand_dims(~ignored, axis)
        one_hot = np.expand_dims(safe, axis) == np.arange(n).reshape(class_shape)
        target_weight = np.where(ignored, 0, w[safe]).astype(logits.dtype)
        coefficients = (1 - label_smoothing) * one_hot * np.expand_dims(target_weight, axis)
        if label_smoothing:
            coefficients = coefficients + smooth * w.reshape(class_shape) * kept
        return coefficients.astype(logits.dtype, copy=False), target_weight.sum()
    if labels.dtype.kind == "f" and labels.shape == logits.shape:
        if ignore_index != IGNORE_INDEX:
            raise ValueError(
                f"ignore_index={ignore_index} applies to class-index targets only; target "
                "holds probabilities (torch ignores it silently there; give those rows "
                "probability 0 or drop them)"
            )
        probabilities = labels.astype(logits.dtype)
        if not np.all(np.isfinite(probabilities)) or np.any(probabilities < 0):
            raise ValueError("target probabilities must be finite and >= 0")
        sums = probabilities.sum(axis=axis)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-4 if logits.dtype == np.float32 else 1e-8):
            raise ValueError(
                f"target probabilities must sum to 1 along axis {axis}; found sums like {sums.flat[0]:.6g}"
            )
        if label_smoothing:
            probabilities = (1 - label_smoothing) * probabilities + smooth
        coefficients = probabilities * w.reshape(class_shape)
        return coefficients, np.asarray(math.prod(index_shape), logits.dtype)
    raise ValueError(
        f"target must be integer class indices of shape {index_shape} or float probabilities of shape "
        f"{logits.shape}; got dtype {labels.dtype} and shape {labels.shape}"
    )


def _prepare(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int,
    reduction: str,
    label_smoothing: float,
    weight: ArrayLike | None,
    ignore_index: int,
) -> tuple[NDArray, np.dtype, int, NDArray, NDArray]:
    """Checked logits, the result dtype, the class axis, the coefficients and the denominator."""
    check_reduction(reduction)
    array, result_dtype = as_real_array(logits, name="logits")
    if array.ndim == 0:
        raise ValueError(
            "logits must have at least one dimension (a score per class); got a scalar"
        )
    axis = check_axis(axis, array.ndim)
    if array.shape[axis] == 0:
        raise ValueError(
            f"logits must hold at least one class along axis {axis}; got shape {array.shape}"
        )
    coefficients, denominator = _coefficients(
        array, target, axis, label_smoothing, weight, ignore_index
    )
    return array, result_dtype, axis, coefficients, denominator


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = IGNORE_INDEX,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating] | np.floating:
    r"""Softmax cross-entropy, :math:`-\sum_i q_i \log \mathrm{softmax}(z)_i`, per sample then reduced.

    The semantics of ``torch.nn.functional.cross_entropy``, with the class axis named by
    ``axis``.

    Parameters
    ----------
    logits : array_like
        Unnormalised scores, classes along ``axis``.
    target : array_like
        Integer class indices (``logits``' shape without ``axis``; values in
        ``[0, n)`` or ``ignore_index``) or probabilities (``logits``' shape;
        non-negative, summing to 1).
    axis : int, optional
        The class axis (default -1; torch uses dimension 1 for its input).
    weight : array_like, optional
        One finite, non-negative weight per class (shape ``(n,)``): the loss of a sample
        whose target is class ``c`` is multiplied by ``weight[c]``; with probability
        targets or label smoothing, each class's term is multiplied by its weight.
    ignore_index : int, optional
        Class-index targets equal to it contribute 0 and are left out of the mean
        (default -100, as torch: the label of padding positions). Only for class-index
        targets: any other value with probability targets raises ``ValueError``.
    reduction : {"mean", "sum", "none"}, optional
        ``"mean"`` (default): with class indices, the sum of the losses divided by the
        summed ``weight`` of the targets not ignored (their number without ``weight``;
        NaN when that is 0, as in torch); with probabilities, divided by the number of
        samples. ``"sum"``, or ``"none"`` for the per-sample losses (0 where ignored).
    label_smoothing : float, optional
        In [0, 1]: the target becomes ``(1 - eps) * target + eps / n``, as in torch.

    Returns
    -------
    ndarray or scalar
        The loss, in ``logits``' dtype; with ``reduction="none"`` one value per sample.

    Raises
    ------
    ValueError
        ``target`` with the wrong shape or dtype, an index out of range, probabilities
        that are negative or do not sum to 1; a ``weight`` of the wrong length, negative
        or not finite; ``ignore_index`` with probability targets; a bad ``reduction`` or
        ``label_smoothing``.
    TypeError
        An ``ignore_index`` that is not an int; a complex or non-numeric ``weight``.

    Examples
    --------
    >>> round(float(cross_entropy([[2.0, 1.0, 0.1]], [0])), 4)  # -log(0.659)
    0.417
    >>> cross_entropy([[0.0, 0.0], [0.0, 9.0]], [1, 1], reduction="none").round(4)
    array([0.6931, 0.0001])

    Class weights: the mean divides by the weights of the targets (2 + 1), not by 2.

    >>> logits = [[0.0, 0.0], [0.0, 0.0]]
    >>> round(float(cross_entropy(logits, [0, 1], weight=[2.0, 1.0])), 4)  # (2 + 1) log 2 / 3
    0.6931

    Padding positions labelled -100 are skipped, and left out of the mean.

    >>> cross_entropy([[0.0, 0.0], [5.0, 0.0]], [1, -100], reduction="none").round(4)
    array([0.6931, 0.    ])
    >>> round(float(cross_entropy([[0.0, 0.0], [5.0, 0.0]], [1, -100])), 4)
    0.6931
    """
    array, result_dtype, axis, a, denominator = _prepare(
        logits, target, axis, reduction, label_smoothing, weight, ignore_index
    )
    log_p = log_softmax(array, axis=axis)
    with np.errstate(invalid="ignore"):  # 0 * -inf: such terms are defined as 0 below
        terms = np.where(a == 0, 0.0, a * log_p)
    per_sample = 0.0 - terms.sum(axis=axis)  # +0, not -0, for an ignored sample
    if reduction == "none":
        loss = per_sample
    elif reduction == "sum":
        loss = per_sample.sum()
    else:
        # nothing counted (all ignored, or target weights summing to 0): NaN, as torch
        loss = per_sample.sum() / denominator if denominator else np.nan
    return np.asarray(loss).astype(result_dtype)[()]


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int = -1,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = IGNORE_INDEX,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating]:
    r"""Gradient of :func:`cross_entropy` with respect to the logits.

    Without weights or ignored targets it is ``softmax(z) - q``; in general, with the
    loss coefficients ``a`` of each sample (target times class weight),
    ``sum(a) * softmax(z) - a``. Divided by the mean's denominator for
    ``reduction="mean"``; for ``"none"`` it is the gradient of the sum of the per-sample
    losses. Arguments as in :func:`cross_entropy`; ignored samples get a zero gradient.

    Examples
    --------
    >>> cross_entropy_grad([[2.0, 1.0, 0.1]], [0]).round(4)  # p - one_hot
    array([[-0.341 ,  0.2424,  0.0986]])
    >>> cross_entropy_grad([[0.0, 0.0], [3.0, 1.0]], [0, -100])  # the padded row: no gradient
    array([[-0.5,  0.5],
           [ 0. ,  0. ]])
    """
    array, result_dtype, axis, a, denominator = _prepare(
        logits, target, axis, reduction, label_smoothing, weight, ignore_index
    )
    grad = a.sum(axis=axis, keepdims=True) * softmax(array, axis=axis) - a
    if reduction == "mean":
        if denominator:
            grad /= denominator
        else:
            grad[...] = np.nan  # the loss is NaN then, as in torch
    return grad.astype(result_dtype, copy=False)
