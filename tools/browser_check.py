"""Run every notebook the way a learner does: JupyterLab, a real browser, "Run All Cells".

Usage: ``python -m tools.browser_check notebooks [more notebooks or folders]``
(what ``make test-browser`` runs).

The notebooks are copied to a temporary folder (JupyterLab's autosave then never touches
the committed files) and served by JupyterLab on 127.0.0.1, a free port and a random
token, with its config, runtime, settings and workspace folders in the same temporary
place. Debian's ``chromium`` package, driven by Playwright, opens each notebook, runs all
cells through JupyterLab's own command and waits for the kernel to go idle. A notebook
fails when what JupyterLab then holds breaks the rules of ``tools.notebooks.problems``
(the ones ``make check-notebooks`` applies to the committed files: every code cell
executed, counts 1..n, an error only in a cell tagged ``raises-exception``; cells numbered
as nbval numbers them), or when it stores a figure in git and the page shows no rendered
image. A screenshot of each whole notebook lands in artifacts/browser/.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.lab import lab_command
from tools.notebooks import find, kernel_env, problems

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed as root (containers, CI); harmless otherwise
    "--disable-background-networking",  # offline machines otherwise flood refused connections
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
NOTEBOOK_TIMEOUT_S = 120.0
SERVER_START_TIMEOUT_S = 60.0
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 30_000  # px: keeps a runaway page from making a giant PNG
INSTALL_HINT = (
    "browser check needs Debian's chromium at /usr/bin/chromium: "
    "run `sudo apt-get update && sudo apt-get install -y chromium`, then retry"
)

# JupyterLab settings for an unattended run: no "get Jupyter news?" popup over the
# screenshots, no update check, and every cell attached to the page (windowed
# rendering would leave off-screen figures out of the screenshot and the image check),
# no blank "scroll past the end" space (it grows with the window, so no height would fit).
SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none", "scrollPastEnd": False},
}


class CheckError(Exception):
    """A problem that stops one notebook's check, with a message for the reader."""


# --------------------------------------------------------------------------- pure parts


def stores_image(notebook: dict[str, Any]) -> bool:
    """Whether a notebook file stores at least one image/png output (a figure)."""
    return any(
        "image/png" in output.get("data", {})
        for cell in notebook.get("cells", [])
        for output in cell.get("outputs", [])
    )


# --------------------------------------------------------------------------- set-up


def ensure_chromium() -> None:
    """Install Debian's chromium where we may (root, or sudo without a password)."""
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    ):
        prefix = ["sudo", "-n"]
    else:
        raise SystemExit(INSTALL_HINT)
    if not shutil.which("apt-get"):
        raise SystemExit(INSTALL_HINT)
    print("browser check: installing chromium with apt-get (once per machine) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(prefix + command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-2000:] + result.stderr[-2000:])
            raise SystemExit(f"browser check: `{' '.join(command)}` failed. {INSTALL_HINT}")
    if not CHROMIUM.exists():
        raise SystemExit(INSTALL_HINT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_notebooks(notebooks: list[Path], root: Path) -> list[str]:
    """Copy each notebook's folder into ``root``; return the notebooks' server paths.

    Whole folders travel, so a notebook finds the files beside it (images, data).
    """
    copied: dict[Path, str] = {}
    server_paths: list[str] = []
    for notebook in notebooks:
        folder = notebook.resolve().parent
        if folder not in copied:
            name = folder.name or "root"
            while name in copied.values():
                name += "_"
            shutil.copytree(
                folder,
                root / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
            copied[folder] = name
        server_paths.append(f"{copied[folder]}/{notebook.name}")
    return server_paths


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start_session(self, path: str, kernel: str) -> None:
        body = {"path": path, "name": path.rsplit("/", 1)[-1], "type": "notebook"}
        self.api("POST", "/api/sessions", {**body, "kernel": {"name": kernel}})

    def shutdown_sessions(self) -> None:
        """Shut every kernel session down, so the next notebook starts from scratch."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")


@contextmanager
def running_lab(tmp: Path) -> Iterator[Lab]:
    root = tmp / "root"
    dirs = {name: tmp / name for name in ("config", "runtime", "settings", "workspaces")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(SETTING_OVERRIDES))
    env = kernel_env(
        {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        }
    )
    port, token = free_port(), secrets.token_hex(24)
    command = lab_command(
        port,
        token,
        open_browser=False,
        root_dir=root,
        extra=[
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.news_url=None",  # no news feed, no "get Jupyter news?" popup
            "--ServerApp.log_level=WARN",
        ],
    )
    log = tmp / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, cwd=root, stdout=log_file, stderr=subprocess.STDOUT
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise SystemExit(f"browser check: JupyterLab exited at start:\n{_tail(log)}")
            try:
                lab.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"browser check: JupyterLab did not answer within "
                        f"{SERVER_START_TIMEOUT_S:.0f} s:\n{_tail(log)}"
                    ) from None
                time.sleep(0.25)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- the browser

# Helpers installed in the page: find the notebook panel by its path, report kernel state.
PAGE_HELPERS = """
window.__bc = {
  panel(path) {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of app.shell.widgets('main')) {
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
  },
  kernel(path) {
    const panel = this.panel(path);
    const session = panel && panel.sessionContext.session;
    return session ? session.kernel : null;
  },
  ready(path) {
    const panel = this.panel(path);
    const kernel = this.kernel(path);
    return !!(panel && panel.context.isReady && panel.content.model && kernel
      && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
  },
};
"""

WAIT_READY = "(path) => window.__bc !== undefined && window.__bc.ready(path)"

RUN_ALL = """(path) => {
  const app = window.jupyterapp;
  const panel = window.__bc.panel(path);
  app.shell.activateById(panel.id);
  window.__bc.run = {done: false, error: null};
  app.commands.execute('notebook:run-all-cells').then(
    () => { window.__bc.run.done = true; },
    (error) => { window.__bc.run.done = true; window.__bc.run.error = String(error); });
}"""

WAIT_FINISHED = """(path) => {
  const kernel = window.__bc.kernel(path);
  return window.__bc.run.done && kernel !== null && kernel.status === 'idle';
}"""

RENDERED_IMAGES = """(path) => {
  const panel = window.__bc.panel(path);
  return Array.from(panel.node.querySelectorAll('.jp-OutputArea-output img'))
    .filter((img) => img.complete && img.naturalWidth > 0).length;
}"""

# The window height at which the notebook's own scrolling panel shows all of it.
FULL_HEIGHT = """(path) => {
  const app = window.jupyterapp;
  app.shell.collapseLeft();
  app.shell.collapseRight();
  const notebook = window.__bc.panel(path).content;
  const scroller = notebook.outerNode || notebook.node;
  scroller.scrollTop = 0;
  return window.innerHeight - scroller.clientHeight + scroller.scrollHeight;
}"""

# True once the layout has caught up with a resize: the panel shows all of the notebook.
ALL_VISIBLE = """(path) => {
  const notebook = window.__bc.panel(path).content;
  const scroller = notebook.outerNode || notebook.node;
  return scroller.scrollHeight <= scroller.clientHeight + 1;
}"""

# The notebook model's cells, nbformat-shaped, with only what the check reads (the
# figures' base64 data would cost seconds to copy out of the page for nothing).
CELLS = """(path) => {
  const cells = window.__bc.panel(path).content.model.toJSON().cells;
  return {cells: cells.map((cell) => ({
    cell_type: cell.cell_type,
    source: cell.source,
    metadata: {tags: (cell.metadata && cell.metadata.tags) || []},
    execution_count: cell.execution_count === undefined ? null : cell.execution_count,
    outputs: (cell.outputs || []).map((output) => ({
      output_type: output.output_type, ename: output.ename, evalue: output.evalue,
    })),
  }))};
}"""


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per step

    def line(self) -> str:
        status = "FAIL" if self.failures else "ok  "
        steps = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in self.stages.items())
        return f"  {status} {self.name}  {self.seconds:.1f} s  ({steps})"


class Stopwatch:
    """Names the step under way (for timeout messages) and times each step."""

    def __init__(self, result: Result, timeout_s: float) -> None:
        self.result, self.timeout_s = result, timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.stage, self.since = "", time.perf_counter()

    def step(self, stage: str, description: str) -> None:
        self._close()
        self.stage, self.description, self.since = stage, description, time.perf_counter()

    def _close(self) -> None:
        if self.stage:
            self.result.stages[self.stage] = time.perf_counter() - self.since

    def left_ms(self) -> float:
        """Milliseconds left for this notebook; raises when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckError(self.timed_out())
        return left * 1000

    def timed_out(self) -> str:
        return (
            f"{self.result.name}: timed out after {self.timeout_s:.0f} s while "
            f"{self.description} (the limit per notebook; --timeout changes it)"
        )


def check_notebook(
    context: Any, lab: Lab, server_path: str, source: Path, shots: Path, timeout_s: float
) -> Result:
    """Open one notebook, run all cells, read the model's outputs, take a screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    start = time.perf_counter()
    result = Result(str(source))
    watch = Stopwatch(result, timeout_s)
    committed = json.loads(source.read_text(encoding="utf-8"))
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        watch.step("open", "opening the notebook")
        # Ask for the kernel as JupyterLab itself does on opening a notebook, but before the
        # page loads: the kernel starts while the browser loads JupyterLab.
        kernel = committed.get("metadata", {}).get("kernelspec", {}).get("name", "python3")
        lab.start_session(server_path, kernel)
        quoted = urllib.parse.quote(server_path)
        page.goto(f"{lab.url}/lab/tree/{quoted}?reset&token={lab.token}", timeout=watch.left_ms())
        page.add_script_tag(content=PAGE_HELPERS)
        watch.step("kernel", "waiting for the kernel to be connected and idle")
        page.wait_for_function(WAIT_READY, arg=server_path, timeout=watch.left_ms(), polling=100)
        watch.step("run", "running all cells")
        page.evaluate(RUN_ALL, server_path)
        page.wait_for_function(WAIT_FINISHED, arg=server_path, timeout=watch.left_ms(), polling=100)
        run_error = page.evaluate("() => window.__bc.run.error")
        if run_error:
            result.failures.append(f"{result.name}: 'Run All Cells' failed: {run_error}")
        watch.step("check", "reading the outputs")
        model = page.evaluate(CELLS, server_path)
        result.failures.extend(f"{result.name}: {problem}" for problem in problems(model))
        _grow_viewport(page, server_path)
        if stores_image(committed) and page.evaluate(RENDERED_IMAGES, server_path) == 0:
            result.failures.append(
                f"{result.name}: the committed notebook stores a figure, "
                "but no image rendered in the page"
            )
    except CheckError as error:
        result.failures.append(str(error))
    except PlaywrightTimeoutError:
        result.failures.append(watch.timed_out())
    except Exception as error:  # a closed page, a crashed browser, ...: the next notebook runs
        first_line = (str(error).splitlines() or [""])[0]
        result.failures.append(
            f"{result.name}: {type(error).__name__} while {watch.description}: {first_line}"
        )
    finally:
        watch.step("screenshot", "taking the screenshot")
        _screenshot(page, shots / f"{source.stem}.png")
        watch.step("shutdown", "shutting the kernel down")
        page.close()
        try:  # a reopened notebook would reconnect to its old kernel
            lab.shutdown_sessions()
        except (urllib.error.URLError, OSError) as error:
            result.failures.append(f"{result.name}: could not shut its kernel down: {error}")
        watch.step("", "")
    if result.failures and page_errors:
        result.failures.append(f"{result.name}: page errors: {'; '.join(page_errors[:3])}")
    result.seconds = time.perf_counter() - start
    return result


def _grow_viewport(page: Any, server_path: str) -> None:
    """Make the window as tall as the notebook, so one screenshot shows all of it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(3):  # figures or fonts can still shift the layout once
        height = min(page.evaluate(FULL_HEIGHT, server_path) + 20, MAX_SCREENSHOT_HEIGHT)
        if height <= page.viewport_size["height"]:
            return
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        try:  # Lumino lays the panels out again a few frames after a resize
            page.wait_for_function(ALL_VISIBLE, arg=server_path, timeout=5_000, polling=100)
        except PlaywrightTimeoutError:
            pass  # capped height or a slow layout: the screenshot is still useful
        if height == MAX_SCREENSHOT_HEIGHT:
            return


def _screenshot(page: Any, path: Path) -> None:
    try:
        page.screenshot(path=str(path), timeout=30_000)
    except Exception as error:  # a missing screenshot must not hide the real failure
        print(f"  (no screenshot for {path.name}: {type(error).__name__})", file=sys.stderr)


def run_checks(notebooks: list[Path], shots: Path, timeout_s: float) -> list[Result]:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="browser-check-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "root").mkdir()
        server_paths = copy_notebooks(notebooks, tmp / "root")
        started = time.perf_counter()
        with running_lab(tmp) as lab, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            print(
                f"browser check: JupyterLab and Chromium up in {time.perf_counter() - started:.1f} s"
            )
            context = browser.new_context(viewport=VIEWPORT)
            for server_path, source in zip(server_paths, notebooks, strict=True):
                result = check_notebook(context, lab, server_path, source, shots, timeout_s)
                print(result.line(), flush=True)
                for failure in result.failures:
                    print(f"       {failure}", flush=True)
                results.append(result)
            context.close()
            browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ROOT / "artifacts" / "browser",
        help="where the screenshots go (default: artifacts/browser)",
    )
    parser.add_argument(
        "--timeout", type=float, default=NOTEBOOK_TIMEOUT_S, help="seconds per notebook"
    )
    args = parser.parse_args(argv)
    try:
        notebooks = find(args.paths)
    except SystemExit as error:  # an empty run passing would hide a wrong path
        raise SystemExit(f"browser check: {error}") from None
    ensure_chromium()
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit(
            "browser check needs the playwright package: run `make setup`, then retry"
        ) from None
    start = time.perf_counter()
    results = run_checks(notebooks, args.artifacts, args.timeout)
    failed = sum(1 for result in results if result.failures)
    count = f"{len(results)} notebook{'' if len(results) == 1 else 's'}"
    seconds = time.perf_counter() - start
    print(f"browser check: {count} in {seconds:.1f} s, screenshots in {args.artifacts}")
    # one word and a colon before "N passed, N failed": the closing-line shape CI tools read
    print(f"browser-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
