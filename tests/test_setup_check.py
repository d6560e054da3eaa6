"""The environment self-check of notebook 00."""

import tomllib
from pathlib import Path

from softmax_lab.setup_check import environment_report, pinned_versions

ROOT = Path(__file__).resolve().parent.parent


def test_pins_come_from_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = dict(dependency.split("==") for dependency in project["dependencies"])
    assert pinned_versions() == expected


def test_report_flags_a_differing_package():
    lines = environment_report({"numpy": "0.0.1", "torch": "2.13.0", "scipy": "99"})
    assert lines[0].startswith("OK") and "Python 3." in lines[0]
    assert lines[1].startswith("DIFFERS  numpy")
    assert any(line.startswith("OK       torch 2.13.0") for line in lines)
    assert lines[-1].startswith("CUDA available:")


def test_report_flags_a_missing_package(monkeypatch):
    import softmax_lab.setup_check as environment

    monkeypatch.setattr(environment, "_installed", lambda name: None if name == "scipy" else "1.0")
    lines = environment_report({"scipy": "1.17.1", "numpy": "1.0"})
    assert lines[1].startswith("OK       numpy 1.0")
    assert lines[2].startswith("MISSING  scipy (pinned 1.17.1)")
