r"""Softmax when the data does not fit: one pass, tiles, many processes.

Three ways of computing a softmax without ever holding everything at once:

* **Online normaliser** (Milakov & Gimelshein, "Online normalizer calculation for
  softmax", 2018). A row is read in chunks; a running maximum :math:`m` and a running sum
  :math:`d = \sum_{j \text{ seen}} e^{x_j - m}` are kept. When a chunk raises the maximum
  from :math:`m` to :math:`m'`, the old sum is rescaled by :math:`e^{m - m'}`:

  .. math::

      \sum_{j} e^{x_j - m'} = e^{m - m'} \sum_{j} e^{x_j - m}.

  Two partial states merge the same way (:func:`merge_states`), and the merge is
  associative and commutative, so chunks can be reduced in any order or tree: the basis
  of parallel and tiled softmax.
* **Tiled attention** in the style of FlashAttention (Dao et al., 2022): keys and values
  are visited tile by tile, with a running maximum, running sum and running output per
  query, so the ``(n_q, n_k)`` score matrix is never formed (:func:`tiled_attention`).
* **Vocabulary-parallel cross-entropy** as in Megatron-LM's tensor parallelism: each
  simulated rank holds a slice of the vocabulary's logits; only per-row scalars (a max, a
  sum and the target's logit) are combined (:func:`vocab_parallel_cross_entropy`).

A state is a :class:`NormaliserState` ``(max, sum)``; the empty state is
``(-inf, 0)``, the identity of :func:`merge_states`. Its logsumexp is ``max + log(sum)``.
A NaN anywhere gives NaN; ``+inf`` entries are counted in ``sum`` (so each gets an equal
share of the mass, as :func:`softmax_lab.softmax` does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    Reduction,
    as_real_array,
    broadcast_attention_mask,
    check_attention_shapes,
    check_axis,
    check_positive_int,
    check_reduction,
    reduce,
)

__all__ = [
    "NormaliserState",
    "chunk_state",
    "merge_states",
    "online_logsumexp",
    "online_softmax",
    "tiled_attention",
    "split_vocab",
    "vocab_parallel_cross_entropy",
]


class NormaliserState(NamedTuple):
    """A partial softmax normaliser: ``max`` of the entries seen and ``sum`` of ``exp(x - max)``.

    Both fields are arrays of the same shape (one value per row) or scalars.
    ``(-inf, 0)`` is the state of an empty chunk.
    """

    max: NDArray[np.floating]
    sum: NDArray[np.floating]

    def logsumexp(self) -> NDArray[np.floating]:
        """``max + log(sum)``: the log of the normaliser (``-inf`` for the empty state)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.max + np.log(self.sum)


def _shifted_exp(x: NDArray, peak: NDArray) -> NDArray:
    """``exp(x - peak)`` for ``x <= peak``, with the limits an infinite peak needs.

    A peak of ``+inf`` counts each ``+inf`` entry as 1 (and the rest as 0); a peak of
    ``-inf`` (nothing seen) gives 0 instead of ``exp(nan)``. NaN stays NaN.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - peak)
    e = np.where(np.isposinf(peak) & np.isposinf(x), 1.0, e)
    return np.where(np.isneginf(peak), 0.0, e)


def chunk_state(x: ArrayLike, axis: int = -1) -> NormaliserState:
    """The normaliser state of one chunk: its maximum and the sum of ``exp(x - max)``.

    Parameters
    ----------
    x : array_like
        A chunk of scores; the chunk runs along ``axis`` (it may be empty).
    axis : int, optional
        The axis being normalised (default -1).

    Returns
    -------
    NormaliserState
        One ``(max, sum)`` per row, shape of ``x`` without ``axis``; an empty chunk
        gives ``(-inf, 0)``.

    Examples
    --------
    >>> state = chunk_state([1.0, 2.0, 3.0])
    >>> float(state.max), round(float(state.sum), 4)  # e^-2 + e^-1 + e^0
    (3.0, 1.5032)
    >>> chunk_state(np.zeros((2, 0)))
    NormaliserState(max=array([-inf, -inf]), sum=array([0., 0.]))
    """
    array, _ = as_real_array(x)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension (the chunk's entries); got a scalar")
    axis = check_axis(axis, array.ndim)
    if array.shape[axis] == 0:
        shape = array.shape[:axis] + array.shape[axis + 1 :]
        return NormaliserState(np.full(shape, -np.inf, array.dtype), np.zeros(shape, array.dtype))
    peak = array.max(axis=axis, keepdims=True)
    total = _shifted_exp(array, peak).sum(axis=axis)
    return NormaliserState(np.squeeze(peak, axis=axis), total.astype(array.dtype, copy=False))


def merge_states(a: NormaliserState, b: NormaliserState) -> NormaliserState:
    r"""Combine the states of two disjoint chunks into the state of their union.

    With :math:`m = \max(m_a, m_b)`, the result is
    :math:`(m,\; d_a e^{m_a - m} + d_b e^{m_b - m})`: each partial sum is rescaled to
    the common maximum. The merge is associative and commutative, and ``(-inf, 0)`` is
    its identity, so states can be reduced in any order (a parallel reduction tree).

    Parameters
    ----------
    a, b : NormaliserState or pair of array_like
        ``(max, sum)`` pairs; the arrays broadcast together.

    Returns
    -------
    NormaliserState

    Examples
    --------
    >>> left, right = chunk_state([1000.0, 0.0]), chunk_state([1000.0])
    >>> merged = merge_states(left, right)
    >>> float(merged.max), round(float(merged.sum), 4)  # no overflow: 1 + e^-1000 + 1
    (1000.0, 2.0)
    >>> float(merge_states(merged, (-np.inf, 0.0)).sum)  # the empty state changes nothing
    2.0
    """
    values = (*_as_pair(a, "a"), *_as_pair(b, "b"))
    # float32 states stay float32 (a Python float such as the empty state's -inf adapts);
    # integer or bool fields compute in float64.
    dtype = np.result_type(*values)
    if dtype.kind != "f":
        dtype = np.result_type(dtype, np.float64)
    m_a, d_a, m_b, d_b = (np.asarray(value, dtype=dtype) for value in values)
    peak = np.maximum(m_a, m_b)
    total = d_a * _shifted_exp(m_a, peak) + d_b * _shifted_exp(m_b, peak)
    return NormaliserState(peak, total.astype(dtype, copy=False))


def _as_pair(state: object, name: str) -> tuple[ArrayLike, ArrayLike]:
    if not isinstance(state, tuple) or len(state) != 2:
        raise TypeError(
            f"{name} must be a (max, sum) pair such as a NormaliserState; got {state!r}"
        )
    return state[0], state[1]


def online_logsumexp(chunks: Iterable[ArrayLike]) -> NDArray[np.floating]:
    r"""Log-sum-exp of a row streamed in chunks, reading each chunk once.

    Parameters
    ----------
    chunks : iterable of array_like
        Consecutive pieces of the data, split along the last axis; the leading axes
        (one value per row) must agree. A generator works: nothing is kept but the state.

    Returns
    -------
    ndarray or scalar
        :math:`\log \sum e^{x}` over all chunks, as :func:`softmax_lab.logsumexp`, in the
        chunks' dtype whatever their number (float16 is computed in float32; integers give
        float64).

    Raises
    ------
    ValueError
        ``chunks`` is empty, a chunk is a scalar, or chunks disagree on the leading shape.

    Examples
    --------
    >>> round(float(online_logsumexp([[1000.0, 1000.0], [], [1000.0]])), 6)  # 1000 + log 3
    1001.098612
    >>> online_logsumexp(np.array_split(np.zeros((2, 6)), 4, axis=1)).round(4)  # log 6
    array([1.7918, 1.7918])
    """
    state: NormaliserState | None = None
    result_dtypes = []
    for index, chunk in enumerate(chunks):
        array, result_dtype = as_real_array(chunk, f"chunks[{index}]")
        result_dtypes.append(result_dtype)
        if array.ndim == 0:
            raise ValueError(f"chunks[{index}] must have at least one dimension; got a scalar")
        piece = chunk_state(array)
        if state is not None and np.shape(piece.max) != np.shape(state.max):
            raise ValueError(
                f"chunks must share their leading shape: chunks[{index}] has shape "
                f"{np.shape(array)}, the earlier chunks rows of shape {np.shape(state.max)}"
            )
        state = piece if state is None else merge_states(state, piece)
    if state is None:
        raise ValueError("chunks must hold at least one chunk (got none)")
    return np.asarray(state.logsumexp()).astype(np.result_type(*result_dtypes))[()]


def online_softmax(x: ArrayLike, chunk_size: int, axis: int = -1) -> NDArray[np.floating]:
    """Softmax in two passes over ``x``, ``chunk_size`` entries of each row at a time.

    Pass 1 streams the chunks through :func:`chunk_state` and :func:`merge_states` (the
    online normaliser: running max and running sum in one read). Pass 2 writes
    ``exp(x - max) / sum`` chunk by chunk. The textbook stable softmax reads the data
    three times (max, sum, normalise); this reads it twice.

    Parameters
    ----------
    x : array_like
        Scores of any shape with at least one dimension.
    chunk_size : int
        How many entries along ``axis`` one chunk holds (>= 1; the last chunk may be
        shorter).
    axis : int, optional
        The axis to normalise over (default -1).

    Returns
    -------
    ndarray
        The same as :func:`softmax_lab.softmax` (up to rounding), dtype rules included:
        NaN rows are NaN, ``+inf`` entries share the mass, an all ``-inf`` row is NaN.

    Raises
    ------
    ValueError
        ``chunk_size`` < 1, or ``x`` a scalar.
    TypeError
        ``chunk_size`` not an int.

    Examples
    --------
    >>> online_softmax([2.0, 1.0, 0.1], chunk_size=2).round(3)
    array([0.659, 0.242, 0.099])
    >>> online_softmax([[1000.0, 0.0, 1000.0]], chunk_size=1)
    array([[0.5, 0. , 0.5]])
    """
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    array, result_dtype = as_real_array(x)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension (a score per class); got a scalar")
    axis = check_axis(axis, array.ndim)
    rows = np.moveaxis(array, axis, -1)
    n = rows.shape[-1]
    starts = range(0, n, chunk_size)
    state = chunk_state(rows[..., :0])
    for start in starts:  # pass 1: one read, running max and running sum
        state = merge_states(state, chunk_state(rows[..., start : start + chunk_size]))
    result = np.empty(rows.shape, array.dtype)
    peak, total = state.max[..., None], state.sum[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in starts:  # pass 2: one read, one write
            chunk = rows[..., start : start + chunk_size]
            result[..., start : start + chunk_size] = _shifted_exp(chunk, peak) / total
    return np.moveaxis(result, -1, axis).astype(result_dtype, copy=False)


def tiled_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    attn_mask: ArrayLike | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    tile_size: int,
) -> NDArray[np.floating]:
    r"""Scaled dot-product attention, keys and values visited ``tile_size`` at a time.

    For every query it keeps a running maximum :math:`m`, a running sum :math:`\ell` and a
    running, unnormalised output :math:`o`. For a tile of keys with scores :math:`s`:

    .. math::

        m' = \max(m, \max_j s_j), \quad
        \ell' = e^{m - m'} \ell + \sum_j e^{s_j - m'}, \quad
        o' = e^{m - m'} o + \sum_j e^{s_j - m'} v_j,

    and at the end the output is :math:`o / \ell`. The largest intermediate is one
    ``(n_q, tile_size)`` block of scores, never the ``(n_q, n_k)`` matrix (the idea of
    FlashAttention, here in NumPy for clarity, not speed).

    Parameters
    ----------
    query, key, value : array_like
        Shapes ``(..., n_q, d)``, ``(..., n_k, d)``, ``(..., n_k, d_v)``; batch axes broadcast.
    attn_mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` where a query may attend to a key.
    is_causal : bool, optional
        Query ``i`` attends to keys ``0..i`` (top-left aligned, as torch's
        ``is_causal=True``); the mask is made tile by tile, never as a full matrix.
    scale : float, optional
        Multiplies the scores; default :math:`1/\sqrt{d}`.
    tile_size : int
        Keys per tile (>= 1).

    Returns
    -------
    ndarray, shape (..., n_q, d_v)
        The same as ``scaled_dot_product_attention(query, key, value, attn_mask, ...)``;
        a query with no key allowed gets a zero output.

    Raises
    ------
    ValueError
        Shapes that do not fit, ``tile_size`` < 1, or both ``attn_mask`` and ``is_causal``.
    TypeError
        A non-boolean ``attn_mask`` or a non-int ``tile_size``.

    Examples
    --------
    >>> query = np.array([[1.0, 0.0]])
    >>> key = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> value = np.array([[10.0], [20.0]])
    >>> tiled_attention(query, key, value, tile_size=1).round(2)  # as scaled_dot_product_attention
    array([[13.3]])
    >>> tiled_attention(query, key, value, [[False, False]], tile_size=1)  # nothing to attend to
    array([[0.]])
    """
    tile_size = check_positive_int(tile_size, "tile_size")
    q_array, _ = as_real_array(query, "query")
    k_array, _ = as_real_array(key, "key")
    v_array, _ = as_real_array(value, "value")
    n_q, n_k, d = check_attention_shapes(q_array.shape, k_array.shape, v_array.shape)
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal=True, not both (as torch's SDPA)")
    if scale is None:
        scale = 1.0 / math.sqrt(d)
    batch = np.broadcast_shapes(q_array.shape[:-2], k_array.shape[:-2], v_array.shape[:-2])
    allowed = None
    if attn_mask is not None:
        allowed = np.asarray(attn_mask)
        if allowed.dtype != np.bool_:
            raise TypeError(
                f"attn_mask must be boolean (True = may attend); got dtype {allowed.dtype}"
            )
        allowed = broadcast_attention_mask(allowed, (*batch, n_q, n_k))  # a view, no copy
        batch = allowed.shape[:-2]
    dtype = np.result_type(q_array, k_array, v_array)
    running_max = np.full((*batch, n_q, 1), -np.inf, dtype)
    running_sum = np.zeros((*batch, n_q, 1), dtype)
    running_out = np.zeros((*batch, n_q, v_array.shape[-1]), dtype)
    for start in range(0, n_k, tile_size):
        stop = min(start + tile_size, n_k)
        k_tile, v_tile = k_array[..., start:stop, :], v_array[..., start:stop, :]
        scores = (q_array @ np.swapaxes(k_tile, -1, -2)) * scale  # (..., n_q, tile)
        if is_causal:
            scores = np.where(np.arange(start, stop) <= np.arange(n_q)[:, None], scores, -np.inf)
        elif allowed is not None:
            scores = np.where(allowed[..., start:stop], scores, -np.inf)
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
        rescale = _shifted_exp(running_max, new_max)  # e^(m - m'): 0 while nothing was seen
        p = _shifted_exp(scores, new_max)
        running_sum = rescale * running_sum + p.sum(axis=-1, keepdims=True)
        running_out = rescale * running_out + p @ v_tile
        running_max = new_max
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(running_sum == 0, 0.0, running_out / running_sum)


def split_vocab(logits: ArrayLike, num_shards: int) -> list[NDArray[np.floating]]:
    """Split logits along the last (vocabulary) axis into ``num_shards`` contiguous shards.

    The shards differ in width by at most one (``numpy.array_split``), as when a
    vocabulary of 50257 tokens is spread over 4 ranks.

    Examples
    --------
    >>> [shard.shape for shard in split_vocab(np.zeros((2, 10)), 4)]
    [(2, 3), (2, 3), (2, 2), (2, 2)]
    """
    num_shards = check_positive_int(num_shards, "num_shards")
    array, _ = as_real_array(logits, "logits")
    if array.ndim == 0:
        raise ValueError("logits must have at least one dimension (the vocabulary); got a scalar")
    return np.array_split(array, num_shards, axis=-1)


def vocab_parallel_cross_entropy(
    logit_shards: Sequence[ArrayLike],
    target: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> NDArray[np.floating] | np.floating:
    r"""Cross-entropy over a vocabulary split across ranks, no rank seeing all logits.

    Rank ``r`` holds ``logit_shards[r]``, the logits of vocabulary entries
    ``offset_r .. offset_r + V_r - 1`` (offsets follow the shard order). Each rank computes
    per-row scalars, and only those are combined ("all-reduce"):

    1. its local maximum; all-reduce **max** gives the global maximum :math:`m`;
    2. its local :math:`\sum e^{z - m}`; all-reduce **sum** gives the normaliser;
    3. the target's logit if it owns the target, else 0; all-reduce **sum** gives
       :math:`z_y`.

    The loss per row is :math:`(m - z_y) + \log \sum_j e^{z_j - m}`; subtracting
    :math:`z_y` from :math:`m` first keeps the result exact when the logits are large
    (:math:`(m + \log S) - z_y` would carry an absolute error of :math:`|m| \varepsilon`).

    Parameters
    ----------
    logit_shards : sequence of array_like
        One ``(..., V_r)`` array per rank; the leading shapes must agree. A shard may be
        empty (``V_r = 0``).
    target : array_like of int
        Class indices in ``[0, V)`` with ``V = sum(V_r)``, shape of the leading axes.
    reduction : {"mean", "sum", "none"}, optional
        As in :func:`softmax_lab.cross_entropy`.

    Returns
    -------
    ndarray or scalar
        The same as ``cross_entropy(np.concatenate(logit_shards, -1), target, reduction=...)``,
        in the logits' dtype (float16 is computed in float32).

    Raises
    ------
    ValueError
        No shards, shards with different leading shapes, a target of the wrong shape or out
        of range, or a bad ``reduction``.
    TypeError
        A target that is not integer.

    Examples
    --------
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 9.0]])
    >>> shards = split_vocab(logits, 2)  # widths 2 and 1
    >>> vocab_parallel_cross_entropy(shards, [0, 2], reduction="none").round(3)
    array([0.417, 0.   ])
    """
    check_reduction(reduction)
    if len(logit_shards) == 0:
        raise ValueError("logit_shards must hold at least one shard (got none)")
    shards = []
    dtypes = []
    for index, shard in enumerate(logit_shards):
        array, dtype = as_real_array(shard, f"logit_shards[{index}]")
        dtypes.append(dtype)
        if array.ndim == 0 or array.shape[:-1] != np.shape(logit_shards[0])[:-1]:
            raise ValueError(
                f"logit_shards[{index}] must have shape (..., V_r) with leading shape "
                f"{np.shape(logit_shards[0])[:-1]} as logit_shards[0]; got shape {array.shape}"
            )
        shards.append(array)
    result_dtype = np.result_type(*dtypes)
    shards = [
        shard.astype(np.result_type(*(s.dtype for s in shards)), copy=False) for shard in shards
    ]
    rows = shards[0].shape[:-1]
    vocab = sum(shard.shape[-1] for shard in shards)
    labels = np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices; got dtype {labels.dtype}")
    if labels.shape != rows:
        raise ValueError(f"target must have shape {rows} (one index per row); got {labels.shape}")
    outside = (labels < 0) | (labels >= vocab)
    if outside.any():
        raise ValueError(
            f"target holds class indices in [0, {vocab}); found {labels[outside].flat[0]}"
        )
    offsets = np.cumsum([0] + [shard.shape[-1] for shard in shards])
    # Step 1: local maxima, then "all-reduce max" (the only thing that crosses ranks).
    local_max = [
        shard.max(axis=-1) if shard.shape[-1] else np.full(rows, -np.inf, shard.dtype)
        for shard in shards
    ]
    global_max = np.maximum.reduce(local_max)
    # Step 2: local sums of exp(z - global max), then "all-reduce sum".
    global_sum = sum(_shifted_exp(shard, global_max[..., None]).sum(-1) for shard in shards)
    # Step 3: the owner of each target contributes its logit, the others 0; "all-reduce sum".
    target_logit = np.zeros(rows, shards[0].dtype)
    for shard, start, stop in zip(shards, offsets[:-1], offsets[1:], strict=True):
        owns = (labels >= start) & (labels < stop)
        local = np.clip(labels - start, 0, max(shard.shape[-1] - 1, 0))
        if shard.shape[-1]:
            picked = np.take_along_axis(shard, local[..., None], axis=-1)[..., 0]
            target_logit = target_logit + np.where(owns, picked, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (m - z_y) first: m + log S - z_y would carry |m| * eps of absolute error
        per_row = (global_max - target_logit) + np.log(global_sum)
    return np.asarray(reduce(np.asarray(per_row), reduction)).astype(result_dtype)[()]
