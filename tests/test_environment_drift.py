"""pyproject.toml, environment.yml and binder/requirements.txt pin the same versions.

Stored notebook outputs are compared character by character, so a learner who installs
with conda or opens Binder must get the versions that produced them. Each file is read
into ``{normalised name: version specifier}`` and compared with pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
BINDER = ROOT / "binder"

# Extras of pyproject.toml whose pins every environment must carry.
EXTRAS = ("notebooks", "test")
# The same package under another name: conda-forge's names on the left.
ALIASES = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
# Not pins of the project: the interpreter and the installer.
NOT_PINS = {"python", "pip"}
# CI tooling with no use inside the Binder image (the browser check needs Chromium,
# repo2docker builds images): binder/requirements.txt leaves exactly these out.
BINDER_OMITS = {"playwright", "jupyter-repo2docker"}


def normalise(name: str) -> str:
    """PEP 503 name (lower case, runs of -_. become -), with conda-forge aliases resolved."""
    name = re.sub(r"[-_.]+", "-", name.strip()).lower()
    return ALIASES.get(name, name)


def without_local_label(specifier: str) -> str:
    """``==2.13.0+cpu`` -> ``==2.13.0``: a local build label names the same release."""
    return re.sub(r"\+[A-Za-z0-9.]+$", "", specifier)


def pyproject_pins(text: str) -> dict[str, str]:
    """Runtime dependencies plus the notebook and test extras of a pyproject.toml."""
    project = tomllib.loads(text)["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    pins = {}
    for line in lines:
        requirement = Requirement(line)
        pins[normalise(requirement.name)] = str(requirement.specifier)
    return pins


def requirements_pins(text: str) -> dict[str, str]:
    """Pins of a pip requirements file; options (``--extra-index-url``, ``-e .``) skipped."""
    pins = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        pins[normalise(requirement.name)] = without_local_label(str(requirement.specifier))
    return pins


def conda_pins(text: str) -> dict[str, str]:
    """Pins of a conda environment file: conda packages and its ``pip:`` section.

    A conda spec ``numpy==2.4.6`` becomes ``==2.4.6``; the fuzzy ``numpy=2.4.6``
    (any 2.4.6.*) stays ``=2.4.6`` so that it never counts as an exact pin.
    """
    pins = {}
    for entry in yaml.safe_load(text)["dependencies"]:
        if isinstance(entry, dict):
            pins.update(requirements_pins("\n".join(entry.get("pip", []))))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*((?:==|=|>=|<=|>|<|!=)?\s*\S*)", entry.strip())
        assert match, f"cannot read the conda spec {entry!r}"
        name = normalise(match.group(1))
        if name not in NOT_PINS:
            pins[name] = match.group(2).replace(" ", "")
    return pins


def drift(reference: dict[str, str], other: dict[str, str], where: str) -> list[str]:
    """Every difference between two pin tables, one readable line each."""
    found = []
    for name in sorted(reference.keys() - other.keys()):
        found.append(f"{where} lacks {name}{reference[name]} (pinned in pyproject.toml)")
    for name in sorted(other.keys() - reference.keys()):
        found.append(f"{where} pins {name}{other[name]}, which pyproject.toml does not list")
    for name in sorted(reference.keys() & other.keys()):
        if reference[name] != other[name]:
            found.append(
                f"{where} pins {name}{other[name]}, pyproject.toml pins {name}{reference[name]}"
            )
    return found


@pytest.fixture(scope="module")
def pinned() -> dict[str, str]:
    return pyproject_pins(PYPROJECT.read_text())


# --- the real files -------------------------------------------------------------------


def test_torch_is_pinned_exactly_in_pyproject() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    torch = [Requirement(line) for line in dependencies if Requirement(line).name == "torch"]
    assert len(torch) == 1
    # A range (or a bare name) pulls a multi-GB CUDA build: never loosen this pin.
    assert str(torch[0].specifier) == "==2.13.0"


def test_every_pyproject_pin_is_exact(pinned: dict[str, str]) -> None:
    loose = {
        name: spec
        for name, spec in pinned.items()
        if not re.fullmatch(r"==[0-9]+(\.[0-9]+)*", spec)
    }
    assert loose == {}, "stored outputs need exact pins (==X.Y.Z)"


def test_environment_yml_matches_pyproject(pinned: dict[str, str]) -> None:
    assert drift(pinned, conda_pins(ENVIRONMENT.read_text()), "environment.yml") == []


def test_environment_yml_uses_conda_forge_python_311_and_installs_the_package() -> None:
    environment = yaml.safe_load(ENVIRONMENT.read_text())
    assert environment["channels"] == ["conda-forge"]
    assert "python=3.11" in environment["dependencies"]
    pip_section = next(e["pip"] for e in environment["dependencies"] if isinstance(e, dict))
    assert "-e ." in pip_section


def test_binder_matches_pyproject(pinned: dict[str, str]) -> None:
    assert BINDER_OMITS <= pinned.keys(), "BINDER_OMITS names a package pyproject no longer pins"
    expected = {name: spec for name, spec in pinned.items() if name not in BINDER_OMITS}
    binder = requirements_pins((BINDER / "requirements.txt").read_text())
    assert drift(expected, binder, "binder/requirements.txt") == []


def test_binder_takes_the_cpu_only_torch_build() -> None:
    text = (BINDER / "requirements.txt").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "torch==2.13.0+cpu" in lines
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines


def test_binder_uses_python_311_and_installs_the_package() -> None:
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-cache-dir --no-deps -e ." in post_build.read_text()


# --- the comparison itself: it must notice drift ----------------------------------------

PYPROJECT_TOML = """
[project]
name = "demo"
dependencies = ["numpy==2.4.6", "torch==2.13.0"]
[project.optional-dependencies]
notebooks = ["jupyterlab==4.6.6"]
test = ["pytest==9.2.0"]
"""


def test_drift_reports_a_changed_version() -> None:
    conda = """
dependencies:
  - python=3.11
  - numpy==2.4.5
  - jupyterlab==4.6.6
  - pytest==9.2.0
  - pip:
      - torch==2.13.0
"""
    found = drift(pyproject_pins(PYPROJECT_TOML), conda_pins(conda), "environment.yml")
    assert found == ["environment.yml pins numpy==2.4.5, pyproject.toml pins numpy==2.4.6"]


def test_drift_reports_a_missing_and_an_extra_package() -> None:
    requirements = "numpy==2.4.6\ntorch==2.13.0+cpu\npytest==9.2.0\npandas==3.0.0\n"
    found = drift(pyproject_pins(PYPROJECT_TOML), requirements_pins(requirements), "binder")
    assert found == [
        "binder lacks jupyterlab==4.6.6 (pinned in pyproject.toml)",
        "binder pins pandas==3.0.0, which pyproject.toml does not list",
    ]


def test_drift_reports_a_fuzzy_conda_pin() -> None:
    conda = "dependencies:\n  - numpy=2.4.6\n  - pytorch==2.13.0\n  - jupyterlab==4.6.6\n  - pytest==9.2.0\n"
    found = drift(pyproject_pins(PYPROJECT_TOML), conda_pins(conda), "environment.yml")
    assert found == ["environment.yml pins numpy=2.4.6, pyproject.toml pins numpy==2.4.6"]


def test_drift_reports_a_loosened_torch() -> None:
    requirements = "numpy==2.4.6\ntorch>=2.13\njupyterlab==4.6.6\npytest==9.2.0\n"
    found = drift(pyproject_pins(PYPROJECT_TOML), requirements_pins(requirements), "binder")
    assert found == ["binder pins torch>=2.13, pyproject.toml pins torch==2.13.0"]


def test_names_and_local_labels_are_normalised_not_reported() -> None:
    assert normalise("Scikit_Learn") == normalise("scikit.learn") == "scikit-learn"
    assert normalise("pytorch") == "torch"
    assert normalise("matplotlib-base") == "matplotlib"
    conda = """
dependencies:
  - pip
  - NumPy==2.4.6
  - pytorch==2.13.0
  - JupyterLab==4.6.6
  - pip:
      - PyTest==9.2.0  # a comment
      - -e .
"""
    assert drift(pyproject_pins(PYPROJECT_TOML), conda_pins(conda), "environment.yml") == []
    requirements = (
        "--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "numpy==2.4.6\ntorch==2.13.0+cpu\njupyterlab==4.6.6\npytest==9.2.0\n"
    )
    assert drift(pyproject_pins(PYPROJECT_TOML), requirements_pins(requirements), "b") == []


def test_files_on_disk_are_read_the_same_way(tmp_path: Path) -> None:
    """The readers work on files too: a drifted copy of the real environment.yml is caught."""
    drifted = ENVIRONMENT.read_text().replace("scipy==1.17.1", "scipy==1.16.0")
    assert drifted != ENVIRONMENT.read_text()
    copy = tmp_path / "environment.yml"
    copy.write_text(drifted)
    found = drift(pyproject_pins(PYPROJECT.read_text()), conda_pins(copy.read_text()), "copy")
    assert found == ["copy pins scipy==1.16.0, pyproject.toml pins scipy==1.17.1"]
