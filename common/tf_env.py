"""Importing TensorFlow without its start-up chatter.

TensorFlow 2.21 writes C++ log lines to stderr while it loads and looks for GPUs ("Could not find
cuda drivers", "failed call to cuInit", CPU-instruction notes). They come from C++ logging that
runs before TF_CPP_MIN_LOG_LEVEL is honoured, so the variable alone cannot silence them. Entry
scripts call `import_tensorflow()` once, after their flags are checked: it loads TensorFlow with
file descriptor 2 pointed at a temporary file, then passes on every captured line that is not
one of the known harmless notices, so real errors still reach the user. This module imports no
TensorFlow itself."""
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
)


def import_tensorflow():
    """Imports TensorFlow (and finds its devices) quietly; returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    captured = tempfile.TemporaryFile()
    try:
        os.dup2(captured.fileno(), 2)
        import tensorflow as tf

        tf.config.list_physical_devices()  # GPU discovery logs here, not at import
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
        captured.close()
        for line in worth_showing(text):
            print(line, file=sys.stderr)
    return tf


def worth_showing(text):
    """The lines of captured start-up output that are not known harmless notices."""
    return [line for line in text.splitlines() if line.strip() and not _HARMLESS.search(line)]
