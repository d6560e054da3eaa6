"""Sparsemax, Gumbel sampling and ensemble combinations, checked against brute force, torch and hand values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize
from scipy.stats import chi2

from softmax_lab.alternatives import (
    ensemble_average_logits,
    ensemble_average_probabilities,
    ensemble_vote,
    gumbel_max_sample,
    gumbel_softmax,
    sparsemax,
    sparsemax_jvp,
)

vectors = st.integers(1, 8).flatmap(
    lambda n: arrays(np.float64, n, elements=st.floats(-20, 20, allow_nan=False))
)


def _projection_by_enumeration(x: np.ndarray) -> np.ndarray:
    """The closest simplex point, by trying every support set (independent of the sort trick).

    A support S with tau = (sum of x over S - 1) / |S| gives the projection when it meets the
    optimality (KKT) conditions: x_i > tau on S, x_j <= tau off S. (Comparing distances
    instead fails at the 1e-8 scale, where distances differ by less than their rounding.)
    """
    n = len(x)
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            chosen = list(support)
            tau = (x[chosen].sum() - 1) / size
            outside = np.ones(n, dtype=bool)
            outside[chosen] = False
            if np.all(x[chosen] - tau >= -1e-12) and np.all(x[outside] - tau <= 1e-12):
                p = np.zeros(n)
                p[chosen] = x[chosen] - tau
                return p
    raise AssertionError(f"no support meets the optimality conditions for {x}")


# --- sparsemax -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(vectors)
def test_sparsemax_is_the_euclidean_projection_onto_the_simplex(x):
    np.testing.assert_allclose(sparsemax(x), _projection_by_enumeration(x), atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_sparsemax_matches_a_numerical_optimiser(seed):
    x = np.random.default_rng(seed).normal(size=5)
    result = minimize(
        lambda p: np.sum((p - x) ** 2),
        np.full(5, 0.2),
        method="SLSQP",
        bounds=[(0, 1)] * 5,
        constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1}],
        options={"ftol": 1e-12},
    )
    np.testing.assert_allclose(sparsemax(x), result.x, atol=1e-5)


@settings(max_examples=150, deadline=None)
@given(vectors)
def test_sparsemax_satisfies_the_kkt_threshold_conditions(x):
    p = sparsemax(x)
    assert np.all(p >= 0)
    assert math.isclose(p.sum(), 1.0, abs_tol=1e-9)
    support = p > 0
    tau = x[support][0] - p[support][0]
    np.testing.assert_allclose(x[support] - p[support], tau, atol=1e-9)  # p = x - tau there
    assert np.all(x[~support] <= tau + 1e-9)  # and the rest lies below the threshold


def test_sparsemax_hand_values_and_exact_zeros():
    np.testing.assert_array_equal(sparsemax([2.0, 1.0, 0.1]), [1.0, 0.0, 0.0])
    p = sparsemax([0.8, 0.6, 0.1])  # tau = (0.8 + 0.6 - 1) / 2 = 0.2
    np.testing.assert_allclose(p, [0.6, 0.4, 0.0])
    assert p[2] == 0.0
    np.testing.assert_allclose(sparsemax([1.0, 1.0, 1.0, -1.0]), [1 / 3, 1 / 3, 1 / 3, 0.0])


@pytest.mark.parametrize("t", [-3.0, -1.0, -0.4, 0.0, 0.3, 1.0, 2.5])
def test_two_classes_give_a_clipped_line(t):
    """softmax([t, 0]) is sigmoid(t); sparsemax([t, 0]) is the 'hard sigmoid' clip((t + 1) / 2)."""
    first = min(max((t + 1) / 2, 0.0), 1.0)
    np.testing.assert_allclose(sparsemax([t, 0.0]), [first, 1 - first])


def test_temperature_limits_match_softmax_limits():
    x = np.array([1.0, 3.0, 2.0, -1.0])
    np.testing.assert_allclose(sparsemax(x / 1e6), np.full(4, 0.25), atol=1e-5)  # hot: uniform
    np.testing.assert_array_equal(sparsemax(x / 1e-3), [0.0, 1.0, 0.0, 0.0])  # cold: argmax
    assert np.allclose(torch.softmax(torch.tensor(x) / 1e-3, 0).numpy(), [0, 1, 0, 0])


def test_sparsemax_batches_axes_shift_and_dtypes():
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    by_row = np.stack([[sparsemax(row) for row in block] for block in x])
    np.testing.assert_allclose(sparsemax(x), by_row)
    np.testing.assert_allclose(
        sparsemax(x, axis=1), np.swapaxes(sparsemax(np.swapaxes(x, 1, 2)), 1, 2)
    )
    np.testing.assert_allclose(sparsemax(x + 1e4), sparsemax(x), atol=1e-9)
    assert sparsemax(x.astype(np.float32)).dtype == np.float32
    assert sparsemax(np.float16([1, 2])).dtype == np.float16
    assert sparsemax([1, 2, 3]).dtype == np.float64


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([1.0, np.nan], ValueError, "finite"),
        ([1.0, np.inf], ValueError, "finite"),
        (3.0, ValueError, "at least one dimension"),
        (np.zeros((2, 0)), ValueError, "at least one entry"),
        ([1j, 2.0], TypeError, "x must be real"),
    ],
)
def test_sparsemax_rejects_bad_input(bad, error, message):
    with pytest.raises(error, match=message):
        sparsemax(bad)


def test_sparsemax_jvp_matches_finite_differences_and_is_symmetric():
    rng = np.random.default_rng(1)
    for _ in range(20):
        x, v, u = rng.normal(size=(3, 6)) * 2
        eps = 1e-6
        numeric = (sparsemax(x + eps * v) - sparsemax(x - eps * v)) / (2 * eps)
        np.testing.assert_allclose(sparsemax_jvp(x, v), numeric, atol=1e-6)
        assert math.isclose(u @ sparsemax_jvp(x, v), v @ sparsemax_jvp(x, u), abs_tol=1e-12)
    np.testing.assert_allclose(sparsemax_jvp([0.8, 0.6, 0.1], [1.0, 0.0, 0.0]), [0.5, -0.5, 0.0])
    with pytest.raises(ValueError, match="does not broadcast"):
        sparsemax_jvp([1.0, 2.0], [1.0, 2.0, 3.0])


# --- Gumbel-max and Gumbel-softmax ------------------------------------------------------


def _chi_square_ok(counts: np.ndarray, probabilities: np.ndarray) -> bool:
    expected = counts.sum() * probabilities
    statistic = np.sum((counts - expected) ** 2 / expected)
    return statistic < chi2.ppf(0.999, len(counts) - 1)


def test_gumbel_max_frequencies_match_softmax():
    logits = np.array([1.5, 0.5, 0.0, -1.0])
    probabilities = torch.softmax(torch.tensor(logits), 0).numpy()
    samples = gumbel_max_sample(logits, np.random.default_rng(0), num_samples=50_000)
    assert samples.shape == (50_000,)
    assert _chi_square_ok(np.bincount(samples, minlength=4), probabilities)


def test_gumbel_max_batches_huge_logits_and_determinism():
    logits = np.array([[1000.0, 999.0], [0.0, 5.0]])
    samples = gumbel_max_sample(logits, np.random.default_rng(3), num_samples=7)
    assert samples.shape == (7, 2)
    np.testing.assert_array_equal(
        samples, gumbel_max_sample(logits, np.random.default_rng(3), num_samples=7)
    )
    assert gumbel_max_sample([0.0, 1.0], np.random.default_rng(0)).shape == ()
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        gumbel_max_sample([0.0, 1.0], 0)
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        gumbel_max_sample([0.0, 1.0], np.random.default_rng(0), num_samples=0)


def test_gumbel_softmax_is_softmax_of_noisy_logits():
    logits = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 3.0]])
    noise = np.random.default_rng(5).gumbel(size=logits.shape)
    expected = torch.softmax(torch.tensor((logits + noise) / 0.7), dim=-1).numpy()
    np.testing.assert_allclose(gumbel_softmax(logits, 0.7, np.random.default_rng(5)), expected)


def test_gumbel_softmax_seeded_sums_to_one_and_cools_to_one_hot():
    logits = np.random.default_rng(0).normal(size=(50, 5))
    a = gumbel_softmax(logits, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(a, gumbel_softmax(logits, 1.0, np.random.default_rng(1)))
    assert not np.array_equal(a, gumbel_softmax(logits, 1.0, np.random.default_rng(2)))
    np.testing.assert_allclose(a.sum(axis=-1), 1.0)
    largest = [
        gumbel_softmax(logits, t, np.random.default_rng(1)).max(-1).mean()
        for t in (5, 1, 0.1, 0.01)
    ]
    assert np.all(np.diff(largest) > 0) and largest[-1] > 0.99


def test_gumbel_softmax_hard_is_one_hot_at_the_relaxed_argmax():
    logits = np.random.default_rng(0).normal(size=(20, 4))
    soft = gumbel_softmax(logits, 0.5, np.random.default_rng(7))
    hard = gumbel_softmax(logits, 0.5, np.random.default_rng(7), hard=True)
    assert set(np.unique(hard)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(hard.argmax(-1), soft.argmax(-1))
    on_axis0 = gumbel_softmax(logits.T, 0.5, np.random.default_rng(7), hard=True, axis=0)
    np.testing.assert_array_equal(on_axis0.sum(axis=0), 1.0)


def test_gumbel_softmax_behaves_like_torch():
    """Same shapes, rows summing to 1, one-hot when hard, and argmax frequencies ~ softmax."""
    logits = np.array([1.0, 0.0, -0.5])
    torch.manual_seed(0)
    theirs = torch.nn.functional.gumbel_softmax(torch.tensor(logits).expand(20_000, 3), tau=0.5)
    ours = gumbel_softmax(np.broadcast_to(logits, (20_000, 3)), 0.5, np.random.default_rng(0))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.sum(-1), 1.0)
    probabilities = torch.softmax(torch.tensor(logits), 0).numpy()
    for samples in (ours.argmax(-1), theirs.argmax(-1).numpy()):
        assert _chi_square_ok(np.bincount(samples, minlength=3), probabilities)
    hard = torch.nn.functional.gumbel_softmax(torch.tensor(logits), tau=0.5, hard=True)
    assert sorted(hard.tolist()) == sorted(
        gumbel_softmax(logits, 0.5, np.random.default_rng(0), hard=True).tolist()
    )


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.inf, math.nan])
def test_gumbel_softmax_rejects_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        gumbel_softmax([1.0, 2.0], temperature, np.random.default_rng(0))


def test_gumbel_softmax_rejects_bad_rng_and_hard():
    with pytest.raises(TypeError, match="rng"):
        gumbel_softmax([1.0, 2.0], 1.0, np.random.RandomState(0))
    with pytest.raises(TypeError, match="hard"):
        gumbel_softmax([1.0, 2.0], 1.0, np.random.default_rng(0), hard="yes")


# --- ensembles -------------------------------------------------------------------------


def test_ensemble_combinations_hand_values():
    members = np.log(np.array([[[0.9, 0.1]], [[0.5, 0.5]]]))  # two members, one sample
    np.testing.assert_allclose(ensemble_average_probabilities(members), [[0.7, 0.3]])
    geometric = np.sqrt([0.9 * 0.5, 0.1 * 0.5])
    np.testing.assert_allclose(ensemble_average_logits(members), [geometric / geometric.sum()])
    votes = ensemble_vote([[[3.0, 1.0, 0.0]], [[0.0, 2.0, 1.0]], [[5.0, 0.0, 0.0]]])
    np.testing.assert_allclose(votes, [[2 / 3, 1 / 3, 0.0]])


def test_ensemble_average_logits_matches_torch_and_class_axis():
    members = np.random.default_rng(0).normal(size=(3, 4, 5))
    expected = torch.softmax(torch.tensor(members).mean(0), dim=-1).numpy()
    np.testing.assert_allclose(ensemble_average_logits(members), expected)
    swapped = np.swapaxes(members, 1, 2)
    np.testing.assert_allclose(
        ensemble_average_probabilities(swapped, axis=1).T, ensemble_average_probabilities(members)
    )


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, (3, 6, 4), elements=st.floats(-10, 10, allow_nan=False)),
    arrays(np.int64, 6, elements=st.integers(0, 3)),
)
def test_mixture_nll_is_at_most_the_members_mean_nll(logits, labels):
    """Jensen: -log(mean p) <= mean(-log p). Averaging probabilities never loses NLL on average."""
    p_members = torch.softmax(torch.tensor(logits), -1).numpy()[:, np.arange(6), labels]
    mixture = ensemble_average_probabilities(logits)[np.arange(6), labels]
    assert np.all(-np.log(mixture) <= -np.log(p_members).mean(0) + 1e-9)


@pytest.mark.parametrize(
    "combine", [ensemble_average_probabilities, ensemble_average_logits, ensemble_vote]
)
def test_ensembles_reject_bad_shapes(combine):
    with pytest.raises(ValueError, match="members"):
        combine([1.0, 2.0])
    with pytest.raises(ValueError, match="axis"):
        combine(np.zeros((2, 3)), axis=0)


# --- sparsemax in torch, the sparsemax loss, 1.5-entmax -------------------------------------


def test_sparsemax_torch_matches_numpy_and_its_gradient_is_the_jvp():
    from softmax_lab.alternatives import sparsemax_torch

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 7)) * 2
    xt = torch.tensor(x, requires_grad=True)
    p = sparsemax_torch(xt)
    assert np.allclose(p.detach().numpy(), sparsemax(x))
    v = rng.normal(size=(50, 7))
    (grad,) = torch.autograd.grad((p * torch.tensor(v)).sum(), xt)
    assert np.allclose(grad.numpy(), sparsemax_jvp(x, v))  # J is symmetric: vjp == jvp
    assert np.allclose(sparsemax_torch(torch.tensor(x.T), dim=0).numpy(), sparsemax(x).T)


def test_sparsemax_torch_rejects_bad_input():
    from softmax_lab.alternatives import sparsemax_torch

    with pytest.raises(TypeError, match="x must be a floating-point torch.Tensor"):
        sparsemax_torch(np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        sparsemax_torch(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="NaN or inf"):
        sparsemax_torch(torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="at least one entry"):
        sparsemax_torch(torch.zeros(0))


def _fenchel_young(z: np.ndarray, k: int) -> float:
    """The sparsemax loss as a Fenchel-Young loss: <z, p - y> - |p|^2/2 + |y|^2/2."""
    p = sparsemax(z)
    y = np.eye(len(z))[k]
    return float(z @ (p - y) - p @ p / 2 + 0.5)


def test_sparsemax_loss_hand_values_and_fenchel_young_form():
    from softmax_lab.alternatives import sparsemax_loss

    assert sparsemax_loss([0.8, 0.6, 0.1], 1) == pytest.approx(0.36)  # -0.6 + 0.46 + 0.5
    assert sparsemax_loss([2.0, 0.0, 0.0], 2) == pytest.approx(2.0)  # finite at p = 0
    rng = np.random.default_rng(4)
    z = rng.normal(size=(40, 6)) * 2
    k = rng.integers(0, 6, size=40)
    expected = [_fenchel_young(row, label) for row, label in zip(z, k, strict=True)]
    assert np.allclose(sparsemax_loss(z, k), expected)
    assert np.allclose(sparsemax_loss(z.T, k, axis=0), expected)


def test_sparsemax_loss_gradient_is_sparsemax_minus_one_hot():
    from softmax_lab.alternatives import sparsemax_loss

    rng = np.random.default_rng(5)
    for _ in range(20):
        z, k = rng.normal(size=5) * 2, int(rng.integers(0, 5))
        eps = 1e-6
        numeric = [
            (sparsemax_loss(z + eps * e, k) - sparsemax_loss(z - eps * e, k)) / (2 * eps)
            for e in np.eye(5)
        ]
        assert np.allclose(numeric, sparsemax(z) - np.eye(5)[k], atol=1e-5)


def test_sparsemax_loss_is_zero_exactly_with_a_margin_of_one():
    from softmax_lab.alternatives import sparsemax_loss

    rng = np.random.default_rng(6)
    z = rng.normal(size=(500, 5)) * 3
    k = rng.integers(0, 5, size=500)
    loss = sparsemax_loss(z, k)
    assert np.all(loss >= 0)
    others = np.where(np.eye(5)[k] == 1, -np.inf, z).max(axis=1)
    margin = z[np.arange(500), k] - others
    assert np.all(loss[margin >= 1 + 1e-9] == 0) and np.all(loss[margin < 1 - 1e-9] > 0)


def test_sparsemax_loss_rejects_bad_targets():
    from softmax_lab.alternatives import sparsemax_loss

    with pytest.raises(TypeError, match="target must hold integer class indices"):
        sparsemax_loss([1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="target must have shape"):
        sparsemax_loss([[1.0, 2.0]], [0, 1])
    with pytest.raises(ValueError, match="target must lie in 0..1"):
        sparsemax_loss([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="NaN or inf"):
        sparsemax_loss([1.0, np.inf], 0)


def _entmax_by_bisection(x: np.ndarray) -> np.ndarray:
    """1.5-entmax from its definition: bisection on tau until sum([x/2 - tau]_+^2) = 1."""
    u = x / 2
    low, high = u.max() - 1, u.max()  # the sum is >= 1 at low, 0 at high
    for _ in range(200):
        tau = (low + high) / 2
        if np.sum(np.maximum(u - tau, 0) ** 2) >= 1:
            low = tau
        else:
            high = tau
    return np.maximum(u - low, 0) ** 2


def test_entmax15_matches_bisection_and_a_hand_value():
    from softmax_lab.alternatives import entmax15

    rng = np.random.default_rng(7)
    for scale in (0.1, 1, 5):
        for row in rng.normal(size=(30, 6)) * scale:
            assert np.allclose(entmax15(row), _entmax_by_bisection(row), atol=1e-10)
    a = (0.5 + math.sqrt(0.25 + 7.5)) / 4  # (a)^2 + (a - 1/4)^2 = 1 for x = [1, 0.5, -1]
    assert np.allclose(entmax15([1.0, 0.5, -1.0]), [a**2, (a - 0.25) ** 2, 0])


def test_entmax15_properties_and_errors():
    from softmax_lab.alternatives import entmax15

    rng = np.random.default_rng(8)
    x = rng.normal(size=(20, 8)) * 3
    p = entmax15(x)
    assert np.allclose(p.sum(axis=1), 1) and np.all(p >= 0) and np.any(p == 0)
    assert np.allclose(entmax15(x + 100), p) and np.allclose(entmax15(x.T, axis=0), p.T)
    assert entmax15(np.float32([1, 2])).dtype == np.float32
    with pytest.raises(ValueError, match="NaN or inf"):
        entmax15([1.0, np.nan])
    with pytest.raises(ValueError, match="scalar"):
        entmax15(1.0)
