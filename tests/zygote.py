"""Entry-script runs for the tests without paying for TensorFlow's import each time.

Importing TensorFlow costs ~4 s of CPU, and the script tests start ~150 entry scripts: more than
half of the suite's CPU went to imports. This server imports TensorFlow once (no operation run,
no device listed, so nothing in TensorFlow has started yet) and forks a child per run. The child
becomes the run: it takes the run's folder, environment, arguments, stdout and stderr, and runs the
script as `python script.py` does (`__main__`, the script's folder first on sys.path, the
interpreter's normal exit: threads joined, atexit, exit code or traceback). Only the import is
shared: the child finds its devices and splits the CPU (`common.tf_env.import_tensorflow`) as a
fresh process does.

Runs whose environment differs from the server's in a variable read while TensorFlow or Python
load (TF_*, OMP_*, PYTHON*, ...) get a fresh interpreter instead, and so does every run when
CREATIVE_GANS_TEST_FRESH_PROCESSES=1 (the suite as it was, to check the server changes nothing).
Tests of signals, pipes and worker clusters start their processes themselves.

One server per test process (tests/script_runs.py starts it at first use) serves both the runs the
tests start themselves (run_script) and those started by a job engine or a driver
(tests/served_python, tests/zygote_client.py); the protocol is serve_socket's."""

import json
import os
import runpy
import sys


def _import_tensorflow():
    # As common.tf_env does: its start-up notices silenced, scikit-learn and pandas hidden.
    from common.tf_env import unused_modules_hidden

    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import numpy  # noqa: F401

        with unused_modules_hidden():
            import tensorflow

        # GPU discovery (and its cuInit notice) once here; no device is created, so each child
        # still splits the CPU as it is told. Without it a child that never asks for devices
        # discovers them at exit, and its stderr carries the notice.
        return bool(tensorflow.config.list_physical_devices("GPU"))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def serve_socket(path):
    """The server. It listens on the Unix socket `path`; a client sends one JSON
    line (script or module, args, cwd, env, whether SIGINT is ignored) with its stdin, stdout and
    stderr attached (SCM_RIGHTS). Several runs may go on at once: each connection gets a waiter
    forked from the server, which forks the run, answers {"pid": ...}, passes on the signals the
    client sends ({"signal": n}), SIGTERMs the run if the client goes away (as a parent's death
    does to an engine's job), and answers {"code": ...} at the end. A run whose environment differs
    in what loads with TensorFlow is answered {"fresh": true}: the client starts a new interpreter.
    Exit codes are as subprocess reports them (negative: killed by that signal).
    Returns a request only in a forked run."""
    import signal
    import socket

    gpus = _import_tensorflow()
    served = loaded(os.environ, gpus)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            while message and not message.endswith(b"\n"):  # a long environment may come in parts
                more = conn.recv(1 << 20)
                if not more:
                    break
                message += more
            request = json.loads(message.decode())
        except (OSError, ValueError):
            conn.close()
            continue
        if loaded(request["env"], gpus) != served or len(fds) != 3:
            conn.sendall(b'{"fresh": true}\n')
            conn.close()
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:  # the waiter
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            run = _wait_for_run(conn, fds, request)
            if run is not None:
                return run
            os._exit(0)
        conn.close()
        for fd in fds:
            os.close(fd)


def _wait_for_run(conn, fds, request):
    import select
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        ignored = request.get("sigint_ignored")
        signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.default_int_handler)
        return request
    for fd in fds:
        os.close(fd)
    conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
    pending = b""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            conn.sendall((json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n").encode())
            conn.close()
            return None
        if select.select([conn], [], [], 0.05)[0]:
            data = conn.recv(4096)
            if not data:  # the client is gone
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
                return None
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                try:
                    os.kill(pid, int(json.loads(line)["signal"]))
                except (ValueError, KeyError, ProcessLookupError):
                    pass


# Read while Python or TensorFlow load: a run asking for other values than the server's gets a new
# interpreter. TF_CONFIG is read by this package at run time, and TensorFlow reads its thread
# counts when its context starts, which in a served run is after the fork (become() applies them).
_AT_LOAD = (
    "TF_", "OMP_", "KMP_", "MKL_", "ONEDNN_", "DNNL_", "XLA_", "CUDA_", "LD_", "PYTHON", "MALLOC", "MPL",
)  # fmt: skip
_THREADS = {"TF_NUM_INTRAOP_THREADS": "intra_op", "TF_NUM_INTEROP_THREADS": "inter_op"}
_AT_RUN = ("TF_CONFIG", *_THREADS)


def loaded(env, gpus=True):
    """The part of an environment a served run must share with its server. Without GPUs (`gpus`
    False: the server found none), which GPUs are visible (CUDA_VISIBLE_DEVICES, which submitit
    sets for its jobs) changes nothing."""
    values = {k: v for k, v in env.items() if k.startswith(_AT_LOAD) and k not in _AT_RUN}
    if not gpus:
        values.pop("CUDA_VISIBLE_DEVICES", None)
    if "PYTHONPATH" in values:  # the same folders, each once (a driver's jobs add this tree again)
        folders = [os.path.abspath(p) for p in values["PYTHONPATH"].split(os.pathsep) if p]
        values["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(folders))
    return values


def become(request):
    """Turns this forked child into `python <script> <args>` started in the run's folder."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    threads = {kind: int(request["env"][name]) for name, kind in _THREADS.items() if request["env"].get(name)}
    if threads:  # as TensorFlow takes them from the environment when its context starts
        import tensorflow as tf

        for kind, count in threads.items():
            getattr(tf.config.threading, f"set_{kind}_parallelism_threads")(count)
    if request.get("module"):
        sys.argv = [request["module"], *request["args"]]
        sys.path[0] = os.getcwd()  # as `python -m` has it
        return None
    script = request["script"]
    sys.argv = [script, *request["args"]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    return script


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--socket":
        sys.exit("usage: python -m tests.zygote --socket PATH")
    request = serve_socket(sys.argv[2])
    if request is None:
        return
    script = become(request)
    if script is None:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
