"""Accuracy against an mpmath reference on the adversarial suite (the small, fast version).

The full suite, with rows up to 1e5 long, runs in benchmarks/bench_softmax.py.
"""

import numpy as np
import pytest
import scipy.special

from softmax_lab import softmax
from softmax_lab.accuracy import adversarial_rows, compare, error_in_eps, exact_softmax

RESULTS = compare(
    {"ours": softmax, "scipy": lambda x: scipy.special.softmax(x, axis=-1)}, lengths=(10, 2000)
)


@pytest.mark.parametrize("case", RESULTS, ids=lambda c: f"{c['case']}-{c['n']}-{c['dtype']}")
def test_within_5_eps_for_moderate_spread_and_never_worse_than_scipy(case):
    if case["spread"] < 10:
        assert case["ours"] <= 5, case
    assert case["ours"] <= case["scipy"] + 1e-9, case


def test_the_reference_is_exact_on_a_hand_checked_case():
    # softmax([0, log 3]) = [1/4, 3/4] up to the rounding of log 3 itself
    x = np.array([0.0, np.log(3.0)])
    np.testing.assert_allclose(exact_softmax(x), [0.25, 0.75], rtol=1e-15)


def test_error_measure_detects_a_one_ulp_error():
    exact = np.array([0.5, 0.5])
    approx = np.nextafter(exact, 1.0)
    assert error_in_eps(approx, exact, np.float64) == pytest.approx(1.0)


def test_the_suite_has_the_five_cases():
    rows = adversarial_rows(100)
    assert set(rows) == {"normal", "wide", "near_uniform", "very_negative", "dominant"}
    assert rows["dominant"][0] == 40.0
