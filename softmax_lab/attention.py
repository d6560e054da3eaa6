r"""Scaled dot-product attention, in NumPy and in torch, with boolean masks.

Attention turns each query's similarity scores with the keys into a probability
distribution over the keys, and returns the matching average of the values:

.. math::

    \mathrm{weights} = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right), \qquad
    \mathrm{output} = \mathrm{weights}\, V .

Shapes follow ``torch.nn.functional.scaled_dot_product_attention``: ``q`` is
``(..., n_q, d)``, ``k`` is ``(..., n_k, d)``, ``v`` is ``(..., n_k, d_v)`` and the result
is ``(..., n_q, d_v)``; the leading batch dimensions broadcast.

Masks are boolean, ``True`` meaning "this query may attend to this key" (torch's
convention for a boolean ``attn_mask``). A query row whose keys are all masked has no
distribution to normalise; here its weights and its output are all zeros. That is what
``softmax(..., where=mask)`` gives, and what ``torch.nn.functional.scaled_dot_product_attention``
returns too (torch >= 2.5); a plain ``torch.softmax`` over a row of ``-inf`` gives NaN.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from ._arrays import as_real_array
from ._softmax import softmax

__all__ = [
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "torch_scaled_dot_product_attention",
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
    n = _check_length(n, "n")
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
    n = _check_length(n, "n")
    lengths_array = np.asarray(lengths)
    if lengths_array.ndim != 1 or lengths_array.dtype.kind not in "iu":
        raise TypeError(f"lengths must be a 1-D sequence of ints; got {lengths!r}")
    if np.any(lengths_array < 0) or np.any(lengths_array > n):
        raise ValueError(f"lengths must lie in [0, n={n}]; got {lengths_array.tolist()}")
    return np.arange(n) < lengths_array[:, None]


def scaled_dot_product_attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    mask: ArrayLike | None = None,
    *,
    scale: float | None = None,
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    r"""Scaled dot-product attention in NumPy; returns ``(output, weights)``.

    Parameters
    ----------
    q : array_like, shape (..., n_q, d)
        Queries, one row per position that looks.
    k : array_like, shape (..., n_k, d)
        Keys, one row per position that can be looked at.
    v : array_like, shape (..., n_k, d_v)
        Values, averaged with the attention weights.
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` where a query may attend to a key.
        Masked keys get weight exactly 0; a query with no key allowed gets all-zero
        weights and an all-zero output.
    scale : float, optional
        Multiplies the scores; default :math:`1/\sqrt{d}`, as in torch.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_v)
    weights : ndarray, shape (..., n_q, n_k)
        Each row is a probability distribution over the keys (or all zeros when fully masked).

    Raises
    ------
    ValueError
        Shapes that do not fit together, each error naming the argument and the expected shape.

    Examples
    --------
    >>> q = np.array([[1.0, 0.0]])
    >>> k = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> v = np.array([[10.0], [20.0]])
    >>> output, weights = scaled_dot_product_attention(q, k, v)
    >>> weights.round(4)  # softmax([1, 0] / sqrt(2))
    array([[0.6698, 0.3302]])
    >>> output.round(2)
    array([[13.3]])
    >>> scaled_dot_product_attention(q, k, v, mask=[[False, False]])[1]  # nothing to attend to
    array([[0., 0.]])
    """
    q_array, _ = as_real_array(q, "q")
    k_array, _ = as_real_array(k, "k")
    v_array, _ = as_real_array(v, "v")
    n_q, n_k, d = _check_shapes(q_array.shape, k_array.shape, v_array.shape)
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    scores = (q_array @ np.swapaxes(k_array, -1, -2)) * scale
    where = None
    if mask is not None:
        where = np.asarray(mask)
        if where.dtype != np.bool_:
            raise TypeError(f"mask must be boolean (True = may attend); got dtype {where.dtype}")
        where = _broadcast_mask(where, scores.shape, n_q, n_k)
        scores = np.broadcast_to(scores, where.shape)
    weights = softmax(scores, axis=-1, where=where)
    return weights @ v_array, weights


def torch_scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention in torch, as ``F.scaled_dot_product_attention``; also returns the weights.

    A boolean ``attn_mask`` (``True`` = may attend) or ``is_causal=True`` (query ``i``
    sees keys ``0..i``, aligned top-left as in torch) restricts the keys; a float
    ``attn_mask`` is added to the scores. A query row whose scores are all ``-inf`` (fully
    masked) gets zero weights and a zero output, as torch's SDPA returns (torch >= 2.5),
    and its gradient stays finite (no NaN).
    Dropout is not supported.

    Examples
    --------
    >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> output, weights = torch_scaled_dot_product_attention(q, q, q, is_causal=True)
    >>> weights
    tensor([[1.0000, 0.0000],
            [0.3302, 0.6698]])
    """
    n_q, n_k, d = _check_shapes(tuple(query.shape), tuple(key.shape), tuple(value.shape))
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal=True, not both (as torch's SDPA)")
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = torch.ones(n_q, n_k, dtype=torch.bool, device=query.device).tril()
    if attn_mask is not None:
        mask_shape = tuple(attn_mask.shape)
        _broadcast_mask(
            np.empty(mask_shape, dtype=bool), tuple(scores.shape), n_q, n_k, "attn_mask"
        )
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


def _check_length(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be >= 0; got {n}")
    return int(n)


def _check_shapes(
    q_shape: tuple[int, ...], k_shape: tuple[int, ...], v_shape: tuple[int, ...]
) -> tuple[int, int, int]:
    """Return ``(n_q, n_k, d)`` after checking that q, k and v fit together."""
    for name, shape, expected in (
        ("q", q_shape, "(..., n_q, d)"),
        ("k", k_shape, "(..., n_k, d)"),
        ("v", v_shape, "(..., n_k, d_v)"),
    ):
        if len(shape) < 2:
            raise ValueError(f"{name} must have shape {expected}, at least 2-D; got shape {shape}")
    n_q, d = q_shape[-2:]
    n_k = k_shape[-2]
    if k_shape[-1] != d:
        raise ValueError(
            f"k must have shape (..., n_k, d) with d = {d} as in q of shape {q_shape}; "
            f"got shape {k_shape}"
        )
    if v_shape[-2] != n_k:
        raise ValueError(
            f"v must have shape (..., n_k, d_v) with n_k = {n_k} rows as in k of shape {k_shape}; "
            f"got shape {v_shape}"
        )
    try:
        np.broadcast_shapes(q_shape[:-2], k_shape[:-2], v_shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"the batch dimensions of q {q_shape[:-2]}, k {k_shape[:-2]} and v {v_shape[:-2]} "
            "do not broadcast together"
        ) from error
    return n_q, n_k, d


def _broadcast_mask(
    mask: NDArray[np.bool_], scores_shape: tuple[int, ...], n_q: int, n_k: int, name: str = "mask"
) -> NDArray[np.bool_]:
    """Broadcast the mask with the scores, or say what shape was expected."""
    try:
        shape = np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        shape = None
    if shape is None or shape[-2:] != (n_q, n_k):
        raise ValueError(
            f"{name} must broadcast to the scores' shape (..., n_q, n_k) = {scores_shape}; "
            f"got shape {mask.shape}"
        )
    return np.broadcast_to(mask, shape)
