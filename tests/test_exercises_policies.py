"""Notebook 08's checkers accept the reference, reject known-wrong answers, and spot stubs."""

import numpy as np

from softmax_lab import boltzmann_probabilities, grad_log_probability, softmax
from softmax_lab.exercises.policies import check_boltzmann_probabilities, check_grad_log_probability
from tests.conftest import forgets_return, none_reported, stub, unfinished


def test_boltzmann_checker_accepts_the_reference_and_a_hand_written_one():
    assert check_boltzmann_probabilities(boltzmann_probabilities).passed

    def by_hand(values, temperature):
        z = values / temperature
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    assert check_boltzmann_probabilities(by_hand).passed


def test_boltzmann_checker_rejects_known_wrong_answers():
    def no_max_shift(values, temperature):
        e = np.exp(values / temperature)
        return e / e.sum(axis=-1, keepdims=True)

    def ignores_temperature(values, temperature):
        return softmax(values)

    def multiplies_by_temperature(values, temperature):
        return softmax(values * temperature)

    def sums_over_everything(values, temperature):
        z = values / temperature
        e = np.exp(z - z.max())
        return e / e.sum()

    for wrong in (
        no_max_shift,
        ignores_temperature,
        multiplies_by_temperature,
        sums_over_everything,
    ):
        with np.errstate(over="ignore", invalid="ignore"):
            report = check_boltzmann_probabilities(wrong)
        assert not report.passed, wrong.__name__
        assert "FAIL" in str(report)


def test_boltzmann_checker_reports_a_stub_as_unfinished():
    report = check_boltzmann_probabilities(stub)
    assert report.unfinished and not report.passed
    assert "not finished yet" in str(report)


def test_gradient_checker_accepts_the_reference():
    assert check_grad_log_probability(grad_log_probability).passed


def test_gradient_checker_rejects_known_wrong_answers():
    def wrong_sign(preferences, action):
        return -grad_log_probability(preferences, action)

    def overflows(preferences, action):
        e = np.exp(preferences)
        return np.eye(len(preferences))[action] - e / e.sum()

    def forgets_pi(preferences, action):
        return np.eye(len(preferences))[action]

    def returns_pi(preferences, action):
        return softmax(preferences)

    def raises(preferences, action):
        raise IndexError("oops")

    for wrong in (wrong_sign, overflows, forgets_pi, returns_pi, raises):
        with np.errstate(over="ignore", invalid="ignore"):
            report = check_grad_log_probability(wrong)
        assert not report.passed, wrong.__name__
        assert "FAIL" in str(report)


def test_overflow_is_caught_only_by_the_large_case():
    def overflows(preferences, action):
        e = np.exp(preferences)
        return np.eye(len(preferences))[action] - e / e.sum()

    with np.errstate(over="ignore", invalid="ignore"):
        report = check_grad_log_probability(overflows)
    failed = report.failures
    assert len(failed) == 1 and "large preferences" in failed[0]


def test_gradient_checker_reports_a_stub_as_unfinished_and_none_per_check():
    assert unfinished(check_grad_log_probability(stub))
    assert none_reported(check_grad_log_probability(forgets_return))
