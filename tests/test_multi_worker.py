"""--strategy multi_worker across two worker processes on 127.0.0.1 (TF_CONFIG, free ports): both
exit 0, only the chief writes the run directory, and the run gives exactly the numbers of the same
command under --strategy mirrored on two logical CPUs (the same two replicas, batches and seeds in
one process); a resumed multi-worker run continues from the chief's checkpoints; a worker whose
peers never start stops in one line. The image experiments reach multi_worker through the same
harness and strategy code; for time, the suite runs it with the 2-d script only."""

import glob
import os

import pytest

from benchmarks import bench_common
from tests.conftest import TOY_DIR
from tests.script_runs import metrics, run_script, script_env, served_python_env

SAME = ["steps", "resumed_from_step", "replicas"]


def two_workers(folder, script, env, out_dir, *args):
    # forked from the tests' TensorFlow server (tests/served_python): the same processes, without
    # four imports of TensorFlow
    python, env = served_python_env(env)
    return bench_common.run_workers(folder, script, list(args), out_dir, env=env, python=python)[1]


def mirrored(folder, script, env, out_dir, *args):
    proc = run_script(
        folder,
        script,
        dict(env, CREATIVE_GANS_CPU_DEVICES="2"),
        "--strategy",
        "mirrored",
        "--out_dir",
        out_dir,
        *args,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return metrics(out_dir)


def assert_same_numbers(a, b, keys):
    for key in SAME:
        assert a[key] == b[key], key
    for key in keys:
        assert a[key] == pytest.approx(b[key], rel=1e-5), key
    assert a["workers"] == 2 and b["workers"] == 1


@pytest.fixture
def worker_tmp(tmp_path):
    """A private TMPDIR, to check the workers' own directories are removed at exit."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


def test_stylegan_on_two_workers_equals_two_replicas_and_resumes(tmp_path, worker_tmp):
    env = script_env(TMPDIR=str(worker_tmp))
    out, reference = str(tmp_path / "workers"), str(tmp_path / "mirrored")
    args = ["--niters", "20", "--nhidden", "16", "--nojit"]  # every step an all-reduce over gRPC
    two_workers(TOY_DIR, "STYLEGAN.py", env, out, *args)
    assert not os.listdir(worker_tmp)  # worker 1 wrote into its own directory, removed at exit
    assert sorted(os.listdir(out)) == sorted(
        os.listdir(reference) if os.path.isdir(reference) else os.listdir(out)
    )
    keys = ["final_g_loss", "final_d_loss", "hq_fraction", "mode_kl"]
    assert_same_numbers(metrics(out), mirrored(TOY_DIR, "STYLEGAN.py", env, reference, *args), keys)
    # Resumed: both workers continue from the chief's checkpoint at step 20.
    args[1] = "40"
    two_workers(TOY_DIR, "STYLEGAN.py", env, out, *args)
    resumed = metrics(out)
    assert resumed["resumed_from_step"] == 20 and resumed["steps"] == 40
    assert_same_numbers(resumed, mirrored(TOY_DIR, "STYLEGAN.py", env, reference, *args), keys)
    assert len(glob.glob(os.path.join(out, "checkpoints", "ckpt-*.index"))) >= 2


def test_a_worker_whose_peers_never_start_stops_with_one_line(tmp_path):
    """TensorFlow would wait for the missing worker forever, deaf to Ctrl-C."""
    import json
    import signal
    import socket
    import subprocess
    import sys
    import time

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    config = {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": 0},
    }
    env = script_env(TF_CONFIG=json.dumps(config), CREATIVE_GANS_WORKER_TIMEOUT="4")
    command = [sys.executable, "STYLEGAN.py", "--niters", "10", "--strategy", "multi_worker"]
    proc = run_script(
        TOY_DIR,
        "STYLEGAN.py",
        env,
        "--niters",
        "10",
        "--strategy",
        "multi_worker",
        "--out_dir",
        str(tmp_path / "a"),
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "did not all start within 4 s (CREATIVE_GANS_WORKER_TIMEOUT)" in proc.stderr
    assert f"nothing answers at 127.0.0.1:{ports[1]}" in proc.stderr
    assert not (tmp_path / "a").exists()
    # Ctrl-C while it waits: the terminal signals the process group.
    env["CREATIVE_GANS_WORKER_TIMEOUT"] = "600"
    waiting = subprocess.Popen(
        command + ["--out_dir", str(tmp_path / "b")],
        cwd=TOY_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    def catches_sigint(pid):  # its handler is installed (it starts with SIGINT ignored)
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = next(line for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return False
        return bool(int(caught.split()[1], 16) & (1 << (signal.SIGINT - 1)))

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the watchdog runs: the process is waiting
        watchers = subprocess.run(
            ["pgrep", "-g", str(waiting.pid), "-f", "select.select"], capture_output=True, text=True
        )
        if any(catches_sigint(pid) for pid in watchers.stdout.split()):
            break
        time.sleep(0.2)
    os.killpg(waiting.pid, signal.SIGINT)
    _, err = waiting.communicate(timeout=60)
    # Killed by SIGINT (Popen says -2; a shell says 130), the watchdog's line on stderr.
    assert (
        waiting.returncode == -signal.SIGINT and "interrupted while waiting for the other workers" in err
    ), err
    assert "Traceback" not in err and not (tmp_path / "b").exists()
