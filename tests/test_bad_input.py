"""Bad input to the public functions: a clear error that names the argument, never a number.

One table per module. Each row is a call with one bad argument, the error type it must
raise and a regular expression that names the argument (and, where it helps, what was
expected). The cases come from an audit of every public function with wrong types, NaN
and inf, out-of-range numbers, wrong shapes and ragged lists; each passed silently or
failed with an error that did not name the argument before it was fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import softmax_lab as sl

NAN, INF = float("nan"), float("inf")
X2 = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]])
X1 = np.array([1.0, 2.0, 0.5])
RAGGED = [[1.0, 2.0], [3.0]]
PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
LABELS = np.array([0, 1, 1, 2])
Q = np.random.default_rng(0).normal(size=(4, 3))
K = np.random.default_rng(1).normal(size=(6, 3))
V = np.random.default_rng(2).normal(size=(6, 2))


def rng():
    return np.random.default_rng(0)


def _ids(table):
    return [row[0] for row in table]


def _check(call, error, match):
    with pytest.raises(error, match=match):
        call()


GRADIENTS = [
    ("jvp v scalar broadcasts", None, None),  # see test_a_scalar_tangent_broadcasts
    (
        "cross_entropy 0 classes",
        lambda: sl.cross_entropy(np.zeros((2, 0)), np.array([0, 0])),
        (ValueError, "logits must hold at least one class"),
    ),
    (
        "cross_entropy ragged target",
        lambda: sl.cross_entropy(X2, RAGGED),
        (ValueError, "target must be a rectangular array"),
    ),
    (
        "cross_entropy label_smoothing bool",
        lambda: sl.cross_entropy(X2, [2, 0], label_smoothing=True),
        (TypeError, "label_smoothing must be a number in \\[0, 1\\]"),
    ),
    (
        "cross_entropy_grad label_smoothing str",
        lambda: sl.cross_entropy_grad(X2, [2, 0], label_smoothing="0.1"),
        (TypeError, "label_smoothing"),
    ),
]


def test_a_scalar_tangent_broadcasts_against_x():
    # J (c 1) = 0 for every c: a softmax does not change when all scores move together
    for product in (sl.softmax_jvp, sl.softmax_vjp):
        result = product(X2, 1.5)
        assert result.shape == X2.shape
        np.testing.assert_allclose(result, 0.0, atol=1e-15)
    np.testing.assert_allclose(sl.softmax_jvp(X2, 2.0), sl.softmax_jvp(X2, np.full(X2.shape, 2.0)))


CALIBRATION = [
    (
        "ece ragged probabilities",
        lambda: sl.expected_calibration_error(RAGGED, LABELS),
        (ValueError, "probabilities must be a rectangular array"),
    ),
    (
        "mce ragged labels",
        lambda: sl.maximum_calibration_error(PROBS, [[0, 1], [1]]),
        (ValueError, "labels must be a rectangular array"),
    ),
    (
        "fit_temperature ragged logits",
        lambda: sl.fit_temperature(RAGGED, [0, 1]),
        (ValueError, "logits must be a rectangular array"),
    ),
    (
        "fit_temperature bounds None",
        lambda: sl.fit_temperature(np.log(PROBS), LABELS, bounds=None),
        (TypeError, "bounds must be a pair"),
    ),
    (
        "fit_temperature bounds of one",
        lambda: sl.fit_temperature(np.log(PROBS), LABELS, bounds=(1.0,)),
        (TypeError, "bounds must be a pair"),
    ),
    (
        "fit_temperature bounds str",
        lambda: sl.fit_temperature(np.log(PROBS), LABELS, bounds=("a", "b")),
        (TypeError, "bounds must be a finite number > 0"),
    ),
]

ATTENTION = [
    (
        "padding_mask ragged lengths",
        lambda: sl.padding_mask([[1, 2], [3]], 3),
        (ValueError, "lengths must be a rectangular array"),
    ),
    *[
        (
            f"{name} scale {label}",
            (lambda f=f, s=s: f(s)),
            (error, "scale must be a finite real number"),
        )
        for name, f in [
            ("attention_weights", lambda s: sl.attention_weights(Q, K, scale=s)),
            ("sdpa", lambda s: sl.scaled_dot_product_attention(Q, K, V, scale=s)),
            ("tiled", lambda s: sl.tiled_attention(Q, K, V, scale=s, tile_size=2)),
            (
                "flash_forward",
                lambda s: sl.flash_attention_forward(Q, K, V, scale=s, block_q=2, block_k=2),
            ),
            (
                "torch",
                lambda s: sl.torch_attention_with_weights(
                    torch.tensor(Q), torch.tensor(K), torch.tensor(V), scale=s
                ),
            ),
        ]
        for label, s, error in [
            ("nan", NAN, ValueError),
            ("inf", INF, ValueError),
            ("str", "1", TypeError),
            ("bool", True, TypeError),
            ("array", np.array([1.0, 2.0]), TypeError),
            ("complex", 1j, TypeError),
        ]
    ],
    *[
        (
            f"{name} is_causal {label}",
            (lambda f=f, c=c: f(c)),
            (TypeError, "is_causal must be True or False"),
        )
        for name, f in [
            ("attention_weights", lambda c: sl.attention_weights(Q, K, is_causal=c)),
            ("tiled", lambda c: sl.tiled_attention(Q, K, V, is_causal=c, tile_size=2)),
            (
                "flash_forward",
                lambda c: sl.flash_attention_forward(Q, K, V, is_causal=c, block_q=2, block_k=2),
            ),
            (
                "torch",
                lambda c: sl.torch_attention_with_weights(
                    torch.tensor(Q), torch.tensor(K), torch.tensor(V), is_causal=c
                ),
            ),
        ]
        for label, c in [("str", "yes"), ("int", 2), ("None", None)]
    ],
    (
        "torch float32 key with float64 query",
        lambda: sl.torch_attention_with_weights(
            torch.tensor(Q), torch.tensor(K, dtype=torch.float32), torch.tensor(V)
        ),
        (TypeError, "key must have query's dtype"),
    ),
    (
        "torch integer query",
        lambda: sl.torch_attention_with_weights(
            torch.ones(4, 3, dtype=torch.long), torch.tensor(K), torch.tensor(V)
        ),
        (TypeError, "query must be a floating-point torch.Tensor"),
    ),
    (
        "torch NumPy value",
        lambda: sl.torch_attention_with_weights(torch.tensor(Q), torch.tensor(K), V),
        (TypeError, "value must be a floating-point torch.Tensor"),
    ),
    (
        "torch integer 0/1 mask",
        lambda: sl.torch_attention_with_weights(
            torch.tensor(Q), torch.tensor(K), torch.tensor(V), torch.ones(4, 6, dtype=torch.long)
        ),
        (TypeError, "attn_mask must be a torch.Tensor, boolean"),
    ),
]


def test_a_float_mask_of_querys_dtype_is_still_added():
    q, k, v = (torch.tensor(a) for a in (Q, K, V))
    bias = torch.zeros(4, 6, dtype=torch.float64)
    bias[:, 0] = -torch.inf
    _, weights = sl.torch_attention_with_weights(q, k, v, bias)
    assert torch.all(weights[:, 0] == 0) and torch.allclose(
        weights.sum(-1), torch.ones(4, dtype=torch.float64)
    )


POLICIES = [
    *[
        (f"{name} str values", f, (TypeError, f"{arg} must be an array of real numbers"))
        for name, arg, f in [
            ("boltzmann", "values", lambda: sl.boltzmann_probabilities(["a", "b"])),
            ("greedy", "values", lambda: sl.greedy_probabilities({"a": 1})),
            ("epsilon_greedy", "values", lambda: sl.epsilon_greedy_probabilities("ab", 0.1)),
            ("log_probability", "preferences", lambda: sl.log_probability(["a"], 0)),
            ("discounted_returns", "rewards", lambda: sl.discounted_returns(["a", "b"])),
        ]
    ],
    (
        "boltzmann complex values",
        lambda: sl.boltzmann_probabilities(np.array([1 + 1j, 2.0])),
        (TypeError, "values must be real"),
    ),
    (
        "grad_log_probability ragged preferences",
        lambda: sl.grad_log_probability(RAGGED, 0),
        (ValueError, "preferences must be a rectangular array"),
    ),
    (
        "boltzmann temperature str",
        lambda: sl.boltzmann_probabilities(X1, "2"),
        (TypeError, "temperature must be a real number"),
    ),
    (
        "boltzmann temperature bool",
        lambda: sl.boltzmann_probabilities(X1, True),
        (TypeError, "temperature must be a real number"),
    ),
    *[
        (f"{name} {label}", f, (ValueError, "probabilities"))
        for name, g in [
            ("policy_entropy", lambda p: sl.policy_entropy(p)),
            ("sample_actions", lambda p: sl.sample_actions(p, rng())),
        ]
        for label, f in [
            ("not summing to 1", lambda g=g: g([0.1, 0.25, 0.15])),
            ("negative", lambda g=g: g([1.5, -0.5, 0.0])),
            ("NaN", lambda g=g: g([NAN, 0.5, 0.5])),
            ("logits", lambda g=g: g(X1)),
        ]
    ],
    (
        "epsilon bool",
        lambda: sl.epsilon_greedy_probabilities(X1, True),
        (TypeError, "epsilon must be a number in \\[0, 1\\]"),
    ),
    (
        "epsilon None",
        lambda: sl.epsilon_greedy_probabilities(X1, None),
        (TypeError, "epsilon must be"),
    ),
    (
        "gamma bool",
        lambda: sl.discounted_returns(X1, True),
        (TypeError, "gamma must be a number in \\[0, 1\\]"),
    ),
    ("gamma list", lambda: sl.discounted_returns(X1, [0.9]), (TypeError, "gamma must be")),
]

TABLE = np.zeros((2, 3))
REINFORCE = dict(states=[0, 1], actions=[1, 2], returns=[1.0, 2.0], learning_rate=0.1)


def reinforce(**changes):
    return lambda: sl.reinforce_update(TABLE, **{**REINFORCE, **changes})


POLICIES += [
    (
        "reinforce one action for two states",
        reinforce(actions=[1]),
        (ValueError, "actions must have one entry per step"),
    ),
    (
        "reinforce float actions",
        reinforce(actions=[1.0, 2.0]),
        (TypeError, "actions must hold integer action indices"),
    ),
    (
        "reinforce action out of range",
        reinforce(actions=[0, 3]),
        (ValueError, "actions must be in"),
    ),
    (
        "reinforce states longer",
        reinforce(states=[0, 1, 1]),
        (ValueError, "actions must have one entry per step, shape \\(3,\\) as states"),
    ),
    ("reinforce baselines None", reinforce(baselines=None), (TypeError, "baselines")),
    (
        "reinforce baselines wrong length",
        reinforce(baselines=[1.0, 2.0, 3.0]),
        (ValueError, "baselines must be a number or one per step"),
    ),
    *[
        (
            f"reinforce learning_rate {label}",
            reinforce(learning_rate=value),
            (error, "learning_rate"),
        )
        for label, value, error in [
            ("complex", 1j, TypeError),
            ("bool", True, TypeError),
            ("list", [0.1], TypeError),
            ("str", "0.1", TypeError),
            ("nan", NAN, ValueError),
            ("inf", INF, ValueError),
        ]
    ],
    *[
        (
            f"reinforce entropy_bonus {label}",
            reinforce(entropy_bonus=value),
            (error, "entropy_bonus"),
        )
        for label, value, error in [
            ("nan", NAN, ValueError),
            ("inf", INF, ValueError),
            ("bool", True, TypeError),
            ("None", None, TypeError),
        ]
    ],
]

BANDITS_GRIDWORLD = [
    *[
        (
            f"run_bandit {arg}={value!r}",
            (
                lambda arg=arg, value=value: sl.run_bandit(
                    "softmax", runs=2, steps=3, **{arg: value}
                )
            ),
            (error, arg),
        )
        for arg, value, error in [
            ("epsilon", True, TypeError),
            ("epsilon", "0.1", TypeError),
            ("temperature", "1", TypeError),
            ("step_size", None, TypeError),
            ("true_mean", NAN, ValueError),
            ("true_mean", INF, ValueError),
            ("true_mean", [1.0], TypeError),
            ("baseline", "yes", TypeError),
            ("baseline", None, TypeError),
            ("seed", 1.5, TypeError),
            ("seed", "a", TypeError),
            ("seed", -1, ValueError),
            ("seed", None, TypeError),
            ("seed", True, TypeError),
        ]
    ],
    (
        "GridWorld layout str",
        lambda: sl.GridWorld("S..G"),
        (TypeError, "layout must be a sequence"),
    ),
    ("GridWorld layout None", lambda: sl.GridWorld(None), (TypeError, "layout must be a sequence")),
    (
        "GridWorld layout rows not str",
        lambda: sl.GridWorld([1, 2]),
        (TypeError, "layout must be a sequence of row strings"),
    ),
    *[
        (
            f"GridWorld {arg}={value!r}",
            (lambda arg=arg, value=value: sl.GridWorld(**{arg: value})),
            (error, arg),
        )
        for arg, value, error in [
            ("step_reward", "1", TypeError),
            ("step_reward", NAN, ValueError),
            ("goal_reward", INF, ValueError),
            ("goal_reward", True, TypeError),
            ("slip", None, TypeError),
        ]
    ],
    *[
        (
            f"rollout choose_action returns {value!r}",
            (lambda value=value: sl.rollout(sl.GridWorld(), lambda state: value, seed=0)),
            (ValueError, "choose_action must return an int in 0..3"),
        )
        for value in (1.5, 1.0, True, "up", np.array([1]), 7, -1)
    ],
    (
        "rollout env None",
        lambda: sl.rollout(None, lambda s: 0),
        (TypeError, "env must be a softmax_lab.GridWorld"),
    ),
    (
        "rollout choose_action None",
        lambda: sl.rollout(sl.GridWorld(), None),
        (TypeError, "choose_action must be a function"),
    ),
    (
        "rollout seed float",
        lambda: sl.rollout(sl.GridWorld(), lambda s: 0, seed=1.5),
        (TypeError, "seed must be an int >= 0"),
    ),
    (
        "rollout seed negative",
        lambda: sl.rollout(sl.GridWorld(), lambda s: 0, seed=-1),
        (ValueError, "seed must be an int >= 0"),
    ),
]


def test_rollout_takes_numpy_integer_actions():
    states, actions, _ = sl.rollout(sl.GridWorld(), lambda s: np.int64(1), seed=0)
    assert actions[0] == 1 and states[:2].tolist() == [15, 16]


P_MODEL, R_MODEL, TERMINAL = sl.transition_model(sl.GridWorld())


def svi(**changes):
    base = dict(P=P_MODEL, R=R_MODEL, gamma=0.9, alpha=0.5, terminal=TERMINAL)
    return lambda: sl.soft_value_iteration(**{**base, **changes})


def halved_row():
    P = P_MODEL.copy()
    P[0, 0] *= 0.5
    return P


MAXENT = [
    ("soft_value str q", lambda: sl.soft_value(["a", "b"], 1.0), (TypeError, "q must be")),
    (
        "soft_value complex q",
        lambda: sl.soft_value(np.array([1j, 2]), 1.0),
        (TypeError, "q must be"),
    ),
    ("soft_value alpha str", lambda: sl.soft_value(X1, "1"), (TypeError, "alpha")),
    ("soft_value alpha bool", lambda: sl.soft_value(X1, True), (TypeError, "alpha")),
    ("svi P row sums to 0.5", svi(P=halved_row()), (ValueError, "each row of P must sum to 1")),
    ("svi P negative", svi(P=-P_MODEL), (ValueError, "P must be finite and lie in \\[0, 1\\]")),
    ("svi P ragged", svi(P=RAGGED), (ValueError, "P must be a rectangular array")),
    ("svi R NaN", svi(R=np.full_like(R_MODEL, NAN)), (ValueError, "R must be finite")),
    ("svi R str", svi(R=[["a"]]), (TypeError, "R must be")),
    ("svi gamma None", svi(gamma=None), (TypeError, "gamma")),
    ("svi gamma 1", svi(gamma=1.0), (ValueError, "gamma must be a number in \\[0, 1\\)")),
    ("svi tol NaN", svi(tol=NAN), (ValueError, "tol")),
    ("svi tol inf", svi(tol=INF), (ValueError, "tol")),
    ("svi tol negative", svi(tol=-1.0), (ValueError, "tol")),
    ("svi tol bool", svi(tol=True), (TypeError, "tol")),
    ("svi tol str", svi(tol="1e-6"), (TypeError, "tol")),
    (
        "svi terminal floats",
        svi(terminal=TERMINAL * 0.5),
        (TypeError, "terminal must be a boolean"),
    ),
    ("svi terminal ints", svi(terminal=TERMINAL.astype(int)), (TypeError, "terminal")),
    *[
        (
            f"exact_policy_gradient {arg}={value!r}",
            (
                lambda arg=arg, value=value: sl.exact_policy_gradient(
                    [1.0, 0.0], [0.0, 0.0], **{"steps": 3, "learning_rate": 0.5, arg: value}
                )
            ),
            (error, arg),
        )
        for arg, value, error in [
            ("learning_rate", "1", TypeError),
            ("learning_rate", True, TypeError),
            ("learning_rate", None, TypeError),
            ("entropy_bonus", "0.1", TypeError),
            ("natural", "yes", TypeError),
            ("natural", None, TypeError),
            ("natural", 1, TypeError),
        ]
    ],
    (
        "exact_policy_gradient complex rewards",
        lambda: sl.exact_policy_gradient(np.array([1j, 0]), [0.0, 0.0], steps=2, learning_rate=1.0),
        (TypeError, "rewards must be real"),
    ),
    (
        "exact_policy_gradient ragged logits",
        lambda: sl.exact_policy_gradient([1.0, 0.0], RAGGED, steps=2, learning_rate=1.0),
        (ValueError, "logits must be a rectangular array"),
    ),
]


def test_rows_of_terminal_states_are_not_checked():
    # transition_model leaves them at 0 (documented): the model is still accepted
    assert np.all(P_MODEL[TERMINAL] == 0)
    result = sl.soft_value_iteration(P_MODEL, R_MODEL, gamma=0.9, alpha=0.5, terminal=TERMINAL)
    assert np.all(result.values[TERMINAL] == 0)
    # ... but without terminal they are ordinary rows, which must sum to 1
    with pytest.raises(ValueError, match="each row of P must sum to 1"):
        sl.soft_value_iteration(P_MODEL, R_MODEL, gamma=0.9, alpha=0.5)


def test_tol_zero_runs_every_sweep():
    P = np.array([[[1.0]]])
    result = sl.soft_value_iteration(P, [[1.0]], gamma=0.5, alpha=0.0, tol=0.0, max_iterations=7)
    assert len(result.residuals) == 7


ESTIMATORS_ALTERNATIVES = [
    (
        "exact_choice_gradient ragged values",
        lambda: sl.exact_choice_gradient(X1, RAGGED),
        (ValueError, "values must be a rectangular array"),
    ),
    (
        "reinforce_gradients ragged logits",
        lambda: sl.reinforce_gradients(RAGGED, X1, rng(), 3),
        (ValueError, "logits must be a rectangular array"),
    ),
    (
        "gumbel_softmax_gradients ragged loss_grad",
        lambda: sl.gumbel_softmax_gradients(X1, RAGGED, 0.5, rng(), 3),
        (ValueError, "loss_grad must be a rectangular array"),
    ),
    (
        "gumbel_softmax_gradients temperature str",
        lambda: sl.gumbel_softmax_gradients(X1, X1, "0.5", rng(), 3),
        (TypeError, "temperature must be a real number"),
    ),
    (
        "gumbel_softmax temperature bool",
        lambda: sl.gumbel_softmax(X1, True, rng()),
        (TypeError, "temperature must be a real number"),
    ),
    (
        "sparsemax_loss ragged target",
        lambda: sl.sparsemax_loss(X2, RAGGED),
        (ValueError, "target must be a rectangular array"),
    ),
    *[
        (
            f"sparsemax_torch dim={dim!r}",
            (lambda dim=dim: sl.sparsemax_torch(torch.tensor(X2), dim=dim)),
            (error, "dim"),
        )
        for dim, error in [(1.0, TypeError), (None, TypeError), ("a", TypeError), (5, IndexError)]
    ],
]

SCALE = [
    (
        "vocab_parallel_cross_entropy shards None",
        lambda: sl.vocab_parallel_cross_entropy(None, [0, 1]),
        (TypeError, "logit_shards must be a list or tuple"),
    ),
    (
        "vocab_parallel_cross_entropy shards an array",
        lambda: sl.vocab_parallel_cross_entropy(X2, [0, 1]),
        (TypeError, "logit_shards must be a list or tuple"),
    ),
    (
        "vocab_parallel_cross_entropy ragged target",
        lambda: sl.vocab_parallel_cross_entropy(sl.split_vocab(X2, 2), RAGGED),
        (ValueError, "target must be a rectangular array"),
    ),
    *[
        (
            f"chunked_linear_cross_entropy ignore_index={value!r}",
            (
                lambda value=value: sl.chunked_linear_cross_entropy(
                    Q, K, [0, 1, 2, 3], chunk_size=2, ignore_index=value
                )
            ),
            (TypeError, "ignore_index must be an int"),
        )
        for value in ("a", None, 0.0, True)
    ],
    (
        "online_logsumexp chunks None",
        lambda: sl.online_logsumexp(None),
        (TypeError, "chunks must be an iterable"),
    ),
]

FEATURES = np.random.default_rng(0).normal(size=(20, 4))
TARGETS = np.arange(20) % 3

DATA_TRAINING = [
    *[
        (
            f"holdout_split {arg}={value!r}",
            (
                lambda arg=arg, value=value: sl.holdout_split(
                    FEATURES, TARGETS, **{"fraction": 0.25, arg: value}
                )
            ),
            (error, arg),
        )
        for arg, value, error in [
            ("seed", 1.5, TypeError),
            ("seed", "a", TypeError),
            ("seed", -1, ValueError),
            ("seed", True, TypeError),
            ("seed", 2**32, ValueError),
            ("stratify", 2, TypeError),
            ("stratify", None, TypeError),
            ("fraction", True, TypeError),
            ("fraction", "0.2", TypeError),
        ]
    ],
    (
        "holdout_split ragged features",
        lambda: sl.holdout_split(RAGGED, [0, 1], 0.5),
        (ValueError, "features must be a rectangular array"),
    ),
    *[
        (
            f"load_iris_split {arg}={value!r}",
            (lambda arg=arg, value=value: sl.load_iris_split(**{arg: value})),
            (error, arg),
        )
        for arg, value, error in [
            ("test_fraction", 1.0, ValueError),
            ("test_fraction", None, TypeError),
            ("val_fraction", 0.0, ValueError),
            ("val_fraction", "0.2", TypeError),
            ("seed", True, TypeError),
            ("standardize", "yes", TypeError),
            ("features", [0.5], TypeError),
            ("features", ["a"], TypeError),
            ("features", 2, TypeError),
            ("features", [True], TypeError),
        ]
    ],
    *[
        (
            f"make_mlp seed={value!r}",
            (lambda value=value: sl.make_mlp(seed=value)),
            (error, "seed must be an int >= 0"),
        )
        for value, error in [
            (1.5, TypeError),
            (-1, ValueError),
            (True, TypeError),
            ("a", TypeError),
        ]
    ],
    (
        "evaluate label beyond the model's classes",
        lambda: sl.evaluate(sl.make_mlp(4, 8, 3), FEATURES, TARGETS + 1),
        (ValueError, "y must be class indices in 0..2"),
    ),
    (
        "train label beyond the model's classes",
        lambda: sl.train(sl.make_mlp(4, 8, 3), FEATURES, TARGETS + 1, epochs=1),
        (ValueError, "y_train must be class indices in 0..2"),
    ),
    (
        "train x_train of the wrong width",
        lambda: sl.train(sl.make_mlp(4, 8, 3), np.ones((20, 5)), TARGETS, epochs=1),
        (ValueError, "x_train of shape \\(20, 5\\) does not fit the model"),
    ),
    (
        "train on_epoch not callable",
        lambda: sl.train(sl.make_mlp(4, 8, 3), FEATURES, TARGETS, epochs=1, on_epoch="print"),
        (TypeError, "on_epoch must be a function"),
    ),
    (
        "train seed negative",
        lambda: sl.train(sl.make_mlp(4, 8, 3), FEATURES, TARGETS, epochs=1, seed=-1),
        (ValueError, "seed must be an int >= 0"),
    ),
    (
        "train_many float seeds",
        lambda: sl.train_many(
            [sl.make_mlp(4, 8, 3), sl.make_mlp(4, 8, 3)],
            FEATURES,
            TARGETS,
            epochs=1,
            seeds=[0.5, 1.5],
        ),
        (TypeError, "each of seeds must be an int >= 0"),
    ),
    (
        "train_many seeds a str",
        lambda: sl.train_many(
            [sl.make_mlp(4, 8, 3), sl.make_mlp(4, 8, 3)], FEATURES, TARGETS, epochs=1, seeds="ab"
        ),
        (TypeError, "seeds must be a sequence of ints"),
    ),
    (
        "train_many models None",
        lambda: sl.train_many(None, FEATURES, TARGETS, epochs=1),
        (TypeError, "models must be a non-empty sequence"),
    ),
    (
        "predict_proba model None",
        lambda: sl.predict_proba(None, FEATURES),
        (TypeError, "model must be a torch.nn.Module"),
    ),
]


def test_a_custom_loss_may_use_labels_beyond_the_scores():
    # the class range is checked only for the default cross-entropy loss
    def loss_fn(outputs, targets):
        return ((outputs.sum(dim=1) - targets.float()) ** 2).mean()

    history = sl.train(
        sl.make_mlp(4, 8, 3), FEATURES, TARGETS + 5, epochs=1, loss_fn=loss_fn, batch_size=20
    )
    assert len(history.train_loss) == 1


DISTRIBUTED = [
    (
        "sharded_attention scale nan",
        lambda: sl.sharded_attention(
            torch.ones(2, 2), torch.ones(2, 2), torch.ones(2, 2), scale=NAN
        ),
        (ValueError, "scale must be a finite real number"),
    ),
    (
        "sharded_attention NumPy query",
        lambda: sl.sharded_attention(np.ones((2, 2)), torch.ones(2, 2), torch.ones(2, 2)),
        (TypeError, "query must be a torch.Tensor"),
    ),
    (
        "distributed_cross_entropy list target",
        lambda: sl.distributed_cross_entropy(torch.ones(2, 2), [0, 1], vocab_start=0),
        (TypeError, "target must be a torch.Tensor"),
    ),
    (
        "distributed_cross_entropy vocab_start float",
        lambda: sl.distributed_cross_entropy(
            torch.ones(2, 2), torch.tensor([0, 1]), vocab_start=1.5
        ),
        (TypeError, "vocab_start must be an int >= 0"),
    ),
    (
        "distributed_cross_entropy ignore_index float",
        lambda: sl.distributed_cross_entropy(
            torch.ones(2, 2), torch.tensor([0, 1]), vocab_start=0, ignore_index=-100.0
        ),
        (TypeError, "ignore_index must be an int"),
    ),
]

LOGITS4 = np.array([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
DISTRIBUTED += [
    # all raised before any process starts
    (
        "parallel_cross_entropy float target",
        lambda: sl.parallel_cross_entropy(LOGITS4, np.array([1.5, 0.0]), 2),
        (TypeError, "target must hold integer class indices"),
    ),
    (
        "parallel_cross_entropy target out of range",
        lambda: sl.parallel_cross_entropy(LOGITS4, np.array([4, 0]), 2),
        (ValueError, "target must hold class indices in 0..3"),
    ),
    (
        "parallel_cross_entropy str logits",
        lambda: sl.parallel_cross_entropy([["a", "b"], ["c", "d"]], np.array([0, 1]), 2),
        (TypeError, "logits must be an array of real numbers"),
    ),
    (
        "parallel_cross_entropy float widths",
        lambda: sl.parallel_cross_entropy(LOGITS4, np.array([0, 1]), 2, widths=[1.5, 2.5]),
        (TypeError, "each of widths must be an int >= 1"),
    ),
    (
        "parallel_cross_entropy ignore_index float",
        lambda: sl.parallel_cross_entropy(LOGITS4, np.array([0, 1]), 2, ignore_index=-100.0),
        (TypeError, "ignore_index must be an int"),
    ),
    (
        "parallel_attention ragged query",
        lambda: sl.parallel_attention(RAGGED, K, V, 2),
        (ValueError, "query must be a rectangular array"),
    ),
    (
        "parallel_attention str value",
        lambda: sl.parallel_attention(Q, K, [["a"]], 2),
        (TypeError, "value must be an array of real numbers"),
    ),
]

ALL = [
    row
    for table in (
        GRADIENTS,
        CALIBRATION,
        ATTENTION,
        POLICIES,
        BANDITS_GRIDWORLD,
        MAXENT,
        ESTIMATORS_ALTERNATIVES,
        SCALE,
        DATA_TRAINING,
        DISTRIBUTED,
    )
    for row in table
    if row[1] is not None
]


@pytest.mark.parametrize(("case", "call", "expected"), ALL, ids=_ids(ALL))
def test_bad_input_gets_an_error_naming_the_argument(case, call, expected):
    error, match = expected
    _check(call, error, match)
