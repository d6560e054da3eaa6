r"""Scaled dot-product attention, in NumPy and in torch, with boolean masks.

Attention turns each query's similarity scores with the keys into a probability
distribution over the keys, and returns the matching average of the values:

.. math::

    \mathrm{weights} = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right), \qquad
    \mathrm{output} = \mathrm{weights}\, V .

Names, argument names and shapes follow ``torch.nn.functional.scaled_dot_product_attention``:
``query`` is ``(..., n_q, d)``, ``key`` is ``(..., n_k, d)``, ``value`` is ``(..., n_k, d_v)``,
the result is ``(..., n_q, d_v)``, and the leading batch dimensions broadcast.
:func:`scaled_dot_product_attention` returns the output, as torch's does;
:func:`attention_weights` returns the weights; :func:`torch_attention_with_weights` is the
torch version that returns both (for training a model whose attention you want to see).

Masks are boolean, ``True`` meaning "this query may attend to this key" (torch's
convention for a boolean ``attn_mask``). A query row whose keys are all masked has no
distribution to normalise; here its weights and its output are all zeros. That is what
``softmax(..., where=mask)`` gives, and what ``torch.nn.functional.scaled_dot_product_attention``
returns on the CPU with the pinned torch (fused GPU kernels have returned NaN in other
versions); a plain ``torch.softmax`` over a row of ``-inf`` gives NaN.

:func:`off_by_one_softmax` is softmax with an implicit extra logit 0 (a 1 added to the
denominator): its weights may sum to less than 1, so a query can attend to (almost) nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_indices,
    as_real_array,
    broadcast_attention_mask,
    check_attention_shapes,
    check_axis,
    check_count,
    check_flag,
    check_scale,
)
from .core import softmax

if TYPE_CHECKING:  # torch is imported only when the torch version is called
    import torch

__all__ = [
    "causal_mask",
    "padding_mask",
    "attention_weights",
    "scaled_dot_product_attention",
    "torch_attention_with_weights",
    "off_by_one_softmax",
]


def causal_mask(n: int) -> NDArray[np.bool_]:
    """The ``(n, n)`` causal mask: query ``i`` may attend to keys ``0..i`` only.

    Examples
    --------
    >>> causal_mask(3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
    """
    n = check_count(n, "n")
    return np.tril(np.ones((n, n), dtype=bool))


def padding_mask(lengths: ArrayLike, n: int) -> NDArray[np.bool_]:
    """A key-padding mask of shape ``(len(lengths), n)``: ``True`` on the real tokens.

    Sequence ``b`` holds ``lengths[b]`` real tokens followed by padding. Index it as
    ``mask[:, None, :]`` to broadcast over the query rows of ``(batch, n_q, n)`` scores.

    Examples
    --------
    >>> padding_mask([3, 1], 4)
    array([[ True,  True,  True, False],
           [ True, False, False, False]])
    """
    n = check_count(n, "n")
    lengths_array = as_indices(lengths, "lengths", "lengths")
    if lengths_array.ndim != 1:
        raise TypeError(f"lengths must be a 1-D sequence of ints; got {lengths!r}")
    if np.any(lengths_array < 0) or np.any(lengths_array > n):
        raise ValueError(f"lengths must lie in [0, n={n}]; got {lengths_array.tolist()}")
    return np.arange(n) < lengths_array[:, None]


def _scores(
    query: NDArray,
    key: NDArray,
    attn_mask: ArrayLike | None,
    is_causal: bool,
    scale: float | None,
) -> tuple[NDArray, NDArray[np.bool_] | None]:
    """The scaled scores ``query @ key.T * scale`` and the boolean mask (broadcast), if any."""
    n_q, n_k, d = check_attention_shapes(query.shape, key.shape, key.shape)
    is_causal = check_flag(is_causal, "is_causal")
    scale = check_scale(scale)
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal=True, not both (as torch's SDPA)")
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    scores = (query @ np.swapaxes(key, -1, -2)) * scale
    if is_causal:
        attn_mask = np.tril(np.ones((n_q, n_k), dtype=bool))
    if attn_mask is None:
        return scores, None
    allowed = np.asarray(attn_mask)
    if allowed.dtype != np.bool_:
        raise TypeError(f"attn_mask must be boolean (True = may attend); got dtype {allowed.dtype}")
    allowed = broadcast_attention_mask(allowed, scores.shape)
    return np.broadcast_to(scores, allowed.shape), allowed


def attention_weights(
    query: ArrayLike,
    key: ArrayLike,
    attn_mask: ArrayLike | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
) -> NDArray[np.floating]:
    r"""The attention weights :math:`\mathrm{softmax}(QK^\top \cdot \text{scale})`, in NumPy.

    Parameters
    ----------
    query : array_like, shape (..., n_q, d)
        Queries, one row per position that looks.
    key : array_like, shape (..., n_k, d)
        Keys, one row per position that can be looked at.
    attn_mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` where a query may attend to a key
        (torch's convention for a boolean mask). Masked keys get weight exactly 0; a query
        with no key allowed gets all-zero weights.
    is_causal : bool, optional
        Query ``i`` attends to keys ``0..i`` only (top-left aligned, as torch). Not
        together with ``attn_mask``.
    scale : float, optional
        Multiplies the scores; default :math:`1/\sqrt{d}`, as in torch.

    Returns
    -------
    ndarray, shape (..., n_q, n_k)
        Each row a probability distribution over the keys (or all zeros when fully masked).

    Raises
    ------
    ValueError
        Shapes that do not fit together, each error naming the argument and the expected
        shape; both ``attn_mask`` and ``is_causal``.
    TypeError
        A non-boolean ``attn_mask``.

    Examples
    --------
    >>> query = np.array([[1.0, 0.0]])
    >>> key = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> attention_weights(query, key).round(4)  # softmax([1, 0] / sqrt(2))
    array([[0.6698, 0.3302]])
    >>> attention_weights(query, key, [[False, False]])  # nothing to attend to
    array([[0., 0.]])
    """
    query_array, query_dtype = as_real_array(query, "query")
    key_array, key_dtype = as_real_array(key, "key")
    scores, allowed = _scores(query_array, key_array, attn_mask, is_causal, scale)
    # float16 is computed in float32 and rounded once, returned as float16 as torch does
    dtype = np.result_type(query_dtype, key_dtype)
    return softmax(scores, axis=-1, where=allowed).astype(dtype, copy=False)


def scaled_dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    attn_mask: ArrayLike | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
) -> NDArray[np.floating]:
    r"""Scaled dot-product attention in NumPy, as ``torch.nn.functional.scaled_dot_product_attention``.

    Returns :math:`\mathrm{softmax}(QK^\top \cdot \text{scale})\,V`; the weights themselves come
    from :func:`attention_weights` with the same arguments. A boolean ``attn_mask`` only
    (a float mask is torch's other convention; add it to the scores yourself).

    Parameters
    ----------
    query, key : array_like
        As in :func:`attention_weights`: shapes ``(..., n_q, d)`` and ``(..., n_k, d)``.
    value : array_like, shape (..., n_k, d_v)
        Values, averaged with the attention weights.
    attn_mask, is_causal, scale
        As in :func:`attention_weights`. A query with no key allowed gets an all-zero output.

    Returns
    -------
    ndarray, shape (..., n_q, d_v)
        In the inputs' dtype, as torch: float16 inputs are computed in float32 and the
        result rounded once to float16.

    Examples
    --------
    >>> query = np.array([[1.0, 0.0]])
    >>> key = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> value = np.array([[10.0], [20.0]])
    >>> scaled_dot_product_attention(query, key, value).round(2)  # 0.6698 * 10 + 0.3302 * 20
    array([[13.3]])
    """
    value_array, value_dtype = as_real_array(value, "value")
    query_array, query_dtype = as_real_array(query, "query")
    key_array, key_dtype = as_real_array(key, "key")
    check_attention_shapes(query_array.shape, key_array.shape, value_array.shape)
    weights = attention_weights(query_array, key_array, attn_mask, is_causal=is_causal, scale=scale)
    dtype = np.result_type(query_dtype, key_dtype, value_dtype)  # float16 in, float16 out
    return (weights @ value_array).astype(dtype, copy=False)


def torch_attention_with_weights(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention in torch, as ``F.scaled_dot_product_attention``, returning ``(output, weights)``.

    torch's fused function does not return the weights; this one does, for plotting
    them and for training small models whose attention you want to look at. Arguments
    as in ``F.scaled_dot_product_attention``: a boolean ``attn_mask`` (``True`` = may
    attend) or ``is_causal=True`` restricts the keys; a float ``attn_mask`` is added to the
    scores. A query row whose scores are all ``-inf`` (fully masked) gets zero weights and
    a zero output, as torch's SDPA returns on the CPU, and its gradient stays finite (no
    NaN). Dropout is not supported. ``query``, ``key`` and ``value`` must be floating
    tensors of one dtype and device, and ``attn_mask`` boolean or of that dtype (an integer
    0/1 mask would be added to the scores, not applied): anything else raises ``TypeError``.

    Examples
    --------
    >>> import torch
    >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> output, weights = torch_attention_with_weights(q, q, q, is_causal=True)
    >>> weights
    tensor([[1.0000, 0.0000],
            [0.3302, 0.6698]])
    """
    import torch

    for name, tensor in (("query", query), ("key", key), ("value", value)):
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point torch.Tensor; got {_describe(tensor)}"
            )
        if tensor.dtype != query.dtype or tensor.device != query.device:
            raise TypeError(
                f"{name} must have query's dtype and device ({query.dtype}, {query.device}); "
                f"got {tensor.dtype} on {tensor.device}"
            )
    if attn_mask is not None and (
        not isinstance(attn_mask, torch.Tensor)
        or attn_mask.dtype not in (torch.bool, query.dtype)
        or attn_mask.device != query.device
    ):
        raise TypeError(
            "attn_mask must be a torch.Tensor, boolean (True = may attend) or of query's dtype "
            f"{query.dtype} (added to the scores), on query's device; got {_describe(attn_mask)}"
        )
    n_q, n_k, d = check_attention_shapes(tuple(query.shape), tuple(key.shape), tuple(value.shape))
    is_causal = check_flag(is_causal, "is_causal")
    scale = check_scale(scale)
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal=True, not both (as torch's SDPA)")
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = torch.ones(n_q, n_k, dtype=torch.bool, device=query.device).tril()
    if attn_mask is not None:
        broadcast_attention_mask(np.empty(tuple(attn_mask.shape), dtype=bool), tuple(scores.shape))
        if attn_mask.dtype == torch.bool:
            scores = torch.where(attn_mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
    # A row of all -inf would give softmax 0/0 = NaN. Like torch's SDPA, give such a row
    # zero weights; softmax runs on finite stand-in scores so the backward pass stays finite.
    nothing = torch.isneginf(scores).all(dim=-1, keepdim=True)
    weights = torch.softmax(torch.where(nothing, 0.0, scores), dim=-1)
    weights = torch.where(nothing, 0.0, weights)
    return weights @ value, weights


def off_by_one_softmax(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Softmax with an implicit extra zero logit: :math:`e^{x_i} / (1 + \sum_j e^{x_j})`.

    It equals ``softmax`` of ``x`` with a 0 appended along ``axis``, that entry dropped.
    The weights sum to :math:`1 - 1/(1 + \sum_j e^{x_j}) < 1`: when every score is low,
    all weights go to 0, so an attention head can "attend to nothing". Computed stably:
    shifted by :math:`m = \max(0, \max_j x_j)`, the 1 becomes :math:`e^{-m}`.

    Parameters
    ----------
    x : array_like
        Real scores (``-inf`` allowed: weight 0), at least one dimension.
    axis : int, optional
        The axis to normalise over (default -1).

    Returns
    -------
    ndarray
        Same shape as ``x``, entries in [0, 1), each slice summing to less than 1.

    Raises
    ------
    ValueError
        ``x`` is a scalar, or holds NaN or ``+inf``.
    TypeError
        Complex, object or string input; a non-integer ``axis``.

    Examples
    --------
    >>> off_by_one_softmax([0.0, 0.0, 0.0])  # softmax of [0, 0, 0, 0] without the extra 0
    array([0.25, 0.25, 0.25])
    >>> off_by_one_softmax([-20.0, -20.0]).sum() < 1e-8  # nothing attended to
    np.True_
    >>> off_by_one_softmax([1000.0, 1000.0])  # no overflow
    array([0.5, 0.5])
    """
    array, result_dtype = as_real_array(x)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension (a score per key); got a scalar")
    axis = check_axis(axis, array.ndim)
    if np.any(np.isnan(array)) or np.any(array == np.inf):
        raise ValueError("x must not contain NaN or +inf (-inf is allowed: weight 0)")
    shift = np.maximum(np.max(array, axis=axis, keepdims=True), 0.0)
    exps = np.exp(array - shift)
    result = exps / (np.exp(-shift) + np.sum(exps, axis=axis, keepdims=True))
    return result.astype(result_dtype, copy=False)


def _describe(value: object) -> str:
    dtype = getattr(value, "dtype", None)
    return f"{type(value).__name__} of dtype {dtype}" if dtype is not None else repr(value)
