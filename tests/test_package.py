"""The package's shape: lazy top-level names, and NumPy chapters that never load torch."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import softmax_lab


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


HEAVY = {"torch", "scipy", "sklearn", "matplotlib", "mpmath"}


def test_import_loads_no_heavy_library():
    assert not HEAVY & _modules_after("import softmax_lab")


def test_numpy_chapters_never_load_torch_or_scipy():
    code = (
        "import softmax_lab as sl\n"
        "sl.softmax([1.0, 2.0]); sl.log_softmax([1.0]); sl.logsumexp([1.0])\n"
        "sl.softmax_jvp([1.0, 2.0], [1.0, 0.0]); sl.cross_entropy([[1.0, 2.0]], [0])\n"
        "sl.attention_weights([[1.0]], [[1.0]]); sl.online_softmax([1.0, 2.0], 1)\n"
        "sl.sparsemax([1.0, 2.0])"
    )
    assert not HEAVY & _modules_after(code)


@pytest.mark.parametrize("name", softmax_lab.__all__)
def test_every_public_name_resolves_to_its_module(name):
    value = getattr(softmax_lab, name)
    module = importlib.import_module(value.__module__)
    assert name in module.__all__, f"{name} missing from {module.__name__}.__all__"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'sofmax'"):
        softmax_lab.sofmax  # noqa: B018


def test_dir_lists_the_lazy_names():
    assert {"softmax", "tiled_attention", "train"} <= set(dir(softmax_lab))
