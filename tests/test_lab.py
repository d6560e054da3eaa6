"""`make lab` is safe and real: JupyterLab on 127.0.0.1 only, and only with the token.

The server is started with tools.lab.lab_command, exactly what ``make lab`` runs, on a
free port, with its config and runtime folders in a temporary directory.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import lab
from tools.notebooks import KERNEL_ENV, NOTEBOOKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def non_loopback_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# --- the command line, no server needed -------------------------------------------------


def test_lab_command_is_loopback_only_with_a_token() -> None:
    command = lab.lab_command(8899, "t0k3n", open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert "--ServerApp.port=8899" in command
    assert "--ServerApp.port_retries=0" in command
    assert "--IdentityProvider.token=t0k3n" in command
    assert f"--ServerApp.root_dir={NOTEBOOKS}" in command
    assert "--LabApp.default_url=/lab/tree/00_start_here.ipynb" in command
    assert "--no-browser" in command
    assert "--no-browser" not in lab.lab_command(8899, "t0k3n", open_browser=True)
    assert not any(arg.startswith("--ServerApp.ip=0") for arg in command)


def test_main_starts_lab_in_the_kernel_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = {}
    monkeypatch.setattr(
        lab.os, "execve", lambda path, argv, env: started.update(argv=argv, env=env)
    )
    monkeypatch.setenv("MPLBACKEND", "agg")  # a reader's shell setting must not reach the kernels
    lab.main(["--port", "8899", "--no-browser"])
    assert started["env"]["MPLBACKEND"] == KERNEL_ENV["MPLBACKEND"]
    assert started["env"]["PYTHONHASHSEED"] == KERNEL_ENV["PYTHONHASHSEED"]
    assert "--ServerApp.port=8899" in started["argv"]
    assert "http://127.0.0.1:8899/lab/tree/00_start_here.ipynb?token=" in capsys.readouterr().out


@pytest.mark.parametrize(("euid", "allowed"), [(0, True), (1000, False)])
def test_allow_root_only_for_root(
    monkeypatch: pytest.MonkeyPatch, euid: int, allowed: bool
) -> None:
    monkeypatch.setattr(lab.os, "geteuid", lambda: euid)
    assert ("--allow-root" in lab.lab_command(8888, "t")) is allowed


# --- a real server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, list[str]]]:
    """A running JupyterLab: (port, token, command); stopped after the tests."""
    home = tmp_path_factory.mktemp("jupyter")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        # JUPYTER_DATA_DIR stays: lab's assets and the kernel live in the venv's data dir.
    }
    port, token = free_port(), secrets.token_hex(24)
    command = lab.lab_command(port, token, open_browser=False)
    log = home / "lab.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()}")
            try:
                if get(port, "/api/status", {"Authorization": f"token {token}"}).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 90 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield port, token, command
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_status_answers_with_the_token(server: tuple[int, str, list[str]]) -> None:
    port, token, _ = server
    assert get(port, "/api/status", {"Authorization": f"token {token}"}).status == 200
    assert get(port, f"/api/status?token={token}").status == 200


@pytest.mark.slow
def test_status_refuses_without_the_token(server: tuple[int, str, list[str]]) -> None:
    port, token, _ = server
    assert get(port, "/api/status").status == 403
    assert get(port, "/api/status", {"Authorization": "token wrong"}).status == 403
    assert get(port, "/api/contents").status == 403


@pytest.mark.slow
def test_lab_opens_notebook_00(server: tuple[int, str, list[str]]) -> None:
    port, token, _ = server
    response = get(port, "/", {"Authorization": f"token {token}"})
    assert response.status in (301, 302)
    location = response.getheader("Location", "").split("?")[0]
    assert location.endswith("/lab/tree/00_start_here.ipynb")
    assert get(port, "/lab", {"Authorization": f"token {token}"}).status == 200
    # The server's root is notebooks/: notebook 00 is at its top level.
    notebook = get(
        port, "/api/contents/00_start_here.ipynb?content=0", {"Authorization": f"token {token}"}
    )
    assert notebook.status == 200


@pytest.mark.slow
def test_listens_on_loopback_only(server: tuple[int, str, list[str]]) -> None:
    port, _, command = server
    assert "--ServerApp.ip=127.0.0.1" in command
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    # Control: a socket bound to all interfaces IS reachable on that address, so a
    # refused connection below means the server is bound to loopback, not a dead route.
    with socket.socket() as everywhere:
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen()
        with socket.socket() as probe:
            probe.settimeout(5)
            try:
                probe.connect((address, everywhere.getsockname()[1]))
            except OSError:
                pytest.skip(f"{address} is not reachable from this machine itself")
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(5)
        probe.connect((address, port))


def test_the_notebooks_folder_exists() -> None:
    # root_dir must exist or the server refuses to start.
    assert Path(NOTEBOOKS).is_dir()
