"""Exercise checkers for the notebooks: friendly feedback instead of tracebacks.

Each chapter has a module here (``softmax_lab.exercises.stability`` for notebook 03,
and so on) whose ``check_*`` functions take the learner's function, try it on cases
chosen to catch the usual mistakes, and return a :class:`Report`. A report prints as
a short list of what passed and what did not, and ``report.passed`` says whether all
checks passed.

Writing a checker takes four names:

* :func:`exercise` turns ``def check_x(report, candidate)`` into ``check_x(candidate) -> Report``;
* :func:`call` runs the learner's function on *copies* of its inputs. A stub (it raises
  ``NotImplementedError``) makes the whole report "not finished yet"; any other exception,
  and a ``None`` result (:class:`ReturnedNone`), comes back as a value that the check reports
  on its own line. A change to the caller's input is reported as a failure of its own,
  with the task's advice when the checker sets ``report.in_place_hint``;
* :meth:`Report.expect` records one check; :meth:`Report.close` compares numbers with the
  expected value first, so the reference is computed before the learner's code runs, and
  shows the size of the error when they differ; :meth:`Report.compare` does the same for one
  case of a task and adds the checker's ``problem`` or the mistake its ``diagnose`` names;
* coercion and feedback helpers: :func:`as_floats`, :func:`as_array`, :func:`as_number`,
  :func:`as_pair` (real numbers only: text and complex numbers are described, not converted),
  :func:`close_to`, :func:`show`, :func:`describe`, :func:`differ`, :func:`array_problem`,
  and :func:`torch_use` / :func:`peak_memory` for "NumPy only" and memory rules.

Examples
--------
>>> import numpy as np
>>> @exercise("Exercise 0.1 - add one")
... def check_add_one(report, candidate):
...     for x in (1.0, 2.5):
...         report.close(f"adds one to {x}", x + 1, call(candidate, x))
>>> print(check_add_one(lambda x: x + 1))
Exercise 0.1 - add one: all 2 checks passed. Well done!
  ok    adds one to 1.0
  ok    adds one to 2.5
>>> print(check_add_one(lambda x: x + 1 + 1e-6 * x))
Exercise 0.1 - add one: 0 of 2 checks passed
  FAIL  adds one to 1.0 (expected 2, got 2.000001: off by 1e-06)
  FAIL  adds one to 2.5 (expected 3.5, got 3.500002: off by 2.5e-06)
>>> def forgets_return(x):
...     x + 1
>>> check_add_one(forgets_return).failures[0]
'adds one to 1.0 (got None: returned None - missing `return`?)'
>>> def stub(x):
...     raise NotImplementedError
>>> print(check_add_one(stub))
Exercise 0.1 - add one: not finished yet - fill in the exercise cell and run this check again.
>>> def shifts_in_place(x):
...     x -= x.max()
...     return np.exp(x) / np.exp(x).sum()
>>> @exercise("Exercise 0.2 - softmax")
... def check_softmax(report, candidate):
...     x = np.array([1.0, 2.0])
...     report.close("softmax of [1, 2]", np.exp(x) / np.exp(x).sum(), call(candidate, x))
>>> print(check_softmax(shifts_in_place))  # doctest: +ELLIPSIS
Exercise 0.2 - softmax: 1 of 2 checks passed
  FAIL  leaves the caller's x unchanged (it modified its input x in place: ...)
  ok    softmax of [1, 2]
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import inspect
import math
import sys
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class NotFinished(Exception):
    """Raised inside a check when the learner's function is still a stub."""


class ReturnedNone(Exception):
    """What :func:`call` gives back when the learner's function returned ``None``."""

    def __str__(self) -> str:
        return "returned None - missing `return`?"


InPlaceHint = str | Callable[[str, Any, Any], str]


class Report:
    """The outcome of one exercise check: a list of (passed, message) lines.

    ``in_place_hint`` is the task's advice when the learner's function changes an input
    (see :func:`call`): a text, or a function ``(name, before, after) -> text`` of the
    argument's name, the caller's value and what the learner's function left of its copy.
    Left empty (or giving ""), the advice is the framework's, about ``y = x - m``.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[tuple[bool, str]] = []
        self.unfinished = False
        self.in_place_hint: InPlaceHint = ""
        self._mutated: set[str] = set()

    def expect(self, condition: bool, message: str, *, hint: str = "") -> bool:
        """Record one check; ``hint`` is shown only when it fails."""
        ok = bool(condition)
        self.lines.append((ok, message if ok or not hint else f"{message} ({hint})"))
        return ok

    def close(
        self,
        message: str,
        expected: Any,
        result: Any,
        *,
        rtol: float = 1e-7,
        atol: float = 0.0,
        hint: str = "",
    ) -> bool:
        """Check that ``result`` (from :func:`call`) matches ``expected`` in shape and value.

        ``expected`` comes first, so it is computed before the learner's function runs.
        On failure the feedback shows both values with enough digits to differ and the
        size of the error (:func:`differ`), then ``hint``.
        """
        ok = close_to(result, expected, rtol=rtol, atol=atol)
        feedback = differ(expected, result)
        return self.expect(ok, message, hint=f"{feedback}: {hint}" if hint else feedback)

    def compare(
        self,
        message: str,
        expected: Any,
        result: Any,
        *,
        rtol: float = 1e-7,
        atol: float = 0.0,
        problem: str = "",
        diagnose: Callable[[np.ndarray], str] | None = None,
        show_values: bool = True,
        wrong_shape: Callable[[np.ndarray], str] | None = None,
    ) -> bool:
        """One case of a checker: ``result`` (from :func:`call`) passes when it has the shape
        and values of ``expected`` (as in :meth:`close`) and there is no ``problem``.

        On failure the hint is the most specific thing known, in this order:

        * a result that is not numbers of ``expected``'s shape: :func:`differ` (the shape,
          the exception, ``None``, text...), then what ``wrong_shape(got)`` makes of numbers
          of another shape (``"one value per row: reduce over axis=-1"``);
        * ``problem``, the checker's reason to refuse even the right values (a list where
          the task asks for an array: :func:`array_problem`);
        * the mistake that ``diagnose(got)`` names from the values ``got`` (a float array of
          ``expected``'s shape), after :func:`differ` (``"expected ..., got ...: <mistake>"``),
          or alone with ``show_values=False``;
        * :func:`differ`.

        >>> report = Report("t")
        >>> flipped = lambda got: "the sign is flipped" if got[0] < 0 else ""
        >>> report.compare("gives [1, 2]", [1.0, 2.0], np.array([-1.0, -2.0]), diagnose=flipped)
        False
        >>> report.failures
        ['gives [1, 2] (expected [1., 2.], got [-1., -2.]: off by 4: the sign is flipped)']
        """
        ok = close_to(result, expected, rtol=rtol, atol=atol) and not problem
        if ok:
            return self.expect(True, message)
        values = differ(expected, result)
        got = as_floats(result)
        if got is None or got.shape != np.shape(expected):
            shape_hint = wrong_shape(got) if wrong_shape is not None and got is not None else ""
            return self.expect(
                False, message, hint=f"{values}: {shape_hint}" if shape_hint else values
            )
        if problem:
            return self.expect(False, message, hint=problem)
        named = diagnose(got) if diagnose is not None else ""
        if named and show_values:
            named = f"{values}: {named}"
        return self.expect(False, message, hint=named or values)

    @property
    def failures(self) -> list[str]:
        """The messages of the checks that failed (hints included)."""
        return [message for ok, message in self.lines if not ok]

    @property
    def passed(self) -> bool:
        return bool(self.lines) and not self.unfinished and all(ok for ok, _ in self.lines)

    def fails(self, check: str) -> bool:
        """True when a failed check's message starts with ``check`` (for tests)."""
        return any(line.startswith(check) for line in self.failures)

    def __str__(self) -> str:
        if self.unfinished:
            return f"{self.title}: not finished yet - fill in the exercise cell and run this check again."
        good = sum(ok for ok, _ in self.lines)
        head = f"{self.title}: {good} of {len(self.lines)} checks passed"
        if self.passed:
            head = f"{self.title}: all {good} checks passed. Well done!"
        body = [f"  {'ok  ' if ok else 'FAIL'}  {message}" for ok, message in self.lines]
        return "\n".join([head, *body])

    __repr__ = __str__


_REPORT: contextvars.ContextVar[Report | None] = contextvars.ContextVar("report", default=None)


def run_checks(title: str, checks: Callable[[Report], None]) -> Report:
    """Run ``checks(report)``, marking the report unfinished if the candidate is a stub."""
    report = Report(title)
    token = _REPORT.set(report)
    try:
        checks(report)
    except NotFinished:
        report.unfinished = True
    finally:
        _REPORT.reset(token)
    return report


def exercise(title: str) -> Callable[[Callable[..., None]], Callable[..., Report]]:
    """Decorator: ``def check_x(report, candidate, ...)`` becomes ``check_x(candidate, ...) -> Report``.

    The decorated function records its checks on ``report``; the wrapper creates the
    report, runs the checks through :func:`run_checks` and returns it.
    """

    def decorate(checks: Callable[..., None]) -> Callable[..., Report]:
        @functools.wraps(checks)
        def checker(candidate: Callable[..., Any], *args: Any, **kwargs: Any) -> Report:
            return run_checks(title, lambda report: checks(report, candidate, *args, **kwargs))

        signature = inspect.signature(checks)
        checker.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=list(signature.parameters.values())[1:]
        )
        del checker.__wrapped__  # help() shows the signature without ``report``
        return checker

    return decorate


def _copy(value: Any) -> Any:
    """A copy of an input the learner could modify: arrays, lists, tuples, dicts, tensors."""
    if isinstance(value, np.ndarray | list | tuple | dict):
        return copy.deepcopy(value)
    if _is_tensor(value):
        return value.detach().clone().requires_grad_(value.requires_grad)
    return value


def _unchanged(original: Any, passed: Any) -> bool:
    if _is_tensor(original):
        return original.shape == passed.shape and bool(
            (original.detach() == passed.detach()).logical_or(original.isnan()).all()
        )
    if isinstance(original, np.ndarray):
        if not isinstance(passed, np.ndarray) or original.shape != passed.shape:
            return False
        try:
            return bool(np.array_equal(original, passed, equal_nan=True))
        except TypeError:  # no NaN for this dtype
            return bool(np.array_equal(original, passed))
    if isinstance(original, list | tuple | dict):
        if type(original) is not type(passed) or len(original) != len(passed):
            return False
        if isinstance(original, dict):
            return original.keys() == passed.keys() and all(
                _unchanged(original[key], passed[key]) for key in original
            )
        return all(_unchanged(a, b) for a, b in zip(original, passed, strict=True))
    return original is passed or original == passed or original != original  # NaN


def _argument_names(candidate: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = inspect.signature(candidate).bind(*args, **kwargs)
    except (TypeError, ValueError):
        names = {f"argument {i + 1}": value for i, value in enumerate(args)}
        return names | kwargs
    named: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = inspect.signature(candidate).parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            named |= {f"{name}[{i}]": item for i, item in enumerate(value)}
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named |= value
        else:
            named[name] = value
    return named


def call(candidate: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function on copies of the inputs; return its result or its error.

    * arrays, lists, tuples, dicts and tensors are passed as copies, so the caller's data
      (and any reference value computed from it) stays intact; if the learner's function
      changes one, the current report gets a failed line "leaves the caller's x unchanged
      (it modified its input x in place ...)", once per argument; the advice in brackets is
      the report's ``in_place_hint`` when the checker sets one (:class:`Report`);
    * a stub (``NotImplementedError``) raises :class:`NotFinished`: the report says
      "not finished yet";
    * any other exception is returned (not raised) so the check can report it by name,
      and a ``None`` result comes back as a :class:`ReturnedNone` error;
    * NumPy's floating-point warnings are silenced (the report says what went wrong).
    """
    copies = tuple(_copy(a) for a in args)
    kwcopies = {k: _copy(v) for k, v in kwargs.items()}
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = candidate(*copies, **kwcopies)
    except NotImplementedError as stub:
        raise NotFinished from stub
    except Exception as error:  # a learner's bug becomes feedback, not a traceback
        result = error
    report = _REPORT.get()
    if report is not None:
        originals = _argument_names(candidate, args, kwargs)
        passed = _argument_names(candidate, copies, kwcopies)
        for name, original in originals.items():
            if name not in report._mutated and not _unchanged(original, passed[name]):
                report._mutated.add(name)
                hint = report.in_place_hint
                if callable(hint):
                    hint = hint(name, original, passed[name])
                report.expect(
                    False,
                    f"leaves the caller's {name} unchanged",
                    hint=hint
                    or f"it modified its input {name} in place: compute a new array "
                    f"(y = {name} - m, not {name} -= m or {name}[...] = ...)",
                )
    return ReturnedNone() if result is None else result


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _untensor(value: Any) -> Any:
    """``value`` with every tensor in it (in lists and tuples too) as a NumPy array.

    Tensors are detached (a result may require grad) and moved to the CPU; bfloat16, which
    NumPy lacks, becomes float32 (every bfloat16 number is one). Anything else is returned
    as it is.
    """
    if _is_tensor(value):
        value = value.detach().cpu()
        if value.dtype == sys.modules["torch"].bfloat16:
            value = value.float()
        return value.resolve_conj().numpy()
    if isinstance(value, list | tuple) and any(
        _is_tensor(item) or isinstance(item, list | tuple) for item in value
    ):
        items = [_untensor(item) for item in value]
        return items if isinstance(value, list) else tuple(items)  # a NamedTuple too
    return value


def as_floats(result: Any) -> np.ndarray | None:
    """The learner's result as a float array (tensors included), or None when it is not numbers.

    Only real numbers count: text (``"0.5"``, ``["0.5", "0.5"]``) and complex numbers are
    not converted, so a checker never judges them by their values; :func:`describe` (and
    so :func:`differ` and :func:`show`) says what they are and what to return instead.

    >>> as_floats([1, 0.5])
    array([1. , 0.5])
    >>> as_floats(["1", "0.5"]) is None, as_floats(np.array([0.5 + 0j, 0.5])) is None
    (True, True)
    """
    if isinstance(result, Exception) or _not_numbers(result):
        return None
    try:
        # tensors (possibly requiring grad, bfloat16, or in a list) as NumPy arrays
        return np.asarray(_untensor(result), dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def _item(value: Any) -> str:
    """One entry of a result, for feedback: ``'0.5'`` for text, ``0.5+0j`` for a complex number."""
    if isinstance(value, complex | np.complexfloating):
        return f"{value.real:g}{value.imag:+g}j"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str | bytes) else str(value)


def _not_numbers(value: Any) -> str:
    """What ``value`` is when it holds text or complex numbers, with what to return instead
    ("" for anything else): "strings ('0.5', '0.5'); return numbers"."""
    if isinstance(value, Exception):
        return ""
    if _is_tensor(value) and not value.is_complex():
        return ""
    value = _untensor(value)
    if isinstance(value, str | bytes):
        return f"a string {value!r}; return a number"
    if isinstance(value, complex | np.complexfloating):
        return (
            f"a complex number {_item(value)}; real inputs have a real answer here: "
            "return a real number"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):  # ragged: a list of text or numbers, mixed?
        if not isinstance(value, list | tuple):
            return ""
        array = np.empty(len(value), dtype=object)
        array[:] = [item if np.ndim(item) == 0 else "..." for item in value]
    flat = array.ravel()
    text = array.dtype.kind in "USa" or (
        array.dtype.kind == "O" and any(isinstance(item, str | bytes) for item in flat)
    )
    complex_ = array.dtype.kind == "c" or (
        array.dtype.kind == "O"
        and any(isinstance(item, complex | np.complexfloating) for item in flat)
    )
    if not (text or complex_):
        return ""
    items = ", ".join(_item(item) for item in flat[:3])
    items = f"({items}{', ...' if flat.size > 3 else ''})"
    if text:
        return f"strings {items}; return numbers"
    return f"complex numbers {items}; real inputs have a real answer here: return real numbers"


def as_array(result: Any) -> np.ndarray | None:
    """The result as a NumPy array of numbers, dtype kept (no cast), or None when it is not one."""
    if isinstance(result, Exception):
        return None
    try:
        array = np.asarray(result)
    except (TypeError, ValueError, RuntimeError):
        return None
    return array if array.dtype.kind in "biuf" else None


def close_to(result: Any, expected: Any, *, rtol: float, atol: float) -> bool:
    """``result`` has the shape of ``expected`` and ``np.allclose`` values (NaN matches NaN)."""
    wanted = np.asarray(expected, dtype=float)
    got = as_floats(result)
    if got is None or got.shape != wanted.shape:
        return False
    return bool(np.allclose(got, wanted, rtol=rtol, atol=atol, equal_nan=True))


def as_number(result: Any) -> float | None:
    """A real scalar (a Python float, a NumPy scalar, a 0-d/1-element array), else None."""
    if isinstance(result, str | bool):
        return None
    values = as_floats(result)
    return float(values.reshape(())) if values is not None and values.size == 1 else None


def as_pair(result: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A result ``(a, b)`` as two float arrays, or None when it is not a pair of numbers."""
    if isinstance(result, Exception) or not isinstance(result, tuple | list) or len(result) != 2:
        return None
    first, second = as_floats(result[0]), as_floats(result[1])
    return None if first is None or second is None else (first, second)


def show(values: np.ndarray | None, result: Any = None, *, digits: int = 4) -> str:
    """A short, rounded rendering of a result for feedback lines (``describe`` if not numbers)."""
    if values is None:
        return describe(result)
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        return f"{float(values):.{digits}f}"
    text = np.array2string(values, precision=digits, suppress_small=True)
    return text.replace("\n", "")


def describe(value: Any) -> str:
    """A short description of a result for feedback lines: the exception, or the value."""
    if isinstance(value, ReturnedNone):
        return f"None: {value}"
    if isinstance(value, Exception):
        return f"raised {type(value).__name__}: {value}"
    return _not_numbers(value) or repr(value)


def _render(values: np.ndarray, digits: int) -> str:
    if values.ndim == 0:
        return f"{float(values):.{digits}g}"
    text = np.array2string(values, precision=digits, floatmode="maxprec", separator=", ")
    return text.replace("\n", "")


def differ(expected: Any, result: Any) -> str:
    """``expected ..., got ...`` with as many digits as it takes to see the difference.

    Shapes are compared first; for numbers of the same shape the largest absolute
    error is added, so "expected 3.6987, got 3.6987" cannot happen.

    >>> differ(3.698712, 3.698713)
    'expected 3.698712, got 3.698713: off by 1e-06'
    >>> differ([1.0, 2.0], [1.0, 2.0, 3.0])
    'expected shape (2,), got shape (3,): [1., 2., 3.]'
    >>> differ([0.5, 0.25], [0.5, float("nan")])
    'expected [0.5 , 0.25], got [0.5, nan]: NaN where a number was expected'
    """
    wanted = np.asarray(expected, dtype=float)
    got = as_floats(result)
    if got is None:
        return f"got {describe(result)}"
    if got.shape != wanted.shape:
        return f"expected shape {wanted.shape}, got shape {got.shape}: {_render(got, 6)}"
    digits = 6
    while digits < 17 and _render(got, digits) == _render(wanted, digits):
        digits += 1
    text = f"expected {_render(wanted, digits)}, got {_render(got, digits)}"
    if np.isnan(got).any() and not np.isnan(wanted).any():
        return f"{text}: NaN where a number was expected"
    with np.errstate(all="ignore"):
        error = np.abs(got - wanted)
    finite = np.isfinite(error)
    if finite.all() and error.size:
        return f"{text}: off by {float(error.max()):.2g}"
    return text


def array_problem(result: Any) -> str:
    """Why ``result`` is not a NumPy array of numbers ("" when it is one).

    >>> array_problem([0.5, 0.5])
    'returned a list; return a NumPy array'
    >>> array_problem(np.array([0.5, 0.5]))
    ''
    """
    if isinstance(result, Exception):
        return f"got {describe(result)}"
    if _not_numbers(result):
        return f"returned {_not_numbers(result)}"
    if _is_tensor(result):
        return "returned a torch.Tensor; this exercise asks for NumPy: return a NumPy array"
    if isinstance(result, list | tuple):
        return f"returned a {type(result).__name__}; return a NumPy array"
    if not isinstance(result, np.ndarray | np.generic):
        return f"returned {type(result).__name__} {result!r}; return a NumPy array"
    if np.asarray(result).dtype.kind not in "biuf":
        return f"returned an array of dtype {np.asarray(result).dtype}; return numbers"
    return ""


class TorchUse:
    """What :func:`torch_use` saw: the torch operations run and the largest tensor made."""

    def __init__(self) -> None:
        self.ops = 0
        self.first = ""
        self.largest = 0

    @property
    def used(self) -> bool:
        return self.ops > 0

    @property
    def problem(self) -> str:
        """Feedback for a task that asks for NumPy ("" when torch was not used)."""
        if not self.used:
            return ""
        return f"it used torch ({self.first}); this exercise asks for NumPy only"


def _torch_name(func: Any) -> str:
    """``torch.softmax``, ``Tensor.exp``, ``torch.nn.functional.softmax``: a torch function's name."""
    name = getattr(func, "__name__", None) or repr(func)
    qualname = getattr(func, "__qualname__", "") or ""
    module = getattr(func, "__module__", "") or ""
    if qualname.startswith(("Tensor", "TensorBase")):
        return f"Tensor.{name}"
    if module == "torch" or module.startswith("torch._C"):
        return f"torch.{name}"
    return f"{module}.{name}"


def _storage_bytes(value: Any) -> int:
    """The bytes of a tensor's storage (0 for a functorch wrapper, which has none of its own)."""
    try:
        return int(value.untyped_storage().nbytes())
    except (NotImplementedError, RuntimeError):
        return 0


def _tensors(value: Any, tensor_type: type) -> Iterator[Any]:
    """The tensors in a torch function's result: a tensor, or tuples, lists, dicts of them."""
    if isinstance(value, tensor_type):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item, tensor_type)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item, tensor_type)


@contextlib.contextmanager
def torch_use() -> Iterator[TorchUse]:
    """Watch the torch operations run inside the ``with`` block (none if torch is not loaded).

    It uses torch's public :class:`torch.overrides.TorchFunctionMode`, which sees every call
    of a torch function and of a tensor method or operator from Python: ``torch.softmax``,
    ``torch.nn.functional.softmax``, ``Tensor.softmax``, ``torch.exp``, ``t + 1``, a tensor
    made with ``torch.tensor`` or ``torch.as_tensor``, NumPy reading a tensor
    (``np.exp(t)``, ``np.asarray(t)``), ``backward`` and autograd or ``torch.func``
    Jacobians. ``torch.from_numpy`` alone is not seen (a tensor that is then used is), nor
    are the operations that run inside one call (a call counts once, with its result;
    :func:`peak_memory` looks deeper). Importing torch inside the block counts as using it.

    >>> with torch_use() as seen:
    ...     _ = np.ones(3).sum()
    >>> seen.used
    False
    """
    seen = TorchUse()
    torch = sys.modules.get("torch")
    if torch is None:
        yield seen
        if "torch" in sys.modules:
            seen.ops, seen.first = 1, "import torch"
        return
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            out = func(*args, **(kwargs or {}))
            seen.ops += 1
            seen.first = seen.first or _torch_name(func)
            for tensor in _tensors(out, torch.Tensor):
                seen.largest = max(seen.largest, _storage_bytes(tensor))
            return out

    with Watch():
        yield seen


def torch_dispatch_mode() -> type:
    """torch's ``TorchDispatchMode``, the one private torch API the framework uses.

    :func:`peak_memory` needs the tensors made *inside* one torch call, which no public API
    shows: ``torch.einsum("i,j,j->i", s, s, v)`` returns n numbers but first contracts
    ``s`` with ``s`` into an n x n outer product (72 MB at n = 3000). The public
    :class:`torch.overrides.TorchFunctionMode` (:func:`torch_use`) sees only the einsum and
    its result; the dispatcher below it sees every ATen operation, intermediates included.
    Raises a ``RuntimeError`` saying so when a torch release moves it
    (``tests/test_exercises_framework.py`` checks that it is there).
    """
    try:
        from torch.utils._python_dispatch import TorchDispatchMode
    except ImportError as error:
        raise RuntimeError(
            "torch.utils._python_dispatch.TorchDispatchMode (private) is gone from this torch: "
            "softmax_lab.exercises.peak_memory needs another way to see the tensors made inside "
            "one torch call (see its docstring)"
        ) from error
    return TorchDispatchMode


@contextlib.contextmanager
def _torch_allocations(seen: TorchUse) -> Iterator[None]:
    """Raise ``seen.largest`` to the largest tensor any ATen operation in the block makes."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return

    class Watch(torch_dispatch_mode()):  # type: ignore[misc]
        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            out = func(*args, **(kwargs or {}))
            for tensor in _tensors(out, torch.Tensor):
                seen.largest = max(seen.largest, _storage_bytes(tensor))
            return out

    with Watch():
        yield


_WARMED_UP: set[str] = set()


def _warm_up() -> None:
    """Run the watchers once, before anything is measured, so that nothing they set up on
    first use counts towards a learner's peak: entering torch's dispatch mode the first
    time imports about 800 modules (64 MB, seconds).

    Once per process, and once more after torch is imported (its watchers differ).
    """
    key = "torch" if "torch" in sys.modules else "numpy"
    if key in _WARMED_UP:
        return
    _WARMED_UP.add(key)
    seen = TorchUse()
    with torch_use(), _torch_allocations(seen):
        np.ones(2).sum()
        if key == "torch":
            torch = sys.modules["torch"]
            torch.softmax(torch.ones(2, dtype=torch.float64), 0).numpy()


def peak_memory(function: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """Run ``function(*args)``; return its result and the peak bytes it allocated.

    NumPy reports its array buffers to :mod:`tracemalloc`, so an n x n float64
    intermediate shows up as about ``8 * n**2`` bytes. torch's allocator is invisible
    to tracemalloc, so the largest tensor made during the call counts too, the
    intermediates inside one torch call included (seen through torch's private dispatch
    mode, :func:`torch_dispatch_mode`): the peak is the larger of the two. The watchers are
    warmed up once beforehand, so the first call in a process reports what the function
    itself allocated, not their set-up.

    >>> _, peak = peak_memory(np.ones, (1000, 1000))
    >>> peak >= 8_000_000
    True
    """
    _warm_up()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        with torch_use() as seen, _torch_allocations(seen):
            result = function(*args)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, max(peak, seen.largest, 0)


def same_number(got: float | None, expected: float, rtol: float = 1e-12) -> bool:
    """``got`` equals ``expected`` up to ``rtol`` (also 1e-12 absolute); inf and NaN exactly."""
    if got is None:
        return False
    if math.isinf(expected) or math.isnan(expected):
        return got == expected or (math.isnan(expected) and math.isnan(got))
    return math.isclose(got, expected, rel_tol=rtol, abs_tol=1e-12)
