"""tf.distribute helpers: strategy by name, the multi-worker cluster, per-replica loss scaling,
per-replica seeds."""

import atexit
import json
import os
import shutil
import sys
import tempfile

import tensorflow as tf

from common.classes import UsageError

# A process can configure collective ops once, before any other TensorFlow op: the one
# MultiWorkerMirroredStrategy of this process is made early (common.flags.run) and kept here.
_MULTI_WORKER = []


def make_strategy(name="default"):
    """default: one device; mirrored: all local GPUs (or logical CPUs); multi_worker: the workers
    of TF_CONFIG, or of Slurm (SLURM_* variables) when TF_CONFIG is not set."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if not _MULTI_WORKER:
            cluster()  # a malformed TF_CONFIG is one line, not a traceback
            if "TF_CONFIG" not in os.environ and "SLURM_PROCID" in os.environ:
                resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
            else:
                resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
            _MULTI_WORKER.append(_wait_for_the_cluster(resolver))
        return _MULTI_WORKER[0]
    raise UsageError(f"--strategy: unknown strategy '{name}'; choose default, mirrored or multi_worker")


WAIT_ENV = "CREATIVE_GANS_WORKER_TIMEOUT"
DEFAULT_WAIT = 600  # seconds a worker waits for the others at start-up


def worker_timeout():
    text = os.environ.get(WAIT_ENV, str(DEFAULT_WAIT))
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 7 * 24 * 3600:
        raise UsageError(f"{WAIT_ENV}={text!r}: seconds between 1 and a week")
    return seconds


# The watchdog of the start-up wait: a small Python process (no TensorFlow), because the waiting
# process holds the GIL inside TensorFlow's C++ and no thread of its own can run.
_WATCHDOG = r"""
import os, select, signal, socket, sys
parent, timeout, script, variable = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
addresses = sys.argv[5:]

def say(line):
    sys.stderr.write("\n%s: %s\n" % (script, line))
    sys.stderr.flush()

def silent(address):
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
        return False
    except (OSError, ValueError):
        return True

def interrupted(*_):  # Ctrl-C reaches the whole process group: the waiting process dies of it
    say("interrupted while waiting for the other workers")
    os._exit(0)

signal.signal(signal.SIGINT, interrupted)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
ready, _, _ = select.select([0], [], [], timeout)
if not ready:
    missing = [a for a in addresses if silent(a)]
    say("error: the other workers did not all start within %g s (%s)%s" % (
        timeout, variable, "; nothing answers at " + ", ".join(missing) if missing else ""))
    os.kill(parent, signal.SIGKILL)
"""


def _wait_for_the_cluster(resolver):
    """MultiWorkerMirroredStrategy, whose construction waits (in C++, holding the GIL) until every
    worker is up. TensorFlow would wait forever and deaf to Ctrl-C; here a watchdog process ends
    the wait after worker_timeout() seconds with one line naming the workers that never answered,
    and Ctrl-C or SIGTERM end it at once (their default action during the wait; Ctrl-C's line comes
    from the watchdog, which is in the same process group)."""
    import signal
    import subprocess

    timeout = worker_timeout()
    spec = resolver.cluster_spec().as_dict()
    addresses = [a for kind in ("chief", "worker") for a in spec.get(kind, [])]
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(timeout), os.path.basename(sys.argv[0])]
        + [WAIT_ENV, *addresses],
        stdin=subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", "")},
        # Ignored until its own handler is installed: a Ctrl-C during its start-up would otherwise
        # print "Fatal Python error: init_import_site ... KeyboardInterrupt" beside our line.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    previous = {s: signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        watchdog.stdin.close()  # the wait is over: the watchdog exits
        watchdog.wait()


def _tf_config(text):
    """(task type, task index, {type: [addresses]}) of TF_CONFIG, or one clear UsageError."""
    try:
        spec = json.loads(text)
    except ValueError:
        raise UsageError('TF_CONFIG is not valid JSON (expected {"cluster": ..., "task": ...})') from None
    if not isinstance(spec, dict) or not isinstance(spec.get("cluster"), dict):
        raise UsageError('TF_CONFIG needs a \'cluster\' object: {"worker": ["host:port", ...]}')
    members = spec["cluster"]
    for kind, addresses in members.items():
        if not (
            isinstance(addresses, list)
            and addresses
            and all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)
        ):
            raise UsageError(f"TF_CONFIG cluster.{kind} must be a non-empty list of 'host:port' strings")
    task = spec.get("task", {})
    if not isinstance(task, dict):
        raise UsageError('TF_CONFIG task must be an object: {"type": "worker", "index": 0}')
    kind, index = task.get("type", "worker"), task.get("index", 0)
    if kind not in ("chief", "worker"):
        raise UsageError(f"TF_CONFIG task.type {kind!r}: this package runs chief and worker tasks only")
    if isinstance(index, bool) or not isinstance(index, int):
        raise UsageError(f"TF_CONFIG task.index {index!r} is not a whole number")
    if not 0 <= index < len(members.get(kind, [])):
        raise UsageError(
            f"TF_CONFIG task.index {index}, but cluster.{kind} lists {len(members.get(kind, []))} address(es)"
        )
    return kind, index, members


def cluster():
    """(task index, number of workers, is chief) of this process under TF_CONFIG or Slurm;
    (0, 1, True) outside a cluster. The chief is the task of type "chief", else worker 0. A
    malformed TF_CONFIG or Slurm variable is one UsageError."""
    config = os.environ.get("TF_CONFIG")
    if config:
        kind, index, members = _tf_config(config)
        workers = sum(len(members.get(k, [])) for k in ("chief", "worker"))
        chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in members)
        return index, workers, chief
    if "SLURM_PROCID" in os.environ:
        try:
            index = int(os.environ["SLURM_PROCID"])
            tasks = int(os.environ.get("SLURM_NTASKS", "1"))
        except ValueError:
            raise UsageError("SLURM_PROCID and SLURM_NTASKS must be whole numbers") from None
        if not 0 <= index < tasks:
            raise UsageError(f"SLURM_PROCID {index} is outside the job's {tasks} task(s)")
        return index, tasks, index == 0
    return 0, 1, True


def output_dir(out_dir, strategy_name):
    """Where this process writes: out_dir for the chief (and every single-process run); under
    multi_worker, another worker writes into its own temporary directory, removed at exit, so the
    run directory holds one run. Its directory starts with a copy of the chief's checkpoints, so a
    resumed run starts every worker at the chief's step."""
    if strategy_name != "multi_worker":
        return out_dir
    index, _, chief = cluster()
    if chief:
        return out_dir
    own = tempfile.mkdtemp(prefix=f"creative-gans-worker{index}-")
    atexit.register(shutil.rmtree, own, ignore_errors=True)
    chief_checkpoints = os.path.join(out_dir, "checkpoints")
    if os.path.isdir(chief_checkpoints):
        shutil.copytree(chief_checkpoints, os.path.join(own, "checkpoints"))
    return own


def set_precision(mixed):
    """Keras' global dtype policy for the models built after it: float32, or with `mixed` half
    precision compute on float32 weights — mixed_float16 on GPUs (with loss scaling: see
    `optimizer`), mixed_bfloat16 on CPUs (bfloat16 has float32's range: no scaling). Models keep
    their output layers in float32, so every loss is computed in float32. Returns the policy."""
    import keras

    name = "float32"
    if mixed:
        name = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_dtype_policy(name)
    return name


def optimizer(opt):
    """`opt`, wrapped in a dynamic LossScaleOptimizer under the mixed_float16 policy."""
    import keras

    if keras.mixed_precision.dtype_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(opt)
    return opt


def scale_loss(loss, opt=None):
    """Divides a per-replica mean loss by the number of replicas, and multiplies it by `opt`'s
    loss scale under mixed_float16 (its apply() unscales the gradients and skips a step whose
    gradients overflowed).

    Keras 3 optimizers all-reduce gradients with SUM across replicas, so this makes a step on
    N replicas with a batch of B each equal to one step on one device with a batch of N * B.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    loss = loss / tf.cast(replicas, loss.dtype) if replicas > 1 else loss
    return opt.scale_loss(loss) if opt is not None else loss


def replica_seed(seed, replica_id):
    """Folds the replica id into a stateless seed so replicas draw different noise."""
    return tf.random.experimental.stateless_fold_in(seed, replica_id)


def split_seed(seed, num):
    """`num` independent stateless seeds, shape (num, 2), from one."""
    return tf.random.experimental.stateless_split(seed, num=num)
