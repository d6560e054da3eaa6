"""Checkers for the exercises of notebook 06 (calibration and temperature).

* :func:`check_ece` - the expected calibration error with equal-width bins;
* :func:`check_fit_temperature` - temperature scaling fitted by a grid search.

Each takes the learner's function and returns a :class:`~softmax_lab.exercises.Report`.

Examples
--------
>>> from softmax_lab.calibration import expected_calibration_error, fit_temperature
>>> check_ece(expected_calibration_error).passed
True
>>> check_fit_temperature(fit_temperature).passed
True
>>> def average_over_bins(probabilities, labels, n_bins):  # forgets to weight by bin size
...     b = reliability_bins(probabilities, labels, n_bins)
...     return float(np.nanmean(np.abs(b.accuracy - b.confidence)))
>>> print(check_ece(average_over_bins))  # doctest: +ELLIPSIS
Exercise 6.1 - expected calibration error: 1 of 3 checks passed
  ok    returns one number for the small hand-made example
  FAIL  gives 0.25 on the small hand-made example (got 0.2583: weight each bin's gap by ...)
  FAIL  matches softmax_lab's ECE on 6 random cases (...)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..calibration import expected_calibration_error, fit_temperature, reliability_bins
from ..core import softmax
from ..gradients import cross_entropy
from . import Report, as_number, call, describe, exercise

__all__ = ["check_ece", "check_fit_temperature", "HAND_PROBABILITIES", "HAND_LABELS"]

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


def _hand_mistakes() -> list[tuple[float, str]]:
    """Values the usual wrong ECEs give on the hand-made case, with what to say about each."""
    p, y = HAND_PROBABILITIES, HAND_LABELS
    bins = reliability_bins(p, y, HAND_BINS)
    gaps = np.abs(bins.accuracy - bins.confidence)
    used = bins.counts > 0
    # confidence taken as the true class's probability, binned the same way
    true_class = p[np.arange(len(y)), y]
    which = np.searchsorted(bins.edges[1:-1], true_class)
    hits = (p.argmax(axis=1) == y).astype(float)
    true_class_sum = sum(
        abs(hits[which == b].sum() - true_class[which == b].sum()) for b in range(HAND_BINS)
    )
    kept = p.max(axis=1) < 1.0  # np.digitize puts a confidence of 1.0 past the last bin
    dropped = reliability_bins(p[kept], y[kept], HAND_BINS)
    dropped_gaps = np.abs(dropped.accuracy - dropped.confidence)[dropped.counts > 0]
    dropped_sum = float(np.sum(dropped.counts[dropped.counts > 0] * dropped_gaps))
    return [
        (
            float(np.mean(gaps[used])),
            "weight each bin's gap by the fraction of samples in it, n_b / n",
        ),
        (
            float(np.nansum(gaps) / HAND_BINS),
            "weight each bin's gap by n_b / n; empty bins then count 0",
        ),
        (
            float(true_class_sum / len(y)),
            "the confidence is the largest probability of a row, not the true class's",
        ),
        (
            dropped_sum / len(y),
            "a confidence of exactly 1.0 was left out: it belongs in the last bin, (0.8, 1]",
        ),
        (
            float(dropped_sum / kept.sum()),
            "a confidence of exactly 1.0 was left out: it belongs in the last bin, (0.8, 1]",
        ),
    ]


def _random_cases() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Overconfident, underconfident and calibrated-ish predictions, 1 to 15 bins."""
    rng = np.random.default_rng(6)
    cases = []
    for n, k, scale, n_bins in [
        (50, 3, 4.0, 10),
        (200, 10, 6.0, 15),
        (120, 2, 1.0, 10),
        (80, 5, 3.0, 1),
        (300, 4, 2.0, 7),
        (40, 3, 10.0, 20),
    ]:
        probabilities = softmax(rng.normal(scale=scale, size=(n, k)))
        labels = rng.integers(0, k, size=n)
        cases.append((probabilities, labels, n_bins))
    return cases


@exercise("Exercise 6.1 - expected calibration error")
def check_ece(report: Report, candidate: Callable[..., Any]) -> None:
    r"""Exercise 6.1: ``candidate(probabilities, labels, n_bins)`` returns the ECE.

    Top-label ECE with ``n_bins`` equal-width bins :math:`(b/M, (b+1)/M]`:
    :math:`\sum_b \frac{n_b}{n} \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`. Checked on
    a hand-made case (ECE 0.25, with a confidence of exactly 1.0) whose usual wrong
    answers are recognised, then against :func:`softmax_lab.calibration.expected_calibration_error`
    on random cases.
    """
    got = call(candidate, HAND_PROBABILITIES, HAND_LABELS, HAND_BINS)
    value = as_number(got)
    hint = f"got {describe(got)}"
    if isinstance(got, IndexError):
        hint += ": a confidence of exactly 1.0 must go in the last bin, not past it"
    report.expect(
        value is not None, "returns one number for the small hand-made example", hint=hint
    )
    if value is None:
        return
    right = math.isclose(value, HAND_ECE, abs_tol=1e-9)
    hint = f"got {value:.4g}"
    for wrong, advice in _hand_mistakes():
        if math.isclose(value, wrong, abs_tol=1e-9):
            hint += f": {advice}"
            break
    report.expect(right, f"gives {HAND_ECE} on the small hand-made example", hint=hint)
    cases = _random_cases()
    failures = []
    for probabilities, labels, n_bins in cases:
        expected = expected_calibration_error(probabilities, labels, n_bins)
        got = call(candidate, probabilities, labels, n_bins)
        value = as_number(got)
        if value is None or not math.isclose(value, expected, rel_tol=1e-7, abs_tol=1e-9):
            shown = describe(got) if value is None else f"{value:.4g}"
            failures.append(
                f"{probabilities.shape[0]} samples, {probabilities.shape[1]} classes, "
                f"{n_bins} bins: expected {expected:.4g}, got {shown}"
            )
    report.expect(
        not failures,
        f"matches softmax_lab's ECE on {len(cases)} random cases",
        hint=failures[0] if failures else "",
    )


def _sampled_labels(logits: np.ndarray, temperature: float, seed: int) -> np.ndarray:
    """Labels drawn from softmax(logits / temperature): the best temperature is that one."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(softmax(logits, temperature=temperature), axis=1)
    return (rng.random(len(logits))[:, None] > cumulative).sum(axis=1).clip(max=logits.shape[1] - 1)


def _temperature_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(60)
    over = rng.normal(scale=4.0, size=(600, 10))
    under = rng.normal(scale=1.0, size=(600, 4))
    return [
        ("an overconfident model (best T about 2.5)", over, _sampled_labels(over, 2.5, 1)),
        ("an underconfident model (best T about 0.5)", under, _sampled_labels(under, 0.5, 2)),
    ]


@exercise("Exercise 6.2 - temperature scaling by grid search")
def check_fit_temperature(
    report: Report, candidate: Callable[..., Any], *, tolerance: float = 1e-3
) -> None:
    """Exercise 6.2: ``candidate(logits, labels)`` returns a temperature ``T > 0``.

    The NLL of ``softmax(logits / T)`` must come within ``tolerance`` (in nats per
    sample) of the optimum found by :func:`softmax_lab.calibration.fit_temperature`,
    on an overconfident case (best T above 1) and an underconfident one (best T below
    1, so a grid that starts at 1 fails).
    """
    for name, logits, labels in _temperature_cases():
        got = call(candidate, logits, labels)
        value = as_number(got)
        best = fit_temperature(logits, labels)
        best_nll = float(cross_entropy(logits / best, labels))
        if value is None or not (math.isfinite(value) and value > 0):
            hint = f"got {describe(got)}; expected one positive number"
            report.expect(False, f"finds the best temperature for {name}", hint=hint)
            continue
        nll = float(cross_entropy(logits / value, labels))
        hint = f"got T = {value:.3g} with NLL {nll:.4f}; the best is T = {best:.3g}, NLL {best_nll:.4f}"
        if nll - best_nll > tolerance:
            if math.isclose(1 / value, best, rel_tol=0.05):
                hint += ". Divide the logits by T (softmax(logits / T)), do not multiply"
            elif best < 1 <= value:
                hint += ". Let the grid go below T = 1: some models are underconfident"
            elif value == 1.0:
                hint += ". T = 1 changes nothing: search over a grid of temperatures"
        report.expect(
            nll - best_nll <= tolerance,
            f"finds the best temperature for {name} (NLL within {tolerance} of the optimum)",
            hint=hint,
        )
