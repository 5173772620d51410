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

Protocol (one run at a time): the test process writes one JSON line (script, args, cwd, env,
stdout and stderr paths); the server answers {"pid": ...} when the child started and
{"code": ...} when it ended (negative: killed by that signal, as subprocess reports it)."""

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
        tensorflow.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def serve():
    """Answers requests until the test process goes; returns a request only in a forked child."""
    requests = os.fdopen(os.dup(0), "r")
    answers = os.fdopen(os.dup(1), "w")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    _import_tensorflow()
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            answers.close()
            return request
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()
    return None


def become(request):
    """Turns this forked child into `python <script> <args>` started in the run's folder."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    script = request["script"]
    sys.argv = [script, *request["args"]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    return script


def main():
    request = serve()
    if request is None:
        return
    script = become(request)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
