"""Many independent runs through an existing job engine: submitit, locally (N jobs at a time on
this machine, each with its thread count capped) or on a Slurm cluster, with one flag.

A job is one entry-script command in one seed, run as a user runs it (a subprocess in the
experiment's folder), in one or more stages that continue the same run directory (a longer run
after a shorter one; after each, metrics.json is kept as metrics_<stage>.json). Beside the run
directory the job writes its record (<run dir>.json): the commands, the commit, the exit status,
the wall time and the load of the machine.

  * a job whose record says "ok" is never run again; a failed one (non-zero exit, a diverged run)
    is recorded with its error and retried only when asked (`retry_failed`); a job whose record
    holds other commands than the job's now (a recipe changed) has its old run moved aside
    (`<run dir>.replaced-<time>`) and runs again: old numbers never stand under a new recipe;
  * a job interrupted (Ctrl-C, the driver killed) leaves no record, so rerunning the driver runs
    it again and the entry script resumes from its checkpoint; a job still running for an earlier
    driver (its run directory locked by a live process) is waited for, not started twice;
  * the driver shows one progress bar with an ETA for all jobs (weighted by their expected
    seconds, scaled by how fast the jobs so far went).

Used by `make report` (reporting/runs.py) and `make league` (league/).
"""

import dataclasses
import glob
import os
import signal
import subprocess
import sys
import time

from common import files
from common.progress import format_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = ("local", "slurm")
# The interpreter that runs the jobs' entry scripts: this one, unless the environment names another
# (a cluster's nodes may see this Python under another path; the tests run jobs through a launcher
# that forks them from a process with TensorFlow already imported, tests/served_python).
JOB_PYTHON_ENV = "CREATIVE_GANS_JOB_PYTHON"


@dataclasses.dataclass(frozen=True)
class Job:
    key: str  # unique among the jobs of a driver, e.g. "vae_trousers_removed/seed100"
    folder: str  # the experiment's folder (relative to the repository): the commands run there
    stages: tuple  # ((stage name, (script, *arguments)), ...) run one after another in out_dir
    out_dir: str
    seconds: float = 60.0  # expected wall time here (the progress bar's weight)
    metrics_file: str = "metrics.json"  # relative to out_dir (a 2-d --compare run: a sub-folder)
    threads: int = 0  # TensorFlow's intra-op threads (0: its default, every core)

    @property
    def record_path(self):
        return self.out_dir.rstrip("/") + ".json"

    def commands(self):
        return [f"python {' '.join(argv)}" for _, argv in self.stages]


def read_record(job):
    try:
        return files.read_json(job.record_path, None)
    except (ValueError, UnicodeDecodeError):
        return None  # a record cut short by a crash: the job runs again


def is_done(record, retry_failed):
    return record is not None and (record.get("status") == "ok" or not retry_failed)


def comparable(commands):
    """A job's commands as compared with its record: an absolute path (another run's folder in
    --init_from, a data folder) by its last component, so a copied or moved results folder (a
    worktree, another clone) still matches its records."""
    return [
        " ".join(os.path.basename(t.rstrip("/")) if os.path.isabs(t) else t for t in command.split(" "))
        for command in commands
    ]


def changed(job, record):
    """Whether the record is of other commands than the job's now (a recipe changed in the code):
    reusing it would put the old run's numbers under the new recipe's name."""
    return record is not None and comparable(record.get("commands", [])) != comparable(job.commands())


def set_aside(job, log):
    """Moves a changed job's run folder, record and logs to `<run dir>.replaced-<time>` (nothing is
    deleted) so the job runs anew in its place."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = f"{job.out_dir.rstrip('/')}.replaced-{stamp}"
    os.makedirs(aside)
    for path in [job.out_dir, job.record_path, *glob.glob(glob.escape(job.out_dir.rstrip("/")) + ".*.log")]:
        if os.path.exists(path):
            os.replace(path, os.path.join(aside, os.path.basename(path.rstrip("/"))))
    log(f"  {job.key}: its run was made by other commands; moved to {aside}, it runs again")


def git_commit():
    """The commit of this checkout, with "+changes" when tracked files differ from it (what the
    report itself writes — README's block, docs/figures, report/ — does not count)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!README.md"]
            + [":!docs/figures", ":!report", ":!league/results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def die_with_parent():  # a preexec_fn: the child never outlives the process that started it
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def this_checkout(env):
    """`env` with this checkout first on PYTHONPATH. Through the editable install an entry script
    imports the packages (common, vae, ...) of the tree where `pip install -e .` was run; a job of
    another checkout (a worktree pinned to a commit, a second clone) would otherwise run that
    tree's code while its record names this one's commit."""
    return dict(env, PYTHONPATH=os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p))


def execute(job):
    """Runs every stage of `job` (in the job's process: locally a submitit task, on Slurm a job)
    and writes its record; returns it. Interrupted, it stops the entry script and writes none."""
    record = {
        "key": job.key,
        "folder": job.folder,
        "commands": [],
        "commit": git_commit(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": round(os.getloadavg()[0], 2),
        "threads": job.threads,
        "stages": {},
    }
    environment = this_checkout(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if job.threads:
        environment.update(TF_NUM_INTRAOP_THREADS=str(job.threads), TF_NUM_INTEROP_THREADS="1")
    start = time.perf_counter()
    status, message = "ok", ""
    os.makedirs(os.path.dirname(job.out_dir) or ".", exist_ok=True)
    for name, argv in job.stages:
        record["commands"].append(f"python {' '.join(argv)}")
        log_path = job.out_dir.rstrip("/") + f".{name}.log"
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen(
                [os.environ.get(JOB_PYTHON_ENV) or sys.executable, *argv, "--out_dir", job.out_dir],
                cwd=os.path.join(ROOT, job.folder),
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
            try:
                code = proc.wait()
            except BaseException:  # Ctrl-C or the engine cancelling the job: stop it, record nothing
                proc.send_signal(signal.SIGINT)  # the entry script stops cleanly and says so
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                raise
        metrics = files.read_json(os.path.join(job.out_dir, job.metrics_file), None)
        if code != 0 or metrics is None or metrics.get("diverged"):
            status = "failed"
            with open(log_path, errors="replace") as f:
                tail = [line for line in f.read().splitlines() if line.strip()][-3:]
            message = f"exit {code}: " + (" / ".join(tail) or "no output")
            break
        if len(job.stages) > 1:
            files.write_bytes(
                os.path.join(job.out_dir, f"metrics_{name}.json"),
                open(os.path.join(job.out_dir, job.metrics_file), "rb").read(),
            )
        record["stages"][name] = {
            "train_seconds": train_seconds(job, metrics),
            "stage_seconds": stage_seconds(model_metrics(job.out_dir, job.metrics_file, metrics)),
        }
    record.update(
        status=status,
        message=message,
        wall_seconds=round(time.perf_counter() - start, 1),
        load_average_end=round(os.getloadavg()[0], 2),
    )
    files.write_json(job.record_path, record)
    return record


def _held_elsewhere(job):
    """Whether a live process (a job of an earlier driver) holds the job's run directory."""
    from common import rundir

    return rundir.lock_holder(job.out_dir) is not None


def executor(engine, folder, parallel, threads, timeout_min, slurm_partition=None):
    """The submitit executor of `engine`: local (this machine) or slurm (a cluster; one job per
    run, `parallel` of them at a time through an array)."""
    import submitit

    if engine == "local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=timeout_min)
        return ex
    ex = submitit.AutoExecutor(folder=folder, cluster="slurm")
    params = dict(timeout_min=timeout_min, cpus_per_task=max(threads, 1), slurm_array_parallelism=parallel)
    if slurm_partition:
        params["slurm_partition"] = slurm_partition
    ex.update_parameters(**params)
    return ex


def run_jobs(
    jobs,
    engine="local",
    parallel=1,
    retry_failed=False,
    folder=None,
    timeout_min=24 * 60,
    slurm_partition=None,
    stream=None,
    title="jobs",
):
    """Runs every job without a finished record (see the module docstring) through submitit, at
    most `parallel` at a time; returns the number of jobs that failed (now or before)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}'; choose {' or '.join(ENGINES)}")
    out = stream or sys.stderr

    def log(text):
        out.write(text + "\n")
        out.flush()

    for job in jobs:
        if changed(job, read_record(job)) and not _held_elsewhere(job):
            set_aside(job, log)
    todo = [j for j in jobs if not is_done(read_record(j), retry_failed)]
    log(f"{title}: {len(jobs)} jobs, {len(jobs) - len(todo)} already finished (reused), {len(todo)} to run")
    if todo:
        folder = folder or os.path.join(os.path.dirname(todo[0].out_dir), "..", "engine")
        ex = executor(engine, folder, parallel, max(j.threads for j in todo), timeout_min, slurm_partition)
        _drive(ex, todo, parallel, log, title)
    return sum((read_record(j) or {}).get("status") != "ok" for j in jobs)


def _drive(ex, todo, parallel, log, title):
    total = sum(j.seconds for j in todo) or 1.0
    done_weight, started, running, waiting = 0.0, time.perf_counter(), {}, list(todo)
    finished = 0
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                job = waiting.pop(0)
                if _held_elsewhere(job):  # an earlier driver's job is still at it: wait for its record
                    running[job.key] = (job, None)
                else:
                    running[job.key] = (job, ex.submit(execute, job))
            for key, (job, handle) in list(running.items()):
                over = handle.done() if handle is not None else not _held_elsewhere(job)
                if not over:
                    continue
                del running[key]
                finished += 1
                done_weight += job.seconds
                record = read_record(job)
                if handle is not None and record is None:
                    try:
                        handle.result()
                    except Exception as error:  # noqa: BLE001 - the job's own failure, reported below
                        log(f"  job {key} ended without a record: {str(error).splitlines()[-1][:200]}")
                if record and record.get("status") != "ok":
                    log(f"  FAILED {key}: {record.get('message', '')[-300:]}")
                spent = time.perf_counter() - started
                eta = (total - done_weight) * spent / max(done_weight, 1e-9)
                filled = int(30 * done_weight / total)
                log(
                    f"{title} [{'=' * filled}{' ' * (30 - filled)}] {100 * done_weight / total:3.0f}% "
                    f"{finished}/{len(todo)} elapsed {format_seconds(spent)} ETA {format_seconds(eta)}: {key}"
                )
            time.sleep(0.5)
    except BaseException:
        for _job, handle in running.values():  # Ctrl-C: stop what this driver started; no record
            if handle is not None:
                handle.cancel()
        raise


def model_metrics(out_dir, metrics_file, metrics=None):
    """The metrics of every model a run trained: its own (`metrics`, or read from metrics_file),
    or for a run whose metrics file is one model's among several in sub-folders (a 2-d --compare
    run trains three), each of theirs."""
    if os.path.dirname(metrics_file) == "":
        return [metrics if metrics is not None else files.read_json(os.path.join(out_dir, metrics_file), {})]
    return [files.read_json(path, {}) for path in glob.glob(os.path.join(out_dir, "*", "metrics.json"))]


def stage_seconds(models):
    """{stage: seconds} of a run's models (common.timing's `stage_seconds.<stage>`, summed over
    the models; model_metrics gives them); {} for runs made before stages were recorded."""
    from common.timing import PREFIX

    out = {}
    for model in models:
        for key, value in model.items():
            if key.startswith(PREFIX) and isinstance(value, (int, float)):
                name = key[len(PREFIX) :]
                out[name] = round(out.get(name, 0.0) + value, 3)
    return out


def train_seconds(job, metrics):
    """The job's training time: its metrics' train_seconds, or for a job whose metrics file is one
    model's among several in sub-folders (a 2-d --compare run trains three), the sum over them."""
    if os.path.dirname(job.metrics_file) == "":
        return metrics.get("train_seconds")
    models = model_metrics(job.out_dir, job.metrics_file, metrics)
    return round(sum(m.get("train_seconds") or 0.0 for m in models), 3)
