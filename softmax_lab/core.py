r"""Softmax, log-softmax and log-sum-exp: exact, fast and strict NumPy implementations.

The library versions of what chapters 01-03 build by hand.

The algorithms are the ones Blanchard, Higham and Higham analyse ("Accurately computing
the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41, 2021). Softmax divides
by the row sum; log-softmax subtracts
:math:`\max + \operatorname{log1p}(\sum_{j \ne k} e^{x_j - \max})`. Shifting by the
maximum is what keeps ``exp`` from overflowing, but the shift is not free: rounding
:math:`x_i - \max` costs up to :math:`|x_i - \max| \cdot \varepsilon / 2`, which ``exp``
turns into a relative error of the same size (the spread term of their error bound).
So softmax shifts only the blocks of rows that need it: where no ``exp`` can overflow (the
sum included) and every row sum is at least 1 (so every probability above the smallest
normal number comes from a normal, full-precision exponential), it computes
``exp(x) / sum(exp(x))`` directly, and is then within about 2 eps of the exact result
whatever the spread (scipy and torch: about 17 eps on a row whose maximum stands
40 above the rest). Where the shift is needed, it is made exact: float32 rows are shifted
in float64 (the difference of two float32 numbers is exact there) and float64 rows carry
the rounding error of each :math:`x_i - \max` (Knuth's TwoSum) into the exponential, so a
row whose maximum stands 700 above other entries loses no accuracy (scipy and torch: 250
eps). log_softmax does the same for the rows where the sum of the other terms is below 1,
where a dominant entry's log-probability is :math:`-\operatorname{log1p}` of that sum.
Measured against mpmath on the adversarial family of :mod:`softmax_lab.numerical_error`
(``tests/test_numerical_error.py``, ``make bench``): at most 2 eps for softmax,
log_softmax and logsumexp in float16, float32 and float64, except float32 softmax, which
keeps NumPy's float32 ``exp`` for speed (off by up to 1.7 eps by itself; about 2 eps on
the adversarial set, up to 4.6 eps over two million random entries);
``softmax(x, dtype=np.float64)`` rounded once to float32 gives 0.5 eps, at about 1.5
times the time. Rows are processed in
cache-sized blocks, so each block is read from memory once and written once.

Edge cases, row by row (each has a test in ``tests/test_softmax.py``):

=============================  ==========================  ===============================
input row                      ``softmax``                 ``log_softmax``
=============================  ==========================  ===============================
contains NaN                   all NaN                     all NaN
has ``+inf`` entries           mass shared equally among   ``-log(k)`` at the k ``+inf``
                               them, 0 elsewhere (the      entries, ``-inf`` elsewhere
                               limit; scipy/torch: NaN)
``-inf`` entries               exactly 0 there             ``-inf`` there
all ``-inf``, no ``where``     all NaN (nothing to         all NaN
                               normalise; as scipy/torch)
``where`` excludes entries     0 there                     ``-inf`` there
``where`` excludes all         all 0                       all ``-inf``
``where`` includes only -inf   NaN there (as without       NaN there
                               ``where``)
0-d (a scalar)                 1.0, one score (as scipy    0.0
                               and torch)
[1000, 1000], [-1000, -1001]   exact, no overflow          exact
empty array                    empty, same shape           empty, same shape
=============================  ==========================  ===============================

dtypes: float32 stays float32 and float64 stays float64; float16 is computed in float32
and rounded once to float16; bool and integer input give float64. ``dtype=`` casts the input
first and returns that dtype, as torch's argument does.

Axes: ``axis`` is an int (default -1, the last axis, as torch), a tuple of axes normalised
together, or ``None`` for the whole array (scipy's default); a repeated axis raises
``ValueError``, an axis out of range numpy's ``AxisError``.

:func:`logsumexp` computes :math:`m + \operatorname{log1p}(\sum_{j \ne k} e^{x_j - m})` with
:math:`m = x_k = \max_i x_i` (the same paper): the shift keeps every exponential at most 1,
and leaving the largest term out of the sum keeps relative accuracy when one entry
dominates. A NaN anywhere in a slice gives NaN; any ``+inf`` gives ``+inf``; all ``-inf``
(or, with ``where``, nothing included, or a slice of length 0) gives ``-inf``, the log of
an empty sum.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._shared import (
    as_real_array,
    as_real_array_in,
    check_axis,
    check_out,
    check_temperature,
    check_where,
    normalize_axes,
    row_blocks,
)

__all__ = ["softmax", "log_softmax", "logsumexp", "naive_softmax"]


def naive_softmax(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """The textbook softmax, ``exp(x) / sum(exp(x))``: kept for teaching, not for use.

    It overflows as soon as an entry exceeds the log of the dtype's largest number
    (about 88.7 in float32, 709.8 in float64), returning NaN, and underflows to 0/0
    when every entry is very negative. Use :func:`softmax` instead.

    Examples
    --------
    >>> naive_softmax([2.0, 1.0, 0.1]).round(3)
    array([0.659, 0.242, 0.099])
    >>> naive_softmax([1000.0, 0.0])  # exp(1000) overflows: inf / inf
    array([nan,  0.])
    """
    array, result_dtype = as_real_array(x)
    axis = check_axis(axis, array.ndim)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(array)
        return (e / e.sum(axis=axis, keepdims=True)).astype(result_dtype, copy=False)


def _rows(array: NDArray, axes: tuple[int, ...]) -> NDArray:
    """A C-contiguous 2-D view (or copy) whose rows are the slices along ``axes`` (sorted)."""
    ndim, k = array.ndim, len(axes)
    trailing = tuple(range(ndim - k, ndim))
    moved = array if axes == trailing else np.moveaxis(array, axes, trailing)
    return np.ascontiguousarray(moved).reshape(-1, math.prod(array.shape[i] for i in axes))


def _from_rows(rows: NDArray, shape: tuple[int, ...], axes: tuple[int, ...]) -> NDArray:
    """Undo :func:`_rows`: an array of ``shape`` (a view of ``rows`` where possible)."""
    ndim, k = len(shape), len(axes)
    kept = tuple(i for i in range(ndim) if i not in axes)
    moved_shape = tuple(shape[i] for i in kept) + tuple(shape[i] for i in axes)
    return np.moveaxis(rows.reshape(moved_shape), tuple(range(ndim - k, ndim)), axes)


def _prepare(
    x: ArrayLike, axis: object, where: ArrayLike | None, dtype: object
) -> tuple[NDArray, np.dtype, NDArray | None, tuple[int, ...], bool]:
    """Checked input (cast to ``dtype``), result dtype, mask, sorted axes, and whether x was 0-d.

    A 0-d ``x`` is computed as a slice of one entry, as scipy and torch do (its softmax is 1).
    """
    array, result_dtype = as_real_array_in(x, dtype)
    mask = check_where(where, array.shape)
    scalar = array.ndim == 0
    if scalar:
        array = array.reshape(1)
        mask = None if mask is None else mask.reshape(1)
    return array, result_dtype, mask, normalize_axes(axis, array.ndim), scalar


def _divided(block: NDArray, temperature: float, out: NDArray) -> NDArray:
    """``block / temperature`` (written into ``out``), or ``block`` itself when temperature is 1."""
    if temperature == 1.0:
        return block
    with np.errstate(over="ignore"):  # an overflow is reported by _check_scaling
        return np.divide(block, temperature, out=out)


def _check_scaling(block: NDArray, scaled: NDArray, temperature: float) -> None:
    """A finite score that ``/ temperature`` turned into inf would silently win all the mass."""
    if np.any(np.isinf(scaled) & np.isfinite(block)):
        raise ValueError(
            f"x / temperature overflows {block.dtype} (temperature={temperature}); "
            "raise the temperature or rescale the scores"
        )


def _share_among_positive_infinities(
    block: NDArray, out: NDArray, rows: NDArray, *, log: bool
) -> None:
    """Rows whose maximum is +inf: the limit gives each +inf entry 1/k of the mass."""
    is_inf = np.isposinf(block[rows])
    share = is_inf / is_inf.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        out[rows] = np.log(share) if log else share


@functools.lru_cache(maxsize=64)
def _largest_unshifted(dtype: np.dtype, n: int) -> float:
    """The largest score for which ``sum(exp(x))`` over ``n`` entries cannot overflow.

    Below it the shift by the maximum buys nothing and costs accuracy: rounding
    ``x - max`` loses up to ``|x - max| * eps / 2``, which ``exp`` turns into a relative
    error of the same size (about 20 eps for a row whose maximum stands 40 above the rest).
    """
    return math.log(float(np.finfo(dtype).max)) - math.log(n) - 1.0


def _masked(array: NDArray, where: NDArray | None) -> NDArray:
    return (
        array if where is None else np.where(where, array, -np.inf).astype(array.dtype, copy=False)
    )


def _scalar_result(result: NDArray, out: NDArray | None) -> NDArray | np.floating:
    """The one-entry result of a 0-d input: written into a 0-d ``out``, or a NumPy scalar."""
    if out is not None:
        out[...] = result[0]
        return out
    return result[0]


def softmax(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = -1,
    *,
    temperature: float = 1.0,
    where: ArrayLike | None = None,
    out: NDArray | None = None,
    dtype: DTypeLike | None = None,
) -> NDArray[np.floating]:
    r"""Softmax along one axis: :math:`\mathrm{softmax}(x)_i = e^{x_i/T} / \sum_j e^{x_j/T}`.

    Parameters
    ----------
    x : array_like
        Scores (logits). Real numbers of any shape; a 0-d ``x`` is one score, whose
        softmax is 1 (as in scipy and torch).
    axis : int, tuple of int or None, optional
        The axis or axes to normalise over. Default -1, the last axis, as in
        ``torch.softmax``. A tuple normalises over those axes together and ``None`` over
        the whole array, as ``scipy.special.softmax`` does (whose default is ``None``).
    temperature : float, optional
        Divides the scores first. Must be finite and > 0; small values sharpen the
        distribution towards one-hot, large values flatten it towards uniform.
    where : array_like of bool, optional
        Entries to include; excluded entries get probability 0 and a row with nothing
        included is all zeros (the convention of ``jax.nn.softmax(where=...)`` and of
        masked attention). Must broadcast to ``x``'s shape.
    out : ndarray, optional
        Where to write the result; must have ``x``'s shape and the result dtype. With
        ``out``, no memory beyond a cache-sized block is allocated for the last axis.
    dtype : dtype, optional
        As in ``torch.softmax``: ``x`` is cast to this floating dtype first, and the
        result has it (float16 is computed in float32 and rounded once).

    Returns
    -------
    ndarray
        Probabilities: each slice along ``axis`` is in [0, 1] and sums to 1 (up to
        rounding); a NumPy scalar for a 0-d ``x``. See the module docstring for
        non-finite input.

    Raises
    ------
    ValueError
        ``temperature`` not finite and positive; ``where`` or ``out`` of the wrong shape;
        an axis repeated in ``axis``.
    TypeError
        complex, object or string input; an ``axis`` that is not an int, a tuple of
        ints or None; a ``dtype`` that is not floating.
    numpy.exceptions.AxisError
        ``axis`` out of range.

    See Also
    --------
    log_softmax : the log of softmax, computed without forming softmax.
    scipy.special.softmax, torch.softmax : the field's references.

    Examples
    --------
    >>> softmax([2.0, 1.0, 0.1]).round(3)
    array([0.659, 0.242, 0.099])
    >>> softmax([1000.0, 1000.0])  # no overflow
    array([0.5, 0.5])
    >>> softmax([[1.0, 2.0], [3.0, 3.0]], axis=0).round(4)
    array([[0.1192, 0.2689],
           [0.8808, 0.7311]])
    >>> softmax([[0.0, 0.0], [0.0, 0.0]], axis=None)  # the whole array, as scipy's default
    array([[0.25, 0.25],
           [0.25, 0.25]])
    >>> softmax([1.0, 2.0, 3.0], where=[True, True, False]).round(4)
    array([0.2689, 0.7311, 0.    ])
    >>> softmax([np.inf, 0.0, np.inf])  # the limit, where scipy and torch give NaN
    array([0.5, 0. , 0.5])
    >>> softmax(np.float32([1.0, 2.0]), dtype=np.float64).dtype
    dtype('float64')
    >>> float(softmax(3.0))  # one score: probability 1
    1.0
    """
    temperature = check_temperature(temperature)
    array, result_dtype, mask, axes, scalar = _prepare(x, axis, where, dtype)
    check_out(out, () if scalar else array.shape, result_dtype)
    result = out if out is not None and not scalar else np.empty(array.shape, result_dtype)
    if array.size == 0:
        return result
    rows_in = _rows(_masked(array, mask), axes)
    direct = (
        axes == tuple(range(array.ndim - len(axes), array.ndim))
        and result.flags.c_contiguous
        and result_dtype == array.dtype
    )
    rows_out = result.reshape(rows_in.shape) if direct else np.empty(rows_in.shape, array.dtype)
    n = rows_in.shape[1]
    highest, lowest = _largest_unshifted(rows_in.dtype, n), -math.log(n)
    scratch = None  # float64 buffers for the blocks that need the shift, made once
    for rows in row_blocks(len(rows_in), n, rows_in.itemsize):
        block, block_out = rows_in[rows], rows_out[rows]
        scaled = _divided(block, temperature, block_out)
        # Unshifted when no exp can overflow (one max over the block; NaN fails it) and every
        # row sum is >= 1: then any entry with a normal probability has a normal exp. Below
        # a maximum of -log(n) no row sum can reach 1: no need to try.
        if lowest <= scaled.max() <= highest:
            np.exp(scaled, out=block_out)
            sums = block_out.sum(axis=1, keepdims=True)
            if sums.min() >= 1.0:
                np.divide(block_out, sums, out=block_out)
                continue
            scaled = _divided(block, temperature, block_out)  # exp overwrote block_out
        if temperature != 1.0:
            _check_scaling(block, scaled, temperature)
        if scratch is None:
            work_dtype = np.float64 if rows_in.dtype == np.float32 else rows_in.dtype
            scratch = [np.empty((len(block), n), work_dtype) for _ in range(3)]
        with np.errstate(invalid="ignore"):  # inf - inf and NaN rows: handled below
            peak = _shifted_softmax(scaled, block_out, scratch)
        infinite = peak[:, 0] == np.inf
        if infinite.any():
            _share_among_positive_infinities(block, block_out, infinite, log=False)
    if not direct:
        result[...] = _from_rows(rows_out, array.shape, axes)
    if mask is not None:
        result[~mask] = 0
    return _scalar_result(result, out) if scalar else result


def _two_difference(
    x: NDArray, peak: NDArray, out: tuple[NDArray, NDArray, NDArray] | None = None
) -> tuple[NDArray, NDArray]:
    """``x - peak`` as ``hi + lo`` exactly (Knuth's TwoSum): ``hi`` rounded, ``lo`` its error.

    Rounding ``x - peak`` costs up to ``|x - peak| * eps / 2``, which ``exp`` turns into a
    relative error of the same size: 350 eps for a float64 entry 700 below the maximum.
    ``exp(hi) * (1 + lo)`` keeps it. ``lo`` is 0 where ``hi`` is not finite. ``out``:
    buffers for ``hi``, ``lo`` and a temporary, of ``x``'s shape.
    """
    hi, lo, moved = out if out is not None else (np.empty_like(x) for _ in range(3))
    np.subtract(x, peak, out=hi)
    np.subtract(hi, x, out=moved)
    np.subtract(hi, moved, out=lo)
    np.subtract(x, lo, out=lo)
    np.add(moved, peak, out=moved)
    np.subtract(lo, moved, out=lo)
    if not np.isfinite(lo.sum()):  # -inf entries or an infinite maximum: inf - inf
        np.copyto(lo, 0.0, where=~np.isfinite(lo))
    return hi, lo


def _shifted_softmax(scaled: NDArray, out: NDArray, scratch: list[NDArray]) -> NDArray:
    """``exp(x - m) / sum(exp(x - m))`` for a 2-D block, without the rounding of ``x - m``.

    float32 rows are computed in float64, where the difference of two float32 numbers is
    exact; float64 rows carry each difference's rounding error into the exponential
    (:func:`_two_difference`). Writes into ``out``; returns the row maxima m. ``scratch``:
    three buffers (float64 for float32 input) of at least the block's shape.
    """
    first, second, third = (buffer[: len(scaled)] for buffer in scratch)
    if scaled.dtype == np.float32:
        first[...] = scaled
        peak = first.max(axis=1, keepdims=True)
        np.subtract(first, peak, out=first)  # exact
        e = np.exp(first, out=first)
    else:
        peak = scaled.max(axis=1, keepdims=True)
        hi, lo = _two_difference(scaled, peak, out=(first, second, third))
        e = np.exp(hi, out=third)
        np.multiply(e, lo, out=lo)
        np.add(e, lo, out=e)  # exp(hi + lo) ~ exp(hi) * (1 + lo)
    np.divide(e, e.sum(axis=1, keepdims=True), out=out, casting="same_kind")
    return peak


def _peak_and_log_rest(block: NDArray) -> tuple[NDArray, NDArray]:
    """Per row of a 2-D block: the maximum m and ``log1p(sum of exp(x_j - m) over j != argmax)``.

    Leaving the largest term (exactly 1) out of the sum and adding it back through
    ``log1p`` keeps full relative accuracy when one entry dominates.
    """
    top = block.argmax(axis=1)[:, None]
    peak = np.take_along_axis(block, top, axis=1)
    rest = np.exp(block - peak)
    np.put_along_axis(rest, top, 0, axis=1)
    return peak, np.log1p(rest.sum(axis=1, keepdims=True))


def _log_softmax_block(scaled: NDArray, out: NDArray, scratch: list[NDArray]) -> NDArray:
    """Write ``x - m - log1p(rest)`` for a 2-D block into ``out``; return the row maxima m.

    ``rest``, the sum of ``exp(x_j - m)`` over the entries other than the maximum, carries
    the rounding of each ``x_j - m`` (up to ``|x_j - m| * eps / 2`` per term). Where
    ``rest >= 1`` that moves no result by more than about an eps, but where ``rest < 1``
    a dominant entry's log-probability is ``-log1p(rest)`` itself and would inherit 5 eps
    and more: those rows are redone exactly (:func:`_careful_log_softmax`). ``scratch``: two
    buffers of the block's dtype and at least its shape, reused from block to block.
    """
    shifted, rest = (buffer[: len(scaled)] for buffer in scratch)
    top = scaled.argmax(axis=1)[:, None]
    peak = np.take_along_axis(scaled, top, axis=1)
    np.subtract(scaled, peak, out=shifted)
    np.exp(shifted, out=rest)
    np.put_along_axis(rest, top, 0, axis=1)
    total = rest.sum(axis=1, keepdims=True)
    careful = total[:, 0] < 1.0
    redone = (
        _careful_log_softmax(scaled[careful], peak[careful], top[careful])
        if careful.any()
        else None
    )  # before out is written: with a temperature, scaled is out
    np.subtract(shifted, np.log1p(total), out=out)
    if redone is not None:
        out[careful] = redone
    return peak


def _careful_log_softmax(rows: NDArray, peak: NDArray, top: NDArray) -> NDArray:
    """Log-softmax of a few rows without the rounding of ``x - m`` in the sum.

    float32 rows are computed in float64, where the difference of two float32 numbers is
    exact; float64 rows add each difference's rounding error back (:func:`_two_difference`).
    The result's own ``x - m`` may stay rounded: ``|x - m - log1p(rest)| >= |x - m|``, so
    that costs at most half an eps.
    """
    if rows.dtype == np.float32:
        shifted = rows.astype(np.float64) - peak.astype(np.float64)
        rest = np.exp(shifted)
        np.put_along_axis(rest, top, 0, axis=1)
        total = rest.sum(axis=1, keepdims=True)
    else:
        shifted, lo = _two_difference(rows, peak)
        rest = np.exp(shifted)
        np.put_along_axis(rest, top, 0, axis=1)
        # sum of exp(hi + lo) ~ sum of exp(hi) * (1 + lo): the corrections in one pass
        total = rest.sum(axis=1, keepdims=True) + np.einsum("ij,ij->i", rest, lo)[:, None]
    return (shifted - np.log1p(total)).astype(rows.dtype)


def log_softmax(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = -1,
    *,
    temperature: float = 1.0,
    where: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
) -> NDArray[np.floating]:
    r"""The log of :func:`softmax`, computed directly: :math:`x_i/T - \operatorname{logsumexp}(x/T)`.

    ``np.log(softmax(x))`` gives ``-inf`` once a probability underflows to 0 (any score
    more than about 745 below the maximum in float64, 104 in float32); ``log_softmax``
    stays finite there. The same idea as ``scipy.special.log_softmax`` and
    ``torch.log_softmax``.

    Parameters
    ----------
    x : array_like
        Scores (logits), real numbers of any shape; a 0-d ``x`` gives 0 (log 1).
    axis : int, tuple of int or None, optional
        The axis or axes to normalise over (default -1, the last; ``None``: the whole
        array, as ``scipy.special.log_softmax``'s default).
    temperature : float, optional
        Divides the scores first; finite and > 0.
    where : array_like of bool, optional
        Entries to include; excluded entries get ``-inf``, and so does every entry of a
        row with nothing included.
    dtype : dtype, optional
        As in ``torch.log_softmax``: cast ``x`` to this floating dtype first; the result
        has it.

    Returns
    -------
    ndarray
        Log-probabilities (``<= 0``), same shape as ``x``; the dtype rules and the
        non-finite cases are those of :func:`softmax` (see the module docstring).

    Examples
    --------
    >>> log_softmax([2.0, 1.0, 0.1]).round(4)
    array([-0.417, -1.417, -2.317])
    >>> np.log(softmax([0.0, -800.0]))  # the probability underflows to 0
    array([   0., -inf])
    >>> log_softmax([0.0, -800.0])
    array([   0., -800.])
    >>> log_softmax(np.zeros((2, 2)), axis=(0, 1)).round(4)  # log(1/4) everywhere
    array([[-1.3863, -1.3863],
           [-1.3863, -1.3863]])
    """
    temperature = check_temperature(temperature)
    array, result_dtype, mask, axes, scalar = _prepare(x, axis, where, dtype)
    if array.size == 0:
        return np.empty(array.shape, result_dtype)
    rows_in = _rows(_masked(array, mask), axes)
    rows_out = np.empty(rows_in.shape, array.dtype)
    n = rows_in.shape[1]
    # rows with nothing included are all -inf; rows whose included entries are all -inf
    # are NaN (nothing to normalise), as without ``where`` and as softmax gives
    nothing_included = None if mask is None else ~_rows(mask, axes).any(axis=1)
    blocks = row_blocks(len(rows_in), n, rows_in.itemsize)
    scratch = [np.empty((blocks[0].stop or len(rows_in), n), rows_in.dtype) for _ in range(2)]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for rows in blocks:
            block, block_out = rows_in[rows], rows_out[rows]
            scaled = _divided(block, temperature, block_out)
            if temperature != 1.0:
                _check_scaling(block, scaled, temperature)
            peak = _log_softmax_block(scaled, block_out, scratch)
            infinite = np.isposinf(peak[:, 0])
            if infinite.any():
                _share_among_positive_infinities(block, block_out, infinite, log=True)
            if nothing_included is not None:
                block_out[nothing_included[rows]] = -np.inf
    result = _from_rows(rows_out, array.shape, axes).astype(result_dtype, copy=False)
    if mask is not None:
        result = np.where(mask, result, -np.inf).astype(result_dtype, copy=False)
    return _scalar_result(result, None) if scalar else result


def _weighted_log_sum(a: NDArray, w: NDArray) -> tuple[NDArray, NDArray]:
    r"""Per row of 2-D blocks: :math:`\log|\sum_j w_j e^{a_j}|` and the sign of the sum.

    The largest term is left out of the sum, as in :func:`_peak_and_log_rest`:
    :math:`\log|w_k e^{m}(1 + r)| = m + \log|w_k| + \operatorname{log1p}(r)`, with
    :math:`r = \sum_{j \ne k} (w_j / w_k) e^{a_j - m}` (scipy's algorithm). Rows where
    that is not finite (an infinite or NaN entry, a sum of 0, an overflow) take the
    direct :math:`\log|\sum_j w_j e^{a_j}|`.
    """
    a = np.where(w == 0, -np.inf, a)  # a zero weight drops its entry, even inf or NaN
    top = a.argmax(axis=1)[:, None]
    peak = np.take_along_axis(a, top, axis=1)
    w_top = np.take_along_axis(w, top, axis=1)
    terms = w * np.exp(a - peak)
    np.put_along_axis(terms, top, 0, axis=1)
    ratio = terms.sum(axis=1, keepdims=True) / w_top
    sign = np.sign(ratio + 1) * np.sign(w_top)
    ratio = np.where(ratio < -1, -ratio - 2, ratio)  # |1 + r| = 1 + (-r - 2) when r < -1
    value = np.log1p(ratio) + np.log(np.abs(w_top)) + peak
    redo = ~np.isfinite(value[:, 0])
    if redo.any():
        total = (w[redo] * np.exp(a[redo])).sum(axis=1)
        value[redo, 0], sign[redo, 0] = np.log(np.abs(total)), np.sign(total)
    return value[:, 0], sign[:, 0]


def logsumexp(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = -1,
    *,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
    where: ArrayLike | None = None,
) -> NDArray[np.floating] | np.floating | tuple[NDArray[np.floating], NDArray[np.floating]]:
    r"""Log of the sum of exponentials, :math:`\log \sum_i b_i e^{x_i}`, over one or more axes.

    Parameters
    ----------
    x : array_like
        Real numbers; a 0-d ``x`` is a sum of one term (the result is ``x``).
    axis : int, tuple of int or None, optional
        The axis or axes to reduce (default -1, as ``torch.logsumexp`` names one);
        ``None`` reduces the whole array, as ``scipy.special.logsumexp``'s default.
    b : array_like, optional
        Weights of the exponentials, as in ``scipy.special.logsumexp``: they broadcast
        together with ``x`` and may be negative (to subtract). An entry with weight 0
        adds nothing, even where ``x`` is infinite or NaN.
    keepdims : bool, optional
        Keep the reduced axes with length 1, so the result broadcasts against ``x``.
    return_sign : bool, optional
        Return ``(log|sum|, sign)``, the sign being 1, -1, or 0 for a sum of 0 (an empty
        sum included). Without it, a negative sum gives NaN (as scipy does).
    where : array_like of bool, optional
        Entries to include (must broadcast to ``x``, with ``b``); a slice with nothing
        included gives ``-inf``.

    Returns
    -------
    ndarray or scalar, or a pair of them
        float64 for integer or bool input, otherwise the floating dtype of ``x`` and
        ``b`` together (float16 is computed in float32); with ``return_sign``, the sign
        too, in the same dtype.

    Raises
    ------
    ValueError
        ``b`` or ``where`` that does not broadcast with ``x``; an axis repeated in ``axis``.
    TypeError
        complex, object or string ``x`` or ``b``; an ``axis`` that is not an int, a tuple
        of ints or None.
    numpy.exceptions.AxisError
        ``axis`` out of range.

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))  # 1000 + log 2; exp(1000) would overflow
    1000.6931471805599
    >>> float(logsumexp([-1000.0, -1001.0])).__round__(6)
    -999.686738
    >>> logsumexp([[0.0, 0.0], [1.0, 2.0]]).round(4)
    array([0.6931, 2.3133])
    >>> float(logsumexp([[0.0, 0.0], [0.0, 0.0]], axis=None)).__round__(4)  # log 4
    1.3863
    >>> float(logsumexp(np.zeros((0,))))  # an empty sum
    -inf
    >>> value, sign = logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)  # e - e^2 < 0
    >>> round(float(value), 4), float(sign)
    (1.5413, -1.0)
    """
    array, result_dtype = as_real_array(x)
    weights = None
    if b is not None:
        weights, b_dtype = as_real_array(b, name="b")
        try:
            shape = np.broadcast_shapes(array.shape, weights.shape)
        except ValueError as error:
            raise ValueError(
                f"b of shape {weights.shape} does not broadcast against x of shape {array.shape}"
            ) from error
        result_dtype = np.result_type(result_dtype, b_dtype)
        compute = np.result_type(array.dtype, weights.dtype)
        array = np.broadcast_to(array, shape).astype(compute, copy=False)
        weights = np.broadcast_to(weights, shape).astype(compute, copy=False)
    mask = check_where(where, array.shape)
    if array.ndim == 0:  # one term
        array = array.reshape(1)
        weights = None if weights is None else weights.reshape(1)
        mask = None if mask is None else mask.reshape(1)
    axes = normalize_axes(axis, array.ndim)
    reduced_shape = tuple(size for i, size in enumerate(array.shape) if i not in axes)
    if math.prod(array.shape[i] for i in axes) == 0:
        values = np.full(reduced_shape, -np.inf, dtype=array.dtype)
        signs = np.zeros(reduced_shape, dtype=array.dtype)
    elif weights is None:
        rows_in = _rows(_masked(array, mask), axes)
        values = np.empty(len(rows_in), array.dtype)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for rows in row_blocks(len(rows_in), rows_in.shape[1], rows_in.itemsize):
                # the plain shift is enough here: a rounded x - max moves log1p(rest) by
                # about eps times rest / (1 + rest), below half an eps of the result
                peak, log_rest = _peak_and_log_rest(rows_in[rows])
                total = peak + log_rest
                # +inf or all -inf: the max alone is the answer (inf - inf made NaN above)
                infinite = np.isinf(peak)
                total[infinite] = peak[infinite]
                values[rows] = total[:, 0]
        values = values.reshape(reduced_shape)
        signs = np.where(np.isnan(values), np.nan, values > -np.inf).astype(array.dtype)
    else:
        if mask is not None:
            weights = np.where(mask, weights, 0).astype(weights.dtype, copy=False)
        rows_in, rows_w = _rows(array, axes), _rows(weights, axes)
        values = np.empty(len(rows_in), array.dtype)
        signs = np.empty(len(rows_in), array.dtype)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for rows in row_blocks(len(rows_in), rows_in.shape[1], rows_in.itemsize):
                values[rows], signs[rows] = _weighted_log_sum(rows_in[rows], rows_w[rows])
        values, signs = values.reshape(reduced_shape), signs.reshape(reduced_shape)
        if not return_sign:
            values = np.where(signs < 0, np.nan, values)
    result = values.astype(result_dtype, copy=False)
    signs = signs.astype(result_dtype, copy=False)
    if keepdims:
        result, signs = np.expand_dims(result, axes), np.expand_dims(signs, axes)
    if return_sign:
        return result[()], signs[()]
    return result[()]
