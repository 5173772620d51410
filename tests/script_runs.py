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
from tests import zygote_client
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
    """`python script args` in `folder`: forked from the tests' TensorFlow server (tests/zygote.py)
    when the environment allows, else a new interpreter; a CompletedProcess either way."""
    server = _server()
    done = None if server is None else server.run(folder, script, env, list(args), timeout)
    if done is None:
        return subprocess.run(
            [sys.executable, script, *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return done


FRESH_ENV = "CREATIVE_GANS_TEST_FRESH_PROCESSES"


class _SocketServer:
    """tests/zygote.py's server, one per test process: the runs the tests start themselves
    (run_script) and those they do not, a job engine's entry scripts and a driver (through
    tests/served_python)."""

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

    def run(self, folder, script, env, args, timeout):
        """The run as a CompletedProcess, or None when it needs a fresh interpreter (the server
        said so, or it is gone)."""
        with tempfile.TemporaryDirectory() as tmp, open(os.devnull) as null:
            out, err = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
            request = dict(script=script, args=args, cwd=str(folder), env=dict(env), sigint_ignored=False)
            with open(out, "w") as stdout, open(err, "w") as stderr:
                asked = zygote_client.ask(
                    self.path, request, [null.fileno(), stdout.fileno(), stderr.fileno()]
                )
            if asked is None:
                return None
            conn, answers, first = asked
            with conn, answers:
                expired = threading.Event()

                def kill():
                    expired.set()
                    os.kill(first["pid"], signal.SIGKILL)

                timer = threading.Timer(timeout, kill)
                timer.start()
                try:
                    line = answers.readline()
                finally:
                    timer.cancel()
            code = json.loads(line)["code"] if line else 1
            with open(out, errors="replace") as f, open(err, errors="replace") as g:
                stdout, stderr = f.read(), g.read()
        command = [sys.executable, script, *args]
        if expired.is_set():
            raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
        return subprocess.CompletedProcess(command, code, stdout, stderr)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


SERVED_PYTHON = os.path.join(ROOT, "tests", "served_python")
_socket_servers = []


def _server():
    """This test process's server (started at its first use), or None when the tests start fresh
    processes (CREATIVE_GANS_TEST_FRESH_PROCESSES=1)."""
    if os.environ.get(FRESH_ENV) == "1":
        return None
    if not _socket_servers:
        _socket_servers.append(_SocketServer())
        atexit.register(_socket_servers[0].close)
    return _socket_servers[0]


def served_python_env(env):
    """(the command that starts Python, `env` with what a job engine needs to use it): the
    launcher of tests/served_python and the socket server's address, or this interpreter and `env`
    unchanged when the tests start fresh processes (CREATIVE_GANS_TEST_FRESH_PROCESSES=1)."""
    server = _server()
    if server is None:
        return [sys.executable], env
    return [SERVED_PYTHON], dict(
        env,
        **{
            JOB_PYTHON_ENV: SERVED_PYTHON,
            zygote_client.SOCKET_ENV: server.path,
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
