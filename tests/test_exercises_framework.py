"""The checker framework (softmax_lab.exercises) itself: copies, None, digits, torch, memory."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
import torch

from softmax_lab import boltzmann_probabilities, grad_log_probability
from softmax_lab.exercises import (
    Report,
    array_problem,
    as_floats,
    call,
    describe,
    differ,
    exercise,
    peak_memory,
    run_checks,
    torch_dispatch_mode,
    torch_use,
)
from softmax_lab.exercises.formula import check_softmax_by_hand
from softmax_lab.exercises.gradients import check_cross_entropy_grad, check_softmax_vjp
from softmax_lab.exercises.policies import check_boltzmann_probabilities, check_grad_log_probability
from softmax_lab.exercises.stability import check_stable_logsumexp
from tests.conftest import fails, forgets_return, none_reported, says, stub, unfinished


@exercise("Exercise 0.1 - normalise")
def check_normalise(report: Report, candidate) -> None:
    """``candidate(x)`` returns ``x / x.sum()``."""
    for x in (np.array([1.0, 3.0]), np.array([2.0, 2.0, 4.0])):
        report.close(f"normalises {x.tolist()}", x / x.sum(), call(candidate, x), rtol=1e-12)


def normalise_in_place(x):
    x /= x.sum()
    return x


# --- inputs are copies; a change to the caller's input is its own failure -------------


def test_an_answer_that_modifies_its_input_gets_a_failure_naming_it():
    report = check_normalise(normalise_in_place)
    assert not report.passed
    assert report.failures == [
        "leaves the caller's x unchanged (it modified its input x in place: compute a new "
        "array (y = x - m, not x -= m or x[...] = ...))"
    ]
    assert [ok for ok, _ in report.lines] == [False, True, True]  # values still checked


def test_the_callers_array_is_untouched_so_references_stay_right():
    x = np.array([1.0, 3.0])
    run = run_checks("t", lambda report: call(normalise_in_place, x))
    assert x.tolist() == [1.0, 3.0]
    assert says(run, "modified its input x in place")


def test_lists_tensors_and_keyword_arguments_are_watched_too():
    def appends(x, *, extra):
        x.append(0.0)
        extra[0] = 5.0
        return 1.0

    scores, tensor = [1.0, 2.0], torch.zeros(2)
    report = run_checks("t", lambda report: call(appends, scores, extra=tensor))
    assert scores == [1.0, 2.0] and tensor.tolist() == [0.0, 0.0]
    assert says(report, "modified its input x in place")
    assert says(report, "modified its input extra in place")


def test_a_correct_answer_gets_no_mutation_line_and_objects_are_not_copied():
    report = check_normalise(lambda x: x / np.sum(x))
    assert report.passed and len(report.lines) == 2
    rng = np.random.default_rng(0)
    assert call(lambda generator: generator, rng) is rng


def test_a_checker_gives_its_own_in_place_advice_as_text_or_from_what_changed():
    def doubles_in_place(x):
        x *= 2
        return x

    def check(hint):
        def checks(report):
            report.in_place_hint = hint
            call(doubles_in_place, np.array([1.0, 3.0]))

        return run_checks("t", checks)

    assert check("double a copy: y = 2 * x").failures == [
        "leaves the caller's x unchanged (double a copy: y = 2 * x)"
    ]
    seen = []

    def from_change(name, before, after):
        seen.append((name, before.tolist(), after.tolist()))
        return f"{name} went from {before.tolist()} to {after.tolist()}"

    assert check(from_change).failures == [
        "leaves the caller's x unchanged (x went from [1.0, 3.0] to [2.0, 6.0])"
    ]
    assert seen == [("x", [1.0, 3.0], [2.0, 6.0])]
    assert says(check(lambda name, before, after: ""), "compute a new array")  # the default


def test_a_real_checker_names_the_in_place_shift():
    def shifts_in_place(x):
        m = x.max()
        x -= m
        return m + np.log(np.exp(x).sum())

    report = check_stable_logsumexp(shifts_in_place)
    assert fails(report, "leaves the caller's x unchanged")


# --- None is reported per check; a stub is "not finished" -----------------------------


def test_none_is_reported_on_its_own_line_and_other_results_stay_visible():
    def sometimes_none(x):
        if len(x) == 2:
            return x / x.sum()

    report = check_normalise(sometimes_none)
    assert not report.unfinished
    assert [ok for ok, _ in report.lines] == [True, False]
    assert "returned None - missing `return`?" in report.failures[0]


def test_stub_is_not_finished_and_no_return_is_not():
    assert unfinished(check_normalise(stub))
    assert none_reported(check_normalise(forgets_return))
    assert not unfinished(check_normalise(forgets_return))


# --- differences are shown with enough digits ------------------------------------------


def shown_numbers(text):
    return re.findall(r"expected \[?([-\d.e ,]+)\]?, got \[?([-\d.e ,]+)\]?", text)


def test_differ_shows_enough_digits_to_see_the_difference():
    ((expected, got),) = shown_numbers(differ(3.698712345, 3.698712346))
    assert expected != got
    ((expected, got),) = shown_numbers(differ([0.5, 3.698712345], [0.5, 3.698712346]))
    assert expected != got
    assert "off by 1e-09" in differ(3.698712345, 3.698712346)


def test_close_reports_a_tiny_error_with_its_size():
    report = check_normalise(lambda x: x / x.sum() + 1e-9)
    assert not report.passed
    for line in report.failures:
        ((expected, got),) = shown_numbers(line)
        assert expected != got, line
        assert "off by 1e-09" in line


def test_compare_gives_the_most_specific_hint_a_case_has():
    def flipped(got):
        return "the sign is flipped" if got[0] < 0 else ""

    def case(result, **options):
        report = Report("t")
        ok = report.compare("gives [1, 2]", [1.0, 2.0], result, diagnose=flipped, **options)
        return ok, (report.failures or [""])[0].removeprefix("gives [1, 2] (")

    assert case(np.array([1.0, 2.0])) == (True, "")
    assert case([1.0, 2.0], problem="returned a list") == (False, "returned a list)")
    assert case([1.0, 2.0, 3.0], problem="returned a list")[1].startswith("expected shape (2,)")
    assert case(ValueError("no")) == (False, "got raised ValueError: no)")
    assert case(np.array([-1.0, -2.0])) == (
        False,
        "expected [1., 2.], got [-1., -2.]: off by 4: the sign is flipped)",
    )
    assert case(np.array([-1.0, -2.0]), show_values=False) == (False, "the sign is flipped)")
    assert case(np.array([1.0, 2.5])) == (False, "expected [1., 2.], got [1. , 2.5]: off by 0.5)")
    assert case(np.array([1.0, 2.0 + 1e-9]), rtol=1e-6) == (True, "")


def test_differ_reports_shapes_and_nan_by_name():
    assert differ([1.0, 2.0], [[1.0, 2.0]]).startswith("expected shape (2,), got shape (1, 2)")
    assert "NaN where a number was expected" in differ([1.0, 2.0], [1.0, np.nan])


# --- torch where NumPy is asked, lists where an array is asked -------------------------


def test_torch_use_sees_tensors_made_inside_the_block():
    with torch_use() as seen:
        torch.softmax(torch.tensor([1.0, 2.0]), 0).numpy()
    assert seen.used and "NumPy only" in seen.problem
    with torch_use() as seen:
        np.exp(np.array([1.0, 2.0]))
    assert not seen.used and seen.problem == ""


x = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("use", "name"),
    [
        (lambda: torch.softmax(torch.from_numpy(x), 0), "torch.softmax"),
        (
            lambda: torch.nn.functional.softmax(torch.from_numpy(x), 0),
            "torch.nn.functional.softmax",
        ),
        (lambda: torch.from_numpy(x).softmax(0), "Tensor.softmax"),
        (lambda: torch.exp(torch.from_numpy(x)), "torch.exp"),
        (lambda: torch.from_numpy(x) - 3.0, "Tensor.sub"),
        (lambda: torch.as_tensor(x), "torch.as_tensor"),
        (lambda: torch.logsumexp(torch.from_numpy(x), 0), "torch.logsumexp"),
        (lambda: torch.special.entr(torch.from_numpy(x)), "torch.special_entr"),
        (lambda: np.asarray(torch.from_numpy(x)), "Tensor.__array__"),  # NumPy reading it
        (lambda: torch.from_numpy(x).numpy(), "Tensor.numpy"),
    ],
)
def test_torch_use_sees_each_way_of_using_torch_and_names_the_first(use, name):
    with torch_use() as seen:
        use()
    assert seen.used
    assert seen.problem == f"it used torch ({name}); this exercise asks for NumPy only"


def test_torch_use_sees_autograd_and_functorch_and_their_largest_tensor():
    def jacobian():
        return torch.autograd.functional.jacobian(
            lambda t: torch.softmax(t, 0), torch.ones(1000, dtype=torch.float64)
        )

    def jacrev():
        return torch.func.jacrev(lambda t: torch.softmax(t, 0))(
            torch.ones(1000, dtype=torch.float64)
        )

    def vjp():  # functorch's wrapped tensors have no storage of their own: no crash
        _, pullback = torch.func.vjp(lambda t: torch.softmax(t, 0), torch.ones(3))
        return pullback(torch.ones(3))

    for use, largest in ((jacobian, 8_000_000), (jacrev, 8_000_000), (vjp, 12)):
        with torch_use() as seen:
            use()
        assert seen.used and seen.largest >= largest, use.__name__


def test_array_problem_names_lists_and_tensors():
    assert array_problem([0.5, 0.5]) == "returned a list; return a NumPy array"
    assert "torch.Tensor" in array_problem(torch.tensor([0.5, 0.5]))
    assert "None" in array_problem(call(forgets_return, 1.0))
    assert array_problem(np.array([0.5, 0.5])) == ""


# --- only real numbers are judged by their values --------------------------------------


def test_as_floats_takes_real_numbers_only():
    assert as_floats([1, 0.5]).tolist() == [1.0, 0.5]
    assert as_floats(np.array([True, False])).tolist() == [1.0, 0.0]
    assert as_floats(torch.tensor([0.5], dtype=torch.float32)).tolist() == [0.5]
    for text in ("0.5", ["0.5", "0.5"], np.array(["0.5", "0.5"]), [0.5, "0.5"]):
        assert as_floats(text) is None, text
    for complex_ in (0.5 + 0j, [0.5 + 0j, 0.5], np.array([0.5, 0.5]) + 0j, torch.tensor([1j])):
        assert as_floats(complex_) is None, complex_


def test_text_and_complex_results_are_named_with_what_to_return():
    assert differ([0.5, 0.5], ["0.5", "0.5"]) == "got strings ('0.5', '0.5'); return numbers"
    assert describe("0.5") == "a string '0.5'; return a number"
    assert (
        describe(np.array(["1", "2", "3", "4"])) == "strings ('1', '2', '3', ...); return numbers"
    )
    assert differ([0.5, 0.5], np.array([0.5, 0.5]) + 0j) == (
        "got complex numbers (0.5+0j, 0.5+0j); real inputs have a real answer here: "
        "return real numbers"
    )
    assert describe(np.complex128(2)).startswith("a complex number 2+0j; ")
    assert array_problem(["0.5", "0.5"]) == "returned strings ('0.5', '0.5'); return numbers"
    assert array_problem(np.ones(2) + 1j).startswith("returned complex numbers (1+1j, 1+1j); ")


def _by_hand_softmax(x):
    e = np.exp(np.asarray(x, dtype=float) - np.max(x))
    return e / e.sum()


def _text(correct):  # "0.6590" is what the learner printed, returned instead of the number
    return lambda *args: np.asarray(correct(*args)).astype(str).tolist()


def _complex(correct):  # exp(x + 0j), cmath, or (-1) ** 0.5 slipped in: imaginary part 0
    return lambda *args: np.asarray(correct(*args)) + 0j


CORRECT = [
    (check_softmax_by_hand, _by_hand_softmax),
    (check_cross_entropy_grad, lambda z, label: _by_hand_softmax(z) - np.eye(len(z))[label]),
    (check_stable_logsumexp, lambda x: float(scipy.special.logsumexp(x))),
    (check_boltzmann_probabilities, boltzmann_probabilities),
    (check_grad_log_probability, grad_log_probability),
]


@pytest.mark.parametrize(("checker", "correct"), CORRECT, ids=lambda c: getattr(c, "__name__", ""))
def test_checkers_reject_the_right_values_as_text_or_complex_numbers(checker, correct):
    assert checker(correct).passed
    report = checker(_text(correct))
    assert not report.passed and (says(report, "strings (") or says(report, "a string ")), str(
        report
    )
    report = checker(_complex(correct))
    assert not report.passed and says(report, "complex number"), str(report)
    assert says(report, "real inputs have a real answer here: return "), str(report)


# --- memory checks see torch's allocator -----------------------------------------------


def test_peak_memory_sees_a_large_torch_allocation():
    _, small = peak_memory(lambda: torch.ones(1000, dtype=torch.float64).sum())
    _, large = peak_memory(lambda: torch.ones(1000, 1000, dtype=torch.float64).sum())
    assert small < 100_000
    assert large >= 8_000_000


FIRST_CALL = """
import numpy as np, torch
from softmax_lab.exercises import peak_memory
_, peak = peak_memory(lambda: torch.softmax(torch.tensor(np.ones(3)), 0).numpy())
print(peak)
"""


def test_peak_memory_counts_no_one_off_setup_on_the_first_call_in_a_process():
    """Entering torch's dispatch mode the first time imports ~800 modules (64 MB)."""
    run = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True, timeout=60
    )
    peak = int(run.stdout)
    assert peak < 100_000, f"the first call reported {peak / 1e6:.1f} MB"


def test_peak_memory_sees_a_tensor_made_inside_one_torch_call():
    s, v = torch.ones(3000, dtype=torch.float64), torch.ones(3000, dtype=torch.float64)
    _, peak = peak_memory(lambda: torch.einsum("i,j,j->i", s, s, v))  # s s^T first: 72 MB
    assert peak >= 72_000_000
    with torch_use() as seen:  # the public function mode sees the einsum and its result only
        torch.einsum("i,j,j->i", s, s, v)
    assert seen.used and seen.largest == 24_000


def test_torchs_private_dispatch_mode_is_still_there():
    """peak_memory's one private torch API: a torch that moves it fails here, by name."""
    mode = torch_dispatch_mode()
    assert mode.__name__ == "TorchDispatchMode" and hasattr(mode, "__torch_dispatch__")


def test_the_vjp_memory_check_rejects_a_jacobian_built_with_torch():
    def torch_jacobian_vjp(x, v):
        s = torch.softmax(torch.from_numpy(x), 0)
        jacobian = torch.diag(s) - torch.outer(s, s)
        return (torch.from_numpy(v) @ jacobian).numpy()

    report = check_softmax_vjp(torch_jacobian_vjp)
    assert [line.split(" (")[0] for line in report.failures] == [
        "uses O(n) memory: under 1 MB at n = 3000"
    ]


# --- the decorator ---------------------------------------------------------------------


def test_exercise_hides_the_report_parameter_and_keeps_the_docstring():
    assert list(inspect.signature(check_normalise).parameters) == ["candidate"]
    assert check_normalise.__doc__ == "``candidate(x)`` returns ``x / x.sum()``."
    assert str(check_normalise(lambda x: x / x.sum())).startswith(
        "Exercise 0.1 - normalise: all 2 checks passed"
    )
