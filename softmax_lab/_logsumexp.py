r"""log-sum-exp: :math:`\log \sum_i e^{x_i}` without overflow or needless rounding.

Computed as :math:`m + \operatorname{log1p}(\sum_{j \ne k} e^{x_j - m})` with
:math:`m = x_k = \max_i x_i` (Blanchard, Higham & Higham, 2021): the shift keeps every
exponential at most 1, and leaving the largest term out of the sum keeps relative
accuracy when one entry dominates.

Edge cases: a NaN anywhere in a slice gives NaN; any ``+inf`` gives ``+inf``; all
``-inf`` (or, with ``where``, nothing included, or a slice of length 0) gives ``-inf``
(the log of an empty sum).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import as_real_array, check_axis, check_where, row_blocks
from ._softmax import _masked, _peak_and_log_rest, _rows

__all__ = ["logsumexp"]


def logsumexp(
    x: ArrayLike,
    axis: int = -1,
    *,
    keepdims: bool = False,
    where: ArrayLike | None = None,
) -> NDArray[np.floating] | np.floating:
    r"""Log of the sum of exponentials along one axis, :math:`\log \sum_i e^{x_i}`.

    Parameters
    ----------
    x : array_like
        Real numbers, at least one dimension.
    axis : int, optional
        The axis to reduce (default -1). ``scipy.special.logsumexp`` defaults to
        ``axis=None`` (the whole array); here, as in ``torch.logsumexp``, an axis is
        always named.
    keepdims : bool, optional
        Keep the reduced axis with length 1, so the result broadcasts against ``x``.
    where : array_like of bool, optional
        Entries to include (must broadcast to ``x``); a slice with nothing included
        gives ``-inf``.

    Returns
    -------
    ndarray or scalar
        float64 for integer or bool input, otherwise ``x``'s floating dtype
        (float16 is computed in float32).

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))  # 1000 + log 2; exp(1000) would overflow
    1000.6931471805599
    >>> float(logsumexp([-1000.0, -1001.0])).__round__(6)
    -999.686738
    >>> logsumexp([[0.0, 0.0], [1.0, 2.0]]).round(4)
    array([0.6931, 2.3133])
    >>> float(logsumexp(np.zeros((0,))))  # an empty sum
    -inf
    """
    array, result_dtype = as_real_array(x)
    mask = check_where(where, array.shape)
    if array.ndim == 0:
        raise ValueError("x must have at least one dimension; got a scalar")
    axis = check_axis(axis, array.ndim)
    reduced_shape = array.shape[:axis] + array.shape[axis + 1 :]
    if array.shape[axis] == 0:
        result = np.full(reduced_shape, -np.inf, dtype=result_dtype)
    else:
        rows_in = _rows(_masked(array, mask), axis)
        values = np.empty(len(rows_in), array.dtype)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for rows in row_blocks(len(rows_in), rows_in.shape[1], rows_in.itemsize):
                peak, log_rest = _peak_and_log_rest(rows_in[rows])
                total = peak + log_rest
                # +inf or all -inf: the max alone is the answer (inf - inf made NaN above)
                infinite = np.isinf(peak)
                total[infinite] = peak[infinite]
                values[rows] = total[:, 0]
        result = values.reshape(reduced_shape).astype(result_dtype, copy=False)
    if keepdims:
        result = np.expand_dims(result, axis)
    return result if result.ndim else result[()]
