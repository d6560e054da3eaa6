r"""Calibration: can the probabilities a classifier reports be trusted as probabilities?

A classifier is *calibrated* when, among the inputs it gives confidence :math:`c`, a
fraction :math:`c` is classified correctly. The measures here take a probability
matrix (one row per sample, one column per class, rows summing to 1) and the true
labels:

* :func:`reliability_bins` - equal-width confidence bins with their accuracy, mean
  confidence and size: the numbers behind a reliability diagram;
* :func:`expected_calibration_error` (ECE) - the bin-size-weighted mean gap
  :math:`\sum_b \frac{n_b}{n} \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`
  (Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", 2017);
* :func:`maximum_calibration_error` (MCE) - the largest gap over non-empty bins;
* :func:`fit_temperature` - temperature scaling: the single :math:`T > 0` that
  minimises the NLL of ``softmax(logits / T)`` on held-out data. Dividing every logit
  by the same :math:`T` never changes the argmax, so accuracy is untouched.

The proper scoring rules (negative log-likelihood, Brier score) are not the lesson, so the
course uses scikit-learn's: ``sklearn.metrics.log_loss`` and ``sklearn.metrics.brier_score_loss``.

Bins are equal-width on [0, 1]: bin :math:`b` holds confidences in
:math:`(b/M, (b+1)/M]` and the first bin also holds 0, the convention of
``sklearn.calibration.calibration_curve(strategy="uniform")``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._shared import (
    as_array,
    as_indices,
    check_distributions,
    check_positive_int,
    check_real,
    sum_tolerance,
)
from .gradients import cross_entropy

__all__ = [
    "ReliabilityBins",
    "reliability_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
    "fit_temperature",
]


class ReliabilityBins(NamedTuple):
    """Per-bin numbers of a reliability diagram (``n_bins`` entries each, ``edges`` one more).

    ``accuracy`` and ``confidence`` are NaN for an empty bin (``counts == 0``).
    """

    edges: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    confidence: NDArray[np.float64]
    counts: NDArray[np.int64]


def _check_probabilities(probabilities: ArrayLike) -> NDArray[np.float64]:
    """A (samples, classes) float64 array of finite rows in [0, 1] that sum to 1."""
    p = as_array(probabilities, "probabilities")
    if p.dtype.kind not in "biuf":
        raise TypeError(f"probabilities must be real numbers; got dtype {p.dtype}")
    if p.ndim != 2:
        raise ValueError(f"probabilities must be 2-D, (samples, classes); got shape {p.shape}")
    if p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            f"probabilities need at least one sample and two classes; got shape {p.shape}"
        )
    tolerance = sum_tolerance(p.dtype)
    p = p.astype(np.float64)
    check_distributions(
        p, "probabilities", tolerance=tolerance, hint=" (pass softmax(logits), not the logits)"
    )
    return p


def _check_labels(labels: ArrayLike, n_samples: int, n_classes: int) -> NDArray[np.intp]:
    y = as_indices(labels, "labels")
    if y.shape != (n_samples,):
        raise ValueError(
            f"labels must have shape ({n_samples},), one per row of probabilities; got {y.shape}"
        )
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        raise ValueError(f"labels must lie in [0, {n_classes}); found {y[bad][0]}")
    return y.astype(np.intp)


def _confidences_and_hits(
    probabilities: ArrayLike, labels: ArrayLike, class_index: int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Top-label confidence and correctness, or one class's probability and membership."""
    p = _check_probabilities(probabilities)
    y = _check_labels(labels, *p.shape)
    if class_index is None:
        return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)):
        raise TypeError(f"class_index must be an int or None; got {class_index!r}")
    if not 0 <= class_index < p.shape[1]:
        raise ValueError(f"class_index must lie in [0, {p.shape[1]}); got {class_index}")
    return p[:, class_index], (y == class_index).astype(np.float64)


def reliability_bins(
    probabilities: ArrayLike,
    labels: ArrayLike,
    n_bins: int = 10,
    *,
    class_index: int | None = None,
) -> ReliabilityBins:
    """Group predictions into equal-width confidence bins: accuracy vs confidence per bin.

    Parameters
    ----------
    probabilities : array_like, shape (n_samples, n_classes)
        Predicted probabilities; each row must sum to 1.
    labels : array_like of int, shape (n_samples,)
        True classes, in ``[0, n_classes)``.
    n_bins : int, optional
        Number of equal-width bins on [0, 1] (default 10).
    class_index : int, optional
        ``None`` (default): top-label calibration, binning the largest probability of
        each row and scoring whether its argmax is right. An int ``k``: one-vs-rest
        calibration of class ``k``, binning ``probabilities[:, k]`` and scoring
        ``labels == k`` (what ``sklearn.calibration.calibration_curve`` does for a
        binary problem).

    Returns
    -------
    ReliabilityBins
        ``edges`` (n_bins + 1), and per bin ``accuracy`` (fraction correct, or
        fraction of class ``k``), mean ``confidence`` (both NaN for an empty bin) and
        ``counts``.

    Raises
    ------
    ValueError, TypeError
        Rows not summing to 1, values outside [0, 1], labels out of range or of the
        wrong shape, ``n_bins < 1``, a bad ``class_index``.

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55]]
    >>> bins = reliability_bins(p, [0, 1, 1, 1], n_bins=4)  # confidences 0.9, 0.8, 0.7, 0.55
    >>> bins.counts
    array([0, 0, 2, 2])
    >>> bins.accuracy[2:], bins.confidence[2:].round(4)  # (0.5, 0.75] and (0.75, 1]
    (array([1. , 0.5]), array([0.625, 0.85 ]))
    """
    n_bins = check_positive_int(n_bins, "n_bins")
    confidence, hit = _confidences_and_hits(probabilities, labels, class_index)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # side="left": a confidence equal to an inner edge goes to the lower bin, (lo, hi]
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins become NaN
        accuracy = np.bincount(which, weights=hit, minlength=n_bins) / counts
        mean_confidence = np.bincount(which, weights=confidence, minlength=n_bins) / counts
    return ReliabilityBins(edges, accuracy, mean_confidence, counts)


def expected_calibration_error(
    probabilities: ArrayLike,
    labels: ArrayLike,
    n_bins: int = 10,
    *,
    class_index: int | None = None,
) -> float:
    r"""ECE: the gap between accuracy and confidence, averaged over bins weighted by size.

    :math:`\mathrm{ECE} = \sum_b \frac{n_b}{n}\,\lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`
    over the equal-width bins of :func:`reliability_bins` (same arguments). 0 for a
    calibrated model; at most 1. It depends on ``n_bins``: compare ECEs computed with
    the same number of bins.

    Examples
    --------
    >>> # always 90 % sure, right 3 times out of 4: the gap is 0.9 - 0.75
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]]
    >>> round(expected_calibration_error(p, [0, 0, 0, 1]), 4)
    0.15
    """
    bins = reliability_bins(probabilities, labels, n_bins, class_index=class_index)
    used = bins.counts > 0
    gaps = np.abs(bins.accuracy[used] - bins.confidence[used])
    return float(np.sum(bins.counts[used] * gaps) / bins.counts.sum())


def maximum_calibration_error(
    probabilities: ArrayLike,
    labels: ArrayLike,
    n_bins: int = 10,
    *,
    class_index: int | None = None,
) -> float:
    """MCE: the largest gap between accuracy and confidence over the non-empty bins.

    Same arguments as :func:`reliability_bins`. Sensitive to sparsely filled bins: a
    bin holding a single sample can decide it.

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]]
    >>> round(maximum_calibration_error(p, [0, 0, 1, 1], n_bins=5), 4)  # 0.6 sure, 0 right
    0.6
    """
    bins = reliability_bins(probabilities, labels, n_bins, class_index=class_index)
    used = bins.counts > 0
    return float(np.max(np.abs(bins.accuracy[used] - bins.confidence[used])))


def fit_temperature(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    bounds: tuple[float, float] = (0.01, 100.0),
) -> float:
    r"""Temperature scaling: the :math:`T > 0` minimising the NLL of ``softmax(logits / T)``.

    Fit it on held-out data (a validation split), never on the training data, where
    an overfitted model is right and confident and so would be told to be even sharper.
    The NLL is convex in :math:`1/T`, so it has a single minimum; it is found by
    bounded Brent search (``scipy.optimize.minimize_scalar``) over :math:`\log T`,
    which is deterministic.

    Parameters
    ----------
    logits : array_like, shape (n_samples, n_classes)
        Unnormalised scores on held-out data.
    labels : array_like of int, shape (n_samples,)
        True classes.
    bounds : (float, float), optional
        Search interval for :math:`T` (default 0.01 to 100). A result at a bound
        means the optimum lies beyond it (for example, every held-out sample is right,
        so the NLL keeps falling as :math:`T \to 0`).

    Returns
    -------
    float
        The fitted temperature. Use it as ``softmax(logits, temperature=T)``.

    Examples
    --------
    >>> from softmax_lab import softmax
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(scale=3.0, size=(20000, 5))
    >>> y = (rng.random(20000)[:, None] > np.cumsum(softmax(z / 2.0), axis=1)).sum(axis=1)
    >>> round(fit_temperature(z, y), 1)  # labels drawn from softmax(z / 2)
    2.0
    """
    z = as_array(logits, "logits")
    if z.dtype.kind not in "biuf":
        raise TypeError(f"logits must be real numbers; got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        raise ValueError(
            f"logits must be 2-D with at least one sample and two classes; got shape {z.shape}"
        )
    z = z.astype(np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    y = _check_labels(labels, *z.shape)
    if isinstance(bounds, np.ndarray) and bounds.ndim == 1:
        bounds = tuple(bounds)  # np.array([0.05, 20.0]) is a pair too
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (low, high) of numbers; got {bounds!r}")
    low, high = (check_real(b, "bounds", low=0.0, low_open=True) for b in bounds)
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf; got {bounds!r}")

    def nll(log_t: float) -> float:
        return float(cross_entropy(z / math.exp(log_t), y))

    from scipy.optimize import minimize_scalar  # scipy.optimize takes ~0.3 s to import

    result = minimize_scalar(
        nll, bounds=(math.log(low), math.log(high)), method="bounded", options={"xatol": 1e-6}
    )
    return float(math.exp(result.x))
