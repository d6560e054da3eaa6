"""Choose where PyTorch computes: a CUDA GPU, Apple's MPS, or the CPU.

Notebooks call :func:`pick_device` once in their set-up cell, move the model and the
data there, and print the choice as ``print(f"device: {device}")`` (a line that the
nbval sanitizer rewrites, so stored outputs do not depend on the machine).

Examples
--------
>>> device = pick_device()
>>> device.type in {"cuda", "mps", "cpu"}
True
"""

from __future__ import annotations

import torch

__all__ = ["pick_device"]


def _mps_available() -> bool:
    """Whether Apple's Metal backend can be used (False on builds without it)."""
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device() -> torch.device:
    """Return the fastest device available: ``cuda``, else ``mps``, else ``cpu``.

    Returns
    -------
    torch.device
        ``torch.device("cuda")`` when ``torch.cuda.is_available()``, otherwise
        ``torch.device("mps")`` when Apple's Metal backend is available, otherwise
        ``torch.device("cpu")``.

    Notes
    -----
    Training is bit-for-bit reproducible only on the CPU (with
    ``torch.use_deterministic_algorithms(True)`` and fixed seeds). On a GPU the same
    code runs unchanged, and its results agree with the CPU's to rounding.

    Examples
    --------
    >>> str(pick_device()) in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")
