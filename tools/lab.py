"""Start JupyterLab on notebooks/ the way ``make lab`` does: 127.0.0.1 only, token auth.

Usage: ``python -m tools.lab [--port 8888] [--no-browser]``. The server, and so every
kernel it starts, runs in the kernel environment of ``tools.notebooks``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from tools.notebooks import NOTEBOOKS, kernel_env

FIRST_NOTEBOOK = "00_start_here.ipynb"


def lab_command(
    port: int,
    token: str,
    *,
    open_browser: bool = True,
    extra: list[str] | None = None,
    root_dir: Path | str | None = None,
) -> list[str]:
    """The JupyterLab command line: loopback only, a token required, opening notebook 00.

    ``root_dir`` serves another folder than notebooks/ (the browser check serves a
    temporary copy, so autosave never writes into the committed notebooks).
    """
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={NOTEBOOKS if root_dir is None else root_dir}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
    ]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append(
            "--allow-root"
        )  # containers and CI run as root; ordinary users never get this flag
    return command + (extra or [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    token = secrets.token_hex(24)
    command = lab_command(args.port, token, open_browser=not args.no_browser)
    print(
        f"JupyterLab: http://127.0.0.1:{args.port}/lab/tree/{FIRST_NOTEBOOK}?token={token}",
        flush=True,
    )
    os.execve(command[0], command, kernel_env())


if __name__ == "__main__":
    sys.exit(main())
