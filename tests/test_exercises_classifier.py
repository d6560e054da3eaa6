"""The notebook-05 checkers accept correct answers in several styles, reject the usual
mistakes with feedback that names each one, and spot stubs and missing returns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from softmax_lab import predict_proba
from softmax_lab.exercises.classifier import (
    check_double_softmax_floor,
    check_flower_probabilities,
    check_mean_confidence,
    check_training_step,
)
from tests.conftest import forgets_return, none_reported, says, stub, unfinished

# --- 5.1 one training step ----------------------------------------------------------


def good_step(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def good_step_functional(model, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)  # zero_grad first, F.cross_entropy, float()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def good_step_log_softmax(model, optimizer, x, y):
    loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)  # the same loss, in two steps
    model.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _step(loss_of, *, zero="before", step=True, give="before"):
    def training_step(model, optimizer, x, y):
        if zero == "before":
            optimizer.zero_grad()
        loss = loss_of(model(x), y)
        loss.backward()
        if zero == "between":
            optimizer.zero_grad()
        if step:
            optimizer.step()
        if give == "tensor":
            return loss
        if give == "after":
            return F.cross_entropy(model(x), y).item()
        return loss.item()

    return training_step


def by_hand_sgd(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    return loss.item()


def own_optimizer(model, optimizer, x, y):
    return good_step(model, torch.optim.SGD(model.parameters(), lr=0.1), x, y)


TRAINING_STEP_MISTAKES = [
    (
        _step(F.cross_entropy, zero="never"),
        "second step matches",
        "zero_grad() before loss.backward()",
    ),
    (_step(F.cross_entropy, zero="between"), "updates the parameters", "not between them"),
    (_step(F.cross_entropy, step=False), "updates the parameters", "call optimizer.step()"),
    (
        _step(lambda z, y: F.cross_entropy(torch.softmax(z, 1), y)),
        "returns the loss before",
        "logits themselves",
    ),
    (
        _step(lambda z, y: F.cross_entropy(z, y, reduction="sum")),
        "returns the loss before",
        "take the mean",
    ),
    (_step(F.nll_loss), "returns the loss before", "nll_loss expects log-probabilities"),
    (_step(F.cross_entropy, give="after"), "returns the loss before", "the loss after the update"),
    (_step(F.cross_entropy, give="tensor"), "returns the loss as a Python float", "loss.item()"),
    (by_hand_sgd, "two steps with Adam", "this one is Adam"),
    (own_optimizer, "two steps with Adam", "no new optimizer"),
]


@pytest.mark.parametrize("right", [good_step, good_step_functional, good_step_log_softmax])
def test_training_step_accepts_correct_answers_in_different_styles(right):
    report = check_training_step(right)
    assert report.passed, str(report)


@pytest.mark.parametrize(("wrong", "check", "feedback"), TRAINING_STEP_MISTAKES)
def test_training_step_rejects_each_mistake_by_name(wrong, check, feedback):
    report = check_training_step(wrong)
    assert not report.passed
    assert report.fails(check), report.failures
    assert says(report, feedback), report.failures


def test_training_step_stub_and_none():
    assert unfinished(check_training_step(stub))
    assert none_reported(check_training_step(forgets_return))


# --- 5.2 probabilities for a flower ---------------------------------------------------


def good_probabilities(model, flower):
    with torch.no_grad():
        logits = model(torch.tensor([flower], dtype=torch.float32))
    return torch.softmax(logits, dim=-1)[0].numpy()


def good_probabilities_numpy(model, flower):
    z = model(torch.tensor(flower)).detach().numpy().astype(float)  # 1-D input works too
    e = np.exp(z - z.max())
    return list(e / e.sum())


FLOWER_MISTAKES = [
    (lambda m, f: torch.softmax(torch.tensor(good_probabilities(m, f)), 0), "applied twice"),
    (lambda m, f: m(torch.tensor(f)).detach().numpy(), "these are the logits"),
    (lambda m, f: torch.log_softmax(m(torch.tensor(f)), -1).detach(), "this is log_softmax"),
    (lambda m, f: torch.sigmoid(m(torch.tensor(f))).detach(), "sigmoid treats each class alone"),
    (lambda m, f: torch.softmax(m(torch.tensor([f])), dim=0)[0], "use dim=-1"),
    (lambda m, f: F.one_hot(m(torch.tensor(f)).argmax(), 3).float(), "predicted class as one-hot"),
    (lambda m, f: good_probabilities(m, f)[None], "take row 0 (shape (3,))"),
    (lambda m, f: torch.softmax(m(torch.tensor([f], dtype=torch.float64)), -1)[0], "float32"),
    (lambda m, f: predict_proba(m, f), "no predict_proba"),
]


@pytest.mark.parametrize(
    "right",
    [
        good_probabilities,
        good_probabilities_numpy,
        lambda m, f: torch.softmax(m(torch.tensor(f)), dim=0),  # a tensor with grad is fine
    ],
)
def test_flower_probabilities_accepts_correct_answers_in_different_styles(right):
    report = check_flower_probabilities(right)
    assert report.passed, str(report)


@pytest.mark.parametrize(("wrong", "feedback"), FLOWER_MISTAKES)
def test_flower_probabilities_rejects_each_mistake_by_name(wrong, feedback):
    report = check_flower_probabilities(wrong)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_flower_probabilities_stub_and_none():
    assert unfinished(check_flower_probabilities(stub))
    assert none_reported(check_flower_probabilities(forgets_return))


# --- 5.3 the double-softmax floor --------------------------------------------------------


FLOOR_MISTAKES = [
    (lambda n: math.log(n), "uniform guess"),
    (lambda n: -math.log(math.e / (math.e + n)), "e + n - 1, not e + n"),
    (lambda n: math.log(math.e + n - 1), "the -1 is log(e)"),
    (lambda n: math.e / (math.e + n - 1), "the loss is minus its log"),
    (lambda n: -math.log10(math.e / (math.e + n - 1)), "natural log"),
    (lambda n: 0.5514447139320511, "this is the value for 3 classes"),
    (lambda n: torch.tensor(math.log(math.e + n - 1) - 1), "return float(...)"),
]


def floor_numerically(n_classes):
    one_hot = torch.zeros(1, n_classes, dtype=torch.float64)
    one_hot[0, 0] = 1.0
    return F.cross_entropy(one_hot, torch.tensor([0])).item()  # softmax of the one-hot, then -log


@pytest.mark.parametrize(
    "right",
    [
        lambda n: -math.log(math.e / (math.e + n - 1)),
        lambda n: np.log(np.e + n - 1) - 1,
        floor_numerically,
    ],
)
def test_double_softmax_floor_accepts_correct_answers_in_different_styles(right):
    report = check_double_softmax_floor(right)
    assert report.passed, str(report)


@pytest.mark.parametrize(("wrong", "feedback"), FLOOR_MISTAKES)
def test_double_softmax_floor_rejects_each_mistake_by_name(wrong, feedback):
    report = check_double_softmax_floor(wrong)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_double_softmax_floor_stub_and_none():
    assert unfinished(check_double_softmax_floor(stub))
    assert none_reported(check_double_softmax_floor(forgets_return))


# --- 5.4 mean confidence ------------------------------------------------------------------


def confidence_torch(model, x):
    with torch.no_grad():
        return torch.softmax(model(x), dim=1).max(dim=1).values.mean().item()


def confidence_numpy(model, x):
    logits = model(x).detach().numpy().astype(np.float64)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return float((p / p.sum(axis=1, keepdims=True)).max(axis=1).mean())


def confidence_logsumexp(model, x):
    z = model(x).detach()  # the top probability is exp(max z - logsumexp z)
    return float(torch.exp(z.max(dim=1).values - torch.logsumexp(z, dim=1)).mean())


def confidence_library(model, x):
    return float(predict_proba(model, x).max(axis=1).mean())


@pytest.mark.parametrize(
    "right", [confidence_torch, confidence_numpy, confidence_logsumexp, confidence_library]
)
def test_mean_confidence_accepts_correct_answers_in_different_styles(right):
    report = check_mean_confidence(right)
    assert report.passed, str(report)


def _with_no_grad(f):
    def answer(model, x):
        with torch.no_grad():
            return float(f(model(x)))

    return answer


CONFIDENCE_MISTAKES = [
    (_with_no_grad(lambda z: z.max(dim=1).values.mean()), "mean largest logit"),
    (_with_no_grad(lambda z: torch.softmax(z, dim=0).max(dim=1).values.mean()), "dim=0"),
    (_with_no_grad(lambda z: torch.softmax(z, dim=1).mean()), "mean of all probabilities"),
    (_with_no_grad(lambda z: torch.softmax(z, dim=1).argmax(dim=1).float().mean()), "argmax"),
    (_with_no_grad(lambda z: torch.softmax(z, dim=1).max()), "one max over the whole batch"),
    (_with_no_grad(lambda z: F.log_softmax(z, dim=1).max(dim=1).values.mean()), "log-probab"),
    (_with_no_grad(lambda z: torch.sigmoid(z).max(dim=1).values.mean()), "sigmoid"),
    (_with_no_grad(lambda z: torch.softmax(z, dim=1).max(dim=1).values.median()), "median"),
    (lambda model, x: torch.softmax(model(x), dim=1).max(dim=1).values.mean(), "Python float"),
]


@pytest.mark.parametrize(("wrong", "feedback"), CONFIDENCE_MISTAKES)
def test_mean_confidence_rejects_each_mistake_by_name(wrong, feedback):
    report = check_mean_confidence(wrong)
    assert not report.passed
    assert says(report, feedback), report.failures


def test_mean_confidence_stub_none_and_square_case():
    assert unfinished(check_mean_confidence(stub))
    assert none_reported(check_mean_confidence(forgets_return))
    # the square batch (4 rows, 4 classes) is where dim=0 runs without an error
    report = check_mean_confidence(CONFIDENCE_MISTAKES[1][0])
    assert says(report, "batch 2 (4x4 logits)"), report.failures
