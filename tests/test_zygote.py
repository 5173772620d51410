"""The tests' TensorFlow server (tests/zygote.py): a run through it is `python script args` as a
fresh interpreter runs it — folder, arguments, environment, sys.path, exit codes, tracebacks,
signals, the CPU split — and a run it cannot serve gets a fresh interpreter."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests import script_runs
from tests.script_runs import run_script, script_env, served_python_env

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from common import tf_env
    what = sys.argv[1]
    def grandparent():
        return int(open(f"/proc/{os.getppid()}/stat").read().rsplit(")")[1].split()[1])
    if what == "where":  # without TensorFlow: what a fresh interpreter costs is its import
        json.dump({"parent": os.getppid(), "grandparent": grandparent()}, sys.stdout)
    elif what == "report":
        tf = tf_env.import_tensorflow()
        json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "path0": sys.path[0],
                   "marker": os.environ.get("MARKER"), "name": __name__,
                   "cpus": len(tf.config.list_logical_devices("CPU")), "parent": os.getppid(),
                   "sum": float(tf.reduce_sum(tf.ones(3))), "pid": os.getpid(),
                   "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                   "grandparent": grandparent()},
                  sys.stdout)
    elif what == "exit":
        print("said before leaving", file=sys.stderr)
        sys.exit(int(sys.argv[2]))
    elif what == "raise":
        raise ValueError("a bug")
    elif what == "sleep":
        print(os.getpid(), flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text(SCRIPT)
    return path


def report(tmp_path, script, env, *args):
    proc = run_script(tmp_path, script.name, env, "report", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc


def test_a_served_run_is_the_script_as_python_runs_it(tmp_path, script):
    server = script_runs._server()
    if server is None:
        pytest.skip("CREATIVE_GANS_TEST_FRESH_PROCESSES=1: every run is a fresh interpreter")
    seen, proc = report(tmp_path, script, script_env(MARKER="m1"), "--x", "1")
    assert seen["grandparent"] == server.proc.pid  # served (through its waiter), not a fresh interpreter
    assert seen["argv"] == ["report", "--x", "1"] and seen["name"] == "__main__"
    assert seen["cwd"] == str(tmp_path) and seen["path0"] == str(tmp_path)
    assert seen["marker"] == "m1" and seen["sum"] == 3.0 and seen["cpus"] == 1
    assert proc.stderr.strip() == ""  # TensorFlow's start-up notices stay out, as in a fresh process
    # The CPU split is the child's own: the server never ran TensorFlow.
    split, _ = report(tmp_path, script, script_env(CREATIVE_GANS_CPU_DEVICES="3"))
    assert split["cpus"] == 3 and split["grandparent"] == server.proc.pid
    again, _ = report(tmp_path, script, script_env())
    assert again["cpus"] == 1 and again["marker"] is None
    # Thread counts are read when TensorFlow's context starts, after the fork: served, and applied.
    capped, _ = report(tmp_path, script, script_env(TF_NUM_INTEROP_THREADS="1"))
    assert capped["grandparent"] == server.proc.pid and capped["inter_op"] == 1 and again["inter_op"] == 0
    # A variable TensorFlow reads while it loads cannot be honoured by the server: a fresh process.
    proc = run_script(tmp_path, script.name, script_env(TF_ENABLE_ONEDNN_OPTS="0"), "where")
    assert proc.returncode == 0 and json.loads(proc.stdout)["parent"] == os.getpid()


def test_exit_codes_tracebacks_and_timeouts_come_back_as_from_a_subprocess(tmp_path, script):
    proc = run_script(tmp_path, script.name, script_env(), "exit", "3")
    assert proc.returncode == 3 and proc.stderr.strip() == "said before leaving"
    proc = run_script(tmp_path, script.name, script_env(), "raise")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ValueError: a bug" in proc.stderr
    with pytest.raises(subprocess.TimeoutExpired):
        run_script(tmp_path, script.name, script_env(), "sleep", timeout=3)
    # The server is still there for the next run.
    assert run_script(tmp_path, script.name, script_env(), "exit", "0").returncode == 0


def test_served_python_forks_what_an_engine_starts_and_ends_as_it_ends(tmp_path, script):
    """tests/served_python: the Python a job engine or a driver starts in the tests (the QUICK
    report's driver and jobs); the same contract through the socket server."""
    python, env = served_python_env(script_env(MARKER="m2"))
    if python == [sys.executable]:
        pytest.skip("CREATIVE_GANS_TEST_FRESH_PROCESSES=1: every run is a fresh interpreter")
    server = script_runs._socket_servers[0].proc.pid

    def served(*args, extra_env=None):
        return subprocess.run(
            [*python, *args], cwd=tmp_path, env=dict(env, **(extra_env or {})), capture_output=True, text=True
        )

    proc = served(script.name, "report", "--x", "1")
    seen = json.loads(proc.stdout)
    assert proc.returncode == 0 and proc.stderr.strip() == "" and seen["grandparent"] == server
    assert seen["argv"] == ["report", "--x", "1"] and seen["name"] == "__main__"
    assert seen["cwd"] == str(tmp_path) == seen["path0"] and seen["marker"] == "m2" and seen["cpus"] == 1
    module = json.loads(served("-m", "probe", "report").stdout)  # python -m, as a driver is started
    assert module["name"] == "__main__" and module["path0"] == str(tmp_path)
    assert module["grandparent"] == server
    proc = served(script.name, "exit", "3")
    assert proc.returncode == 3 and proc.stderr.strip() == "said before leaving"
    proc = served(script.name, "raise")
    assert proc.returncode == 1 and "ValueError: a bug" in proc.stderr
    # What loads with TensorFlow differs: the client execs a fresh interpreter instead.
    fresh = json.loads(served(script.name, "where", extra_env={"TF_ENABLE_ONEDNN_OPTS": "0"}).stdout)
    assert fresh["parent"] == os.getpid() and fresh["grandparent"] != server
    # Thread caps (the engine's --parallel) are served and applied, as TensorFlow applies them.
    capped = json.loads(served(script.name, "report", extra_env={"TF_NUM_INTEROP_THREADS": "1"}).stdout)
    assert capped["grandparent"] == server and capped["inter_op"] == 1
    # Ctrl-C reaches the run, which ends as Python ends on an uncaught KeyboardInterrupt.
    client = subprocess.Popen(
        [*python, script.name, "sleep"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    int(client.stdout.readline())
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=30)
    assert client.returncode == -signal.SIGINT and "KeyboardInterrupt" in err
    # The client killed (its engine died): the run is stopped, as PR_SET_PDEATHSIG stops a job's.
    client = subprocess.Popen([*python, script.name, "sleep"], cwd=tmp_path, env=env, stdout=subprocess.PIPE)
    run = int(client.stdout.readline())
    client.kill()
    client.wait(timeout=30)
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{run}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{run}")


def test_the_socket_server_ends_with_the_test_process_that_started_it(tmp_path):
    """xdist's workers end by os._exit, which runs no atexit: the server must not outlive them."""
    code = (
        "import os\n"
        "from tests.script_runs import served_python_env, script_env, _socket_servers\n"
        "served_python_env(script_env())\n"
        "print(_socket_servers[0].proc.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    env = dict(script_env(), **{script_runs.FRESH_ENV: "0"})
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=script_runs.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    server = int(proc.stdout.split()[-1])
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{server}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{server}")
