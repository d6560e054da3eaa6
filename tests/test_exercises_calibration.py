"""The notebook 06 checkers accept correct answers in several styles and reject the usual
mistakes, each with feedback that names it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from softmax_lab.calibration import expected_calibration_error, fit_temperature, reliability_bins
from softmax_lab.core import softmax
from softmax_lab.exercises.calibration import (
    check_ece,
    check_fit_temperature,
    check_smoothed_cross_entropy,
)
from softmax_lab.gradients import cross_entropy
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- Exercise 6.1 ----------------------------------------------------------------------------


def _sums(confidence, right, which, n_bins):
    return sum(abs(right[which == b].sum() - confidence[which == b].sum()) for b in range(n_bins))


def _ece_by_loops(probabilities, labels, n_bins):
    """A correct answer: one pass over the bins, (lo, hi] by comparisons."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    total = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = (confidence > low) & (confidence <= high) if b else confidence <= high
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return total / len(labels)


def _ece_by_ceil(probabilities, labels, n_bins):
    """A correct answer: bin index ceil(c * M) - 1, then per-bin sums."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    return float(_sums(confidence, right, which, n_bins) / len(labels))


def _ece_by_histogram_of_reversed(probabilities, labels, n_bins):
    """A correct answer in list style: Python lists and a dict of bins."""
    bins: dict[int, list[tuple[float, bool]]] = {}
    for row, label in zip(probabilities.tolist(), labels.tolist(), strict=True):
        c = max(row)
        b = max(math.ceil(c * n_bins) - 1, 0)
        bins.setdefault(min(b, n_bins - 1), []).append((c, row.index(c) == label))
    gaps = [abs(sum(r for _, r in items) - sum(c for c, _ in items)) for items in bins.values()]
    return sum(gaps) / len(labels)


def _unweighted(probabilities, labels, n_bins):
    b = reliability_bins(probabilities, labels, n_bins)
    return float(np.nanmean(np.abs(b.accuracy - b.confidence)))


def _true_class_probability(probabilities, labels, n_bins):
    confidence = probabilities[np.arange(len(labels)), labels]
    right = probabilities.argmax(axis=1) == labels
    which = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    return float(_sums(confidence, right, which, n_bins) / len(labels))


def _left_closed_bins(probabilities, labels, n_bins):  # [lo, hi): floor(c * M)
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    return float(_sums(confidence, right, which, n_bins) / len(labels))


def _numpy_histogram(probabilities, labels, n_bins):  # np.histogram's bins are [lo, hi)
    confidence = probabilities.max(axis=1)
    right = (probabilities.argmax(axis=1) == labels).astype(float)
    kwargs = dict(bins=n_bins, range=(0, 1))
    hits, _ = np.histogram(confidence, weights=right, **kwargs)
    sure, _ = np.histogram(confidence, weights=confidence, **kwargs)
    return float(np.abs(hits - sure).sum() / len(labels))


def _digitize_past_the_end(probabilities, labels, n_bins):
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    which = np.digitize(confidence, np.linspace(0, 1, n_bins + 1)) - 1  # 1.0 -> n_bins
    sums = np.zeros((3, n_bins))
    for b, c, r in zip(which, confidence, right, strict=True):
        sums[:, b] += (1, c, r)
    return float(np.sum(np.abs(sums[2] - sums[1])) / len(labels))


def _drops_confidence_one(probabilities, labels, n_bins):
    keep = probabilities.max(axis=1) < 1.0
    return expected_calibration_error(probabilities[keep], labels[keep], n_bins)


def _gap_of_averages(probabilities, labels, n_bins):
    right = probabilities.argmax(axis=1) == labels
    return float(abs(right.mean() - probabilities.max(axis=1).mean()))


def _largest_gap(probabilities, labels, n_bins):
    b = reliability_bins(probabilities, labels, n_bins)
    return float(np.nanmax(np.abs(b.accuracy - b.confidence)))


def _ten_bins_always(probabilities, labels, n_bins):
    return expected_calibration_error(probabilities, labels, 10)


def _max_over_axis_0(probabilities, labels, n_bins):
    confidence = probabilities.max(axis=0)
    right = probabilities.argmax(axis=0) == labels
    which = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    return float(_sums(confidence, right, which, n_bins) / len(labels))


def _normalises_in_place(probabilities, labels, n_bins):
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return expected_calibration_error(probabilities, labels, n_bins)


ECE_MISTAKES = [
    (_unweighted, "gives 0.25", "weight each bin's gap by the share of samples"),
    (_true_class_probability, "gives 0.25", "not the true class's"),
    (_left_closed_bins, "puts a confidence on a bin edge", "bins are (lo, hi], not [lo, hi)"),
    (_numpy_histogram, "puts a confidence on a bin edge", "bins are (lo, hi], not [lo, hi)"),
    (_digitize_past_the_end, "returns one float", "must go in the last bin, not past it"),
    (_drops_confidence_one, "gives 0.25", "a confidence of exactly 1.0 was left out"),
    (_gap_of_averages, "gives 0.25", "gap of the overall averages"),
    (_largest_gap, "gives 0.25", "the largest gap (the MCE)"),
    (_ten_bins_always, "gives 0.25", "that is the ECE with 10 bins: use the n_bins argument"),
    (_max_over_axis_0, "returns one float", "largest probability and argmax (axis=1)"),
    (_normalises_in_place, "leaves the caller's probabilities unchanged", "in place"),
    (lambda p, y, n: [0.25], "returns one float", "return one float"),
    (
        lambda p, y, n: np.array([expected_calibration_error(p, y, n)]),
        "returns one float",
        "shape (1,)",
    ),
]


@pytest.mark.parametrize(
    "right",
    [expected_calibration_error, _ece_by_loops, _ece_by_ceil, _ece_by_histogram_of_reversed],
)
def test_ece_accepts_correct_answers_in_different_styles(right) -> None:
    report = check_ece(right)
    assert report.passed, str(report)


@pytest.mark.parametrize(("wrong", "check", "feedback"), ECE_MISTAKES)
def test_ece_rejects_each_mistake_by_name(wrong, check, feedback) -> None:
    report = check_ece(wrong)
    assert not report.passed
    assert report.fails(check), report.failures
    assert says(report, feedback), report.failures


def test_ece_square_case_catches_a_max_over_the_samples_when_it_runs() -> None:
    def max_over_samples_when_square(probabilities, labels, n_bins):
        if probabilities.shape[0] == probabilities.shape[1]:
            return _max_over_axis_0(probabilities, labels, n_bins)
        return expected_calibration_error(probabilities, labels, n_bins)

    report = check_ece(max_over_samples_when_square)
    assert report.fails("matches softmax_lab's ECE")
    assert says(report, "10 samples, 10 classes") and says(report, "axis=1")


def test_ece_reports_stub_and_none() -> None:
    assert unfinished(check_ece(stub))
    assert none_reported(check_ece(forgets_return))


def test_ece_hand_values_are_what_the_comments_derive() -> None:
    from softmax_lab.exercises import calibration as module

    # independent of the checker: the loop answer on the hand-made cases
    assert math.isclose(_ece_by_loops(module.HAND_PROBABILITIES, module.HAND_LABELS, 5), 0.25)
    assert math.isclose(_ece_by_loops(module.EDGE_PROBABILITIES, module.EDGE_LABELS, 4), 1 / 30)
    assert math.isclose(_left_closed_bins(module.EDGE_PROBABILITIES, module.EDGE_LABELS, 4), 0.2)


# --- Exercise 6.2 ----------------------------------------------------------------------------


def _grid(temperatures, *, multiply=False, give="T"):
    def search(logits, labels):
        z, y = torch.from_numpy(np.asarray(logits)), torch.from_numpy(np.asarray(labels))
        losses = [
            float(torch.nn.functional.cross_entropy(z * t if multiply else z / t, y))
            for t in temperatures
        ]
        i = int(np.argmin(losses))
        return {
            "T": float(temperatures[i]),
            "NLL": losses[i],
            "index": i,
            "list": [temperatures[i]],
        }[give]

    return search


def _golden_section(logits, labels):
    """A correct answer without a grid: golden-section search on log T."""
    low, high, ratio = math.log(0.01), math.log(100.0), (math.sqrt(5) - 1) / 2

    def nll(s):
        return cross_entropy(logits / math.exp(s), labels)

    for _ in range(80):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if nll(left) < nll(right):
            high = right
        else:
            low = left
    return math.exp((low + high) / 2)


def _softmax_over_samples(logits, labels):
    grid = np.geomspace(0.05, 20, 400)
    rows = np.arange(len(labels))
    nll = [-np.mean(np.log(softmax(logits / t, axis=0)[rows, labels] + 1e-300)) for t in grid]
    return float(grid[int(np.argmin(nll))])


def _divides_in_place(logits, labels):
    best = (math.inf, 1.0)
    for t in np.geomspace(0.05, 20, 400):
        logits /= t
        best = min(best, (cross_entropy(logits, labels), float(t)))
        logits *= t
    return best[1]


FIT_MISTAKES = [
    (_grid(np.linspace(1.0, 10.0, 300)), "Let the grid go below T = 1"),
    (_grid(np.geomspace(0.05, 20, 400), multiply=True), "do not multiply"),
    (_grid(np.arange(0.5, 10.01, 0.5)), "the grid is too coarse"),
    (_grid(np.geomspace(0.05, 20, 25)), "the grid is too coarse"),
    (_grid(np.geomspace(0.05, 20, 400), give="NLL"), "That is the smallest NLL"),
    (_grid(np.geomspace(0.05, 20, 400), give="index"), "position of the best grid point"),
    (_grid(np.geomspace(0.05, 20, 400), give="list"), "return one float"),
    (_softmax_over_samples, "Softmax over axis 0"),
    (_divides_in_place, "leaves the caller's logits unchanged"),
    (lambda z, y: -2.0, "expected one positive number"),
    (lambda z, y: "2.0", "return one float"),
]


@pytest.mark.parametrize(
    "right", [fit_temperature, _grid(np.geomspace(0.05, 20, 300)), _golden_section]
)
def test_fit_temperature_accepts_correct_answers_in_different_styles(right) -> None:
    report = check_fit_temperature(right)
    assert report.passed, str(report)


@pytest.mark.parametrize(("wrong", "feedback"), FIT_MISTAKES)
def test_fit_temperature_rejects_each_mistake_by_name(wrong, feedback) -> None:
    report = check_fit_temperature(wrong)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_fit_temperature_cases_are_not_round_numbers() -> None:
    from softmax_lab.exercises.calibration import _temperature_cases

    for _, logits, labels in _temperature_cases():
        best = fit_temperature(logits, labels)
        assert min(abs(best - k / 2) for k in range(1, 41)) > 0.02  # off every half-step grid


def test_fit_temperature_reports_stub_and_none() -> None:
    assert unfinished(check_fit_temperature(stub))
    assert none_reported(check_fit_temperature(forgets_return))


# --- Exercise 6.3 ----------------------------------------------------------------------------


def _log_p(z):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def smoothed_by_targets(logits, labels, epsilon):
    k = logits.shape[1]
    targets = (1 - epsilon) * np.eye(k)[labels] + epsilon / k
    return float(np.mean(-(targets * _log_p(logits)).sum(axis=1)))


def smoothed_by_mixing(logits, labels, epsilon):
    log_p = _log_p(logits)  # (1 - eps) * NLL + eps * the mean over classes of -log p
    nll = -log_p[np.arange(len(labels)), labels]
    return float(np.mean((1 - epsilon) * nll - epsilon * log_p.mean(axis=1)))


def smoothed_by_torch(logits, labels, epsilon):
    z, y = torch.from_numpy(logits), torch.from_numpy(labels)
    return torch.nn.functional.cross_entropy(z, y, label_smoothing=epsilon).item()


def smoothed_by_logsumexp(logits, labels, epsilon):
    """The reviewer's answer: scipy's logsumexp, the loss as (1 - eps) * NLL + eps * uniform."""
    from scipy.special import logsumexp

    z = np.asarray(logits, dtype=np.float64)
    lse = logsumexp(z, axis=-1)
    nll = lse - z[np.arange(len(z)), np.asarray(labels)]
    return float(np.mean((1 - epsilon) * nll + epsilon * (lse - z.mean(-1))))


def smoothed_by_loops(logits, labels, epsilon):
    """The reviewer's answer: pure Python, one row at a time."""
    total = 0.0
    for row, y in zip(np.asarray(logits).tolist(), np.asarray(labels).tolist(), strict=True):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        k = len(row)
        total += sum(
            ((1 - epsilon) * (j == y) + epsilon / k) * (lse - v) for j, v in enumerate(row)
        )
    return total / len(logits)


@pytest.mark.parametrize(
    "right",
    [
        smoothed_by_targets,
        smoothed_by_mixing,
        smoothed_by_torch,
        smoothed_by_logsumexp,
        smoothed_by_loops,
    ],
)
def test_smoothed_cross_entropy_accepts_correct_answers_in_different_styles(right):
    report = check_smoothed_cross_entropy(right)
    assert report.passed, str(report)


def _targets_then_loss(make_targets, reduce=np.mean, sign=1.0):
    def answer(logits, labels, epsilon):
        k = logits.shape[1]
        targets = make_targets(np.eye(k)[labels], epsilon, k)
        return float(sign * reduce(-(targets * _log_p(logits)).sum(axis=1)))

    return answer


def smoothed_probabilities(logits, labels, epsilon):
    p = softmax(logits, axis=1)[np.arange(len(labels)), labels]
    return float(np.mean(-np.log((1 - epsilon) * p + epsilon / logits.shape[1])))


def smoothed_with_naive_softmax(logits, labels, epsilon):
    k = logits.shape[1]
    targets = (1 - epsilon) * np.eye(k)[labels] + epsilon / k
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return float(np.mean(-(targets * np.log(p)).sum(axis=1)))


def _shifted_by(shift):
    """Log-softmax by hand, each row shifted by ``shift(z)`` instead of its own max."""

    def answer(logits, labels, epsilon):
        z = np.asarray(logits, dtype=float)
        k = z.shape[1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z = z - shift(z)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            targets = (1 - epsilon) * np.eye(k)[labels] + epsilon / k
            return float(np.mean(-(targets * log_p).sum(axis=1)))

    return answer


SMOOTHING_MISTAKES = [
    # the reviewer's 6.3-a and 6.3-b, and a shift by the first entry
    (_shifted_by(lambda z: z.mean(axis=1, keepdims=True)), "not its mean (0)"),
    (_shifted_by(lambda z: z.max()), "one max for the whole batch (z.max() with no axis)"),
    (_shifted_by(lambda z: z[:, :1]), "or its first entry (-1000)"),
    (
        _targets_then_loss(lambda h, e, k: (1 - e) * h + e / (k - 1) * (1 - h)),
        "wrong classes only",
    ),
    (_targets_then_loss(lambda h, e, k: h + e / k), "must sum to 1"),
    (smoothed_probabilities, "smooths the model's probabilities"),
    (_targets_then_loss(lambda h, e, k: h), "epsilon was not used"),
    (_targets_then_loss(lambda h, e, k: (1 - e) * h + e / k, reduce=np.sum), "sum over the batch"),
    (_targets_then_loss(lambda h, e, k: (1 - e) * h + e / k, sign=-1.0), "the sign"),
    (_targets_then_loss(lambda h, e, k: (1 - e) * h + e), "not epsilon"),
    (smoothed_with_naive_softmax, "overflowed"),
]


@pytest.mark.parametrize(("wrong", "feedback"), SMOOTHING_MISTAKES)
def test_smoothed_cross_entropy_rejects_each_mistake_by_name(wrong, feedback):
    report = check_smoothed_cross_entropy(wrong)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_smoothed_cross_entropy_stub_none_and_a_list():
    assert unfinished(check_smoothed_cross_entropy(stub))
    assert none_reported(check_smoothed_cross_entropy(forgets_return))
    report = check_smoothed_cross_entropy(lambda z, y, e: [1.0, 2.0])
    assert not report.passed and says(report, "return a float"), report.failures
