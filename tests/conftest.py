"""Shared helpers for the tests of the exercise checkers (``softmax_lab.exercises``).

Import them in a test file with ``from tests.conftest import fails, fails_only, stub``.
"""

from __future__ import annotations

from softmax_lab.exercises import Report


def stub(*args, **kwargs):
    """A learner's unfinished exercise cell: the checkers must say "not finished yet"."""
    raise NotImplementedError("your code here")


def forgets_return(*args, **kwargs):
    """A learner's function without ``return``: each check must say "returned None"."""


def fails(report: Report, check: str) -> bool:
    """True when a failed check's message starts with ``check``."""
    return any(line.startswith(check) for line in report.failures)


def fails_only(report: Report, check: str) -> bool:
    """True when exactly one check failed and its message starts with ``check``."""
    lines = report.failures
    return not report.unfinished and len(lines) == 1 and lines[0].startswith(check)


def says(report: Report, text: str) -> bool:
    """True when some failed check's message (hint included) contains ``text``."""
    return any(text in line for line in report.failures)


def unfinished(report: Report) -> bool:
    """True when the report says "not finished yet" (and so has not passed)."""
    return report.unfinished and not report.passed and "not finished yet" in str(report)


def none_reported(report: Report) -> bool:
    """True when a ``None`` result is reported check by check, not as "not finished yet"."""
    return (
        not report.unfinished
        and not report.passed
        and says(report, "returned None - missing `return`?")
    )
