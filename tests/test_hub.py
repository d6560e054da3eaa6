"""The course hub: classroom/jupyterhub_config.py, classroom/values.yaml, the chapter links,
and (slow) tools/hub_smoke.py, which runs the hub for real on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

from tools import classroom_links, hub_smoke

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "classroom" / "jupyterhub_config.py"


def load_config(monkeypatch, tmp_path: Path, **env: str):
    for key in [k for k in os.environ if k.startswith("SOFTMAX_LAB_HUB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SOFTMAX_LAB_HUB_STATE", str(tmp_path / "state"))
    for key, value in env.items():
        monkeypatch.setenv(f"SOFTMAX_LAB_HUB_{key}", value)
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def test_the_hub_listens_on_the_loopback_with_a_shared_password(monkeypatch, tmp_path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("ada\nbrian  # second row\n\n# a comment\n")
    c = load_config(
        monkeypatch, tmp_path, PASSWORD="correct horse", USERS=str(roster), ADMINS="tutor"
    )
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert c.JupyterHub.hub_ip == "127.0.0.1" and c.Spawner.ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.SharedPasswordAuthenticator.user_password == "correct horse"
    assert c.Authenticator.allowed_users == {"ada", "brian"}
    assert c.Authenticator.admin_users == {"tutor"}
    assert c.JupyterHub.spawner_class == "simple"
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'state' / 'jupyterhub.sqlite'}"
    assert c.Spawner.default_url == f"/lab/tree/{classroom_links.TARGET}/00_start_here.ipynb"


def test_the_hub_needs_a_password_and_takes_a_comma_separated_roster(monkeypatch, tmp_path) -> None:
    with pytest.raises(SystemExit, match="SOFTMAX_LAB_HUB_PASSWORD"):
        load_config(monkeypatch, tmp_path)
    c = load_config(monkeypatch, tmp_path, PASSWORD="12345678", USERS="a, b,,c", SPAWNER="local")
    assert c.Authenticator.allowed_users == {"a", "b", "c"}
    assert c.JupyterHub.spawner_class == "localprocess"
    c = load_config(monkeypatch, tmp_path, PASSWORD="12345678", ALLOW_ALL="1")
    assert c.Authenticator.allow_all is True


def test_without_a_roster_the_hub_refuses_to_start(monkeypatch, tmp_path) -> None:
    for allow_all in [None, "0", "yes"]:
        env = {"PASSWORD": "12345678"} | ({"ALLOW_ALL": allow_all} if allow_all else {})
        with pytest.raises(SystemExit, match="SOFTMAX_LAB_HUB_ALLOW_ALL=1"):
            load_config(monkeypatch, tmp_path, **env)


@pytest.mark.parametrize(
    "value", ["classroom/roster.txt", "roster.txt", "ROSTER.CSV", "/no/such/roster", "./ada"]
)
def test_a_roster_path_that_is_no_file_is_an_error_not_a_user_name(
    monkeypatch, tmp_path, value
) -> None:
    with pytest.raises(SystemExit, match=r"SOFTMAX_LAB_HUB_USERS=.*looks like a file"):
        load_config(monkeypatch, tmp_path, PASSWORD="12345678", USERS=value)
    with pytest.raises(SystemExit, match=r"SOFTMAX_LAB_HUB_ADMINS=.*looks like a file"):
        load_config(monkeypatch, tmp_path, PASSWORD="12345678", USERS="ada", ADMINS=value)


def test_a_roster_file_given_by_a_relative_path_is_read(monkeypatch, tmp_path) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "roster.csv").write_text("ada\nbrian\n")
    monkeypatch.chdir(tmp_path)
    c = load_config(monkeypatch, tmp_path, PASSWORD="12345678", USERS="class/roster.csv")
    assert c.Authenticator.allowed_users == {"ada", "brian"}


def test_the_pre_spawn_hook_copies_the_notebooks_once(monkeypatch, tmp_path) -> None:
    c = load_config(monkeypatch, tmp_path, PASSWORD="12345678", USERS="ada")

    class Spawner:
        home_dir = str(tmp_path / "home" / "ada")

    c.Spawner.pre_spawn_hook(Spawner())
    copied = tmp_path / "home" / "ada" / classroom_links.TARGET
    assert sorted(p.name for p in copied.glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb")
    )
    (copied / "01_softmax_formula.ipynb").write_text("the student's work")
    c.Spawner.pre_spawn_hook(Spawner())
    assert (copied / "01_softmax_formula.ipynb").read_text() == "the student's work"


def test_chapter_links_pull_the_repository_and_open_the_chapter() -> None:
    url = classroom_links.link("https://hub.test/", "03_numerical_stability.ipynb")
    parts = urlsplit(url)
    assert parts.netloc == "hub.test" and parts.path == "/hub/user-redirect/git-pull"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "repo": "https://github.com/softmax-lab/softmax-lab",
        "branch": "main",
        "targetPath": "softmax-lab",
        "urlpath": "lab/tree/softmax-lab/notebooks/03_numerical_stability.ipynb",
    }


def test_values_yaml_uses_the_repo2docker_image_and_opens_the_pulled_map() -> None:
    values = yaml.safe_load((ROOT / "classroom" / "values.yaml").read_text())
    text = (ROOT / "classroom" / "values.yaml").read_text()
    assert "repo2docker" in text and "--target-repo-dir" in text
    singleuser = values["singleuser"]
    assert singleuser["image"]["name"].endswith("/softmax-lab")
    # ~/softmax-lab exists only after a chapter link: the default page must not point into it
    assert singleuser["defaultUrl"] == "/lab"
    config = values["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"]
    # students' copies land on the volume the chart mounts on the home, not the image's WORKDIR
    assert config["KubeSpawner"]["working_dir"] == "/home/jovyan"
    assert "admin_access" not in config["JupyterHub"]  # deprecated since JupyterHub 2.0
    # no password in this tracked file: they go in a separate values file
    assert "SharedPasswordAuthenticator" not in config
    assert [line for line in text.splitlines() if "password:" in line.split("#", 1)[0]] == []
    assert singleuser["memory"]["limit"] and singleuser["cpu"]["limit"]
    # the chapter link in the comments is the one tools/classroom_links.py makes
    example = next(line.strip() for line in text.splitlines() if "user-redirect/git-pull" in line)
    assert example.lstrip("# ") == classroom_links.link("https://HUB", "01_softmax_formula.ipynb")


@pytest.mark.slow
def test_three_students_run_notebook_01_and_nothing_is_left(tmp_path: Path) -> None:
    if not hub_smoke.PROXY.exists():  # what make hub-smoke installs first
        subprocess.run(
            ["make", "-C", str(ROOT), "chp"], check=True, capture_output=True, timeout=300
        )
    result = hub_smoke.smoke(tmp_path / "hub")
    log = result.log.read_text(errors="replace")[-3000:]
    assert [s.name for s in result.students] == list(hub_smoke.USERS), log
    for student in result.students:
        assert student.cells >= 20 and student.problems == [], (student, log)
    assert result.refused == [
        f"{hub_smoke.USERS[0]} (wrong password)",
        "mallory (not on the roster)",
    ]
    assert result.pulled.endswith("notebooks/01_softmax_formula.ipynb")
    assert result.leftovers == [], log
    # and again from here: nothing carries the marker, no port answers, no process is left
    assert len(result.pids_seen) >= 1 + 1 + 2 * len(hub_smoke.USERS)  # hub, proxy, servers, kernels
    for pid in result.pids_seen:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
        )
    for port in result.ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, port
    assert result.ok
