"""Checkers for the exercises of notebook 06 (calibration and temperature).

* :func:`check_ece` - the expected calibration error with equal-width bins;
* :func:`check_fit_temperature` - the temperature that minimises the NLL;
* :func:`check_smoothed_cross_entropy` - cross-entropy against label-smoothed targets,
  as ``torch.nn.functional.cross_entropy(..., label_smoothing=epsilon)`` computes it.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.
A wrong answer is compared with what the usual mistakes give on the same case, and the
feedback names the mistake it matches.

Examples
--------
>>> from softmax_lab.calibration import expected_calibration_error, fit_temperature, reliability_bins
>>> check_ece(expected_calibration_error).passed
True
>>> check_fit_temperature(fit_temperature).passed
True
>>> def average_over_bins(probabilities, labels, n_bins):  # forgets to weight by bin size
...     b = reliability_bins(probabilities, labels, n_bins)
...     return float(np.nanmean(np.abs(b.accuracy - b.confidence)))
>>> print(check_ece(average_over_bins))  # doctest: +ELLIPSIS
Exercise 6.1 - expected calibration error: 1 of 4 checks passed
  ok    returns one float for the small hand-made example
  FAIL  gives 0.25 on the small hand-made example (expected 0.25, got 0.25833...: weight each bin's gap by the share of samples in it, n_b / n)
  FAIL  puts a confidence on a bin edge (0.5, 0.75) in the lower bin: 1/30 (...)
  FAIL  matches softmax_lab's ECE on 7 random cases (...)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..calibration import expected_calibration_error, fit_temperature
from ..core import log_softmax, softmax
from ..gradients import cross_entropy
from . import Report, as_number, call, describe, differ, exercise

__all__ = [
    "check_ece",
    "check_fit_temperature",
    "check_smoothed_cross_entropy",
    "HAND_PROBABILITIES",
    "HAND_LABELS",
]

# The hand-made case of Exercise 6.1, with 5 bins (0, .2], (.2, .4], ..., (.8, 1]:
# (.8, 1] holds confidences 1.0 (wrong) and 0.9 (right): accuracy .5, confidence .95;
# (.6, .8] holds 0.7 (right): gap .3; (.4, .6] holds 0.45 (right) and 0.5 (wrong):
# accuracy .5, confidence .475. ECE = (2 * .45 + 1 * .3 + 2 * .025) / 5 = 0.25.
HAND_PROBABILITIES = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.05, 0.9, 0.05],
        [0.1, 0.7, 0.2],
        [0.25, 0.3, 0.45],
        [0.2, 0.5, 0.3],
    ]
)
HAND_LABELS = np.array([2, 1, 1, 2, 0])
HAND_BINS = 5
HAND_ECE = 0.25

# Confidences exactly on the inner edges of 4 bins (0.5 and 0.75, exact in binary):
# (.25, .5] holds 0.5 (right) and 0.5 (wrong): gap 0; (.5, .75] holds 0.75, 0.75 (right)
# and 0.6 (wrong): |2 - 2.1| = 0.1; (.75, 1] holds 0.9 (right): 0.1. ECE = 0.2 / 6 = 1/30.
# With bins [lo, hi) instead, the edges move up a bin and the ECE becomes 0.2.
EDGE_PROBABILITIES = np.array(
    [
        [0.5, 0.3, 0.2],
        [0.5, 0.25, 0.25],
        [0.75, 0.25, 0.0],
        [0.125, 0.125, 0.75],
        [0.6, 0.2, 0.2],
        [0.05, 0.9, 0.05],
    ]
)
EDGE_LABELS = np.array([0, 1, 0, 2, 1, 1])
EDGE_BINS = 4
EDGE_ECE = 1 / 30


def _bin_sums(confidence: np.ndarray, hits: np.ndarray, which: np.ndarray, n_bins: int):
    counts = np.bincount(which, minlength=n_bins)
    return counts, np.bincount(which, hits, n_bins), np.bincount(which, confidence, n_bins)


def _mistakes(p: np.ndarray, y: np.ndarray, n_bins: int) -> list[tuple[float, str]]:
    """What the usual wrong ECEs give on one case, each with what to say about it."""
    n = len(y)
    confidence, hits = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
    inner = np.linspace(0, 1, n_bins + 1)[1:-1]
    which = np.searchsorted(inner, confidence)
    counts, right, sure = _bin_sums(confidence, hits, which, n_bins)
    used = counts > 0
    gaps = np.abs(right[used] / counts[used] - sure[used] / counts[used])
    true_class = p[np.arange(n), y]
    _, right_t, sure_t = _bin_sums(true_class, hits, np.searchsorted(inner, true_class), n_bins)
    lower = np.minimum(np.floor(confidence * n_bins).astype(int), n_bins - 1)  # [lo, hi)
    _, right_l, sure_l = _bin_sums(confidence, hits, lower, n_bins)
    kept = confidence < 1.0
    _, right_k, sure_k = _bin_sums(confidence[kept], hits[kept], which[kept], n_bins)
    dropped = float(np.abs(right_k - sure_k).sum())
    edge = "a confidence on a bin edge belongs to the lower bin: bins are (lo, hi], not [lo, hi)"
    one = "a confidence of exactly 1.0 was left out: it belongs in the last bin"
    found = [
        (float(np.mean(gaps)), "weight each bin's gap by the share of samples in it, n_b / n"),
        (float(np.sum(gaps) / n_bins), "weight each bin's gap by n_b / n, not 1 / n_bins"),
        (
            float(np.abs(right_t - sure_t).sum() / n),
            "the confidence is a row's largest probability, not the true class's",
        ),
        (float(np.abs(right_l - sure_l).sum() / n), edge),
        (dropped / n, one),
        (dropped / max(kept.sum(), 1), one),
        (
            abs(hits.mean() - confidence.mean()),
            "that is the gap of the overall averages: bin first, then take |acc_b - conf_b| per bin, so gaps of opposite sign cannot cancel",
        ),
        (
            float(np.max(gaps)),
            "that is the largest gap (the MCE); the ECE averages the gaps, weighted by n_b / n",
        ),
    ]
    for other in range(1, 21):
        if other != n_bins:
            found.append(
                (
                    expected_calibration_error(p, y, other),
                    f"that is the ECE with {other} bins: use the n_bins argument",
                )
            )
    return found


def _diagnosis(value: float, p: np.ndarray, y: np.ndarray, n_bins: int, right: float) -> str:
    for wrong, advice in _mistakes(p, y, n_bins):
        if not math.isclose(wrong, right, abs_tol=1e-9) and math.isclose(
            value, wrong, rel_tol=1e-9, abs_tol=1e-12
        ):
            return advice
    return ""


def _one_float(got: Any) -> str:
    """ "" when ``got`` is one float (a Python, NumPy or 0-d array float); else what it is."""
    if isinstance(got, Exception):
        hint = f"got {describe(got)}"
        if isinstance(got, IndexError):
            hint += ": a confidence of exactly 1.0 must go in the last bin, not past it"
        elif isinstance(got, ValueError) and "broadcast" in str(got):
            hint += ": take each row's largest probability and argmax (axis=1)"
        return hint
    if isinstance(got, bool) or not isinstance(
        got, float | int | np.floating | np.integer | np.ndarray
    ):
        return f"got {describe(got)}; return one float, e.g. float(total)"
    if isinstance(got, np.ndarray) and got.shape != ():
        return f"got an array of shape {got.shape}; return one float, e.g. float(total)"
    return ""


def _random_cases() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Overconfident, underconfident and calibrated-ish predictions, 1 to 20 bins."""
    rng = np.random.default_rng(6)
    cases = []
    for n, k, scale, n_bins in [
        (50, 3, 4.0, 10),
        (200, 10, 6.0, 15),
        (120, 2, 1.0, 10),
        (80, 5, 3.0, 1),
        (300, 4, 2.0, 7),
        (40, 3, 10.0, 20),
        (10, 10, 3.0, 5),  # square: a max over the wrong axis runs, and is wrong
    ]:
        probabilities = softmax(rng.normal(scale=scale, size=(n, k)))
        labels = rng.integers(0, k, size=n)
        cases.append((probabilities, labels, n_bins))
    return cases


@exercise("Exercise 6.1 - expected calibration error")
def check_ece(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 6.1: ``candidate(probabilities, labels, n_bins)`` returns the ECE as a float.

    Top-label ECE with ``n_bins`` equal-width bins :math:`(b/M, (b+1)/M]`:
    :math:`\sum_b \frac{n_b}{n} \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`. Checked on
    a hand-made case (ECE 0.25, with a confidence of exactly 1.0), on confidences exactly
    on inner bin edges (ECE 1/30), and against
    :func:`softmax_lab.calibration.expected_calibration_error` on random cases (one of them
    square, so a max over the wrong axis runs). Wrong values are matched against the usual
    mistakes (unweighted gaps, the true class's probability, [lo, hi) bins, a dropped 1.0,
    the gap of the averages, the MCE, a fixed number of bins) and the mistake is named.
    """
    got = call(candidate, HAND_PROBABILITIES, HAND_LABELS, HAND_BINS)
    problem = _one_float(got)
    report.expect(not problem, "returns one float for the small hand-made example", hint=problem)
    value = as_number(got)
    if value is None:
        return
    fixed = [
        (
            "gives 0.25 on the small hand-made example",
            HAND_PROBABILITIES,
            HAND_LABELS,
            HAND_BINS,
            HAND_ECE,
            got,
        ),
        (
            "puts a confidence on a bin edge (0.5, 0.75) in the lower bin: 1/30",
            EDGE_PROBABILITIES,
            EDGE_LABELS,
            EDGE_BINS,
            EDGE_ECE,
            None,
        ),
    ]
    for message, p, y, n_bins, expected, result in fixed:
        result = call(candidate, p, y, n_bins) if result is None else result
        value = as_number(result)
        advice = "" if value is None else _diagnosis(value, p, y, n_bins, expected)
        report.close(
            message,
            expected,
            value if value is not None else result,
            rtol=0,
            atol=1e-9,
            hint=advice,
        )
    cases = _random_cases()
    failure = ""
    for probabilities, labels, n_bins in cases:
        expected = expected_calibration_error(probabilities, labels, n_bins)  # before the call
        value = as_number(result := call(candidate, probabilities, labels, n_bins))
        if value is None or not math.isclose(value, expected, rel_tol=1e-7, abs_tol=1e-9):
            shape = (
                f"{probabilities.shape[0]} samples, {probabilities.shape[1]} classes, {n_bins} bins"
            )
            advice = (
                "" if value is None else _diagnosis(value, probabilities, labels, n_bins, expected)
            )
            if not advice and probabilities.shape[0] == probabilities.shape[1]:
                advice = "on this square case: take each row's largest probability (axis=1)"
            failure = f"{shape}: {differ(expected, value if value is not None else result)}"
            failure += f": {advice}" if advice else ""
            break
    report.expect(
        not failure, f"matches softmax_lab's ECE on {len(cases)} random cases", hint=failure
    )


def _sampled_labels(logits: np.ndarray, temperature: float, seed: int) -> np.ndarray:
    """Labels drawn from softmax(logits / temperature): the best temperature is near that one."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(softmax(logits, temperature=temperature), axis=1)
    return (rng.random(len(logits))[:, None] > cumulative).sum(axis=1).clip(max=logits.shape[1] - 1)


def _temperature_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    # Not round numbers: a coarse grid (0.5, 1, 1.5, ...) must not land on the optimum.
    rng = np.random.default_rng(60)
    over = rng.normal(scale=4.0, size=(600, 10))
    under = rng.normal(scale=1.0, size=(600, 4))
    return [
        ("an overconfident model (best T about 2.45)", over, _sampled_labels(over, 2.37, 1)),
        ("an underconfident model (best T about 0.43)", under, _sampled_labels(under, 0.43, 2)),
    ]


def _argmin_columns(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T a learner finds who normalises over the samples (axis=0) instead of the classes."""
    grid = np.geomspace(0.01, 100, 2001)
    rows = np.arange(len(labels))
    nll = [-np.mean(log_softmax(logits / t, axis=0)[rows, labels]) for t in grid]
    return float(grid[int(np.argmin(nll))])


def _temperature_hint(
    got: Any, value: float, logits: np.ndarray, labels: np.ndarray, best: float
) -> str:
    best_nll = float(cross_entropy(logits / best, labels))
    nll = float(cross_entropy(logits / value, labels))
    hint = f"got T = {value:.4g} with NLL {nll:.5f}; the best is T = {best:.4g}, NLL {best_nll:.5f}"
    if isinstance(got, int | np.integer) and not isinstance(got, bool):
        return (
            hint
            + ". You returned an integer: the position of the best grid point? Return the temperature, grid[i]"
        )
    if math.isclose(value, best_nll, rel_tol=1e-3):
        return hint + ". That is the smallest NLL: return the temperature that gives it"
    if math.isclose(1 / value, best, rel_tol=0.05):
        return hint + ". Divide the logits by T (softmax(logits / T)), do not multiply"
    if math.isclose(value, _argmin_columns(logits, labels), rel_tol=0.03):
        return (
            hint
            + ". Softmax over axis 0 normalises over the samples: each row (axis=1) is one prediction"
        )
    if best < 1 <= value:
        return hint + ". Let the grid go below T = 1: some models are underconfident"
    if abs(math.log(value / best)) < 0.25:
        return (
            hint
            + ". Close, but the grid is too coarse: the best T lies between its points; use more points"
        )
    return hint


@exercise("Exercise 6.2 - temperature scaling")
def check_fit_temperature(
    report: Report, candidate: Callable[..., Any], *, tolerance: float = 1e-3
) -> None:
    """Exercise 6.2: ``candidate(logits, labels)`` returns one temperature ``T > 0``.

    The NLL of ``softmax(logits / T)`` must come within ``tolerance`` (in nats per
    sample) of the optimum found by :func:`softmax_lab.calibration.fit_temperature`,
    on an overconfident case (best T about 2.45) and an underconfident one (about 0.43);
    neither is a round number, so a coarse grid misses both. Any method is accepted.
    Wrong answers are matched against the usual mistakes (T multiplied, a grid that
    starts at 1, a grid too coarse, softmax over the samples, the NLL or a grid index
    returned instead of T).
    """
    for name, logits, labels in _temperature_cases():
        best = fit_temperature(logits, labels)  # before the learner's function runs
        best_nll = float(cross_entropy(logits / best, labels))
        got = call(candidate, logits, labels)
        message = f"finds the best temperature for {name} (NLL within {tolerance} of the optimum)"
        problem = _one_float(got)
        value = as_number(got)
        if problem or value is None or not (math.isfinite(value) and value > 0):
            hint = problem or f"got {describe(got)}; expected one positive number"
            report.expect(False, message, hint=hint)
            continue
        nll = float(cross_entropy(logits / value, labels))
        report.expect(
            nll - best_nll <= tolerance,
            message,
            hint=_temperature_hint(got, value, logits, labels, best),
        )


# Exercise 6.3: (logits, labels, epsilon); the third case has logits of 1000, where exp
# overflows. In the fourth the rows lie 1000 apart and the second row spans 2000: one max for
# the whole batch sends row 0 to exp(-1000) = 0 (log 0), and a shift by the row mean (0) or
# the first entry (-1000) leaves exp(1000) or more, which overflows.
_SMOOTHING_CASES = (
    (np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]]), np.array([0, 1]), 0.1),
    (
        np.array([[1.0, -2.0, 0.5, 3.0], [0.2, 0.1, -0.4, 0.0], [4.0, 1.0, 0.0, -1.0]]),
        np.array([3, 0, 1]),
        0.25,
    ),
    (np.array([[1000.0, 0.0, -5.0], [3.0, 1000.0, 998.0]]), np.array([0, 2]), 0.1),
    (np.array([[0.0, 1.0, 2.0], [-1000.0, 1000.0, 0.0]]), np.array([2, 1]), 0.1),
)
_FAR_APART = 3  # the index of the case whose rows lie far apart


def _shift_advice(
    candidate: Callable[..., Any], logits: np.ndarray, labels: np.ndarray, eps: float
) -> str:
    """Why a non-finite result on the far-apart case: one max for the batch, or the wrong shift."""
    rows_alone = []
    for row in range(len(logits)):
        expected = float(
            cross_entropy(logits[row : row + 1], labels[row : row + 1], label_smoothing=eps)
        )
        value = as_number(
            call(candidate, logits[row : row + 1].copy(), labels[row : row + 1].copy(), eps)
        )
        rows_alone.append(value is not None and math.isclose(value, expected, rel_tol=1e-6))
    if all(rows_alone):
        return (
            "each row alone gives the right loss, the batch does not: one max for the whole batch "
            "(z.max() with no axis) sends row [0, 1, 2] to exp(-1000) = 0 and log(0); subtract "
            "each row's own max, z.max(axis=1, keepdims=True)"
        )
    return (
        "exp overflowed on the row [-1000, 1000, 0]: shift each row by its max (1000), not its "
        "mean (0) or its first entry (-1000), so that no exp sees a positive number"
    )


def _smoothing_mistakes(z: np.ndarray, y: np.ndarray, eps: float) -> list[tuple[float, str]]:
    n, k = z.shape
    log_p = log_softmax(z, axis=1)
    one_hot = np.eye(k)[y]
    nll = -log_p[np.arange(n), y]

    def against(targets: np.ndarray) -> float:
        return float(np.mean(-(targets * log_p).sum(axis=1)))

    p_true = softmax(z, axis=1)[np.arange(n), y]
    return [
        (
            against((1 - eps) * one_hot + eps / (k - 1) * (1 - one_hot)),
            "that spreads epsilon over the k - 1 wrong classes only; torch spreads epsilon / k "
            "over all k classes, the true one included",
        ),
        (
            against(one_hot + eps / k),
            "the targets must sum to 1: the true class gets 1 - epsilon + epsilon / k",
        ),
        (
            float(np.mean(-np.log((1 - eps) * p_true + eps / k))),
            "that smooths the model's probabilities; label smoothing smooths the targets "
            "(the loss is -sum(q * log p))",
        ),
        (float(np.mean(nll)), "that is the plain cross-entropy: epsilon was not used"),
        (
            float(np.sum(-(((1 - eps) * one_hot + eps / k) * log_p).sum(axis=1))),
            "that is the sum over the batch; take the mean",
        ),
        (
            -float(np.mean(-(((1 - eps) * one_hot + eps / k) * log_p).sum(axis=1))),
            "the sign: cross-entropy is minus the log-probabilities, so it is positive",
        ),
        (
            against((1 - eps) * one_hot + eps),
            "every class gets epsilon / k, not epsilon: the smoothing mass epsilon is shared",
        ),
    ]


@exercise("Exercise 6.3 - label-smoothed cross-entropy")
def check_smoothed_cross_entropy(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(logits, labels, epsilon) -> float``: the mean cross-entropy against
    targets ``(1 - epsilon) * one_hot + epsilon / k``, torch's ``label_smoothing``.

    Four cases: 3 classes with epsilon 0.1, 4 classes with 0.25, logits of 1000, where an
    ``exp`` without the max subtracted overflows, and rows 1000 apart, one spanning 2000,
    where one max for the whole batch or a shift by the row mean fails (the feedback tells
    which, by trying each row alone). Wrong values are matched
    against epsilon / (k - 1) on the wrong classes only, targets that sum to 1 + epsilon,
    smoothed probabilities instead of targets, epsilon ignored, a sum over the batch, the
    sign and epsilon instead of epsilon / k; a non-finite result is named as overflow.
    """
    for index, (logits, labels, eps) in enumerate(_SMOOTHING_CASES):
        # the reference, before the learner's function runs
        expected = float(cross_entropy(logits, labels, label_smoothing=eps))
        got = call(candidate, logits, labels, eps)
        if isinstance(got, Exception):
            report.expect(False, f"runs on case {index + 1}", hint=describe(got))
            return
        value = as_number(got)
        if index == 0 and not report.expect(
            value is not None,
            "returns one number",
            hint=f"got {describe(got)}; average over the samples and return a float",
        ):
            return
        advice = ""
        if value is not None and not math.isfinite(value) and index == _FAR_APART:
            advice = _shift_advice(candidate, logits, labels, eps)
        elif value is not None and not math.isfinite(value):
            advice = "it overflowed: exp(1000) is inf; compute log-softmax as z - max - log(sum(exp(z - max)))"
        elif value is not None:
            for wrong, text in _smoothing_mistakes(logits, labels, eps):
                if not math.isclose(wrong, expected, rel_tol=1e-9) and math.isclose(
                    value, wrong, rel_tol=1e-6, abs_tol=1e-9
                ):
                    advice = text
                    break
        name = f"{logits.shape[1]} classes, epsilon = {eps}" + (
            ", rows [0, 1, 2] and [-1000, 1000, 0]"
            if index == _FAR_APART
            else ", logits of 1000"
            if logits.max() >= 1000
            else ""
        )
        report.close(
            f"{name}: {expected:.4f}",
            expected,
            got,
            rtol=1e-6,
            hint=advice,
        )
