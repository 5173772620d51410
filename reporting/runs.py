"""The runs behind the report page (`python -m reporting`): which commands, at which settings,
over which seeds, and the runner that executes them once each.

A run is one entry-script command in one seed, run as a user runs it (a subprocess in the
experiment's folder) into report/runs/<run id>/seed<k>/. Beside the run directory the runner
writes <run dir>.json: the command, the commit, the exit status, the wall time and the load of the
machine. A run with that record and status "ok" is never run again; a failed one (non-zero exit,
a diverged run) is recorded as failed, reported as such, and retried only with --retry_failed.
"""

import dataclasses
import os
import shutil
import subprocess
import sys
import time

from common import files
from common.progress import format_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The four-shot VAE on the 9s (report 2.6.my9): a finding of its own, and FIGR's comparison.
VAE_FOUR_SHOT_9 = (
    "--dataset",
    "mnist",
    "--encoding-vector-size",
    "3",
    "--remove-label",
    "9",
    "--few-shot",
    "4",
    "--epochs",
    "50",
)


# The VAE commands of the report's findings (report sections 2.5-2.6) and its own command,
# {name: arguments of VAE.py}; bench_vae runs them too.
VAE_COMMANDS = [
    (
        "trousers removed",
        ["--dataset", "fashion-mnist", "--encoding-vector-size", "2", "--remove-label", "1"],
    ),
    (
        "sneakers removed",
        ["--dataset", "fashion-mnist", "--encoding-vector-size", "2", "--remove-label", "7"],
    ),
    (
        "one-shot trousers",
        [
            "--dataset",
            "fashion-mnist",
            "--encoding-vector-size",
            "3",
            "--remove-label",
            "1",
            "--few-shot",
            "1",
        ],
    ),
    (
        "four-shot digit 9",
        VAE_FOUR_SHOT_9,
    ),
    (
        "report's command: four-shot dress",
        [
            "--dataset",
            "fashion-mnist",
            "--encoding-vector-size",
            "2",
            "--remove-label",
            "3",
            "--few-shot",
            "4",
        ],
    ),
]


@dataclasses.dataclass(frozen=True)
class ReportRun:
    """One command over seeds. `stages` run in the same directory one after another (a longer
    run continues the shorter one); after each stage metrics.json is kept as metrics_<name>.json.
    `seconds` is the expected wall time of one seed on 2 CPU cores (the progress bar's weights)."""

    run_id: str
    folder: str  # the experiment's folder: the command runs there, as the README prints it
    script: str
    args: tuple
    seeds: tuple
    seconds: float
    stages: tuple = ()  # ((stage name, extra args), ...); empty: one stage "final"
    metrics_file: str = "metrics.json"  # relative to the run directory (2-d --compare: a subfolder)

    def command(self, seed=None, stage_args=()):
        seed_args = [] if seed is None else ["--seed", str(seed)]
        return [self.script, *self.args, *stage_args, *seed_args]

    def printed(self):
        """The command as a user types it (in the experiment's folder), seeds left out."""
        stage_args = self.stages[-1][1] if self.stages else ()
        return f"cd {self.folder} && python {' '.join(self.command(None, stage_args))}"


def _toy(run_id, args, seeds, seconds, script="STYLEGAN.py", metrics_file="metrics.json"):
    return ReportRun(run_id, "2D-codes", script, tuple(args), seeds, seconds, metrics_file=metrics_file)


def run_specs(quick):
    """Every run of the report. quick: toy settings (a few iterations, one or two seeds) that
    exercise the same code paths in a few minutes; the numbers then mean nothing."""
    toy_iters = ["--niters", "301"] if quick else []
    toy_seeds = (0,) if quick else (0, 1, 2, 3, 4)
    image_seeds = (1,) if quick else (1, 2, 3)
    gan_seeds = (0,) if quick else (0, 1, 2)
    compare = "normal_gan/metrics.json"
    specs = [
        _toy(
            "toy_compare",
            ["--compare", "--missing_mixt", "1", *toy_iters],
            toy_seeds,
            45,
            metrics_file=compare,
        ),
        _toy(
            "toy_compare_report",
            ["--compare", "--missing_mixt", "1", "--settings", "report", *toy_iters],
            toy_seeds,
            45,
            metrics_file=compare,
        ),
        _toy("cgan", ["--label", "--missing_mixt", "4", *toy_iters], toy_seeds, 25, script="CGAN.py"),
        ReportRun(
            "infogan",
            "infogan",
            "main.py",
            (
                "--gan_type",
                "infoGAN",
                "--dataset",
                "mnist",
                "--missing_mixt",
                "3",
                *(["--epoch", "2"] if quick else []),
            ),
            gan_seeds,
            480,
        ),
    ]
    vae_epochs = ("--epochs", "1") if quick else ()
    vae = dict(VAE_COMMANDS)
    specs += [
        ReportRun(
            "vae_trousers_removed", "vae", "VAE.py", (*vae["trousers removed"], *vae_epochs), image_seeds, 150
        ),
        ReportRun(
            "vae_sneakers_removed", "vae", "VAE.py", (*vae["sneakers removed"], *vae_epochs), image_seeds, 150
        ),
        ReportRun(
            "vae_one_shot_trousers",
            "vae",
            "VAE.py",
            (*vae["one-shot trousers"], *vae_epochs),
            image_seeds,
            100,
        ),
        ReportRun(
            "vae_four_shot_9",
            "vae",
            "VAE.py",
            (*VAE_FOUR_SHOT_9[:-1], "2" if quick else "50"),
            image_seeds,
            45,
        ),
    ]
    meta = (20, 40) if quick else (1000, 2000)
    figr_small = ["--eval_episodes", "1", "--num_samples", "16"] if quick else []
    specs += [
        ReportRun(
            "figr",
            "figr",
            "train.py",
            ("--dataset", "Mnist", *figr_small),
            image_seeds,
            300,
            stages=(
                (f"at_{meta[0]}", ("--meta_iterations", str(meta[0]))),
                (f"at_{meta[1]}", ("--meta_iterations", str(meta[1]))),
            ),
        ),
        ReportRun(
            "figr_report_settings",
            "figr",
            "train.py",
            ("--dataset", "Mnist", "--settings", "report", "--meta_iterations", str(meta[0]), *figr_small),
            image_seeds,
            150,
        ),
    ]
    can = ["--genres", "7", "--image_size", "32"]
    can += (
        ["--iterations", "20", "--batch_size", "16", "--sample_every", "10"]
        if quick
        else [
            "--iterations",
            "500",
            "--batch_size",
            "64",
            "--sample_every",
            "100",
        ]
    )
    specs += [
        ReportRun("can", "can", "train.py", tuple(can), gan_seeds, 180),
        ReportRun("can_baseline", "can", "train.py", (*can, "--baseline"), gan_seeds, 150),
    ]
    return specs


def git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            # what the full report itself writes (README's block, docs/figures, report/) is not a change
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!README.md",
                ":!docs/figures",
                ":!report",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def run_dir(runs_root, spec, seed):
    return os.path.join(runs_root, spec.run_id, f"seed{seed}")


def record_path(runs_root, spec, seed):
    return run_dir(runs_root, spec, seed) + ".json"


def read_record(runs_root, spec, seed):
    return files.read_json(record_path(runs_root, spec, seed), None)


def is_done(record, retry_failed):
    return record is not None and (record["status"] == "ok" or not retry_failed)


def execute(spec, seed, runs_root, log):
    """Runs every stage of spec in one seed; returns the record (also written beside the run)."""
    out_dir = run_dir(runs_root, spec, seed)
    record = {
        "run_id": spec.run_id,
        "seed": seed,
        "folder": spec.folder,
        "commands": [],
        "commit": git_commit(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_start": round(os.getloadavg()[0], 2),
        "stages": {},
    }
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
    start = time.perf_counter()
    status, message = "ok", ""
    stages = spec.stages or (("final", ()),)
    for name, stage_args in stages:
        command = spec.command(seed, stage_args)
        record["commands"].append(f"python {' '.join(command)}")
        log_path = out_dir + f".{name}.log"
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "w") as log_file:
            proc = subprocess.run(
                [sys.executable, *command, "--out_dir", out_dir],
                cwd=os.path.join(ROOT, spec.folder),
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                text=True,
            )
        metrics = files.read_json(os.path.join(out_dir, spec.metrics_file), None)
        if proc.returncode != 0 or metrics is None or metrics.get("diverged"):
            status = "failed"
            with open(log_path, errors="replace") as f:
                tail = [line for line in f.read().splitlines() if line.strip()][-3:]
            message = f"exit {proc.returncode}: " + (" / ".join(tail) or "no output")
            log(f"  FAILED {spec.run_id} seed {seed} (stage {name}): {message[-300:]}")
            break
        if spec.stages:
            shutil.copyfile(
                os.path.join(out_dir, spec.metrics_file), os.path.join(out_dir, f"metrics_{name}.json")
            )
        record["stages"][name] = {"train_seconds": metrics.get("train_seconds")}
    record.update(
        status=status,
        message=message,
        wall_seconds=round(time.perf_counter() - start, 1),
        load_average_end=round(os.getloadavg()[0], 2),
    )
    files.write_json(record_path(runs_root, spec, seed), record)
    return record


def run_all(specs, runs_root, retry_failed=False, stream=None):
    """Runs every (spec, seed) without a record, one at a time (each uses both cores), under one
    progress bar for the whole report whose ETA scales the expected seconds by how fast the runs
    so far went. Returns the number of runs that failed (now or before)."""
    jobs = [(s, seed) for s in specs for seed in s.seeds]
    todo = [(s, seed) for s, seed in jobs if not is_done(read_record(runs_root, s, seed), retry_failed)]
    total_weight = sum(s.seconds for s, _ in todo) or 1.0
    done_weight, spent = 0.0, 0.0
    reused = len(jobs) - len(todo)

    def log(text):
        out = stream or sys.stderr
        out.write(text + "\n")
        out.flush()

    log(f"report: {len(jobs)} runs, {reused} already finished (reused), {len(todo)} to run")
    for index, (spec, seed) in enumerate(todo):
        speed = spent / done_weight if done_weight else 1.0
        eta = (total_weight - done_weight) * speed
        fraction = done_weight / total_weight
        filled = int(30 * fraction)
        log(
            f"report [{'=' * filled}{' ' * (30 - filled)}] {100 * fraction:3.0f}% "
            f"run {index + 1}/{len(todo)} "
            f"elapsed {format_seconds(spent)} ETA {format_seconds(eta)}: {spec.run_id} seed {seed}"
        )
        started = time.perf_counter()
        execute(spec, seed, runs_root, log)
        spent += time.perf_counter() - started
        done_weight += spec.seconds
    if todo:
        log(f"report [{'=' * 30}] 100% {len(todo)} runs in {format_seconds(spent)}")
    return sum(read_record(runs_root, s, seed)["status"] != "ok" for s, seed in jobs)


def load(runs_root, spec):
    """{seed: (record, {stage name: metrics})} of the seeds that ran (ok or failed)."""
    out = {}
    for seed in spec.seeds:
        record = read_record(runs_root, spec, seed)
        if record is None:
            continue
        directory = run_dir(runs_root, spec, seed)
        metrics = {}
        if record["status"] == "ok":
            names = [name for name, _ in spec.stages] if spec.stages else []
            for name in names:
                metrics[name] = files.read_json(os.path.join(directory, f"metrics_{name}.json"), {})
            metrics["final"] = files.read_json(os.path.join(directory, spec.metrics_file), {})
            metrics["panels"] = {
                name: files.read_json(os.path.join(directory, name, "metrics.json"), {})
                for name in sorted(os.listdir(directory))
                if os.path.exists(os.path.join(directory, name, "metrics.json"))
            }
        out[seed] = (record, metrics)
    return out
