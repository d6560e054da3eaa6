r"""The softmax Jacobian, and its products with a vector in O(n).

With :math:`s = \mathrm{softmax}(x)`, :math:`\partial s_i / \partial x_j = s_i(\delta_{ij} - s_j)`,
so :math:`J = \operatorname{diag}(s) - s s^\top`: symmetric, rows summing to 0, positive
semidefinite of rank n - 1. Because of that structure, :math:`Jv = s \odot (v - s \cdot v)`,
and since J is symmetric the vector-Jacobian product is the same expression: neither
needs the n x n matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import as_real_array, as_vector_for, check_axis
from ._softmax import softmax

__all__ = ["softmax_jacobian", "softmax_jvp", "softmax_vjp"]


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
