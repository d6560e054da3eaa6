"""Checkers for notebook 08 (softmax policies in reinforcement learning).

* :func:`check_boltzmann_probabilities` - action probabilities from values at a temperature;
* :func:`check_grad_log_probability` - the gradient of log pi(a) for a softmax policy,
  compared with ``torch.autograd``.

Examples
--------
>>> from softmax_lab import boltzmann_probabilities, grad_log_probability
>>> check_boltzmann_probabilities(boltzmann_probabilities).passed
True
>>> check_grad_log_probability(grad_log_probability).passed
True
>>> def stub(values, temperature):
...     raise NotImplementedError("your code here")
>>> print(check_boltzmann_probabilities(stub))  # doctest: +ELLIPSIS
Exercise 8.1 - Boltzmann action probabilities: not finished yet - ...
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import softmax as scipy_softmax

from . import Report, call, close_to, describe, exercise

__all__ = ["check_boltzmann_probabilities", "check_grad_log_probability"]


@exercise("Exercise 8.1 - Boltzmann action probabilities")
def check_boltzmann_probabilities(
    report: Report, candidate: Callable[[np.ndarray, float], np.ndarray]
) -> None:
    """Check ``candidate(values, temperature) -> probabilities`` over the last axis.

    Cases: a plain vector at T = 1 (against ``scipy.special.softmax``), a hot and a cold
    temperature, values large enough to overflow ``exp`` without the max shift, a tiny
    temperature that overflows even small values, and a batch of rows.
    """
    cases = [
        ("values [1, 2, 3] at temperature 1", np.array([1.0, 2.0, 3.0]), 1.0),
        ("a hot temperature (T = 100): nearly uniform", np.array([1.0, 2.0, 3.0]), 100.0),
        ("a cold temperature (T = 0.05): nearly greedy", np.array([1.0, 2.0, 3.0]), 0.05),
        ("large values [1000, 999, 0]", np.array([1000.0, 999.0, 0.0]), 1.0),
        ("small values at T = 0.001 (values / T = 2000)", np.array([2.0, 1.0, 0.5]), 0.001),
    ]
    for label, values, temperature in cases:
        expected = scipy_softmax(values / temperature)
        result = call(candidate, values.copy(), temperature)
        report.expect(
            close_to(result, expected, rtol=1e-6, atol=1e-8),
            f"{label} -> {np.round(expected, 4).tolist()}",
            hint=f"got {describe(result)}; divide by the temperature, then subtract the max before exp",
        )
    batch = np.array([[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]])
    result = call(candidate, batch.copy(), 0.5)
    report.expect(
        close_to(result, scipy_softmax(batch / 0.5, axis=-1), rtol=1e-6, atol=1e-8),
        "a batch of two rows: each row is its own distribution (softmax over the last axis)",
        hint=f"got {describe(result)}; use axis=-1 and keepdims=True for the max and the sum",
    )


def _autograd_grad(preferences: np.ndarray, action: int) -> np.ndarray:
    import torch  # imported here so the package does not need torch to import

    h = torch.tensor(preferences, dtype=torch.float64, requires_grad=True)
    torch.log_softmax(h, dim=-1)[action].backward()
    return h.grad.numpy()


@exercise("Exercise 8.2 - the gradient of log pi")
def check_grad_log_probability(
    report: Report, candidate: Callable[[np.ndarray, int], np.ndarray]
) -> None:
    """Check ``candidate(preferences, action) -> d log pi(action) / d preferences``.

    The reference is ``torch.autograd`` through ``torch.log_softmax``, on uniform,
    skewed and large preferences and on every action of a 4-action policy.
    """
    cases = [
        ("uniform preferences [0, 0, 0], action 1", np.zeros(3), 1),
        ("preferences [1, 2, 3], action 2 (the likeliest)", np.array([1.0, 2.0, 3.0]), 2),
        ("preferences [1, 2, 3], action 0 (the least likely)", np.array([1.0, 2.0, 3.0]), 0),
        (
            "large preferences [800, 0, -5, 799], action 3",
            np.array([800.0, 0.0, -5.0, 799.0]),
            3,
        ),
    ]
    for label, preferences, action in cases:
        expected = _autograd_grad(preferences, action)
        result = call(candidate, preferences.copy(), action)
        report.expect(
            close_to(result, expected, rtol=1e-6, atol=1e-10),
            f"{label} matches torch.autograd: {np.round(expected, 4).tolist()}",
            hint=f"got {describe(result)}; the gradient is one_hot(action) - softmax(preferences)",
        )
    rng = np.random.default_rng(8)
    preferences = rng.normal(size=4)
    grads = [call(candidate, preferences.copy(), a) for a in range(4)]
    report.expect(
        all(
            close_to(g, _autograd_grad(preferences, a), rtol=1e-6, atol=1e-8)
            and abs(float(np.sum(g))) < 1e-10
            for a, g in enumerate(grads)
        ),
        "random preferences, every action: correct, and each gradient sums to 0",
        hint="the one-hot sums to 1 and pi sums to 1, so their difference must sum to 0",
    )
