"""Claiming a run directory: after every check, atomically, and for the run's whole life.

A run directory holds one configuration (run_config.json), so rerunning a command resumes it and
a different command is refused rather than resuming someone else's run. The claim

  * is made only once every check has passed: a refused command (a UsageError raised inside the
    claim) removes the directory if this command created it, so the corrected rerun is not
    refused as "other settings";
  * holds an exclusive lock (flock on `.lock`) until the run ends: a second process on the same
    directory is told which process holds it and exits, even when both start at the same instant;
  * removes the temporary files of a killed write (`*.tmp` of common.files, TensorFlow's
    `*_temp*` checkpoint folders) before the run touches anything;
  * compares only the run's identity (common.spec.identity): how long it trains, how it is
    evaluated, the devices, XLA and the output name may change between reruns; run_config.json is
    rewritten with the latest spec (an older release's record is read and upgraded);
  * records a run that diverged as such: metrics.json says `"diverged": true` with the reason and
    no score, and the results of an earlier invocation (samples.npz, figures) are removed, so no
    figure of an untrained or broken model stands as the run's result.

Every claim needs a writable directory, re-evaluating a finished run too (it rewrites
metrics.json, samples and figures): a read-only copy is refused in one line before anything runs;
copy it somewhere writable first. Paths longer than the file system allows are refused the same way.
"""

import contextlib
import fcntl
import glob
import json
import os
import shutil

from common import files
from common import spec as spec_lib
from common.classes import RunFailed, UsageError

CONFIG_FILE = spec_lib.CONFIG_FILE
LOCK_FILE = ".lock"


class Diverged(RunFailed):
    """Training produced a non-finite loss or weights; the run is not a result."""

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step


INSIDE = 80  # room for the longest name a run writes inside out_dir (checkpoints/.ckpt-....tmp)


def shown(path, limit=120):
    """A path short enough for one line of an error message."""
    return path if len(path) <= limit else f"{path[: limit // 2 - 2]}...{path[-(limit // 2 - 2) :]}"


def check_path(out_dir):
    """One line for an --out_dir that is a file, lies under a file, cannot be written, or whose
    name is longer than the file system allows (with room for the files a run writes in it)."""
    path = os.path.abspath(out_dir)
    name_max, path_max = 255, 4096
    try:
        existing = path
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        name_max = os.pathconf(existing, "PC_NAME_MAX")
        path_max = os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        pass
    longest = max((len(part.encode()) for part in path.split(os.sep)), default=0)
    if longest > name_max:
        raise UsageError(
            f"--out_dir {shown(out_dir)}: a name in it is {longest} bytes long; the file system "
            f"allows {name_max}"
        )
    if len(path.encode()) + INSIDE > path_max:
        raise UsageError(
            f"--out_dir {shown(out_dir)} is {len(path.encode())} bytes long; the file system allows "
            f"{path_max} for a whole path, and the run's files need {INSIDE} more"
        )
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out_dir {out_dir} is a file, not a directory")
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(f"--out_dir {out_dir} lies under {parent}, which is a file")
    target = path if os.path.exists(path) else parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise UsageError(f"--out_dir {out_dir}: {target} is not writable (permission denied)")


def read_config(path):
    """run_config.json, or UsageError naming it when it is not JSON."""
    try:
        return files.read_json(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(
            f"{path} is damaged ({str(error)[:80]}); it records which settings this run "
            "directory belongs to: delete the directory, or restore that file"
        ) from None


def remove_stale_temporaries(out_dir):
    """Files a killed write left behind (never a finished file); returns how many were removed."""
    removed = 0
    for path in glob.glob(os.path.join(out_dir, "**", ".*.tmp"), recursive=True):
        os.remove(path)
        removed += 1
    for path in glob.glob(os.path.join(out_dir, "checkpoints", "*_temp*")):
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        removed += 1
    return removed


class Claim:
    def __init__(self, out_dir, lock_file, created):
        self.out_dir, self.created = out_dir, created
        self._lock_file = lock_file

    def release(self):
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor releases the flock
            self._lock_file = None


def _lock(out_dir):
    lock_path = os.path.join(out_dir, LOCK_FILE)
    lock_file = open(lock_path, "a+")
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.seek(0)
        holder = lock_file.read().strip() or "unknown"
        lock_file.close()
        raise UsageError(
            f"--out_dir {out_dir} is in use by another run (process {holder}); wait for it to "
            "finish or choose another --out_dir"
        ) from None
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(str(os.getpid()))
    lock_file.flush()
    return lock_file


def _compare(out_dir, previous, config):
    """UsageError when the run in out_dir was made with other settings than `config` (a run's
    spec, or for a tool without one a plain dict compared whole)."""
    if isinstance(config, spec_lib.Spec):
        changed = spec_lib.differences(type(config), previous, config)
        if changed and changed[0][0] == "experiment":
            raise UsageError(
                f"--out_dir {out_dir} holds the output of {changed[0][1] or 'another program'}, not of "
                f"{config.experiment}; choose another --out_dir"
            )
    else:
        keys = sorted(set(previous) | set(config))
        changed = [(k, previous.get(k), config.get(k)) for k in keys if previous.get(k) != config.get(k)]
    if changed:
        details = ", ".join(f"{k}: {old} -> {new}" for k, old, new in changed[:3])
        raise UsageError(
            f"--out_dir {out_dir} holds a run with other settings ({details}); "
            "choose another --out_dir or --fig_name, or delete that directory"
        )


def lock_holder(out_dir):
    """The process id holding out_dir's lock (a run under way), or None when no live process
    holds it (no run, a finished one, or one whose process died: the kernel drops its lock)."""
    path = os.path.join(out_dir, LOCK_FILE)
    if not os.path.exists(path):
        return None
    with open(path, "a+") as lock_file:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            return lock_file.read().strip() or "unknown"
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def claim(out_dir, config, log=print):
    """Claims out_dir for a run with `config` — its spec (common.spec), or for a tool without
    one a JSON-able dict of what it made the directory from — for the duration of the block. See
    the module docstring."""
    check_path(out_dir)
    created = not os.path.exists(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out_dir {shown(out_dir)}: cannot create it ({error.strerror})") from None
    lock_file = _lock(out_dir)  # from here on this process alone works in out_dir
    handle = Claim(out_dir, lock_file, created)
    is_spec = isinstance(config, spec_lib.Spec)
    content = spec_lib.run_config(config) if is_spec else json.loads(json.dumps(config, default=str))
    try:
        path = os.path.join(out_dir, CONFIG_FILE)
        previous = read_config(path)
        if previous is not None:
            _compare(out_dir, previous, config if is_spec else content)
        removed = remove_stale_temporaries(out_dir)
        if removed:
            log(f"removed {removed} temporary file(s) left by an interrupted write in {out_dir}")
        if previous != content:
            files.write_json(path, content)
        yield handle
    except Diverged as error:
        record_divergence(out_dir, content.get("spec", content), error)
        raise
    except UsageError:
        if created:  # a refused command leaves nothing behind
            handle.release()
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        handle.release()


def record_divergence(out_dir, config, error):
    """metrics.json = the divergence (no scores); earlier samples and figures removed."""
    for name in os.listdir(out_dir):
        if name == "samples.npz" or name.endswith(".png"):
            os.remove(os.path.join(out_dir, name))
    values = {"diverged": True, "error": str(error), "diverged_at_step": error.step}
    values.update({f"flags.{k}": v for k, v in config.items()})
    files.write_json(os.path.join(out_dir, "metrics.json"), values)
