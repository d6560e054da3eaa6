"""Measuring how exact a softmax is: an mpmath reference and errors in units of eps.

The adversarial suite of Blanchard, Higham & Higham's analysis lives here too, so the
tests and the benchmark measure the same thing (notebook 03 builds the measurement by hand).
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["exact_softmax", "error_in_eps", "adversarial_rows", "compare"]


def exact_softmax(row: ArrayLike, digits: int = 40) -> NDArray[np.float64]:
    """Softmax of the floating-point numbers in ``row``, computed with ``digits`` decimal digits.

    The input values are taken exactly as stored; the result is rounded once to
    float64, which is exact enough to judge float32 and float64 implementations.

    Examples
    --------
    >>> exact_softmax([2.0, 1.0, 0.1]).round(6)
    array([0.659001, 0.242433, 0.098566])
    """
    values = np.asarray(row, dtype=np.float64).ravel()
    with mpmath.workdps(digits):
        peak = mpmath.mpf(float(values.max()))
        terms = [mpmath.exp(mpmath.mpf(float(v)) - peak) for v in values]
        total = mpmath.fsum(terms)
        return np.array([float(t / total) for t in terms])


def error_in_eps(approx: ArrayLike, exact: ArrayLike, dtype: np.dtype | type) -> float:
    """Largest componentwise relative error, in units of ``dtype``'s machine epsilon.

    Entries whose exact value is below the smallest normal number of ``dtype`` are
    skipped: there, relative error is meaningless (the dtype has no digits to spare).

    Examples
    --------
    >>> error_in_eps(np.float32([0.5, 0.25]), [0.5, 0.25], np.float32)
    0.0
    """
    info = np.finfo(dtype)
    approx = np.asarray(approx, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    normal = exact > info.tiny
    if not normal.any():
        return 0.0
    return float(np.max(np.abs(approx[normal] - exact[normal]) / exact[normal]) / info.eps)


def adversarial_rows(length: int, seed: int = 0) -> dict[str, NDArray[np.float64]]:
    """The five hard cases for a softmax row of ``length`` entries (float64; cast as needed).

    ``normal``: N(0, 1); ``wide``: U(-1e3, 1e3); ``near_uniform``: 1e3 + U(0, 1e-3), where
    long rows expose careless summation; ``very_negative``: -1e3 + N(0, 1); ``dominant``:
    N(0, 1) with one entry of 40, where the shift itself costs about 40 eps.
    """
    rng = np.random.default_rng(seed)
    dominant = rng.normal(size=length)
    dominant[0] = 40.0
    return {
        "normal": rng.normal(size=length),
        "wide": rng.uniform(-1e3, 1e3, size=length),
        "near_uniform": 1e3 + rng.uniform(0, 1e-3, size=length),
        "very_negative": -1e3 + rng.normal(size=length),
        "dominant": dominant,
    }


def compare(
    implementations: dict[str, Callable[[NDArray], NDArray]],
    lengths: tuple[int, ...] = (10, 1000),
    dtypes: tuple[type, ...] = (np.float32, np.float64),
) -> list[dict[str, object]]:
    """Error in eps of each implementation on every adversarial row: one dict per case."""
    results = []
    for length in lengths:
        for name, row in adversarial_rows(length).items():
            for dtype in dtypes:
                x = row.astype(dtype)
                exact = exact_softmax(x)
                spread = float(x.max()) - float(x.min())
                case = {"case": name, "n": length, "dtype": np.dtype(dtype).name, "spread": spread}
                for label, implementation in implementations.items():
                    case[label] = error_in_eps(implementation(x), exact, dtype)
                results.append(case)
    return results
