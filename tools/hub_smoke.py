"""Smoke test of the course hub: three students log in and run notebook 01 through it.

Usage: ``python -m tools.hub_smoke`` (what ``make hub-smoke`` runs; it installs
configurable-http-proxy into ``build/chp`` first).

It starts JupyterHub with ``classroom/jupyterhub_config.py`` (shared password, the simple
local-process spawner, every port on 127.0.0.1 and chosen free), then:

1. a wrong password and a name not on the roster are refused;
2. three students log in through the login form, each asks for an API token and starts
   a server;
3. each uploads ``notebooks/01_softmax_formula.ipynb`` through the Jupyter server's
   contents API, runs every code cell in a kernel over its websocket (the three at once),
   saves the outputs through the contents API, reads the notebook back and checks it: every
   cell ran, in order, without an error, and the text it printed is what the committed
   notebook stores;
4. the servers are stopped through the hub's API and the hub is stopped with SIGTERM;
   then no process the hub started (each carries a marker variable), no port it used and
   no server in its database may be left.

Every wait is bounded. Whatever happens, processes that are left are killed at the end
(and named in the failure).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import requests
import websocket  # websocket-client, a dependency of jupyter_server

from tools.classroom_links import link

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "classroom" / "jupyterhub_config.py"
PROXY = ROOT / "build" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
NOTEBOOK = ROOT / "notebooks" / "01_softmax_formula.ipynb"
USERS = ("alice", "bob", "carol")
MARKER = "SOFTMAX_LAB_HUB_SMOKE"
HOST = "127.0.0.1"


class SmokeError(AssertionError):
    pass


@dataclass
class StudentRun:
    name: str
    cells: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass
class SmokeResult:
    students: list[StudentRun]
    refused: list[str]
    pulled: str
    ports: list[int]
    pids_seen: list[int]
    leftovers: list[str]
    seconds: float
    log: Path

    @property
    def ok(self) -> bool:
        runs_ok = all(not s.problems and s.cells for s in self.students)
        return bool(self.students and self.pulled and runs_ok and not self.leftovers)


def free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def marked_pids(marker: str) -> list[int]:
    """Processes whose environment carries ``MARKER=marker``: all that the hub started."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:  # a zombie holds nothing
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def describe(pid: int) -> str:
    try:
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
        return f"{pid} ({cmd.decode(errors='replace').strip()[:100]})"
    except OSError:
        return str(pid)


def wait_for(what: str, condition, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SmokeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Hub:
    def __init__(self, base: str, hub_process: subprocess.Popen) -> None:
        self.base = base
        self.process = hub_process

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise SmokeError(f"JupyterHub exited early with {self.process.returncode}")

    def login(self, name: str, password: str) -> requests.Session:
        """Log in through the form; the session holds the cookies (refused: no cookie)."""
        session = requests.Session()
        page = session.get(self.url("/hub/login"), timeout=30)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        data = {"username": name, "password": password}
        if xsrf:
            data["_xsrf"] = xsrf[1]
        reply = session.post(self.url("/hub/login"), data=data, allow_redirects=False, timeout=30)
        session.login_status = reply.status_code  # type: ignore[attr-defined]
        return session

    def token(self, session: requests.Session, name: str) -> str:
        headers = {"X-XSRFToken": session.cookies.get("_xsrf", "")}
        reply = session.post(
            self.url(f"/hub/api/users/{name}/tokens"),
            json={"note": "hub smoke test", "expires_in": 600},
            headers=headers,
            timeout=30,
        )
        if reply.status_code != 201:
            raise SmokeError(f"{name}: no API token ({reply.status_code}: {reply.text[:200]})")
        return reply.json()["token"]

    def api(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {token}"}
        return requests.request(method, self.url(path), headers=headers, timeout=60, **kwargs)


def pull_chapter(hub: Hub, session: requests.Session, name: str, token: str, timeout: float) -> str:
    """Follow an nbgitpuller chapter link (tools.classroom_links) as a logged-in student,
    then run the pull it starts (from this repository's own clone) and find the chapter.
    """
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    branch = None if branch in ("", "HEAD") else branch
    repo, target, chapter = f"file://{ROOT}", "softmax-lab-pulled", NOTEBOOK.name
    page = session.get(link(hub.base, chapter, repo, branch, target), timeout=60)
    if page.status_code != 200 or f"/user/{name}/git-pull" not in page.url:
        raise SmokeError(f"{name}: the chapter link ended at {page.url} ({page.status_code})")
    query = {"repo": repo, "targetpath": target, **({"branch": branch} if branch else {})}
    phase, deadline = None, time.monotonic() + timeout
    with requests.get(
        hub.url(f"/user/{name}/git-pull/api"),
        params=query,
        headers={"Authorization": f"token {token}"},
        stream=True,
        timeout=timeout,
    ) as events:
        for line in events.iter_lines(decode_unicode=True):
            if line and line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                phase = event.get("phase")
                if phase == "error":
                    raise SmokeError(f"{name}: nbgitpuller failed: {event.get('message')}")
                if phase == "finished":
                    break
            if time.monotonic() > deadline:
                break
    if phase != "finished":
        raise SmokeError(f"{name}: nbgitpuller did not finish in {timeout:.0f} s")
    path = f"{target}/notebooks/{chapter}"
    reply = hub.api("GET", f"/user/{name}/api/contents/{path}?content=0", token)
    if reply.status_code != 200:
        raise SmokeError(f"{name}: {path} is not there after the pull ({reply.status_code})")
    return path


def _save_notebook(hub: Hub, url: str, token: str, nb: nbformat.NotebookNode, what: str) -> None:
    """PUT ``nb`` to the Jupyter contents API at ``url``; ``SmokeError`` naming ``what`` if refused."""
    reply = hub.api("PUT", url, token, json={"type": "notebook", "format": "json", "content": nb})
    if reply.status_code not in (200, 201):
        raise SmokeError(f"{what} failed ({reply.status_code}: {reply.text[:200]})")


def run_cells(hub: Hub, name: str, token: str, notebook: Path, cell_timeout: float) -> StudentRun:
    """Upload the notebook, run its code cells over the kernel websocket, save, read back."""
    run = StudentRun(name)
    start = time.monotonic()
    stored = nbformat.read(notebook, as_version=4)
    nb = nbformat.from_dict(json.loads(json.dumps(stored)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    base = f"/user/{name}/api"
    path = notebook.name
    _save_notebook(hub, f"{base}/contents/{path}", token, nb, f"{name}: upload")
    kernel = hub.api("POST", f"{base}/kernels", token, json={"name": "python3"})
    if kernel.status_code != 201:
        raise SmokeError(f"{name}: no kernel ({kernel.status_code}: {kernel.text[:200]})")
    kernel_id = kernel.json()["id"]
    session_id = uuid.uuid4().hex
    ws_url = (
        hub.base.replace("http://", "ws://")
        + f"{base}/kernels/{kernel_id}/channels?session_id={session_id}"
    )
    ws = websocket.create_connection(
        ws_url, header=[f"Authorization: token {token}"], timeout=cell_timeout
    )
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            msg_id = uuid.uuid4().hex
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": name,
                            "session": session_id,
                            "msg_type": "execute_request",
                            "version": "5.3",
                            "date": "",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "content": {
                            "code": cell.source,
                            "silent": False,
                            "store_history": True,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                        "channel": "shell",
                        "buffers": [],
                    }
                )
            )
            idle = replied = False
            deadline = time.monotonic() + cell_timeout
            while not (idle and replied):
                if time.monotonic() > deadline:
                    raise SmokeError(
                        f"{name}: cell {cell.source[:40]!r} did not finish in {cell_timeout:.0f} s"
                    )
                raw = ws.recv()
                if not isinstance(raw, str):
                    continue  # a binary message (buffers): not ours
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if msg["channel"] == "shell" and kind == "execute_reply":
                    replied = True
                    cell.execution_count = msg["content"].get("execution_count")
                elif kind == "status":
                    idle = msg["content"]["execution_state"] == "idle"
                elif kind in ("stream", "display_data", "execute_result", "error"):
                    cell.outputs.append(nbformat.v4.output_from_msg(msg))
            run.cells += 1
    finally:
        ws.close()
        hub.api("DELETE", f"{base}/kernels/{kernel_id}", token)
    _save_notebook(hub, f"{base}/contents/{path}", token, nb, f"{name}: save")
    back = hub.api("GET", f"{base}/contents/{path}", token)
    back.raise_for_status()
    run.problems += compare(nbformat.from_dict(back.json()["content"]), stored)
    run.seconds = time.monotonic() - start
    return run


def stream_text(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )


def compare(ran, stored) -> list[str]:
    """What differs between the notebook run through the hub and the committed one."""
    problems = []
    code_ran = [c for c in ran.cells if c.cell_type == "code"]
    code_stored = [c for c in stored.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code_ran]
    if counts != list(range(1, len(code_ran) + 1)):
        problems.append(f"execution counts are {counts}, not 1..{len(code_ran)}")
    for index, (a, b) in enumerate(zip(code_ran, code_stored, strict=True)):
        tags = b.get("metadata", {}).get("tags", [])
        errors = [o for o in a.outputs if o.output_type == "error"]
        if errors and "raises-exception" not in tags:
            problems.append(
                f"cell {index} raised {errors[0].get('ename')}: {errors[0].get('evalue')}"
            )
        if stream_text(a) != stream_text(b):
            problems.append(
                f"cell {index} printed {stream_text(a)[:80]!r}, stored {stream_text(b)[:80]!r}"
            )
    return problems


def running_servers(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT users.name FROM spawners JOIN users ON spawners.user_id = users.id "
            "WHERE spawners.server_id IS NOT NULL"
        ).fetchall()
    return [row[0] for row in rows]


def smoke(
    workdir: Path,
    users: tuple[str, ...] = USERS,
    notebook: Path = NOTEBOOK,
    proxy: Path = PROXY,
    start_timeout: float = 90,
    cell_timeout: float = 120,
) -> SmokeResult:
    """Run the whole smoke test in ``workdir``; return what happened (check ``.ok``)."""
    if not Path(proxy).exists():
        raise SmokeError(
            f"{proxy} is missing: run make hub-smoke (it installs configurable-http-proxy)"
        )
    began = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    public, hub_port, api_port = free_ports(3)
    marker = uuid.uuid4().hex
    password = uuid.uuid4().hex
    env = dict(os.environ)
    env.update(
        {
            MARKER: marker,
            "SOFTMAX_LAB_HUB_PASSWORD": password,
            "SOFTMAX_LAB_HUB_USERS": ",".join(users),
            "SOFTMAX_LAB_HUB_IP": HOST,
            "SOFTMAX_LAB_HUB_PORT": str(public),
            "SOFTMAX_LAB_HUB_HUB_PORT": str(hub_port),
            "SOFTMAX_LAB_HUB_API_PORT": str(api_port),
            "SOFTMAX_LAB_HUB_STATE": str(workdir),
            "SOFTMAX_LAB_HUB_SPAWNER": "simple",
            "SOFTMAX_LAB_HUB_PROXY": str(proxy),
            "CONFIGPROXY_AUTH_TOKEN": uuid.uuid4().hex,  # to read the proxy's routes below
        }
    )
    env.pop("JUPYTERHUB_API_TOKEN", None)
    log_path = workdir / "jupyterhub.log"
    students: list[StudentRun] = []
    refused: list[str] = []
    pulled = ""
    ports = {public, hub_port, api_port}
    seen: set[int] = set()
    leftovers: list[str] = []
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(f"http://{HOST}:{public}", process)
    try:

        def hub_up():
            hub.alive()
            try:
                return requests.get(hub.url("/hub/api/"), timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for("JupyterHub to answer", hub_up, start_timeout)
        seen.update(marked_pids(marker))

        # 1. refused: a wrong password, and a name that is not on the roster
        for name, secret, why in (
            (users[0], "not-the-password", "wrong password"),
            ("mallory", password, "not on the roster"),
        ):
            session = hub.login(name, secret)
            if session.login_status != 403 or "jupyterhub-hub-login" in session.cookies:
                raise SmokeError(f"{why}: {name} got {session.login_status}, not 403")
            refused.append(f"{name} ({why})")

        # 2. log in, take a token, start a server
        tokens, sessions = {}, {}
        for name in users:
            session = sessions[name] = hub.login(name, password)
            if session.login_status != 302:
                raise SmokeError(f"{name}: login answered {session.login_status}, not a redirect")
            tokens[name] = hub.token(session, name)
            reply = hub.api("POST", f"/hub/api/users/{name}/server", tokens[name])
            if reply.status_code not in (201, 202):
                raise SmokeError(
                    f"{name}: server did not start ({reply.status_code}: {reply.text[:200]})"
                )
        for name in users:

            def ready(name=name):
                hub.alive()
                model = hub.api("GET", f"/hub/api/users/{name}", tokens[name]).json()
                return model.get("servers", {}).get("", {}).get("ready")

            wait_for(f"{name}'s server", ready, start_timeout)
        routes = requests.get(
            f"http://{HOST}:{api_port}/api/routes",
            headers={"Authorization": f"token {env['CONFIGPROXY_AUTH_TOKEN']}"},
            timeout=10,
        ).json()
        for route in routes.values():
            port = int(route["target"].rsplit(":", 1)[1].split("/")[0])
            ports.add(port)
        seen.update(marked_pids(marker))
        pulled = pull_chapter(hub, sessions[users[0]], users[0], tokens[users[0]], start_timeout)

        # 3. the three run notebook 01 at the same time
        with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
            futures = [
                pool.submit(run_cells, hub, name, tokens[name], notebook, cell_timeout)
                for name in users
            ]
            while not all(future.done() for future in futures):  # the kernels, among others
                seen.update(marked_pids(marker))
                time.sleep(0.5)
            students = [future.result() for future in futures]
        seen.update(marked_pids(marker))

        # 4. stop the servers through the API, then the hub
        for name in users:
            reply = hub.api("DELETE", f"/hub/api/users/{name}/server", tokens[name])
            if reply.status_code not in (202, 204):
                raise SmokeError(f"{name}: server did not stop ({reply.status_code})")
        for name in users:

            def stopped(name=name):
                model = hub.api("GET", f"/hub/api/users/{name}", tokens[name]).json()
                return not model.get("servers")

            wait_for(f"{name}'s server to stop", stopped, 60)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                leftovers.append("JupyterHub did not exit within 60 s of SIGTERM")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # Give exiting children a moment, then name and kill whatever is left.
        deadline = time.monotonic() + 15
        while marked_pids(marker) and time.monotonic() < deadline:
            time.sleep(0.25)
        for pid in marked_pids(marker):
            leftovers.append(f"process {describe(pid)} was left running")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for port in sorted(ports):
        if port_open(port):
            leftovers.append(f"port {port} still accepts connections")
    for name in running_servers(workdir / "jupyterhub.sqlite"):
        leftovers.append(f"the hub's database still lists a server for {name}")
    return SmokeResult(
        students,
        refused,
        pulled,
        sorted(ports),
        sorted(seen),
        leftovers,
        time.monotonic() - began,
        log_path,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="state folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hub-smoke-") as tmp:
        workdir = args.workdir or Path(tmp)
        try:
            result = smoke(workdir)
        except (SmokeError, requests.RequestException, websocket.WebSocketException) as error:
            log = workdir / "jupyterhub.log"
            tail = (
                "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                if log.exists()
                else ""
            )
            print(
                f"hub smoke: FAILED: {error}\n--- last lines of the hub's log ---\n{tail}",
                file=sys.stderr,
            )
            return 1
        for student in result.students:
            state = "ok" if not student.problems else "; ".join(student.problems[:3])
            print(
                f"  {student.name}: {student.cells} cells of notebook 01 in {student.seconds:.1f} s: {state}"
            )
        print(f"  refused: {', '.join(result.refused)}")
        print(f"  {USERS[0]}'s chapter link pulled the repository: ~/{result.pulled}")
        print(
            f"  {len(result.pids_seen)} processes and ports {result.ports} checked after the stop"
        )
        for line in result.leftovers:
            print(f"  LEFT: {line}")
        print(f"hub smoke: {'passed' if result.ok else 'FAILED'} in {result.seconds:.0f} s")
        return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
