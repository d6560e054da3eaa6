"""repo2docker (what mybinder.org builds with) reads binder/ and would build from it.

``repo2docker --no-build --debug .`` needs no Docker engine: it parses the configuration
and prints the Dockerfile it would build. It does not resolve package names, so the
versions themselves are checked by tests/test_environment_drift.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPO2DOCKER = Path(sys.executable).parent / "repo2docker"


@pytest.fixture(scope="module")
def dockerfile() -> str:
    if not REPO2DOCKER.exists():
        pytest.fail(f"{REPO2DOCKER} is missing: install the test extra (make setup)")
    result = subprocess.run(
        [str(REPO2DOCKER), "--no-build", "--debug", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, f"repo2docker failed:\n{result.stdout}\n{result.stderr}"
    # The log (stderr) says which Python it chose from binder/runtime.txt.
    assert "python=3.11" in result.stderr
    return result.stdout


@pytest.mark.slow
def test_repo2docker_installs_binder_requirements(dockerfile: str) -> None:
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile


@pytest.mark.slow
def test_repo2docker_runs_binder_post_build(dockerfile: str) -> None:
    assert "RUN ./binder/postBuild" in dockerfile


@pytest.mark.slow
def test_repo2docker_ignores_the_top_level_package_files(dockerfile: str) -> None:
    # With binder/ present repo2docker reads only that folder: the package is installed
    # by postBuild, not by an automatic `pip install .` of pyproject.toml.
    assert "pip install --no-cache-dir .\n" not in dockerfile
    assert "environment.yml" not in dockerfile
