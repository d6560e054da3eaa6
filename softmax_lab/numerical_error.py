"""Measuring how exact softmax, log-softmax and log-sum-exp are: mpmath references, errors in eps.

The adversarial family of Blanchard, Higham & Higham's analysis lives here too, so the tests
and the benchmark measure the same thing (notebook 03 builds the measurement by hand).
Errors are relative, in units of the dtype's machine epsilon, over the entries whose exact
value is a normal number of that dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = [
    "exact_softmax",
    "exact_log_softmax",
    "exact_logsumexp",
    "error_in_eps",
    "adversarial_rows",
    "compare",
    "FUNCTIONS",
]

FUNCTIONS = ("softmax", "log_softmax", "logsumexp")


def _exact(row: ArrayLike, digits: int) -> tuple[NDArray, NDArray, float]:
    """softmax, log_softmax and logsumexp of ``row`` with ``digits`` digits, each rounded once.

    Each distinct value's exponential is computed once (float16 and float32 rows repeat
    values), so a row of 10^5 entries costs as many exponentials as it has distinct values.
    """
    values = np.asarray(row, dtype=np.float64).ravel()
    distinct, index, counts = np.unique(values, return_inverse=True, return_counts=True)
    with mpmath.workdps(digits):
        peak = mpmath.mpf(float(distinct.max()))
        shifted = [mpmath.mpf(float(v)) - peak for v in distinct]
        terms = [mpmath.exp(d) for d in shifted]
        total = mpmath.fsum(t * int(c) for t, c in zip(terms, counts, strict=True))
        log_total = mpmath.log(total)
        probabilities = np.array([float(t / total) for t in terms])
        logs = np.array([float(d - log_total) for d in shifted])
        return probabilities[index], logs[index], float(peak + log_total)


def exact_softmax(row: ArrayLike, digits: int = 50) -> NDArray[np.float64]:
    """Softmax of the floating-point numbers in ``row``, computed with ``digits`` decimal digits.

    The input values are taken exactly as stored; the result is rounded once to
    float64, which is exact enough to judge float16, float32 and float64 implementations.

    Examples
    --------
    >>> exact_softmax([2.0, 1.0, 0.1]).round(6)
    array([0.659001, 0.242433, 0.098566])
    """
    return _exact(row, digits)[0]


def exact_log_softmax(row: ArrayLike, digits: int = 50) -> NDArray[np.float64]:
    """Log-softmax of ``row`` with ``digits`` decimal digits, rounded once to float64.

    Examples
    --------
    >>> exact_log_softmax([0.0, 0.0]).round(6)  # log(1/2)
    array([-0.693147, -0.693147])
    """
    return _exact(row, digits)[1]


def exact_logsumexp(row: ArrayLike, digits: int = 50) -> float:
    """``log(sum(exp(row)))`` with ``digits`` decimal digits, rounded once to float64.

    Examples
    --------
    >>> round(exact_logsumexp([1000.0, 1000.0]), 6)  # 1000 + log 2, no overflow
    1000.693147
    """
    return _exact(row, digits)[2]


def error_in_eps(approx: ArrayLike, exact: ArrayLike, dtype: DTypeLike) -> float:
    """Largest componentwise relative error, in units of ``dtype``'s machine epsilon.

    Only entries whose exact value is a normal number of ``dtype`` count (magnitude
    between its smallest normal number and its largest finite one): below, relative
    error is meaningless (the dtype has no digits to spare); 0 and infinities are exact
    or wrong, not a matter of digits. An approximation that is NaN or infinite where
    the exact value is normal counts as an infinite error.

    Examples
    --------
    >>> error_in_eps(np.float32([0.5, 0.25]), [0.5, 0.25], np.float32)
    0.0
    >>> error_in_eps([-1.0 - 2**-52], [-1.0], np.float64)  # one unit in the last place
    1.0
    """
    info = np.finfo(dtype)
    approx = np.asarray(approx, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    magnitude = np.abs(exact)
    normal = (magnitude >= float(info.tiny)) & (magnitude <= float(info.max))
    if not normal.any():
        return 0.0
    with np.errstate(invalid="ignore"):
        errors = np.abs(approx[normal] - exact[normal]) / magnitude[normal]
    if not np.all(np.isfinite(errors)):
        return float("inf")
    return float(np.max(errors) / float(info.eps))


# Per dtype: a score range for "wide" (the spread) and "large_positive", and for "spread"
# a maximum above the overflow threshold of exp with the rest spread over the whole range
# whose softmax stays normal (where rounding x - max costs |x - max| * eps / 2).
_SCALES = {
    "float16": {"wide": 6e4, "large": 6e4, "spread": (12.0, 2.5), "dominant": 8.0},
    "float32": {"wide": 1e5, "large": 1e5, "spread": (100.0, 14.0), "dominant": 40.0},
    "float64": {"wide": 1e5, "large": 1e5, "spread": (1000.0, 300.0), "dominant": 40.0},
}


def adversarial_rows(
    length: int, dtype: DTypeLike = np.float64, seed: int = 0
) -> dict[str, NDArray[np.floating]]:
    """The hard cases for a softmax row of ``length`` entries, in ``dtype``.

    ``normal``: N(0, 1). ``wide``: U(-w, w) with w = 1e5 (6e4 in float16), a spread of
    2e5. ``near_uniform``: 1e3 + U(0, 1e-3), where long rows expose careless summation.
    ``very_negative``: -1e3 + N(0, 1). ``large_positive``: 1e5 + N(0, 1) (6e4 in
    float16). ``dominant``: N(0, 1) with one entry of 40 (8 in float16), where the shift
    by the maximum costs scipy and torch about 17 eps. ``spread``: a maximum beyond the
    overflow threshold of ``exp`` and the rest spread over the whole range below it whose
    probabilities stay normal (1000 and U(300, 1000) in float64), where rounding
    ``x - max`` costs up to ``|x - max| * eps / 2``. ``subnormal_edge``: 0 and entries
    whose probabilities lie around the smallest normal number.

    Examples
    --------
    >>> sorted(adversarial_rows(5, np.float32))[:3]
    ['dominant', 'large_positive', 'near_uniform']
    >>> adversarial_rows(5, np.float16)["dominant"].dtype
    dtype('float16')
    """
    name = np.dtype(dtype).name
    scale = _SCALES[name]
    rng = np.random.default_rng(seed)
    log_tiny = float(np.log(np.finfo(dtype).tiny))
    dominant = rng.normal(size=length)
    dominant[0] = scale["dominant"]
    top, bottom = scale["spread"]
    rows = {
        "normal": rng.normal(size=length),
        "wide": rng.uniform(-scale["wide"], scale["wide"], size=length),
        "near_uniform": 1e3 + rng.uniform(0, 1e-3, size=length),
        "very_negative": -1e3 + rng.normal(size=length),
        "large_positive": scale["large"] + rng.normal(size=length),
        "dominant": dominant,
        "spread": np.concatenate([[top], rng.uniform(bottom, top, size=length - 1)]),
        "subnormal_edge": np.concatenate(
            [[0.0], rng.uniform(1.05 * log_tiny, 0.9 * log_tiny, size=length - 1)]
        ),
    }
    return {case: row.astype(dtype) for case, row in rows.items()}


def compare(
    implementations: dict[str, dict[str, Callable[[NDArray], ArrayLike]]],
    lengths: tuple[int, ...] = (10, 1000),
    dtypes: tuple[DTypeLike, ...] = (np.float16, np.float32, np.float64),
    cases: tuple[str, ...] | None = None,
) -> list[dict[str, object]]:
    """Error in eps of each implementation on every adversarial row.

    ``implementations`` maps a label to the functions it provides, by name
    (``"softmax"``, ``"log_softmax"``, ``"logsumexp"``), each taking one row.
    Returns one dict per case, length, dtype and function: ``case``, ``n``, ``dtype``,
    ``spread`` (max - min of the row), ``function``, and the error of each label that
    provides that function.
    """
    results = []
    for length in lengths:
        for dtype in dtypes:
            for name, x in adversarial_rows(length, dtype).items():
                if cases is not None and name not in cases:
                    continue
                exact = dict(zip(FUNCTIONS, _exact(x, 50), strict=True))
                spread = float(x.max()) - float(x.min())
                for function in FUNCTIONS:
                    case = {
                        "case": name,
                        "n": length,
                        "dtype": np.dtype(dtype).name,
                        "spread": spread,
                        "function": function,
                    }
                    for label, provided in implementations.items():
                        if function in provided:
                            with np.errstate(all="ignore"):
                                approx = provided[function](x)
                            case[label] = error_in_eps(approx, exact[function], dtype)
                    results.append(case)
    return results
