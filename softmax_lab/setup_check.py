"""Is this environment the one the notebooks were executed in? A self-check for notebook 00.

The pinned versions are read from softmax_lab's own installed metadata (the exact
``==`` pins in pyproject.toml), so there is one list of versions, not two.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata

__all__ = ["pinned_versions", "environment_report"]

CHECKED = ("numpy", "scipy", "torch", "scikit-learn", "matplotlib")
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^;\s]+)")


def pinned_versions() -> dict[str, str]:
    """Package name -> exact pinned version, for softmax_lab's runtime dependencies.

    Examples
    --------
    >>> pinned_versions()["torch"]
    '2.13.0'
    """
    pins = {}
    for requirement in metadata.requires("softmax-lab") or []:
        if "extra ==" in requirement:
            continue
        match = PIN.match(requirement.replace(" ", ""))
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_report(pins: dict[str, str] | None = None) -> list[str]:
    """One line per check: Python, each pinned package, and whether CUDA is available.

    A version that differs from the pin is flagged with what to do about it: the
    notebooks still run, but printed numbers may differ in the last digits.

    Examples
    --------
    >>> environment_report({"numpy": "0.0.1"})[1]  # doctest: +ELLIPSIS
    'DIFFERS  numpy ... (pinned 0.0.1): stored outputs may differ; run `make lab` ...'
    """
    pins = pinned_versions() if pins is None else pins
    python = platform.python_version_tuple()
    ok = (int(python[0]), int(python[1])) >= (3, 11)
    lines = [f"{'OK' if ok else 'TOO OLD':8} Python {python[0]}.{python[1]} (needs 3.11 or newer)"]
    for name in (n for n in CHECKED if n in pins):
        have, want = _installed(name), pins[name]
        if have is None:
            lines.append(
                f"MISSING  {name} (pinned {want}): install it with `make lab` or `pip install -e .`"
            )
        elif have.split("+")[0] == want:
            lines.append(f"OK       {name} {have}")
        else:
            lines.append(
                f"DIFFERS  {name} {have} (pinned {want}): stored outputs may differ; "
                "run `make lab` for the pinned environment"
            )
    try:
        import torch

        lines.append(f"CUDA available: {torch.cuda.is_available()}")
    except ImportError:
        lines.append("CUDA available: unknown (torch is not installed)")
    return lines
