"""Calibration measures and temperature scaling, against hand-computed numbers, sklearn and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax as scipy_softmax
from sklearn.calibration import calibration_curve

from softmax_lab.calibration import (
    expected_calibration_error,
    fit_temperature,
    maximum_calibration_error,
    reliability_bins,
)


def _constant_confidence(confidence: float, n: int, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    """n two-class rows all saying class 0 with ``confidence``; the first n_right are class 0."""
    probabilities = np.tile([confidence, 1 - confidence], (n, 1))
    labels = np.array([0] * n_right + [1] * (n - n_right))
    return probabilities, labels


def _sample_labels(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(probabilities, axis=1)
    labels = (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1)
    return labels.clip(max=probabilities.shape[1] - 1)


# --- ECE and MCE: hand-computed numbers ---------------------------------------------------


def test_a_calibrated_constant_model_has_zero_ece() -> None:
    # 80 % sure every time and right 8 times out of 10
    p, y = _constant_confidence(0.8, 10, 8)
    assert expected_calibration_error(p, y) == pytest.approx(0.0, abs=1e-12)
    assert maximum_calibration_error(p, y) == pytest.approx(0.0, abs=1e-12)


def test_an_overconfident_constant_model_has_the_gap_as_ece() -> None:
    # 99 % sure, right 6 times out of 10: ECE = 0.99 - 0.6
    p, y = _constant_confidence(0.99, 10, 6)
    assert expected_calibration_error(p, y) == pytest.approx(0.39)
    assert maximum_calibration_error(p, y) == pytest.approx(0.39)


def test_ece_weights_bins_by_size_on_a_tiny_hand_example() -> None:
    # 3 classes, 5 bins. (.8, 1]: 1.0 wrong, 0.9 right -> acc .5, conf .95, gap .45, n 2
    # (.6, .8]: 0.7 right -> gap .3, n 1; (.4, .6]: 0.45 right, 0.5 wrong -> gap .025, n 2
    p = np.array(
        [[1.0, 0.0, 0.0], [0.05, 0.9, 0.05], [0.1, 0.7, 0.2], [0.25, 0.3, 0.45], [0.2, 0.5, 0.3]]
    )
    y = np.array([2, 1, 1, 2, 0])
    bins = reliability_bins(p, y, n_bins=5)
    np.testing.assert_array_equal(bins.counts, [0, 0, 2, 1, 2])
    np.testing.assert_allclose(bins.accuracy[2:], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(bins.confidence[2:], [0.475, 0.7, 0.95])
    assert np.isnan(bins.accuracy[:2]).all() and np.isnan(bins.confidence[:2]).all()
    np.testing.assert_allclose(bins.edges, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert expected_calibration_error(p, y, n_bins=5) == pytest.approx(
        (2 * 0.45 + 0.3 + 2 * 0.025) / 5
    )
    assert maximum_calibration_error(p, y, n_bins=5) == pytest.approx(0.45)


def test_one_bin_gives_the_gap_between_mean_confidence_and_accuracy() -> None:
    p = np.array([[0.6, 0.4], [0.3, 0.7], [0.9, 0.1], [0.2, 0.8]])
    y = np.array([0, 0, 0, 1])  # argmax right for rows 0, 2, 3
    mean_confidence = (0.6 + 0.7 + 0.9 + 0.8) / 4
    assert expected_calibration_error(p, y, n_bins=1) == pytest.approx(abs(0.75 - mean_confidence))


def test_a_confidence_on_an_inner_edge_goes_to_the_lower_bin() -> None:
    p = np.array([[0.5, 0.5], [0.75, 0.25]])
    bins = reliability_bins(p, [0, 1], n_bins=4)
    np.testing.assert_array_equal(bins.counts, [0, 1, 1, 0])


def test_a_model_whose_labels_follow_its_probabilities_is_nearly_calibrated() -> None:
    rng = np.random.default_rng(0)
    p = scipy_softmax(rng.normal(scale=2.0, size=(40_000, 4)), axis=1)
    y_calibrated = _sample_labels(p, rng)
    y_overconfident = _sample_labels(scipy_softmax(np.log(p) / 3.0, axis=1), rng)
    assert expected_calibration_error(p, y_calibrated) < 0.01
    assert expected_calibration_error(p, y_overconfident) > 0.15


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    k=st.integers(2, 6),
    n_bins=st.integers(1, 20),
    scale=st.floats(0.0, 10.0),
)
def test_ece_is_between_zero_and_one_and_at_most_the_mce(seed, n, k, n_bins, scale) -> None:
    rng = np.random.default_rng(seed)
    p = scipy_softmax(rng.normal(scale=scale, size=(n, k)), axis=1)
    y = rng.integers(0, k, size=n)
    ece = expected_calibration_error(p, y, n_bins)
    mce = maximum_calibration_error(p, y, n_bins)
    assert 0.0 <= ece <= mce + 1e-12 <= 1.0 + 1e-12
    bins = reliability_bins(p, y, n_bins)
    assert bins.counts.sum() == n


# --- reliability curve against scikit-learn --------------------------------------------------


@pytest.mark.parametrize("n_bins", [1, 5, 10, 13])
def test_one_vs_rest_bins_match_sklearn_calibration_curve(n_bins: int) -> None:
    rng = np.random.default_rng(n_bins)
    positive = rng.beta(0.7, 0.7, size=500)
    positive[:20] = np.linspace(0, 1, 11).repeat(2)[:20]  # values on bin edges, 0 and 1
    p = np.stack([1 - positive, positive], axis=1)
    y = (rng.random(500) < positive**1.5).astype(int)
    prob_true, prob_pred = calibration_curve(y, positive, n_bins=n_bins, strategy="uniform")
    bins = reliability_bins(p, y, n_bins, class_index=1)
    used = bins.counts > 0
    np.testing.assert_allclose(bins.accuracy[used], prob_true, rtol=1e-12)
    np.testing.assert_allclose(bins.confidence[used], prob_pred, rtol=1e-12)


# --- temperature scaling ----------------------------------------------------------------------


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.0, 4.0])
def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_with(
    true_temperature: float,
) -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(20_000, 5))
    y = _sample_labels(scipy_softmax(logits / true_temperature, axis=1), rng)
    assert fit_temperature(logits, y) == pytest.approx(true_temperature, rel=0.05)


def test_fitted_temperature_is_a_minimum_of_the_nll_and_keeps_the_argmax() -> None:
    rng = np.random.default_rng(4)
    logits = rng.normal(scale=5.0, size=(500, 6))
    y = _sample_labels(scipy_softmax(logits / 2.5, axis=1), rng)
    t = fit_temperature(logits, y)

    def nll(temperature: float) -> float:
        scaled = torch.from_numpy(logits / temperature)
        return float(torch.nn.functional.cross_entropy(scaled, torch.from_numpy(y)))

    assert nll(t) < nll(t * 1.01) and nll(t) < nll(t / 1.01) and nll(t) < nll(1.0)
    np.testing.assert_array_equal(
        scipy_softmax(logits / t, axis=1).argmax(axis=1), logits.argmax(axis=1)
    )


def test_scaling_the_logits_scales_the_fitted_temperature() -> None:
    rng = np.random.default_rng(5)
    logits = rng.normal(scale=2.0, size=(400, 3))
    y = _sample_labels(scipy_softmax(logits, axis=1), rng)
    assert fit_temperature(3.0 * logits, y) == pytest.approx(
        3.0 * fit_temperature(logits, y), rel=1e-4
    )


def test_fit_temperature_is_deterministic_and_stops_at_a_bound_when_all_are_right() -> None:
    logits = np.array([[3.0, 0.0], [0.0, 2.0], [1.0, -1.0]])
    y = np.array([0, 1, 0])  # all right: the NLL keeps falling as T -> 0
    t = fit_temperature(logits, y, bounds=(0.1, 10.0))
    assert t == fit_temperature(logits, y, bounds=(0.1, 10.0))
    assert t == pytest.approx(0.1, rel=1e-3)


# --- errors -------------------------------------------------------------------------------------

GOOD_P = np.array([[0.7, 0.3], [0.4, 0.6]])
GOOD_Y = np.array([0, 1])


@pytest.mark.parametrize(
    ("probabilities", "labels", "error", "message"),
    [
        ([[0.7, 0.4], [0.4, 0.6]], GOOD_Y, ValueError, "row 0 sums to 1.1"),
        ([[2.0, -1.0], [0.4, 0.6]], GOOD_Y, ValueError, r"lie in \[0, 1\]"),
        ([[np.nan, 0.5], [0.4, 0.6]], GOOD_Y, ValueError, "finite"),
        ([0.7, 0.3], [0], ValueError, "must be 2-D"),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), ValueError, "at least one sample"),
        ([[1.0], [1.0]], GOOD_Y, ValueError, "two classes"),
        ([["a", "b"]], [0], TypeError, "real numbers"),
        (GOOD_P, [0, 2], ValueError, r"labels must lie in \[0, 2\); found 2"),
        (GOOD_P, [0, -1], ValueError, "found -1"),
        (GOOD_P, [0.0, 1.0], TypeError, "integer class indices"),
        (GOOD_P, [0, 1, 1], ValueError, r"shape \(2,\)"),
    ],
)
def test_bad_input_raises_a_clear_error(probabilities, labels, error, message) -> None:
    for measure in (
        expected_calibration_error,
        maximum_calibration_error,
        reliability_bins,
    ):
        with pytest.raises(error, match=message):
            measure(probabilities, labels)


def test_logits_passed_as_probabilities_are_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="pass softmax"):
        expected_calibration_error([[2.0, 1.0], [0.0, 3.0]], [0, 1])


@pytest.mark.parametrize(
    ("n_bins", "error"), [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_bad_n_bins_raises(n_bins, error) -> None:
    with pytest.raises(error, match="n_bins"):
        expected_calibration_error(GOOD_P, GOOD_Y, n_bins)


@pytest.mark.parametrize(
    ("class_index", "error"), [(2, ValueError), (-1, ValueError), (0.5, TypeError)]
)
def test_bad_class_index_raises(class_index, error) -> None:
    with pytest.raises(error, match="class_index"):
        reliability_bins(GOOD_P, GOOD_Y, class_index=class_index)


@pytest.mark.parametrize(
    ("logits", "labels", "kwargs", "message"),
    [
        ([[1.0, np.inf]], [0], {}, "finite"),
        ([1.0, 2.0], [0], {}, "2-D"),
        ([[1.0, 2.0]], [2], {}, "labels must lie"),
        ([[1.0, 2.0]], [0], {"bounds": (0.0, 10.0)}, "bounds"),
        ([[1.0, 2.0]], [0], {"bounds": (5.0, 1.0)}, "bounds"),
    ],
)
def test_fit_temperature_refuses_bad_input(logits, labels, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        fit_temperature(logits, labels, **kwargs)
