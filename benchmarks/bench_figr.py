"""Benchmark of FIGR (report section 2.6): meta-iterations per second for each --loss, the
held-out metrics of MNIST-without-9 at fixed meta-iteration counts, and the report's comparison
with the four-shot VAE on the same four shots of a 9 over seeds (samples against samples).

    python -m benchmarks.bench_figr                       # everything (~45 min on 2 cores)
    python -m benchmarks.bench_figr --parts speed         # only the timing
    python -m benchmarks.bench_figr --parts meta_batch    # --meta_batch 1 and 8 at 1,000 tasks (~10 min)

Speed is timed in-process on the harness's compiled loop after a warm-up (compilation is not
counted); quality runs are subprocesses of figr/train.py and vae/VAE.py, exactly as a user runs
them. Writes benchmarks/results/bench_figr.json, bench_figr.md and BENCHMARKS.md; copies the
figures the README shows into docs/figures/. Benchmarks are not tests: nothing here asserts.
"""

import argparse
import dataclasses
import os
import shutil
import tempfile
import time

from benchmarks import bench_common
from benchmarks.bench_common import fmt
from reporting.runs import VAE_FOUR_SHOT_9  # next to this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGR_DIR = os.path.join(ROOT, "figr")
VAE_DIR = os.path.join(ROOT, "vae")
VAE_FOUR_SHOT = VAE_FOUR_SHOT_9
HELD_OUT_KEYS = [
    "heldout_judge_accuracy",
    "unadapted_judge_accuracy",
    "heldout_diversity",
    "heldout_real_diversity",
    "heldout_nn_distance",
    "heldout_real_nn_distance_min",
    "heldout_copy_fraction",
    "heldout_frechet_judge_distance",
]
SHOT_KEYS = [
    "shots_judge_accuracy",
    "shots_diversity",
    "shots_real_diversity",
    "shots_nn_distance",
    "shots_real_nn_distance_min",
    "shots_copy_fraction",
]


def speed(previous, args):
    """Meta-iterations per second of the harness's compiled loop, MNIST-shaped tasks of 4 at 32x32."""
    from common import tf_env

    tf_env.quiet_grappler(tf_env.import_tensorflow())  # as train.py
    import numpy as np

    from common import harness
    from common.pipelines import task_dataset
    from figr.figr_models import FIGR, FIGRConfig

    rows = []
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(900, 32, 32, 1)).astype(np.float32), np.repeat(np.arange(9), 100)
    # train.py's default (dcgan + R1 10), the report's plain dcgan, the paper's wgan-gp, resnet
    for loss, network, r1_gamma in (
        ("dcgan", "dcgan", 10.0),
        ("dcgan", "dcgan", 0.0),
        ("wgan-gp", "dcgan", 0.0),
        ("dcgan", "resnet", 10.0),
    ):
        config = FIGRConfig(loss=loss, network=network, r1_gamma=r1_gamma)
        with tempfile.TemporaryDirectory() as out:
            train = harness.TrainConfig(
                out_dir=out, steps=20, log_every=10_000, checkpoint_every=10_000, progress=False
            )
            trainer = harness.Trainer(lambda config=config: FIGR(config), task_dataset(x, y, 4, 0), train)
            trainer.run()  # compiles
            trainer.config = dataclasses.replace(train, steps=20 + args.speed_iterations)
            result = trainer.run()
        rows.append(
            {
                "loss": loss,
                "network": network,
                "r1_gamma": config.r1_gamma,
                "inner_steps": config.inner_steps,
                "meta_iterations_per_second": result.steps_per_second,
                "inner_steps_per_second": result.steps_per_second * config.inner_steps,
            }
        )
        print(rows[-1], flush=True)
    return rows


def quality(previous, args):
    """The report's command (MNIST without 9), continued to each count: held-out metrics there."""
    out_dir = os.path.join(args.work_dir, "mnist")
    shutil.rmtree(out_dir, ignore_errors=True)
    rows, minutes = [], 0.0
    for count in args.counts:
        wall, rss, values = bench_common.run_script(
            FIGR_DIR,
            "train.py",
            ["--dataset", "Mnist", "--meta_iterations", str(count)],
            out_dir,
            fresh=False,
        )
        minutes += wall / 60
        rows.append(
            {
                "meta_iterations": count,
                "minutes_total": minutes,
                "peak_rss_mb": rss,
                **{
                    k: values.get(k)
                    for k in HELD_OUT_KEYS + SHOT_KEYS + ["meta_iterations_per_second", "data_source"]
                },
            }
        )
        print(rows[-1], flush=True)
    return rows  # the README's FIGR figures come from `make report`


def wgan(previous, args):
    """The paper's loss, the same command otherwise, at the largest --wgan_count."""
    out_dir = os.path.join(args.work_dir, "mnist_wgan")
    wall, rss, values = bench_common.run_script(
        FIGR_DIR,
        "train.py",
        ["--dataset", "Mnist", "--loss", "wgan-gp", "--meta_iterations", str(args.wgan_count)],
        out_dir,
    )
    bench_common.copy_figure(os.path.join(out_dir, "progression.png"), "figr_mnist_wgan_progression.png")
    return [
        {
            "meta_iterations": args.wgan_count,
            "minutes_total": wall / 60,
            "peak_rss_mb": rss,
            **{k: values.get(k) for k in HELD_OUT_KEYS + SHOT_KEYS + ["meta_iterations_per_second"]},
        }
    ]


def meta_batch(previous, args):
    """Reptile's batched form against one task per meta-step at equal tasks seen: the report's
    command with --meta_batch B for --tasks / B meta-iterations, each B of --meta_batches."""
    rows = []
    for batch in [int(b) for b in args.meta_batches.split(",")]:
        out_dir = os.path.join(args.work_dir, f"meta_batch{batch}")
        iterations = args.tasks // batch
        wall, rss, values = bench_common.run_script(
            FIGR_DIR,
            "train.py",
            ["--dataset", "Mnist", "--meta_batch", str(batch), "--meta_iterations", str(iterations)],
            out_dir,
        )
        rows.append(
            {
                "meta_batch": batch,
                "meta_iterations": iterations,
                "tasks_seen": values.get("tasks_seen", iterations * batch),
                "minutes_total": wall / 60,
                "peak_rss_mb": rss,
                **{
                    k: values.get(k)
                    for k in HELD_OUT_KEYS
                    + ["meta_iterations_per_second", "tasks_per_second", "train_seconds"]
                },
            }
        )
        print(rows[-1], flush=True)
    return rows


def meta_batch_markdown(rows):
    lines = [
        "",
        f"## Meta-batch: {rows[0]['tasks_seen']:,} tasks seen, one task per meta-step or several at once "
        "(`train.py --dataset Mnist --meta_batch B`, seed 1, one run each: exploratory)",
        "",
        "The same tasks in the same order; a meta-step averages B tasks' Reptile gradients, so B = 8 "
        "takes an eighth of the meta-steps at the same meta learning rate. Held-out 9s, 5 draws of 4 "
        "shots, 64 generations each.",
        "",
        "| meta-batch | meta-its | tasks/s | minutes (whole run) | judge acc. | acc. before adapting | "
        "diversity | copies | FJD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['meta_batch']} | {r['meta_iterations']} | {fmt(r.get('tasks_per_second'), 2)} | "
            f"{r['minutes_total']:.1f} | {fmt(r['heldout_judge_accuracy'])} | "
            f"{fmt(r['unadapted_judge_accuracy'])} | {fmt(r['heldout_diversity'], 2)} | "
            f"{fmt(r['heldout_copy_fraction'])} | {fmt(r['heldout_frechet_judge_distance'], 1)} |"
        )
    return lines


COMPARE_KEYS = [
    ("judge_accuracy", "judge acc.", 3),
    ("diversity", "diversity, pixels", 2),
    ("copy_fraction", "copies, pixels", 3),
    ("feature_diversity", "diversity, judge features", 2),
    ("feature_copy_fraction", "copies, judge features", 3),
    ("feature_nn_distance", "feature dist. to shots", 2),
]


def compare_seeds(previous, args):
    """FIGR (the report's command) and the four-shot VAE on the same four shots of a 9, per seed:
    both draw their shots as VAE.py does, so a seed gives both models the same shots."""
    done = {(r["model"], r["seed"]): r for r in previous}
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for model, cwd, script, command in (
            ("FIGR", FIGR_DIR, "train.py", ["--dataset", "Mnist"]),
            ("VAE", VAE_DIR, "VAE.py", VAE_FOUR_SHOT),
        ):
            if (model, seed) in done:
                rows.append(done[(model, seed)])
                continue
            out_dir = os.path.join(args.work_dir, "compare", f"{model}_seed{seed}")
            values = bench_common.finished(out_dir, "shots_judge_accuracy")
            if values is None and bench_common.COLLECT_ONLY:
                continue
            if values is None:
                _, _, values = bench_common.run_script(cwd, script, [*command, "--seed", str(seed)], out_dir)
            rows.append(
                {"model": model, "seed": seed, "minutes": values.get("train_seconds", 0) / 60, **values}
            )
            print(
                {
                    k: rows[-1].get(k)
                    for k in ("model", "seed", "shots_judge_accuracy", "shots_feature_copy_fraction")
                },
                flush=True,
            )
    return rows


def compare_markdown(rows):
    seeds = sorted({r["seed"] for r in rows})
    figr = [r for r in rows if r["model"] == "FIGR"]
    vae = [r for r in rows if r["model"] == "VAE"]
    lines = [
        "",
        f"## FIGR vs the four-shot VAE, like with like: the same four shots of a 9 per seed (seeds "
        f"{', '.join(map(str, seeds))})",
        "",
        "FIGR's generations are samples; the VAE's decoder gives per-pixel Bernoulli means (a blur over "
        "what it would "
        "draw). Rows compare samples with samples (the VAE's Bernoulli draws), and the VAE's means apart. "
        "Pixel "
        "distances favour blur; the judge-feature columns measure what the judge sees. Copies: generations "
        "nearer to "
        "a shot than any real 9 of the test set is. Mean ± sample standard deviation over seeds.",
        "",
        "| model | " + " | ".join(k[1] for k in COMPARE_KEYS) + " |",
        "|---|" + "---|" * len(COMPARE_KEYS),
    ]
    table = [
        (
            f"FIGR ({figr[0].get('meta_iterations', '')} meta-its), samples" if figr else "FIGR",
            figr,
            "shots_",
        ),
        ("VAE (latent 3, 50 epochs), Bernoulli samples", vae, "shots_"),
        ("VAE, decoder means (what its figure shows)", vae, "shots_mean_"),
    ]
    for name, mine, prefix in table:
        if mine:
            lines.append(
                f"| {name} | "
                + " | ".join(
                    bench_common.spread([r.get(prefix + k) for r in mine], d) for k, _, d in COMPARE_KEYS
                )
                + " |"
            )
    if figr:
        real = figr[0]
        lines += [
            "",
            f"Real 9s: diversity {fmt(real.get('shots_real_diversity'), 2)} in pixels, "
            f"{fmt(real.get('shots_feature_real_diversity'), 2)} in judge features. FIGR over all 5 shot "
            "draws per "
            "seed: held-out judge accuracy "
            f"{bench_common.spread([r.get('heldout_judge_accuracy') for r in figr])}, "
            f"before adapting {bench_common.spread([r.get('unadapted_judge_accuracy') for r in figr])}.",
        ]
    return lines


def markdown(results):
    lines = []
    if results.get("speed"):
        lines += [
            "## Speed (2 CPU cores; 32x32, 4 shots, 10 inner steps, compiled loop, compilation excluded)",
            "",
            "| --loss | --network | meta-iterations/s | inner steps/s |",
            "|---|---|---|---|",
        ]
        for r in results["speed"]:
            loss = r["loss"] + (f" + R1 γ={r['r1_gamma']:g}" if r.get("r1_gamma") else "")
            lines.append(
                f"| {loss} | {r['network']} | {r['meta_iterations_per_second']:.2f} | "
                f"{r['inner_steps_per_second']:.1f} |"
            )
    if results.get("quality"):
        lines += [
            "",
            "## MNIST without 9: held-out digit 9 at fixed meta-iteration counts (`train.py --dataset "
            "Mnist`)",
            "",
            "Each row continues the run before it; 5 draws of 4 shots, 64 generations each. Real 9s: "
            "diversity "
            f"{fmt(results['quality'][-1]['heldout_real_diversity'], 2)}.",
            "",
            "| meta-its | minutes | judge acc. | acc. before adapting | diversity | nn dist. to shots | "
            "nearest real 9 to a shot | copies | FJD |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results["quality"]:
            lines.append(
                f"| {r['meta_iterations']} | {r['minutes_total']:.1f} | {fmt(r['heldout_judge_accuracy'])} | "
                f"{fmt(r['unadapted_judge_accuracy'])} | {fmt(r['heldout_diversity'], 2)} | "
                f"{fmt(r['heldout_nn_distance'], 2)} | "
                f"{fmt(r['heldout_real_nn_distance_min'], 2)} | {fmt(r['heldout_copy_fraction'])} | "
                f"{fmt(r['heldout_frechet_judge_distance'], 1)} |"
            )
    if results.get("wgan"):
        r = results["wgan"][0]
        lines += [
            "",
            f"`--loss wgan-gp`, {r['meta_iterations']} meta-iterations ({r['minutes_total']:.1f} min): judge "
            "acc. "
            f"{fmt(r['heldout_judge_accuracy'])} (before adapting {fmt(r['unadapted_judge_accuracy'])}), "
            "diversity "
            f"{fmt(r['heldout_diversity'], 2)}, nn dist. to shots {fmt(r['heldout_nn_distance'], 2)}, copies "
            f"{fmt(r['heldout_copy_fraction'])}.",
        ]
    if results.get("compare_seeds"):
        lines += compare_markdown(results["compare_seeds"])
    if results.get("meta_batch"):
        lines += meta_batch_markdown(results["meta_batch"])
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        default="speed,quality,wgan,compare_seeds,meta_batch",
        help="comma list of speed, quality, wgan, compare_seeds, meta_batch",
    )
    parser.add_argument(
        "--tasks", type=int, default=1000, help="tasks seen by each run of the meta_batch part"
    )
    parser.add_argument("--meta_batches", default="1,8", help="meta-batches of the meta_batch part")
    parser.add_argument("--seeds", default="1,2,3", help="seeds of the compare_seeds part")
    parser.add_argument("--wgan_count", type=int, default=2000, help="meta-iterations of the wgan-gp run")
    parser.add_argument(
        "--counts", default="1000,2000,3000,5000", help="meta-iteration counts of the quality rows"
    )
    parser.add_argument(
        "--speed_iterations", type=int, default=200, help="timed meta-iterations per configuration"
    )
    parser.add_argument("--work_dir", default=os.path.join(ROOT, "runs", "bench_figr"), help="scratch output")
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_figr")
    args.counts = [int(c) for c in args.counts.split(",")]
    parts = {
        "speed": lambda prev: speed(prev, args),
        "quality": lambda prev: quality(prev, args),
        "wgan": lambda prev: wgan(prev, args),
        "compare_seeds": lambda prev: compare_seeds(prev, args),
        "meta_batch": lambda prev: meta_batch(prev, args),
    }
    started = time.perf_counter()
    bench_common.run_parts(args.out, set(args.parts.split(",")), parts, markdown, "bench_figr.md")
    print(f"bench_figr: {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
