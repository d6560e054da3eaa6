"""Valid but less common input to the public functions: accepted, with the usual result.

The counterpart of tests/test_bad_input.py. The bad-input audit (8537ed9) tightened the
checks; each row here is a valid form of an argument that it (or an earlier check) refused:
a 0-d torch tensor where a number is expected (a learned temperature), a 0-d integer array
where a count is (as ``range`` and ``operator.index`` take it), a NumPy array where a
sequence is. Each row calls the function with the uncommon form and with the plain Python
form and asserts the two results are equal. The last tests check that what is still
refused stays refused.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import softmax_lab as sl
from softmax_lab._shared import check_count, check_flag, check_positive_int, check_real

X2 = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]])
Q = np.random.default_rng(0).normal(size=(4, 3))
K = np.random.default_rng(1).normal(size=(6, 3))
V = np.random.default_rng(2).normal(size=(6, 2))
_Z = np.random.default_rng(3).normal(size=(60, 4)) * 2.0
_Y = np.random.default_rng(4).integers(0, 4, 60)
_XS = np.random.default_rng(5).normal(size=(12, 2))
_YS = np.arange(12) % 3


def rng():
    return np.random.default_rng(0)


def _tq():
    return torch.tensor(Q), torch.tensor(K), torch.tensor(V)


def _same(a, b):
    """Equal results: arrays, numbers, tuples of them, or dataclasses of them."""
    if isinstance(a, torch.Tensor):
        a, b = a.detach().numpy(), b.detach().numpy()
    if isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
        return
    if hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            _same(getattr(a, name), getattr(b, name))
        return
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _train_many(models, **kwargs):
    histories = sl.train_many(models, _XS, _YS, epochs=1, batch_size=4, **kwargs)
    return [h.train_loss for h in histories]


def _mlps():
    return [sl.make_mlp(2, 4, 3, seed=s) for s in range(2)]


# (id, call with the uncommon valid form, call with the plain form)
VALID = [
    # a 0-d torch tensor is one real number (float() takes it), e.g. a learned temperature
    (
        "softmax temperature tensor",
        lambda: sl.softmax(X2, temperature=torch.tensor(2.0)),
        lambda: sl.softmax(X2, temperature=2.0),
    ),
    (
        "log_softmax temperature tensor requiring grad",
        lambda: sl.log_softmax(X2, temperature=torch.tensor(0.5, requires_grad=True)),
        lambda: sl.log_softmax(X2, temperature=0.5),
    ),
    (
        "boltzmann temperature tensor",
        lambda: sl.boltzmann_probabilities(X2, torch.tensor(2.0)),
        lambda: sl.boltzmann_probabilities(X2, 2.0),
    ),
    (
        "gumbel_softmax temperature tensor",
        lambda: sl.gumbel_softmax(X2, torch.tensor(0.5), rng()),
        lambda: sl.gumbel_softmax(X2, 0.5, rng()),
    ),
    (
        "cross_entropy label_smoothing tensor",
        lambda: sl.cross_entropy(X2, [2, 0], label_smoothing=torch.tensor(0.25)),
        lambda: sl.cross_entropy(X2, [2, 0], label_smoothing=0.25),
    ),
    (
        "sdpa scale tensor",
        lambda: sl.scaled_dot_product_attention(Q, K, V, scale=torch.tensor(0.5)),
        lambda: sl.scaled_dot_product_attention(Q, K, V, scale=0.5),
    ),
    (
        "torch_attention scale tensor",
        lambda: sl.torch_attention_with_weights(*_tq(), scale=torch.tensor(0.5)),
        lambda: sl.torch_attention_with_weights(*_tq(), scale=0.5),
    ),
    (
        "flash_attention_forward scale tensor",
        lambda: sl.flash_attention_forward(Q, K, V, scale=torch.tensor(0.5), block_q=2, block_k=2),
        lambda: sl.flash_attention_forward(Q, K, V, scale=0.5, block_q=2, block_k=2),
    ),
    (
        "train lr tensor",
        lambda: sl.train(sl.make_mlp(2, 4, 3), _XS, _YS, epochs=1, lr=torch.tensor(0.01)),
        lambda: sl.train(sl.make_mlp(2, 4, 3), _XS, _YS, epochs=1, lr=0.01),
    ),
    # a 0-d boolean tensor is a flag, as a 0-d boolean array already was
    (
        "sdpa is_causal tensor",
        lambda: sl.scaled_dot_product_attention(Q, K, V, is_causal=torch.tensor(True)),
        lambda: sl.scaled_dot_product_attention(Q, K, V, is_causal=True),
    ),
    (
        "torch_attention is_causal tensor",
        lambda: sl.torch_attention_with_weights(*_tq(), is_causal=torch.tensor(True)),
        lambda: sl.torch_attention_with_weights(*_tq(), is_causal=True),
    ),
    # a 0-d integer array (or tensor) is an int, as operator.index and range take it
    ("causal_mask n 0-d", lambda: sl.causal_mask(np.asarray(4)), lambda: sl.causal_mask(4)),
    (
        "padding_mask n tensor",
        lambda: sl.padding_mask([1, 3], torch.tensor(4)),
        lambda: sl.padding_mask([1, 3], 4),
    ),
    (
        "ece n_bins 0-d",
        lambda: sl.expected_calibration_error(sl.softmax(_Z), _Y, n_bins=np.asarray(5)),
        lambda: sl.expected_calibration_error(sl.softmax(_Z), _Y, n_bins=5),
    ),
    (
        "run_bandit runs and seed 0-d",
        lambda: sl.run_bandit("softmax", runs=np.asarray(3), steps=5, seed=np.asarray(2)),
        lambda: sl.run_bandit("softmax", runs=3, steps=5, seed=2),
    ),
    (
        "online_softmax chunk_size 0-d",
        lambda: sl.online_softmax(X2, np.asarray(2)),
        lambda: sl.online_softmax(X2, 2),
    ),
    (
        "flash_attention_forward blocks 0-d",
        lambda: sl.flash_attention_forward(Q, K, V, block_q=np.asarray(2), block_k=np.asarray(3)),
        lambda: sl.flash_attention_forward(Q, K, V, block_q=2, block_k=3),
    ),
    (
        "gumbel_max_sample num_samples 0-d",
        lambda: sl.gumbel_max_sample(X2[0], rng(), num_samples=np.asarray(3)),
        lambda: sl.gumbel_max_sample(X2[0], rng(), num_samples=3),
    ),
    (
        "holdout_split seed 0-d",
        lambda: sl.holdout_split(
            np.arange(20.0).reshape(10, 2), np.arange(10) % 2, 0.2, seed=np.asarray(1)
        ),
        lambda: sl.holdout_split(np.arange(20.0).reshape(10, 2), np.arange(10) % 2, 0.2, seed=1),
    ),
    (
        "make_mlp seed 0-d",
        lambda: list(sl.make_mlp(seed=np.asarray(1)).parameters()),
        lambda: list(sl.make_mlp(seed=1).parameters()),
    ),
    (
        "GridWorld.step action 0-d",
        lambda: (env := sl.GridWorld(), env.reset(seed=0), env.step(np.asarray(1)))[2],
        lambda: (env := sl.GridWorld(), env.reset(seed=0), env.step(1))[2],
    ),
    (
        "soft_value_iteration alpha 0-d zero",
        lambda: sl.soft_value_iteration(
            *sl.transition_model(sl.GridWorld())[:2],
            gamma=0.9,
            alpha=np.asarray(0.0),
            terminal=sl.transition_model(sl.GridWorld())[2],
        ),
        lambda: sl.soft_value_iteration(
            *sl.transition_model(sl.GridWorld())[:2],
            gamma=0.9,
            alpha=0,
            terminal=sl.transition_model(sl.GridWorld())[2],
        ),
    ),
    # a 1-D NumPy array where a short sequence is expected
    (
        "fit_temperature bounds array",
        lambda: sl.fit_temperature(_Z, _Y, bounds=np.array([0.05, 20.0])),
        lambda: sl.fit_temperature(_Z, _Y, bounds=(0.05, 20.0)),
    ),
    (
        "load_iris_split features array",
        lambda: sl.load_iris_split(features=np.array([2, 3])).x_train,
        lambda: sl.load_iris_split(features=(2, 3)).x_train,
    ),
    (
        "GridWorld layout array of rows",
        lambda: sl.GridWorld(np.array(["S..", "..G"])).layout,
        lambda: sl.GridWorld(("S..", "..G")).layout,
    ),
    (
        "train_many seeds array",
        lambda: _train_many(_mlps(), seeds=np.arange(2)),
        lambda: _train_many(_mlps(), seeds=[0, 1]),
    ),
    # an axis as NumPy takes it: a NumPy integer or a 0-d integer array
    (
        "softmax axis 0-d array",
        lambda: sl.softmax(X2, axis=np.asarray(0)),
        lambda: sl.softmax(X2, axis=0),
    ),
    (
        "logsumexp axes tuple of NumPy integers",
        lambda: sl.logsumexp(X2, axis=(np.int64(0), np.asarray(1))),
        lambda: sl.logsumexp(X2, axis=(0, 1)),
    ),
    (
        "softmax_jacobian axis 0-d array",
        lambda: sl.softmax_jacobian(X2, axis=np.asarray(-1)),
        lambda: sl.softmax_jacobian(X2, axis=-1),
    ),
    # no sequences at all: an empty list, as an empty integer array
    (
        "padding_mask empty list",
        lambda: sl.padding_mask([], 4),
        lambda: sl.padding_mask(np.array([], dtype=int), 4),
    ),
    # torch's own container of models, and a generator of models
    (
        "train_many ModuleList",
        lambda: _train_many(torch.nn.ModuleList(_mlps())),
        lambda: _train_many(_mlps()),
    ),
    (
        "train_many generator",
        lambda: _train_many(sl.make_mlp(2, 4, 3, seed=s) for s in range(2)),
        lambda: _train_many(_mlps()),
    ),
]


@pytest.mark.parametrize(
    ("uncommon", "plain"), [row[1:] for row in VALID], ids=[row[0] for row in VALID]
)
def test_valid_input_is_accepted_with_the_plain_result(uncommon, plain):
    _same(uncommon(), plain())


def test_the_layout_rows_are_python_strings():
    assert sl.GridWorld(np.array(["S..", "..G"])).layout == ("S..", "..G")


def test_what_is_not_one_number_or_one_int_is_still_refused():
    from softmax_lab._shared import as_int

    for value in (torch.tensor([1.0, 2.0]), torch.tensor(True), torch.tensor(1j), np.asarray(True)):
        with pytest.raises(TypeError, match="scale must be"):
            check_real(value, "scale")
    for value in (
        np.asarray(3.0),
        torch.tensor(3.0),
        np.asarray(True),
        torch.tensor(True),
        np.array([3]),
        3.0,
        np.bool_(True),
    ):
        assert as_int(value) is None
        with pytest.raises(TypeError, match="n must be an int >= 1"):
            check_positive_int(value, "n")
        with pytest.raises(TypeError, match="n must be an int >= 0"):
            check_count(value, "n")
    with pytest.raises(ValueError, match="n must be an int >= 1; got 0"):
        check_positive_int(np.asarray(0), "n")
    for value in (torch.tensor(1), torch.tensor([True]), np.asarray(1)):
        with pytest.raises(TypeError, match="hard must be True or False"):
            check_flag(value, "hard")


def test_an_axis_that_is_not_one_integer_is_still_refused():
    for axis in (True, 1.0, np.asarray([0]), np.asarray(0.0), "0", (0, True)):
        with pytest.raises(TypeError, match="axis must be an int"):
            sl.softmax(X2, axis=axis)


def test_one_model_alone_is_refused_by_train_many():
    # an nn.Sequential iterates over its layers: it must not be taken for several models
    with pytest.raises(TypeError, match=r"models must be a non-empty sequence.*pass \[model\]"):
        sl.train_many(sl.make_mlp(2, 4, 3), _XS, _YS, epochs=1)


def test_arrays_of_the_wrong_kind_are_still_refused():
    with pytest.raises(TypeError, match="features must hold int column indices"):
        sl.load_iris_split(features=np.array([2.0, 3.0]))
    with pytest.raises(TypeError, match="each of seeds must be an int >= 0"):
        sl.train_many(_mlps(), _XS, _YS, epochs=1, seeds=np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="bounds must be a pair"):
        sl.fit_temperature(_Z, _Y, bounds=np.array([0.05, 1.0, 20.0]))
    with pytest.raises(TypeError, match="layout must be a sequence of row strings"):
        sl.GridWorld(np.array([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="action must be an int in 0..3"):
        env = sl.GridWorld()
        env.reset(seed=0)
        env.step(np.asarray(1.0))


# The exercise checkers: correct answers in less common but valid forms pass.


def _merge_in_torch(m_a, d_a, m_b, d_b):
    """A correct 10.1 answer in torch whose tensors require grad (a NamedTuple of them)."""
    values = (m_a, d_a, m_b, d_b)
    m_a, d_a, m_b, d_b = (
        torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in values
    )
    m = torch.maximum(m_a, m_b)
    if torch.isinf(m) and m < 0:
        return sl.NormaliserState(m, d_a + d_b)
    return sl.NormaliserState(m, d_a * torch.exp(m_a - m) + d_b * torch.exp(m_b - m))


def test_a_correct_torch_answer_that_requires_grad_passes():
    from softmax_lab.exercises.scale import check_merge_states

    report = check_merge_states(_merge_in_torch)  # raised RuntimeError (numpy() of a grad tensor)
    assert report.passed, str(report)


def test_results_holding_tensors_are_read_as_numbers():
    from softmax_lab.exercises import as_floats, as_number, describe

    with_grad = [torch.tensor(0.25, requires_grad=True) * 2, torch.tensor(0.5)]
    np.testing.assert_array_equal(as_floats(with_grad), [0.5, 0.5])
    assert describe(with_grad).startswith("[tensor(0.5")
    half = torch.tensor([0.5, 0.25], dtype=torch.bfloat16)  # NumPy has no bfloat16
    np.testing.assert_array_equal(as_floats(half), [0.5, 0.25])
    assert as_number(torch.tensor(0.75, dtype=torch.bfloat16)) == 0.75
    assert as_floats([torch.tensor(1j), 0.5]) is None  # complex stays refused
    assert "complex" in describe([torch.tensor(1j), 0.5])


def test_a_0d_boolean_array_answers_the_distribution_check():
    from softmax_lab.exercises.numpy_softmax import check_is_distribution

    def as_0d(p, axis=-1):
        p = np.asarray(p)
        ok = np.all((p >= 0) & (p <= 1)) & np.all(np.abs(p.sum(axis=axis) - 1) <= 1e-5)
        return np.asarray(ok)  # array(True): one answer, as check_flag takes it

    assert check_is_distribution(as_0d).passed, str(check_is_distribution(as_0d))
    one_per_row = check_is_distribution(lambda p, axis=-1: np.asarray([as_0d(p, axis)]))
    assert not one_per_row.passed  # a 1-element array is not True or False
    assert not check_is_distribution(lambda p, axis=-1: int(as_0d(p, axis))).passed


# Probabilities stored in float32 or float16 sum to 1 only as well as those dtypes can.


def _softmax_rows(n, dtype, rows=4):
    scores = torch.tensor(np.random.default_rng(6).normal(size=(rows, n)) * 3.0)
    return torch.softmax(scores.to(dtype), dim=-1)


def test_float32_and_float16_probabilities_are_distributions():
    vocab = _softmax_rows(200_000, torch.float32)  # rows sum to 1 within about 8e-6
    assert float((vocab.double().sum(-1) - 1).abs().max()) > 1e-6  # beyond float64's tolerance
    assert sl.sample_actions(vocab, rng()).shape == (4,)
    assert sl.policy_entropy(vocab).shape == (4,)
    half = _softmax_rows(10, torch.float16).numpy()  # rows sum to 1 within about 5e-4
    assert np.abs(half.astype(np.float64).sum(-1) - 1).max() > 1e-4
    assert sl.policy_entropy(half).shape == (4,)
    assert 0.0 <= sl.expected_calibration_error(half, [0, 1, 2, 3]) <= 1.0


def test_rows_that_do_not_sum_to_one_are_still_refused_in_every_dtype():
    for dtype, row in ((np.float32, [0.5, 0.5 + 1e-3]), (np.float16, [0.5, 0.53])):
        p = np.array([row, [0.5, 0.5]], dtype=dtype)
        with pytest.raises(ValueError, match="each row of probabilities must sum to 1; row 0"):
            sl.policy_entropy(p)
        with pytest.raises(ValueError, match="each row of probabilities must sum to 1; row 0"):
            sl.expected_calibration_error(p, [0, 1])
    with pytest.raises(ValueError, match=r"^probabilities must sum to 1; it sums to 1\.1 "):
        sl.sample_actions([0.5, 0.6], rng())  # one distribution: no 'row ()'


def test_launch_takes_a_numpy_float_timeout():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    loss, _ = sl.parallel_cross_entropy(logits, [0, 2], 1, timeout=np.float32(60.0))
    np.testing.assert_allclose(loss, sl.cross_entropy(logits, [0, 2]), rtol=1e-12)
    with pytest.raises(TypeError, match=r"timeout \(seconds\) must be a finite number > 0"):
        sl.launch(sl.attention_worker, 1, timeout=True)  # True was taken as 1 second


@pytest.mark.parametrize("target", [[], np.array([], dtype=int)], ids=["list", "array"])
def test_an_empty_batch_gives_torchs_nan_loss_and_zero_gradients(target):
    hidden, weight = np.zeros((0, 3)), np.random.default_rng(0).normal(size=(5, 3))
    loss, grad_hidden, grad_weight = sl.chunked_linear_cross_entropy(
        hidden, weight, target, chunk_size=2
    )
    h = torch.tensor(hidden, requires_grad=True)
    w = torch.tensor(weight, requires_grad=True)
    reference = torch.nn.functional.cross_entropy(h @ w.T, torch.zeros(0, dtype=torch.long))
    reference.backward()
    assert np.isnan(loss) and torch.isnan(reference)
    assert grad_hidden.shape == (0, 3) and np.array_equal(grad_weight, w.grad.numpy())
