"""Checkers for notebook 05 (the Iris classifier in PyTorch).

* :func:`check_training_step` - one optimisation step written by hand;
* :func:`check_flower_probabilities` - the class probabilities for one new flower;
* :func:`check_double_softmax_floor` - the lowest loss a model that applies softmax
  before ``nn.CrossEntropyLoss`` can ever reach;
* :func:`check_mean_confidence` - a model's mean confidence (largest probability) on a
  batch, the number weight decay lowers.

A wrong answer is compared with what the usual mistakes give on the same input, and the
feedback names the mistake it matches.

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
>>> print(check_double_softmax_floor(lambda n: math.log(n)))  # doctest: +ELLIPSIS
Exercise 5.3 - the double-softmax loss floor: 1 of 5 checks passed
  ok    returns a float
  FAIL  n_classes = 2: floor 0.3133 (expected 0.313262, got 0.693147: off by 0.38: log(n) is the loss of a uniform guess; ...)
...
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import load_iris_split
from ..training import make_mlp, predict_proba
from . import Report, as_floats, as_number, call, describe, differ, exercise

__all__ = [
    "check_double_softmax_floor",
    "check_flower_probabilities",
    "check_mean_confidence",
    "check_training_step",
]

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


def _loss_mistake(
    value: float, model: nn.Module, x: torch.Tensor, y: torch.Tensor, after: float
) -> str:
    """Name the loss a wrong training step returned (``model`` as before the step)."""
    with torch.no_grad():
        logits = model(x)
        variants = [
            (
                float(nn.functional.cross_entropy(torch.softmax(logits, 1), y)),
                "this is the loss of softmax(logits): nn.CrossEntropyLoss wants the logits themselves",
            ),
            (
                float(nn.functional.cross_entropy(logits, y, reduction="sum")),
                "this is the sum over the batch: take the mean (CrossEntropyLoss's default)",
            ),
            (
                float(nn.functional.nll_loss(logits, y)),
                "nll_loss expects log-probabilities: use cross_entropy on the logits",
            ),
            (
                after,
                "this is the loss after the update: keep the loss computed before optimizer.step()",
            ),
        ]
    for wrong, advice in variants:
        if math.isclose(value, wrong, rel_tol=1e-5):
            return advice
    return "return the cross-entropy of the model's logits on this batch, loss.item()"


def _unchanged_hint(model: nn.Module) -> str:
    grads = [p.grad for p in model.parameters()]
    if all(g is None or not bool(g.any()) for g in grads):
        return (
            "no gradient reached the update: call loss.backward() before optimizer.step(), "
            "and optimizer.zero_grad() before loss.backward(), not between them"
        )
    return "they did not change: call optimizer.step() after loss.backward()"


@exercise("Exercise 5.1 - one training step")
def check_training_step(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(model, optimizer, x_batch, y_batch) -> float``: one training step.

    It must compute the cross-entropy of the model's logits, clear old gradients,
    back-propagate, let the optimizer it is given update the parameters, and return the
    loss before the update as a Python float. Two steps run with plain SGD (learning
    rate 0.1) and two with Adam (learning rate 0.01) on standardised Iris batches; every
    parameter is compared with a reference step computed first. Wrong losses are matched
    against softmax applied twice, a summed loss, ``nll_loss`` on logits and the loss
    after the update; a hand-written update that ignores the optimizer fails with Adam.
    """
    iris = load_iris_split(standardize=True)
    x = torch.tensor(iris.x_train[:16], dtype=torch.float32)
    y = torch.tensor(iris.y_train[:16])
    batches = [(x[:8], y[:8]), (x[8:], y[8:])]
    model, reference, start = make_mlp(seed=0), make_mlp(seed=0), make_mlp(seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    expected_loss = _reference_step(reference, reference_optimizer, *batches[0])
    with torch.no_grad():
        after = float(nn.functional.cross_entropy(reference(batches[0][0]), batches[0][1]))
    result = call(candidate, model, optimizer, *batches[0])
    if isinstance(result, Exception):
        report.expect(False, "runs on a batch of 8 flowers", hint=describe(result))
        return
    is_float = isinstance(result, float)
    report.expect(
        is_float,
        "returns the loss as a Python float",
        hint=f"got {type(result).__name__}; return loss.item()",
    )
    value = as_number(result)
    report.expect(
        value is not None and math.isclose(value, expected_loss, rel_tol=1e-5),
        f"returns the loss before the update ({expected_loss:.4f})",
        hint=f"{differ(expected_loss, result)}: "
        + ("" if value is None else _loss_mistake(value, start, *batches[0], after)),
    )
    if not report.expect(
        not _same_parameters(model, start, atol=0.0),
        "updates the parameters",
        hint=_unchanged_hint(model),
    ):
        return
    report.expect(
        _same_parameters(model, reference),
        "first step matches the reference (SGD)",
        hint="call optimizer.zero_grad(), loss.backward(), optimizer.step() on the cross-entropy of the logits",
    )
    _reference_step(reference, reference_optimizer, *batches[1])
    result = call(candidate, model, optimizer, *batches[1])
    report.expect(
        not isinstance(result, Exception) and _same_parameters(model, reference),
        "second step matches the reference too (SGD)",
        hint="gradients add up across steps unless you call optimizer.zero_grad() before loss.backward()",
    )
    model, reference = make_mlp(seed=1), make_mlp(seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    reference_optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
    for batch in batches:
        _reference_step(reference, reference_optimizer, *batch)
        result = call(candidate, model, optimizer, *batch)
    report.expect(
        not isinstance(result, Exception) and _same_parameters(model, reference),
        "two steps with Adam match the reference too",
        hint="let the optimizer you are given make the update, optimizer.step(): "
        "this one is Adam, not SGD (no hand-written update, no new optimizer)",
    )


def _calls(code: Any, candidate: Callable[..., Any], *args: Any) -> tuple[Any, bool]:
    """Run ``call(candidate, *args)``; also say whether the function of ``code`` ran."""
    seen = False

    def watch(frame: Any, event: str, arg: Any) -> None:
        nonlocal seen
        if event == "call" and frame.f_code is code:
            seen = True

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        result = call(candidate, *args)
    finally:
        sys.setprofile(previous)
    return result, seen


def _probability_mistake(first: np.ndarray, logits: torch.Tensor) -> str:
    """Name what a wrong answer for the first flower is (logits of that flower given)."""
    variants = [
        (
            torch.softmax(torch.softmax(logits, -1), -1),
            "softmax was applied twice: the model outputs logits, apply softmax once",
        ),
        (logits, "these are the logits: apply softmax over the classes (dim=-1)"),
        (torch.log_softmax(logits, -1), "this is log_softmax: return the probabilities, softmax"),
        (
            torch.sigmoid(logits),
            "sigmoid treats each class alone: softmax normalises over the 3 classes",
        ),
        (
            torch.ones_like(logits),
            "softmax over the batch dimension (dim=0) of one flower gives 1s: use dim=-1",
        ),
        (
            nn.functional.one_hot(logits.argmax(), 3).double(),
            "this is the predicted class as one-hot: return the softmax probabilities",
        ),
    ]
    for wrong, advice in variants:
        if first.shape == (3,) and np.allclose(first, wrong.numpy(), atol=1e-5):
            return advice
    return "compare with torch.softmax(model(x), dim=-1)"


@exercise("Exercise 5.2 - probabilities for a new flower")
def check_flower_probabilities(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(model, flower) -> probabilities``, ``flower`` being 4 numbers.

    The answer must hold 3 probabilities (shape ``(3,)``, a NumPy array, list or tensor):
    the softmax of the logits the model gives for that one flower, computed without
    :func:`softmax_lab.predict_proba` (which the task rules out). Wrong answers are
    matched against softmax applied twice, the logits, log-softmax, sigmoid, softmax over
    the batch dimension and a one-hot argmax; a float64 input is named too.
    """
    model = make_mlp(seed=0)  # untrained: the messages say so, as its species are nonsense
    with torch.no_grad():  # sharper outputs, so mistakes show clearly
        model[2].weight.mul_(4.0)
        model[2].bias.copy_(torch.tensor([0.3, -0.2, 0.1]))
        logits = model(torch.tensor(_FLOWERS, dtype=torch.float32)).double()
    expected = torch.softmax(logits, dim=1).numpy()
    runs = [_calls(predict_proba.__code__, candidate, model, list(flower)) for flower in _FLOWERS]
    raw = runs[0][0]
    if isinstance(raw, Exception):
        hint = describe(raw)
        if "dtype" in str(raw) or "Double" in str(raw):
            hint += ": the model's weights are float32, so make the flower float32 too"
        report.expect(False, f"runs on the flower {_FLOWERS[0]}", hint=hint)
        return
    report.expect(
        not any(used for _, used in runs),
        "computes the probabilities itself (no predict_proba)",
        hint="the task asks you to apply softmax to the model's logits yourself",
    )
    answers = [as_floats(result) for result, _ in runs]
    first = answers[0]
    if not report.expect(
        first is not None and first.shape == (3,),
        "returns 3 numbers, one per class",
        hint=f"got {describe(raw)}; for a batch of one, take row 0 (shape (3,))",
    ):
        return
    advice = _probability_mistake(first, logits[0])
    report.expect(
        bool(np.all((first >= 0) & (first <= 1))) and math.isclose(first.sum(), 1.0, abs_tol=1e-5),
        "the numbers are probabilities: in [0, 1], summing to 1",
        hint=f"they sum to {first.sum():.4g}: {advice}",
    )
    for index, (flower, answer) in enumerate(zip(_FLOWERS, answers, strict=True)):
        report.expect(
            answer is not None
            and answer.shape == (3,)
            and np.allclose(answer, expected[index], atol=1e-5),
            f"flower {flower}, on the checker's untrained test model: "
            f"{np.round(expected[index], 3).tolist()}",
            hint=f"{differ(expected[index], answer if answer is not None else runs[index][0])}: "
            + (_probability_mistake(answer, logits[index]) if answer is not None else ""),
        )


def _floor_mistakes(n: int) -> list[tuple[float, str]]:
    e = math.e
    return [
        (
            math.log(n),
            "log(n) is the loss of a uniform guess; the best input to the second softmax is one-hot",
        ),
        (
            -math.log(e / (e + n)),
            "the other n - 1 classes each add e^0 = 1 to the denominator: e + n - 1, not e + n",
        ),
        (
            math.log(e + n - 1),
            "-log(e / (e + n - 1)) = log(e + n - 1) - 1: the -1 is log(e) of the numerator",
        ),
        (e / (e + n - 1), "that is the probability of the true class: the loss is minus its log"),
        (-math.log10(e / (e + n - 1)), "use the natural log (math.log), as cross-entropy does"),
        (-math.log(e / (e + 2)), "the floor depends on n_classes: this is the value for 3 classes"),
    ]


@exercise("Exercise 5.3 - the double-softmax loss floor")
def check_double_softmax_floor(report: Report, candidate: Callable[[int], Any]) -> None:
    """Check ``candidate(n_classes) -> float``: the smallest possible cross-entropy when
    softmax is applied to probabilities that are already one-hot.

    The best a double-softmax model can do is feed ``[1, 0, ..., 0]`` into the second
    softmax, whose top probability is ``e / (e + n - 1)``; the loss is minus its log.
    Wrong values are matched against log(n), e + n for e + n - 1, a missing -1, the
    probability instead of the loss, log base 10 and the 3-class value for every n.
    """
    first = call(candidate, 3)
    if isinstance(first, Exception):
        report.expect(False, "runs for n_classes = 3", hint=describe(first))
        return
    report.expect(
        isinstance(first, float | np.floating),
        "returns a float",
        hint=f"got {type(first).__name__}; return float(...)",
    )
    for n in (2, 3, 10, 1000):
        expected = -math.log(math.e / (math.e + n - 1))  # before the learner's function runs
        got = first if n == 3 else call(candidate, n)
        value = as_number(got)
        advice = ""
        if value is not None:
            for wrong, text in _floor_mistakes(n):
                if not math.isclose(wrong, expected) and math.isclose(value, wrong, rel_tol=1e-6):
                    advice = text
                    break
        report.close(
            f"n_classes = {n}: floor {expected:.4g}", expected, got, rtol=1e-6, hint=advice
        )


def _linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    """A fixed linear model (float32), so the logits of a batch are known exactly."""
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


# (model, batch): 3 classes on 5 flowers-like rows, then a square case (4 rows, 4 classes)
_CONFIDENCE_CASES = (
    (
        _linear([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.5, 0.0, 0.0]),
        [[2.0, 0.0], [0.0, 1.5], [0.2, 0.1], [-1.0, -2.0], [3.0, 2.5]],
    ),
    (
        _linear([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]], [0.0, 0.3, -0.2, 0.1]),
        [[1.0, 0.5], [-0.5, 2.0], [0.3, -0.3], [1.5, 1.5]],
    ),
)


def _confidence_mistakes(logits: torch.Tensor) -> list[tuple[float, str]]:
    z = logits.double()
    p = torch.softmax(z, dim=1)
    return [
        (float(z.max(dim=1).values.mean()), "that is the mean largest logit: apply softmax first"),
        (
            float(torch.softmax(z, dim=0).max(dim=1).values.mean()),
            "softmax over dim=0 normalises each class across the batch; use dim=1 (the classes)",
        ),
        (
            float(p.mean()),
            "that is the mean of all probabilities (always 1 / n_classes): take each row's max first",
        ),
        (
            float(p.argmax(dim=1).double().mean()),
            "that is the mean predicted class index (argmax): take the max probability (.max)",
        ),
        (
            float(p.max()),
            "that is one max over the whole batch: take each row's max, then the mean",
        ),
        (
            float(torch.log_softmax(z, dim=1).max(dim=1).values.mean()),
            "those are log-probabilities (log_softmax): the confidence is a probability",
        ),
        (
            float(torch.sigmoid(z).max(dim=1).values.mean()),
            "sigmoid treats each class on its own; softmax makes the classes compete",
        ),
        (
            float(p.max(dim=1).values.median()),
            "that is the median of the rows' confidences: take the mean",
        ),
    ]


@exercise("Exercise 5.4 - mean confidence")
def check_mean_confidence(report: Report, candidate: Callable[..., Any]) -> None:
    """Check ``candidate(model, x) -> float``: the mean over the rows of ``x`` of the
    largest softmax probability of ``model(x)``.

    Two fixed linear models (3 classes on 5 rows, and a square case of 4 rows and 4
    classes, where a softmax over the wrong dimension runs without an error). Wrong values
    are matched against the max logit, softmax over dim 0, the mean of all probabilities,
    the argmax index, one max over the batch, log-probabilities, sigmoid and the median;
    a tensor result is named.
    """
    for index, (model, rows) in enumerate(_CONFIDENCE_CASES):
        x = torch.tensor(rows)
        with torch.no_grad():
            logits = model(x)
        # the reference, before the learner's function runs
        expected = float(torch.softmax(logits.double(), dim=1).max(dim=1).values.mean())
        got = call(candidate, model, x)
        if isinstance(got, Exception):
            report.expect(False, f"runs on batch {index + 1}", hint=describe(got))
            return
        if index == 0 and not report.expect(
            isinstance(got, float | np.floating),
            "returns a float",
            hint=f"got {describe(got)}; return a Python float (tensor.item() or float(...))",
        ):
            if as_number(got) is None:
                return
        value = as_number(got)
        advice = ""
        if value is not None:
            for wrong, text in _confidence_mistakes(logits):
                if not math.isclose(wrong, expected, abs_tol=1e-6) and math.isclose(
                    value, wrong, rel_tol=1e-5, abs_tol=1e-6
                ):
                    advice = text
                    break
        shape = "x".join(str(n) for n in logits.shape)
        report.close(
            f"batch {index + 1} ({shape} logits): mean confidence {expected:.4f}",
            expected,
            got,
            rtol=1e-5,
            atol=1e-6,
            hint=advice,
        )
