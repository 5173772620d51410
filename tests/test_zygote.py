"""The tests' TensorFlow server (tests/zygote.py): a run through it is `python script args` as a
fresh interpreter runs it — folder, arguments, environment, sys.path, exit codes, tracebacks,
signals, the CPU split — and a run it cannot serve gets a fresh interpreter."""

import json
import subprocess
import textwrap

import pytest

from tests import script_runs
from tests.script_runs import run_script, script_env

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from common import tf_env
    what = sys.argv[1]
    if what == "report":
        tf = tf_env.import_tensorflow()
        json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "path0": sys.path[0],
                   "marker": os.environ.get("MARKER"), "name": __name__,
                   "cpus": len(tf.config.list_logical_devices("CPU")), "parent": os.getppid(),
                   "sum": float(tf.reduce_sum(tf.ones(3)))}, sys.stdout)
    elif what == "exit":
        print("said before leaving", file=sys.stderr)
        sys.exit(int(sys.argv[2]))
    elif what == "raise":
        raise ValueError("a bug")
    elif what == "sleep":
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
    assert seen["parent"] == server.proc.pid  # served, not a fresh interpreter
    assert seen["argv"] == ["report", "--x", "1"] and seen["name"] == "__main__"
    assert seen["cwd"] == str(tmp_path) and seen["path0"] == str(tmp_path)
    assert seen["marker"] == "m1" and seen["sum"] == 3.0 and seen["cpus"] == 1
    assert proc.stderr.strip() == ""  # TensorFlow's start-up notices stay out, as in a fresh process
    # The CPU split is the child's own: the server never ran TensorFlow.
    split, _ = report(tmp_path, script, script_env(CREATIVE_GANS_CPU_DEVICES="3"))
    assert split["cpus"] == 3 and split["parent"] == server.proc.pid
    again, _ = report(tmp_path, script, script_env())
    assert again["cpus"] == 1 and again["marker"] is None
    # A variable TensorFlow reads while it loads cannot be honoured by the server: a fresh process.
    fresh, _ = report(tmp_path, script, script_env(TF_NUM_INTEROP_THREADS="1"))
    assert fresh["parent"] != server.proc.pid


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
