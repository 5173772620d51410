"""`python script args` or `python -m module args`, forked from the tests' socket server
(tests/zygote.py, serve_socket) instead of started afresh: tests/served_python runs this. The run
gets this process's stdin, stdout, stderr, folder and environment; this process forwards SIGINT and
SIGTERM to it, and ends as it ended (its exit code, or killed by its signal). Without the server
(CREATIVE_GANS_TEST_ZYGOTE unset or not answering), or when the server says the environment needs
a fresh interpreter, it execs one: the command then runs exactly as it would have."""

import json
import os
import signal
import socket
import sys

SOCKET_ENV = "CREATIVE_GANS_TEST_ZYGOTE"
PYTHON_ENV = "CREATIVE_GANS_TEST_PYTHON"  # the interpreter to exec without the server


def fresh(argv):
    python = os.environ.get(PYTHON_ENV) or sys.executable
    os.execv(python, [python, *argv])


def ask(path, request, fds):
    """Sends the server at `path` a run (`request`, with the run's stdin, stdout and stderr as the
    file descriptors `fds`): (the connection, a reader of its answers, the first answer, which
    holds the run's pid), or None when the run needs a fresh interpreter (no server answers, or it
    says so)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        socket.send_fds(conn, [(json.dumps(request) + "\n").encode()], fds)
    except OSError:
        conn.close()
        return None
    answers = conn.makefile("r")
    first = json.loads(answers.readline() or '{"fresh": true}')
    if first.get("fresh"):
        answers.close()
        conn.close()
        return None
    return conn, answers, first


def main():
    argv = sys.argv[1:]
    path = os.environ.get(SOCKET_ENV)
    if not argv or argv[0].startswith("-") and argv[0] != "-m" or not path:
        fresh(argv)
    request = {"cwd": os.getcwd(), "env": dict(os.environ)}
    if argv[0] == "-m":
        request.update(module=argv[1], args=argv[2:])
    else:
        request.update(script=argv[0], args=argv[1:])
    request["sigint_ignored"] = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    asked = ask(path, request, [0, 1, 2])
    if asked is None:
        fresh(argv)
    conn, answers, _ = asked

    def forward(signum, _frame):
        try:
            conn.sendall((json.dumps({"signal": signum}) + "\n").encode())
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, forward)
    line = answers.readline()
    code = json.loads(line)["code"] if line else 1
    if code < 0:  # killed by a signal: so is this process, for its parent to see
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
