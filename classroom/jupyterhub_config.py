"""JupyterHub for a softmax-lab course on one machine (a workshop or a small class).

Run it from the repository root, in the project's environment (``make setup`` first), with
configurable-http-proxy installed by ``make hub-smoke`` (or on PATH):

    SOFTMAX_LAB_HUB_PASSWORD='a shared secret' SOFTMAX_LAB_HUB_USERS=ada,brian \
      .venv/bin/jupyterhub -f classroom/jupyterhub_config.py

Students log in with any name on the roster and the shared password; each gets a Jupyter
server with a copy of the notebooks in ``~/softmax-lab/`` and opens
``00_start_here.ipynb``. For a course on Kubernetes, see ``classroom/values.yaml``;
docs/teaching.md has both, and how to size the machine.

Settings (environment variables; only the password is required):

=================================  ==================================================================
``SOFTMAX_LAB_HUB_PASSWORD``        the students' shared password (8 characters or more)
``SOFTMAX_LAB_HUB_ADMIN_PASSWORD``  the instructors' password (32 or more; none: no admin can log in)
``SOFTMAX_LAB_HUB_USERS``           the roster: a file with one user name a line, or names separated
                                    by commas (required, unless ``SOFTMAX_LAB_HUB_ALLOW_ALL=1``)
``SOFTMAX_LAB_HUB_ALLOW_ALL``       ``1``: no roster, any name with the password gets an account
``SOFTMAX_LAB_HUB_ADMINS``          instructors' user names, separated by commas
``SOFTMAX_LAB_HUB_IP``, ``_PORT``   where students connect (127.0.0.1:8000; put HTTPS in front of it)
``SOFTMAX_LAB_HUB_HUB_PORT``        the hub's own port, on 127.0.0.1 (8081)
``SOFTMAX_LAB_HUB_API_PORT``        the proxy's REST API port, on 127.0.0.1 (8001)
``SOFTMAX_LAB_HUB_STATE``           folder for the database, the cookie secret and students'
                                    homes (``build/hub``)
``SOFTMAX_LAB_HUB_SPAWNER``         ``simple`` (default): every server runs as the user who started
                                    the hub, in ``STATE/home/NAME``, with no isolation between
                                    students; ``local``: each student is a system user of the same
                                    name (the hub runs as root), in their own home
``SOFTMAX_LAB_HUB_PROXY``           the configurable-http-proxy command
                                    (``build/chp/node_modules/.bin/configurable-http-proxy``)
=================================  ==================================================================

The shared password is the ``shared-password`` authenticator of JupyterHub 5.3+: anyone
who knows it can log in as any student on the roster. With the default ``simple`` spawner
every student's server and terminal runs as the Unix user who started the hub, so any student
can read the hub's environment (both passwords), its database and cookie secret, the other
students' homes and anything else that user can read. The notebooks copied to students hold
the worked solutions. This is a recipe for a trusted demo or workshop on a throwaway machine
or account, not for graded classes: for those, see docs/teaching.md (Kubernetes with
``classroom/values.yaml``, or a per-user spawner, with your institution's login).
"""

import os
import pwd
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SOFTMAX_LAB_HUB_STATE", ROOT / "build" / "hub")).resolve()
PROXY = os.environ.get(
    "SOFTMAX_LAB_HUB_PROXY",
    str(ROOT / "build" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"),
)
SPAWNER = os.environ.get("SOFTMAX_LAB_HUB_SPAWNER", "simple")
COURSE_FOLDER = "softmax-lab"  # in each student's home: a copy of notebooks/


def names(value, setting="SOFTMAX_LAB_HUB_USERS"):
    """A roster: a file with one name a line (# comments allowed), or comma-separated names.

    A value that looks like a path (it holds a ``/`` or ends in ``.txt`` or ``.csv``) must be
    an existing file: a mistyped roster path is an error, not a user name nobody can log in as.
    """
    value = (value or "").strip()
    if value and Path(value).is_file():
        lines = Path(value).read_text().splitlines()
        return {line.split("#", 1)[0].strip() for line in lines} - {""}
    if "/" in value or value.lower().endswith((".txt", ".csv")):
        sys.exit(
            f"classroom/jupyterhub_config.py: {setting}={value!r} looks like a file, but there"
            f" is no file {Path(value).resolve()} (a roster is a file with one name a line,"
            " or names separated by commas)"
        )
    return {name.strip() for name in value.split(",")} - {""}


c = get_config()  # noqa: F821 (JupyterHub provides it)
STATE.mkdir(parents=True, exist_ok=True)

# --- where it listens: the public port, the hub and the proxy API on the loopback only
c.JupyterHub.bind_url = "http://{}:{}".format(
    os.environ.get("SOFTMAX_LAB_HUB_IP", "127.0.0.1"),
    os.environ.get("SOFTMAX_LAB_HUB_PORT", "8000"),
)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("SOFTMAX_LAB_HUB_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{}".format(
    os.environ.get("SOFTMAX_LAB_HUB_API_PORT", "8001")
)
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# --- state: all of it under STATE
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# --- who may log in
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.get("SOFTMAX_LAB_HUB_PASSWORD")
if os.environ.get("SOFTMAX_LAB_HUB_ADMIN_PASSWORD"):
    c.SharedPasswordAuthenticator.admin_password = os.environ["SOFTMAX_LAB_HUB_ADMIN_PASSWORD"]
if not c.SharedPasswordAuthenticator.user_password:
    sys.exit("classroom/jupyterhub_config.py: set SOFTMAX_LAB_HUB_PASSWORD (8+ characters)")
roster = names(os.environ.get("SOFTMAX_LAB_HUB_USERS"))
admins = names(os.environ.get("SOFTMAX_LAB_HUB_ADMINS"), "SOFTMAX_LAB_HUB_ADMINS")
if roster:
    c.Authenticator.allowed_users = roster
elif os.environ.get("SOFTMAX_LAB_HUB_ALLOW_ALL") == "1":
    c.Authenticator.allow_all = True  # any name with the password: each one a new server
else:
    sys.exit(
        "classroom/jupyterhub_config.py: set SOFTMAX_LAB_HUB_USERS (a roster file or names"
        " separated by commas), or SOFTMAX_LAB_HUB_ALLOW_ALL=1 to let anyone with the"
        " password create accounts"
    )
c.Authenticator.admin_users = admins

# --- each student's server: this environment's Python, so softmax_lab and the pinned
# packages are there; it shuts down after an hour without activity, kernels after 30 minutes
if SPAWNER == "local":
    c.JupyterHub.spawner_class = "localprocess"
else:
    c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: no system users
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = f"/lab/tree/{COURSE_FOLDER}/00_start_here.ipynb"
c.Spawner.args = [
    "--ServerApp.shutdown_no_activity_timeout=3600",
    "--MappingKernelManager.cull_idle_timeout=1800",
    "--MappingKernelManager.cull_interval=300",
]
if SPAWNER != "local" and os.geteuid() == 0:
    # the simple spawner runs servers as the hub's own user: here root (a container, CI)
    c.Spawner.args.append("--ServerApp.allow_root=True")
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
# LocalProcessSpawner's defaults, plus the variable tools/hub_smoke.py marks every process
# the hub starts with, to check that none is left when the hub stops
c.Spawner.env_keep = [
    "CONDA_DEFAULT_ENV",
    "CONDA_ROOT",
    "JUPYTERHUB_SINGLEUSER_APP",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "SOFTMAX_LAB_HUB_SMOKE",
]
c.Spawner.environment = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def copy_notebooks(spawner):
    """Give a student their own copy of notebooks/ on first start; never overwrite it."""
    if SPAWNER == "local":
        user = pwd.getpwnam(spawner.user.name)
        home, uid, gid = Path(user.pw_dir), user.pw_uid, user.pw_gid
    else:
        home, uid, gid = Path(spawner.home_dir), None, None
    target = home / COURSE_FOLDER
    if target.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    if uid is not None:
        for path in [target, *target.rglob("*")]:
            os.chown(path, uid, gid)


c.Spawner.pre_spawn_hook = copy_notebooks
