"""The notebook 04 checkers accept correct answers in several styles, reject the typical
mistakes of each task with feedback that names the mistake, and spot stubs."""

import math

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab.exercises.gradients import (
    check_cross_entropy_grad,
    check_numerical_gradient,
    check_softmax_vjp,
    peak_memory,
)
from tests.conftest import fails_only, forgets_return, none_reported, says, stub, unfinished


def stable_softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


# --- Exercise 4.1: the VJP without the Jacobian --------------------------------------


def vjp_by_hand(x, v):
    s = stable_softmax(x)
    return s * (v - s @ v)


def vjp_from_logs(x, v):
    log_s = x - np.max(x)
    log_s = log_s - np.log(np.sum(np.exp(log_s)))
    s = np.exp(log_s)
    return s * v - s * np.dot(s, v)


def vjp_with_torch_autograd(x, v):
    """A correct O(n) answer through torch's own backward pass (no Jacobian is formed)."""
    scores = torch.tensor(x, requires_grad=True)
    torch.softmax(scores, dim=-1).backward(torch.tensor(v))
    return scores.grad.numpy()


def vjp_with_scipy(x, v):
    s = scipy.special.softmax(x)
    return s * v - s * np.dot(s, v)


def vjp_with_torch_func(x, v):
    _, pullback = torch.func.vjp(lambda t: torch.softmax(t, 0), torch.as_tensor(x))
    return pullback(torch.as_tensor(v))[0].numpy()


@pytest.mark.parametrize(
    "solution",
    [vjp_by_hand, vjp_from_logs, vjp_with_torch_autograd, vjp_with_scipy, vjp_with_torch_func],
)
def test_vjp_accepts_correct_answers_in_different_styles(solution):
    report = check_softmax_vjp(solution)
    assert report.passed, str(report)


def full_jacobian_numpy(x, v):
    s = stable_softmax(x)
    return v @ (np.diag(s) - np.outer(s, s))


def full_jacobian_torch(x, v):
    jacobian = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, dim=-1), torch.from_numpy(x)
    )
    return (torch.from_numpy(v) @ jacobian).numpy()


def naive_vjp(x, v):
    e = np.exp(x)
    s = e / e.sum()
    return s * (v - s @ v)


def mean_shift_vjp(x, v):
    e = np.exp(x - np.mean(x))
    s = e / e.sum()
    return s * (v - s @ v)


def first_entry_shift_vjp(x, v):
    e = np.exp(x - x[0])
    s = e / e.sum()
    return s * (v - s @ v)


def in_place_vjp(x, v):
    x -= np.max(x)
    s = np.exp(x) / np.exp(x).sum()
    v -= s @ v
    return s * v


VJP_MISTAKES = [
    ("full Jacobian in NumPy", full_jacobian_numpy, "an n x n array was built"),
    ("full Jacobian with torch", full_jacobian_torch, "an n x n array was built"),
    ("sign flipped", lambda x, v: -vjp_by_hand(x, v), "the sign is flipped"),
    ("diag part only", lambda x, v: stable_softmax(x) * v, "left out the - s (s . v) term"),
    ("forgets the factor s", lambda x, v: v - stable_softmax(x) @ v, "multiply by s"),
    (
        "elementwise instead of dot",
        lambda x, v: stable_softmax(x) * (v - stable_softmax(x) * v),
        "not the elementwise s * v",
    ),
    ("no max shift", naive_vjp, "use a stable softmax"),
    ("shift by the mean", mean_shift_vjp, "the mean or the minimum"),
    ("shift by the first entry", first_entry_shift_vjp, "shifted by the first entry, not the max"),
    ("in-place changes", in_place_vjp, "modified its input"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"), VJP_MISTAKES, ids=[m[0] for m in VJP_MISTAKES]
)
def test_vjp_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_softmax_vjp(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_vjp_rejects_the_numpy_jacobian_for_its_memory_only():
    report = check_softmax_vjp(full_jacobian_numpy)
    assert fails_only(report, "uses O(n) memory: under 1 MB at n = 3000")
    assert "72 MB" in str(report)


def vjp_with_torch_einsum(x, v):
    """Right values, but torch.einsum contracts s with s first: an n x n outer product."""
    s = torch.softmax(torch.from_numpy(x), 0)
    v = torch.from_numpy(v)
    return (s * v - torch.einsum("i,j,j->i", s, s, v)).numpy()


def test_vjp_rejects_an_einsum_whose_outer_product_lives_inside_one_torch_call():
    report = check_softmax_vjp(vjp_with_torch_einsum)
    assert fails_only(report, "uses O(n) memory: under 1 MB at n = 3000")
    assert "the peak was 72 MB" in str(report)


def test_vjp_stub_is_not_finished_and_none_is_reported_per_check():
    assert unfinished(check_softmax_vjp(stub))
    assert none_reported(check_softmax_vjp(forgets_return))


def test_peak_memory_sees_an_n_by_n_array():
    _, small = peak_memory(lambda: np.ones(1000) * 2)
    _, large = peak_memory(lambda: np.ones((1000, 1000)) * 2)
    assert small < 100_000
    assert large >= 8_000_000


# --- Exercise 4.2: the cross-entropy gradient ---------------------------------------


def grad_by_hand(z, label):
    grad = stable_softmax(z)
    grad[label] -= 1
    return grad


def grad_with_one_hot(z, label):
    return stable_softmax(z) - np.eye(len(z))[label]


def grad_with_torch(z, label):
    logits = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(logits[None], torch.tensor([label])).backward()
    return logits.grad.numpy()


def grad_in_a_loop(z, label):
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    return np.array([ei / total - (1.0 if i == label else 0.0) for i, ei in enumerate(e)])


def grad_in_float32(z, label):
    """float32 is not asked for; its rounding (about 1e-8 here) is within tolerance."""
    grad = stable_softmax(np.asarray(z, dtype=np.float32))
    grad[label] -= 1
    return grad


@pytest.mark.parametrize(
    "solution",
    [grad_by_hand, grad_with_one_hot, grad_with_torch, grad_in_a_loop, grad_in_float32],
)
def test_cross_entropy_grad_accepts_correct_answers_in_different_styles(solution):
    report = check_cross_entropy_grad(solution)
    assert report.passed, str(report)


def naive_grad(z, label):
    e = np.exp(z)
    p = e / e.sum()
    p[label] -= 1
    return p


def mean_shift_grad(z, label):
    e = np.exp(z - np.mean(z))
    p = e / e.sum()
    p[label] -= 1
    return p


def first_entry_shift_grad(z, label):
    e = np.exp(z - z[0])
    p = e / e.sum()
    p[label] -= 1
    return p


def at_argmax_not_label(z, label):
    grad = stable_softmax(z)
    grad[np.argmax(z)] -= 1
    return grad


def in_place_grad(z, label):
    z -= np.max(z)
    np.exp(z, out=z)
    z /= z.sum()
    z[label] -= 1
    return z


def loss_instead_of_gradient(z, label):
    return -np.log(stable_softmax(z)[label])


CROSS_ENTROPY_MISTAKES = [
    ("sign flipped", lambda z, label: -grad_by_hand(z, label), "the sign is flipped"),
    ("p alone", lambda z, label: stable_softmax(z), "subtract the one-hot target"),
    ("off by one, early", lambda z, label: grad_by_hand(z, label - 1), "one place too early"),
    (
        "off by one, late",
        lambda z, label: grad_by_hand(z, (label + 1) % len(z)),
        "one place too late",
    ),
    (
        "divided by n",
        lambda z, label: grad_by_hand(z, label) / len(z),
        "do not divide by the number",
    ),
    ("dL/dp", lambda z, label: -np.eye(len(z))[label] / stable_softmax(z), "that is dL/dp"),
    ("the loss", loss_instead_of_gradient, "one number is the loss"),
    ("no max shift", naive_grad, "use a stable softmax"),
    ("shift by the mean", mean_shift_grad, "the mean or the minimum"),
    ("shift by the first entry", first_entry_shift_grad, "shifted by the first entry, not the max"),
    ("-1 at argmax(z), not at label", at_argmax_not_label, "you subtracted 1 at argmax(z)"),
    ("in-place changes", in_place_grad, "modified its input z in place"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"),
    CROSS_ENTROPY_MISTAKES,
    ids=[m[0] for m in CROSS_ENTROPY_MISTAKES],
)
def test_cross_entropy_grad_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_cross_entropy_grad(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_cross_entropy_grad_names_argmax_not_a_late_index():
    """On the first case argmax(z) is label + 1: one case alone would say "one place too late"."""
    report = check_cross_entropy_grad(at_argmax_not_label)
    assert not says(report, "one place too late"), str(report)


def test_cross_entropy_grad_sum_is_printed_with_its_size():
    report = check_cross_entropy_grad(lambda z, label: grad_by_hand(z, label) + 1e-5)
    assert says(report, "the sum is 6e-05"), str(report)


def test_cross_entropy_grad_stub_is_not_finished_and_none_is_reported():
    assert unfinished(check_cross_entropy_grad(stub))
    assert none_reported(check_cross_entropy_grad(forgets_return))


# --- Exercise 4.3: a central-difference gradient ---------------------------------------


def central_with_a_loop(f, x, h):
    gradient = np.zeros(len(x))
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        gradient[i] = (f(up) - f(down)) / (2 * h)
    return gradient


def central_with_eye(f, x, h):
    return np.array([f(x + h * e) - f(x - h * e) for e in np.eye(len(x))]) / (2 * h)


def central_in_place_restored(f, x, h):
    """CS231n's style: perturb x in place, and put the old value back."""
    gradient = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        gradient[i] = (up - down) / (2 * h)
    return gradient


@pytest.mark.parametrize(
    "solution", [central_with_a_loop, central_with_eye, central_in_place_restored]
)
def test_numerical_gradient_accepts_correct_answers_in_different_styles(solution):
    report = check_numerical_gradient(solution)
    assert report.passed, str(report)


def forward_difference(f, x, h):
    return np.array([(f(x + h * e) - f(x)) / h for e in np.eye(len(x))])


def backward_difference(f, x, h):
    return np.array([(f(x) - f(x - h * e)) / h for e in np.eye(len(x))])


def divided_by_h(f, x, h):
    return np.array([(f(x + h * e) - f(x - h * e)) / h for e in np.eye(len(x))])


def lower_point_is_x(f, x, h):
    gradient = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old  # forgot to step down to old - h
        gradient[i] = (up - f(x)) / (2 * h)
    return gradient


def all_coordinates_at_once(f, x, h):
    return np.full(len(x), (f(x + h) - f(x - h)) / (2 * h))


def own_tiny_step(f, x, h):
    return central_with_eye(f, x, 1e-6)


def never_restores_x(f, x, h):
    gradient = np.zeros_like(x)
    for i in range(x.size):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        gradient[i] = (up - f(x)) / (2 * h)
    return gradient


def restores_by_arithmetic(f, x, h):
    gradient = np.zeros_like(x)
    for i in range(x.size):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        down = f(x)
        x[i] += h  # back where it was? Not always, in floating point
        gradient[i] = (up - down) / (2 * h)
    return gradient


def subtracts_h_squared(f, x, h):
    return central_with_eye(f, x, h) - h * h  # "corrects" the truncation error of x**3


def returns_a_number(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


NUMERICAL_GRADIENT_MISTAKES = [
    ("forward difference", forward_difference, "that is the forward difference"),
    ("backward difference", backward_difference, "that is the backward difference"),
    ("divided by h, not 2h", divided_by_h, "divide by 2h, not h"),
    ("lower point is x itself", lower_point_is_x, "the lower point was x itself"),
    ("all coordinates at once", all_coordinates_at_once, "every coordinate was moved at once"),
    ("ignores the given h", own_tiny_step, "a smaller step than the h you are given"),
    ("never restores x", never_restores_x, "perturbed in place and never put back"),
    ("restores x by adding h back", restores_by_arithmetic, "does not restore it exactly"),
    ("subtracts h**2", subtracts_h_squared, "or subtracted h**2"),
    ("returns one number", returns_a_number, "one number is f(x) or a slope"),
]


@pytest.mark.parametrize(
    ("mistake", "answer", "named"),
    NUMERICAL_GRADIENT_MISTAKES,
    ids=[m[0] for m in NUMERICAL_GRADIENT_MISTAKES],
)
def test_numerical_gradient_rejects_each_typical_mistake_by_name(mistake, answer, named):
    report = check_numerical_gradient(answer)
    assert not report.passed, mistake
    assert says(report, named), str(report)


def test_numerical_gradient_in_place_feedback_is_about_perturbing_x():
    """The framework's generic hint speaks of `x -= m`, a max this exercise does not have."""
    report = check_numerical_gradient(never_restores_x)
    assert says(report, "leaves the caller's x unchanged (x came back with an entry moved by 1e-05")
    assert not says(report, "x -= m")


def test_numerical_gradient_stub_is_not_finished_and_none_is_reported():
    assert unfinished(check_numerical_gradient(stub))
    assert none_reported(check_numerical_gradient(forgets_return))
