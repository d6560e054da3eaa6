"""Checkers for notebook 05 (the Iris classifier in PyTorch).

* :func:`check_training_step` - one optimisation step written by hand;
* :func:`check_flower_probabilities` - the class probabilities for one new flower;
* :func:`check_double_softmax_floor` - the lowest loss a model that applies softmax
  before ``nn.CrossEntropyLoss`` can ever reach.

Examples
--------
>>> import math
>>> print(check_double_softmax_floor(lambda n: math.log(math.e + n - 1) - 1))
Exercise 5.3 - the double-softmax loss floor: all 5 checks passed. Well done!
  ok    returns a float
  ok    n_classes = 2: floor 0.3133
  ok    n_classes = 3: floor 0.5514
  ok    n_classes = 10: floor 1.461
  ok    n_classes = 1000: floor 5.909
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import load_iris_split
from ..training import make_mlp
from . import Report, as_floats, call, describe, exercise

__all__ = ["check_double_softmax_floor", "check_flower_probabilities", "check_training_step"]

_FLOWERS = ([5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3])


def _same_parameters(a: nn.Module, b: nn.Module, atol: float = 1e-6) -> bool:
    return all(
        torch.allclose(p, q, rtol=0, atol=atol)
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def _reference_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> float:
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@exercise("Exercise 5.1 - one training step")
def check_training_step(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(model, optimizer, x_batch, y_batch) -> float``: one training step.

    It must compute the cross-entropy of the model's logits, clear old gradients,
    back-propagate, update the parameters, and return the loss before the update as a
    Python float. The check runs two steps with plain SGD (learning rate 0.1) on
    standardised Iris batches and compares every parameter with a reference step.
    """
    iris = load_iris_split(standardize=True)
    x = torch.tensor(iris.x_train[:16], dtype=torch.float32)
    y = torch.tensor(iris.y_train[:16])
    batches = [(x[:8], y[:8]), (x[8:], y[8:])]
    model, reference = make_mlp(seed=0), make_mlp(seed=0)
    start = make_mlp(seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    with torch.no_grad():
        logits = reference(batches[0][0])
        expected_loss = float(nn.functional.cross_entropy(logits, batches[0][1]))
        double_loss = float(nn.functional.cross_entropy(torch.softmax(logits, 1), batches[0][1]))
    result = call(candidate, model, optimizer, *batches[0])
    _reference_step(reference, reference_optimizer, *batches[0])
    if isinstance(result, Exception):
        report.expect(False, "runs on a batch of 8 flowers", hint=describe(result))
        return
    is_float = isinstance(result, float)
    report.expect(
        is_float,
        "returns the loss as a Python float",
        hint=f"got {type(result).__name__}; return loss.item()",
    )
    value = (
        float(result)
        if is_float or isinstance(result, (int, torch.Tensor)) and np.size(result) == 1
        else None
    )
    hint = f"got {describe(result)}, expected {expected_loss:.4f} (cross-entropy of the logits)"
    if value is not None and math.isclose(value, double_loss, rel_tol=1e-5):
        hint = (
            "this is the loss of softmax(logits): nn.CrossEntropyLoss wants the logits themselves"
        )
    report.expect(
        value is not None and math.isclose(value, expected_loss, rel_tol=1e-5),
        f"returns the loss before the update ({expected_loss:.4f})",
        hint=hint,
    )
    if not report.expect(
        not _same_parameters(model, start, atol=0.0),
        "updates the parameters",
        hint="they did not change: call loss.backward() and then optimizer.step()",
    ):
        return
    report.expect(
        _same_parameters(model, reference),
        "first step matches the reference",
        hint="call optimizer.zero_grad(), loss.backward(), optimizer.step() on the cross-entropy of the logits",
    )
    result = call(candidate, model, optimizer, *batches[1])
    _reference_step(reference, reference_optimizer, *batches[1])
    report.expect(
        not isinstance(result, Exception) and _same_parameters(model, reference),
        "second step matches the reference too",
        hint="gradients add up across steps unless you call optimizer.zero_grad() before loss.backward()",
    )


@exercise("Exercise 5.2 - probabilities for a new flower")
def check_flower_probabilities(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(model, flower) -> probabilities``, ``flower`` being 4 numbers.

    The answer must hold 3 probabilities (shape ``(3,)``, a NumPy array, list or tensor):
    the softmax of the logits the model gives for that one flower.
    """
    model = make_mlp(seed=0)
    with torch.no_grad():  # sharper outputs, so mistakes show clearly
        model[2].weight.mul_(4.0)
        logits = model(torch.tensor(_FLOWERS, dtype=torch.float32)).double()
    expected = torch.softmax(logits, dim=1).numpy()
    twice = torch.softmax(torch.softmax(logits, dim=1), dim=1).numpy()
    answers = [as_floats(call(candidate, model, list(flower))) for flower in _FLOWERS]
    raw = call(candidate, model, list(_FLOWERS[0]))
    if isinstance(raw, Exception):
        report.expect(False, f"runs on the flower {_FLOWERS[0]}", hint=describe(raw))
        return
    first = answers[0]
    if not report.expect(
        first is not None and first.shape == (3,),
        "returns 3 numbers, one per class",
        hint=f"got {describe(raw)}; for a batch of one, take row 0 (shape (3,))",
    ):
        return
    report.expect(
        bool(np.all((first >= 0) & (first <= 1))) and math.isclose(first.sum(), 1.0, abs_tol=1e-5),
        "the numbers are probabilities: in [0, 1], summing to 1",
        hint=f"they sum to {first.sum():.4g}; apply softmax over the class dimension (dim=-1) to the logits",
    )
    hint = "compare with torch.softmax(model(x), dim=-1)"
    if np.allclose(first, twice[0], atol=1e-5):
        hint = "softmax was applied twice: the model outputs logits, apply softmax once"
    for index, (flower, answer) in enumerate(zip(_FLOWERS, answers, strict=True)):
        report.expect(
            answer is not None
            and answer.shape == (3,)
            and np.allclose(answer, expected[index], atol=1e-5),
            f"flower {flower}: {np.round(expected[index], 3).tolist()}",
            hint=f"got {describe(answer)}; {hint}",
        )


@exercise("Exercise 5.3 - the double-softmax loss floor")
def check_double_softmax_floor(report: Report, candidate: Callable[[int], Any]) -> None:
    """Check ``candidate(n_classes) -> float``: the smallest possible cross-entropy when
    softmax is applied to probabilities that are already one-hot.

    The best a double-softmax model can do is feed ``[1, 0, ..., 0]`` into the second
    softmax, whose top probability is ``e / (e + n - 1)``; the loss is minus its log.
    """
    first = call(candidate, 3)
    if isinstance(first, Exception):
        report.expect(False, "runs for n_classes = 3", hint=describe(first))
        return
    report.expect(
        isinstance(first, (float, np.floating)),
        "returns a float",
        hint=f"got {type(first).__name__}",
    )
    for n in (2, 3, 10, 1000):
        expected = -math.log(math.e / (math.e + n - 1))
        got = call(candidate, n)
        hint = f"got {describe(got)}"
        if isinstance(got, (int, float, np.floating)) and math.isclose(
            float(got), math.log(n), rel_tol=1e-6
        ):
            hint = "log(n) is the loss of a uniform guess; the best input to the second softmax is one-hot"
        report.expect(
            isinstance(got, (int, float, np.floating))
            and math.isclose(float(got), expected, rel_tol=1e-6),
            f"n_classes = {n}: floor {expected:.4g}",
            hint=hint,
        )
