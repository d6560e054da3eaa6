"""The notebook 06 checkers accept correct answers and reject the usual mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from softmax_lab.calibration import expected_calibration_error, fit_temperature
from softmax_lab.exercises.calibration import check_ece, check_fit_temperature
from tests.conftest import stub

# --- Exercise 6.1 ----------------------------------------------------------------------------


def _ece_by_loops(probabilities, labels, n_bins):
    """An independent correct answer: one pass over the bins, (lo, hi] by comparisons."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    total = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = (confidence > low) & (confidence <= high) if b else confidence <= high
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return total / len(labels)


def _unweighted(probabilities, labels, n_bins):
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    gaps = [abs(right[which == b].mean() - confidence[which == b].mean()) for b in set(which)]
    return float(np.mean(gaps))


def _true_class_probability(probabilities, labels, n_bins):
    confidence = probabilities[np.arange(len(labels)), labels]
    right = probabilities.argmax(axis=1) == labels
    which = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    return sum(
        abs(right[which == b].sum() - confidence[which == b].sum()) for b in range(n_bins)
    ) / len(labels)


def _digitize_past_the_end(probabilities, labels, n_bins):
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.digitize(confidence, np.linspace(0, 1, n_bins + 1)) - 1  # 1.0 -> n_bins
    sums = np.zeros((3, n_bins))
    for b, c, r in zip(which, confidence, right, strict=True):
        sums[:, b] += (1, c, r)
    used = sums[0] > 0
    return float(np.sum(np.abs(sums[2, used] - sums[1, used])) / len(labels))


def _drops_confidence_one(probabilities, labels, n_bins):
    keep = probabilities.max(axis=1) < 1.0
    return expected_calibration_error(probabilities[keep], labels[keep], n_bins)


def test_ece_accepts_references() -> None:
    assert check_ece(expected_calibration_error).passed
    assert check_ece(_ece_by_loops).passed


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_unweighted, "weight each bin's gap by the fraction of samples in it"),
        (_true_class_probability, "the largest probability of a row"),
        (_digitize_past_the_end, "must go in the last bin, not past it"),
        (_drops_confidence_one, "a confidence of exactly 1.0 was left out"),
        (lambda p, y, n: [0.25, 0.25], "returns one number"),
    ],
)
def test_ece_rejects_known_mistakes(wrong, feedback) -> None:
    report = check_ece(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_ece_reports_stub_as_unfinished() -> None:
    report = check_ece(stub)
    assert not report.passed
    assert "not finished yet" in str(report)


def test_ece_wrong_only_on_random_cases_is_caught() -> None:
    def right_only_for_five_bins(probabilities, labels, n_bins):
        return expected_calibration_error(probabilities, labels, 5)

    report = check_ece(right_only_for_five_bins)
    assert not report.passed
    assert "random cases" in str(report)


# --- Exercise 6.2 ----------------------------------------------------------------------------


def _grid(temperatures):
    def search(logits, labels):
        z, y = torch.from_numpy(np.asarray(logits)), torch.from_numpy(np.asarray(labels))
        losses = [float(torch.nn.functional.cross_entropy(z / t, y)) for t in temperatures]
        return float(temperatures[int(np.argmin(losses))])

    return search


def test_fit_temperature_accepts_references() -> None:
    assert check_fit_temperature(fit_temperature).passed
    assert check_fit_temperature(_grid(np.geomspace(0.05, 20, 300))).passed


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (_grid(np.linspace(1.0, 10.0, 300)), "Let the grid go below T = 1"),
        (lambda z, y: 1.0 / fit_temperature(z, y), "do not multiply"),
        (_grid(np.geomspace(0.05, 20, 5)), "the best is T ="),
        (lambda z, y: -2.0, "expected one positive number"),
        (lambda z, y: "2.0", "expected one positive number"),
    ],
)
def test_fit_temperature_rejects_known_mistakes(wrong, feedback) -> None:
    report = check_fit_temperature(wrong)
    assert not report.passed
    assert feedback in str(report)


def test_fit_temperature_reports_stub_as_unfinished() -> None:
    report = check_fit_temperature(stub)
    assert not report.passed
    assert "not finished yet" in str(report)
