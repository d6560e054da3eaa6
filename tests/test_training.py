"""Tests for the notebook-05 helpers: device choice, Iris splits, the training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from torch import nn

from softmax_lab.data import holdout_split, load_iris_split
from softmax_lab.device import pick_device
from softmax_lab.training import History, evaluate, make_mlp, predict_proba, train, train_many

# --- device -------------------------------------------------------------------------


def test_pick_device_takes_the_accelerator_torch_reports(monkeypatch):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda: torch.device("cuda", 0))
    assert pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda: torch.device("mps"))
    assert pick_device() == torch.device("mps")


def test_pick_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    result = pick_device()
    assert isinstance(result, torch.device) and result.type == "cpu"


# --- data ---------------------------------------------------------------------------


def test_iris_split_sizes_follow_the_article():
    iris = load_iris_split()
    assert len(iris.x_train) + len(iris.x_val) == 120 and len(iris.x_test) == 30
    assert (len(iris.x_train), len(iris.x_val)) == (96, 24)
    assert iris.x_train.shape[1] == 4
    assert len(iris.y_train) == 96 and len(iris.y_val) == 24 and len(iris.y_test) == 30


def test_iris_split_matches_sklearn_and_keras_validation_split():
    bunch = load_iris()
    x_rest, x_test, y_rest, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.2, random_state=42
    )
    iris = load_iris_split()
    np.testing.assert_array_equal(iris.x_test, x_test)
    np.testing.assert_array_equal(iris.y_test, y_test)
    # Keras' validation_split=0.2 holds out the last 20 % of the rows, unshuffled.
    np.testing.assert_array_equal(iris.x_train, x_rest[:96])
    np.testing.assert_array_equal(iris.x_val, x_rest[96:])
    np.testing.assert_array_equal(iris.y_val, y_rest[96:])


def test_iris_parts_are_disjoint_and_cover_the_data():
    iris = load_iris_split()
    rows = np.concatenate([iris.x_train, iris.x_val, iris.x_test])
    labels = np.concatenate([iris.y_train, iris.y_val, iris.y_test])
    bunch = load_iris()
    together = np.column_stack([rows, labels])
    original = np.column_stack([bunch.data, bunch.target])
    np.testing.assert_array_equal(np.unique(together, axis=0), np.unique(original, axis=0))
    assert len(together) == 150


def test_standardisation_uses_training_statistics_only():
    raw = load_iris_split()
    scaled = load_iris_split(standardize=True)
    mean, std = raw.x_train.mean(axis=0), raw.x_train.std(axis=0)
    np.testing.assert_allclose(scaled.x_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.x_train.std(axis=0), 1.0)
    np.testing.assert_allclose(scaled.x_test, (raw.x_test - mean) / std)
    np.testing.assert_allclose(scaled.x_val, (raw.x_val - mean) / std)
    # the test rows are not standardised by their own statistics
    assert np.abs(scaled.x_test.mean(axis=0)).max() > 1e-3
    np.testing.assert_allclose(scaled.transform(raw.x_test[:3]), scaled.x_test[:3])
    np.testing.assert_array_equal(raw.transform([5.1, 3.5, 1.4, 0.2]), [5.1, 3.5, 1.4, 0.2])


def test_petal_features_and_names():
    iris = load_iris_split(features=(2, 3))
    assert iris.x_train.shape == (96, 2)
    assert iris.feature_names == ("petal length (cm)", "petal width (cm)")
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    with pytest.raises(ValueError, match="features"):
        load_iris_split(features=(4,))
    with pytest.raises(ValueError, match="features"):
        iris.transform([1.0, 2.0, 3.0])


def test_holdout_split_stratified_keeps_proportions():
    x = np.arange(40.0).reshape(20, 2)
    y = np.array([0] * 10 + [1] * 5 + [2] * 5)
    _, _, y_kept, y_held = holdout_split(x, y, 0.4, stratify=True, seed=0)
    assert np.bincount(y_held).tolist() == [4, 2, 2]
    assert np.bincount(y_kept).tolist() == [6, 3, 3]


def test_holdout_split_unshuffled_takes_the_last_rows():
    x = np.arange(10.0).reshape(5, 2)
    x_kept, x_held, y_kept, y_held = holdout_split(x, np.arange(5), 0.2, shuffle=False)
    assert x_held.tolist() == [[8.0, 9.0]] and y_kept.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("features", "labels", "fraction", "kwargs", "match"),
    [
        (np.zeros(10), np.zeros(10), 0.2, {}, "features must be 2-D"),
        (np.zeros((10, 2)), np.zeros(9), 0.2, {}, "labels must be 1-D"),
        (np.zeros((10, 2)), np.zeros(10), 0.0, {}, "fraction"),
        (np.zeros((10, 2)), np.zeros(10), 1.0, {}, "fraction"),
        (np.zeros((10, 2)), np.zeros(10), 0.95, {}, "nothing to keep"),
        (np.zeros((10, 2)), np.zeros(10), 0.2, {"stratify": True, "shuffle": False}, "stratify"),
    ],
)
def test_holdout_split_rejects_bad_input(features, labels, fraction, kwargs, match):
    with pytest.raises(ValueError, match=match):
        holdout_split(features, labels, fraction, **kwargs)


# --- training -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    return load_iris_split(standardize=True)


def test_make_mlp_shape_and_seed_do_not_touch_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = make_mlp(4, 8, 3, seed=0)
    assert torch.equal(torch.rand(3), expected)
    assert model(torch.zeros(5, 4)).shape == (5, 3)
    assert sum(p.numel() for p in model.parameters()) == 4 * 8 + 8 + 8 * 3 + 3
    assert not torch.equal(make_mlp(seed=0)[0].weight, make_mlp(seed=1)[0].weight)
    with pytest.raises(ValueError, match="n_hidden"):
        make_mlp(4, 0, 3)


def test_make_mlp_starts_as_keras_dense_does():
    model = make_mlp(4, 8, 3, seed=5)
    for layer in (model[0], model[2]):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6 / (fan_in + fan_out))  # Glorot & Bengio's uniform limit
        assert torch.all(layer.bias == 0)
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.8 * bound  # spread over the whole range
        assert abs(float(layer.weight.detach().std()) - bound / math.sqrt(3)) < 0.35 * bound


def test_make_mlp_torch_init_is_what_nn_linear_does_by_itself():
    torch.manual_seed(7)
    expected = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model = make_mlp(4, 8, 3, seed=7, init="torch")
    for a, b in zip(model.parameters(), expected.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(model[0].weight, make_mlp(4, 8, 3, seed=7)[0].weight)
    with pytest.raises(ValueError, match="init"):
        make_mlp(init="glorot")


def test_training_is_deterministic_on_cpu(iris):
    runs = []
    for _ in range(2):
        model = make_mlp(seed=0)
        history = train(
            model, iris.x_train, iris.y_train, x_val=iris.x_val, y_val=iris.y_val, epochs=20
        )
        runs.append((history, model))
    (first, model_a), (second, model_b) = runs
    assert first == second
    assert len(first) == 20 and len(first.val_accuracy) == 20
    for a, b in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(a, b)
    other = train(make_mlp(seed=0), iris.x_train, iris.y_train, epochs=20, seed=1)
    assert other.train_loss != first.train_loss  # the seed does drive the shuffling


def test_train_matches_a_hand_written_loop(iris):
    model, reference = make_mlp(seed=0), make_mlp(seed=0)
    history = train(model, iris.x_train, iris.y_train, epochs=3, batch_size=8, lr=1e-3)
    x = torch.tensor(iris.x_train, dtype=torch.float32)
    y = torch.tensor(iris.y_train)
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3, eps=1e-7)  # Keras' epsilon
    shuffler = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(3):
        order = torch.randperm(96, generator=shuffler)
        total = 0.0
        for start in range(0, 96, 8):
            batch = order[start : start + 8]
            loss = nn.functional.cross_entropy(reference(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / 96)
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-6)
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("optimizer", "lr", "softmax_layer"),
    [("adam", 1e-2, False), ("sgd", 0.1, False), ("adam", 1e-2, True)],
)
def test_train_many_gives_what_train_gives_for_each_seed(iris, optimizer, lr, softmax_layer):
    def build(seed):
        model = make_mlp(seed=seed, init="torch")
        return nn.Sequential(*model, nn.Softmax(dim=1)) if softmax_layer else model

    settings = dict(x_val=iris.x_val, y_val=iris.y_val, epochs=4, lr=lr, optimizer=optimizer)
    alone = [build(s) for s in (3, 4, 5)]
    expected = [
        train(m, iris.x_train, iris.y_train, seed=s, **settings)
        for m, s in zip(alone, (3, 4, 5), strict=True)
    ]
    together = [build(s) for s in (3, 4, 5)]
    got = train_many(together, iris.x_train, iris.y_train, seeds=[3, 4, 5], **settings)
    for history, reference in zip(got, expected, strict=True):
        assert len(history) == 4
        for key, values in history.as_dict().items():
            np.testing.assert_allclose(values, reference.as_dict()[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(together, alone, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_train_many_rejects_bad_input(iris):
    x, y = iris.x_train, iris.y_train
    with pytest.raises(TypeError, match="models"):
        train_many([], x, y)
    with pytest.raises(ValueError, match="same parameter"):
        train_many([make_mlp(4, 8, 3), make_mlp(4, 5, 3)], x, y)
    with pytest.raises(ValueError, match="one seed per model"):
        train_many([make_mlp(seed=0), make_mlp(seed=1)], x, y, seeds=[0])
    with pytest.raises(ValueError, match="x_val"):
        train_many([make_mlp(seed=0)], x, y, x_val=iris.x_val)
    with pytest.raises(ValueError, match="lr"):
        train_many([make_mlp(seed=0)], x, y, lr=0)


def test_training_learns_iris(iris):
    model = make_mlp(seed=0)
    history = train(model, iris.x_train, iris.y_train, x_val=iris.x_val, y_val=iris.y_val)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    loss, accuracy = evaluate(model, iris.x_test, iris.y_test)
    assert accuracy >= 0.9 and loss < 0.5
    assert set(History().as_dict()) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}


def test_train_restores_the_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(make_mlp(seed=0), np.zeros((8, 4)), np.zeros(8, dtype=np.int64), epochs=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_evaluate_against_torch():
    model = make_mlp(seed=3)
    x = torch.randn(10, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    loss, accuracy = evaluate(model, x, y)
    with torch.no_grad():
        logits = model(x)
    assert math.isclose(loss, float(nn.functional.cross_entropy(logits, y)), rel_tol=1e-6)
    assert accuracy == float((logits.argmax(1) == y).float().mean())


def test_predict_proba_rows_sum_to_one_and_match_torch():
    model = make_mlp(seed=0)
    x = torch.randn(7, 4, generator=torch.Generator().manual_seed(1)) * 3
    p = predict_proba(model, x)
    assert p.shape == (7, 3) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (p > 0).all() and (p < 1).all()
    with torch.no_grad():
        expected = torch.softmax(model(x), dim=1).numpy()
    np.testing.assert_allclose(p, expected, atol=1e-6)
    np.testing.assert_array_equal(p.argmax(axis=1), model(x).argmax(dim=1).numpy())
    single = predict_proba(model, x[0].numpy())
    assert single.shape == (3,)
    np.testing.assert_allclose(single, p[0], rtol=1e-6)  # float32; one row takes another GEMM path


def test_predict_proba_restores_training_mode():
    model = make_mlp(seed=0)
    model.train()
    predict_proba(model, [[1.0, 2.0, 3.0, 4.0]])
    assert model.training


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 2.5}, TypeError, "epochs must be an int >= 1"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"lr": -1e-3}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"eps": 0.0}, ValueError, "eps"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"weight_decay": float("inf")}, ValueError, "weight_decay"),
        ({"weight_decay": True}, TypeError, "weight_decay must be a finite number >= 0"),
        ({"lr": "0.01"}, TypeError, "lr must be a finite number > 0"),
        ({"eps": None}, TypeError, "eps must be a finite number > 0"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"x_val": np.zeros((2, 4))}, ValueError, "x_val"),
    ],
)
def test_train_rejects_bad_settings(kwargs, error, match):
    x, y = np.zeros((4, 4)), np.array([0, 1, 2, 0])
    with pytest.raises(error, match=match):
        train(make_mlp(seed=0), x, y, **kwargs)


@pytest.mark.parametrize(
    ("x", "y", "error", "match"),
    [
        (np.zeros((4, 4)), np.array([0.0, 1.0, 2.0, 0.0]), TypeError, "y_train must be integer"),
        (np.zeros((4, 4)), np.array([0, 1, 2]), ValueError, "y_train must be 1-D"),
        (np.zeros((4, 4)), np.array([0, -1, 2, 0]), ValueError, ">= 0"),
        (np.zeros(4), np.array([0, 1, 2, 0]), ValueError, "x_train must be 2-D"),
        (np.array([["a"] * 4] * 4), np.array([0, 1, 2, 0]), TypeError, "x_train"),
    ],
)
def test_train_rejects_bad_data(x, y, error, match):
    with pytest.raises(error, match=match):
        train(make_mlp(seed=0), x, y, epochs=1)


def test_predict_proba_rejects_bad_shapes():
    with pytest.raises(ValueError, match="x must be 2-D"):
        predict_proba(make_mlp(seed=0), np.zeros((2, 2, 4)))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_agrees_with_cpu(iris, monkeypatch):
    # cuBLAS needs this to honour torch.use_deterministic_algorithms(True) if it is set
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    probabilities = {}
    for name in ("cpu", "cuda"):
        model = make_mlp(seed=0).to(name)
        history = train(model, iris.x_train, iris.y_train, x_val=iris.x_val, y_val=iris.y_val)
        assert len(history) == 100
        loss, accuracy = evaluate(model, iris.x_test, iris.y_test)
        assert accuracy >= 0.9, f"{name}: test accuracy {accuracy}"
        assert next(model.parameters()).device.type == name
        probabilities[name] = predict_proba(model, iris.x_test)
    np.testing.assert_allclose(probabilities["cuda"], probabilities["cpu"], atol=2e-3)
    np.testing.assert_array_equal(probabilities["cuda"].argmax(1), probabilities["cpu"].argmax(1))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_weight_decay_is_torch_optims_weight_decay(iris, optimizer):
    model, reference = make_mlp(seed=2), make_mlp(seed=2)
    lr = 1e-2 if optimizer == "adam" else 0.1
    train(
        model,
        iris.x_train,
        iris.y_train,
        epochs=2,
        batch_size=32,
        lr=lr,
        optimizer=optimizer,
        weight_decay=0.05,
        seed=4,
    )
    x, y = torch.tensor(iris.x_train, dtype=torch.float32), torch.tensor(iris.y_train)
    if optimizer == "adam":
        step = torch.optim.Adam(reference.parameters(), lr=lr, eps=1e-7, weight_decay=0.05)
    else:
        step = torch.optim.SGD(reference.parameters(), lr=lr, weight_decay=0.05)
    shuffler = torch.Generator().manual_seed(4)
    for _ in range(2):
        order = torch.randperm(96, generator=shuffler)
        for start in range(0, 96, 32):
            batch = order[start : start + 32]
            loss = nn.functional.cross_entropy(reference(x[batch]), y[batch])
            step.zero_grad()
            loss.backward()
            step.step()
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    plain = make_mlp(seed=2)
    train(
        plain,
        iris.x_train,
        iris.y_train,
        epochs=2,
        batch_size=32,
        lr=lr,
        optimizer=optimizer,
        seed=4,
    )
    assert not torch.equal(plain[0].weight, model[0].weight)  # the decay did something


def test_train_many_takes_weight_decay_and_calls_on_epoch(iris):
    settings = dict(epochs=3, lr=1e-2, weight_decay=0.1)
    alone = make_mlp(seed=1)
    seen_alone = []
    train(alone, iris.x_train, iris.y_train, seed=1, on_epoch=seen_alone.append, **settings)
    models, seen = [make_mlp(seed=0), make_mlp(seed=1)], []

    def record(epoch):  # the models must already hold this epoch's weights
        seen.append((epoch, models[1][2].weight.detach().clone()))

    train_many(models, iris.x_train, iris.y_train, seeds=[0, 1], on_epoch=record, **settings)
    assert seen_alone == [1, 2, 3] and [epoch for epoch, _ in seen] == [1, 2, 3]
    assert not torch.equal(seen[0][1], seen[2][1])
    torch.testing.assert_close(seen[2][1], models[1][2].weight.detach())
    torch.testing.assert_close(models[1][2].weight, alone[2].weight, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="weight_decay"):
        train_many(models, iris.x_train, iris.y_train, weight_decay=-1.0)


def test_float64_models_train_and_predict_in_float64(iris):
    model = make_mlp(seed=0).double()
    history = train(model, iris.x_train, iris.y_train, x_val=iris.x_val, y_val=iris.y_val, epochs=2)
    assert len(history.val_loss) == 2 and model[0].weight.dtype == torch.float64
    x = torch.tensor(iris.x_test, dtype=torch.float64)
    with torch.no_grad():
        expected = torch.softmax(model(x), dim=1).numpy()
    np.testing.assert_allclose(predict_proba(model, iris.x_test), expected, rtol=1e-12)
    loss, _ = evaluate(model, iris.x_test, iris.y_test)
    assert loss == pytest.approx(
        nn.functional.cross_entropy(model(x), torch.tensor(iris.y_test)).item(), rel=1e-12
    )
    models = [make_mlp(seed=s).double() for s in (0, 1)]
    train_many(models, iris.x_train, iris.y_train, epochs=2, x_val=iris.x_val, y_val=iris.y_val)
    assert models[1][2].weight.dtype == torch.float64
