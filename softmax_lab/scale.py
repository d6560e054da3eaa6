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
    as_indices,
    as_real_array,
    broadcast_attention_mask,
    check_attention_shapes,
    check_axis,
    check_flag,
    check_positive_int,
    check_reduction,
    check_scale,
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
    "FlashForward",
    "flash_attention_forward",
    "flash_attention_backward",
    "chunked_linear_cross_entropy",
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
    try:
        chunks = iter(chunks)
    except TypeError as error:
        raise TypeError(
            f"chunks must be an iterable of arrays; got {type(chunks).__name__}"
        ) from error
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
    is_causal = check_flag(is_causal, "is_causal")
    scale = check_scale(scale)
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
    if not isinstance(logit_shards, (list, tuple)):
        raise TypeError(
            "logit_shards must be a list or tuple of arrays, one per rank (split_vocab makes "
            f"it); got {type(logit_shards).__name__}"
        )
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
    labels = as_indices(target, "target")
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


class FlashForward(NamedTuple):
    """What :func:`flash_attention_forward` returns: the output, one logsumexp per query
    (all the backward pass needs besides the inputs) and how many ``(query block, key
    block)`` pairs were computed and skipped."""

    output: NDArray[np.floating]
    logsumexp: NDArray[np.floating]
    blocks_computed: int
    blocks_skipped: int


def _flash_inputs(
    query: ArrayLike, key: ArrayLike, value: ArrayLike, scale: float | None
) -> tuple[NDArray, NDArray, NDArray, float]:
    arrays = []
    for name, x in (("query", query), ("key", key), ("value", value)):
        array, _ = as_real_array(x, name)
        if array.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (one head: rows are positions); got shape {array.shape}"
            )
        arrays.append(array)
    q, k, v = arrays
    _, _, d = check_attention_shapes(q.shape, k.shape, v.shape)
    scale = check_scale(scale)
    dtype = np.result_type(q, k, v)
    return (
        q.astype(dtype, copy=False),
        k.astype(dtype, copy=False),
        v.astype(dtype, copy=False),
        1.0 / math.sqrt(d) if scale is None else scale,
    )


def _causal_scores(scores: NDArray, q_start: int, k_start: int, is_causal: bool) -> NDArray:
    if not is_causal:
        return scores
    rows = np.arange(q_start, q_start + scores.shape[0])[:, None]
    cols = np.arange(k_start, k_start + scores.shape[1])
    return np.where(cols <= rows, scores, -np.inf)


def flash_attention_forward(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    block_q: int,
    block_k: int,
) -> FlashForward:
    r"""Attention tiled over queries *and* keys, as FlashAttention-2's forward pass.

    The queries are cut into blocks of ``block_q`` rows; for each block, the keys and values
    stream through in blocks of ``block_k`` with the running ``(max, sum, output)`` of
    :func:`tiled_attention`. The largest score array is one ``(block_q, block_k)`` tile. With
    ``is_causal=True`` (query ``i`` sees keys ``j <= i``, as torch), a key block that starts
    after the query block's last row is masked entirely and is **skipped**, not computed:
    about half the blocks for a long sequence.

    Parameters
    ----------
    query, key, value : array_like, shapes (n_q, d), (n_k, d), (n_k, d_v)
        One head.
    is_causal : bool, optional
    scale : float, optional
        Default ``1 / sqrt(d)``.
    block_q, block_k : int
        Rows per query block and per key block (>= 1).

    Returns
    -------
    FlashForward
        ``output`` (n_q, d_v), ``logsumexp`` (n_q,) of the scaled scores (``-inf`` for a
        query with no key), and the counts of blocks computed and skipped.

    Examples
    --------
    >>> x = np.eye(4)
    >>> result = flash_attention_forward(x, x, x, is_causal=True, block_q=2, block_k=2)
    >>> result.blocks_computed, result.blocks_skipped  # the upper-right block is never computed
    (3, 1)
    >>> result.output[0]  # query 0 sees key 0 only
    array([1., 0., 0., 0.])
    """
    block_q = check_positive_int(block_q, "block_q")
    block_k = check_positive_int(block_k, "block_k")
    is_causal = check_flag(is_causal, "is_causal")
    q, k, v, scale = _flash_inputs(query, key, value, scale)
    n_q, n_k = len(q), len(k)
    output = np.zeros((n_q, v.shape[1]), q.dtype)
    lse = np.full(n_q, -np.inf, q.dtype)
    computed = skipped = 0
    for q_start in range(0, n_q, block_q):
        q_block = q[q_start : q_start + block_q]
        rows = len(q_block)
        m = np.full((rows, 1), -np.inf, q.dtype)
        total = np.zeros((rows, 1), q.dtype)
        out = np.zeros((rows, v.shape[1]), q.dtype)
        for k_start in range(0, n_k, block_k):
            if is_causal and k_start > q_start + rows - 1:
                skipped += 1  # every key here comes after every query of the block
                continue
            computed += 1
            scores = q_block @ k[k_start : k_start + block_k].T * scale
            scores = _causal_scores(scores, q_start, k_start, is_causal)
            new_m = np.maximum(m, scores.max(axis=1, keepdims=True))
            rescale = _shifted_exp(m, new_m)
            p = _shifted_exp(scores, new_m)
            total = rescale * total + p.sum(axis=1, keepdims=True)
            out = rescale * out + p @ v[k_start : k_start + block_k]
            m = new_m
        with np.errstate(divide="ignore", invalid="ignore"):
            output[q_start : q_start + rows] = np.where(total == 0, 0.0, out / total)
            lse[q_start : q_start + rows] = (m + np.log(total))[:, 0]
    return FlashForward(output, lse, computed, skipped)


def flash_attention_backward(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    output: ArrayLike,
    logsumexp: ArrayLike,
    grad_output: ArrayLike,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    block_q: int,
    block_k: int,
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    r"""Gradients of attention from the saved logsumexp, recomputing probabilities tile by tile.

    The forward pass kept only the output :math:`O` and :math:`L_i = \log \sum_j e^{s_{ij}}`.
    For each ``(block_q, block_k)`` tile the backward pass recomputes the scores and
    :math:`P_{ij} = e^{s_{ij} - L_i}` (exact probabilities, no second normalisation), then

    .. math::

        dV_j \mathrel{+}= P^\top dO, \quad dP = dO\, V_j^\top, \quad
        dS = P \odot (dP - D), \quad dQ_i \mathrel{+}= c\, dS\, K_j, \quad
        dK_j \mathrel{+}= c\, dS^\top Q_i,

    with :math:`D_i = \sum_c dO_{ic} O_{ic}` (the row sums of :math:`dP \odot P`, from the
    output instead of the probabilities) and :math:`c` the scale. The ``(n_q, n_k)`` matrices
    never exist; causal blocks above the diagonal are skipped as in the forward pass.

    Parameters
    ----------
    query, key, value : array_like
        As :func:`flash_attention_forward`.
    output, logsumexp : array_like
        Its results.
    grad_output : array_like, shape (n_q, d_v)
        The gradient of the loss with respect to ``output``.
    is_causal, scale, block_q, block_k
        As in the forward pass (the tiles may differ from the forward's).

    Returns
    -------
    (grad_query, grad_key, grad_value) : ndarray

    Examples
    --------
    >>> q, k, v = np.eye(2), np.eye(2), np.array([[1.0], [3.0]])
    >>> fwd = flash_attention_forward(q, k, v, block_q=1, block_k=1)
    >>> dq, dk, dv = flash_attention_backward(q, k, v, fwd.output, fwd.logsumexp,
    ...                                       np.ones((2, 1)), block_q=1, block_k=1)
    >>> dv[:, 0].round(4)  # column sums of the attention weights
    array([1., 1.])
    """
    block_q = check_positive_int(block_q, "block_q")
    block_k = check_positive_int(block_k, "block_k")
    is_causal = check_flag(is_causal, "is_causal")
    q, k, v, scale = _flash_inputs(query, key, value, scale)
    out, _ = as_real_array(output, "output")
    lse, _ = as_real_array(logsumexp, "logsumexp")
    d_out, _ = as_real_array(grad_output, "grad_output")
    expected = (len(q), v.shape[1])
    for name, array, shape in (
        ("output", out, expected),
        ("grad_output", d_out, expected),
        ("logsumexp", lse, (len(q),)),
    ):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}; got {array.shape}")
    delta = (d_out * out).sum(axis=1)  # D_i = sum_j P_ij dP_ij
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    for q_start in range(0, len(q), block_q):
        rows = slice(q_start, q_start + block_q)
        q_block, do_block = q[rows], d_out[rows]
        n_rows = len(q_block)
        for k_start in range(0, len(k), block_k):
            if is_causal and k_start > q_start + n_rows - 1:
                continue
            cols = slice(k_start, k_start + block_k)
            scores = _causal_scores(q_block @ k[cols].T * scale, q_start, k_start, is_causal)
            p = _shifted_exp(scores, lse[rows, None])  # exact probabilities, from L
            dv[cols] += p.T @ do_block
            ds = p * (do_block @ v[cols].T - delta[rows, None])
            dq[rows] += ds @ k[cols] * scale
            dk[cols] += ds.T @ q_block * scale
    return dq, dk, dv


def chunked_linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    chunk_size: int,
    ignore_index: int = -100,
) -> tuple[np.floating, NDArray[np.floating], NDArray[np.floating]]:
    r"""Mean cross-entropy of ``hidden @ weight.T`` and its gradients, never forming all logits.

    The output layer of a language model turns ``(N, d)`` hidden states into ``(N, V)``
    logits: at N = 16,384 tokens and V = 128,000 that is 8 GiB in float32, before softmax and
    gradient copies. Here the vocabulary is visited ``chunk_size`` rows of ``weight`` at a
    time, twice:

    1. each chunk's logits ``(N, chunk_size)`` are reduced to a ``(max, sum)`` state
       (:func:`chunk_state`, :func:`merge_states`) and the targets' logits are picked out;
    2. each chunk's logits are recomputed, turned into
       :math:`(\mathrm{softmax} - \text{one-hot}) / N_{\text{counted}}` with the final
       logsumexp, and multiplied into the gradients of ``hidden`` and of that chunk of
       ``weight``.

    The largest temporary is ``(N, chunk_size)``, whatever ``V`` is.

    Parameters
    ----------
    hidden : array_like, shape (N, d)
    weight : array_like, shape (V, d)
        As ``torch.nn.Linear(d, V, bias=False).weight``.
    target : array_like of int, shape (N,)
        Class indices in ``0 .. V-1``, or ``ignore_index`` for rows that count for nothing.
    chunk_size : int
        Vocabulary rows per chunk (>= 1).
    ignore_index : int, optional
        Default -100, as torch.

    Returns
    -------
    (loss, grad_hidden, grad_weight)
        The mean over counted rows (NaN when none counts, as torch) and its gradients; an
        empty batch (N = 0) gives NaN and zero gradients, as torch does.

    Examples
    --------
    >>> hidden = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> weight = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # V = 3
    >>> loss, dh, dw = chunked_linear_cross_entropy(hidden, weight, [0, 2], chunk_size=2)
    >>> round(float(loss), 4)  # (log(e + 2) - 1 + log(e + 2)) / 2
    1.0514
    """
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be an int; got {ignore_index!r}")
    h, _ = as_real_array(hidden, "hidden")
    w, _ = as_real_array(weight, "weight")
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(
            f"hidden must be (N, d) and weight (V, d) with the same d; got shapes {h.shape} "
            f"and {w.shape}"
        )
    labels = as_indices(target, "target")
    if labels.shape != (len(h),):
        raise ValueError(f"target must hold {len(h)} class indices; got shape {labels.shape}")
    vocab = len(w)
    counted = labels != ignore_index
    if np.any((labels[counted] < 0) | (labels[counted] >= vocab)):
        raise ValueError(f"target must hold class indices in 0..{vocab - 1} or ignore_index")
    dtype = np.result_type(h, w)
    rows = np.arange(len(h))
    state = chunk_state(np.zeros((len(h), 0), dtype))
    target_logit = np.zeros(len(h), dtype)
    chunks = range(0, vocab, chunk_size)
    for start in chunks:  # pass 1: (max, sum) and the target's logit, chunk by chunk
        logits = h @ w[start : start + chunk_size].T
        state = merge_states(state, chunk_state(logits))
        owns = counted & (labels >= start) & (labels < start + logits.shape[1])
        target_logit[owns] = logits[rows[owns], labels[owns] - start]
    lse = state.logsumexp()
    n_counted = int(counted.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(counted, lse - target_logit, 0.0).sum() / n_counted
        row_scale = counted / np.asarray(n_counted, dtype)
    grad_hidden = np.zeros_like(h, dtype=dtype)
    grad_weight = np.zeros_like(w, dtype=dtype)
    for start in chunks:  # pass 2: recompute, softmax - one-hot, into both gradients
        chunk_w = w[start : start + chunk_size]
        grad = _shifted_exp(h @ chunk_w.T, lse[:, None])
        owns = counted & (labels >= start) & (labels < start + len(chunk_w))
        grad[rows[owns], labels[owns] - start] -= 1.0
        grad *= row_scale[:, None]
        grad_hidden += grad @ chunk_w
        grad_weight[start : start + chunk_size] = grad.T @ h
    return loss[()], grad_hidden, grad_weight
