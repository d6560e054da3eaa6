"""The package's shared private helpers, in one place: argument checks that turn bad input
into clear errors, and the array plumbing several chapters' modules use.

Rule for errors: a value of the wrong *type* raises ``TypeError``; a value of the right
type that is out of range raises ``ValueError``. Every message names the argument and
says what was expected.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Rows processed per block are chosen so one block of the working dtype stays in
# cache (about 512 KiB, measured best here): each block is read from memory once and
# written once.
BLOCK_BYTES = 1 << 19

Reduction = Literal["mean", "sum", "none"]


def as_array(x: ArrayLike, name: str = "x") -> NDArray:
    """``np.asarray(x)``, with a ragged nested sequence refused by a message naming ``name``."""
    try:
        return np.asarray(x)
    except ValueError as error:  # numpy refuses ragged nested sequences
        raise ValueError(
            f"{name} must be a rectangular array of real numbers; got a ragged sequence"
        ) from error


def as_indices(x: ArrayLike, name: str, what: str = "class indices") -> NDArray[np.integer]:
    """``x`` as an array of integers: class indices, actions, lengths (``what``, for the message).

    An empty sequence is an empty integer array (``np.asarray([])`` alone would be float64);
    any dtype but a signed or unsigned integer is a ``TypeError`` naming ``name``, so a 1.5
    is never truncated to index 1.
    """
    array = as_array(x, name)
    if array.size == 0:
        return array.astype(np.intp)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer {what}; got dtype {array.dtype}")
    return array


def as_real_array(x: ArrayLike, name: str = "x") -> tuple[NDArray[np.floating], np.dtype]:
    """Return ``x`` as a floating array to compute in, and the dtype of the result.

    bool and integer input promote to float64; float16 is computed in float32 and
    returned as float16; float32, float64 and longdouble stay as they are.
    Complex, object, string and ragged input raise, naming ``name``.
    """
    array = as_array(x, name)
    kind = array.dtype.kind
    if kind in "biu":
        return array.astype(np.float64), np.dtype(np.float64)
    if kind == "f":
        if array.dtype == np.float16:
            return array.astype(np.float32), np.dtype(np.float16)
        return array, array.dtype
    if kind == "c":
        raise TypeError(
            f"{name} must be real; got complex dtype {array.dtype} (softmax of complex numbers is not defined)"
        )
    raise TypeError(f"{name} must be an array of real numbers; got dtype {array.dtype}")


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Normalise ``axis``; raise numpy's AxisError when it is out of range."""
    index = as_int(axis)
    if index is None:
        note = (
            " (scipy.special.softmax's axis=None normalises the whole array at once, which is "
            "rarely what you want; flatten the array first if you mean it.)"
        )
        raise TypeError(f"{name} must be an int; got {axis!r}." + (note if name == "axis" else ""))
    prefix = None if name == "axis" else name
    return int(np.lib.array_utils.normalize_axis_index(index, ndim, msg_prefix=prefix))


def _torch_scalar(value: Any) -> Any:
    """``value``'s one entry as a NumPy scalar if it is a 0-d torch tensor, else ``value``.

    torch is never imported here: a tensor can only exist if its module is loaded.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and value.dim() == 0:
        if value.is_complex():
            return complex(value.item())
        return value.detach().cpu().numpy()[()]
    return value


def _real_scalar(value: Any) -> float | None:
    """``value`` as a float if it is one real number (not a bool, a string or complex).

    Python and NumPy numbers count, and so do 0-d NumPy arrays and 0-d torch tensors of
    a real dtype (``torch.tensor(2.0)``, a learned temperature), as ``float()`` takes them.
    """
    value = _torch_scalar(value)
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float within the given bounds.

    ``TypeError`` if it is not one real number (a bool, a string, complex, a list or an
    array of several numbers); ``ValueError`` if it is NaN, infinite or out of range.
    """
    if low is not None and high is not None:
        expected = (
            f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        )
    elif low is not None:
        expected = f"a finite number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expected = f"a finite number {'<' if high_open else '<='} {high:g}"
    else:
        expected = "a finite real number"
    number = _real_scalar(value)
    if number is None:
        raise TypeError(f"{name} must be {expected}; got {value!r}")
    if (
        not math.isfinite(number)
        or (low is not None and (number <= low if low_open else number < low))
        or (high is not None and (number >= high if high_open else number > high))
    ):
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return number


def check_flag(value: Any, name: str) -> bool:
    """Return ``value`` as a bool; anything but ``True``/``False`` raises ``TypeError``.

    NumPy booleans count, and so do a 0-d boolean array (``np.asarray(True)``) and a 0-d
    boolean torch tensor (``torch.tensor(True)``).
    """
    value = _torch_scalar(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype == np.bool_:
        value = value[()]
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; ``TypeError`` otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_temperature(temperature: Any) -> float:
    """Return ``temperature`` as a float; it must be a finite number above zero."""
    value = _real_scalar(temperature)
    if value is None:
        raise TypeError(f"temperature must be a real number; got {temperature!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"temperature must be finite and > 0; got {temperature!r}")
    return value


def check_scale(scale: Any) -> float | None:
    """An attention ``scale``: ``None`` (the default ``1/sqrt(d)``) or a finite float."""
    return None if scale is None else check_real(scale, "scale")


def check_where(where: ArrayLike | None, shape: tuple[int, ...]) -> NDArray[np.bool_] | None:
    """Broadcast the boolean mask ``where`` to ``shape``."""
    if where is None:
        return None
    mask = np.asarray(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where must be a boolean mask; got dtype {mask.dtype}")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError as error:
        raise ValueError(
            f"where of shape {mask.shape} cannot be broadcast to x's shape {shape}"
        ) from error


def as_vector_for(v: ArrayLike, shape: tuple[int, ...], name: str = "v") -> NDArray[np.floating]:
    """``v`` as a real array that broadcasts against an array of ``shape`` (a JVP's tangent)."""
    vector, _ = as_real_array(v, name=name)
    if vector.shape != shape:
        try:
            np.broadcast_shapes(shape, vector.shape)
        except ValueError as error:
            raise ValueError(
                f"{name} of shape {vector.shape} does not broadcast against x of shape {shape}"
            ) from error
    return vector


def check_out(out: NDArray | None, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array; got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(
            f"out must have shape {shape} and dtype {dtype}; got shape {out.shape} and dtype {out.dtype}"
        )


def row_blocks(rows: int, row_length: int, itemsize: int) -> list[slice]:
    """Slices of consecutive rows, each block small enough to stay in cache."""
    per_block = max(1, BLOCK_BYTES // max(1, row_length * itemsize))
    if rows <= per_block:
        return [slice(None)]
    return [slice(start, min(start + per_block, rows)) for start in range(0, rows, per_block)]


def as_int(value: Any) -> int | None:
    """``value`` as an int if it is one integer, else None.

    As Python's ``operator.index`` (the rule ``range`` and NumPy's shapes follow): ints,
    NumPy integers and 0-d integer arrays or tensors count; bools, floats (even 3.0) and
    strings do not.
    """
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype == np.bool_
    ):
        return None
    value = _torch_scalar(value)
    if isinstance(value, np.bool_):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 1: ``TypeError`` if it is not an integer, ``ValueError`` if < 1.

    An integer is what :func:`as_int` takes (NumPy integers and 0-d integer arrays too).
    """
    number = as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an int >= 1; got {value!r}")
    if number < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value}")
    return number


def check_count(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 0 (a length or a size that may be empty), as :func:`as_int`."""
    number = as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an int >= 0; got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must be an int >= 0; got {value}")
    return number


def check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}")


def reduce(per_sample: NDArray, reduction: str) -> NDArray | np.floating:
    """Per-sample losses reduced as torch does: their mean, their sum, or unchanged."""
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()[()]
    return per_sample.mean()[()]


def check_attention_shapes(
    q_shape: tuple[int, ...], k_shape: tuple[int, ...], v_shape: tuple[int, ...]
) -> tuple[int, int, int]:
    """Return ``(n_q, n_k, d)`` after checking that query, key and value fit together."""
    for name, shape, expected in (
        ("query", q_shape, "(..., n_q, d)"),
        ("key", k_shape, "(..., n_k, d)"),
        ("value", v_shape, "(..., n_k, d_v)"),
    ):
        if len(shape) < 2:
            raise ValueError(f"{name} must have shape {expected}, at least 2-D; got shape {shape}")
    n_q, d = q_shape[-2:]
    n_k = k_shape[-2]
    if k_shape[-1] != d:
        raise ValueError(
            f"key must have shape (..., n_k, d) with d = {d} as in query of shape {q_shape}; "
            f"got shape {k_shape}"
        )
    if v_shape[-2] != n_k:
        raise ValueError(
            f"value must have shape (..., n_k, d_v) with n_k = {n_k} rows as in key of shape "
            f"{k_shape}; got shape {v_shape}"
        )
    try:
        np.broadcast_shapes(q_shape[:-2], k_shape[:-2], v_shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"the batch dimensions of query {q_shape[:-2]}, key {k_shape[:-2]} and value "
            f"{v_shape[:-2]} do not broadcast together"
        ) from error
    return n_q, n_k, d


def broadcast_attention_mask(
    mask: NDArray[np.bool_], scores_shape: tuple[int, ...], name: str = "attn_mask"
) -> NDArray[np.bool_]:
    """Broadcast a boolean mask with the ``(..., n_q, n_k)`` scores, or say what shape was expected."""
    try:
        shape = np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        shape = None
    if shape is None or shape[-2:] != scores_shape[-2:]:
        raise ValueError(
            f"{name} must broadcast to the scores' shape (..., n_q, n_k) = {scores_shape}; "
            f"got shape {mask.shape}"
        )
    return np.broadcast_to(mask, shape)


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``dtype`` as a NumPy floating dtype (float16, float32, float64, longdouble)."""
    try:
        value = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(
            f"{name} must be a floating dtype such as np.float32; got {dtype!r}"
        ) from error
    if value.kind != "f":
        raise TypeError(f"{name} must be a floating dtype such as np.float32; got {value}")
    return value


def as_real_array_in(
    x: ArrayLike, dtype: Any = None, name: str = "x"
) -> tuple[NDArray[np.floating], np.dtype]:
    """:func:`as_real_array`, after casting ``x`` to ``dtype`` when one is given.

    As torch's ``dtype=`` argument: the input is cast first, the computation runs in that
    dtype (float16 in float32) and the result has that dtype.
    """
    if dtype is None:
        return as_real_array(x, name)
    target = check_float_dtype(dtype)
    as_real_array(x, name)  # refuses complex, strings and ragged input, naming them
    return as_real_array(np.asarray(x).astype(target), name)


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int, a tuple of ints, or None for every axis) as sorted non-negative axes.

    An int is what :func:`as_int` takes (NumPy integers and 0-d integer arrays too).

    Out-of-range axes raise numpy's ``AxisError``, repeated axes a ``ValueError``, anything
    that is not an int ``TypeError``; each message names ``axis``.
    """
    if axis is None:
        return tuple(range(ndim))
    items = tuple(as_int(item) for item in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if None in items:
        raise TypeError(f"axis must be an int, a tuple of ints or None; got {axis!r}")
    axes = tuple(
        int(np.lib.array_utils.normalize_axis_index(item, ndim, msg_prefix="axis"))
        for item in items
    )
    if len(set(axes)) != len(axes):
        raise ValueError(
            f"axis must not repeat an axis; got {axis!r} for an array of {ndim} dimensions"
        )
    return tuple(sorted(axes))


def sum_tolerance(dtype: np.dtype) -> float:
    """How far from 1 the row sums of probabilities stored in ``dtype`` may be.

    Rounding each entry to ``dtype`` alone moves a row's sum by up to half its epsilon
    (4.9e-4 for float16), and a softmax computed in ``dtype`` adds the rounding of its
    normaliser (torch.softmax of 200,000 float32 scores: 8e-6): 1e-6 for float64 (and
    integers), 1e-4 for float32, 1e-2 for float16. Logits and unnormalised weights are
    off by far more.
    """
    dtype = np.dtype(dtype)
    return {2: 1e-2, 4: 1e-4}.get(dtype.itemsize, 1e-6) if dtype.kind == "f" else 1e-6


def check_distributions(p: NDArray, name: str, *, tolerance: float = 1e-6, hint: str = "") -> None:
    """Check that every row (last axis) of the real array ``p`` is a probability vector.

    ``ValueError`` names ``name`` when an entry is not finite or outside [0, 1], or when a
    row's sum is off 1 by more than ``tolerance``; ``hint`` is appended to the message.
    """
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"{name} must be finite and lie in [0, 1]{hint}")
    sums = p.sum(axis=-1)
    off = np.abs(sums - 1.0)
    if off.size and off.max() > tolerance:
        index = np.unravel_index(int(off.argmax()), off.shape)
        if not index:  # one distribution, a 1-D p
            raise ValueError(f"{name} must sum to 1; it sums to {sums[()]:.6g}{hint}")
        row = int(index[0]) if len(index) == 1 else tuple(int(i) for i in index)
        raise ValueError(
            f"each row of {name} must sum to 1; row {row} sums to {sums[index]:.6g}{hint}"
        )
