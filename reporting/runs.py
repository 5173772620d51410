"""The runs behind the report page (`python -m reporting`): which commands, at which settings,
over which seeds — the commands of the findings, their positive controls, the report's figure
settings — and how they run (as jobs of reporting/engine.py: a finished run is never run again).

Seeds. The page's verdicts come only from **confirmatory seeds that were never run before
the criteria were frozen** (reporting/criteria.py): 100 onward. Seeds 0-4 (2-d) and 1-3 (images)
were run while the findings and their criteria were being written; they are exploratory and the
page does not use them. Ten seeds for the 2-d claims, five for every image finding whose run
takes at most ten minutes here; readings and extra experiments take fewer (said on their row).
"""

import dataclasses
import os

from reporting import engine

CONFIRMATORY = 100  # the first seed of the confirmatory runs
TOY_SEEDS = tuple(range(CONFIRMATORY, CONFIRMATORY + 10))
IMAGE_SEEDS = tuple(range(CONFIRMATORY, CONFIRMATORY + 5))
FEW_SEEDS = tuple(range(CONFIRMATORY, CONFIRMATORY + 5))  # readings and extras
QUICK_SEEDS = (CONFIRMATORY,)

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

# The VAE commands of the report's findings (report sections 2.5-2.6), {name: arguments of
# VAE.py}; bench_vae runs them too.
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
    ("four-shot digit 9", list(VAE_FOUR_SHOT_9)),
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
    `seconds` is the expected wall time of one seed here (the progress bar's weights)."""

    run_id: str
    folder: str  # the experiment's folder: the command runs there, as the README prints it
    script: str
    args: tuple
    seeds: tuple
    seconds: float
    stages: tuple = ()  # ((stage name, extra args), ...); empty: one stage "final"
    metrics_file: str = "metrics.json"  # relative to the run directory (2-d --compare: a subfolder)
    role: str = (
        "finding"  # "finding", "control" (a positive control) or "figure" (the report's figure settings)
    )

    def command(self, seed=None, stage_args=()):
        seed_args = [] if seed is None else ["--seed", str(seed)]
        return [self.script, *self.args, *stage_args, *seed_args]

    def printed(self):
        """The command as a user types it (in the experiment's folder), seeds left out."""
        stage_args = self.stages[-1][1] if self.stages else ()
        return f"cd {self.folder} && python {' '.join(self.command(None, stage_args))}"

    def job(self, runs_root, seed, threads=0):
        stages = self.stages or (("final", ()),)
        return engine.Job(
            key=f"{self.run_id}/seed{seed}",
            folder=self.folder,
            stages=tuple((name, tuple(self.command(seed, args))) for name, args in stages),
            out_dir=run_dir(runs_root, self, seed),
            seconds=self.seconds,
            metrics_file=self.metrics_file,
            threads=threads,
        )


def _toy(run_id, args, seeds, seconds, script="STYLEGAN.py", metrics_file="metrics.json", role="finding"):
    return ReportRun(
        run_id, "2D-codes", script, tuple(args), seeds, seconds, metrics_file=metrics_file, role=role
    )


def run_specs(quick):
    """Every run of the report. quick: toy settings (a few iterations, one seed) that exercise
    the same code paths in a few minutes; the numbers then mean nothing."""
    toy_iters = ["--niters", "101", "--nojit"] if quick else []  # quick: XLA compiles longer than it trains
    toy, image, few = (QUICK_SEEDS,) * 3 if quick else (TOY_SEEDS, IMAGE_SEEDS, FEW_SEEDS)
    compare = "normal_gan/metrics.json"
    specs = [
        # 2.2: the report's comparison, at our defaults and as the report's code trained
        _toy("toy_compare", ["--compare", "--missing_mixt", "1", *toy_iters], toy, 50, metrics_file=compare),
        _toy(
            "toy_compare_report",
            ["--compare", "--missing_mixt", "1", "--settings", "report", *toy_iters],
            toy,
            50,
            metrics_file=compare,
        ),
        # its positive control: nothing removed, mixture 1 present
        _toy("toy_compare_all", ["--compare", *toy_iters], toy, 50, metrics_file=compare, role="control"),
        # the report's figure 2.2.4 removed the mixture at (1, -1), index 3, not its command's 1
        _toy(
            "toy_compare_figure",
            ["--compare", "--missing_mixt", "3", "--settings", "report", *toy_iters],
            few,
            50,
            metrics_file=compare,
            role="figure",
        ),
        # the poster's "2 classes missing" and "3 classes missing" panels (which: not said; ours)
        _toy(
            "toy_compare_two_missing",
            ["--compare", "--missing_mixt", "1,5", *toy_iters],
            few,
            50,
            metrics_file=compare,
            role="figure",
        ),
        _toy(
            "toy_compare_three_missing",
            ["--compare", "--missing_mixt", "1,3,5", *toy_iters],
            few,
            50,
            metrics_file=compare,
            role="figure",
        ),
        # 2.3: the CGAN, its control (label 4 trained) and its figure's setting (mixture 1 removed)
        _toy("cgan", ["--label", "--missing_mixt", "4", *toy_iters], toy, 15, script="CGAN.py"),
        _toy("cgan_all", ["--label", *toy_iters], toy, 15, script="CGAN.py", role="control"),
        _toy(
            "cgan_figure",
            ["--label", "--missing_mixt", "1", *toy_iters],
            few,
            15,
            script="CGAN.py",
            role="figure",
        ),
    ]
    # 2.4 (our reading of its figure): InfoGAN without 3s, and with them (the control). Quarter
    # width: Chen et al.'s full width takes 8 minutes a run here, too long for 5 seeds and a control.
    infogan = ["--gan_type", "infoGAN", "--dataset", "mnist", "--width", "quarter"]
    infogan += ["--epoch", "1", "--nojit"] if quick else []  # quick: XLA compiles longer than it trains
    specs += [
        ReportRun("infogan", "infogan", "main.py", (*infogan, "--missing_mixt", "3"), few, 130),
        ReportRun("infogan_all", "infogan", "main.py", tuple(infogan), few, 140, role="control"),
    ]
    vae_epochs = ("--epochs", "1") if quick else ()
    small = ("--num_samples", "200", "--grid_size", "8") if quick else ()
    vae = dict(VAE_COMMANDS)
    near = ("--per_shot", "16" if quick else "64")  # generations near each shot: the rows' sample size
    specs += [
        ReportRun(
            "vae_trousers_removed",
            "vae",
            "VAE.py",
            (*vae["trousers removed"], *vae_epochs, *small),
            image,
            55,
        ),
        ReportRun(
            "vae_sneakers_removed",
            "vae",
            "VAE.py",
            (*vae["sneakers removed"], *vae_epochs, *small),
            image,
            55,
        ),
        ReportRun(
            "vae_all_classes",
            "vae",
            "VAE.py",
            ("--dataset", "fashion-mnist", "--encoding-vector-size", "2", *vae_epochs, *small),
            image,
            55,
            role="control",
        ),
        ReportRun(
            "vae_one_shot_trousers",
            "vae",
            "VAE.py",
            (*vae["one-shot trousers"], *vae_epochs, *small, *near),
            image,
            60,
        ),
        ReportRun(
            "vae_four_shot_dress",
            "vae",
            "VAE.py",
            (*vae["report's command: four-shot dress"], *vae_epochs, *small, *near),
            few,
            60,
            role="figure",
        ),
        ReportRun(
            "vae_four_shot_9",
            "vae",
            "VAE.py",
            (*VAE_FOUR_SHOT_9[:-1], "2" if quick else "50", *small, *near),
            image,
            30,
        ),
    ]
    meta = "10" if quick else "2000"
    figr_small = ["--eval_episodes", "1", "--num_samples", "16"] if quick else []
    specs += [
        ReportRun(
            "figr",
            "figr",
            "train.py",
            ("--dataset", "Mnist", "--meta_iterations", meta, *figr_small),
            image,
            400,
        ),
        ReportRun(
            "figr_plain",
            "figr",
            "train.py",
            ("--dataset", "Mnist", "--pretraining", "plain", "--meta_iterations", meta, *figr_small),
            image,
            400,
            role="control",
        ),
        ReportRun(
            "figr_report_settings",
            "figr",
            "train.py",
            ("--dataset", "Mnist", "--settings", "report", "--meta_iterations", meta, *figr_small),
            few[:3],
            400,
            role="figure",
        ),
    ]
    can = ["--genres", "7", "--image_size", "32"]
    can += (
        ["--iterations", "10", "--batch_size", "16", "--sample_every", "5", "--num_samples", "64"]
        if quick
        else ["--iterations", "500", "--batch_size", "64", "--sample_every", "100"]
    )
    specs += [
        ReportRun("can", "can", "train.py", tuple(can), image, 125),
        ReportRun(
            "can_sigmoid", "can", "train.py", (*can, "--output", "sigmoid"), image, 125, role="control"
        ),
        ReportRun("can_baseline", "can", "train.py", (*can, "--baseline"), image, 130, role="control"),
    ]
    return specs


def run_dir(runs_root, spec, seed):
    return os.path.join(runs_root, spec.run_id, f"seed{seed}")


def jobs(specs, runs_root, threads=0):
    return [spec.job(runs_root, seed, threads) for spec in specs for seed in spec.seeds]


def load(runs_root, spec):
    """{seed: (record, {stage: metrics, "panels": {...}})} of the seeds that ran (ok or failed)."""
    from common import files

    out = {}
    for seed in spec.seeds:
        job = spec.job(runs_root, seed)
        record = engine.read_record(job)
        if record is None:
            continue
        directory = run_dir(runs_root, spec, seed)
        metrics = {}
        if record["status"] == "ok":
            for name, _ in spec.stages:
                metrics[name] = files.read_json(os.path.join(directory, f"metrics_{name}.json"), {})
            metrics["final"] = files.read_json(os.path.join(directory, spec.metrics_file), {})
            metrics["panels"] = {
                name: files.read_json(os.path.join(directory, name, "metrics.json"), {})
                for name in sorted(os.listdir(directory))
                if os.path.exists(os.path.join(directory, name, "metrics.json"))
            }
        out[seed] = (record, metrics)
    return out
