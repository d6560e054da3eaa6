"""The notebook-05 checkers accept correct answers, reject the usual mistakes, spot stubs."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from softmax_lab.exercises.classifier import (
    check_double_softmax_floor,
    check_flower_probabilities,
    check_training_step,
)
from tests.conftest import stub

# --- 5.1 one training step ----------------------------------------------------------


def good_step(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_without_zero_grad(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_with_double_softmax(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(torch.softmax(model(x), dim=1), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_without_update(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    return loss.item()


def step_returning_tensor(model, optimizer, x, y):
    loss = nn.CrossEntropyLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def test_training_step_accepts_reference():
    report = check_training_step(good_step)
    assert report.passed, str(report)


def test_training_step_rejects_missing_zero_grad():
    report = check_training_step(step_without_zero_grad)
    assert not report.passed
    assert "zero_grad" in str(report)


def test_training_step_rejects_double_softmax():
    report = check_training_step(step_with_double_softmax)
    assert not report.passed
    assert "logits themselves" in str(report)


def test_training_step_rejects_missing_update_and_tensor_result():
    assert "optimizer.step()" in str(check_training_step(step_without_update))
    report = check_training_step(step_returning_tensor)
    assert not report.passed and "loss.item()" in str(report)


def test_training_step_stub_is_not_finished():
    report = check_training_step(stub)
    assert not report.passed and "not finished yet" in str(report)


# --- 5.2 probabilities for a flower ---------------------------------------------------


def good_probabilities(model, flower):
    with torch.no_grad():
        logits = model(torch.tensor([flower], dtype=torch.float32))
    return torch.softmax(logits, dim=-1)[0].numpy()


def test_flower_probabilities_accepts_reference_and_tensor_answers():
    assert check_flower_probabilities(good_probabilities).passed
    report = check_flower_probabilities(lambda m, f: torch.softmax(m(torch.tensor(f)), dim=0))
    assert report.passed, str(report)


def test_flower_probabilities_rejects_logits():
    report = check_flower_probabilities(lambda m, f: m(torch.tensor(f)).detach().numpy())
    assert not report.passed and "apply softmax" in str(report)


def test_flower_probabilities_rejects_softmax_over_the_batch_axis():
    # a batch of one flower, softmax over dim=0: every "probability" is 1
    report = check_flower_probabilities(lambda m, f: torch.softmax(m(torch.tensor([f])), dim=0)[0])
    assert not report.passed and "sum to 3" in str(report)


def test_flower_probabilities_rejects_double_softmax():
    def twice(model, flower):
        return torch.softmax(torch.tensor(good_probabilities(model, flower)), dim=0).numpy()

    report = check_flower_probabilities(twice)
    assert not report.passed and "applied twice" in str(report)


def test_flower_probabilities_rejects_unsqueezed_batch_and_stub():
    report = check_flower_probabilities(lambda m, f: good_probabilities(m, f)[None])
    assert not report.passed and "shape (3,)" in str(report)
    assert "not finished yet" in str(check_flower_probabilities(stub))


# --- 5.3 the double-softmax floor --------------------------------------------------------


def test_double_softmax_floor_accepts_reference_and_numpy_float():
    assert check_double_softmax_floor(lambda n: -math.log(math.e / (math.e + n - 1))).passed
    assert check_double_softmax_floor(lambda n: np.log(np.e + n - 1) - 1).passed


def test_double_softmax_floor_rejects_uniform_guess_and_zero():
    report = check_double_softmax_floor(lambda n: math.log(n))
    assert not report.passed and "uniform guess" in str(report)
    assert not check_double_softmax_floor(lambda n: 0.0).passed
    assert "not finished yet" in str(check_double_softmax_floor(stub))
