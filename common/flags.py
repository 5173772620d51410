"""The wrapper every entry script runs under (`run(main)`): bad input becomes one clear line and
exit status 2, a failed run one line and status 3. Flags themselves are declared once, on the
run's spec (common/spec.py); the checks here serve the survey's scripts. Only entry scripts call
these, under `__main__`."""

import gc
import os
import sys

from absl import app, flags
from absl import logging as absl_logging

from common.classes import RunFailed, UsageError


def check_float_flags(flag_values):
    """Every float flag must be a finite number: nan and inf pass comparisons like `> 0` wrongly
    (nan) or blow a run up later (inf)."""
    import math

    for name in sorted(flag_values):
        flag = flag_values[name]
        if isinstance(flag.value, float) and not math.isfinite(flag.value):
            raise UsageError(f"--{name} must be a finite number (got {flag.value})")


def check_seed(value):
    require(0 <= value < 2**31, f"--seed must be in [0, 2^31) (got {value})")


def check_range(name, value, low, high, low_open=False, high_open=True):
    """low <= value < high by default; the bounds' openness as given."""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    require(above and below, f"--{name} must be in {left}{low}, {high}{right} (got {value})")


def require(condition, message):
    if not condition:
        raise UsageError(message)


def check_positive(name, value):
    require(value >= 1, f"--{name} must be a positive integer (got {value})")


CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the tree this package is in


def other_checkout(script):
    """The checkout an entry script lives in, when it is not the one its packages are imported
    from (else None). Through the editable install (`pip install -e .`) every checkout's scripts
    import the packages of the tree where it was installed; a second clone or a worktree pinned to
    another commit would silently run that tree's code."""
    script_root = os.path.dirname(os.path.dirname(os.path.abspath(script)))
    if os.path.realpath(script_root) == os.path.realpath(CODE_ROOT):
        return None
    return script_root if os.path.isfile(os.path.join(script_root, "common", "flags.py")) else None


def run(main):
    """absl.app.run(main), printing a UsageError (bad flags, missing data, a checkpoint of another
    model) as one line `<script>: error: <message>` with exit status 2."""
    elsewhere = other_checkout(sys.argv[0])
    if elsewhere:
        print(
            f"{os.path.basename(sys.argv[0])}: note: running the package code of {CODE_ROOT} (where "
            f"`pip install -e .` was run), not of this checkout {elsewhere}; to run this checkout's, "
            f"set PYTHONPATH={elsewhere}",
            file=sys.stderr,
        )

    def wrapped(argv):
        if len(argv) > 1:
            raise UsageError(f"unexpected arguments {' '.join(argv[1:])} (flags start with --)")
        return main(argv)

    def guarded(argv):
        if not flags.FLAGS["verbosity"].present:  # TensorFlow's INFO lines would bury the progress bar
            absl_logging.set_verbosity(absl_logging.WARNING)
        script = os.path.basename(sys.argv[0])
        try:
            return _guarded(argv, script)
        except KeyboardInterrupt:
            interrupted(script)

    def _guarded(argv, script):
        try:
            check_float_flags(flags.FLAGS)
            if "seed" in flags.FLAGS:
                check_seed(flags.FLAGS.seed)
            if "download" in flags.FLAGS and not flags.FLAGS.download:
                os.environ["CREATIVE_GANS_NODOWNLOAD"] = "1"  # read by common.downloads
            if "strategy" in flags.FLAGS and flags.FLAGS.strategy == "multi_worker":
                # Collective ops are configured once, before any other TensorFlow op runs.
                from common import tf_env

                tf_env.import_tensorflow()
                from common import distribute

                distribute.make_strategy("multi_worker")
            wrapped(argv)  # a return value would become the exit status: ignore it
        except UsageError as error:  # includes CheckpointMismatch
            print(f"{script}: error: {error}", file=sys.stderr)
            sys.exit(2)
        except RunFailed as error:  # includes a diverged run
            print(f"{script}: failed: {error}", file=sys.stderr)
            sys.exit(3)
        except MemoryError:
            print(
                f"{script}: failed: out of memory; use smaller sizes (batch, widths, samples)",
                file=sys.stderr,
            )
            sys.exit(3)
        except OSError as error:  # the machine, not the program: disk full, permissions, a vanished file
            where = f": {error.filename}" if getattr(error, "filename", None) else ""
            print(f"{script}: failed: {error.strerror or error}{where}", file=sys.stderr)
            sys.exit(3)
        except Exception as error:
            tf = sys.modules.get("tensorflow")
            if tf is not None and isinstance(error, tf.errors.ResourceExhaustedError):
                print(
                    f"{script}: failed: out of memory in TensorFlow; use smaller sizes (batch, widths, "
                    "samples)",
                    file=sys.stderr,
                )
                sys.exit(3)
            raise

    sys.stdout = QuietPipe(sys.stdout)
    if any(arg in ("-h", "-?", "--help", "--helpshort") for arg in sys.argv[1:]):
        # absl exits 1 after help; a user asking for help did nothing wrong.
        doc = (sys.modules["__main__"].__doc__ or "").strip()
        print(f"{doc}\n\nflags:\n{flags.FLAGS.main_module_help()}")
        sys.exit(0)
    try:  # absl's own parsing error is two lines ("FATAL Flags parsing error" + a hint): make it one
        flags.FLAGS(sys.argv)
    except flags.Error as error:
        print(f"{os.path.basename(sys.argv[0])}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        interrupted(os.path.basename(sys.argv[0]))
    import signal

    own_exit = getattr(main, "__module__", None) == "__main__"
    restore = _stop_on_ctrl_c(os.path.basename(sys.argv[0]))
    try:
        app.run(guarded)
    except KeyboardInterrupt:  # raised by hand, or under a SIGINT handler that is not ours
        interrupted(os.path.basename(sys.argv[0]))
    except SystemExit:
        # The run has ended, its outputs written. During the interpreter's clean-up that follows
        # (TensorFlow's teardown) Python puts back the default SIGINT action, so a Ctrl-C there
        # ended the process by the signal without a word. Nothing is left to stop:
        # the Ctrl-C is ignored and the run's own exit status stands. Only when this is the
        # script's own exit (its main is `__main__`'s): an ignored SIGINT is inherited by every
        # process started afterwards, so a process that goes on living must not keep it.
        if own_exit:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            restore = None
            left_to_exit()
        raise
    finally:
        if restore is not None:  # a caller that lives on gets its own handler back
            restore()


def left_to_exit():
    """Called by a process whose work is done, just before it exits: the interpreter's clean-up
    runs full garbage collections over every object the process made (traced graphs, Keras
    layers, TensorFlow's Python wrappers): ~1.5 s of CPU after the last output of a run (perf:
    gc_collect_main), ~15 % of a 10-step InfoGAN run. Frozen, they are left to the process's end;
    objects without reference cycles are still freed, and every file is closed by then."""
    gc.freeze()


def _stop_on_ctrl_c(script):
    """Ctrl-C ends the run where it lands: one line, exit status 130 (`interrupted`), straight from
    the signal handler. Python's own handler raises KeyboardInterrupt instead, and where that lands
    inside a finalizer (TensorFlow frees tensors and iterators in `__del__` all the time) Python
    swallows it ("Exception ignored ... KeyboardInterrupt", the run goes on and exits 0) or leaves a
    C++ object half torn down (a SIGSEGV at exit: both seen in bench_faults). Nothing needs the
    unwinding: the run-dir lock is an flock the kernel drops, a half-written file is removed when
    the run resumes. Returns a function that puts the previous handler back, or None when it left
    SIGINT alone: a process started with SIGINT ignored (nohup, a shell's background job) keeps
    ignoring it, and only the main thread can set a handler."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    current = signal.getsignal(signal.SIGINT)
    if current is signal.SIG_IGN:
        return None
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted(script))
    # None: a handler set outside Python, which cannot be put back; Python's default stands in
    return lambda: signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


INTERRUPTED = 130  # the shell's status for a process ended by SIGINT


def interrupted(script):
    """Ctrl-C: one line and exit status 130, never a traceback. A run resumes from its last
    checkpoint when the same command runs again (a half-written file is removed then). The exit
    skips the interpreter's clean-up, whose TensorFlow threads could print or block."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while saying so: still one line
    for stream in (sys.stdout, sys.stderr):
        try:  # best effort: called from the signal handler, possibly inside a write to this stream
            stream.flush()  # ("reentrant call" RuntimeError), or after its reader has gone
        except Exception:  # noqa: BLE001
            pass
    from common import files, tf_env  # no TensorFlow

    files.remove_pending()  # a write cut short leaves no temporary file (the unwinding would have)

    line = f"\n{script}: interrupted; run the same command again to resume\n"
    try:
        os.write(tf_env.stderr_fd(), line.encode())
    except OSError:  # nobody reads stderr any more
        pass
    os._exit(INTERRUPTED)


class QuietPipe:
    """sys.stdout that survives a reader who stops reading (`script.py | head -1`): once the pipe
    is closed, what the run prints is dropped and the run carries on to its end (and its exit
    status), instead of failing on "Broken pipe"."""

    def __init__(self, stream):
        self._stream, self._closed = stream, False

    def _drop(self):
        self._closed = True
        try:  # the interpreter's own last flush must not fail either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text):
        if self._closed:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self):
        if self._closed:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def __getattr__(self, name):
        return getattr(self._stream, name)
