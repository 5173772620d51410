"""Running an entry script as a user does (a subprocess in its folder), shared by the script
tests: the environment (this tree first on the path, a private judge cache, no data directory
from the caller's shell), the run, and its metrics.json."""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from reporting.engine import JOB_PYTHON_ENV, die_with_parent
from tests import zygote, zygote_client
from tests.conftest import ROOT
from tests.image_fixtures import write_tiny_idx


def script_env(cache_dir=None, **extra):
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    )
    if cache_dir is not None:
        env["CREATIVE_GANS_CACHE"] = str(cache_dir)
    env.pop("CREATIVE_GANS_DATA_DIR", None)
    return env


def run_script(folder, script, env, *args, timeout=300):
    """`python script args` in `folder`: a child of the test's TensorFlow server (tests/zygote.py)
    when the environment allows, else a new interpreter; a CompletedProcess either way."""
    server = _server()
    if server is None or not server.serves(env):
        return subprocess.run(
            [sys.executable, script, *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return server.run(folder, script, env, list(args), timeout)


FRESH_ENV = "CREATIVE_GANS_TEST_FRESH_PROCESSES"


class _Server:
    def __init__(self):
        self.env = script_env()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.zygote"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()

    def serves(self, env):  # what loads with Python and TensorFlow is the server's (tests/zygote.py)
        return self.proc.poll() is None and zygote.loaded(env) == zygote.loaded(self.env)

    def run(self, folder, script, env, args, timeout):
        with self.lock, tempfile.TemporaryDirectory() as tmp:
            out, err = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
            request = dict(script=script, args=args, cwd=str(folder), env=dict(env), stdout=out, stderr=err)
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            pid = json.loads(self.proc.stdout.readline())["pid"]
            expired = threading.Event()

            def kill():
                expired.set()
                os.kill(pid, signal.SIGKILL)

            timer = threading.Timer(timeout, kill)
            timer.start()
            try:
                code = json.loads(self.proc.stdout.readline())["code"]
            finally:
                timer.cancel()
            with open(out, errors="replace") as f, open(err, errors="replace") as g:
                stdout, stderr = f.read(), g.read()
        command = [sys.executable, script, *args]
        if expired.is_set():
            raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
        return subprocess.CompletedProcess(command, code, stdout, stderr)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


_servers = []


def _server():
    if os.environ.get(FRESH_ENV) == "1":
        return None
    if not _servers:
        _servers.append(_Server())
        atexit.register(_servers[0].close)
    return _servers[0]


class _SocketServer:
    """tests/zygote.py's socket server, for runs the tests do not start themselves (a job engine's
    entry scripts, a driver): they go through tests/served_python."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="zyg")
        self.path = os.path.join(self.folder, "s")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.zygote", "--socket", self.path],
            cwd=ROOT,
            env=script_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent,  # a test process ended by os._exit (xdist's workers) runs no atexit
        )
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the tests' socket server did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


SERVED_PYTHON = os.path.join(ROOT, "tests", "served_python")
_socket_servers = []


def served_python_env(env):
    """(the command that starts Python, `env` with what a job engine needs to use it): the
    launcher of tests/served_python and the socket server's address, or this interpreter and `env`
    unchanged when the tests start fresh processes (CREATIVE_GANS_TEST_FRESH_PROCESSES=1)."""
    if os.environ.get(FRESH_ENV) == "1":
        return [sys.executable], env
    if not _socket_servers:
        _socket_servers.append(_SocketServer())
        atexit.register(_socket_servers[0].close)
    return [SERVED_PYTHON], dict(
        env,
        **{
            JOB_PYTHON_ENV: SERVED_PYTHON,
            zygote_client.SOCKET_ENV: _socket_servers[0].path,
            zygote_client.PYTHON_ENV: sys.executable,
        },
    )


def metrics(out_dir):
    with open(os.path.join(out_dir, "metrics.json")) as f:
        return json.load(f)


def image_run_env(tmp_path_factory, name, train_per_class):
    """A module's scratch root, tiny IDX data in it, and the environment with a private judge cache."""
    root = tmp_path_factory.mktemp(name)
    data_dir = write_tiny_idx(str(root / "data"), train_per_class=train_per_class, test_per_class=10)
    return {"root": root, "data_dir": data_dir, "env": script_env(root / "cache")}
