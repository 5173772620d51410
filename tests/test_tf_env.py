"""The quiet TensorFlow import: known start-up notices are dropped, anything else reaches the user."""

import os
import subprocess
import sys
import textwrap

from common import tf_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What TensorFlow 2.21 printed on CI's machine before any of our code ran.
NOTICES = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1795378887.240504   20686 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
E0000 00:00:1795378889.261823   20686 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
"""


def test_known_notices_are_dropped_and_other_lines_kept():
    assert tf_env.worth_showing(NOTICES) == []
    assert tf_env.worth_showing(NOTICES + "\nE0000 something real went wrong\n") == [
        "E0000 something real went wrong"
    ]


def test_import_captures_native_stderr_and_passes_on_the_rest(tmp_path):
    # A stand-in "tensorflow" that writes to file descriptor 2 directly, as TensorFlow's C++ code does.
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        textwrap.dedent(f"""
        import os, types
        os.write(2, {NOTICES.encode()!r})
        os.write(2, b"a real problem at import\\n")
        config = types.SimpleNamespace(list_physical_devices=lambda: os.write(2, {NOTICES.encode()!r}))
    """)
    )
    code = "from common import tf_env; tf = tf_env.import_tensorflow(); print(tf.__name__)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "tensorflow"
    assert proc.stderr.strip() == "a real problem at import"


def test_gpu_errors_are_not_hidden():
    error = "E0000 00:00:1.0 123 cuda_executor.cc:1000] could not allocate memory on the GPU"
    assert tf_env.worth_showing("I0000 00:00:1.0 123 cuda_executor.cc:1] NUMA node read\n" + error) == [error]
