"""Accuracy against an mpmath reference on the adversarial suite (the small, fast version).

The full suite, with rows up to 1e5 long, runs in benchmarks/bench_softmax.py.
"""

import numpy as np
import pytest
import scipy.special

from softmax_lab import softmax
from softmax_lab.numerical_error import adversarial_rows, compare, error_in_eps, exact_softmax

RESULTS = compare(
    {"ours": softmax, "scipy": lambda x: scipy.special.softmax(x, axis=-1)}, lengths=(10, 2000)
)


@pytest.mark.parametrize("case", RESULTS, ids=lambda c: f"{c['case']}-{c['n']}-{c['dtype']}")
def test_within_5_eps_for_moderate_spread_and_never_worse_than_scipy(case):
    if case["spread"] < 10:
        assert case["ours"] <= 5, case
    # half an eps of slack: on a 10-entry row which rounding lands nearer is luck
    assert case["ours"] <= case["scipy"] + 0.5, case


def test_skipping_the_shift_where_it_is_safe_removes_its_rounding_error():
    # a dominant entry 40 above the rest: shifting costs scipy ~16 eps (float64)
    dominant = [case for case in RESULTS if case["case"] == "dominant"]
    for case in dominant:
        assert case["ours"] <= 3, case
        assert case["scipy"] >= 8, case  # the effect is real, not a weak reference


def test_rows_beyond_the_safe_range_still_use_the_shift():
    big = np.array([800.0, 799.0, -5.0])  # exp(800) overflows float64
    np.testing.assert_allclose(softmax(big), exact_softmax(big), rtol=1e-15)
    tiny = np.array([-800.0, -801.0])  # exp(-800) is below the smallest float64
    np.testing.assert_allclose(softmax(tiny), exact_softmax(tiny), rtol=1e-15)


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
