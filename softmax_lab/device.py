"""Choose where PyTorch computes: the accelerator torch finds (a CUDA GPU, Apple's MPS, ...), or the CPU.

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


def pick_device() -> torch.device:
    """Return the accelerator torch finds (CUDA, Apple's MPS, XPU, ...), else the CPU.

    Returns
    -------
    torch.device
        ``torch.accelerator.current_accelerator()`` when ``torch.accelerator.is_available()``
        (at most one accelerator type is available in a torch build), otherwise
        ``torch.device("cpu")``.

    Notes
    -----
    Training is bit-for-bit reproducible only on the CPU (with
    ``torch.use_deterministic_algorithms(True)`` and fixed seeds). On a GPU the same
    code runs unchanged, and its results agree with the CPU's to rounding.

    Examples
    --------
    >>> str(pick_device()) in {"cuda", "mps", "xpu", "cpu"}
    True
    """
    if torch.accelerator.is_available():
        accelerator = torch.accelerator.current_accelerator()
        if accelerator is not None:
            return torch.device(accelerator.type)
    return torch.device("cpu")
