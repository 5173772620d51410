"""Importing TensorFlow without its start-up chatter.

TensorFlow 2.21 writes C++ log lines to stderr while it loads and looks for GPUs ("Could not find
cuda drivers", "failed call to cuInit", CPU-instruction notes). They come from C++ logging that
runs before TF_CPP_MIN_LOG_LEVEL is honoured, so the variable alone cannot silence them. Entry
scripts call `import_tensorflow()` once, after their flags are checked: it loads TensorFlow with
file descriptor 2 pointed at a temporary file, then passes on every captured line that is not
one of the known harmless notices, so real errors still reach the user. This module imports no
TensorFlow itself.

Set CREATIVE_GANS_CPU_DEVICES=N on a machine without GPUs to split the CPU into N logical
devices, so `--strategy mirrored` runs N replicas there (how the multi-device path is tested
without a GPU)."""

import contextlib
import os
import re
import sys
import tempfile

# Start-up notices that say nothing about this run. Anything else captured is passed on.
_HARMLESS = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|cudart_stub\.cc.*Could not find cuda drivers"
    r"|cuda_platform\.cc.*failed call to cuInit"
    r"|^[IW]\d{4} .*cuda_(executor|diagnostics)\.cc"  # informational only; their errors still show
    r"|cpu_feature_guard\.cc"
    r"|To enable the following instructions:"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered"
    r"|TF-TRT Warning"
    r"|oneDNN custom operations are on"
)


UNUSED_BY_KERAS = ("sklearn", "pandas")


@contextlib.contextmanager
def unused_modules_hidden():
    """Keras imports scikit-learn (for its scikit-learn wrappers) and pandas (to accept DataFrames
    in fit()), which nothing here uses: ~2 s of CPU at every start-up. Both are hidden while
    TensorFlow imports inside this block (Keras then does without them) and importable again after."""
    hidden = [name for name in UNUSED_BY_KERAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_ready = False
_terminal_stderr = None  # the real stderr's descriptor while TensorFlow's start-up is captured


def stderr_fd():
    """The descriptor that reaches the user's stderr now: during `import_tensorflow` descriptor 2
    points at a temporary file (a Ctrl-C's one line written there would be lost)."""
    return 2 if _terminal_stderr is None else _terminal_stderr


def import_tensorflow():
    """Imports TensorFlow (and finds its devices) quietly; returns the module. TensorFlow imported
    earlier by someone else (a notebook's own `import tensorflow`) still gets its devices found and
    the CPU split here, once."""
    global _ready, _terminal_stderr
    if _ready:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    captured = tempfile.TemporaryFile()
    try:
        os.dup2(captured.fileno(), 2)
        _terminal_stderr = saved
        with unused_modules_hidden():
            import tensorflow as tf

        tf.config.list_physical_devices()  # GPU discovery logs here, not at import
        split_cpu(tf, os.environ.get(CPU_DEVICES_ENV))
        _ready = True
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        _terminal_stderr = None
        os.close(saved)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
        captured.close()
        for line in worth_showing(text):
            print(line, file=sys.stderr)
    return tf


def quiet_grappler(tf):
    """Turns off grappler's remapper. On the gradients of convolution + LeakyReLU (FIGR's nested
    tapes, CAN's discriminator) it fails to fuse and logs 'remapper failed: INVALID_ARGUMENT' at
    every trace: harmless, but alarming, and printed after start-up where import_tensorflow cannot
    filter it. Costs ~5 % of FIGR's meta-iteration speed on a CPU. Entry scripts call it once."""
    tf.config.optimizer.set_experimental_options({"remapping": False})


CPU_DEVICES_ENV = "CREATIVE_GANS_CPU_DEVICES"
MAX_CPU_DEVICES = 64


def split_cpu(tf, count):
    """Splits the CPU into `count` logical devices when there is no GPU (before any op runs)."""
    if not count or tf.config.list_physical_devices("GPU"):
        return
    try:
        count = int(count)
    except ValueError:
        raise SystemExit(f"{CPU_DEVICES_ENV}={count!r} is not a number of devices") from None
    if not 1 <= count <= MAX_CPU_DEVICES:
        raise SystemExit(
            f"{CPU_DEVICES_ENV}={count}: between 1 and {MAX_CPU_DEVICES} logical devices (each one "
            "holds a copy of the model)"
        )
    if count > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        except RuntimeError:  # TensorFlow ran an operation in this process already
            if len(tf.config.list_logical_devices("CPU")) != count:
                raise SystemExit(
                    f"{CPU_DEVICES_ENV}={count}: TensorFlow already runs in this process with "
                    f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s); set it before the "
                    "first TensorFlow operation"
                ) from None


def worth_showing(text):
    """The lines of captured start-up output that are not known harmless notices."""
    return [line for line in text.splitlines() if line.strip() and not _HARMLESS.search(line)]
