"""Exercise checkers for the notebooks: friendly feedback instead of tracebacks.

Each chapter has a module here (``softmax_lab.exercises.stability`` for notebook 03,
and so on) whose ``check_*`` functions take the learner's function, try it on cases
chosen to catch the usual mistakes, and return a :class:`Report`. A report prints as
a short list of what passed and what did not, and ``report.passed`` says whether all
checks passed; an unfinished exercise (one that raises ``NotImplementedError`` or
returns ``None``) is reported as such, never as a crash.

Examples
--------
>>> report = Report("Exercise 0.1 - add one")
>>> report.expect(1 + 1 == 2, "adds one to 1")
True
>>> report.expect(2 + 1 == 4, "adds one to 2", hint="got 3")
False
>>> print(report)
Exercise 0.1 - add one: 1 of 2 checks passed
  ok    adds one to 1
  FAIL  adds one to 2 (got 3)
>>> report.failures
['adds one to 2 (got 3)']
>>> report.passed
False
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


class NotFinished(Exception):
    """Raised inside a check when the learner's function is still a stub."""


class Report:
    """The outcome of one exercise check: a list of (passed, message) lines."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[tuple[bool, str]] = []
        self.unfinished = False

    def expect(self, condition: bool, message: str, *, hint: str = "") -> bool:
        """Record one check; ``hint`` is shown only when it fails."""
        ok = bool(condition)
        self.lines.append((ok, message if ok or not hint else f"{message} ({hint})"))
        return ok

    @property
    def failures(self) -> list[str]:
        """The messages of the checks that failed (hints included)."""
        return [message for ok, message in self.lines if not ok]

    @property
    def passed(self) -> bool:
        return bool(self.lines) and not self.unfinished and all(ok for ok, _ in self.lines)

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


def call(candidate: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; turn a stub into :class:`NotFinished`.

    NumPy's floating-point warnings are silenced (the report says what went wrong), and any
    other exception is returned (not raised) so the check can report it by name.
    """
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = candidate(*args, **kwargs)
    except NotImplementedError as stub:
        raise NotFinished from stub
    except Exception as error:  # a learner's bug becomes feedback, not a traceback
        return error
    if result is None:
        raise NotFinished
    return result


def run_checks(title: str, checks: Callable[[Report], None]) -> Report:
    """Run ``checks(report)``, marking the report unfinished if the candidate is a stub."""
    report = Report(title)
    try:
        checks(report)
    except NotFinished:
        report.unfinished = True
    return report


def as_floats(result: Any) -> np.ndarray | None:
    """The learner's result as a float array (tensors included), or None when it is not numbers."""
    if isinstance(result, Exception):
        return None
    if hasattr(result, "detach"):  # a torch tensor, possibly requiring grad
        result = result.detach().cpu().numpy()
    try:
        return np.asarray(result, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def show(values: np.ndarray | None, result: Any) -> str:
    """A short, rounded rendering of a result for feedback lines."""
    if values is None:
        return describe(result)
    if values.ndim == 0:
        return f"{float(values):.4f}"
    return np.array2string(values.astype(float), precision=4, suppress_small=True)


def describe(value: Any) -> str:
    """A short description of a result for feedback lines: the exception, or the value."""
    if isinstance(value, Exception):
        return f"raised {type(value).__name__}: {value}"
    return repr(value)
